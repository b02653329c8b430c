//! Bug 4: children selected by label only. The controller finds a site's Pods by the app label
//! and names them after the app (`web-0`, `web-1`, ...), and a Pod change requeues every site of
//! that app. Two sites of one app with different replica counts then fight over the same Pods
//! for as long as they run: one creates `web-2`, the other deletes it, each event requeues both.
//! One controller host writes every one of those Pods, so `no-write-fight` (two hosts) cannot
//! see it; `quiescence` sees `web-2` still created and deleted long after everything else
//! stopped. The fix names a site's Pods after the site, keeps only the Pods whose controller
//! reference is the site, and requeues a Pod's controller only.

use crate::site::{self, Flaws, SiteController};
use kubesim::prelude::*;

/// Seeds the buggy variant must be caught within in CI.
const CAUGHT_WITHIN: u64 = 5;

fn controller(label_only: bool) -> SiteController {
    SiteController {
        flaws: Flaws {
            label_only,
            ..Flaws::default()
        },
        ..SiteController::default()
    }
}

pub fn buggy() -> Scenario {
    Scenario::new("label-fight", |w| {
        site::setup_with(w, None, |w| controller(true).add(w, "controller-0"))
    })
    .summary("Pods selected and named by the app label only: two sites of one app fight")
    .config(site::config)
    .expect(Expectation::Caught("quiescence"))
}

pub fn fixed() -> Scenario {
    Scenario::new("label-fight-fixed", |w| {
        site::setup_with(w, None, |w| controller(false).add(w, "controller-0"))
    })
    .summary("Pods named after their site and selected by their controller reference")
    .config(site::config)
}

#[test]
fn two_sites_selecting_their_pods_by_label_alone_are_caught_by_quiescence() {
    crate::assert_caught_within(&buggy(), CAUGHT_WITHIN);
}

#[test]
fn sites_that_select_the_pods_they_control_leave_each_other_alone() {
    crate::assert_holds(&fixed());
}
