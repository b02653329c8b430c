//! Oracles: properties every history must have, checked after the run.
//!
//! - [`watch_ordered`]: on every watch stream, object events carry strictly increasing
//!   resourceVersions and bookmarks never go backwards (etcd robustness tests' "ordered").
//! - [`no_concurrent_reconcile`]: one key is never reconciled twice at once on one host.

use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use std::collections::BTreeMap;
use std::fmt;

/// One broken property, located in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The oracle's name.
    pub oracle: &'static str,
    /// Simulated time of the offending event, microseconds.
    pub time_us: u64,
    /// History id of the offending event, when there is one.
    pub event_id: Option<u64>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}.{:06}s",
            self.oracle,
            self.time_us / 1_000_000,
            self.time_us % 1_000_000
        )?;
        if let Some(id) = self.event_id {
            write!(f, " (event #{id:06})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Watch events on each stream are in resourceVersion order.
pub fn watch_ordered(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in history {
        if let EventKind::WatchSend {
            watcher,
            kind,
            rv,
            key,
            ..
        } = &e.kind
        {
            if *kind == WatchEventType::Error {
                continue;
            }
            let prev = last.get(watcher).copied().unwrap_or(0);
            // Initial ADDED events of a watch from "now" all carry their own (older) versions.
            let initial = *kind == WatchEventType::Added && prev == 0;
            let ok = match kind {
                WatchEventType::Bookmark => *rv >= prev,
                _ => initial || *rv > prev,
            };
            if !ok {
                out.push(Violation {
                    oracle: "watch-ordered",
                    time_us: e.time_us,
                    event_id: Some(e.id),
                    message: format!("watcher w{watcher} got {kind} {key} rv={rv} after rv={prev}"),
                });
            }
            if !initial {
                last.insert(*watcher, (*rv).max(prev));
            }
        }
    }
    out
}

/// One key is never reconciled twice at once (per host: each controller replica has its own
/// queue; across replicas, leader election is what keeps writers single).
pub fn no_concurrent_reconcile(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut running: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in history {
        match &e.kind {
            EventKind::ReconcileBegin { key, .. } => {
                if let Some(first) = running.insert((e.host.as_str(), key.as_str()), e.id) {
                    out.push(Violation {
                        oracle: "no-concurrent-reconcile",
                        time_us: e.time_us,
                        event_id: Some(e.id),
                        message: format!(
                            "{key} began on {} while its reconcile #{first:06} was running",
                            e.host
                        ),
                    });
                }
            }
            EventKind::ReconcileEnd { key, .. } => {
                running.remove(&(e.host.as_str(), key.as_str()));
            }
            // A crash ends everything that was running on the host.
            EventKind::Crash { target } => running.retain(|(h, _), _| h != target),
            _ => {}
        }
    }
    out
}
