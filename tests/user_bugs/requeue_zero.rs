//! Bug 2: requeue-after-zero on success, on an unmodified `kube_runtime::Controller`. The user
//! wants the site checked "again soon" and returns `Action::requeue(Duration::ZERO)` after every
//! successful reconcile: kube-runtime's scheduler runs it again at once, forever, each time
//! listing the site's Pods. `no-hot-loop` sees one key requeued without backoff. The fix gives
//! the resync a real period (`Action::requeue(5 min)`, or `await_change()`).

use crate::site::{self, Data, Error, Flaws, Site};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube_runtime::controller::{Action, Controller};
use kube_runtime::watcher;
use kubesim::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// Seeds the buggy variant must be caught within in CI.
const CAUGHT_WITHIN: u64 = 3;

/// kube-rs's examples' error policy: try again in five seconds.
fn error_policy(_: Arc<Site>, _: &Error, _: Arc<Data>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

fn add_controller(world: &mut World, resync: Duration) {
    world.add_controller("controller-0", move |host| async move {
        let client = host.client();
        let data = Arc::new(Data {
            client: client.clone(),
            flaws: Flaws::default(),
            writer: None,
            background: None,
        });
        let reconcile = move |site: Arc<Site>, data: Arc<Data>| async move {
            site::reconcile(site, data).await?;
            Ok::<_, Error>(Action::requeue(resync))
        };
        Controller::new(Api::<Site>::all(client.clone()), watcher::Config::default())
            .owns(Api::<Pod>::all(client), watcher::Config::default())
            .run(
                kubesim::kube_runtime::observe(host.recorder().clone(), host.name(), reconcile),
                error_policy,
                data,
            )
            .for_each(|_| async {})
            .await;
    });
}

pub fn buggy() -> Scenario {
    Scenario::new("requeue-zero", |w| {
        site::setup_with(w, None, |w| add_controller(w, Duration::ZERO))
    })
    .summary("kube-runtime Action::requeue(Duration::ZERO) after every successful reconcile")
    .config(site::config)
    .expect(Expectation::Caught("no-hot-loop"))
}

pub fn fixed() -> Scenario {
    Scenario::new("requeue-zero-fixed", |w| {
        site::setup_with(w, None, |w| add_controller(w, Duration::from_secs(300)))
    })
    .summary("kube-runtime Action::requeue(5 min) after a successful reconcile")
    .config(site::config)
}

#[test]
fn a_zero_requeue_after_success_is_caught_by_no_hot_loop() {
    crate::assert_caught_within(&buggy(), CAUGHT_WITHIN);
}

#[test]
fn a_resync_with_a_real_period_holds() {
    crate::assert_holds(&fixed());
}
