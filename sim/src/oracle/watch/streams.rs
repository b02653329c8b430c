//! Watch streams and storage's commit log as the history shows them, for the watch oracles.

use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use std::collections::BTreeMap;

/// One event written to a watch stream.
pub(super) struct Delivery<'a> {
    pub(super) event: &'a HistoryEvent,
    pub(super) kind: WatchEventType,
    pub(super) key: &'a str,
    pub(super) rv: u64,
}

impl Delivery<'_> {
    /// An `ADDED`, `MODIFIED` or `DELETED` event (not a bookmark or an error).
    pub(super) fn is_object(&self) -> bool {
        !matches!(self.kind, WatchEventType::Bookmark | WatchEventType::Error)
    }
}

/// One watch stream as the history shows it.
pub(super) struct Stream<'a> {
    /// What it watches (`resource/namespace` or `resource`); empty if its open is not in the
    /// history.
    pub(super) target: &'a str,
    /// The resourceVersion it was opened with, when that is a revision N > 0.
    pub(super) start_rv: Option<u64>,
    pub(super) deliveries: Vec<Delivery<'a>>,
}

/// The watch streams of `history`, by watcher id.
pub(super) fn streams(history: &[HistoryEvent]) -> BTreeMap<u64, Stream<'_>> {
    let mut out: BTreeMap<u64, Stream<'_>> = BTreeMap::new();
    let empty = |target| Stream {
        target,
        start_rv: None,
        deliveries: Vec::new(),
    };
    for e in history {
        match &e.kind {
            EventKind::WatchOpen {
                watcher,
                target,
                rv,
            } => {
                let s = out.entry(*watcher).or_insert_with(|| empty(""));
                s.target = target.as_str();
                s.start_rv = rv
                    .as_deref()
                    .and_then(|r| r.parse::<u64>().ok())
                    .filter(|n| *n > 0);
            }
            EventKind::WatchSend {
                watcher,
                kind,
                key,
                rv,
            } => out
                .entry(*watcher)
                .or_insert_with(|| empty(""))
                .deliveries
                .push(Delivery {
                    event: e,
                    kind: *kind,
                    key: key.as_str(),
                    rv: *rv,
                }),
            _ => {}
        }
    }
    out
}

/// Storage's commit log as the history shows it: keys by revision, revisions by key.
pub(super) struct Commits<'a> {
    pub(super) by_rev: BTreeMap<u64, Vec<(WatchEventType, &'a str)>>,
    pub(super) by_key: BTreeMap<&'a str, Vec<u64>>,
}

impl<'a> Commits<'a> {
    pub(super) fn of(history: &'a [HistoryEvent]) -> Self {
        let mut c = Commits {
            by_rev: BTreeMap::new(),
            by_key: BTreeMap::new(),
        };
        for e in history {
            if let EventKind::Commit { rev, op, key } = &e.kind {
                c.by_rev.entry(*rev).or_default().push((*op, key.as_str()));
                c.by_key.entry(key.as_str()).or_default().push(*rev);
            }
        }
        c
    }

    /// The first commit on `key` after revision `rev`.
    pub(super) fn next_on(&self, key: &str, rev: u64) -> Option<u64> {
        let revs = self.by_key.get(key)?;
        revs.get(revs.partition_point(|r| *r <= rev)).copied()
    }
}

/// Whether object `key` (`resource/namespace/name` or `resource/name`) is under watch target
/// `target` (`resource/namespace`, `resource`, or one object's own key).
pub fn target_matches(target: &str, key: &str) -> bool {
    key.strip_prefix(target)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_matching_respects_path_segments() {
        assert!(target_matches("pods/default", "pods/default/a"));
        assert!(target_matches("pods", "pods/default/a"));
        assert!(target_matches("nodes", "nodes/n1"));
        assert!(target_matches("pods/default/a", "pods/default/a"));
        assert!(!target_matches("pods/default", "pods/default2/a"));
        assert!(!target_matches("pods", "podsecurity/x"));
    }
}
