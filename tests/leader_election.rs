//! Leader election on Leases with client-go's algorithm, in the simulation: failover after a
//! crash, a partitioned leader stepping down in time, split brain under clock-rate skew and
//! process pauses (caught by the single-writer oracle), and fencing removing it.
//!
//! Each replica is a turmoil client host running a [`LeaderElector`] with client-go's default
//! durations (15 s / 10 s / 2 s) and, while leading, a writer that patches ConfigMap
//! `default/work` every 500 ms of its local clock, naming itself in
//! [`WRITER_ANNOTATION`]. Storage keeps its whole commit log (`compaction_window: 0`) so the
//! oracle ([`kubesim::oracle::single_writer::check`]) can walk every lease update and write.

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use kubesim::api::StoreConfig;
use kubesim::apiserver::ClusterConfig;
use kubesim::faults::clockskew::ClockSkew;
use kubesim::history::{self, Recorder};
use kubesim::oracle::single_writer::{self, Violation};
use kubesim::scenario::split_brain::{add_replica, draw_skew};
use kubesim::transport::{self, Target};
use kubesim::world::{World, WorldConfig};
use kubesim_controller::leader::{LeaderElectionConfig, LeaderElector};
use kubesim_controller::ConfigError;
use kubesim_model::{EventKind, HistoryEvent};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Duration;

const LEASE: &str = "lead";
const NAMESPACE: &str = "default";
const LEASE_DURATION: Duration = Duration::from_secs(15);
const RETRY_PERIOD: Duration = Duration::from_secs(2);
/// turmoil's tick; replica clocks wake on tick boundaries.
const TICK: Duration = Duration::from_millis(10);

fn world(seed: u64) -> World {
    let config = WorldConfig {
        replicas: 1,
        latency_min: Duration::from_millis(1),
        latency_max: Duration::from_millis(5),
        cache_lags: Some(vec![Duration::ZERO]),
        // A 10 ms tick keeps 1,000 seeds of 60 simulated seconds within the test budget.
        tick: TICK,
        time: Default::default(),
        duration_max: Duration::from_secs(3600),
        cache_lag_max: Duration::ZERO,
        cluster: ClusterConfig {
            store: StoreConfig {
                compaction_window: 0,
                ..StoreConfig::default()
            },
            ..ClusterConfig::default()
        },
    };
    World::new(seed, config, Recorder::new())
}

fn replica_name(i: usize) -> String {
    format!("replica-{i}")
}

fn step_until(world: &mut World, t: Duration) {
    if let Err(e) = world.run_until(t) {
        let events = world.recorder().events();
        let tail = &events[events.len().saturating_sub(30)..];
        panic!(
            "seed {}: run failed: {e}\n{}",
            world.seed(),
            history::to_text(tail)
        );
    }
}

/// `(time, host)` of every lease event whose text starts with `verb`.
fn lease_events(events: &[HistoryEvent], verb: &str) -> Vec<(Duration, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Lease { text, .. } if text.starts_with(verb) => {
                Some((Duration::from_micros(e.time_us), e.host.clone()))
            }
            _ => None,
        })
        .collect()
}

fn oracle(world: &World) -> Vec<Violation> {
    let log = world
        .cluster()
        .state()
        .log_since(0)
        .expect("invariant: nothing is compacted with compaction_window 0");
    single_writer::check(&log, NAMESPACE, LEASE, &world.recorder().events())
}

/// Three exact replicas; the leader is crashed at `crash_at`. Returns the world run to
/// `crash_at + 40 s`, the crashed leader and the crash time.
fn failover(seed: u64, crash_at: Duration) -> (World, String) {
    let mut w = world(seed);
    for i in 0..3 {
        add_replica(&mut w, i, ClockSkew::exact(), false);
    }
    step_until(&mut w, crash_at);
    let leader = lease_events(&w.recorder().events(), "acquired")
        .last()
        .map(|(_, h)| h.clone())
        .expect("a leader was elected before the crash");
    w.recorder().set_harness_time(w.elapsed());
    w.recorder().record(
        "sim",
        EventKind::Crash {
            target: leader.clone(),
        },
    );
    w.crash(leader.as_str());
    step_until(&mut w, crash_at + Duration::from_secs(40));
    (w, leader)
}

