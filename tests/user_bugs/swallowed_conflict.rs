//! Bug 3: a swallowed 409. The controller's in-place writes are conditional on the
//! resourceVersion it read: the site's status (`replace_status`) and a Pod's new image
//! (`replace`). On a 409 Conflict the reconcile returns `Ok`, as if someone else's newer write
//! made its own moot. Nothing requeues the site, so when that write was the last thing a change
//! needed, the status or the image stays behind for good: `converges`. A real conflict needs a
//! stale read at the wrong moment; the fault drawer's conflict window (409s on most updates of
//! one resource for a few seconds late in the fault phase) makes one likelier. The fix returns
//! the error: the rate-limited retry re-reads.

use crate::site::{self, Flaws, SiteController};
use kubesim::prelude::*;

/// Seeds the buggy variant must be caught within in CI.
const CAUGHT_WITHIN: u64 = 100;

fn controller(swallow_conflict: bool) -> SiteController {
    SiteController {
        flaws: Flaws {
            swallow_conflict,
            ..Flaws::default()
        },
        ..SiteController::default()
    }
}

pub fn buggy() -> Scenario {
    Scenario::new("swallowed-conflict", |w| {
        site::setup_with(w, None, |w| controller(true).add(w, "controller-0"))
    })
    .summary("a 409 on a status or image write ends the reconcile with Ok, without a requeue")
    .config(site::config)
    .expect(Expectation::Caught("converges"))
}

pub fn fixed() -> Scenario {
    Scenario::new("swallowed-conflict-fixed", |w| {
        site::setup_with(w, None, |w| controller(false).add(w, "controller-0"))
    })
    .summary("a 409 on a status or image write is returned, so the site is retried")
    .config(site::config)
}

#[test]
fn a_conflict_swallowed_on_a_conditional_write_is_caught_by_converges() {
    crate::assert_caught_within(&buggy(), CAUGHT_WITHIN);
}

#[test]
fn a_conflict_returned_as_an_error_is_retried_until_the_write_lands() {
    crate::assert_holds(&fixed());
}
