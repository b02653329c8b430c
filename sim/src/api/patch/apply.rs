//! Server-side apply (`application/apply-patch+yaml`): an apply configuration merged into the
//! object with its manager's fields recorded in `managedFields`, or a create when the object
//! does not exist; after kubernetes/apiserver `pkg/endpoints/handlers/patch.go` (`applyPatcher`)
//! and `fieldmanager`.

use super::super::managed_fields;
use super::super::update::{check_name, UpdateScope};
use super::super::{meta, ApiState};
use kubesim_model::{ApiError, ObjectKey, ResourceType};
use serde_json::{json, Value};
use std::sync::Arc;

impl ApiState {
    /// Server-side apply of an object that does not exist: a create from the applied
    /// configuration, with the manager recorded.
    pub(super) fn apply_create(
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

/// Server-side apply of `body` onto `doc` (a copy of `current`): the configuration merged in,
/// the manager's fields recorded, fields it no longer applies pruned; a conflict with another
/// manager's fields is a 409 unless `force`.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply_onto(
    t: &ResourceType,
    current: &Value,
    doc: &mut Value,
    body: &Value,
    manager: &str,
    scope: UpdateScope,
    force: bool,
    now: &str,
) -> Result<(), ApiError> {
    check_apply_body(t, body)?;
    let config = without_managed_fields(body);
    json_patch::merge(doc, &config);
    let sub = subresource(scope);
    let applied = managed_fields::tracked(t, &config, sub);
    let base = managed_fields::entries(current);
    let out =
        managed_fields::record_apply(t, base, current, doc, applied, manager, sub, force, now)?;
    for p in &out.prune {
        managed_fields::remove_at(doc, p);
    }
    managed_fields::set_entries(doc, out.entries);
    Ok(())
}

/// The `subresource` of a managedFields entry for `scope`.
pub(super) fn subresource(scope: UpdateScope) -> &'static str {
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
