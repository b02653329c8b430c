//! The in-process driver: each case gets a fresh cluster and one detached API server replica
//! (`Replica::detached`), and its steps go straight to the HTTP handler (`kubesim::http::handle`)
//! as `http::Request`s, on a current-thread tokio runtime with paused time (so watch timeouts and
//! bookmarks run on simulated time only, and nothing waits for the wall clock).

use crate::case::{Case, EventsExpect, Expect, Step, StepKind};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use kubesim::api::StoreConfig;
use kubesim::apiserver::replica::Replica;
use kubesim::apiserver::{Cluster, ClusterConfig};
use kubesim::history::Recorder;
use kubesim_model::ResourceType;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The custom resources every case's server serves besides the built-in types.
pub fn custom_types() -> Vec<ResourceType> {
    vec![
        // Namespaced, with a status subresource.
        ResourceType::custom("example.com", "v1", "Widget", "widgets", true, true),
        // Cluster-scoped, without a status subresource.
        ResourceType::custom("example.com", "v1", "Gadget", "gadgets", false, false),
    ]
}

/// The cluster settings of every case: a watch cache of 20 events and storage that compacts
/// beyond 50 revisions, so cases can reach both limits with a few writes.
pub fn cluster_config() -> ClusterConfig {
    ClusterConfig {
        store: StoreConfig {
            compaction_window: 50,
            max_body_bytes: 64 * 1024,
            ..StoreConfig::default()
        },
        watch_cache_capacity: 20,
        ..ClusterConfig::default()
    }
}

/// Runs one case; `Err` says which step failed and how.
pub fn run(case: &Case) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, run_steps(case))
}

type Watches = BTreeMap<u32, tokio::task::JoinHandle<(u16, String)>>;

async fn run_steps(case: &Case) -> Result<(), String> {
    let cluster = Cluster::new(cluster_config(), Recorder::with_retention(false));
    {
        let mut st = cluster.state();
        for t in custom_types() {
            st.register(t);
        }
    }
    let replica = Replica::detached(cluster.clone(), "apiserver-0".into(), Duration::ZERO);
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut watches: Watches = BTreeMap::new();
    let mut conn = 0;
    for (i, step) in case.steps.iter().enumerate() {
        conn += 1;
        let at = |e: String| format!("step {} ({} {}): {e}", i + 1, step.method, step.path);
        match &step.kind {
            StepKind::Request => {
                let (code, body) = send(&replica, conn, step, &vars).await.map_err(at)?;
                check(&step.expect, code, &body, &vars).map_err(at)?;
                save(step, &body, &mut vars).map_err(at)?;
            }
            StepKind::WatchStart(id) => {
                let req = request(step, &vars).map_err(at)?;
                let replica = replica.clone();
                let handle = tokio::task::spawn_local(async move {
                    let resp = kubesim::http::handle(&replica, conn, req).await;
                    let code = resp.status().as_u16();
                    let bytes = match resp.into_body().collect().await {
                        Ok(c) => c.to_bytes(),
                        Err(never) => match never {},
                    };
                    (code, String::from_utf8_lossy(&bytes).into_owned())
                });
                watches.insert(*id, handle);
            }
            StepKind::WatchEnd(id) => {
                let handle = watches
                    .remove(id)
                    .ok_or_else(|| at(format!("no watch {id} was started")))?;
                let (code, text) = handle.await.map_err(|e| at(format!("watch task: {e}")))?;
                if let Some(want) = step.expect.code {
                    if want != code {
                        return Err(at(format!("code {code}, expected {want}: {text}")));
                    }
                }
                if let Some(ev) = &step.events {
                    check_events(ev, &text, &vars).map_err(at)?;
                }
            }
            StepKind::Gc => {
                cluster.write("gc", |s| s.collect_garbage("2026-01-01T00:00:00Z"));
            }
            StepKind::Compact => {
                let rev = cluster.state().revision();
                cluster.compact("test", rev);
            }
            StepKind::Sleep(d) => tokio::time::sleep(*d).await,
        }
        // Let the watch cache pump catch up with storage before the next step.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for (id, handle) in watches {
        handle.abort();
        let _ = id;
    }
    Ok(())
}

/// `$name` in `text` replaced by the saved variable `name` (longest names first).
pub fn substitute(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in vars.iter().rev() {
        out = out.replace(&format!("${k}"), v);
    }
    out
}