#[test]
fn a_new_leader_acquires_within_the_lease_duration_and_two_jittered_retries_after_a_crash() {
    // Bound: the winner's last observation of the old record is at most one jittered retry
    // (2.2 x RetryPeriod) after the crash, and it takes over at its first poll after a full
    // LeaseDuration from that observation: LeaseDuration + 2 x 2.2 x RetryPeriod. The tighter
    // LeaseDuration + 2.2 x RetryPeriod of the issue holds from the winner's last observation;
    // the test reports how many seeds also met it counted from the crash.
    let jittered = RETRY_PERIOD.mul_f64(2.2);
    let bound = LEASE_DURATION + jittered * 2 + Duration::from_millis(100);
    let (mut tight, mut worst) = (0, Duration::ZERO);
    let seeds = 20;
    for seed in 0..seeds {
        kubesim::isolated(|| {
            let crash_at = Duration::from_secs(20);
            let (w, old) = failover(seed, crash_at);
            let events = w.recorder().events();
            let (t, new) = lease_events(&events, "acquired")
                .into_iter()
                .find(|(t, h)| *t > crash_at && *h != old)
                .unwrap_or_else(|| panic!("seed {seed}: no new leader after {old} crashed"));
            let took = t - crash_at;
            assert!(
                took <= bound,
                "seed {seed}: {new} acquired {took:?} after {old} crashed (bound {bound:?})"
            );
            assert!(
                took >= LEASE_DURATION - jittered,
                "seed {seed}: {new} took over after {took:?}, before the lease could expire"
            );
            worst = worst.max(took);
            tight += usize::from(took <= LEASE_DURATION + jittered);
            assert!(oracle(&w).is_empty(), "seed {seed}: {:?}", oracle(&w));
        });
    }
    println!(
        "failover over {seeds} seeds: worst {worst:?}; within LeaseDuration + 2.2 x RetryPeriod \
         of the crash: {tight}/{seeds}"
    );
}

#[test]
fn a_partitioned_leader_stops_leading_before_another_replica_acquires() {
    for seed in 0..10 {
        kubesim::isolated(|| {
            let mut w = world(seed);
            for i in 0..3 {
                add_replica(&mut w, i, ClockSkew::exact(), false);
            }
            let cut_at = Duration::from_secs(20);
            step_until(&mut w, cut_at);
            let leader = lease_events(&w.recorder().events(), "acquired")
                .last()
                .map(|(_, h)| h.clone())
                .expect("a leader before the partition");
            let apiservers = w.replicas().to_vec();
            w.recorder().set_harness_time(w.elapsed());
            w.recorder().record(
                "sim",
                EventKind::Fault {
                    text: format!("partition {leader} from apiservers"),
                },
            );
            for a in &apiservers {
                w.partition(leader.as_str(), a.as_str());
            }
            step_until(&mut w, cut_at + Duration::from_secs(40));
            let events = w.recorder().events();
            let lost = lease_events(&events, "lost")
                .into_iter()
                .find(|(t, h)| *t > cut_at && *h == leader)
                .unwrap_or_else(|| panic!("seed {seed}: {leader} never stopped leading"))
                .0;
            let acquired = lease_events(&events, "acquired")
                .into_iter()
                .find(|(t, h)| *t > cut_at && *h != leader)
                .unwrap_or_else(|| panic!("seed {seed}: nobody took over from {leader}"))
                .0;
            assert!(
                lost < acquired,
                "seed {seed}: {leader} stopped leading at {lost:?}, after the takeover at {acquired:?}"
            );
            assert!(oracle(&w).is_empty(), "seed {seed}: {:?}", oracle(&w));
        });
    }
}

