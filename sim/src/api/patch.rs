//! PATCH: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch (built-in
//! types) and server-side apply, after kubernetes/apiserver `pkg/endpoints/handlers/patch.go`.
//! The patched object then takes the one update path (`update.rs`), so conflicts, generation,
//! no-op detection, finalizer and status rules are those of PUT; since the patched object
//! carries the stored `resourceVersion` unless the patch sets one, a patch is unconditional
//! unless it asks otherwise.

use super::managed_fields;
use super::update::{check_name, no_such_subresource, UpdateScope};
use super::{meta, not_found, object_key, validate, ApiRequest, ApiState, PatchType};
use kubesim_model::{ApiError, ObjectKey, ResourceType, StatusReason};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The patch types custom resources accept, as the 415 message lists them.
const CUSTOM_RESOURCE_PATCH_TYPES: &str =
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";
/// The patch types built-in types accept.
const BUILTIN_PATCH_TYPES: &str = "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";
/// `NewGenericServerResponse(422, ...)`'s message, which a failed JSON patch operation gets.
pub(crate) const PATCH_REJECTED: &str =
    "the server rejected our request due to an error in our request";

fn unsupported_media_type(t: &ResourceType) -> ApiError {
    let accepted = if t.strategic_merge_patch {
        BUILTIN_PATCH_TYPES
    } else {
        CUSTOM_RESOURCE_PATCH_TYPES
    };
    ApiError::new(
        StatusReason::UnsupportedMediaType,
        format!(
            "the body of the request was in an unknown format - accepted media types include: {accepted}"
        ),
    )
}

impl ApiState {
    /// PATCH of an object or of its `/status`.
    ///
    /// Errors: no or unsupported patch type (strategic merge on a custom resource) 415; a
    /// malformed JSON patch 400; a JSON patch operation that fails (a `test` that does not
    /// match, a path that does not exist) 422; apply without `fieldManager` 422; a missing
    /// object 404 (apply creates it).
    pub(crate) fn patch(&mut self, req: &ApiRequest, now: &str) -> Result<Arc<Value>, ApiError> {
        let t = &req.resource;
        let key = object_key(req)?;
        if req.status && !t.status_subresource {
            return Err(no_such_subresource());
        }
        let patch_type = match req.patch_type {
            Some(PatchType::StrategicMerge) if !t.strategic_merge_patch => {
                return Err(unsupported_media_type(t))
            }
            Some(p) => p,
            None => return Err(unsupported_media_type(t)),
        };
        let body = req
            .body
            .as_ref()
            .ok_or_else(|| ApiError::bad_request("the request body is required for patch"))?;
        let scope = if req.status {
            UpdateScope::Status
        } else {
            UpdateScope::Main
        };
        let manager = match (patch_type, req.field_manager.as_deref()) {
            (PatchType::Apply, None | Some("")) => {
                return Err(validate::invalid_options(
                    "PatchOptions",
                    &[validate::field_required(
                        "fieldManager",
                        "is required for apply patch",
                    )],
                ))
            }
            (_, m) => m.unwrap_or_default().to_string(),
        };
        let Some(current) = self.store.get(&key).cloned() else {
            if patch_type == PatchType::Apply {
                return self.apply_create(t, &key, body, &manager, scope, now);
            }
            return Err(not_found(t, &key.name));
        };
        let mut doc = Value::clone(&current);
        match patch_type {
            PatchType::Merge => {
                if !body.is_object() {
                    return Err(ApiError::bad_request(
                        "invalid JSON merge patch: the patch must be a JSON object",
                    ));
                }
                json_patch::merge(&mut doc, body);
            }
            PatchType::Json => {
                let ops: json_patch::Patch = serde_json::from_value(body.clone())
                    .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
                json_patch::patch_unsafe(&mut doc, &ops)
                    .map_err(|_| ApiError::new(StatusReason::Invalid, PATCH_REJECTED))?;
            }
            PatchType::StrategicMerge => {
                if !body.is_object() {
                    return Err(ApiError::bad_request(
                        "invalid strategic merge patch: the patch must be a JSON object",
                    ));
                }
                strategic_merge(&mut doc, body, &[]);
            }
            PatchType::Apply => {
                check_apply_body(t, body)?;
                let config = without_managed_fields(body);
                json_patch::merge(&mut doc, &config);
                let sub = subresource(scope);
                let applied = managed_fields::tracked(t, &config, sub);
                let base = managed_fields::entries(&current);
                let out = managed_fields::record_apply(
                    t, base, &current, &doc, applied, &manager, sub, req.force, now,
                )?;
                for p in &out.prune {
                    managed_fields::remove_at(&mut doc, p);
                }
                managed_fields::set_entries(&mut doc, out.entries);
            }
        }
        if patch_type != PatchType::Apply && !manager.is_empty() {
            let sub = subresource(scope);
            let base = managed_fields::entries(&current);
            let entries =
                managed_fields::record_update(t, base, &current, &doc, &manager, sub, now);
            managed_fields::set_entries(&mut doc, entries);
        }
        let obj = meta::checked_object(&doc, t)?;
        // handlers/patch.go: the namespace is checked (EnsureObjectNamespaceMatchesRequestNamespace)
        // before the name (checkName).
        let ns = meta::namespace(&obj);
        if !key.namespace.is_empty() && !ns.is_empty() && ns != key.namespace {
            return Err(super::create::namespace_mismatch());
        }
        check_name(&obj, &key)?;
        self.update_object(t, &key, obj, scope)
    }

