//! `replicagroup`: the reference controller ([`kubesim_controller::reference`]) under faults.
//!
//! Two API server replicas, one controller replica, one workload client that creates three
//! `ReplicaGroup`s, scales them and deletes one during the fault phase. Faults drawn from the seed
//! (each on or off, swarm style): partitions between the controller and a replica, API server
//! replica restarts (which also drop every watch on them), a controller crash and restart, etcd
//! compactions, and injected API errors (429/500/504/409), slow responses and watch drops. Everything heals at [`HEAL_AT`]; the run ends at [`END_AT`], and the
//! `converges` oracle requires storage to match every group's desired state by then.

use super::{Expectation, Scenario};
use crate::apiserver::faults::ReplicaFaults;
use crate::observe::HostObserver;
use crate::oracle::{self, Violation};
use crate::transport::{self, Target};
use crate::world::{FaultAction, World, WorldConfig};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kubesim_controller::reference::{self, ReplicaGroup, ReplicaGroupSpec};
use kubesim_controller::{
    default_error_policy, Context, Controller, ControllerConfig, InformerConfig,
};
use kubesim_model::{HistoryEvent, ResourceType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// When every fault is healed.
pub const HEAL_AT: Duration = Duration::from_secs(40);
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
    }
}

pub(crate) fn config(rng: &mut ChaCha8Rng) -> WorldConfig {
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
pub(crate) fn controller_config(seed: u64) -> ControllerConfig {
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
    let replicas = world.replicas.len();
    let seed = world.fork_seed();
    let recorder = world.recorder.clone();
    let host = name.to_string();
    world.sim.host(name, move || {
        let (recorder, host) = (recorder.clone(), host.clone());
        async move {
            let client = transport::client(&host, Target::Any { replicas, seed }, recorder.clone());
            let controller = Controller::new(
                Api::<ReplicaGroup>::all(client.clone()),
                controller_config(seed),
            )
            .owns(Api::<Pod>::all(client.clone()), InformerConfig::default())
            .observer(HostObserver::shared(recorder, &host));
            let data = Arc::new(reference::Data { client });
            controller
                .run(
                    reference::reconcile,
                    default_error_policy,
                    data,
                    Context::background(),
                )
                .await;
            Ok(())
        }
    });
}

fn setup(world: &mut World) {
    setup_with(world, |w| add_controller(w, CONTROLLER));
}

/// The scenario's world with the controller `add` puts on host [`CONTROLLER`]: the custom
/// resource, the workload client and the fault plan.
pub(crate) fn setup_with(world: &mut World, add: impl FnOnce(&mut World)) {
    world
        .cluster
        .state()
        .register(ResourceType::of_custom::<ReplicaGroup>(true));
    add(world);
    let workload_seed = world.fork_seed();
    let replicas = world.replicas.len();
    let target = Target::Any {
        replicas,
        seed: world.fork_seed(),
    };
    let recorder = world.recorder.clone();
    world.sim.client("workload", async move {
        let client = transport::client("workload", target, recorder.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(workload_seed);
        workload(client, &recorder, &mut rng).await;
        Ok(())
    });
    draw_faults(world, &[CONTROLLER], HEAL_AT);
}

/// Retries `f` until it succeeds or answers 409 or 404, every 500 ms, for at most 60 tries.
pub(crate) async fn insist<T, F, Fut>(rec: &crate::history::Recorder, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    for _ in 0..60 {
        match tokio::time::timeout(Duration::from_secs(5), f()).await {
            Ok(Ok(_)) => {
                rec.note("workload", format!("{what} ok"));
                return;
            }
            Ok(Err(kube::Error::Api(s))) if s.code == 409 || s.code == 404 => {
                rec.note("workload", format!("{what} {} {}", s.code, s.reason));
                return;
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    rec.note("workload", format!("{what} gave up"));
}

async fn workload(client: kube::Client, rec: &crate::history::Recorder, rng: &mut ChaCha8Rng) {
    let api: Api<ReplicaGroup> = Api::namespaced(client, "default");
    let (pp, patch_params, dp) = (
        PostParams::default(),
        PatchParams::default(),
        DeleteParams::default(),
    );
    let start = tokio::time::Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
    for i in 0..3 {
        let replicas = rng.random_range(1..=4);
        let g = ReplicaGroup::new(
            &format!("g{i}"),
            ReplicaGroupSpec {
                replicas,
                image: "web:1".into(),
            },
        );
        insist(rec, &format!("create g{i} replicas={replicas}"), || {
            api.create(&pp, &g)
        })
        .await;
    }
    let deleted = rng.random_range(0..3);
    for step in 0..6 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(1_000..6_000))).await;
        let g = rng.random_range(0..3);
        if step == 3 {
            let name = format!("g{deleted}");
            insist(rec, &format!("delete {name}"), || api.delete(&name, &dp)).await;
            continue;
        }
        let replicas = rng.random_range(0..=5);
        let patch = Patch::Merge(json!({ "spec": { "replicas": replicas } }));
        let name = format!("g{g}");
        insist(rec, &format!("scale {name} replicas={replicas}"), || {
            api.patch(&name, &patch_params, &patch)
        })
        .await;
    }
    let end = start + END_AT;
    tokio::time::sleep_until(end).await;
}

/// Draws the fault plan against the controller hosts `controllers`: each kind on or off, then its
/// times, all before `heal_at` (faults start in its first three quarters, compactions in its first
/// seven eighths; partitions last 0.5 to 8 s, crashes 0.2 to 5 s).
pub(crate) fn draw_faults(world: &mut World, controllers: &[&str], heal_at: Duration) {
    let mut rng = world.fork_rng();
    let replicas: Vec<String> = world.replicas.clone();
    let profile = world.faults;
    let heal_ms = heal_at.as_millis() as u64;
    let (start_max, compact_max) = (heal_ms * 3 / 4, heal_ms * 7 / 8);
    let at =
        |rng: &mut ChaCha8Rng, lo: u64, hi: u64| Duration::from_millis(rng.random_range(lo..hi));
    // With one controller no draw is spent on choosing it (the plan of a seed stays the same).
    let pick = |rng: &mut ChaCha8Rng| -> String {
        match controllers {
            [only] => only.to_string(),
            _ => controllers[rng.random_range(0..controllers.len())].to_string(),
        }
    };
    if profile.enabled(&mut rng) {
        for _ in 0..rng.random_range(1..=3) {
            let c = pick(&mut rng);
            let r = replicas[rng.random_range(0..replicas.len())].clone();
            let t = at(&mut rng, 1_000, start_max);
            let d = at(&mut rng, 500, 8_000);
            world.schedule(t, FaultAction::Partition(c.clone(), r.clone()));
            world.schedule((t + d).min(heal_at), FaultAction::Repair(c, r));
        }
    }
    if profile.enabled(&mut rng) {
        let r = replicas[rng.random_range(0..replicas.len())].clone();
        let t = at(&mut rng, 1_000, start_max);
        world.schedule(t, FaultAction::Crash(r.clone()));
        world.schedule(
            (t + at(&mut rng, 200, 5_000)).min(heal_at),
            FaultAction::Restart(r),
        );
    }
    if profile.enabled(&mut rng) {
        let c = pick(&mut rng);
        let t = at(&mut rng, 1_000, start_max);
        world.schedule(t, FaultAction::Crash(c.clone()));
        world.schedule(
            (t + at(&mut rng, 200, 5_000)).min(heal_at),
            FaultAction::Restart(c),
        );
    }
    if profile.enabled(&mut rng) {
        for _ in 0..rng.random_range(1..=3) {
            let t = at(&mut rng, 1_000, compact_max);
            world.schedule(t, FaultAction::Compact);
        }
    }
    // What the API server replicas inject until HEAL_AT.
    let mut api = ReplicaFaults {
        seed: rng.random(),
        ..ReplicaFaults::default()
    };
    if profile.enabled(&mut rng) {
        api.error_rate = rng.random_range(0.01..0.1);
    }
    if profile.enabled(&mut rng) {
        api.slow_rate = rng.random_range(0.01..0.1);
        api.slow_max = Duration::from_millis(rng.random_range(100..3_000));
    }
    if profile.enabled(&mut rng) {
        api.watch_drop_rate = rng.random_range(0.01..0.2);
    }
    if !api.is_none() {
        world.recorder.record(
            "sim",
            kubesim_model::EventKind::Fault {
                text: format!(
                    "api errors={:.3} slow={:.3} up to {}ms watch-drops={:.3}",
                    api.error_rate,
                    api.slow_rate,
                    api.slow_max.as_millis(),
                    api.watch_drop_rate
                ),
            },
        );
        world.cluster.set_replica_faults(api);
        world.schedule(heal_at, FaultAction::HealApiFaults);
    }
}

pub(crate) fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    judge(world, history, HEAL_AT)
}

/// The reference controller's oracles: watch guarantees, no concurrent reconcile, one reconcile
/// at a time per host, no hot loop, and `converges` (storage matches every group's desired state
/// at the end of a run whose faults healed at `heal_at`).
pub(crate) fn judge(world: &World, history: &[HistoryEvent], heal_at: Duration) -> Vec<Violation> {
    // The controller's informers watch without selectors (its label selector is on a list).
    let mut out = oracle::watch_guarantees(history, &[]);
    out.extend(oracle::no_concurrent_reconcile(history));
    // `max_concurrent_reconciles` is left at its default, 1.
    out.extend(oracle::bounded_concurrency(history, 1));
    out.extend(oracle::no_hot_loop(history, oracle::HotLoop::default()));
    out.extend(converges(world, history, heal_at));
    out
}

/// `converges`: storage matches every group's desired state at the end of a run whose faults
/// healed at `heal_at`.
pub(crate) fn converges(
    world: &World,
    history: &[HistoryEvent],
    heal_at: Duration,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let objects = world.cluster.state().objects();
    let groups: Vec<ReplicaGroup> = objects
        .iter()
        .filter(|(k, _)| k.resource == "replicagroups.kubesim.io")
        .filter_map(|(_, v)| serde_json::from_value((**v).clone()).ok())
        .collect();
    let pods: Vec<Pod> = objects
        .iter()
        .filter(|(k, _)| k.resource == "pods")
        .filter_map(|(_, v)| serde_json::from_value((**v).clone()).ok())
        .collect();
    if let Err(why) = reference::converged(&groups, &pods) {
        out.push(Violation {
            oracle: "converges",
            time_us: world.sim.elapsed().as_micros() as u64,
            event_id: history.last().map(|e| e.id),
            message: format!(
                "{} after healing at {}s: {why}",
                "not converged",
                heal_at.as_secs()
            ),
        });
    }
    out
}
