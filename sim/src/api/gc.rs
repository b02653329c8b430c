//! The garbage collector, as one synchronous pass over storage (after kube-controller-manager's
//! `pkg/controller/garbagecollector`: `attemptToDeleteItem`, `orphanDependents`,
//! `processDeletingDependentsItem`). Every write goes through the API semantics (update and
//! delete paths), so it shows up in the log like the real collector's requests.
//!
//! A pass has three phases, in this order, each over objects in key order:
//! 1. orphan: for every owner being deleted with the `orphan` finalizer, remove the
//!    ownerReferences to it from its dependents, then remove the finalizer;
//! 2. dependents: an object none of whose owners is "solid" (absent owners, or owners being
//!    deleted in the foreground) is deleted (in the foreground when a foreground-deleting owner
//!    waits for it and it has dependents of its own, else with the propagation its own
//!    finalizers ask for); an object with a solid owner loses its references to absent and
//!    waiting owners;
//! 3. foreground: an owner being deleted with `foregroundDeletion` that no remaining dependent
//!    blocks (`blockOwnerDeletion: true`) loses the finalizer (and is removed if it was the
//!    last one).
//!
//! A pass reads storage's [`GcIndex`](super::gc_index::GcIndex): it visits only the objects with
//! owner references and those being deleted, and finds owners by uid.
//!
//! Owners are matched by uid, in the dependent's namespace or cluster-scoped. Differences from
//! the real collector: no informer delay or retries (the caller decides when a pass runs);
//! ownerReference `kind`/`apiVersion` are not checked against the owner.

use super::delete::{FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use super::update::UpdateScope;
use super::{meta, ApiState, DeleteOptions, Propagation};
use kubesim_model::{ObjectKey, ResourceType};
use serde_json::Value;
use std::sync::Arc;

/// How a dependent sees one of its owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnerState {
    /// Exists and is not being deleted in the foreground.
    Solid,
    /// Exists and is being deleted in the foreground: it waits for its dependents.
    Waiting,
    /// Does not exist (or exists with another uid).
    Absent,
}

use meta::has_finalizer;

impl ApiState {
    pub(crate) fn type_of(&self, resource: &str) -> Option<ResourceType> {
        self.types
            .values()
            .find(|t| t.short_name() == resource)
            .cloned()
    }

    /// How `dependent` sees its owner with `uid`: absent when no object has that uid (or it
    /// lives in another namespace), waiting when it is being deleted in the foreground, else
    /// solid. Read from storage's GC index, without reading the owner.
    fn owner_state(&self, dependent: &ObjectKey, uid: &str) -> OwnerState {
        match self.store.gc_index().owner(uid) {
            None => OwnerState::Absent,
            Some(o) if !o.key.namespace.is_empty() && o.key.namespace != dependent.namespace => {
                OwnerState::Absent
            }
            Some(o) if o.waiting => OwnerState::Waiting,
            Some(_) => OwnerState::Solid,
        }
    }

    /// The stored objects with owner references, in key order.
    fn owned(&self) -> impl Iterator<Item = (&ObjectKey, &Arc<Value>)> {
        let store = &self.store;
        store.gc_index().owned().map(|(k, _)| (k, store.indexed(k)))
    }

    /// The stored objects being deleted, in key order.
    fn deleting(&self) -> impl Iterator<Item = (&ObjectKey, &Arc<Value>)> {
        let store = &self.store;
        store.gc_index().deleting().map(|k| (k, store.indexed(k)))
    }

    /// Whether every owner `obj` (at `key`) references is solid, as a pass sees it.
    pub(crate) fn owners_solid(&self, key: &ObjectKey, obj: &Value) -> bool {
        meta::owner_references(obj)
            .all(|r| self.owner_state(key, meta::ref_str(r, "uid")) == OwnerState::Solid)
    }

    /// Whether every dependent not being deleted sees all its owners solid: then the dependents
    /// phase has nothing to do. Read in place, without copying a key or a reference (the common
    /// case of a pass, so it must be cheap).
    fn all_owners_solid(&self) -> bool {
        self.store
            .gc_index()
            .owned()
            .filter(|(_, d)| !d.deleting)
            .all(|(k, d)| {
                d.owners
                    .iter()
                    .all(|uid| self.owner_state(k, uid) == OwnerState::Solid)
            })
    }

    /// Rewrites the object at `key` with `edit` applied, through the update path. Returns
    /// whether it wrote.
    fn gc_edit(&mut self, key: &ObjectKey, edit: impl FnOnce(&mut Value)) -> bool {
        let (Some(t), Some(cur)) = (self.type_of(&key.resource), self.store.get(key).cloned())
        else {
            return false;
        };
        let mut obj = Value::clone(&cur);
        edit(&mut obj);
        let before = self.store.revision();
        let result = self.update_object(&t, key, obj, UpdateScope::Main);
        assert!(
            result.is_ok(),
            "invariant: a gc edit of the current object is valid: {result:?}"
        );
        self.store.revision() > before
    }

