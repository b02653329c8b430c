//! Pipeline storm (docs/design.md, "Benchmarks"): a burst of watch events through
//! the controller runtime's informer, workqueue and a trivial reconcile, inside the simulation.
//!
//! The world: one API server replica (cache lag 0, 1 ms latency, a watch cache buffer and a
//! storage history long enough that the burst never forces a 410 relist), a `writer` client host
//! and a `controller` client host running [`kubesim_controller::Controller`] over
//! `configmaps/storm` with a reconcile that returns at once. The writer creates `KEYS` ConfigMaps,
//! lets the controller sync, then writes `UPDATES` updates straight into storage
//! (`cluster.write(.., |st| st.apply(&req, now))`), `BURST` per simulated millisecond, key
//! `i % KEYS`. It stops the controller once a reconcile has seen the final revision.
//!
//! Reported (pre-pass, then criterion times whole runs): watch events per wall second over the
//! storm (from the first update to the reconcile of the last, wall clock), queue adds, reconciles
//! (the queue folds repeated adds of a pending key into one), the peak number of keys pending in
//! the queue (added and not yet taken), and the process's peak RSS (VmHWM), for 100 and 1,000
//! keys, so the bound (keys, not events) is visible.
//!
//! Run: `cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 3`. Only the
//! pre-pass: add a criterion filter that matches nothing (`-- --bench none`); one row only:
//! `PIPELINE_ROW=1000x100000`.

// det-ok: a benchmark measures wall time; the runs it times see only simulated time.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use criterion::{criterion_group, criterion_main, Criterion};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube::ResourceExt;
use kubesim::api::{ApiRequest, Verb};
use kubesim::apiserver::ClusterConfig;
use kubesim::history::Recorder;
use kubesim::observe::HostObserver;
use kubesim::transport::{self, Target};
use kubesim::world::{World, WorldConfig};
use kubesim_controller::{
    Action, CancelReason, Context, Controller, ControllerConfig, Observer, SharedObserver,
};
use kubesim_model::{EventKind, ResourceType};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The CLI's allocator (`sim/src/main.rs`), so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Updates written per simulated millisecond.
const BURST: u64 = 100;
/// Namespace of the storm.
const NS: &str = "storm";

/// What one storm measured.
#[derive(Debug, Default)]
struct Counts {
    adds: u64,
    gets: u64,
    pending: BTreeSet<String>,
    pending_peak: usize,
    storm_wall: Option<Duration>,
}

/// Counts queue adds and gets and tracks the keys pending in the queue, then forwards every
/// event to the history.
struct Counting {
    counts: Arc<Mutex<Counts>>,
    inner: SharedObserver,
}

impl Observer for Counting {
    fn record(&self, event: EventKind) {
        {
            let mut c = self.counts.lock().expect("not poisoned");
            match &event {
                EventKind::QueueAdd { key, .. } => {
                    c.adds += 1;
                    c.pending.insert(key.clone());
                    c.pending_peak = c.pending_peak.max(c.pending.len());
                }
                EventKind::QueueGet { key, .. } => {
                    c.gets += 1;
                    c.pending.remove(key);
                }
                _ => {}
            }
        }
        self.inner.record(event);
    }
}

fn update(i: u64, keys: u64) -> ApiRequest {
    let name = format!("cm-{}", i % keys);
    ApiRequest::new(
        Verb::Update,
        ResourceType::config_map(),
        Some(NS),
        Some(&name),
    )
    .with_body(json!({"metadata": {"name": name}, "data": {"v": i.to_string()}}))
}

fn create(i: u64) -> ApiRequest {
    let name = format!("cm-{i}");
    ApiRequest::new(Verb::Create, ResourceType::config_map(), Some(NS), None)
        .with_body(json!({"metadata": {"name": name}, "data": {"v": "0"}}))
}

/// Runs one storm of `updates` updates over `keys` ConfigMaps on a thread of its own (a world
/// refuses a thread that already used std's `RandomState`, as criterion's has); returns what it
/// counted.
fn storm(keys: u64, updates: u64) -> Counts {
    kubesim::isolated(|| storm_here(keys, updates))
}