    /// Server-side apply of an object that does not exist: a create from the applied
    /// configuration, with the manager recorded.
    fn apply_create(
        &mut self,
        t: &ResourceType,
        key: &ObjectKey,
        body: &Value,
        manager: &str,
        scope: UpdateScope,
        now: &str,
    ) -> Result<Arc<Value>, ApiError> {
        check_apply_body(t, body)?;
        let config = without_managed_fields(body);
        let mut obj = meta::checked_object(&config, t)?;
        check_name(&obj, key)?;
        let sub = subresource(scope);
        let applied = managed_fields::tracked(t, &config, sub);
        let out = managed_fields::record_apply(
            t,
            Vec::new(),
            &json!({}),
            &obj,
            applied,
            manager,
            sub,
            true,
            now,
        )?;
        managed_fields::set_entries(&mut obj, out.entries);
        meta::set_field(&mut obj, "resourceVersion", None);
        let ns = (!key.namespace.is_empty()).then_some(key.namespace.as_str());
        self.create_object(t, ns, obj, now)
    }
}

/// The `subresource` of a managedFields entry for `scope`.
fn subresource(scope: UpdateScope) -> &'static str {
    match scope {
        UpdateScope::Status => "status",
        UpdateScope::Main => "",
    }
}

fn without_managed_fields(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(m) = b.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    b
}

/// An apply configuration must be an object naming the type's `apiVersion` and `kind`.
fn check_apply_body(t: &ResourceType, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid apply patch: the configuration must be an object",
        ));
    }
    let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if api_version != t.api_version() {
        return Err(ApiError::bad_request(format!(
            "Incorrect version specified in apply patch. Specified patch version: {api_version}, expected: {}",
            t.api_version()
        )));
    }
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind != t.kind {
        return Err(ApiError::bad_request(format!(
            "Incorrect kind specified in apply patch. Specified patch kind: {kind}, expected: {}",
            t.kind
        )));
    }
    Ok(())
}

/// A strategic merge patch, simplified: a JSON merge patch, except that
/// - `metadata.finalizers` is merged as a set (existing order, new names appended),
/// - `metadata.ownerReferences` is merged by `uid`,
/// - any other list whose items are all objects with a `name` (containers, volumes, env, ...)
///   is merged by `name`, and an item `{"name": x, "$patch": "delete"}` removes `x`,
/// - `{"$patch": "replace"}` in an object replaces it instead of merging;
///
/// other directives (`$retainKeys`, `$setElementOrder`, `$deleteFromPrimitiveList`) are
/// ignored, and lists whose real merge key is not `name` (ports by `containerPort`,
/// volumeMounts by `mountPath`) are replaced.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value, path: &[&str]) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = patch_map.clone();
        replaced.remove("$patch");
        *target = Value::Object(replaced);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target_map = target
        .as_object_mut()
        .expect("invariant: target was just made an object");
    for (k, v) in patch_map {
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                target_map.remove(k);
            }
            Value::Object(_) => {
                let mut child_path = path.to_vec();
                child_path.push(k);
                let child = target_map.entry(k.clone()).or_insert(Value::Null);
                strategic_merge(child, v, &child_path);
            }
            Value::Array(items) => {
                let existing = target_map.get(k).and_then(Value::as_array).cloned();
                let merged = match (path, k.as_str(), existing) {
                    (["metadata"], "finalizers", Some(old)) => {
                        let mut out = old;
                        for item in items {
                            if !out.contains(item) {
                                out.push(item.clone());
                            }
                        }
                        out
                    }
                    (["metadata"], "ownerReferences", Some(old)) => merge_by_key(old, items, "uid"),
                    (_, _, Some(old)) if keyed_by(items, "name") && keyed_by(&old, "name") => {
                        merge_by_key(old, items, "name")
                    }
                    _ => items
                        .iter()
                        .filter(|i| i.get("$patch").is_none())
                        .cloned()
                        .collect(),
                };
                target_map.insert(k.clone(), Value::Array(merged));
            }
            _ => {
                target_map.insert(k.clone(), v.clone());
            }
        }
    }
}

