//! The per-stream watch guarantees: ordered, unique, atomic, bookmarkable and resumable (etcd's
//! robustness tests' names).

use super::streams::{streams, Commits};
use crate::oracle::names;
use crate::oracle::violation::violation;
use crate::oracle::Violation;
use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use std::collections::{BTreeMap, BTreeSet};

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
                    oracle: names::WATCH_ORDERED,
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

/// No object event is delivered twice on one stream (etcd's "unique").
pub fn watch_unique(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let mut seen: BTreeMap<(&str, u64), u64> = BTreeMap::new();
        for d in s.deliveries.iter().filter(|d| d.is_object()) {
            if let Some(first) = seen.insert((d.key, d.rv), d.event.id) {
                out.push(violation(
                    names::WATCH_UNIQUE,
                    d.event,
                    format!(
                        "watcher w{w} got {} {} rv={} again (first as #{first:06})",
                        d.kind, d.key, d.rv
                    ),
                ));
            }
        }
    }
    out
}

/// The events of one revision are delivered together, and each names an object committed at
/// that revision (etcd's "atomic"). With one write per revision, a second event at a revision
/// is also caught here when another revision came between.
pub fn watch_atomic(history: &[HistoryEvent]) -> Vec<Violation> {
    let commits = Commits::of(history);
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let mut finished: BTreeSet<u64> = BTreeSet::new();
        let mut current: Option<u64> = None;
        for d in s.deliveries.iter().filter(|d| d.is_object()) {
            if current != Some(d.rv) {
                finished.extend(current);
                if finished.contains(&d.rv) {
                    out.push(violation(
                        names::WATCH_ATOMIC,
                        d.event,
                        format!(
                            "watcher w{w} got {} {} rv={} after other revisions followed rv={}",
                            d.kind, d.key, d.rv, d.rv
                        ),
                    ));
                }
                current = Some(d.rv);
            }
            if let Some(written) = commits.by_rev.get(&d.rv) {
                if !written.iter().any(|(_, k)| *k == d.key) {
                    let names: Vec<&str> = written.iter().map(|(_, k)| *k).collect();
                    out.push(violation(
                        names::WATCH_ATOMIC,
                        d.event,
                        format!(
                            "watcher w{w} got {} {} rv={}, but revision {} wrote {}",
                            d.kind,
                            d.key,
                            d.rv,
                            d.rv,
                            names.join(",")
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// A bookmark's resourceVersion is at least that of every event before it on the stream
/// (etcd's "bookmarkable"): resuming from it neither misses nor repeats an event.
pub fn watch_bookmarkable(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let mut max = 0u64;
        for d in &s.deliveries {
            match d.kind {
                WatchEventType::Error => {}
                WatchEventType::Bookmark if d.rv < max => out.push(violation(
                    names::WATCH_BOOKMARKABLE,
                    d.event,
                    format!(
                        "watcher w{w} got BOOKMARK rv={} after an event at rv={max}",
                        d.rv
                    ),
                )),
                _ => max = max.max(d.rv),
            }
        }
    }
    out
}

/// A watch opened with `resourceVersion=N` (N > 0) starts with an event after N (etcd's
/// "resumable"): nothing at or before N is replayed. An `ERROR` first event (410) is allowed.
pub fn watch_resumable(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let (Some(n), Some(first)) = (s.start_rv, s.deliveries.first()) else {
            continue;
        };
        if first.kind != WatchEventType::Error && first.rv <= n {
            out.push(violation(
                names::WATCH_RESUMABLE,
                first.event,
                format!(
                    "watcher w{w} opened at rv={n} but first got {} {} rv={}",
                    first.kind, first.key, first.rv
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::*;
    use WatchEventType::{Added, Bookmark, Error, Modified};

    #[test]
    fn watch_unique_catches_an_event_delivered_twice() {
        let mut good = log();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_unique(&history(good.clone())), vec![]);
        let mut bad = good;
        bad.push(send(0, Modified, "configmaps/default/a", 4));
        let v = watch_unique(&history(bad));
        assert_eq!(oracles(&v), vec!["watch-unique"]);
        assert_eq!(v[0].event_id, Some(7));
        assert!(
            v[0].message.contains("again (first as #000006)"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn watch_unique_allows_the_same_event_on_two_streams() {
        let mut h = log();
        h.extend([
            open(1, "configmaps", Some("3")),
            send(0, Modified, "configmaps/default/a", 4),
            send(1, Modified, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_unique(&history(h)), vec![]);
    }

    #[test]
    fn watch_atomic_catches_a_split_revision_and_a_mislabelled_event() {
        // One revision writing two keys (an etcd transaction), delivered together.
        let mut txn = vec![
            commit(2, Added, "configmaps/default/a"),
            commit(2, Added, "configmaps/default/b"),
            commit(3, Modified, "configmaps/default/a"),
            open(0, "configmaps/default", Some("1")),
        ];
        let mut good = txn.clone();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Added, "configmaps/default/b", 2),
            send(0, Modified, "configmaps/default/a", 3),
        ]);
        assert_eq!(watch_atomic(&history(good)), vec![]);
        txn.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 3),
            send(0, Added, "configmaps/default/b", 2),
        ]);
        let v = watch_atomic(&history(txn));
        assert_eq!(oracles(&v), vec!["watch-atomic"]);
        assert!(v[0].message.contains("after other revisions"), "{}", v[0]);

        let mut wrong = log();
        wrong.push(send(0, Modified, "configmaps/default/b", 4));
        let v = watch_atomic(&history(wrong));
        assert_eq!(oracles(&v), vec!["watch-atomic"]);
        assert!(
            v[0].message
                .contains("revision 4 wrote configmaps/default/a"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn watch_bookmarkable_catches_a_bookmark_behind_an_event() {
        let mut good = log();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Bookmark, "", 3),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Bookmark, "", 4),
        ]);
        assert_eq!(watch_bookmarkable(&history(good)), vec![]);
        let mut bad = log();
        bad.extend([
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Bookmark, "", 3),
        ]);
        let v = watch_bookmarkable(&history(bad));
        assert_eq!(oracles(&v), vec!["watch-bookmarkable"]);
        assert_eq!(v[0].event_id, Some(6));
    }

    #[test]
    fn watch_bookmarkable_counts_the_initial_snapshot() {
        // A watch without resourceVersion starts with ADDED events carrying their own revisions.
        let mut bad = log();
        bad.extend([
            open(1, "configmaps/default", None),
            send(1, Added, "configmaps/default/b", 5),
            send(1, Bookmark, "", 4),
        ]);
        assert_eq!(
            oracles(&watch_bookmarkable(&history(bad))),
            vec!["watch-bookmarkable"]
        );
    }

    #[test]
    fn watch_resumable_catches_a_replay_of_the_start_revision() {
        let mut good = log();
        good.push(open(1, "configmaps/default", Some("4")));
        good.push(send(1, Added, "configmaps/default/b", 5));
        assert_eq!(watch_resumable(&history(good)), vec![]);
        let mut bad = log();
        bad.push(open(1, "configmaps/default", Some("4")));
        bad.push(send(1, Modified, "configmaps/default/a", 4));
        let v = watch_resumable(&history(bad));
        assert_eq!(oracles(&v), vec!["watch-resumable"]);
        assert!(v[0].message.contains("opened at rv=4"), "{}", v[0]);
    }

    #[test]
    fn watch_resumable_allows_a_410_and_watches_from_now() {
        let mut h = log();
        h.extend([
            open(1, "configmaps/default", Some("1")),
            send(1, Error, "", 0),
            open(2, "configmaps/default", Some("0")),
            send(2, Added, "configmaps/default/a", 4),
            open(3, "configmaps/default", None),
            send(3, Added, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_resumable(&history(h)), vec![]);
    }
}
