//! DELETE and deletecollection: the store's `Delete` with `rest.BeforeDelete` and
//! `deletionFinalizersForGarbageCollection` (kubernetes/apiserver
//! `pkg/registry/generic/registry/store.go`, `pkg/registry/rest/delete.go`).

use super::{list, meta, not_found, object_key, ApiRequest, ApiState, DeleteOptions, Propagation};
use kubesim_model::{ApiError, ObjectKey, ResourceType, WatchEventType};
use serde_json::Value;
use std::sync::Arc;

/// `metav1.FinalizerOrphanDependents`.
pub(crate) const FINALIZER_ORPHAN: &str = "orphan";
/// `metav1.FinalizerDeleteDependents`.
pub(crate) const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// `deletionFinalizersForGarbageCollection`: the object's finalizers with `orphan` and
/// `foregroundDeletion` set as the propagation policy asks (without a policy, a finalizer the
/// object already has is kept; the default policy is Background).
fn finalizers_for_propagation(obj: &Value, propagation: Option<Propagation>) -> Vec<String> {
    let old = meta::finalizers(obj);
    let has = |f: &str| old.iter().any(|x| x == f);
    let (orphan, foreground) = match propagation {
        Some(Propagation::Orphan) => (true, false),
        Some(Propagation::Foreground) => (false, true),
        Some(Propagation::Background) => (false, false),
        None => (has(FINALIZER_ORPHAN), has(FINALIZER_FOREGROUND)),
    };
    let mut new: Vec<String> = old
        .iter()
        .filter(|f| *f != FINALIZER_ORPHAN && *f != FINALIZER_FOREGROUND)
        .cloned()
        .collect();
    if orphan {
        new.push(FINALIZER_ORPHAN.to_string());
    }
    if foreground {
        new.push(FINALIZER_FOREGROUND.to_string());
    }
    new
}

/// `rest.BeforeDelete`'s checks: the delete options (422) and the preconditions (409, with the
/// kind as the "resource" of the message).
fn check_delete(
    t: &ResourceType,
    key: &ObjectKey,
    cur: &Value,
    opts: &DeleteOptions,
) -> Result<(), ApiError> {
    // rest.BeforeDelete: ValidateDeleteOptions.
    if !opts.errors.is_empty() {
        return Err(super::validate::invalid_options(
            "DeleteOptions",
            &opts.errors,
        ));
    }
    // rest.BeforeDelete: preconditions, with the kind as the "resource" of the message.
    if let Some(uid) = &opts.precondition_uid {
        if uid != meta::uid(cur) {
            return Err(ApiError::conflict(
                    &t.kind,
                    &t.group,
                    &key.name,
                    &format!(
                        "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                        meta::uid(cur)
                    ),
                ));
        }
    }
    if let Some(rv) = &opts.precondition_resource_version {
        if rv != meta::str_of(cur, "resourceVersion") {
            return Err(ApiError::conflict(
                    &t.kind,
                    &t.group,
                    &key.name,
                    &format!(
                        "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                        meta::str_of(cur, "resourceVersion")
                    ),
                ));
        }
    }
    Ok(())
}

impl ApiState {
    /// DELETE of one object: 404 when missing.
    pub(crate) fn delete(&mut self, req: &ApiRequest, now: &str) -> Result<Arc<Value>, ApiError> {
        let key = object_key(req)?;
        self.delete_object(&req.resource, &key, &req.delete, now)
    }

    /// Deletes the object at `key`.
    ///
    /// Preconditions (uid, resourceVersion) that do not match are 409 Conflict. An object that
    /// is already being deleted is returned unchanged. If, after applying the propagation
    /// policy (`Orphan` adds the `orphan` finalizer, `Foreground` adds `foregroundDeletion`), the
    /// object has finalizers, it is marked (`deletionTimestamp` = `now`,
    /// `deletionGracePeriodSeconds` = 0, generation + 1 when it has one) and returned;
    /// otherwise it is removed (one DELETED commit) and its last state returned.
    ///
    /// The deleted object is returned; the HTTP front answers a `Success` Status instead for
    /// types without `ReturnDeletedObject`. Differences: no graceful deletion (pods are
    /// removed at once, as pods without a node are); DeleteOptions cannot change finalizers of
    /// an object already being deleted.
    pub(crate) fn delete_object(
        &mut self,
        t: &ResourceType,
        key: &ObjectKey,
        opts: &DeleteOptions,
        now: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let Some(cur) = self.store.get(key).cloned() else {
            return Err(not_found(t, &key.name));
        };
        check_delete(t, key, &cur, opts)?;
        if meta::deletion_timestamp(&cur).is_some() {
            return Ok(cur);
        }
        if super::namespace_lifecycle::is_namespace(t) {
            if let Some(marked) = self.mark_namespace_terminating(key, &cur, now) {
                return Ok(marked);
            }
        }
        let finalizers = finalizers_for_propagation(&cur, opts.propagation);
        let rev_before = self.store.revision();
        if !finalizers.is_empty() {
            // updateForGracefulDeletionAndFinalizers + markAsDeleting.
            let mut obj = Value::clone(&cur);
            meta::set_finalizers(&mut obj, &finalizers);
            let generation = meta::generation(&obj);
            if generation > 0 {
                meta::set_field(&mut obj, "generation", Some(Value::from(generation + 1)));
            }
            meta::set_str(&mut obj, "deletionTimestamp", now.to_string());
            meta::set_field(&mut obj, "deletionGracePeriodSeconds", Some(Value::from(0)));
            let stored = self.store.commit(WatchEventType::Modified, key, obj);
            assert_eq!(
                self.store.revision(),
                rev_before + 1,
                "invariant: one commit"
            );
            return Ok(stored);
        }
        let stored = self
            .store
            .commit(WatchEventType::Deleted, key, Value::clone(&cur));
        assert!(self.store.get(key).is_none(), "invariant: deleted");
        Ok(stored)
    }

