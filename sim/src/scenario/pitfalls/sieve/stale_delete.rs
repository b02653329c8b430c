//! Pitfall 8 (Sieve: stale states, "time travel"): a delete by name decided from a lagging API
//! server's cache removes an object recreated under that name since.
//!
//! The world: a cleanup controller for finished `ReplicaGroup`s (scaled to zero), like
//! Kubernetes' TTL-after-finished controller for Jobs: every second it lists the groups, cheaply,
//! from the API server's watch cache (`resourceVersion=0`, as client-go's informers list), and
//! deletes those finished for at least [`TTL`]. A workload client runs three groups as jobs: it
//! creates each, finishes it (scales it to zero), waits until it is gone, and runs it again under
//! the same name (a new uid). `apiserver-1`'s watch cache trails storage by 4 to 8 seconds. A few
//! seconds in, the controller crashes while partitioned from `apiserver-0`, so the restarted one
//! reconnects to `apiserver-1` (if it was not there already), where the finished first run of a
//! group is still listed after the second run has been created.
//!
//! The mistake: `delete(name)`. It removes whatever is called `name` now: the second run. Caught
//! by [`no_stale_delete`](crate::oracle::no_stale_delete) over storage's log. The fix, as in the
//! TTL-after-finished controller: delete with a uid precondition
//! (`Preconditions { uid: Some(<the uid it listed>) }`), which the API server answers with
//! 409 Conflict when the name now belongs to another object.

use crate::api::StoreConfig;
use crate::apiserver::ClusterConfig;
use crate::faults::{FaultAction, FaultProfile};
use crate::history::Recorder;
use crate::oracle::names;
use crate::oracle::{self, Violation};
use crate::scenario::pitfalls::DEFAULT_SEEDS;
use crate::scenario::replicagroup::CONTROLLER;
use crate::scenario::{Expectation, Scenario};
use crate::transport::{self, Target};
use crate::world::{World, WorldConfig};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::ResourceExt;
use kubesim_controller::reference::{ReplicaGroup, ReplicaGroupSpec};
use kubesim_model::{HistoryEvent, ResourceType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a group stays finished before the controller deletes it.
pub const TTL: Duration = Duration::from_secs(2);
/// How often the controller lists the groups.
const SWEEP: Duration = Duration::from_secs(1);
/// Deadline of each of the controller's calls.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// When the run ends.
const END_AT: Duration = Duration::from_secs(40);
/// The fresh replica and the lagging one.
const FRESH: &str = "apiserver-0";
const LAGGING: usize = 1;

/// The pair, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    let scenario = |name, summary, expectation, setup| Scenario {
        name,
        summary,
        expectation,
        seeds: DEFAULT_SEEDS,
        config,
        setup,
        check,
        heal_at: None,
    };
    vec![
        scenario(
            "stale-delete",
            "pitfall 8: a TTL cleaner deletes finished groups by name from a lagging cache, and hits their reruns",
            Expectation::Caught(names::NO_STALE_DELETE),
            |w| setup(w, false),
        ),
        scenario(
            "stale-delete-fixed",
            "pitfall 8 fixed: the delete carries a uid precondition (409 when the name was reused)",
            Expectation::Holds,
            |w| setup(w, true),
        ),
    ]
}

fn config(rng: &mut ChaCha8Rng) -> WorldConfig {
    let mut lags = vec![Duration::from_millis(rng.random_range(0..=200)); 2];
    lags[LAGGING] = Duration::from_millis(rng.random_range(4_000..=8_000));
    WorldConfig {
        replicas: 2,
        latency_min: Duration::from_micros(rng.random_range(100..=2_000)),
        latency_max: Duration::from_millis(rng.random_range(3..=30)),
        cache_lags: Some(lags),
        duration_max: END_AT + Duration::from_secs(30),
        cluster: ClusterConfig {
            // The oracle reads storage's whole log.
            store: StoreConfig {
                compaction_window: 0,
                ..StoreConfig::default()
            },
            ..ClusterConfig::default()
        },
        ..WorldConfig::default()
    }
}

fn setup(world: &mut World, uid_precondition: bool) {
    world
        .cluster()
        .state()
        .register(ResourceType::of_custom::<ReplicaGroup>(true));
    let target = Target::Any {
        replicas: world.replicas().len(),
        seed: world.fork_seed(),
    };
    let recorder = world.recorder().clone();
    world.host(CONTROLLER, move || {
        let (target, recorder) = (target.clone(), recorder.clone());
        async move {
            let client = transport::client(CONTROLLER, target, recorder);
            cleaner(client, uid_precondition).await;
            Ok(())
        }
    });
    let workload_seed = world.fork_seed();
    let target = Target::Any {
        replicas: world.replicas().len(),
        seed: world.fork_seed(),
    };
    let recorder = world.recorder().clone();
    world.client("workload", async move {
        let client = transport::client("workload", target, recorder.clone());
        let start = tokio::time::Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        let mut rng = ChaCha8Rng::seed_from_u64(workload_seed);
        let runs: Vec<_> = (0..3)
            .map(|i| {
                let (client, recorder) = (client.clone(), recorder.clone());
                let seed = rng.random();
                tokio::spawn(async move { job(client, &recorder, &format!("job{i}"), seed).await })
            })
            .collect();
        for r in runs {
            let _ = r.await;
        }
        tokio::time::sleep_until(start + END_AT).await;
        Ok(())
    });
    let mut rng = world.fork_rng();
    if world.fault_profile() != FaultProfile::None {
        // The controller restarts while cut off from the fresh replica: it reconnects to the
        // lagging one (time travel).
        let at = Duration::from_millis(rng.random_range(3_000..=8_000));
        let down = Duration::from_millis(rng.random_range(300..=1_500));
        for (a, b) in [(CONTROLLER, FRESH), (FRESH, CONTROLLER)] {
            world.schedule(at, FaultAction::PartitionOneWay(a.into(), b.into()));
        }
        world.schedule(at, FaultAction::Crash(CONTROLLER.into()));
        world.schedule(at + down, FaultAction::Restart(CONTROLLER.into()));
        world.schedule(
            at + Duration::from_secs(20),
            FaultAction::Repair(CONTROLLER.into(), FRESH.into()),
        );
    }
}

