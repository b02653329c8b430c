//! API server benchmarks: the pure core and the HTTP path inside the
//! simulation.
//!
//! - `core/*`: [`ApiState::apply`] on one core, no I/O. `create` and `update` (of a ConfigMap
//!   with the current resourceVersion and a changed `data` value, so every call commits a
//!   revision) report writes per second; `get` reads per second; `list` lists 1,000 ConfigMaps
//!   from storage (resourceVersion unset) and from a [`WatchCache`] (resourceVersion "0") and
//!   reports listed objects per second; `watch-fanout` makes one update, advances the watch cache
//!   to it and polls 100 [`WatchCursor`]s, reporting events delivered per second (one write per
//!   100 events). Each write also takes the pending commits, as the cluster does after every
//!   write (`Cluster::publish_commits`), so the commit list stays bounded.
//! - `http/*`: a turmoil world with one API server replica and one client host holding a real
//!   `kube::Client`, doing `REQUESTS` sequential `Api::<ConfigMap>::get` (or `replace`) calls;
//!   reports requests per wall second for several `WorldConfig { tick, latency_min, latency_max }`
//!   settings. Before timing, each setting runs once and prints how many turmoil ticks (steps)
//!   one request takes, which is what the wall cost scales with.
//!
//! Run: `cargo bench --bench api -- --warm-up-time 1 --measurement-time 3`
//! (one group: `cargo bench --bench api -- core/` or `-- http/`).

// Benches measure wall time on purpose; clippy.toml bans the wall clock for library code only.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kubesim::api::{ApiRequest, ApiState, StoreConfig, Verb, WatchCache, WatchCursor};
use kubesim::history::Recorder;
use kubesim::transport::{self, Target};
use kubesim::world::{World, WorldConfig};
use kubesim_model::ResourceType;
use serde_json::{json, Value};

/// The CLI's allocator (`sim/src/main.rs`), so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The simulated time every core request uses.
const NOW: &str = "2024-01-01T00:00:00Z";
/// Objects created per untimed reset in `core/create` (bounds memory; the store never holds more).
const CREATE_CHUNK: u64 = 10_000;
/// Objects in the store for `update`, `get` and `list`.
const OBJECTS: usize = 1_000;
/// Watchers in `watch-fanout`.
const WATCHERS: usize = 100;
/// Sequential requests per simulated run in `http/*`.
const REQUESTS: u64 = 1_000;

fn state() -> ApiState {
    // The default compaction window (1,000 revisions), as a run uses.
    ApiState::new(StoreConfig::default())
}

fn name(i: usize) -> String {
    format!("cm-{i:05}")
}

fn create_request(name: &str) -> ApiRequest {
    ApiRequest::new(
        Verb::Create,
        ResourceType::config_map(),
        Some("default"),
        None,
    )
    .with_body(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "data": {"k": "v"},
    }))
}

/// A state holding `n` ConfigMaps `cm-00000..`, and their stored objects.
fn populated(n: usize) -> (ApiState, Vec<Value>) {
    let mut s = state();
    let objects = (0..n)
        .map(|i| s.apply(&create_request(&name(i)), NOW).expect("created"))
        .map(std::sync::Arc::unwrap_or_clone)
        .collect();
    s.take_commits();
    (s, objects)
}

/// Update requests for `objects`: the stored object with a changed `data.k`, so the update is
/// written. Their bodies carry the stored resourceVersion; [`bump`] keeps them current.
fn update_requests(objects: &[Value]) -> Vec<ApiRequest> {
    objects
        .iter()
        .map(|o| {
            let name = o["metadata"]["name"].as_str().expect("named");
            ApiRequest::new(
                Verb::Update,
                ResourceType::config_map(),
                Some("default"),
                Some(name),
            )
            .with_body(o.clone())
        })
        .collect()
}

/// Points `req` at the object's new resourceVersion `rv` and changes its data to `n`.
fn bump(req: &mut ApiRequest, rv: Value, n: u64) {
    let body = req.body.as_mut().expect("update requests have a body");
    body["metadata"]["resourceVersion"] = rv;
    body["data"]["k"] = Value::String(n.to_string());
}

