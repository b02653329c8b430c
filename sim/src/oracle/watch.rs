//! Watch guarantees, per watcher (a watcher is one stream, `w<N>` in the history), as etcd's
//! robustness tests name them (`tests/robustness/validate/watch.go`): ordered, unique, atomic,
//! bookmarkable, reliable and resumable ([`watch_guarantees`] runs all six).

use super::names;
use super::violation::violation;
use super::Violation;
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

/// One event written to a watch stream.
struct Delivery<'a> {
    event: &'a HistoryEvent,
    kind: WatchEventType,
    key: &'a str,
    rv: u64,
}

impl Delivery<'_> {
    /// An `ADDED`, `MODIFIED` or `DELETED` event (not a bookmark or an error).
    fn is_object(&self) -> bool {
        !matches!(self.kind, WatchEventType::Bookmark | WatchEventType::Error)
    }
}

/// One watch stream as the history shows it.
struct Stream<'a> {
    /// What it watches (`resource/namespace` or `resource`); empty if its open is not in the
    /// history.
    target: &'a str,
    /// The resourceVersion it was opened with, when that is a revision N > 0.
    start_rv: Option<u64>,
    deliveries: Vec<Delivery<'a>>,
}

/// The watch streams of `history`, by watcher id.
fn streams(history: &[HistoryEvent]) -> BTreeMap<u64, Stream<'_>> {
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
struct Commits<'a> {
    by_rev: BTreeMap<u64, Vec<(WatchEventType, &'a str)>>,
    by_key: BTreeMap<&'a str, Vec<u64>>,
}