fn keyed_by(items: &[Value], key: &str) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get(key).is_some_and(Value::is_string))
}

fn merge_by_key(mut old: Vec<Value>, patch: &[Value], key: &str) -> Vec<Value> {
    for item in patch {
        let Some(id) = item.get(key).cloned() else {
            old.push(item.clone());
            continue;
        };
        let pos = old.iter().position(|o| o.get(key) == Some(&id));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                old.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic_merge(&mut old[i], item, &[]),
            (None, false) => {
                let mut fresh = Value::Null;
                strategic_merge(&mut fresh, item, &[]);
                old.push(fresh);
            }
        }
    }
    old
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use serde_json::json;

    fn setup() -> (ApiState, ResourceType) {
        let mut s = state();
        let t = widget();
        s.register(t.clone());
        create(
            &mut s,
            &t,
            json!({"metadata": {"name": "w", "labels": {"a": "1"}}, "spec": {"x": 1, "y": 2}}),
        )
        .expect("created");
        (s, t)
    }

    #[test]
    fn a_merge_patch_merges_objects_and_removes_nulls() {
        let (mut s, t) = setup();
        let o = patch(
            &mut s,
            &t,
            "w",
            PatchType::Merge,
            json!({"spec": {"x": null, "z": 3}, "metadata": {"labels": {"b": "2"}}}),
        )
        .expect("patched");
        assert_eq!(o["spec"], json!({"y": 2, "z": 3}));
        assert_eq!(o["metadata"]["labels"], json!({"a": "1", "b": "2"}));
        assert_eq!(o["metadata"]["generation"], 2);
    }

    #[test]
    fn a_json_patch_applies_its_operations() {
        let (mut s, t) = setup();
        let o = patch(
            &mut s,
            &t,
            "w",
            PatchType::Json,
            json!([{"op": "test", "path": "/spec/x", "value": 1}, {"op": "replace", "path": "/spec/x", "value": 5}]),
        )
        .expect("patched");
        assert_eq!(o["spec"]["x"], 5);
    }

    #[test]
    fn a_failed_json_patch_test_is_a_422_and_writes_nothing() {
        let (mut s, t) = setup();
        let e = patch(
            &mut s,
            &t,
            "w",
            PatchType::Json,
            json!([{"op": "test", "path": "/spec/x", "value": 9}, {"op": "replace", "path": "/spec/x", "value": 5}]),
        )
        .expect_err("test failed");
        assert_eq!((e.code(), e.message.as_str()), (422, super::PATCH_REJECTED));
        assert_eq!(s.revision(), 2);
    }

    #[test]
    fn a_malformed_json_patch_is_a_400() {
        let (mut s, t) = setup();
        for bad in [
            json!({"op": "add"}),
            json!([{"op": "frobnicate", "path": "/a"}]),
        ] {
            let e = patch(&mut s, &t, "w", PatchType::Json, bad).expect_err("malformed");
            assert_eq!(e.code(), 400);
        }
    }

    #[test]
    fn a_patch_with_a_stale_resource_version_is_a_409_conflict() {
        let (mut s, t) = setup();
        patch(&mut s, &t, "w", PatchType::Merge, json!({"spec": {"x": 7}})).expect("bump");
        let e = patch(
            &mut s,
            &t,
            "w",
            PatchType::Merge,
            json!({"metadata": {"resourceVersion": "2"}, "spec": {"x": 8}}),
        )
        .expect_err("stale");
        assert_eq!(e.code(), 409);
    }

    #[test]
    fn a_patch_that_changes_nothing_is_not_written() {
        let (mut s, t) = setup();
        let o = patch(&mut s, &t, "w", PatchType::Merge, json!({"spec": {"x": 1}})).expect("no-op");
        assert_eq!(rv(&o), 2);
        assert_eq!(s.revision(), 2);
    }

    #[test]
    fn a_patch_of_a_missing_object_is_a_404() {
        let (mut s, t) = setup();
        let e = patch(&mut s, &t, "nope", PatchType::Merge, json!({})).expect_err("missing");
        assert_eq!(e.code(), 404);
    }

    #[test]
    fn strategic_merge_patch_on_a_custom_resource_is_a_415() {
        let (mut s, t) = setup();
        let e = patch(&mut s, &t, "w", PatchType::StrategicMerge, json!({})).expect_err("415");
        assert_eq!(e.code(), 415);
        assert_eq!(
            e.message,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        );
    }

    #[test]
    fn strategic_merge_patch_merges_finalizers_and_named_lists() {
        let mut s = state();
        let pod = ResourceType::pod();
        create(
            &mut s,
            &pod,
            json!({"metadata": {"name": "p", "finalizers": ["a"]},
                   "spec": {"containers": [{"name": "c1", "image": "x"}, {"name": "c2", "image": "y"}]}}),
        )
        .expect("created");
        let o = patch(
            &mut s,
            &pod,
            "p",
            PatchType::StrategicMerge,
            json!({"metadata": {"finalizers": ["b"]},
                   "spec": {"containers": [{"name": "c2", "image": "z"}]}}),
        )
        .expect("patched");
        assert_eq!(o["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(
            o["spec"]["containers"],
            json!([{"name": "c1", "image": "x"}, {"name": "c2", "image": "z"}])
        );
        // Removing a container is a change pod update validation forbids.
        let e = patch(
            &mut s,
            &pod,
            "p",
            PatchType::StrategicMerge,
            json!({"spec": {"containers": [{"name": "c1", "$patch": "delete"}]}}),
        )
        .expect_err("containers are fixed");
        assert_eq!(e.code(), 422);
    }

    #[test]
    fn a_status_patch_changes_only_the_status() {
        let (mut s, t) = setup();
        let mut req = ApiRequest::new(Verb::Patch, t.clone(), Some("default"), Some("w"))
            .with_body(json!({"status": {"ok": true}, "spec": {"x": 100}}));
        req.patch_type = Some(PatchType::Merge);
        req.status = true;
        let o = s.apply(&req, NOW).expect("patched");
        assert_eq!(o["status"]["ok"], true);
        assert_eq!(o["spec"]["x"], 1);
    }

    #[test]
    fn apply_without_a_field_manager_is_a_422() {
        let (mut s, t) = setup();
        let e = patch(&mut s, &t, "w", PatchType::Apply, json!({})).expect_err("no manager");
        assert_eq!(e.code(), 422);
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        );
    }

    fn apply(
        s: &mut ApiState,
        t: &ResourceType,
        name: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        let mut req =
            ApiRequest::new(Verb::Patch, t.clone(), Some("default"), Some(name)).with_body(body);
        req.patch_type = Some(PatchType::Apply);
        req.field_manager = Some("ctl".into());
        s.apply(&req, NOW).map(Arc::unwrap_or_clone)
    }

    #[test]
    fn apply_creates_a_missing_object_and_records_its_manager() {
        let (mut s, t) = setup();
        let o = apply(
            &mut s,
            &t,
            "new",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "new", "labels": {"l": "v"}}, "spec": {"x": 1}}),
        )
        .expect("created");
        assert_eq!(o["metadata"]["generation"], 1);
        let mf = &o["metadata"]["managedFields"][0];
        assert_eq!(mf["manager"], "ctl");
        assert_eq!(mf["operation"], "Apply");
        assert_eq!(
            mf["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:l": {}}}, "f:spec": {"f:x": {}}})
        );
    }

    #[test]
    fn apply_merges_into_an_existing_object_and_a_repeat_is_a_no_op() {
        let (mut s, t) = setup();
        let body = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": 5}});
        let o = apply(&mut s, &t, "w", body.clone()).expect("applied");
        assert_eq!(o["spec"], json!({"x": 5, "y": 2}));
        let again = apply(&mut s, &t, "w", body).expect("again");
        assert_eq!(rv(&again), rv(&o));
    }

    #[test]
    fn apply_with_the_wrong_api_version_is_a_400() {
        let (mut s, t) = setup();
        let e = apply(
            &mut s,
            &t,
            "w",
            json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}),
        )
        .expect_err("version");
        assert_eq!(e.code(), 400);
        assert!(e
            .message
            .starts_with("Incorrect version specified in apply patch."));
    }

    #[test]
    fn removing_the_last_finalizer_by_patch_deletes_a_deleting_object() {
        let (mut s, t) = setup();
        patch(
            &mut s,
            &t,
            "w",
            PatchType::Merge,
            json!({"metadata": {"finalizers": ["f"]}}),
        )
        .expect("finalizer");
        delete(&mut s, &t, "w").expect("deleting");
        let e = patch(
            &mut s,
            &t,
            "w",
            PatchType::Merge,
            json!({"metadata": {"finalizers": ["f", "g"]}}),
        )
        .expect_err("new finalizer");
        assert_eq!(e.code(), 422);
        patch(
            &mut s,
            &t,
            "w",
            PatchType::Json,
            json!([{"op": "remove", "path": "/metadata/finalizers"}]),
        )
        .expect("removed");
        assert_eq!(get(&mut s, &t, "w").expect_err("gone").code(), 404);
    }
}
