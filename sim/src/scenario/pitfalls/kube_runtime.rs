//! Three pitfalls of the catalogue written again on an unmodified `kube_runtime::Controller`
//! (the `kube-runtime` scenario's host, [`crate::scenario::kube_runtime`]), each caught by the
//! same oracle as its kubesim-controller twin, each fix holding:
//!
//! | pair | the mistake, in kube-runtime terms | caught by |
//! |---|---|---|
//! | `kr-hot-loop` | an `error_policy` answering `Action::requeue(Duration::ZERO)` to a persistent error | `no-hot-loop` |
//! | `kr-ignore-conflict` | on 409, the stale copy forced through with the latest resourceVersion | `no-lost-update` |
//! | `kr-finalizer-stuck` | finalizer removal left to a pod event the controller never watches (no `.owns`) | `converges` |
//!
//! The fixes: kube-rs's examples' error policy (`Action::requeue(5 s)`), a 409 returned as an
//! error, and `.owns(pods, watcher::Config::default())` with a requeue while the Pods go (a
//! watcher that relists after a 410 does not replay the deletes it missed). The worlds, extra clients and judges are
//! the twins' ([`super::conflicts`], [`super::finalizer_stuck`]); kube-runtime reconciles distinct
//! keys concurrently, so no concurrency bound is judged.

use super::conflicts;
use crate::oracle::names;
use crate::oracle::Violation;
use crate::scenario::kube_runtime::{self as kr, on_kube_runtime, Logic};
use crate::scenario::replicagroup::{self, CONTROLLER};
use crate::scenario::{Expectation, Scenario};
use crate::world::World;
use futures::future::BoxFuture;
use kube_runtime::controller::Action;
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_controller::Context;
use kubesim_model::HistoryEvent;
use std::sync::Arc;
use std::time::Duration;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        scenario(
            "kr-hot-loop",
            "pitfall 11 on kube-runtime: error_policy requeues a persistent error at once, forever",
            Expectation::Caught(names::NO_HOT_LOOP),
            |w| setup(w, HOT_LOOP, Extra::Tenant),
            conflicts_check,
        ),
        scenario(
            "kr-hot-loop-fixed",
            "pitfall 11 fixed on kube-runtime: error_policy requeues after five seconds",
            Expectation::Holds,
            |w| setup(w, HOT_LOOP_FIXED, Extra::Tenant),
            conflicts_check,
        ),
        scenario(
            "kr-ignore-conflict",
            "pitfall 10 on kube-runtime: on 409 the stale copy is forced through, undoing a scale",
            Expectation::Caught(names::NO_LOST_UPDATE),
            |w| setup(w, FORCE_ON_CONFLICT, Extra::Scaler),
            conflicts_check,
        ),
        scenario(
            "kr-ignore-conflict-fixed",
            "pitfall 10 fixed on kube-runtime: a 409 is an error; the group is requeued and re-read",
            Expectation::Holds,
            |w| setup(w, ERROR_ON_CONFLICT, Extra::Scaler),
            conflicts_check,
        ),
        scenario(
            "kr-finalizer-stuck",
            "pitfall 13 on kube-runtime: the finalizer waits for a pod event it never watches",
            Expectation::Caught(names::CONVERGES),
            |w| setup(w, FINALIZER_UNWATCHED, Extra::None),
            kr::check,
        ),
        scenario(
            "kr-finalizer-stuck-fixed",
            "pitfall 13 fixed on kube-runtime: owns its pods and requeues while they go (a relist drops deletes)",
            Expectation::Holds,
            |w| setup(w, FINALIZER_OWNED, Extra::None),
            kr::check,
        ),
    ]
}

fn scenario(
    name: &'static str,
    summary: &'static str,
    expectation: Expectation,
    setup: fn(&mut World),
    check: fn(&World, &[HistoryEvent]) -> Vec<Violation>,
) -> Scenario {
    Scenario {
        name,
        summary,
        expectation,
        seeds: super::DEFAULT_SEEDS,
        config: replicagroup::config,
        setup,
        check,
        heal_at: None,
    }
}

/// The client each pair adds beside the workload.
#[derive(Clone, Copy)]
enum Extra {
    None,
    Tenant,
    Scaler,
}

fn setup(world: &mut World, logic: Logic, extra: Extra) {
    replicagroup::setup_with(world, |w| {
        kr::add_controller_with(w, CONTROLLER, logic);
        match extra {
            Extra::None => {}
            Extra::Tenant => conflicts::add_tenant(w),
            Extra::Scaler => conflicts::add_scaler(w),
        }
    });
}

/// The pitfall 10 and 11 judge, without a concurrency bound.
fn conflicts_check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    conflicts::judge(world, history, None)
}

fn reference_reconcile(
    group: Arc<ReplicaGroup>,
    data: Arc<reference::Data>,
) -> BoxFuture<'static, Result<Action, reference::Error>> {
    Box::pin(on_kube_runtime(reference::reconcile(
        group,
        Context::background(),
        data,
    )))
}

/// Pitfall 11: "retry right away", whatever the error.
fn retry_at_once(_: Arc<ReplicaGroup>, _: &reference::Error, _: Arc<reference::Data>) -> Action {
    Action::requeue(Duration::ZERO)
}

const HOT_LOOP: Logic = Logic {
    reconcile: reference_reconcile,
    error_policy: retry_at_once,
    owns_pods: true,
};

const HOT_LOOP_FIXED: Logic = Logic {
    error_policy: kr::error_policy,
    ..HOT_LOOP
};

const FORCE_ON_CONFLICT: Logic = Logic {
    reconcile: |g, d| {
        Box::pin(on_kube_runtime(conflicts::forcing_reconcile(
            g,
            Context::background(),
            d,
        )))
    },
    error_policy: kr::error_policy,
    owns_pods: true,
};

const ERROR_ON_CONFLICT: Logic = Logic {
    reconcile: |g, d| {
        Box::pin(on_kube_runtime(conflicts::requeueing_reconcile(
            g,
            Context::background(),
            d,
        )))
    },
    ..FORCE_ON_CONFLICT
};

const FINALIZER_UNWATCHED: Logic = Logic {
    reconcile: |g, d| {
        Box::pin(on_kube_runtime(super::finalizer_stuck(
            g,
            Context::background(),
            d,
        )))
    },
    error_policy: kr::error_policy,
    owns_pods: false,
};

const FINALIZER_OWNED: Logic = Logic {
    reconcile: |g, d| Box::pin(requeue_while_deleting(g, d)),
    owns_pods: true,
    ..FINALIZER_UNWATCHED
};

/// The kube-runtime fix needs more than `.owns`: a watcher that relists after a 410 replays the
/// Pods that exist, not the ones deleted while it was away, so the deletion event the finalizer
/// waits for can be lost. While its Pods are going, the group is requeued (level-triggered).
async fn requeue_while_deleting(
    group: Arc<ReplicaGroup>,
    data: Arc<reference::Data>,
) -> Result<Action, reference::Error> {
    let deleting = group.metadata.deletion_timestamp.is_some();
    let action =
        on_kube_runtime(super::finalizer_stuck(group, Context::background(), data)).await?;
    Ok(if deleting && action == Action::await_change() {
        Action::requeue(Duration::from_secs(2))
    } else {
        action
    })
}
