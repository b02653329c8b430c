//! The page's data: a history flattened into interned tables and one row per event.
//!
//! The page reads one JSON object (see [`Model`]). Each event is a row
//! `[id, time_us, host, peer, partner, resource, key, type, text, fields]` where `host`, `peer`
//! index [`Model::hosts`], `resource`, `key` and `type` index their tables, `partner` is the row
//! of the event at the other end of the same exchange (a request and its response, a watch's
//! open and close, a reconcile's begin and end, a crash and the restart), and `-1` means none.
//! `text` is the event's stable text form and `fields` its JSON form without the nulls.
//! Rows, not ids, are what the page links by, so any slice of a history works.

use crate::oracle::peers::Peers;
use crate::oracle::Violation;
use kubesim_model::{EventKind, HistoryEvent};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Everything the page draws.
#[derive(Debug, Serialize)]
pub struct Model {
    /// The page title.
    pub title: String,
    /// Host names: the first `lanes` have events (one lane each, in lane order), the rest are
    /// only peers (a connection's client, a crash's target) without events of their own.
    pub hosts: Vec<String>,
    /// How many of `hosts` are lanes.
    pub lanes: usize,
    /// Resources named by events (`pods`, `replicagroups.kubesim.io`), sorted.
    pub resources: Vec<String>,
    /// Object keys (`namespace/name`), in order of first use.
    pub keys: Vec<String>,
    /// Event types (`request`, `watch_send`, ...), in order of first use.
    pub types: Vec<String>,
    /// One row per event, in history order.
    pub events: Vec<Row>,
    /// The violations, each with the row of its event.
    pub violations: Vec<Marked>,
    /// The row selected when the page opens: the first violation's event that is in the history.
    pub selected: i64,
    /// Simulated time of the last event (or violation), microseconds.
    pub end_us: u64,
}

/// One event: `[id, time_us, host, peer, partner, resource, key, type, text, fields]`.
pub type Row = (u64, u64, i64, i64, i64, i64, i64, i64, String, Value);

/// A violation as the page shows it.
#[derive(Debug, Serialize)]
pub struct Marked {
    /// The oracle's name.
    pub oracle: String,
    /// Simulated time, microseconds.
    pub time_us: u64,
    /// The history id of its event, if it names one.
    pub event_id: Option<u64>,
    /// The row of that event in this history, `-1` if it is not there.
    pub row: i64,
    /// What went wrong.
    pub message: String,
}

/// Interns strings into a table, handing back their index.
#[derive(Default)]
struct Table {
    index: BTreeMap<String, i64>,
    names: Vec<String>,
}

impl Table {
    fn id(&mut self, name: &str) -> i64 {
        if let Some(i) = self.index.get(name) {
            return *i;
        }
        let i = i64::try_from(self.names.len()).unwrap_or(i64::MAX);
        self.index.insert(name.to_string(), i);
        self.names.push(name.to_string());
        i
    }
}

/// The row the page selects first: the first violation whose event is in `events`.
pub fn violation_row(events: &[HistoryEvent], violations: &[Violation]) -> Option<usize> {
    let rows = rows_by_id(events);
    violations
        .iter()
        .filter_map(|v| v.event_id)
        .find_map(|id| rows.get(&id).copied())
}

fn rows_by_id(events: &[HistoryEvent]) -> BTreeMap<u64, usize> {
    let mut rows = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        rows.entry(e.id).or_insert(i);
    }
    rows
}

/// Lane order: the harness (`sim`), then API server replicas, then everyone else; numbered
/// hosts in numeric order (`controller-2` before `controller-10`).
fn lane_order(name: &str) -> (u8, &str, u64, &str) {
    let rank = match name {
        "sim" => 0,
        n if n.starts_with("apiserver") => 1,
        _ => 2,
    };
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, number) = name.split_at(name.len() - digits);
    (rank, stem, number.parse().unwrap_or(0), name)
}

/// `resource/namespace/name` into its resource and the rest (`namespace/name`, or the
/// namespace of a collection, or empty).
fn split_target(target: &str) -> (&str, &str) {
    match target.split_once('/') {
        Some((r, rest)) => (r, rest),
        None => (target, ""),
    }
}