/// The fault plan of split-brain seed `seed`: each replica's clock drawn from the seed (offset
/// up to 5 s, rate log-uniform in [0.1, 10], a pause of 20..40 s with probability 1/2).
fn skew_plan(seed: u64) -> Vec<ClockSkew> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c10c);
    (0..3).map(|_| draw_skew(&mut rng)).collect()
}

fn run_skewed(seed: u64, fencing: bool) -> Vec<Violation> {
    let mut w = world(seed);
    for (i, skew) in skew_plan(seed).into_iter().enumerate() {
        add_replica(&mut w, i, skew, fencing);
    }
    step_until(&mut w, Duration::from_secs(60));
    oracle(&w)
}

#[test]
fn clock_skew_and_pauses_cause_a_split_brain_the_single_writer_oracle_catches_within_200_seeds() {
    let caught = (0..200u64).find_map(|seed| {
        let v = kubesim::isolated(|| run_skewed(seed, false));
        v.first().map(|first| (seed, first.clone(), v.len()))
    });
    let (seed, first, count) = caught.expect("a split brain within 200 seeds");
    println!(
        "first split brain at seed {seed} ({count} stale writes); plan: {}\n{first}",
        skew_plan(seed)
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}: {s}", replica_name(i)))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

/// Seeds the fencing sweep covers. 1,000 in the issue; fewer here to keep the suite's budget
/// (set `KUBESIM_FENCING_SEEDS` for the full sweep).
fn fencing_seeds() -> u64 {
    std::env::var("KUBESIM_FENCING_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

#[test]
fn fencing_keeps_the_single_writer_oracle_clean_under_the_seeds_that_break_plain_mode() {
    let seeds = fencing_seeds();
    let mut broken_plain = 0;
    for seed in 0..seeds {
        kubesim::isolated(|| {
            let v = run_skewed(seed, true);
            assert!(
                v.is_empty(),
                "seed {seed} with fencing: {}\nplan: {:?}",
                v[0],
                skew_plan(seed)
            );
            if seed < 200 && !kubesim::isolated(|| run_skewed(seed, false)).is_empty() {
                broken_plain += 1;
            }
        });
    }
    assert!(
        broken_plain > 0,
        "the sweep includes seeds that break plain mode"
    );
    println!("fencing clean over {seeds} seeds; {broken_plain} of them break plain mode");
}

#[test]
fn a_renew_deadline_not_shorter_than_the_lease_duration_is_rejected_with_a_clear_error() {
    let mut w = world(1);
    let recorder = w.recorder().clone();
    w.client("replica-0", async move {
        let client = transport::client("replica-0", Target::Replica(0), recorder);
        let mut config = LeaderElectionConfig::new("replica-0");
        config.renew_deadline = Duration::from_secs(20);
        let made = LeaderElector::new(
            Api::<Lease>::namespaced(client, NAMESPACE),
            LEASE,
            config,
            Arc::new(kubesim_controller::TokioClock::default()),
            Box::new(ChaCha8Rng::seed_from_u64(0)),
        );
        let err = made.err().expect("an invalid config is rejected");
        assert!(matches!(
            err,
            ConfigError::LeaseNotLongerThanRenewDeadline { .. }
        ));
        assert_eq!(
            err.to_string(),
            "leaseDuration (15s) must be greater than renewDeadline (20s): otherwise a candidate \
             may take the lease over while the old leader still acts as leader"
        );
        Ok(())
    });
    w.run().expect("the check runs");
}

#[test]
fn the_history_of_a_failover_is_pinned() {
    let (w, _) = failover(7, Duration::from_secs(10));
    let lines: Vec<HistoryEvent> = w
        .recorder()
        .events()
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Lease { .. } | EventKind::Crash { .. } | EventKind::Fault { .. }
            )
        })
        .collect();
    insta::assert_snapshot!("failover_seed_7", history::to_text(&lines));
}
