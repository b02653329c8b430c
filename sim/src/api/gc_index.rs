//! What the garbage collector looks up, kept by storage on every commit and rewind: the key of
//! each uid, the keys of the objects with owner references, and the keys of the objects being
//! deleted (`metadata.deletionTimestamp` set). A pass visits only the objects it can act on
//! instead of every stored object, in the same (key) order, and finds owners by uid without
//! building a map first. kube-controller-manager's collector keeps the same facts in its
//! dependency graph (`uidToNode`, fed by informers); here a pass over every object, run after
//! most writes, was a tenth of a `standard` run.

use super::meta;
use kubesim_model::ObjectKey;
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::BTreeSet;

/// The index (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GcIndex {
    /// uid -> key (lookups only, never iterated).
    by_uid: FxHashMap<String, ObjectKey>,
    /// Objects with at least one owner reference.
    owned: BTreeSet<ObjectKey>,
    /// Objects with a deletion timestamp.
    deleting: BTreeSet<ObjectKey>,
}

/// The facts the index keeps about one object.
#[derive(PartialEq, Eq)]
struct Facts<'a> {
    uid: &'a str,
    owned: bool,
    deleting: bool,
}

fn facts(obj: Option<&Value>) -> Option<Facts<'_>> {
    obj.map(|o| Facts {
        uid: meta::uid(o),
        owned: meta::owner_references(o).next().is_some(),
        deleting: meta::deletion_timestamp(o).is_some(),
    })
}

/// Adds (`on`) or removes `key` from `set`.
fn place(set: &mut BTreeSet<ObjectKey>, key: &ObjectKey, on: bool) {
    if on {
        if !set.contains(key) {
            set.insert(key.clone());
        }
    } else {
        set.remove(key);
    }
}

impl GcIndex {
    /// Follows the object at `key` going from `old` to `new` (`None`: absent).
    pub(crate) fn update(&mut self, key: &ObjectKey, old: Option<&Value>, new: Option<&Value>) {
        let (old, new) = (facts(old), facts(new));
        if old == new {
            return; // the common write: none of the facts moved
        }
        if let Some(old) = &old {
            if self.by_uid.get(old.uid) == Some(key) {
                self.by_uid.remove(old.uid);
            }
        }
        if let Some(new) = &new {
            if !new.uid.is_empty() {
                self.by_uid.insert(new.uid.to_string(), key.clone());
            }
        }
        let (owned, deleting) = new.map_or((false, false), |n| (n.owned, n.deleting));
        place(&mut self.owned, key, owned);
        place(&mut self.deleting, key, deleting);
    }

    /// The key of the object with `uid`.
    pub(crate) fn key_of(&self, uid: &str) -> Option<&ObjectKey> {
        self.by_uid.get(uid)
    }

    /// The keys of the objects with owner references, in key order.
    pub(crate) fn owned(&self) -> impl Iterator<Item = &ObjectKey> {
        self.owned.iter()
    }

    /// The keys of the objects being deleted, in key order.
    pub(crate) fn deleting(&self) -> impl Iterator<Item = &ObjectKey> {
        self.deleting.iter()
    }

    /// The index of `objects`, built from scratch (tests compare it with the one kept).
    #[cfg(test)]
    pub(crate) fn of<'a>(objects: impl Iterator<Item = (&'a ObjectKey, &'a Value)>) -> Self {
        let mut index = Self::default();
        for (k, o) in objects {
            index.update(k, None, Some(o));
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new("pods", "default", name)
    }

    #[test]
    fn an_object_is_found_by_uid_and_listed_while_it_has_owners_or_is_being_deleted() {
        let mut index = GcIndex::default();
        let plain = json!({"metadata": {"uid": "u1"}});
        let owned = json!({"metadata": {"uid": "u1", "ownerReferences": [{"uid": "o"}]}});
        let deleting = json!({"metadata": {"uid": "u1", "ownerReferences": [{"uid": "o"}],
            "deletionTimestamp": "2026-01-01T00:00:00Z"}});
        index.update(&key("a"), None, Some(&plain));
        assert_eq!(index.key_of("u1"), Some(&key("a")));
        assert_eq!((index.owned().count(), index.deleting().count()), (0, 0));
        index.update(&key("a"), Some(&plain), Some(&owned));
        assert_eq!(index.owned().collect::<Vec<_>>(), [&key("a")]);
        index.update(&key("a"), Some(&owned), Some(&deleting));
        assert_eq!(index.deleting().collect::<Vec<_>>(), [&key("a")]);
        index.update(&key("a"), Some(&deleting), None);
        assert_eq!(index, GcIndex::default(), "a delete leaves nothing behind");
    }

    #[test]
    fn the_owned_objects_come_in_key_order() {
        let owned = |uid: &str| json!({"metadata": {"uid": uid, "ownerReferences": [{"uid": "o"}]}});
        let mut index = GcIndex::default();
        for (name, uid) in [("c", "u3"), ("a", "u1"), ("b", "u2")] {
            index.update(&key(name), None, Some(&owned(uid)));
        }
        let names: Vec<&str> = index.owned().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