/// The resource and key an event is about, as the filters match them.
fn resource_and_key(kind: &EventKind) -> (Option<&str>, Option<&str>) {
    fn some(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }
    match kind {
        EventKind::Request { target, .. }
        | EventKind::Response { target, .. }
        | EventKind::WatchOpen { target, .. } => {
            let (r, k) = split_target(target);
            (some(r), some(k))
        }
        EventKind::Commit { key, .. } | EventKind::WatchSend { key, .. } => {
            let (r, k) = split_target(key);
            (some(r), some(k))
        }
        EventKind::Lease { lease, .. } => (Some(LEASES), some(lease)),
        EventKind::Informer { resource, .. } => (some(resource), None),
        EventKind::QueueAdd { key, .. }
        | EventKind::QueueGet { key, .. }
        | EventKind::QueueDone { key }
        | EventKind::ReconcileBegin { key, .. }
        | EventKind::ReconcileEnd { key, .. } => (None, some(key)),
        _ => (None, None),
    }
}

const LEASES: &str = "leases.coordination.k8s.io";

/// The event's JSON form without its tag and null fields: `(type, fields)`.
fn fields(kind: &EventKind) -> (String, Value) {
    let value = serde_json::to_value(kind).unwrap_or(Value::Null);
    let mut map = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let ty = match map.remove("event") {
        Some(Value::String(s)) => s,
        _ => "event".to_string(),
    };
    map.retain(|_, v| !v.is_null());
    (ty, Value::Object(map))
}

/// Pairs the two ends of each exchange: `partner[i]` is the row at the other end of row `i`.
fn partners(events: &[HistoryEvent], peers: &Peers<'_>) -> Vec<i64> {
    let mut partner = vec![-1i64; events.len()];
    let link = |a: usize, b: usize, partner: &mut Vec<i64>| {
        partner[a] = i64::try_from(b).unwrap_or(-1);
        partner[b] = i64::try_from(a).unwrap_or(-1);
    };
    // The request waiting on each connection (one at a time: HTTP/1.1 without pipelining).
    let mut waiting: BTreeMap<(&str, u64), usize> = BTreeMap::new();
    let mut reconciling: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut watching: BTreeMap<u64, usize> = BTreeMap::new();
    let mut crashed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut faulted: BTreeMap<&str, usize> = BTreeMap::new();
    // Rows of watch requests whose stream opened (by the request's connection).
    let stream_conns: BTreeMap<u64, (&str, u64)> = peers
        .streams
        .iter()
        .filter_map(|(w, s)| s.conn.map(|c| (*w, c)))
        .collect();
    for (i, e) in events.iter().enumerate() {
        let host = e.host.as_str();
        match &e.kind {
            EventKind::Request { conn, .. } => {
                waiting.insert((host, *conn), i);
            }
            EventKind::Response { conn, .. } => {
                if let Some(r) = waiting.remove(&(host, *conn)) {
                    link(r, i, &mut partner);
                }
            }
            EventKind::WatchOpen { watcher, .. } => {
                if let Some(c) = stream_conns.get(watcher) {
                    waiting.remove(c);
                }
                watching.insert(*watcher, i);
            }
            EventKind::WatchClose { watcher, .. } => {
                if let Some(o) = watching.remove(watcher) {
                    link(o, i, &mut partner);
                }
            }
            EventKind::ReconcileBegin { key, .. } => {
                reconciling.insert((host, key.as_str()), i);
            }
            EventKind::ReconcileEnd { key, .. } => {
                if let Some(b) = reconciling.remove(&(host, key.as_str())) {
                    link(b, i, &mut partner);
                }
            }
            EventKind::Crash { target } => {
                crashed.insert(target.as_str(), i);
                waiting.retain(|(h, _), _| h != target);
                reconciling.retain(|(h, _), _| h != target);
            }
            EventKind::Restart { target } => {
                if let Some(c) = crashed.remove(target.as_str()) {
                    link(c, i, &mut partner);
                }
            }
            EventKind::ConnOpen { conn, .. } => {
                waiting.remove(&(host, *conn));
            }
            EventKind::Fault { text } => {
                faulted.insert(text.as_str(), i);
            }
            EventKind::Heal { text } => {
                if let Some(f) = faulted.remove(text.as_str()) {
                    link(f, i, &mut partner);
                }
            }
            _ => {}
        }
    }
    partner
}

