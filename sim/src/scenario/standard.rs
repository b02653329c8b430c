//! `standard`: the standard scenario, the workload the sim-speed figures are quoted on
//! (docs/design.md, "Benchmarks"): two API server replicas, three controller replicas running the
//! reference controller under leader election, 200 `ReplicaGroup`s, ten simulated minutes, swarm
//! faults.
//!
//! The workload creates [`GROUPS`] groups, then scales or deletes one every few seconds until
//! the heal time (the scenario's [`Scenario::heal_at`], 480 s). Faults (swarm: each kind on or
//! off per seed) are those of the `replicagroup` world, aimed at any of the controller replicas,
//! plus a clock per controller replica: an offset up to 5 s, a rate within client-go's tolerance
//! (`lease_duration / renew_deadline` = 1.5; drawn in [1/1.25, 1.25]) and, for half the replicas,
//! a pause shorter than the lease duration. Everything heals at the heal time; the run ends at
//! [`END_AT`], by when storage must match every group's
//! desired state.

use super::replicagroup;
use super::{Expectation, Scenario};
use crate::faults::clockskew::{ClockSkew, SkewedClock};
use crate::faults::FaultProfile;
use crate::kit::{insist, Host, SimRng};
use crate::observe::HostObserver;
use crate::oracle::Violation;
use crate::transport::{self, Target};
use crate::world::{World, WorldConfig};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kubesim_controller::leader::{run_while_leading, Clock, LeaderElectionConfig, LeaderElector};
use kubesim_controller::reference::{self, ReplicaGroup, ReplicaGroupSpec};
use kubesim_controller::{default_error_policy, Context, Controller, InformerConfig};
use kubesim_model::{EventKind, HistoryEvent, ResourceType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// ReplicaGroups the workload creates.
pub const GROUPS: usize = 200;
/// Controller replicas, `controller-0` to `controller-2`.
pub const CONTROLLERS: usize = 3;
/// When the run ends: ten simulated minutes.
pub const END_AT: Duration = Duration::from_secs(600);
/// The lease the controller replicas elect a leader on (`kube-system/replicagroup-controller`).
pub const LEASE: &str = "replicagroup-controller";

/// The scenario.
pub fn scenario() -> Scenario {
    Scenario {
        name: "standard",
        summary:
            "3 leader-elected controller replicas, 2 API replicas, 200 groups, 10 min, swarm faults",
        expectation: Expectation::Holds,
        seeds: 10,
        config,
        setup,
        check,
        // The setup draws the faults itself, healed at this time.
        heal_at: Some(Duration::from_secs(480)),
    }
}

fn config(rng: &mut ChaCha8Rng) -> WorldConfig {
    WorldConfig {
        duration_max: END_AT + Duration::from_secs(60),
        ..replicagroup::config(rng)
    }
}

fn controller_host(i: usize) -> String {
    format!("controller-{i}")
}

fn setup(world: &mut World) {
    let heal_at = world.harness_heal_at();
    world
        .cluster()
        .state()
        .register(ResourceType::of_custom::<ReplicaGroup>(true));
    let mut clocks = world.fork_rng();
    for i in 0..CONTROLLERS {
        let skew = match world.fault_profile() {
            FaultProfile::None => ClockSkew::exact(),
            _ => draw_skew(&mut clocks, heal_at),
        };
        world.recorder().record(
            "sim",
            EventKind::Fault {
                text: format!("{} clock {skew}", controller_host(i)),
            },
        );
        add_controller(world, i, skew);
    }
    let workload_seed = world.fork_seed();
    world.add_client("workload", move |host| async move {
        let mut rng = SimRng::seed_from_u64(workload_seed);
        workload(&host, &mut rng, heal_at).await;
    });
    let hosts: Vec<String> = (0..CONTROLLERS).map(controller_host).collect();
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    world.draw_faults_at(&hosts, heal_at);
    world.converges_within(None, |objects| {
        reference::converged(&objects.of::<ReplicaGroup>(), &objects.of::<Pod>())
    });
}

/// A clock client-go's leader election is meant to tolerate: offset up to 5 s, rate log-uniform
/// in [1/1.25, 1.25], and with probability 1/2 a pause of 5 to 10 s (the lease lasts 15 s)
/// starting in the fault phase (which ends at `heal_at`).
fn draw_skew(rng: &mut ChaCha8Rng, heal_at: Duration) -> ClockSkew {
    ClockSkew::draw(
        rng,
        Duration::from_secs(5),
        1.25,
        0.5,
        heal_at - Duration::from_secs(20),
        Duration::from_secs(10),
    )
}

/// Adds controller replica `i`: the reference controller, run while it holds the lease.
fn add_controller(world: &mut World, i: usize, skew: ClockSkew) {
    let host = controller_host(i);
    let replicas = world.replicas().len();
    let (seed, jitter_seed) = (world.fork_seed(), world.fork_seed());
    let recorder = world.recorder().clone();
    let tick = world.sim_tick();
    world.host(&host.clone(), move || {
        let (host, recorder, skew) = (host.clone(), recorder.clone(), skew.clone());
        async move {
            let client = transport::client(&host, Target::Any { replicas, seed }, recorder.clone());
            let observer = HostObserver::shared(recorder, &host);
            let clock: Arc<dyn Clock> = Arc::new(SkewedClock::new(skew).with_resolution(tick));
            let elector = LeaderElector::new(
                Api::<Lease>::namespaced(client.clone(), "kube-system"),
                LEASE,
                LeaderElectionConfig::new(host.clone()),
                clock,
                Box::new(ChaCha8Rng::seed_from_u64(jitter_seed)),
            )?
            .observer(observer.clone());
            let data = Arc::new(reference::Data {
                client: client.clone(),
            });
            run_while_leading(&elector, &Context::background(), |lead| {
                Controller::new(
                    Api::<ReplicaGroup>::all(client.clone()),
                    replicagroup::controller_config(seed),
                )
                .owns(Api::<Pod>::all(client.clone()), InformerConfig::default())
                .observer(observer.clone())
                .run(
                    reference::reconcile,
                    default_error_policy,
                    data.clone(),
                    lead,
                )
            })
            .await;
            Ok(())
        }
    });
}

/// Creates the groups, then every 1 to 5 s until `heal_at` scales a random group (or, one time
/// in eight, deletes it), then waits for [`END_AT`].
async fn workload(rec: &Host, rng: &mut SimRng, heal_at: Duration) {
    let api: Api<ReplicaGroup> = Api::namespaced(rec.client(), "default");
    let (pp, patch_params, dp) = (
        PostParams::default(),
        PatchParams::default(),
        DeleteParams::default(),
    );
    let start = tokio::time::Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
    for i in 0..GROUPS {
        let replicas = rng.random_range(0..=2);
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
    while start.elapsed() < heal_at {
        tokio::time::sleep(Duration::from_millis(rng.random_range(1_000..5_000))).await;
        let name = format!("g{}", rng.random_range(0..GROUPS));
        if rng.random_ratio(1, 8) {
            insist(rec, &format!("delete {name}"), || api.delete(&name, &dp)).await;
            continue;
        }
        let replicas = rng.random_range(0..=3);
        let patch = Patch::Merge(json!({ "spec": { "replicas": replicas } }));
        insist(rec, &format!("scale {name} replicas={replicas}"), || {
            api.patch(&name, &patch_params, &patch)
        })
        .await;
    }
    tokio::time::sleep_until(start + END_AT).await;
}

fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    replicagroup::judge(world, history)
}
