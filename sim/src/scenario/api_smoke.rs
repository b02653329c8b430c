//! `api-smoke`: two API server replicas, three clients writing the same ConfigMaps concurrently
//! (create, read-modify-write update, merge and JSON patch, delete, a finalizer held and released)
//! and one of them watching, all through real `kube::Api` calls with seeded latencies, cache lags
//! and think times. It holds when every watch stream is ordered.

use super::{Expectation, Scenario};
use crate::history::Recorder;
use crate::oracle::{self, Violation};
use crate::transport::{self, Target};
use crate::world::{World, WorldConfig};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::ResourceExt;
use kubesim_model::HistoryEvent;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::time::Duration;

/// Operations each writing client performs.
const OPS_PER_CLIENT: usize = 25;
/// Distinct ConfigMap names the clients contend on.
const KEYS: usize = 4;
/// How long the watching client watches.
const WATCH_FOR: Duration = Duration::from_secs(20);

/// The scenario.
pub fn scenario() -> Scenario {
    Scenario {
        name: "api-smoke",
        summary: "2 API server replicas, 3 clients: concurrent creates/updates/patches/deletes and a watch",
        expectation: Expectation::Holds,
        seeds: 50,
        config,
        setup,
        check,
        heal_at: None,
    }
}

fn config(rng: &mut ChaCha8Rng) -> WorldConfig {
    WorldConfig {
        replicas: 2,
        latency_min: Duration::from_micros(rng.random_range(100..=2_000)),
        latency_max: Duration::from_millis(rng.random_range(3..=40)),
        cache_lag_max: Duration::from_millis(rng.random_range(0..=300)),
        duration_max: Duration::from_secs(120),
        // Fine-grained: this scenario is about interleaving concurrent writes at 1-40 ms latency.
        tick: Duration::from_millis(1),
        ..WorldConfig::default()
    }
}

fn setup(world: &mut World) {
    let replicas = world.replicas().len();
    for i in 0..3 {
        let name = format!("client-{i}");
        let seed = world.fork_seed();
        let target = if i == 0 {
            Target::Replica(0)
        } else {
            Target::Any {
                replicas,
                seed: world.fork_seed(),
            }
        };
        let recorder = world.recorder().clone();
        world.client(&name.clone(), async move {
            let client = transport::client(&name, target, recorder.clone());
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            if i == 2 {
                let watching = watch(client.clone(), &name, &recorder);
                futures::join!(watching, write(client, &name, &recorder, &mut rng));
            } else {
                write(client, &name, &recorder, &mut rng).await;
            }
            Ok(())
        });
    }
}

fn check(_world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    // No watch here uses a label or field selector: every stream is judged on its whole target.
    let mut out = oracle::watch_guarantees(history, &[]);
    out.extend(oracle::no_hot_loop(history, oracle::HotLoop::default()));
    out
}

/// The outcome of a call in the client's own words, for the history.
fn outcome<T: kube::Resource>(r: &Result<T, kube::Error>) -> String {
    match r {
        Ok(o) => format!("ok rv={}", o.resource_version().unwrap_or_default()),
        Err(kube::Error::Api(s)) => format!("err {} {}", s.code, s.reason),
        Err(e) => format!("err {}", error_kind(e)),
    }
}

/// A stable, address-free description of a non-API error.
fn error_kind(e: &kube::Error) -> &'static str {
    match e {
        kube::Error::HyperError(_) | kube::Error::Service(_) => "transport",
        kube::Error::SerdeError(_) => "decode",
        _ => "other",
    }
}