/// The other host an event involves: a request's client, a crash's target, a failed
/// connection's replica.
fn peer_names<'a>(events: &'a [HistoryEvent], peers: &Peers<'a>) -> Vec<Option<&'a str>> {
    let mut conns: BTreeMap<(&str, u64), &str> = BTreeMap::new();
    let mut out = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let host = e.host.as_str();
        let peer = match &e.kind {
            EventKind::ConnOpen { conn, peer } => {
                conns.insert((host, *conn), peer.as_str());
                Some(peer.as_str())
            }
            EventKind::Request { .. } => peers.requests.get(&i).copied(),
            EventKind::Response { conn, .. } => conns.get(&(host, *conn)).copied(),
            EventKind::WatchOpen { watcher, .. }
            | EventKind::WatchSend { watcher, .. }
            | EventKind::WatchClose { watcher, .. } => {
                peers.streams.get(watcher).and_then(|s| s.client)
            }
            EventKind::Crash { target } | EventKind::Restart { target } => {
                conns.retain(|(h, _), _| h != target);
                Some(target.as_str())
            }
            EventKind::ConnectFailed { to, .. } => Some(to.as_str()),
            _ => None,
        };
        out.push(peer);
    }
    // A commit is its writer's: the client whose request made it.
    let writers: BTreeMap<u64, &str> = peers
        .writes
        .iter()
        .map(|w| (w.commit.id, w.writer))
        .collect();
    for (e, p) in events.iter().zip(out.iter_mut()) {
        if let EventKind::Commit { .. } = e.kind {
            *p = writers.get(&e.id).copied();
        }
    }
    out
}

impl Model {
    /// Builds the page's data from a history and its violations.
    pub fn new(title: &str, events: &[HistoryEvent], violations: &[Violation]) -> Self {
        let peers = Peers::of(events);
        let partner = partners(events, &peers);
        let peer = peer_names(events, &peers);

        let mut hosts = Table::default();
        let mut lane_names: Vec<&str> = events.iter().map(|e| e.host.as_str()).collect();
        lane_names.sort_by_key(|h| lane_order(h));
        lane_names.dedup();
        for h in &lane_names {
            hosts.id(h);
        }
        let lanes = hosts.names.len();

        // Informers name a resource by its plural alone: use the full name requests use.
        let mut named: Vec<&str> = events
            .iter()
            .filter_map(|e| resource_and_key(&e.kind).0)
            .collect();
        named.sort_unstable();
        named.dedup();
        let full_names: BTreeMap<&str, &str> = named
            .iter()
            .map(|r| {
                let prefix = format!("{r}.");
                let longer = named[named.partition_point(|n| *n < prefix.as_str())..]
                    .first()
                    .filter(|n| n.starts_with(prefix.as_str()));
                (*r, longer.copied().unwrap_or(r))
            })
            .collect();
        fn full<'s>(names: &BTreeMap<&str, &'s str>, r: &'s str) -> &'s str {
            names.get(r).copied().unwrap_or(r)
        }
        let mut resource_names: Vec<&str> = named.iter().map(|r| full(&full_names, r)).collect();
        resource_names.sort_unstable();
        resource_names.dedup();
        let mut resources = Table::default();
        for r in &resource_names {
            resources.id(r);
        }

        let mut keys = Table::default();
        let mut types = Table::default();
        let mut rows = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let (resource, key) = resource_and_key(&e.kind);
            let resource = resource.map_or(-1, |r| resources.id(full(&full_names, r)));
            let key = key.map_or(-1, |k| keys.id(k));
            let (ty, fields) = fields(&e.kind);
            rows.push((
                e.id,
                e.time_us,
                hosts.id(&e.host),
                peer[i].map_or(-1, |p| hosts.id(p)),
                partner[i],
                resource,
                key,
                types.id(&ty),
                e.kind.to_string(),
                fields,
            ));
        }

        let by_id = rows_by_id(events);
        let marked: Vec<Marked> = violations
            .iter()
            .map(|v| Marked {
                oracle: v.oracle.to_string(),
                time_us: v.time_us,
                event_id: v.event_id,
                row: v
                    .event_id
                    .and_then(|id| by_id.get(&id))
                    .and_then(|r| i64::try_from(*r).ok())
                    .unwrap_or(-1),
                message: v.message.clone(),
            })
            .collect();
        let selected = violation_row(events, violations)
            .and_then(|r| i64::try_from(r).ok())
            .unwrap_or(-1);
        let end_us = events
            .iter()
            .map(|e| e.time_us)
            .chain(violations.iter().map(|v| v.time_us))
            .max()
            .unwrap_or(0);
        Model {
            title: title.to_string(),
            hosts: hosts.names,
            lanes,
            resources: resources.names,
            keys: keys.names,
            types: types.names,
            events: rows,
            violations: marked,
            selected,
            end_us,
        }
    }
}