/// The cleanup controller: deletes groups finished for [`TTL`], as listed from the cache.
async fn cleaner(client: kube::Client, uid_precondition: bool) {
    let groups: Api<ReplicaGroup> = Api::all(client.clone());
    let mut finished_since: BTreeMap<String, tokio::time::Instant> = BTreeMap::new(); // det-ok: tokio::time::Instant, the host's simulated clock
    loop {
        tokio::time::sleep(SWEEP).await;
        // Served from the API server's watch cache: cheap, and possibly stale.
        let cached = ListParams::default().match_any();
        let Ok(Ok(list)) = tokio::time::timeout(CALL_TIMEOUT, groups.list(&cached)).await else {
            continue;
        };
        let now = tokio::time::Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        for g in list.items {
            if g.spec.replicas != 0 {
                continue;
            }
            let uid = g.uid().unwrap_or_default();
            let since = *finished_since.entry(uid.clone()).or_insert(now);
            if now - since < TTL {
                continue;
            }
            let params = if uid_precondition {
                DeleteParams::default().preconditions(Preconditions {
                    uid: Some(uid),
                    resource_version: None,
                })
            } else {
                // The mistake: whatever is called this now.
                DeleteParams::default()
            };
            let ns = g.namespace().unwrap_or_else(|| "default".into());
            let api: Api<ReplicaGroup> = Api::namespaced(client.clone(), &ns);
            // 404: already gone; 409: the name belongs to a newer object now. Both are fine.
            let _ = tokio::time::timeout(CALL_TIMEOUT, api.delete(&g.name_any(), &params)).await;
        }
    }
}

/// Retries `f` every 500 ms until it answers (at most 60 tries), noting the outcome.
async fn insist<T, F, Fut>(rec: &Recorder, what: &str, mut f: F) -> Option<Result<T, u16>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    for _ in 0..60 {
        match tokio::time::timeout(Duration::from_secs(5), f()).await {
            Ok(Ok(v)) => {
                rec.note("workload", format!("{what} ok"));
                return Some(Ok(v));
            }
            Ok(Err(kube::Error::Api(s))) if s.code == 409 || s.code == 404 => {
                rec.note("workload", format!("{what} {} {}", s.code, s.reason));
                return Some(Err(s.code));
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    rec.note("workload", format!("{what} gave up"));
    None
}

/// One job's two runs: create, finish (scale to zero), wait until the controller deleted it,
/// create again, and leave the second run running.
async fn job(client: kube::Client, rec: &Recorder, name: &str, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let api: Api<ReplicaGroup> = Api::namespaced(client, "default");
    let (pp, patch_params) = (PostParams::default(), PatchParams::default());
    let run = |replicas| {
        ReplicaGroup::new(
            name,
            ReplicaGroupSpec {
                replicas,
                image: "batch:1".into(),
            },
        )
    };
    let first = run(rng.random_range(1..=3));
    tokio::time::sleep(Duration::from_millis(rng.random_range(0..1_000))).await;
    insist(rec, &format!("create {name}"), || api.create(&pp, &first)).await;
    tokio::time::sleep(Duration::from_millis(rng.random_range(1_000..4_000))).await;
    let finish = Patch::Merge(json!({ "spec": { "replicas": 0 } }));
    insist(rec, &format!("finish {name}"), || {
        api.patch(name, &patch_params, &finish)
    })
    .await;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(Err(kube::Error::Api(s))) =
            tokio::time::timeout(Duration::from_secs(5), api.get(name)).await
        {
            if s.code == 404 {
                let second = run(rng.random_range(1..=3));
                insist(rec, &format!("rerun {name}"), || api.create(&pp, &second)).await;
                break;
            }
        }
    }
}

fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    let log = world
        .cluster()
        .state()
        .log_since(0)
        .expect("invariant: this world never compacts storage");
    let mut out = oracle::no_stale_delete(&log, history, "replicagroups.kubesim.io", |g| {
        g["spec"]["replicas"] == 0
    });
    out.extend(oracle::no_hot_loop(history, oracle::HotLoop::default()));
    out
}
