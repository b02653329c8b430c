//! `no-stale-delete`: no object is deleted by name on the strength of an older incarnation
//! (Sieve's time travel: a controller that reads from a lagging API server cache decides to
//! delete `ns/name`, and the delete removes the object recreated under that name since).
//!
//! Judged from storage's commit log (every commit, oldest first; run with `compaction_window: 0`
//! to keep it whole), with a predicate saying which states of an object may be deleted (e.g. a
//! finished job). A deletion (the commit that sets `deletionTimestamp`, or removes an object that
//! had none) is a violation when the incarnation it removes was not deletable at that point
//! while an older incarnation of the same name (another uid) was deletable: whoever deleted it
//! could only have meant the older one. A delete with a uid precondition cannot do this (the API
//! server answers 409), which is the fix.

use super::names;
use super::Violation;
use crate::api::LogEntry;
use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use serde_json::Value;
use std::collections::BTreeMap;

fn uid(o: &Value) -> &str {
    o["metadata"]["uid"].as_str().unwrap_or("")
}

fn deleting(o: &Value) -> bool {
    !o["metadata"]["deletionTimestamp"].is_null()
}

/// What the log said so far about one name.
#[derive(Default)]
struct Name {
    /// The live incarnation's last state.
    current: Option<Value>,
    /// The last revision at which an incarnation was deletable, with its uid.
    deletable: Option<(String, u64)>,
}

/// Checks the commits on objects of `resource` (`ObjectKey::resource`, e.g.
/// `replicagroups.kubesim.io`) in `log`; `deletable` says which states may be deleted;
/// `history` gives each revision's commit time and event id.
pub fn no_stale_delete(
    log: &[LogEntry],
    history: &[HistoryEvent],
    resource: &str,
    deletable: impl Fn(&Value) -> bool,
) -> Vec<Violation> {
    let commits: BTreeMap<u64, (u64, u64)> = history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Commit { rev, .. } => Some((*rev, (e.time_us, e.id))),
            _ => None,
        })
        .collect();
    let mut names: BTreeMap<String, Name> = BTreeMap::new();
    let mut out = Vec::new();
    for entry in log.iter().filter(|e| e.key.resource == resource) {
        let key = entry.key.to_string();
        let name = names.entry(key.clone()).or_default();
        let before = name.current.take();
        let after = (*entry.object).clone();
        // The commit that deletes: sets deletionTimestamp, or removes an object that had none.
        let deletion = match entry.kind {
            WatchEventType::Deleted => before.as_ref().is_some_and(|b| !deleting(b)),
            _ => deleting(&after) && before.as_ref().is_some_and(|b| !deleting(b)),
        };
        if let (true, Some(b)) = (deletion, before.as_ref()) {
            if !deletable(b) {
                if let Some((old_uid, old_rev)) =
                    name.deletable.as_ref().filter(|(u, _)| u != uid(b))
                {
                    let (time_us, event_id) = commits.get(&entry.rev).copied().unwrap_or((0, 0));
                    out.push(Violation {
                        oracle: names::NO_STALE_DELETE,
                        time_us,
                        event_id: commits.get(&entry.rev).map(|_| event_id),
                        message: format!(
                            "{key} (uid {}) deleted at rev {} while not deletable; an older \
                             incarnation (uid {old_uid}) was last deletable at rev {old_rev}: a delete \
                             by name decided from a stale view",
                            uid(b),
                            entry.rev
                        ),
                    });
                }
            }
        }
        if deletable(&after) {
            name.deletable = Some((uid(&after).to_string(), entry.rev));
        }
        if entry.kind != WatchEventType::Deleted {
            name.current = Some(after);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim_model::ObjectKey;
    use serde_json::json;
    use std::sync::Arc;

    const RES: &str = "replicagroups.kubesim.io";

    fn group(uid: &str, replicas: u32) -> Value {
        json!({ "metadata": { "name": "g", "namespace": "default", "uid": uid },
                "spec": { "replicas": replicas } })
    }

    fn entry(rev: u64, kind: WatchEventType, object: Value) -> LogEntry {
        LogEntry {
            rev,
            kind,
            key: ObjectKey::new(RES, "default", "g"),
            object: Arc::new(object),
            prev: None,
        }
    }

    fn finished(o: &Value) -> bool {
        o["spec"]["replicas"] == 0
    }

    fn commits(log: &[LogEntry]) -> Vec<HistoryEvent> {
        log.iter()
            .map(|e| HistoryEvent {
                id: e.rev * 10,
                time_us: e.rev * 1_000_000,
                host: "apiserver-0".into(),
                kind: EventKind::Commit {
                    rev: e.rev,
                    op: e.kind,
                    key: e.key.to_string(),
                },
            })
            .collect()
    }

    #[test]
    fn deleting_a_recreated_object_that_only_its_predecessor_allowed_is_caught() {
        use WatchEventType::*;
        let log = vec![
            entry(2, Added, group("a", 2)),
            entry(3, Modified, group("a", 0)),
            entry(4, Deleted, group("a", 0)),
            entry(5, Added, group("b", 3)),
            entry(6, Deleted, group("b", 3)),
        ];
        let v = no_stale_delete(&log, &commits(&log), RES, finished);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].oracle, "no-stale-delete");
        assert_eq!(v[0].event_id, Some(60));
        assert_eq!(v[0].time_us, 6_000_000);
        assert!(v[0].message.contains("uid b") && v[0].message.contains("uid a"));
    }

    #[test]
    fn deleting_deletable_objects_and_never_deletable_ones_is_quiet() {
        use WatchEventType::*;
        let log = vec![
            entry(2, Added, group("a", 2)),
            entry(3, Modified, group("a", 0)),
            entry(4, Deleted, group("a", 0)),
            entry(5, Added, group("b", 3)),
            entry(6, Modified, group("b", 0)),
            entry(7, Deleted, group("b", 0)),
        ];
        assert!(no_stale_delete(&log, &commits(&log), RES, finished).is_empty());
        // A deletion nothing ever made deletable is another bug, not a stale one.
        let log = vec![
            entry(2, Added, group("a", 2)),
            entry(3, Deleted, group("a", 2)),
        ];
        assert!(no_stale_delete(&log, &commits(&log), RES, finished).is_empty());
    }
}