fn request(
    step: &Step,
    vars: &BTreeMap<String, String>,
) -> Result<http::Request<Full<Bytes>>, String> {
    let path = substitute(&step.path, vars);
    let body = step
        .body
        .as_ref()
        .map(|b| substitute(b, vars))
        .unwrap_or_default();
    let mut b = http::Request::builder()
        .method(step.method.clone())
        .uri(path);
    if let Some(ct) = step.content_type {
        b = b.header(http::header::CONTENT_TYPE, ct);
    }
    b.body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("bad request: {e}"))
}

async fn send(
    replica: &Arc<Replica>,
    conn: u64,
    step: &Step,
    vars: &BTreeMap<String, String>,
) -> Result<(u16, Value), String> {
    let req = request(step, vars)?;
    let resp = kubesim::http::handle(replica, conn, req).await;
    let code = resp.status().as_u16();
    let bytes = match resp.into_body().collect().await {
        Ok(c) => c.to_bytes(),
        Err(never) => match never {},
    };
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "response is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    })?;
    Ok((code, body))
}

fn expected(v: &Value, vars: &BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) => Value::String(substitute(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| expected(x, vars)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), expected(x, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn check(
    want: &Expect,
    code: u16,
    body: &Value,
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    match want.code {
        Some(c) if c != code => {
            return Err(format!("code {code}, expected {c}: {body}"));
        }
        None if !(200..300).contains(&code) => {
            return Err(format!("set-up step failed with {code}: {body}"));
        }
        _ => {}
    }
    check_fields(want, body, vars)
}

fn check_fields(
    want: &Expect,
    body: &Value,
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    for (ptr, v) in &want.fields {
        let ptr = substitute(ptr, vars);
        let v = expected(v, vars);
        match body.pointer(&ptr) {
            Some(got) if *got == v => {}
            Some(got) => return Err(format!("{ptr} is {got}, expected {v}; body {body}")),
            None => return Err(format!("{ptr} is absent, expected {v}; body {body}")),
        }
    }
    for ptr in &want.absent {
        if let Some(got) = body.pointer(ptr) {
            return Err(format!("{ptr} is {got}, expected it absent; body {body}"));
        }
    }
    for (ptr, var) in &want.differs {
        let var_value = vars.get(*var).cloned().unwrap_or_default();
        match body.pointer(ptr) {
            Some(Value::String(s)) if *s != var_value => {}
            other => {
                return Err(format!(
                    "{ptr} is {other:?}, expected it to differ from ${var}"
                ))
            }
        }
    }
    for (ptr, var) in &want.num_gt {
        let var_value: u64 = vars
            .get(*var)
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        let got = body
            .pointer(ptr)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok());
        match got {
            Some(g) if g > var_value => {}
            other => {
                return Err(format!(
                    "{ptr} is {other:?}, expected it above ${var}={var_value}"
                ))
            }
        }
    }
    if let Some(n) = want.items {
        let got = body
            .pointer("/items")
            .and_then(Value::as_array)
            .map(Vec::len);
        if got != Some(n) {
            return Err(format!("{got:?} items, expected {n}; body {body}"));
        }
    }
    Ok(())
}

fn save(step: &Step, body: &Value, vars: &mut BTreeMap<String, String>) -> Result<(), String> {
    for (ptr, var) in &step.save {
        let v = match body.pointer(ptr) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return Err(format!("cannot save {ptr}: absent in {body}")),
        };
        vars.insert((*var).to_string(), v);
    }
    Ok(())
}

fn check_events(
    want: &EventsExpect,
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    let mut events = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("watch line is not JSON ({e}): {line}"))?;
        events.push(v);
    }
    let types: Vec<String> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("?").to_string())
        .collect();
    if let Some(t) = &want.types {
        if types != *t {
            return Err(format!("events {types:?}, expected {t:?}: {text}"));
        }
    }
    for (i, e) in &want.each {
        let ev = if *i < 0 {
            events
                .len()
                .checked_sub(i.unsigned_abs() as usize)
                .and_then(|j| events.get(j))
        } else {
            events.get(*i as usize)
        };
        let ev = ev.ok_or_else(|| format!("no event {i} in {types:?}"))?;
        check_fields(e, ev, vars).map_err(|m| format!("event {i}: {m}"))?;
    }
    Ok(())
}
