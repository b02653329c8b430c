//! PATCH: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch (built-in
//! types, `strategic.rs`) and server-side apply (`apply.rs`), after kubernetes/apiserver
//! `pkg/endpoints/handlers/patch.go`.
//! The patched object then takes the one update path (`update.rs`), so conflicts, generation,
//! no-op detection, finalizer and status rules are those of PUT; since the patched object
//! carries the stored `resourceVersion` unless the patch sets one, a patch is unconditional
//! unless it asks otherwise.

mod apply;
mod strategic;
#[cfg(test)]
mod tests;

use super::managed_fields;
use super::update::{check_name, no_such_subresource, UpdateScope};
use super::{meta, not_found, object_key, validate, ApiRequest, ApiState, PatchType};
use kubesim_model::{ApiError, ResourceType, StatusReason};
use serde_json::Value;
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
                strategic::strategic_merge(&mut doc, body, &[]);
            }
            PatchType::Apply => {
                apply::apply_onto(t, &current, &mut doc, body, &manager, scope, req.force, now)?
            }
        }
        if patch_type != PatchType::Apply && !manager.is_empty() {
            let sub = apply::subresource(scope);
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
}