    fn dependents_of(&self, uid: &str) -> Vec<(ObjectKey, Arc<Value>)> {
        let store = &self.store;
        store
            .gc_index()
            .owned()
            .filter(|(_, d)| d.owners.iter().any(|u| u == uid))
            .map(|(k, _)| (k.clone(), Arc::clone(store.indexed(k))))
            .collect()
    }
}

/// One pass; returns how many writes it made. See the module documentation.
pub(crate) fn collect_garbage(state: &mut ApiState, now: &str) -> usize {
    let rev_before = state.revision();

    // 1. Orphan.
    let orphaning: Vec<(ObjectKey, String)> = state
        .deleting()
        .filter(|(_, o)| has_finalizer(o, FINALIZER_ORPHAN))
        .map(|(k, o)| (k.clone(), meta::uid(o).to_string()))
        .collect();
    for (owner, uid) in orphaning {
        for (dep, _) in state.dependents_of(&uid) {
            state.gc_edit(&dep, |o| meta::remove_owner_ref(o, &uid));
        }
        state.gc_edit(&owner, |o| {
            let rest: Vec<String> = meta::finalizers(o)
                .into_iter()
                .filter(|f| f != FINALIZER_ORPHAN)
                .collect();
            meta::set_finalizers(o, &rest);
        });
    }

    // 2. Dependents, with their references read once. The phase writes only for a dependent
    // with an owner that is not solid, and only its own writes can make an owner not solid, so
    // when none is at its start it does nothing.
    let dependents: Vec<(ObjectKey, Vec<meta::OwnerRef>)> = if state.all_owners_solid() {
        Vec::new()
    } else {
        // Every owned object has references (the index lists only those).
        state
            .owned()
            .filter(|(_, o)| meta::deletion_timestamp(o).is_none())
            .map(|(k, o)| (k.clone(), meta::owner_refs(o)))
            .collect()
    };
    for (key, refs) in &dependents {
        let states: Vec<(String, OwnerState)> = refs
            .iter()
            .map(|r| (r.uid.clone(), state.owner_state(key, &r.uid)))
            .collect();
        if states.iter().all(|(_, s)| *s == OwnerState::Solid) {
            continue; // the common case: nothing to do, and nothing of this dependent changed
        }
        let Some(obj) = state.store.get(key).cloned() else {
            continue;
        };
        let key = key.clone();
        if refs.is_empty() || meta::deletion_timestamp(&obj).is_some() {
            continue;
        }
        let solid = states.iter().any(|(_, s)| *s == OwnerState::Solid);
        if solid {
            let stale: Vec<String> = states
                .iter()
                .filter(|(_, s)| *s != OwnerState::Solid)
                .map(|(u, _)| u.clone())
                .collect();
            if !stale.is_empty() {
                state.gc_edit(&key, |o| {
                    for u in &stale {
                        meta::remove_owner_ref(o, u);
                    }
                });
            }
            continue;
        }
        let waiting = states.iter().any(|(_, s)| *s == OwnerState::Waiting);
        let propagation = if waiting && !state.dependents_of(meta::uid(&obj)).is_empty() {
            Some(Propagation::Foreground)
        } else {
            None
        };
        let Some(t) = state.type_of(&key.resource) else {
            continue;
        };
        let opts = DeleteOptions {
            precondition_uid: Some(meta::uid(&obj).to_string()),
            propagation,
            ..DeleteOptions::default()
        };
        let result = state.delete_object(&t, &key, &opts, now);
        assert!(
            result.is_ok(),
            "invariant: gc deletes what it just read: {result:?}"
        );
    }

    // 3. Foreground completion.
    let foreground: Vec<(ObjectKey, String)> = state
        .deleting()
        .filter(|(_, o)| has_finalizer(o, FINALIZER_FOREGROUND))
        .map(|(k, o)| (k.clone(), meta::uid(o).to_string()))
        .collect();
    for (owner, uid) in foreground {
        let blocked = state.dependents_of(&uid).iter().any(|(_, d)| {
            meta::owner_refs(d)
                .iter()
                .any(|r| r.uid == uid && r.block_owner_deletion)
        });
        if !blocked {
            state.gc_edit(&owner, |o| {
                let rest: Vec<String> = meta::finalizers(o)
                    .into_iter()
                    .filter(|f| f != FINALIZER_FOREGROUND)
                    .collect();
                meta::set_finalizers(o, &rest);
            });
        }
    }

    // 4. The namespace controller.
    state.finalize_namespaces(now);

    let writes = state.revision() - rev_before;
    usize::try_from(writes).expect("invariant: writes of one pass fit in usize")
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use serde_json::{json, Value};

    fn owned(name: &str, owner: &Value, block: bool) -> Value {
        json!({"metadata": {"name": name, "ownerReferences": [{
            "apiVersion": "v1", "kind": "ConfigMap",
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "blockOwnerDeletion": block,
        }]}})
    }

    fn exists(s: &mut ApiState, name: &str) -> bool {
        get(s, &cm(), name).is_ok()
    }

    #[test]
    fn background_deletion_removes_dependents_after_the_owner_is_gone() {
        let mut s = state();
        let owner = create(&mut s, &cm(), json!({"metadata": {"name": "owner"}})).expect("owner");
        create(&mut s, &cm(), owned("dep", &owner, false)).expect("dep");
        create(&mut s, &cm(), json!({"metadata": {"name": "free"}})).expect("free");
        assert_eq!(s.collect_garbage(LATER), 0, "owner present: nothing to do");
        delete(&mut s, &cm(), "owner").expect("deleted");
        assert_eq!(s.collect_garbage(LATER), 1);
        assert!(!exists(&mut s, "dep") && exists(&mut s, "free"));
    }

    #[test]
    fn a_dependent_of_a_recreated_owner_with_another_uid_is_collected() {
        let mut s = state();
        let owner = create(&mut s, &cm(), json!({"metadata": {"name": "owner"}})).expect("owner");
        create(&mut s, &cm(), owned("dep", &owner, false)).expect("dep");
        delete(&mut s, &cm(), "owner").expect("deleted");
        create(&mut s, &cm(), json!({"metadata": {"name": "owner"}})).expect("recreated");
        s.collect_garbage(LATER);
        assert!(!exists(&mut s, "dep"));
    }

    #[test]
    fn foreground_deletion_waits_for_blocking_dependents_then_removes_the_owner() {
        let mut s = state();
        let owner = create(&mut s, &cm(), json!({"metadata": {"name": "owner"}})).expect("owner");
        let dep = owned("dep", &owner, true);
        let mut dep_with_finalizer = dep.clone();
        dep_with_finalizer["metadata"]["finalizers"] = json!(["hold"]);
        create(&mut s, &cm(), dep_with_finalizer).expect("dep");
        let opts = DeleteOptions {
            propagation: Some(Propagation::Foreground),
            ..DeleteOptions::default()
        };
        delete_with(&mut s, &cm(), "owner", opts).expect("deleting");
        s.collect_garbage(LATER);
        assert!(
            exists(&mut s, "owner"),
            "dep is still there (finalizer) and blocks"
        );
        let d = get(&mut s, &cm(), "dep").expect("dep");
        assert!(d["metadata"]["deletionTimestamp"].is_string());
        patch(
            &mut s,
            &cm(),
            "dep",
            PatchType::Merge,
            json!({"metadata": {"finalizers": null}}),
        )
        .expect("released");
        assert_eq!(s.collect_garbage(LATER), 1);
        assert!(!exists(&mut s, "owner"));
    }

    #[test]
    fn orphan_deletion_removes_the_owner_reference_and_keeps_the_dependent() {
        let mut s = state();
        let owner = create(&mut s, &cm(), json!({"metadata": {"name": "owner"}})).expect("owner");
        create(&mut s, &cm(), owned("dep", &owner, false)).expect("dep");
        let opts = DeleteOptions {
            propagation: Some(Propagation::Orphan),
            ..DeleteOptions::default()
        };
        delete_with(&mut s, &cm(), "owner", opts).expect("deleting");
        assert_eq!(s.collect_garbage(LATER), 2);
        assert!(!exists(&mut s, "owner"));
        let d = get(&mut s, &cm(), "dep").expect("dep kept");
        assert!(d["metadata"].get("ownerReferences").is_none());
    }

    #[test]
    fn a_dependent_with_another_live_owner_only_loses_the_dangling_reference() {
        let mut s = state();
        let a = create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("a");
        let b = create(&mut s, &cm(), json!({"metadata": {"name": "b"}})).expect("b");
        let mut dep = owned("dep", &a, false);
        dep["metadata"]["ownerReferences"]
            .as_array_mut()
            .expect("array")
            .push(json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "b", "uid": b["metadata"]["uid"]}));
        create(&mut s, &cm(), dep).expect("dep");
        delete(&mut s, &cm(), "a").expect("deleted");
        s.collect_garbage(LATER);
        let d = get(&mut s, &cm(), "dep").expect("kept");
        assert_eq!(
            d["metadata"]["ownerReferences"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(d["metadata"]["ownerReferences"][0]["name"], "b");
    }
}
