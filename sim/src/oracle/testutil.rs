//! Hand-built histories for the oracles' unit tests.

use kubesim_model::{EventKind, HistoryEvent};

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
