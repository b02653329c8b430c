//! PUT, and the one update path every write to an existing object takes (PUT, PATCH,
//! server-side apply, the garbage collector): the store's `Update` with `rest.BeforeUpdate`
//! and `ValidateObjectMetaUpdate` (kubernetes/apiserver `pkg/registry/generic/registry/store.go`,
//! `pkg/registry/rest/update.go`; the generation and status rules of apiextensions-apiserver's
//! `customresource/strategy.go`).

use super::{meta, not_found, object_key, validate, ApiRequest, ApiState};
use kubesim_model::{ApiError, ObjectKey, ResourceType, StatusReason, WatchEventType};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpdateScope {
    /// The main resource: everything but `.status` when the type has a status subresource.
    Main,
    /// The `/status` subresource: only `.status` (and `managedFields`) is taken from the body.
    Status,
}

/// 404 for a subresource the type does not have.
pub(crate) fn no_such_subresource() -> ApiError {
    ApiError::new(
        StatusReason::NotFound,
        "the server could not find the requested resource",
    )
}

/// The update handler's `checkName`: the body's name and namespace must match the path.
pub(crate) fn check_name(obj: &Value, key: &ObjectKey) -> Result<(), ApiError> {
    let name = meta::name(obj);
    if name != key.name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            key.name
        )));
    }
    let ns = meta::namespace(obj);
    if !key.namespace.is_empty() && !ns.is_empty() && ns != key.namespace {
        return Err(ApiError::bad_request(format!(
            "the namespace of the object ({ns}) does not match the namespace on the request ({})",
            key.namespace
        )));
    }
    Ok(())
}

/// The etcd key of an object as kube-apiserver lays it out (`/registry/{resource}/...` for
/// built-in types, `/registry/{group}/{resource}/...` for custom resources), as storage errors
/// quote it.
pub(crate) fn storage_key(t: &ResourceType, key: &ObjectKey) -> String {
    let mut k = String::from("/registry/");
    if !t.strategic_merge_patch && !t.group.is_empty() {
        k.push_str(&t.group);
        k.push('/');
    }
    k.push_str(&t.plural);
    if !key.namespace.is_empty() {
        k.push('/');
        k.push_str(&key.namespace);
    }
    k.push('/');
    k.push_str(&key.name);
    k
}

/// Whether `a` and `b` are equal without `metadata` (and without `status` when `skip_status`):
/// a change there bumps `metadata.generation`. Compares in place, without copying either.
fn same_content(a: &Value, b: &Value, skip_status: bool) -> bool {
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        return a == b;
    };
    let counted = |k: &String| k != "metadata" && !(skip_status && k == "status");
    let mut a = a.iter().filter(|(k, _)| counted(k));
    let mut b = b.iter().filter(|(k, _)| counted(k));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// `field.Forbidden` for finalizers added to a deleting object, with Go's `%#v` of the sorted
/// new names.
fn new_finalizers_error(added: &BTreeSet<String>) -> String {
    let list: Vec<String> = added.iter().map(|f| format!("{f:?}")).collect();
    validate::field_forbidden(
        "metadata.finalizers",
        &format!(
            "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
            list.join(", ")
        ),
    )
}

