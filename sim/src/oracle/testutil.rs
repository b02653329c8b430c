//! Hand-built histories for the oracles' unit tests.

use super::Violation;
use kubesim_model::{EventKind, HistoryEvent, WatchEventType};

/// A history from `(host, event)` pairs: ids in order, 1 ms apart.
pub(crate) fn history(events: Vec<(&str, EventKind)>) -> Vec<HistoryEvent> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, (host, kind))| HistoryEvent {
            id: i as u64,
            time_us: i as u64 * 1_000,
            host: host.into(),
            kind,
        })
        .collect()
}

/// A history from `(time in ms, host, event)` triples, ids in order.
pub(crate) fn at(events: Vec<(u64, &str, EventKind)>) -> Vec<HistoryEvent> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, (ms, host, kind))| HistoryEvent {
            id: i as u64,
            time_us: ms * 1_000,
            host: host.into(),
            kind,
        })
        .collect()
}

pub(crate) fn commit(rev: u64, op: WatchEventType, key: &str) -> (&'static str, EventKind) {
    let key = key.into();
    ("apiserver-0", EventKind::Commit { rev, op, key })
}

pub(crate) fn open(watcher: u64, target: &str, rv: Option<&str>) -> (&'static str, EventKind) {
    let (target, rv) = (target.into(), rv.map(str::to_string));
    (
        "apiserver-0",
        EventKind::WatchOpen {
            watcher,
            target,
            rv,
        },
    )
}

pub(crate) fn send(
    watcher: u64,
    kind: WatchEventType,
    key: &str,
    rv: u64,
) -> (&'static str, EventKind) {
    let key = key.into();
    (
        "apiserver-0",
        EventKind::WatchSend {
            watcher,
            kind,
            key,
            rv,
        },
    )
}

pub(crate) fn oracles(v: &[Violation]) -> Vec<&'static str> {
    v.iter().map(|v| v.oracle).collect()
}

pub(crate) fn begin(host: &'static str, key: &str) -> (&'static str, EventKind) {
    let key = key.into();
    (host, EventKind::ReconcileBegin { key, attempt: 1 })
}

pub(crate) fn end(host: &'static str, key: &str, outcome: &str) -> (&'static str, EventKind) {
    let (key, outcome) = (key.into(), outcome.into());
    let kind = EventKind::ReconcileEnd {
        key,
        attempt: 1,
        outcome,
        duration_us: 0,
    };
    (host, kind)
}

pub(crate) fn request(conn: u64, verb: &str, target: &str) -> (&'static str, EventKind) {
    let kind = EventKind::Request {
        conn,
        verb: verb.into(),
        target: target.into(),
        subresource: None,
        rv: None,
    };
    ("apiserver-0", kind)
}

pub(crate) fn response(
    conn: u64,
    verb: &str,
    target: &str,
    code: u16,
    rv: Option<u64>,
) -> (&'static str, EventKind) {
    let kind = EventKind::Response {
        conn,
        verb: verb.into(),
        target: target.into(),
        code,
        rv,
        reason: None,
    };
    ("apiserver-0", kind)
}

pub(crate) const TIGHT: super::HotLoop = super::HotLoop {
    window_us: 10_000,
    requests_max: 3,
    retries_max: 2,
};

/// Three commits on `configmaps/default`, one elsewhere (rev 3), and a watch from rv=1.
pub(crate) fn log() -> Vec<(&'static str, EventKind)> {
    vec![
        commit(2, WatchEventType::Added, "configmaps/default/a"),
        commit(3, WatchEventType::Added, "configmaps/other/x"),
        commit(4, WatchEventType::Modified, "configmaps/default/a"),
        commit(5, WatchEventType::Added, "configmaps/default/b"),
        open(0, "configmaps/default", Some("1")),
    ]
}
