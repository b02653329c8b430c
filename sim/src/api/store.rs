//! Storage that behaves like etcd: one global revision, bumped by every write; every object's
//! `metadata.resourceVersion` is the revision of its last write; a log of commits (with the
//! previous object) kept until compaction, for watches and for lists at an older revision.

use super::gc_index::GcIndex;
use super::label_index::LabelIndex;
use super::{meta, LogEntry};
use kubesim_model::{ApiError, ObjectKey, WatchEventType};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// An index storage keeps beside its objects ([`LabelIndex`], [`GcIndex`]): told of every
/// change of one object, on commit and on rewind.
pub(crate) trait Index: Default {
    /// Follows the object at `key` going from `old` to `new` (`None`: absent).
    fn update(&mut self, key: &ObjectKey, old: Option<&Value>, new: Option<&Value>);

    /// The index of `objects`, built from scratch (tests compare it with the one kept).
    #[cfg(test)]
    fn of<'a>(objects: impl Iterator<Item = (&'a ObjectKey, &'a Value)>) -> Self {
        let mut index = Self::default();
        for (k, o) in objects {
            index.update(k, None, Some(o));
        }
        index
    }
}

/// The revision an empty etcd starts at.
pub(crate) const REVISION_INITIAL: u64 = 1;

/// The key-value store with its revision log.
#[derive(Clone)]
pub(crate) struct Store {
    objects: BTreeMap<ObjectKey, Arc<Value>>,
    /// `objects` by label, kept with it.
    labels: LabelIndex,
    /// What the garbage collector looks up, kept with `objects`.
    gc: GcIndex,
    revision: u64,
    /// The log holds exactly the commits with revision in `(compacted, revision]`.
    compacted: u64,
    log: VecDeque<LogEntry>,
    /// Commits not yet handed to [`Store::take_commits`].
    commits_pending: Vec<LogEntry>,
    /// 0 = never compact automatically.
    compaction_window: u64,
}

impl Store {
    pub(crate) fn new(compaction_window: u64) -> Self {
        Self {
            objects: BTreeMap::new(),
            labels: LabelIndex::default(),
            gc: GcIndex::default(),
            revision: REVISION_INITIAL,
            compacted: 0,
            log: VecDeque::new(),
            commits_pending: Vec::new(),
            compaction_window,
        }
    }

    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn compacted(&self) -> u64 {
        self.compacted
    }

    pub(crate) fn get(&self, key: &ObjectKey) -> Option<&Arc<Value>> {
        self.objects.get(key)
    }

