//! What the garbage collector looks up, kept by storage on every commit and rewind: each uid's
//! object (its key, and whether it waits for its dependents), the objects with owner references
//! (the uids they reference), and the objects being deleted (`metadata.deletionTimestamp` set).
//! A pass visits only the objects it can act on, in the same (key) order as a scan, and decides
//! whether every owner is solid without reading a JSON tree. kube-controller-manager's collector
//! keeps the same facts in its dependency graph (`uidToNode`, fed by informers); here a scan of
//! every object, after most writes, was a tenth of a `standard` run.

use super::delete::FINALIZER_FOREGROUND;
use super::meta;
use super::store::Index;
use kubesim_model::ObjectKey;
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The index (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GcIndex {
    /// uid -> its object (lookups only, never iterated).
    by_uid: FxHashMap<String, Owner>,
    /// Objects with at least one owner reference.
    owned: BTreeMap<ObjectKey, Dependent>,
    /// Objects with a deletion timestamp.
    deleting: BTreeSet<ObjectKey>,
}

/// A stored object as its dependents see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) key: ObjectKey,
    /// Being deleted in the foreground (deletion timestamp and the `foregroundDeletion`
    /// finalizer): it waits for its dependents.
    pub(crate) waiting: bool,
}

/// A stored object with owner references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dependent {
    /// The uids of its owner references, in order.
    pub(crate) owners: Vec<String>,
    pub(crate) deleting: bool,
}

/// The facts the index keeps about one object, read in place (`metadata` is looked up once:
/// every commit reads them, of the object before and after).
struct Facts<'a> {
    uid: &'a str,
    deleting: bool,
    waiting: bool,
    refs: &'a [Value],
}

impl<'a> Facts<'a> {
    fn of(obj: &'a Value) -> Self {
        let m = meta::meta(obj);
        let get = |f: &str| m.and_then(|m| m.get(f));
        let deleting = get("deletionTimestamp").and_then(Value::as_str).is_some();
        let waiting = deleting
            && get("finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|f| f.as_str() == Some(FINALIZER_FOREGROUND)));
        Self {
            uid: get("uid").and_then(Value::as_str).unwrap_or(""),
            deleting,
            waiting,
            refs: get("ownerReferences")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
        }
    }

    /// The uids of `metadata.ownerReferences` (empty when a reference has none).
    fn owners(&self) -> impl Iterator<Item = &'a str> {
        self.refs.iter().map(|r| meta::ref_str(r, "uid"))
    }

    fn same(&self, other: &Facts<'_>) -> bool {
        (self.uid, self.deleting, self.waiting) == (other.uid, other.deleting, other.waiting)
            && self.owners().eq(other.owners())
    }
}

impl Index for GcIndex {
    fn update(&mut self, key: &ObjectKey, old: Option<&Value>, new: Option<&Value>) {
        let (old, new) = (old.map(Facts::of), new.map(Facts::of));
        if let (Some(old), Some(new)) = (&old, &new) {
            if old.same(new) {
                return; // the common write: none of the facts moved
            }
        }
        if let Some(old) = &old {
            if self.by_uid.get(old.uid).is_some_and(|o| o.key == *key) {
                self.by_uid.remove(old.uid);
            }
        }
        let Some(new) = new else {
            self.owned.remove(key);
            self.deleting.remove(key);
            return;
        };
        if !new.uid.is_empty() {
            let owner = Owner {
                key: key.clone(),
                waiting: new.waiting,
            };
            self.by_uid.insert(new.uid.to_string(), owner);
        }
        let owners: Vec<String> = new.owners().map(str::to_string).collect();
        if owners.is_empty() {
            self.owned.remove(key);
        } else {
            let dependent = Dependent {
                owners,
                deleting: new.deleting,
            };
            self.owned.insert(key.clone(), dependent);
        }
        if new.deleting {
            if !self.deleting.contains(key) {
                self.deleting.insert(key.clone());
            }
        } else {
            self.deleting.remove(key);
        }
    }
}

impl GcIndex {
    /// The object with `uid`.
    pub(crate) fn owner(&self, uid: &str) -> Option<&Owner> {
        self.by_uid.get(uid)
    }

    /// The objects with owner references, in key order.
    pub(crate) fn owned(&self) -> impl Iterator<Item = (&ObjectKey, &Dependent)> {
        self.owned.iter()
    }

    /// The keys of the objects being deleted, in key order.
    pub(crate) fn deleting(&self) -> impl Iterator<Item = &ObjectKey> {
        self.deleting.iter()
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
            "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["foregroundDeletion"]}});
        index.update(&key("a"), None, Some(&plain));
        let owner = index.owner("u1").expect("indexed");
        assert_eq!((&owner.key, owner.waiting), (&key("a"), false));
        assert_eq!((index.owned().count(), index.deleting().count()), (0, 0));
        index.update(&key("a"), Some(&plain), Some(&owned));
        let (k, d) = index.owned().next().expect("owned");
        assert_eq!(
            (k, d.owners.as_slice(), d.deleting),
            (&key("a"), &["o".to_string()][..], false)
        );
        index.update(&key("a"), Some(&owned), Some(&deleting));
        assert_eq!(index.deleting().collect::<Vec<_>>(), [&key("a")]);
        assert!(
            index.owner("u1").expect("indexed").waiting,
            "foreground deletion waits"
        );
        assert!(index.owned().next().expect("owned").1.deleting);
        index.update(&key("a"), Some(&deleting), None);
        assert_eq!(index, GcIndex::default(), "a delete leaves nothing behind");
    }

    #[test]
    fn the_owned_objects_come_in_key_order() {
        let owned =
            |uid: &str| json!({"metadata": {"uid": uid, "ownerReferences": [{"uid": "o"}]}});
        let mut index = GcIndex::default();
        for (name, uid) in [("c", "u3"), ("a", "u1"), ("b", "u2")] {
            index.update(&key(name), None, Some(&owned(uid)));
        }
        let names: Vec<&str> = index.owned().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn a_write_that_changes_an_owner_reference_is_followed() {
        let refs = |uids: &[&str]| {
            let refs: Vec<Value> = uids.iter().map(|u| json!({"uid": u})).collect();
            json!({"metadata": {"uid": "d", "ownerReferences": refs}})
        };
        let mut index = GcIndex::default();
        index.update(&key("a"), None, Some(&refs(&["o1", "o2"])));
        index.update(&key("a"), Some(&refs(&["o1", "o2"])), Some(&refs(&["o1"])));
        assert_eq!(index.owned().next().expect("owned").1.owners, ["o1"]);
        index.update(&key("a"), Some(&refs(&["o1"])), Some(&refs(&[])));
        assert_eq!(
            index.owned().count(),
            0,
            "no references left: not a dependent"
        );
        assert_eq!(index, GcIndex::of([(&key("a"), &refs(&[]))].into_iter()));
    }
}
