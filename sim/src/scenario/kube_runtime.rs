//! `kube-runtime`: the reference ReplicaGroup logic on an unmodified `kube_runtime::Controller`
//! (`owns` the Pods, kube-runtime's default watcher backoff with fastrand jitter, its reflector
//! stores and scheduler), under the `replicagroup` workload and swarm faults. It holds, and its
//! history is the same for a seed in any process, on any thread ([`crate::determinism`]).

use super::{replicagroup, Expectation, Scenario};
use crate::oracle::{self, Violation};
use crate::world::World;
use futures::future::BoxFuture;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube_runtime::controller::{Action, Controller};
use kube_runtime::watcher;
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_model::HistoryEvent;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The scenario.
pub fn scenario() -> Scenario {
    Scenario {
        name: "kube-runtime",
        summary: "the reference logic on an unmodified kube_runtime::Controller under swarm faults",
        expectation: Expectation::Holds,
        seeds: 40,
        config: replicagroup::config,
        setup,
        check,
        heal_at: None,
    }
}

/// A kubesim-controller reconcile of the reference logic (or a variant of it) run as a
/// kube-runtime one: the same calls, kube-runtime's `Action`s.
pub(crate) async fn on_kube_runtime(
    reconciled: impl Future<Output = Result<kubesim_controller::Action, reference::Error>>,
) -> Result<Action, reference::Error> {
    Ok(match reconciled.await? {
        kubesim_controller::Action::AwaitChange => Action::await_change(),
        kubesim_controller::Action::RequeueAfter(d) => Action::requeue(d),
        kubesim_controller::Action::Requeue => Action::requeue(Duration::from_secs(5)),
    })
}

/// kube-runtime's reconcile signature over the reference logic.
fn reconcile(
    group: Arc<ReplicaGroup>,
    data: Arc<reference::Data>,
) -> BoxFuture<'static, Result<Action, reference::Error>> {
    Box::pin(on_kube_runtime(reference::reconcile(
        group,
        kubesim_controller::Context::background(),
        data,
    )))
}

/// The error policy of kube-rs's examples: try again in five seconds.
pub(crate) fn error_policy(
    _: Arc<ReplicaGroup>,
    _: &reference::Error,
    _: Arc<reference::Data>,
) -> Action {
    Action::requeue(Duration::from_secs(5))
}

/// A reconcile with kube-runtime's signature over ReplicaGroups.
pub(crate) type ReconcileFn = fn(
    Arc<ReplicaGroup>,
    Arc<reference::Data>,
) -> BoxFuture<'static, Result<Action, reference::Error>>;

/// What a kube-runtime controller host runs over ReplicaGroups.
#[derive(Clone, Copy)]
pub(crate) struct Logic {
    /// The reconcile, with kube-runtime's signature.
    pub(crate) reconcile: ReconcileFn,
    /// The error policy, with kube-runtime's signature.
    pub(crate) error_policy:
        fn(Arc<ReplicaGroup>, &reference::Error, Arc<reference::Data>) -> Action,
    /// Whether the controller `owns` its Pods (their changes requeue the owning group).
    pub(crate) owns_pods: bool,
}

/// The reference logic: the reference reconcile, [`error_policy`], owning the Pods.
pub(crate) const REFERENCE: Logic = Logic {
    reconcile,
    error_policy,
    owns_pods: true,
};

/// Adds the kube-runtime controller as host `name`, connecting to any replica.
pub fn add_controller(world: &mut World, name: &str) {
    add_controller_with(world, name, REFERENCE);
}

/// Adds a kube-runtime controller running `logic` as host `name`, connecting to any replica.
pub(crate) fn add_controller_with(world: &mut World, name: &str, logic: Logic) {
    world.add_controller(name, move |host| {
        let recorder = host.recorder().clone();
        async move {
            let client = host.client();
            let mut controller = Controller::new(
                Api::<ReplicaGroup>::all(client.clone()),
                watcher::Config::default(),
            );
            if logic.owns_pods {
                controller =
                    controller.owns(Api::<Pod>::all(client.clone()), watcher::Config::default());
            }
            controller
                .run(
                    crate::kube_runtime::observe(recorder, host.name(), logic.reconcile),
                    logic.error_policy,
                    Arc::new(reference::Data { client }),
                )
                .for_each(|_| async {})
                .await;
        }
    });
}

fn setup(world: &mut World) {
    replicagroup::setup_with(world, |w| add_controller(w, replicagroup::CONTROLLER));
}

/// Watch guarantees, no concurrent reconcile of a key, no hot loop, and `converges`
/// (kube-runtime reconciles distinct keys concurrently, so there is no concurrency bound).
pub(crate) fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = oracle::watch_guarantees(history, &[]);
    out.extend(oracle::no_concurrent_reconcile(history));
    out.extend(oracle::no_hot_loop(history, oracle::HotLoop::default()));
    out.extend(replicagroup::converges(world, history));
    out
}