impl ApiState {
    /// PUT of an object or of its `/status`.
    ///
    /// An update of a missing object is 404, except for types with `AllowCreateOnUpdate`
    /// (Leases), where it creates the object. A `fieldManager` records an `Update` entry in
    /// `managedFields`.
    pub(crate) fn update(&mut self, req: &ApiRequest, _now: &str) -> Result<Arc<Value>, ApiError> {
        let t = &req.resource;
        let key = object_key(req)?;
        if req.status && !t.status_subresource {
            return Err(no_such_subresource());
        }
        let body = req
            .body
            .as_ref()
            .ok_or_else(|| ApiError::bad_request("the request body is required for update"))?;
        let obj = meta::checked_object(body, t)?;
        let scope = if req.status {
            UpdateScope::Status
        } else {
            UpdateScope::Main
        };
        let manager = req.field_manager.as_deref().unwrap_or("");
        let Some(current) = self.store.get(&key).cloned() else {
            if t.allow_create_on_update && !req.status {
                // store.go Update: create-on-update (Leases). The registry wipes system fields
                // and runs the create path; storage prepares the object with no
                // resourceVersion.
                check_name(&obj, &key)?;
                let mut obj = obj;
                if !manager.is_empty() {
                    super::managed_fields::record_create(t, &mut obj, manager, _now);
                }
                return self.create_on_update(t, &key, obj, _now);
            }
            return Err(not_found(t, &key.name));
        };
        let mut obj = obj;
        if !manager.is_empty() {
            let base = if meta::field(&obj, "managedFields").is_some() {
                super::managed_fields::entries(&obj)
            } else {
                super::managed_fields::entries(&current)
            };
            let sub = if req.status { "status" } else { "" };
            let e =
                super::managed_fields::record_update(t, base, &current, &obj, manager, sub, _now);
            super::managed_fields::set_entries(&mut obj, e);
        }
        self.update_object(t, &key, obj, scope)
    }

    /// The create path of an update or an apply of a missing object (store.go Update with
    /// `AllowCreateOnUpdate` or `forceAllowCreate`).
    pub(crate) fn create_on_update(
        &mut self,
        t: &ResourceType,
        key: &ObjectKey,
        mut obj: Value,
        now: &str,
    ) -> Result<Arc<Value>, ApiError> {
        // A uid in the body is a precondition on the (missing) stored object.
        let uid = meta::uid(&obj).to_string();
        if !uid.is_empty() {
            return Err(ApiError::conflict(
                &t.plural,
                &t.group,
                &key.name,
                &format!(
                    "StorageError: invalid object, Code: 4, Key: {}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {uid}, UID in object meta: ",
                    storage_key(t, key)
                ),
            ));
        }
        for f in [
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            meta::set_field(&mut obj, f, None);
        }
        let ns = (!key.namespace.is_empty()).then_some(key.namespace.as_str());
        self.create_object(t, ns, obj, now)
    }

