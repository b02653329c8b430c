//! `replicagroup`: the reference controller ([`kubesim_controller::reference`]) under faults.
//!
//! Two API server replicas, one controller replica, one workload client that creates three
//! `ReplicaGroup`s, scales them and deletes one during the fault phase. Faults drawn from the seed
//! (each on or off, swarm style): partitions between the controller and a replica, API server
//! replica restarts (which also drop every watch on them), a controller crash and restart, etcd
//! compactions, and injected API errors (429/500/504/409), slow responses and watch drops.
//! Everything heals at the harness's heal time ([`DEFAULT_HEAL_AT`]); the run ends at
//! [`END_AT`], and the `converges` oracle requires storage to match every group's desired state
//! by then.

use super::{Expectation, Scenario, DEFAULT_HEAL_AT};
use crate::kit::{SimRng, Workload};
use crate::oracle::{self, Violation};
use crate::world::{World, WorldConfig};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kubesim_controller::reference::{self, ReplicaGroup, ReplicaGroupSpec};
use kubesim_controller::{
    default_error_policy, Context, Controller, ControllerConfig, InformerConfig,
};
use kubesim_model::HistoryEvent;
use rand::Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// When the run ends (the workload client returns).
pub const END_AT: Duration = Duration::from_secs(90);
/// The controller's host.
pub const CONTROLLER: &str = "controller-0";

/// The scenario.
pub fn scenario() -> Scenario {
    Scenario {
        name: "replicagroup",
        summary: "reference controller, 3 groups scaled and deleted under partitions, restarts, compaction",
        expectation: Expectation::Holds,
        seeds: 40,
        config,
        setup,
        check,
        heal_at: Some(DEFAULT_HEAL_AT),
    }
}

/// The scenario's world settings for a seed: two replicas, latencies and cache lags drawn.
pub fn config(rng: &mut SimRng) -> WorldConfig {
    WorldConfig {
        replicas: 2,
        latency_min: Duration::from_micros(rng.random_range(100..=2_000)),
        latency_max: Duration::from_millis(rng.random_range(3..=30)),
        cache_lag_max: Duration::from_millis(rng.random_range(0..=500)),
        duration_max: END_AT + Duration::from_secs(30),
        ..WorldConfig::default()
    }
}

/// The reference controller's settings in this scenario: watches re-opened every minute and a
/// 10 s deadline per reconcile, so a call stuck in a partition cannot stall a worker for good.
pub fn controller_config(seed: u64) -> ControllerConfig {
    ControllerConfig {
        name: "replicagroup".into(),
        seed,
        informer: InformerConfig {
            watch_timeout: Duration::from_secs(60),
            ..InformerConfig::default()
        },
        reconcile_timeout: Some(Duration::from_secs(10)),
        ..ControllerConfig::default()
    }
}

/// Adds the reference controller as host `name`, connecting to any replica.
pub fn add_controller(world: &mut World, name: &str) {
    world.add_controller(name, |host| async move {
        let client = host.client();
        Controller::new(
            Api::<ReplicaGroup>::all(client.clone()),
            controller_config(host.seed()),
        )
        .owns(Api::<Pod>::all(client.clone()), InformerConfig::default())
        .observer(host.observer())
        .run(
            reference::reconcile,
            default_error_policy,
            Arc::new(reference::Data { client }),
            Context::background(),
        )
        .await;
    });
}

fn setup(world: &mut World) {
    setup_with(world, |w| add_controller(w, CONTROLLER));
}

/// The scenario's workload: three groups of 1-4 replicas, then six steps 1-6 s apart, each a
/// scale of a random group to 0-5 replicas but the fourth, which deletes one; the host stays
/// until [`END_AT`].
pub fn workload() -> Workload<ReplicaGroup> {
    Workload {
        namespace: "default".into(),
        prefix: "g".into(),
        count: 3,
        make: |name, rng| {
            let replicas = rng.random_range(1..=4);
            let spec = ReplicaGroupSpec {
                replicas,
                image: "web:1".into(),
            };
            (
                ReplicaGroup::new(name, spec),
                format!("replicas={replicas}"),
            )
        },
        steps: 6,
        change_verb: "scale",
        change: |rng| {
            let replicas = rng.random_range(0..=5);
            (
                json!({ "spec": { "replicas": replicas } }),
                format!("replicas={replicas}"),
            )
        },
        delete_at: Some(3),
        pause_ms: 1_000..6_000,
        end_at: END_AT,
    }
}

/// The scenario's world with the controller `add` puts on host [`CONTROLLER`]: the custom
/// resource, the workload client, the fault plan and the `converges` check.
pub fn setup_with(world: &mut World, add: impl FnOnce(&mut World)) {
    world.register_crd::<ReplicaGroup>();
    add(world);
    workload().start(world, "workload");
    let heal_at = world.harness_heal_at();
    world.draw_faults_at(&[CONTROLLER], heal_at);
    world.converges_within(None, |objects| {
        reference::converged(&objects.of::<ReplicaGroup>(), &objects.of::<Pod>())
    });
}

/// The scenario's judge: [`judge`].
pub fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    judge(world, history)
}

/// The reference controller's oracles: watch guarantees, no concurrent reconcile, one reconcile
/// at a time per host, no hot loop, and `converges` (storage matches every group's desired state
/// at the end of the run).
pub fn judge(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    // The controller's informers watch without selectors (its label selector is on a list).
    let mut out = oracle::watch_guarantees(history, &[]);
    out.extend(oracle::no_concurrent_reconcile(history));
    // `max_concurrent_reconciles` is left at its default, 1.
    out.extend(oracle::bounded_concurrency(history, 1));
    out.extend(oracle::no_hot_loop(history, oracle::HotLoop::default()));
    out.extend(converges(world, history));
    out
}

/// `converges`: storage matches every group's desired state at the end of the run (the check
/// [`setup_with`] registers; a world without one passes).
pub fn converges(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    world.convergence_verdict(history).into_iter().collect()
}