async fn write(client: kube::Client, host: &str, rec: &Recorder, rng: &mut ChaCha8Rng) {
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for _ in 0..OPS_PER_CLIENT {
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..200))).await;
        let name = format!("cm-{}", rng.random_range(0..KEYS));
        let value = rng.random_range(0..1000u32).to_string();
        let op = rng.random_range(0..7);
        let line = match op {
            0 => {
                let mut cm = ConfigMap::default();
                cm.metadata.name = Some(name.clone());
                cm.data = Some([("v".to_string(), value)].into());
                format!(
                    "create {name} {}",
                    outcome(&api.create(&PostParams::default(), &cm).await)
                )
            }
            1 => match api.get(&name).await {
                Ok(mut cm) => {
                    cm.data.get_or_insert_default().insert("v".into(), value);
                    format!(
                        "update {name} {}",
                        outcome(&api.replace(&name, &PostParams::default(), &cm).await)
                    )
                }
                Err(e) => format!("update {name} get {}", outcome::<ConfigMap>(&Err(e))),
            },
            2 => {
                let patch = Patch::Merge(json!({ "data": { "m": value } }));
                format!(
                    "merge-patch {name} {}",
                    outcome(&api.patch(&name, &PatchParams::default(), &patch).await)
                )
            }
            3 => {
                let patch: json_patch::Patch = serde_json::from_value(json!([
                    { "op": "add", "path": "/metadata/labels", "value": { "j": value } }
                ]))
                .expect("invariant: a literal JSON patch parses");
                format!(
                    "json-patch {name} {}",
                    outcome(
                        &api.patch(&name, &PatchParams::default(), &Patch::Json::<()>(patch))
                            .await
                    )
                )
            }
            4 => {
                let r = api.delete(&name, &DeleteParams::default()).await;
                match r {
                    Ok(_) => format!("delete {name} ok"),
                    Err(e) => format!("delete {name} {}", outcome::<ConfigMap>(&Err(e))),
                }
            }
            5 => {
                let patch =
                    Patch::Merge(json!({ "metadata": { "finalizers": ["kubesim.io/hold"] } }));
                format!(
                    "hold {name} {}",
                    outcome(&api.patch(&name, &PatchParams::default(), &patch).await)
                )
            }
            _ => {
                let patch = Patch::Merge(json!({ "metadata": { "finalizers": null } }));
                format!(
                    "release {name} {}",
                    outcome(&api.patch(&name, &PatchParams::default(), &patch).await)
                )
            }
        };
        rec.note(host, line);
    }
    let listed = api.list(&ListParams::default()).await;
    match listed {
        Ok(l) => {
            let names: Vec<String> = l.items.iter().map(|c| c.name_any()).collect();
            rec.note(host, format!("list ok [{}]", names.join(",")));
        }
        Err(e) => {
            rec.note(host, format!("list {}", outcome::<ConfigMap>(&Err(e))));
        }
    }
}

/// Lists, then watches from the list's resourceVersion, re-watching when a stream ends, for
/// [`WATCH_FOR`], noting every event.
async fn watch(client: kube::Client, host: &str, rec: &Recorder) {
    {
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let deadline = tokio::time::Instant::now() + WATCH_FOR; // det-ok: tokio::time::Instant, the host's simulated clock
        let mut rv = match api.list(&ListParams::default()).await {
            Ok(l) => l.metadata.resource_version.unwrap_or_default(),
            Err(_) => "0".to_string(),
        };
        // det-ok: tokio::time::Instant, the host's simulated clock
        while tokio::time::Instant::now() < deadline {
            let wp = WatchParams::default().timeout(5);
            let stream = match api.watch(&wp, &rv).await {
                Ok(s) => s,
                Err(e) => {
                    rec.note(host, format!("watch {}", outcome::<ConfigMap>(&Err(e))));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            let mut stream = std::pin::pin!(stream);
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(WatchEvent::Added(o))
                    | Ok(WatchEvent::Modified(o))
                    | Ok(WatchEvent::Deleted(o)) => {
                        let new_rv = o.resource_version().unwrap_or_default();
                        rec.note(host, format!("saw {} rv={new_rv}", o.name_any()));
                        rv = new_rv;
                    }
                    Ok(WatchEvent::Bookmark(b)) => rv = b.metadata.resource_version,
                    Ok(WatchEvent::Error(e)) => {
                        rec.note(host, format!("watch error {} {}", e.code, e.reason));
                        rv = "0".to_string();
                        break;
                    }
                    Err(e) => {
                        rec.note(host, format!("watch stream {}", error_kind(&e)));
                        break;
                    }
                }
            }
        }
    }
}