    /// DELETE of a collection: deletes every object the list options select (in key order,
    /// stopping at the first error) and returns the list of deleted (or now deleting) objects.
    pub(crate) fn delete_collection(
        &mut self,
        req: &ApiRequest,
        now: &str,
    ) -> Result<Value, ApiError> {
        let t = &req.resource;
        let query = list::ListQuery::parse(req)?;
        let keys: Vec<ObjectKey> = self
            .store
            .range(&t.short_name())
            .filter(|(k, o)| query.matches(k, o))
            .map(|(k, _)| k.clone())
            .collect();
        // Every item is checked before any is deleted, so that a failed deletecollection
        // writes nothing (the apiserver deletes item by item and reports the first error).
        for key in &keys {
            if let Some(cur) = self.store.get(key) {
                check_delete(t, key, cur, &req.delete)?;
            }
        }
        let mut items: Vec<Arc<Value>> = Vec::with_capacity(keys.len());
        for key in &keys {
            let obj = self.delete_object(t, key, &req.delete, now)?;
            items.push(obj);
        }
        Ok(list::list_body(
            t,
            self.store.revision(),
            &items,
            None,
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use serde_json::json;

    #[test]
    fn delete_without_finalizers_removes_the_object_with_one_deleted_commit() {
        let mut s = state();
        create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("created");
        s.take_commits();
        let o = delete(&mut s, &cm(), "a").expect("deleted");
        assert_eq!(rv(&o), 3);
        let c = s.take_commits();
        assert_eq!((c.len(), c[0].kind), (1, WatchEventType::Deleted));
        assert_eq!(get(&mut s, &cm(), "a").expect_err("gone").code(), 404);
        assert_eq!(delete(&mut s, &cm(), "a").expect_err("gone").code(), 404);
    }

    #[test]
    fn delete_with_finalizers_sets_deletion_timestamp_and_bumps_generation() {
        let (mut s, t, _) = with_widget(json!({"metadata": {"name": "w", "finalizers": ["x"]}}));
        let o = delete(&mut s, &t, "w").expect("deleting");
        assert_eq!(o["metadata"]["deletionTimestamp"], LATER);
        assert_eq!(o["metadata"]["deletionGracePeriodSeconds"], 0);
        assert_eq!(o["metadata"]["generation"], 2);
        assert!(get(&mut s, &t, "w").is_ok());
    }

    #[test]
    fn delete_of_an_object_already_being_deleted_returns_it_unchanged() {
        let mut s = state();
        create(
            &mut s,
            &cm(),
            json!({"metadata": {"name": "a", "finalizers": ["x"]}}),
        )
        .expect("created");
        let first = delete(&mut s, &cm(), "a").expect("deleting");
        let again = delete(&mut s, &cm(), "a").expect("still deleting");
        assert_eq!(first, again);
        assert_eq!(s.revision(), 3);
    }

    #[test]
    fn a_uid_precondition_that_does_not_match_is_a_409_conflict() {
        let mut s = state();
        create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("created");
        let opts = DeleteOptions {
            precondition_uid: Some("other".into()),
            ..DeleteOptions::default()
        };
        let e = delete_with(&mut s, &cm(), "a", opts).expect_err("precondition");
        assert_eq!(e.code(), 409);
        assert!(e.message.starts_with(
            "Operation cannot be fulfilled on ConfigMap \"a\": the UID in the precondition (other) does not match the UID in record ("
        ));
        let opts = DeleteOptions {
            precondition_resource_version: Some("1".into()),
            ..DeleteOptions::default()
        };
        assert_eq!(
            delete_with(&mut s, &cm(), "a", opts)
                .expect_err("rv")
                .code(),
            409
        );
    }

    #[test]
    fn orphan_and_foreground_propagation_add_their_finalizers() {
        let mut s = state();
        for (name, p, f) in [
            ("o", Propagation::Orphan, "orphan"),
            ("f", Propagation::Foreground, "foregroundDeletion"),
        ] {
            create(&mut s, &cm(), json!({"metadata": {"name": name}})).expect("created");
            let opts = DeleteOptions {
                propagation: Some(p),
                ..DeleteOptions::default()
            };
            let o = delete_with(&mut s, &cm(), name, opts).expect("deleting");
            assert_eq!(o["metadata"]["finalizers"], json!([f]));
            assert!(o["metadata"]["deletionTimestamp"].is_string());
        }
    }

    #[test]
    fn delete_collection_deletes_what_the_selector_matches() {
        let mut s = state();
        for (n, app) in [("a", "x"), ("b", "y"), ("c", "x")] {
            create(
                &mut s,
                &cm(),
                json!({"metadata": {"name": n, "labels": {"app": app}}}),
            )
            .expect("created");
        }
        let mut req = ApiRequest::new(Verb::DeleteCollection, cm(), Some("default"), None);
        req.list.label_selector = Some("app=x".into());
        let out = s.apply(&req, NOW).expect("deleted");
        assert_eq!(names(&out), vec!["a", "c"]);
        let left = list(&mut s, &cm(), ListOptions::default()).expect("list");
        assert_eq!(names(&left), vec!["b"]);
    }
}