fn bench_core(c: &mut Criterion) {
    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(1));

    g.bench_function("create", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = CREATE_CHUNK.min(iters - done);
                let mut s = state();
                let reqs: Vec<ApiRequest> =
                    (0..n as usize).map(|i| create_request(&name(i))).collect();
                let start = Instant::now();
                for r in &reqs {
                    black_box(s.apply(r, NOW).expect("created"));
                    black_box(s.take_commits());
                }
                elapsed += start.elapsed();
                done += n;
            }
            elapsed
        })
    });

    g.bench_function("update", |b| {
        let (mut s, objects) = populated(OBJECTS);
        let mut reqs = update_requests(&objects);
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            let req = &mut reqs[n as usize % OBJECTS];
            let req_rv = req.body.as_ref().expect("body")["metadata"]["resourceVersion"].clone();
            bump(req, req_rv, n);
            let stored = s.apply(req, NOW).expect("updated");
            black_box(s.take_commits());
            bump(req, stored["metadata"]["resourceVersion"].clone(), n);
            stored
        })
    });

    g.bench_function("get", |b| {
        let (mut s, _) = populated(OBJECTS);
        let reqs: Vec<ApiRequest> = (0..OBJECTS)
            .map(|i| {
                ApiRequest::new(
                    Verb::Get,
                    ResourceType::config_map(),
                    Some("default"),
                    Some(&name(i)),
                )
            })
            .collect();
        let mut n = 0;
        b.iter(|| {
            n = (n + 1) % OBJECTS;
            s.apply(&reqs[n], NOW).expect("found")
        })
    });

    g.throughput(Throughput::Elements(OBJECTS as u64));
    let (mut s, _) = populated(OBJECTS);
    let list = ApiRequest::new(
        Verb::List,
        ResourceType::config_map(),
        Some("default"),
        None,
    );
    g.bench_function("list-1000/storage", |b| {
        b.iter(|| s.apply(&list, NOW).expect("listed"))
    });
    let cache = WatchCache::new(&s, 1_000);
    let mut list0 = list.clone();
    list0.list.resource_version = Some("0".into());
    g.bench_function("list-1000/cache", |b| {
        b.iter(|| cache.list(&list0).expect("listed"))
    });

    g.throughput(Throughput::Elements(WATCHERS as u64));
    g.bench_function("watch-fanout-100/events", |b| {
        let (mut s, objects) = populated(OBJECTS);
        let mut reqs = update_requests(&objects);
        let mut cache = WatchCache::new(&s, 1_000);
        let mut watch = ApiRequest::new(
            Verb::Watch,
            ResourceType::config_map(),
            Some("default"),
            None,
        );
        watch.list.resource_version = Some(s.revision().to_string());
        let mut cursors: Vec<WatchCursor> = (0..WATCHERS)
            .map(|_| cache.open(&watch).expect("opened").0)
            .collect();
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            let req = &mut reqs[n as usize % OBJECTS];
            let req_rv = req.body.as_ref().expect("body")["metadata"]["resourceVersion"].clone();
            bump(req, req_rv, n);
            let stored = s.apply(req, NOW).expect("updated");
            black_box(s.take_commits());
            bump(req, stored["metadata"]["resourceVersion"].clone(), n);
            cache.advance(&s, s.revision());
            for cursor in &mut cursors {
                let events = cache.poll(cursor).expect("polled");
                assert_eq!(events.len(), 1, "each watcher sees the one write");
                black_box(events);
            }
        })
    });
    g.finish();
}

/// A world settings row of the `http/*` table.
struct Setting {
    label: &'static str,
    tick: Duration,
    latency_min: Duration,
    latency_max: Duration,
}

const SETTINGS: &[Setting] = &[
    Setting {
        label: "tick1ms-lat1-10ms",
        tick: Duration::from_millis(1),
        latency_min: Duration::from_millis(1),
        latency_max: Duration::from_millis(10),
    },
    Setting {
        label: "tick1ms-lat0",
        tick: Duration::from_millis(1),
        latency_min: Duration::ZERO,
        latency_max: Duration::ZERO,
    },
    Setting {
        label: "tick10ms-lat0",
        tick: Duration::from_millis(10),
        latency_min: Duration::ZERO,
        latency_max: Duration::ZERO,
    },
];

#[derive(Clone, Copy)]
enum Call {
    Get,
    Replace,
}

/// A world with one replica and a client doing `REQUESTS` sequential calls, ready to run.
fn http_world(s: &Setting, call: Call) -> World {
    let config = WorldConfig {
        replicas: 1,
        latency_min: s.latency_min,
        latency_max: s.latency_max,
        cache_lags: Some(vec![Duration::ZERO]),
        tick: s.tick,
        duration_max: Duration::from_secs(24 * 3600),
        ..WorldConfig::default()
    };
    let mut w = World::new(1, config, Recorder::new());
    let recorder = w.recorder().clone();
    w.client("client", async move {
        let client = transport::client("client", Target::Replica(0), recorder);
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some("bench".into());
        cm.data = Some([("k".to_string(), "0".to_string())].into());
        let mut cm = api.create(&PostParams::default(), &cm).await?;
        for n in 0..REQUESTS {
            match call {
                Call::Get => {
                    black_box(api.get("bench").await?);
                }
                Call::Replace => {
                    cm.data = Some([("k".to_string(), n.to_string())].into());
                    cm = api.replace("bench", &PostParams::default(), &cm).await?;
                }
            }
        }
        Ok(())
    });
    w
}

fn bench_http(c: &mut Criterion) {
    let mut g = c.benchmark_group("http");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.throughput(Throughput::Elements(REQUESTS));
    for s in SETTINGS {
        for (call, call_name) in [(Call::Get, "get"), (Call::Replace, "replace")] {
            // One untimed run: how many ticks (turmoil steps) a request costs.
            let mut w = http_world(s, call);
            w.run().expect("the run finishes");
            let ticks = w.elapsed().as_nanos() / s.tick.as_nanos();
            println!(
                "http/{call_name}/{}: {:.1} ticks per request, {} history events",
                s.label,
                ticks as f64 / REQUESTS as f64,
                w.recorder().events().len(),
            );
            g.bench_function(format!("{call_name}/{}", s.label), |b| {
                b.iter_custom(|iters| {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iters {
                        let mut w = http_world(s, call);
                        let start = Instant::now();
                        w.run().expect("the run finishes");
                        elapsed += start.elapsed();
                        black_box(w);
                    }
                    elapsed
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_core, bench_http);
criterion_main!(benches);