/// [`storm`] on the current thread.
fn storm_here(keys: u64, updates: u64) -> Counts {
    let mut cluster = ClusterConfig {
        watch_cache_capacity: 4 * BURST as usize * 10,
        ..ClusterConfig::default()
    };
    cluster.store.compaction_window = 4 * BURST * 10;
    let config = WorldConfig {
        replicas: 1,
        latency_min: Duration::from_millis(1),
        latency_max: Duration::from_millis(1),
        cache_lags: Some(vec![Duration::ZERO]),
        duration_max: Duration::from_secs(600),
        cluster,
        ..WorldConfig::default()
    };
    let recorder = Recorder::with_retention(false);
    let mut world = World::new(7, config, recorder.clone());
    let counts = Arc::new(Mutex::new(Counts::default()));
    let seen_rv = Arc::new(AtomicU64::new(0));
    let stop = Context::background();

    let (obs_counts, seen, ctl_stop) = (counts.clone(), seen_rv.clone(), stop.clone());
    world.client("controller", async move {
        let client = transport::client("controller", Target::Replica(0), recorder.clone());
        let observer: SharedObserver = Arc::new(Counting {
            counts: obs_counts,
            inner: HostObserver::shared(recorder, "controller"),
        });
        let controller = Controller::new(
            Api::<ConfigMap>::namespaced(client, NS),
            ControllerConfig::default(),
        )
        .observer(observer);
        let reconcile = |o: Arc<ConfigMap>, _ctx: Context, seen: Arc<AtomicU64>| async move {
            let rv: u64 = o
                .resource_version()
                .unwrap_or_default()
                .parse()
                .unwrap_or(0);
            seen.fetch_max(rv, Ordering::Relaxed);
            Ok::<_, std::io::Error>(Action::await_change())
        };
        let policy = |_o: Arc<ConfigMap>, _e: &_, _d: Arc<AtomicU64>| Action::requeue();
        controller.run(reconcile, policy, seen, ctl_stop).await;
        Ok(())
    });

    let (cl, w_counts) = (world.cluster().clone(), counts.clone());
    world.client("writer", async move {
        let now = || kubesim::clock::rfc3339(kubesim::clock::sim_now());
        cl.write("writer", |st| {
            for i in 0..keys {
                st.apply(&create(i), &now()).expect("create");
            }
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
        let started = Instant::now();
        let mut i = 0;
        while i < updates {
            let n = BURST.min(updates - i);
            cl.write("writer", |st| {
                for j in i..i + n {
                    st.apply(&update(j, keys), &now()).expect("update");
                }
            });
            i += n;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let last = cl.state().revision();
        while seen_rv.load(Ordering::Relaxed) < last {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        w_counts.lock().expect("not poisoned").storm_wall = Some(started.elapsed());
        stop.cancel(CancelReason::Shutdown);
        Ok(())
    });
    world.run().expect("the storm run finishes");
    Arc::try_unwrap(counts)
        .map(|m| m.into_inner().expect("not poisoned"))
        .unwrap_or_else(|a| std::mem::take(&mut *a.lock().expect("not poisoned")))
}

/// The process's peak resident set (VmHWM), kB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The storm rows `(keys, updates)`: all three, or the one `PIPELINE_ROW=KEYSxUPDATES` names
/// (for profiling a single row).
fn rows() -> Vec<(u64, u64)> {
    let all = vec![(100, 10_000), (1_000, 10_000), (1_000, 100_000)];
    match std::env::var("PIPELINE_ROW") {
        Ok(row) => all
            .into_iter()
            .filter(|(k, u)| format!("{k}x{u}") == row)
            .collect(),
        Err(_) => all,
    }
}

fn benches(c: &mut Criterion) {
    eprintln!("pre-pass (one run each):");
    for (keys, updates) in rows() {
        let started = Instant::now();
        let counts = storm(keys, updates);
        let total = started.elapsed();
        let storm_wall = counts.storm_wall.expect("the writer timed the storm");
        eprintln!(
            "  keys={keys:>5} updates={updates:>7}: {:>9.0} events per wall s (storm {:.2}s, run {:.2}s) \
             adds={} reconciles={} peak pending keys={} peak RSS={} MiB",
            updates as f64 / storm_wall.as_secs_f64(),
            storm_wall.as_secs_f64(),
            total.as_secs_f64(),
            counts.adds,
            counts.gets,
            counts.pending_peak,
            peak_rss_kb() / 1024
        );
        assert!(
            counts.pending_peak as u64 <= keys,
            "pending keys bounded by keys"
        );
    }
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(10_000));
    g.bench_function("storm keys=1000 updates=10000", |b| {
        b.iter(|| storm(1_000, 10_000))
    });
    g.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
