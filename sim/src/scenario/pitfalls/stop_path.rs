//! Pitfall 2: an informer started without a stop path.
//!
//! The controller keeps a side cache of Pods (a gauge of how many there are, for its metrics) with
//! an [`Informer`] of its own, spawned on the controller's task set. `informer-leak` runs it under
//! a fresh `Context::background()`, which nothing ever cancels: client-go's
//! `informer.Run(wait.NeverStop)`. When the controller is told to stop, its own informers and
//! workers end, but the side informer keeps listing and watching: `no-leaked-tasks` names it.
//! `informer-leak-fixed` runs it under a child of the controller's stop context.

use super::{pair, shutdown_at_stop_time};
use crate::oracle::names;
use crate::scenario::replicagroup::{self, CONTROLLER};
use crate::scenario::Scenario;
use crate::world::World;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_controller::{
    default_error_policy, Change, Context, Controller, ControllerConfig, Informer, InformerConfig,
};
use rand::SeedableRng;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    pair(
        ("informer-leak", "informer-leak-fixed"),
        (
            "pitfall 2: a side informer run under Context::background() outlives the controller",
            "pitfall 2 fixed: the side informer runs under a child of the stop context",
        ),
        names::NO_LEAKED_TASKS,
        |w| replicagroup::setup_with(w, |w| add(w, false)),
        |w| replicagroup::setup_with(w, |w| add(w, true)),
    )
    .into()
}

/// The controller host: the reference controller plus a side Pod informer, stopped at
/// [`super::STOP_AT`], then checked for leaked tasks.
fn add(world: &mut World, fixed: bool) {
    let seed = world.fork_seed();
    let cache_seed = world.fork_seed();
    world.add_controller_seeded(CONTROLLER, seed, move |host| async move {
        {
            let (client, observer) = (host.client(), host.observer());
            let shutdown = shutdown_at_stop_time();
            let stop = shutdown.stop.clone();
            let config = ControllerConfig {
                shutdown_grace: Duration::from_secs(2),
                ..replicagroup::controller_config(seed)
            };
            let controller = Controller::new(Api::<ReplicaGroup>::all(client.clone()), config)
                .owns(Api::<Pod>::all(client.clone()), InformerConfig::default())
                .observer(observer.clone());
            let tasks = controller.tasks();
            let before = tasks.live();

            // The side cache: how many Pods exist, for a metrics gauge.
            let pods_gauge = Arc::new(AtomicUsize::new(0));
            let informer = Informer::new(
                Api::<Pod>::all(client.clone()),
                InformerConfig::default(),
                Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(cache_seed)),
                observer.clone(),
            );
            let cache = informer.store();
            let ctx = if fixed {
                stop.child()
            } else {
                // The mistake: a context nothing cancels, so the informer never stops.
                Context::background()
            };
            let gauge = pods_gauge.clone();
            tasks.spawn("pod-cache/informer/pods", async move {
                informer
                    .run(ctx, move |_: Change<Pod>| {
                        gauge.store(cache.list().len(), Ordering::Relaxed)
                    })
                    .await
            });

            let data = Arc::new(reference::Data { client });
            let run = controller.run(
                reference::reconcile,
                default_error_policy,
                data,
                stop.clone(),
            );
            shutdown
                .await_and_check_leaks(run, &before, &tasks, &observer)
                .await;
            std::future::pending::<()>().await;
        }
    });
}
