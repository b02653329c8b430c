//! Bug 1: a status write on every reconcile. The controller stamps `status.lastReconciled` and
//! resyncs every 10 s; each stamp is a write of the site, whose watch event reconciles the site
//! again at once: a write loop of many status writes a second, for the whole run, that no
//! object ever shows as wrong. `quiescence` sees the site still written long after the faults
//! healed and the workload stopped. The fix writes status only when what it reports changed;
//! the 10 s resync stays (a periodic requeue is legitimate).

use crate::site::{self, Flaws, SiteController};
use kubesim::prelude::*;
use kubesim_controller::Action;
use std::time::Duration;

/// Seeds the buggy variant must be caught within in CI.
const CAUGHT_WITHIN: u64 = 3;

fn controller(stamp_status: bool) -> SiteController {
    SiteController {
        flaws: Flaws {
            stamp_status,
            ..Flaws::default()
        },
        on_success: Some(Action::requeue_after(Duration::from_secs(10))),
        ..SiteController::default()
    }
}

pub fn buggy() -> Scenario {
    Scenario::new("status-every-reconcile", |w| {
        site::setup_with(w, None, |w| controller(true).add(w, "controller-0"))
    })
    .summary("a lastReconciled timestamp written to status on every reconcile")
    .config(site::config)
    .expect(Expectation::Caught("quiescence"))
}

pub fn fixed() -> Scenario {
    Scenario::new("status-every-reconcile-fixed", |w| {
        site::setup_with(w, None, |w| controller(false).add(w, "controller-0"))
    })
    .summary("status written only when it changes; a 10 s resync")
    .config(site::config)
}

#[test]
fn a_status_stamped_on_every_reconcile_is_caught_by_quiescence() {
    crate::assert_caught_within(&buggy(), CAUGHT_WITHIN);
}

#[test]
fn a_status_written_only_when_it_changes_settles() {
    crate::assert_holds(&fixed());
}
