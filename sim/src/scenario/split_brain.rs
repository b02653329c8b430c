//! Pitfall 12, split brain: three replicas elect a leader on a Lease with client-go's algorithm
//! (defaults 15 s / 10 s / 2 s) and, while leading, write ConfigMap `default/work` every 500 ms of
//! their local clock. Each replica's clock is drawn from the seed: an offset, a rate between 1/10
//! and 10, and with probability 1/2 a pause of 20 to 40 s (a stopped process). client-go gives no
//! fencing, so a slow or paused leader keeps writing after another replica took the lease: the
//! `single-writer` oracle ([`crate::oracle::single_writer`]) catches it. `split-brain-fixed` fences each
//! write with a conditional update of the lease ([`LeaderElector::fence`]).

use super::{Expectation, Scenario};
use crate::api::StoreConfig;
use crate::apiserver::ClusterConfig;
use crate::faults::clockskew::{ClockSkew, SkewedClock};
use crate::faults::FaultProfile;
use crate::oracle::names;
use crate::oracle::single_writer::{self, WRITER_ANNOTATION};
use crate::oracle::Violation;
use crate::transport::Target;
use crate::world::{World, WorldConfig};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kubesim_controller::leader::{run_while_leading, Clock, LeaderElectionConfig, LeaderElector};
use kubesim_controller::Context;
use kubesim_model::{EventKind, HistoryEvent};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Duration;

/// The lease.
pub const LEASE: &str = "lead";
/// Its namespace.
pub const NAMESPACE: &str = "default";
/// turmoil's tick in this scenario; replica clocks wake on tick boundaries.
pub const TICK: Duration = Duration::from_millis(10);
/// How often a leader writes, on its own clock.
pub const WRITE_PERIOD: Duration = Duration::from_millis(500);
/// Length of a run.
pub const RUN_FOR: Duration = Duration::from_secs(60);

/// The pair.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "split-brain",
            summary: "pitfall 12: leader election without fencing under clock-rate skew and pauses",
            expectation: Expectation::Caught(names::SINGLE_WRITER),
            seeds: 20,
            config,
            setup: |w| setup(w, false),
            check,
            heal_at: None,
        },
        Scenario {
            name: "split-brain-fixed",
            summary: "pitfall 12 fixed: every leader write is fenced by a conditional lease update",
            expectation: Expectation::Holds,
            seeds: 20,
            config,
            setup: |w| setup(w, true),
            check,
            heal_at: None,
        },
    ]
}

fn config(_rng: &mut ChaCha8Rng) -> WorldConfig {
    WorldConfig {
        replicas: 1,
        latency_min: Duration::from_millis(1),
        latency_max: Duration::from_millis(5),
        cache_lags: Some(vec![Duration::ZERO]),
        cache_lag_max: Duration::ZERO,
        tick: TICK,
        time: Default::default(),
        duration_max: RUN_FOR + Duration::from_secs(10),
        cluster: ClusterConfig {
            // The oracle walks the whole commit log.
            store: StoreConfig {
                compaction_window: 0,
                ..StoreConfig::default()
            },
            ..ClusterConfig::default()
        },
    }
}

fn setup(world: &mut World, fencing: bool) {
    let mut rng = world.fork_rng();
    for i in 0..3 {
        let skew = match world.fault_profile() {
            FaultProfile::None => ClockSkew::exact(),
            _ => draw_skew(&mut rng),
        };
        world.recorder().record(
            "sim",
            EventKind::Fault {
                text: format!("replica-{i} clock {skew:?}"),
            },
        );
        add_replica(world, i, skew, fencing);
    }
    world.client("timer", async {
        tokio::time::sleep(RUN_FOR).await;
        Ok(())
    });
}

fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    let Ok(log) = world.cluster().state().log_since(0) else {
        return vec![Violation {
            oracle: names::SINGLE_WRITER,
            time_us: 0,
            event_id: None,
            message: "the commit log was compacted; the oracle cannot judge".into(),
        }];
    };
    single_writer::check(&log, NAMESPACE, LEASE, history)
        .into_iter()
        .map(|v| Violation {
            oracle: names::SINGLE_WRITER,
            time_us: v.write_time_us.unwrap_or(0),
            event_id: None,
            message: v.to_string(),
        })
        .collect()
}

/// One replica's clock: offset up to 5 s, rate log-uniform in [1/10, 10], and with probability
/// 1/2 a pause of 20 to 40 s starting in the first 30 s.
pub fn draw_skew(rng: &mut impl rand::Rng) -> ClockSkew {
    ClockSkew::draw(
        rng,
        Duration::from_secs(5),
        10.0,
        0.5,
        Duration::from_secs(30),
        Duration::from_secs(40),
    )
}

/// While leading: patch `default/work` every [`WRITE_PERIOD`] of the local clock, fencing first
/// if asked.
async fn write_while_leading(
    lead: Context,
    elector: &LeaderElector,
    cms: &Api<ConfigMap>,
    clock: Arc<dyn Clock>,
    fencing: bool,
) {
    let me = elector.identity().to_string();
    let mut seq = 0u64;
    loop {
        if lead.run(clock.sleep(WRITE_PERIOD)).await.is_err() {
            return;
        }
        if fencing && elector.fence().await.is_err() {
            continue; // deposed: no write; renewal will notice and end the term
        }
        seq += 1;
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some("work".into());
        cm.metadata.annotations = Some([(WRITER_ANNOTATION.to_string(), me.clone())].into());
        cm.data = Some([("seq".to_string(), format!("{me}/{seq}"))].into());
        let write = async {
            match cms
                .patch("work", &PatchParams::default(), &Patch::Merge(&cm))
                .await
            {
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    cms.create(&PostParams::default(), &cm).await.map(|_| ())
                }
                other => other.map(|_| ()),
            }
        };
        let _ = lead.run(write).await;
    }
}

/// Adds replica `i` (host `replica-i`) with clock `skew`.
pub fn add_replica(world: &mut World, i: usize, skew: ClockSkew, fencing: bool) {
    let name = format!("replica-{i}");
    let jitter_seed = world.fork_seed();
    // The replica's own seed is not used (its client always talks to replica 0).
    world.add_controller_seeded(&name, jitter_seed, move |handle| {
        let skew = skew.clone();
        let host = handle.name().to_string();
        async move {
            let client = handle.client_to(Target::Replica(0));
            let clock: Arc<dyn Clock> = Arc::new(SkewedClock::new(skew).with_resolution(TICK));
            let elector = LeaderElector::new(
                Api::<Lease>::namespaced(client.clone(), NAMESPACE),
                LEASE,
                LeaderElectionConfig::new(host.clone()),
                clock.clone(),
                Box::new(ChaCha8Rng::seed_from_u64(jitter_seed)),
            )?
            .observer(handle.observer());
            let cms: Api<ConfigMap> = Api::namespaced(client, NAMESPACE);
            let stop = Context::background();
            run_while_leading(&elector, &stop, |lead| {
                write_while_leading(lead, &elector, &cms, clock.clone(), fencing)
            })
            .await;
            Ok::<(), Box<dyn std::error::Error>>(())
        }
    });
}
