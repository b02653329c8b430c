//! Watch guarantees, per watcher (a watcher is one stream, `w<N>` in the history), as etcd's
//! robustness tests name them (`tests/robustness/validate/watch.go`): ordered, unique, atomic,
//! bookmarkable, reliable and resumable ([`watch_guarantees`] runs all six).
//!
//! - [`streams`]: the streams and the commit log as the history shows them.
//! - [`order`]: ordered, unique, atomic, bookmarkable, resumable.
//! - [`reliable`]: no gap against the commit log.

pub mod order;
pub mod reliable;
pub mod streams;

pub use order::{watch_atomic, watch_bookmarkable, watch_ordered, watch_resumable, watch_unique};
pub use reliable::watch_reliable;
pub use streams::target_matches;

use super::Violation;
use kubesim_model::HistoryEvent;

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
    use kubesim_model::{EventKind, WatchEventType};
    use WatchEventType::{Added, Bookmark, Modified};

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
