//! Bug 6: a watch opened per reconcile and never closed. After creating Pods the reconcile
//! waits for them to become ready on a plain `tokio::spawn` task that watches them (and
//! re-watches whenever the stream ends). Nothing stops that task: the controller's task set
//! does not know it, so `no-leaked-tasks` cannot see it; at shutdown the controller returns
//! cleanly while its readiness watches stay open. `no-leaked-streams` sees the streams the API
//! server still serves after the host's shutdown. The fix runs the watch in the controller's
//! task set under the stop context.

use crate::site::{self, Flaws, SiteController, WatchTask};
use kubesim::prelude::*;
use std::time::Duration;

/// Seeds the buggy variant must be caught within in CI.
const CAUGHT_WITHIN: u64 = 3;

/// When the controller is told to stop.
const STOP_AT: Duration = Duration::from_secs(75);

fn controller(task: WatchTask) -> SiteController {
    SiteController {
        flaws: Flaws {
            ready_watch: Some(task),
            ..Flaws::default()
        },
        stop_at: Some(STOP_AT),
        ..SiteController::default()
    }
}

pub fn buggy() -> Scenario {
    Scenario::new("detached-watch", |w| {
        site::setup_with(w, None, |w| {
            controller(WatchTask::Detached).add(w, "controller-0")
        })
    })
    .summary("a readiness watch per reconcile on a detached tokio::spawn task")
    .config(site::config)
    .expect(Expectation::Caught("no-leaked-streams"))
}

pub fn fixed() -> Scenario {
    Scenario::new("detached-watch-fixed", |w| {
        site::setup_with(w, None, |w| {
            controller(WatchTask::Tracked).add(w, "controller-0")
        })
    })
    .summary("the readiness watch runs in the controller's task set under the stop context")
    .config(site::config)
}

#[test]
fn a_watch_left_open_by_a_detached_task_is_caught_by_no_leaked_streams() {
    crate::assert_caught_within(&buggy(), CAUGHT_WITHIN);
}

#[test]
fn a_watch_run_under_the_stop_context_is_closed_at_shutdown() {
    crate::assert_holds(&fixed());
}