impl<'a> Commits<'a> {
    fn of(history: &'a [HistoryEvent]) -> Self {
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
    fn next_on(&self, key: &str, rev: u64) -> Option<u64> {
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

/// No gap against storage's commit log (etcd's "reliable"), for every stream whose open is in
/// the history. Two checks:
///
/// - **Whole target**, for streams on targets not in `filtered`: let U be the last revision the
///   stream delivered (event or bookmark) and L the first it vouches for: N for a watch opened
///   at `resourceVersion=N`; otherwise (unset or `0`, which starts with a snapshot of synthetic
///   `ADDED` events carrying the objects' own, older revisions) the revision of its first
///   `MODIFIED`, `DELETED` or `BOOKMARK`, the first event that cannot belong to the snapshot.
///   Every commit on the target in (L, U] must have been delivered. A stream that ended (timeout,
///   410, crash) is judged only up to its last delivery, so a closed stream is never blamed for
///   what came after it.
/// - **Per object**, for every stream: once a stream delivered `ADDED` or `MODIFIED` for an
///   object at revision r, the next commit on that object, if it is at or before U, must have
///   been delivered (as `MODIFIED`, `DELETED`, or a selector's `DELETED`). This holds for label
///   and field selector watches too: an object the watcher holds matched the selector at r, and
///   a change to a matching object is always an event (it stops matching = `DELETED`).
///
/// The history does not record a watch's selectors (`watch-open` shows only
/// `resource/namespace`), and a selector watch legitimately skips commits on objects that do not
/// match, so the whole-target check would blame it falsely. The caller names the targets whose
/// watches may carry a label or field selector in `filtered`; those get the per-object check
/// only. Pass `&[]` when no watch in the scenario uses a selector.
pub fn watch_reliable(history: &[HistoryEvent], filtered: &[&str]) -> Vec<Violation> {
    let commits = Commits::of(history);
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        if s.target.is_empty() {
            continue;
        }
        let live: Vec<&Delivery<'_>> = s
            .deliveries
            .iter()
            .filter(|d| d.kind != WatchEventType::Error)
            .collect();
        let Some(upper) = live.iter().map(|d| d.rv).max() else {
            continue;
        };
        let delivered: BTreeSet<(&str, u64)> = live
            .iter()
            .filter(|d| d.is_object())
            .map(|d| (d.key, d.rv))
            .collect();
        let mut missing: BTreeSet<(u64, &str)> = BTreeSet::new();
        if !filtered.contains(&s.target) {
            let lower = s.start_rv.or_else(|| {
                live.iter()
                    .find(|d| d.kind != WatchEventType::Added)
                    .map(|d| d.rv)
            });
            // (L, U] is empty when the first live delivery is also the last one.
            if let Some(lower) = lower.filter(|l| *l < upper) {
                for (rev, written) in commits.by_rev.range(lower + 1..=upper) {
                    for (_, key) in written {
                        if target_matches(s.target, key) && !delivered.contains(&(*key, *rev)) {
                            missing.insert((*rev, key));
                        }
                    }
                }
            }
        }
        for d in live
            .iter()
            .filter(|d| matches!(d.kind, WatchEventType::Added | WatchEventType::Modified))
        {
            if let Some(next) = commits.next_on(d.key, d.rv) {
                if next <= upper && !delivered.contains(&(d.key, next)) {
                    missing.insert((next, d.key));
                }
            }
        }
        if let Some((rev, key)) = missing.first() {
            let after = live
                .iter()
                .find(|d| d.rv >= *rev)
                .expect("invariant: a missed revision is at most the last delivered one");
            let op = commits.by_rev[rev]
                .iter()
                .find(|(_, k)| k == key)
                .map(|(op, _)| *op)
                .expect("invariant: a missed commit is in the log");
            out.push(violation(
                names::WATCH_RELIABLE,
                after.event,
                format!(
                    "watcher w{w} ({}) missed commit rev={rev} {op} {key} ({} missed in all), \
                     yet delivered up to rv={upper}",
                    s.target,
                    missing.len()
                ),
            ));
        }
    }
    out
}

/// Every watch guarantee: [`watch_ordered`], [`watch_unique`], [`watch_atomic`],
/// [`watch_bookmarkable`], [`watch_reliable`] (with `filtered` as it documents) and
/// [`watch_resumable`].
pub fn watch_guarantees(history: &[HistoryEvent], filtered: &[&str]) -> Vec<Violation> {
    let mut out = watch_ordered(history);
    out.extend(watch_unique(history));
    out.extend(watch_atomic(history));
    out.extend(watch_bookmarkable(history));
    out.extend(watch_reliable(history, filtered));
    out.extend(watch_resumable(history));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::*;
    use WatchEventType::{Added, Bookmark, Deleted, Error, Modified};

    /// Three commits on `configmaps/default`, one elsewhere (rev 3), and a watch from rv=1.
    fn log() -> Vec<(&'static str, EventKind)> {
        vec![
            commit(2, Added, "configmaps/default/a"),
            commit(3, Added, "configmaps/other/x"),
            commit(4, Modified, "configmaps/default/a"),
            commit(5, Added, "configmaps/default/b"),
            open(0, "configmaps/default", Some("1")),
        ]
    }

    #[test]
    fn target_matching_respects_path_segments() {
        assert!(target_matches("pods/default", "pods/default/a"));
        assert!(target_matches("pods", "pods/default/a"));
        assert!(target_matches("nodes", "nodes/n1"));
        assert!(target_matches("pods/default/a", "pods/default/a"));
        assert!(!target_matches("pods/default", "pods/default2/a"));
        assert!(!target_matches("pods", "podsecurity/x"));
    }

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

    #[test]
    fn watch_reliable_catches_a_gap_against_storage() {
        let mut good = log();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Added, "configmaps/default/b", 5),
        ]);
        assert_eq!(watch_reliable(&history(good), &[]), vec![]);
        let mut bad = log();
        bad.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Added, "configmaps/default/b", 5),
        ]);
        let v = watch_reliable(&history(bad), &[]);
        assert_eq!(oracles(&v), vec!["watch-reliable"]);
        assert_eq!(
            v[0].event_id,
            Some(6),
            "located at the delivery after the gap"
        );
        assert!(
            v[0].message
                .contains("missed commit rev=4 MODIFIED configmaps/default/a (1 missed in all)"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn watch_reliable_judges_a_bookmark_as_a_promise() {
        // The bookmark at 5 says everything up to 5 was delivered; b's ADDED at 5 was not.
        let mut bad = log();
        bad.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Bookmark, "", 5),
        ]);
        assert_eq!(
            oracles(&watch_reliable(&history(bad), &[])),
            vec!["watch-reliable"]
        );
    }

    #[test]
    fn watch_reliable_does_not_blame_a_stream_that_ended() {
        // The stream closed after rv=2 (timeout): commits 4 and 5 are not owed to it, and the
        // next stream resumes from 2.
        let mut h = log();
        h.extend([
            send(0, Added, "configmaps/default/a", 2),
            (
                "apiserver-0",
                EventKind::WatchClose {
                    watcher: 0,
                    reason: "timeout".into(),
                },
            ),
            open(1, "configmaps/default", Some("2")),
            send(1, Modified, "configmaps/default/a", 4),
            send(1, Added, "configmaps/default/b", 5),
        ]);
        assert_eq!(watch_reliable(&history(h), &[]), vec![]);
    }

    #[test]
    fn watch_reliable_skips_the_snapshot_of_a_watch_from_now() {
        // From "now" the snapshot holds b (rv 5) but not the deleted c: no event for c's commits
        // is owed. From the first MODIFIED on, every commit is.
        let base = vec![
            commit(2, Added, "configmaps/default/a"),
            commit(3, Added, "configmaps/default/c"),
            commit(4, Deleted, "configmaps/default/c"),
            commit(5, Added, "configmaps/default/b"),
            commit(6, Modified, "configmaps/default/a"),
            commit(7, Modified, "configmaps/default/b"),
            commit(8, Added, "configmaps/default/d"),
            open(0, "configmaps/default", None),
            send(0, Added, "configmaps/default/a", 2),
            send(0, Added, "configmaps/default/b", 5),
            send(0, Modified, "configmaps/default/a", 6),
        ];
        let mut good = base.clone();
        good.extend([
            send(0, Modified, "configmaps/default/b", 7),
            send(0, Added, "configmaps/default/d", 8),
        ]);
        assert_eq!(watch_reliable(&history(good), &[]), vec![]);
        let mut bad = base;
        bad.push(send(0, Added, "configmaps/default/d", 8));
        let v = watch_reliable(&history(bad), &[]);
        assert_eq!(oracles(&v), vec!["watch-reliable"]);
        assert!(v[0].message.contains("rev=7 MODIFIED configmaps/default/b"));
    }

    #[test]
    fn watch_reliable_judges_selector_watches_per_object_only() {
        // A label selector watch: a (matching) got an event, b (not matching) got none. On the
        // whole target that looks like a gap; with the target named as filtered it is not.
        let mut h = vec![
            commit(2, Added, "configmaps/default/a"),
            commit(3, Added, "configmaps/default/b"),
            commit(4, Modified, "configmaps/default/a"),
            open(0, "configmaps/default", Some("1")),
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
        ];
        assert_eq!(
            oracles(&watch_reliable(&history(h.clone()), &[])),
            vec!["watch-reliable"]
        );
        assert_eq!(
            watch_reliable(&history(h.clone()), &["configmaps/default"]),
            vec![]
        );
        // But a change to an object the watcher holds is owed even under a selector.
        h.extend([
            commit(5, Modified, "configmaps/default/a"),
            commit(6, Modified, "configmaps/default/b"),
        ]);
        h.push(send(0, Modified, "configmaps/default/b", 6));
        let v = watch_reliable(&history(h), &["configmaps/default"]);
        assert_eq!(oracles(&v), vec!["watch-reliable"]);
        assert!(v[0].message.contains("rev=5 MODIFIED configmaps/default/a"));
    }

    #[test]
    fn watch_guarantees_do_not_panic_on_a_field_selector_watch_of_one_object() {
        // A watch from "now" with fieldSelector=metadata.name=a: the snapshot's ADDED, then one
        // MODIFIED, its first and last live delivery. It vouches for the revisions after 4 up
        // to 4: none. This used to panic ("range start is greater than range end").
        let mut h = log();
        h.extend([
            open(1, "configmaps/default", None),
            send(1, Added, "configmaps/default/a", 2),
            send(1, Modified, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_reliable(&history(h.clone()), &[]), vec![]);
        assert_eq!(
            watch_guarantees(&history(h), &["configmaps/default"]),
            vec![]
        );
    }

    #[test]
    fn watch_guarantees_hold_on_a_clean_stream() {
        let mut h = log();
        h.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Bookmark, "", 3),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Added, "configmaps/default/b", 5),
            send(0, Bookmark, "", 5),
        ]);
        assert_eq!(watch_guarantees(&history(h), &[]), vec![]);
    }

    #[test]
    fn the_oracles_judge_real_histories_and_catch_a_dropped_delivery() {
        // A real api-smoke run holds; the same history with one live delivery removed does not.
        let scenario = crate::scenario::api_smoke::scenario();
        let report = crate::run::run(&scenario, 3, true);
        assert!(report.held(), "{:?}", report.violations);
        let h = report.events;
        assert_eq!(watch_guarantees(&h, &[]), vec![]);
        let dropped = h
            .iter()
            .rposition(
                |e| matches!(&e.kind, EventKind::WatchSend { kind, .. } if *kind == Modified),
            )
            .expect("api-smoke delivers a MODIFIED event");
        let mut bad = h.clone();
        let gone = bad.remove(dropped);
        let v = watch_reliable(&bad, &[]);
        assert_eq!(oracles(&v), vec!["watch-reliable"], "dropped {gone}");
    }
}
