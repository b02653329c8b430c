//! Bug 7: `forget` never called on success. The controller does not watch its Pods; it polls
//! them by asking to be requeued after each successful reconcile, and asks with
//! `Action::requeue()`, client-go's `AddRateLimited` without the `Forget` a success calls for.
//! The per-site backoff of the default limiter (5 ms doubling, up to 1000 s) then grows with
//! every poll: after the first minute a site is looked at again only minutes later, so a Pod a
//! user deletes after the heal is not replaced in time. `converges` with a deadline of 30 s
//! after the heal tells this from a slow but legitimate recovery. The fix polls with
//! `Action::requeue_after(10 s)`, which forgets the key's failures and waits a fixed period.

use crate::site::{self, SiteController};
use kubesim::prelude::*;
use kubesim_controller::Action;
use std::time::Duration;

/// Seeds the buggy variant must be caught within in CI.
const CAUGHT_WITHIN: u64 = 5;

/// How long after the heal the sites must have converged.
const DEADLINE: Duration = Duration::from_secs(30);

fn controller(on_success: Action) -> SiteController {
    SiteController {
        on_success: Some(on_success),
        polls_pods: true,
        ..SiteController::default()
    }
}

pub fn buggy() -> Scenario {
    Scenario::new("never-forget", |w| {
        site::setup_with(w, Some(DEADLINE), |w| {
            controller(Action::requeue()).add(w, "controller-0")
        })
    })
    .summary("polling with Action::requeue() on success: the backoff is never forgotten")
    .config(site::config)
    .expect(Expectation::Caught("converges"))
}

pub fn fixed() -> Scenario {
    Scenario::new("never-forget-fixed", |w| {
        site::setup_with(w, Some(DEADLINE), |w| {
            controller(Action::requeue_after(Duration::from_secs(10))).add(w, "controller-0")
        })
    })
    .summary("polling with Action::requeue_after(10 s): forget, then a fixed period")
    .config(site::config)
}

#[test]
fn a_poll_whose_backoff_is_never_forgotten_is_caught_by_converges_with_a_deadline() {
    crate::assert_caught_within(&buggy(), CAUGHT_WITHIN);
}

#[test]
fn a_poll_with_a_fixed_period_converges_within_the_deadline() {
    crate::assert_holds(&fixed());
}