    /// Every object, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&ObjectKey, &Arc<Value>)> {
        self.objects.iter()
    }

    /// The objects of one resource (`ResourceType::short_name`), in key order.
    pub(crate) fn range(&self, resource: &str) -> impl Iterator<Item = (&ObjectKey, &Arc<Value>)> {
        let from = ObjectKey::new(resource, "", "");
        let resource = resource.to_string();
        self.objects
            .range(from..)
            .take_while(move |(k, _)| k.resource == resource)
    }

    /// The objects of `resource` labelled `label=value`, in key order (a subsequence of
    /// [`Store::range`]).
    pub(crate) fn labelled<'a>(
        &'a self,
        resource: &str,
        label: &str,
        value: &str,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
        self.labels.keys(resource, label, value).map(|k| {
            self.objects
                .get_key_value(k)
                .expect("invariant: the label index holds stored keys only")
        })
    }

    /// The garbage collector's index of the stored objects.
    pub(crate) fn gc_index(&self) -> &GcIndex {
        &self.gc
    }

    /// The stored object at `key`, which an index of this store holds.
    pub(crate) fn indexed(&self, key: &ObjectKey) -> &Arc<Value> {
        self.objects
            .get(key)
            .expect("invariant: the indexes hold stored keys only")
    }

    /// Keeps the indexes with the object at `key` going from `old` to `new`.
    fn follow(&mut self, key: &ObjectKey, old: Option<&Value>, new: Option<&Value>) {
        self.labels.update(key, old, new);
        self.gc.update(key, old, new);
    }

    /// Writes `object` (or removes the key, for `Deleted`) at revision `revision + 1`, setting
    /// its `metadata.resourceVersion`; returns the stored object. For `Deleted`, `object` is the
    /// last state, which the log keeps with the delete's revision (as etcd's watch does).
    pub(crate) fn commit(
        &mut self,
        kind: WatchEventType,
        key: &ObjectKey,
        mut object: Value,
    ) -> Arc<Value> {
        assert!(
            matches!(
                kind,
                WatchEventType::Added | WatchEventType::Modified | WatchEventType::Deleted
            ),
            "invariant: only writes are committed"
        );
        let rev = self.revision + 1;
        meta::set_str(&mut object, "resourceVersion", rev.to_string());
        let object = Arc::new(object);
        let prev = match kind {
            WatchEventType::Deleted => self.objects.remove(key),
            // An existing key keeps its map entry: no key copy for a MODIFIED write.
            _ => match self.objects.get_mut(key) {
                Some(slot) => Some(std::mem::replace(slot, Arc::clone(&object))),
                None => self.objects.insert(key.clone(), Arc::clone(&object)),
            },
        };
        assert_eq!(
            prev.is_none(),
            kind == WatchEventType::Added,
            "invariant: ADDED exactly when the key was absent ({key})"
        );
        let now = (kind != WatchEventType::Deleted).then_some(&*object);
        self.follow(key, prev.as_deref(), now);
        if let Some(last) = self.log.back() {
            assert!(last.rev < rev, "invariant: log entries are ordered");
        }
        let entry = LogEntry {
            rev,
            kind,
            key: key.clone(),
            object: Arc::clone(&object),
            prev,
        };
        self.log.push_back(entry.clone());
        self.commits_pending.push(entry);
        self.revision = rev;
        if self.compaction_window > 0 && rev > self.compaction_window {
            self.compact(rev - self.compaction_window);
        }
        object
    }

    /// Drops log entries with revision <= `rev` (clamped to the current revision).
    pub(crate) fn compact(&mut self, rev: u64) {
        let rev = rev.min(self.revision);
        if rev <= self.compacted {
            return;
        }
        while self.log.front().is_some_and(|e| e.rev <= rev) {
            self.log.pop_front();
        }
        self.compacted = rev;
        assert!(
            self.log.front().is_none_or(|e| e.rev > self.compacted),
            "invariant: the log starts after the compacted revision"
        );
    }

    /// Log entries with revision > `after`, oldest first.
    pub(crate) fn log_since(&self, after: u64) -> Result<Vec<LogEntry>, ApiError> {
        Ok(self.log_after(after)?.cloned().collect())
    }

    /// Log entries with revision > `after`, oldest first, by reference (a follower clones only
    /// what it keeps).
    pub(crate) fn log_after(
        &self,
        after: u64,
    ) -> Result<impl Iterator<Item = &LogEntry> + '_, ApiError> {
        if after < self.compacted {
            return Err(ApiError::too_old_resource_version(after, self.compacted));
        }
        let start = self.log.partition_point(|e| e.rev <= after);
        Ok(self.log.range(start..))
    }

    /// Undoes every commit after `rev`, as if storage had stopped there (the log keeps the
    /// commits up to `rev`, so watches can still resume from them). 410 Expired when `rev` is
    /// compacted; a `rev` at or past the current revision changes nothing.
    pub(crate) fn rewind(&mut self, rev: u64) -> Result<(), ApiError> {
        if rev < self.compacted {
            return Err(ApiError::too_old_resource_version(rev, self.compacted));
        }
        while self.log.back().is_some_and(|e| e.rev > rev) {
            let entry = self.log.pop_back().expect("invariant: checked non-empty");
            match (entry.kind, entry.prev) {
                (WatchEventType::Added, _) => {
                    let gone = self.objects.remove(&entry.key);
                    self.follow(&entry.key, gone.as_deref(), None);
                }
                (_, Some(prev)) => {
                    let undone = self.objects.get(&entry.key).cloned();
                    self.follow(&entry.key, undone.as_deref(), Some(&*prev));
                    self.objects.insert(entry.key, prev);
                }
                (_, None) => panic!("invariant: a MODIFIED or DELETED entry has a prev object"),
            }
        }
        self.revision = self
            .revision
            .min(rev.max(self.compacted).max(REVISION_INITIAL));
        self.commits_pending.retain(|e| e.rev <= rev);
        assert!(
            self.log.back().is_none_or(|e| e.rev <= self.revision),
            "invariant: the log ends at the revision"
        );
        Ok(())
    }

    pub(crate) fn take_commits(&mut self) -> Vec<LogEntry> {
        std::mem::take(&mut self.commits_pending)
    }

    /// The objects of `resource` as they were at revision `rev`, rebuilt by undoing the log
    /// backwards; `None` when `rev` is compacted (or in the future).
    pub(crate) fn snapshot(
        &self,
        resource: &str,
        rev: u64,
    ) -> Option<BTreeMap<ObjectKey, Arc<Value>>> {
        if rev < self.compacted || rev > self.revision {
            return None;
        }
        let mut objects: BTreeMap<ObjectKey, Arc<Value>> = self
            .range(resource)
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        for entry in self.log.iter().rev().take_while(|e| e.rev > rev) {
            if entry.key.resource != resource {
                continue;
            }
            match (&entry.kind, &entry.prev) {
                (WatchEventType::Added, _) => {
                    objects.remove(&entry.key);
                }
                (_, Some(prev)) => {
                    objects.insert(entry.key.clone(), Arc::clone(prev));
                }
                (_, None) => panic!("invariant: a MODIFIED or DELETED entry has a prev object"),
            }
        }
        Some(objects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new("configmaps", "default", name)
    }

    #[test]
    fn an_empty_store_is_at_revision_one_and_every_write_bumps_it_by_one() {
        let mut s = Store::new(0);
        assert_eq!(s.revision(), 1);
        let a = s.commit(WatchEventType::Added, &key("a"), json!({"metadata": {}}));
        assert_eq!(a["metadata"]["resourceVersion"], "2");
        s.commit(WatchEventType::Modified, &key("a"), json!({"metadata": {}}));
        s.commit(WatchEventType::Deleted, &key("a"), json!({"metadata": {}}));
        assert_eq!(s.revision(), 4);
        let revs: Vec<u64> = s.take_commits().iter().map(|e| e.rev).collect();
        assert_eq!(revs, vec![2, 3, 4]);
        assert!(s.take_commits().is_empty());
    }

    #[test]
    fn automatic_compaction_keeps_only_the_window() {
        let mut s = Store::new(2);
        for i in 0..5 {
            s.commit(WatchEventType::Added, &key(&format!("o{i}")), json!({}));
        }
        assert_eq!((s.revision(), s.compacted()), (6, 4));
        assert_eq!(s.log_since(4).expect("not compacted").len(), 2);
        let e = s.log_since(3).expect_err("compacted");
        assert_eq!(e.code(), 410);
    }

    #[test]
    fn a_snapshot_undoes_the_log_back_to_the_revision() {
        let mut s = Store::new(0);
        s.commit(WatchEventType::Added, &key("a"), json!({"v": 1})); // 2
        s.commit(WatchEventType::Modified, &key("a"), json!({"v": 2})); // 3
        s.commit(WatchEventType::Added, &key("b"), json!({"v": 1})); // 4
        s.commit(WatchEventType::Deleted, &key("a"), json!({"v": 2})); // 5
        let at3 = s.snapshot("configmaps", 3).expect("kept");
        assert_eq!(at3.len(), 1);
        assert_eq!(at3[&key("a")]["v"], 2);
        assert_eq!(at3[&key("a")]["metadata"]["resourceVersion"], "3");
        assert!(s.snapshot("configmaps", 1).expect("kept").is_empty());
        s.compact(4);
        assert!(s.snapshot("configmaps", 3).is_none());
    }

    #[test]
    fn a_rewind_restores_the_objects_and_the_revision_of_an_earlier_commit() {
        let mut s = Store::new(0);
        s.commit(WatchEventType::Added, &key("a"), json!({"v": 1})); // 2
        s.commit(WatchEventType::Added, &key("b"), json!({"v": 1})); // 3
        s.commit(WatchEventType::Modified, &key("a"), json!({"v": 2})); // 4
        s.commit(WatchEventType::Deleted, &key("b"), json!({"v": 1})); // 5
        s.rewind(3).expect("not compacted");
        assert_eq!(s.revision(), 3);
        assert_eq!(s.get(&key("a")).expect("a")["v"], 1);
        assert_eq!(
            s.get(&key("b")).expect("b back")["metadata"]["resourceVersion"],
            "3"
        );
        assert_eq!(s.log_since(1).expect("kept").len(), 2);
        let next = s.commit(WatchEventType::Modified, &key("a"), json!({"v": 3}));
        assert_eq!(next["metadata"]["resourceVersion"], "4");
        s.compact(4);
        assert_eq!(s.rewind(2).expect_err("compacted").code(), 410);
    }

    #[test]
    fn the_label_index_follows_every_commit_and_rewind() {
        let mut s = Store::new(0);
        let app = |a: &str| json!({"metadata": {"labels": {"app": a}}});
        let kept = |s: &Store| {
            assert_eq!(
                s.labels,
                LabelIndex::of(s.iter().map(|(k, v)| (k, &**v))),
                "the kept index is the index of the stored objects"
            );
            let names = |a: &str| -> Vec<String> {
                s.labelled("configmaps", "app", a)
                    .map(|(k, _)| k.name.clone())
                    .collect()
            };
            (names("x"), names("y"))
        };
        s.commit(WatchEventType::Added, &key("a"), app("x")); // 2
        s.commit(WatchEventType::Added, &key("b"), app("x")); // 3
        assert_eq!(kept(&s), (vec!["a".into(), "b".into()], vec![]));
        s.commit(WatchEventType::Modified, &key("a"), app("y")); // 4
        s.commit(WatchEventType::Deleted, &key("b"), app("x")); // 5
        s.commit(WatchEventType::Added, &key("c"), app("y")); // 6
        assert_eq!(kept(&s), (vec![], vec!["a".into(), "c".into()]));
        s.rewind(3).expect("not compacted");
        assert_eq!(kept(&s), (vec!["a".into(), "b".into()], vec![]));
    }

    #[test]
    fn the_gc_index_follows_every_commit_and_rewind() {
        let mut s = Store::new(0);
        let obj = |uid: &str, owner: bool, deleting: bool| {
            let mut o = json!({"metadata": {"uid": uid}});
            if owner {
                o["metadata"]["ownerReferences"] = json!([{"uid": "owner"}]);
            }
            if deleting {
                o["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            }
            o
        };
        let kept = |s: &Store| {
            assert_eq!(
                s.gc,
                GcIndex::of(s.iter().map(|(k, v)| (k, &**v))),
                "the kept index is the index of the stored objects"
            );
            let names = |keys: &mut dyn Iterator<Item = &ObjectKey>| -> Vec<String> {
                keys.map(|k| k.name.clone()).collect()
            };
            (
                names(&mut s.gc.owned().map(|(k, _)| k)),
                names(&mut s.gc.deleting()),
                s.gc.owner("u1").map(|o| o.key.name.clone()),
            )
        };
        s.commit(WatchEventType::Added, &key("a"), obj("u1", false, false)); // 2
        s.commit(WatchEventType::Added, &key("b"), obj("u2", true, false)); // 3
        assert_eq!(kept(&s), (vec!["b".into()], vec![], Some("a".into())));
        s.commit(WatchEventType::Modified, &key("a"), obj("u1", true, true)); // 4
        s.commit(WatchEventType::Deleted, &key("b"), obj("u2", true, false)); // 5
        assert_eq!(
            kept(&s),
            (vec!["a".into()], vec!["a".into()], Some("a".into()))
        );
        s.commit(WatchEventType::Deleted, &key("a"), obj("u1", true, true)); // 6
        assert_eq!(kept(&s), (vec![], vec![], None));
        s.rewind(3).expect("not compacted");
        assert_eq!(kept(&s), (vec!["b".into()], vec![], Some("a".into())));
    }
}