    /// Replaces the object at `key` with `obj` (checked by [`meta::checked_object`]).
    ///
    /// In order: name/namespace must match the key (400); 404 when missing; resourceVersion
    /// unset is allowed only for types with unconditional update (else 422), a stale one is a
    /// 409 Conflict; uid is immutable (422); `creationTimestamp`, `deletionTimestamp`,
    /// `deletionGracePeriodSeconds` and `generation` are the server's (client changes are
    /// ignored); `.status` or everything-but-status is kept from the stored object according
    /// to `scope`; no new finalizers while deleting (422); generation is bumped when anything
    /// but metadata (and status, when it is a subresource) changed. Then: a deleting object
    /// whose finalizers are now empty is deleted (one DELETED commit carrying the last stored
    /// state, returned); an update that changes nothing is not written (the stored object is
    /// returned, same resourceVersion, no commit); otherwise one MODIFIED commit.
    pub(crate) fn update_object(
        &mut self,
        t: &ResourceType,
        key: &ObjectKey,
        mut obj: Value,
        scope: UpdateScope,
    ) -> Result<Arc<Value>, ApiError> {
        check_name(&obj, key)?;
        let Some(old) = self.store.get(key).cloned() else {
            return Err(not_found(t, &key.name));
        };
        if !key.namespace.is_empty() {
            meta::set_str_from(&mut obj, "namespace", &key.namespace);
        } else {
            meta::set_field(&mut obj, "namespace", None);
        }

        // Optimistic concurrency (store.go Update).
        let old_rv = meta::stored_rv(&old);
        let body_rv = meta::str_of(&obj, "resourceVersion");
        if body_rv.is_empty() {
            if !t.unconditional_update {
                return Err(validate::invalid_resource(
                    t,
                    &key.name,
                    &["metadata.resourceVersion: Invalid value: 0: must be specified for an update"
                        .to_string()],
                ));
            }
        } else {
            let rv: u64 = body_rv.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid resource version: metadata.resourceVersion: Invalid value: {}: must be an unsigned integer",
                    validate::quote(body_rv)
                ))
            })?;
            if rv != old_rv {
                return Err(ApiError::conflict(
                    &t.plural,
                    &t.group,
                    &key.name,
                    ApiError::OPTIMISTIC_LOCK,
                ));
            }
        }
        meta::set_str(&mut obj, "resourceVersion", old_rv.to_string());

        // A uid in the body is a precondition (defaultUpdatedObjectInfo.Preconditions), which
        // storage checks first: a mismatch is a 409 quoting the storage error.
        let uid = meta::uid(&obj).to_string();
        if uid.is_empty() {
            meta::set_str(&mut obj, "uid", meta::uid(&old).to_string());
        } else if uid != meta::uid(&old) {
            return Err(ApiError::conflict(
                &t.plural,
                &t.group,
                &key.name,
                &format!(
                    "StorageError: invalid object, Code: 4, Key: {}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    storage_key(t, key),
                    meta::uid(&old)
                ),
            ));
        }
        // rest.BeforeUpdate: generation and creationTimestamp are the server's; an existing
        // deletionTimestamp (and grace period) cannot be removed or changed.
        let mut errs = Vec::new();
        for f in ["creationTimestamp", "generation"] {
            meta::set_field(&mut obj, f, meta::field(&old, f));
        }
        for f in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
            let old_v = meta::field(&old, f);
            let new_v = meta::field(&obj, f);
            if old_v.is_some() && (f == "deletionTimestamp" || new_v.is_none()) {
                meta::set_field(&mut obj, f, old_v);
            } else if new_v != old_v {
                // ValidateObjectMetaUpdate: ValidateImmutableField.
                let shown = new_v
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "null".into());
                errs.push(format!(
                    "metadata.{f}: Invalid value: {shown}: field is immutable"
                ));
            }
        }
        if meta::field(&obj, "managedFields").is_none() {
            meta::set_field(
                &mut obj,
                "managedFields",
                meta::field(&old, "managedFields"),
            );
        }

        // The status subresource split (PrepareForUpdate of the main and status strategies).
        match scope {
            UpdateScope::Status => {
                let status = obj.get("status").cloned();
                let managed = meta::field(&obj, "managedFields");
                obj = Value::clone(&old);
                meta::set_field(&mut obj, "managedFields", managed);
                let map = obj
                    .as_object_mut()
                    .expect("invariant: stored objects are JSON objects");
                match status {
                    Some(s) => map.insert("status".into(), s),
                    None => map.remove("status"),
                };
            }
            UpdateScope::Main if t.status_subresource => {
                let map = obj
                    .as_object_mut()
                    .expect("invariant: checked objects are JSON objects");
                match old.get("status") {
                    Some(s) => map.insert("status".into(), s.clone()),
                    None => map.remove("status"),
                };
            }
            UpdateScope::Main => {}
        }

        // ValidateObjectMetaUpdate, then the type's validation.
        let deleting = meta::deletion_timestamp(&old).is_some();
        if deleting {
            let old_f: BTreeSet<String> = meta::finalizers(&old).into_iter().collect();
            let added: BTreeSet<String> = meta::finalizers(&obj)
                .into_iter()
                .filter(|f| !old_f.contains(f))
                .collect();
            if !added.is_empty() {
                errs.push(new_finalizers_error(&added));
            }
        }
        errs.extend(validate::label_errors(
            meta::meta(&obj).and_then(|m| m.get("labels")),
        ));
        errs.extend(meta::owner_ref_errors(&obj));
        if scope == UpdateScope::Main {
            errs.extend(super::strategy::validate(t, &obj));
        }
        errs.extend(super::strategy::validate_update(t, &obj, &old, scope));
        if !errs.is_empty() {
            return Err(validate::invalid(t, &key.name, &errs));
        }

        // Generation: anything but metadata (and a status subresource) changed.
        let skip_status = t.status_subresource || scope == UpdateScope::Status;
        if t.generation && !same_content(&obj, &old, skip_status) {
            meta::set_field(
                &mut obj,
                "generation",
                Some(Value::from(meta::generation(&old) + 1)),
            );
        }

        let rev_before = self.store.revision();
        if deleting && meta::finalizers(&obj).is_empty() {
            // store.go: errEmptiedFinalizers -> deleteWithoutFinalizers. The update itself is
            // never written; the DELETED event carries the last stored state.
            let stored = self
                .store
                .commit(WatchEventType::Deleted, key, Value::clone(&old));
            assert!(self.store.get(key).is_none(), "invariant: deleted");
            return Ok(stored);
        }
        if obj == *old {
            assert_eq!(
                self.store.revision(),
                rev_before,
                "invariant: no-op writes nothing"
            );
            return Ok(old);
        }
        let stored = self.store.commit(WatchEventType::Modified, key, obj);
        assert_eq!(
            self.store.revision(),
            rev_before + 1,
            "invariant: an update commits one revision"
        );
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use serde_json::json;

    fn setup() -> (ApiState, ResourceType, Value) {
        with_widget_w()
    }

    #[test]
    fn update_with_stale_resource_version_is_a_409_conflict() {
        let (mut s, t, o) = setup();
        let mut first = o.clone();
        first["spec"]["a"] = json!(2);
        update(&mut s, &t, "w", first).expect("first update");
        let mut stale = o;
        stale["spec"]["a"] = json!(3);
        let e = update(&mut s, &t, "w", stale).expect_err("stale");
        assert_error(&e, 409, "Operation cannot be fulfilled on widgets.example.com \"w\": the object has been modified; please apply your changes to the latest version and try again");
    }

    #[test]
    fn update_without_resource_version_is_a_422_for_types_without_unconditional_update() {
        let (mut s, t, _) = setup();
        let e = update(
            &mut s,
            &t,
            "w",
            json!({"metadata": {"name": "w"}, "spec": {}}),
        )
        .expect_err("no rv");
        assert_error(&e, 422, "widgets.example.com \"w\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update");
    }

    #[test]
    fn update_without_resource_version_is_last_write_wins_for_config_maps() {
        let mut s = state();
        create(
            &mut s,
            &cm(),
            json!({"metadata": {"name": "a"}, "data": {"k": "1"}}),
        )
        .expect("created");
        let o = update(
            &mut s,
            &cm(),
            "a",
            json!({"metadata": {"name": "a"}, "data": {"k": "2"}}),
        )
        .expect("unconditional");
        assert_eq!(o["data"]["k"], "2");
        assert_eq!(rv(&o), 3);
    }

    #[test]
    fn update_of_a_missing_object_is_a_404() {
        let mut s = state();
        let e = update(&mut s, &cm(), "nope", json!({"metadata": {"name": "nope"}}))
            .expect_err("missing");
        assert_eq!(
            (e.code(), e.message.as_str()),
            (404, "configmaps \"nope\" not found")
        );
    }

    #[test]
    fn update_with_another_name_in_the_body_is_a_400() {
        let (mut s, t, mut o) = setup();
        o["metadata"]["name"] = json!("other");
        let e = update(&mut s, &t, "w", o).expect_err("mismatch");
        assert_eq!(
            (e.code(), e.message.as_str()),
            (
                400,
                "the name of the object (other) does not match the name on the URL (w)"
            )
        );
    }

    #[test]
    fn a_different_uid_is_a_failed_precondition() {
        let (mut s, t, mut o) = setup();
        o["metadata"]["uid"] = json!("x");
        let e = update(&mut s, &t, "w", o).expect_err("uid");
        assert_eq!(e.code(), 409);
        assert!(e.message.contains(
            "Key: /registry/example.com/widgets/default/w, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: x"
        ));
    }

    #[test]
    fn an_update_that_changes_nothing_is_not_written() {
        let (mut s, t, o) = setup();
        let mut same = o.clone();
        same["metadata"]["creationTimestamp"] = json!("1999-01-01T00:00:00Z");
        let back = update(&mut s, &t, "w", same).expect("no-op");
        assert_eq!(back, o);
        assert_eq!(s.revision(), 2);
        assert_eq!(s.take_commits().len(), 1, "only the create");
    }

    #[test]
    fn generation_is_bumped_by_spec_changes_but_not_by_metadata_changes() {
        let (mut s, t, o) = setup();
        let mut labelled = o.clone();
        labelled["metadata"]["labels"] = json!({"x": "y"});
        let o = update(&mut s, &t, "w", labelled).expect("labels");
        assert_eq!(o["metadata"]["generation"], 1);
        let mut spec = o.clone();
        spec["spec"]["a"] = json!(9);
        spec["metadata"]["generation"] = json!(40);
        let o = update(&mut s, &t, "w", spec).expect("spec");
        assert_eq!(o["metadata"]["generation"], 2);
    }

    #[test]
    fn the_main_resource_ignores_status_and_the_status_subresource_ignores_the_rest() {
        let (mut s, t, o) = setup();
        let mut main = o.clone();
        main["status"] = json!({"ready": true});
        let o = update(&mut s, &t, "w", main).expect("main");
        assert!(o.get("status").is_none());
        assert_eq!(
            rv(&o),
            2,
            "status-only change on the main resource is a no-op"
        );
        let mut st = o.clone();
        st["status"] = json!({"ready": true});
        st["spec"]["a"] = json!(100);
        st["metadata"]["labels"] = json!({"ignored": "yes"});
        let o = update_status(&mut s, &t, "w", st).expect("status");
        assert_eq!(o["status"]["ready"], true);
        assert_eq!(o["spec"]["a"], 1);
        assert!(o["metadata"].get("labels").is_none());
        assert_eq!(o["metadata"]["generation"], 1);
    }

    #[test]
    fn status_of_a_type_without_the_subresource_is_a_404() {
        let mut s = state();
        create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("created");
        let e = update_status(&mut s, &cm(), "a", json!({"metadata": {"name": "a"}}))
            .expect_err("no status");
        assert_eq!(e.code(), 404);
    }

    #[test]
    fn no_new_finalizers_may_be_added_to_a_deleting_object() {
        let (mut s, t, mut o) = setup();
        o["metadata"]["finalizers"] = json!(["a"]);
        update(&mut s, &t, "w", o).expect("finalizer");
        let o = delete(&mut s, &t, "w").expect("deleting");
        let mut more = o.clone();
        more["metadata"]["finalizers"] = json!(["a", "z", "b"]);
        let e = update(&mut s, &t, "w", more).expect_err("new finalizers");
        assert_error(&e, 422, "Widget.example.com \"w\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"b\", \"z\"}");
    }

    #[test]
    fn removing_the_last_finalizer_of_a_deleting_object_removes_it_with_one_deleted_event() {
        let (mut s, t, mut o) = setup();
        o["metadata"]["finalizers"] = json!(["a"]);
        update(&mut s, &t, "w", o).expect("finalizer");
        let mut o = delete(&mut s, &t, "w").expect("deleting");
        assert!(o["metadata"]["deletionTimestamp"].is_string());
        s.take_commits();
        o["metadata"]["finalizers"] = json!([]);
        let back = update(&mut s, &t, "w", o).expect("removed");
        let commits = s.take_commits();
        assert_eq!(commits.len(), 1);
        assert_eq!(commits[0].kind, WatchEventType::Deleted);
        assert_eq!(rv(&back), commits[0].rev);
        assert_eq!(get(&mut s, &t, "w").expect_err("gone").code(), 404);
    }

    #[test]
    fn a_malformed_body_is_a_400_not_a_panic() {
        let (mut s, t, _) = setup();
        for body in [
            json!("x"),
            json!({"metadata": []}),
            json!({"metadata": {"uid": 1}}),
        ] {
            let e = update(&mut s, &t, "w", body).expect_err("bad");
            assert_eq!(e.code(), 400, "{}", e.message);
        }
    }
}
