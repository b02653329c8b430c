//! `watch-reliable`: no gap against storage's commit log (etcd's "reliable").

use super::streams::{streams, target_matches, Commits, Delivery};
use crate::oracle::names;
use crate::oracle::violation::violation;
use crate::oracle::Violation;
use kubesim_model::{HistoryEvent, WatchEventType};
use std::collections::BTreeSet;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::*;
    use kubesim_model::EventKind;
    use WatchEventType::{Added, Bookmark, Deleted, Modified};

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
}
