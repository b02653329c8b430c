//! Per-type strategies of the built-in types kubesim serves (kubernetes `pkg/registry/*/strategy.go`
//! and `pkg/apis/*/validation`): defaulting on create, and the validation of a create and of an
//! update beyond what `ObjectMeta` validation covers. Custom resources have no type-specific
//! rules here (no OpenAPI schema is served).

use super::update::UpdateScope;
use super::validate::{self, field_forbidden, field_invalid, field_required};
use kubesim_model::ResourceType;
use serde_json::{json, Value};

/// `configMapKeyFmt`.
const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
/// `validation.IsConfigMapKey`'s message.
const CONFIG_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
/// The pod phases `validatePodStatus` accepts.
const POD_PHASES: [&str; 5] = ["Failed", "Pending", "Running", "Succeeded", "Unknown"];
/// `ValidatePodUpdate`'s message for a change to a field that may not change.
const POD_SPEC_IMMUTABLE: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Builtin {
    Pod,
    ConfigMap,
    Lease,
    Namespace,
    Other,
}

fn builtin(t: &ResourceType) -> Builtin {
    match (t.group.as_str(), t.kind.as_str()) {
        ("", "Pod") => Builtin::Pod,
        ("", "ConfigMap") => Builtin::ConfigMap,
        ("", "Namespace") => Builtin::Namespace,
        ("coordination.k8s.io", "Lease") => Builtin::Lease,
        _ => Builtin::Other,
    }
}

/// `PrepareForCreate` defaults: a pod starts `Pending` whatever status it was sent with; a
/// namespace starts `Active` with the `kubernetes` finalizer in its spec.
pub(crate) fn prepare_for_create(t: &ResourceType, obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    match builtin(t) {
        Builtin::Pod => {
            map.insert("status".into(), json!({"phase": "Pending"}));
        }
        Builtin::Namespace => {
            map.insert("status".into(), json!({"phase": "Active"}));
            let spec = map.entry("spec").or_insert_with(|| json!({}));
            if let Some(spec) = spec.as_object_mut() {
                spec.entry("finalizers")
                    .or_insert_with(|| json!(["kubernetes"]));
            }
        }
        _ => {}
    }
}

/// `Validate` of a create (and of the new object of an update): the type's own rules.
pub(crate) fn validate(t: &ResourceType, obj: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    match builtin(t) {
        Builtin::ConfigMap => {
            for field in ["data", "binaryData"] {
                if let Some(Value::Object(data)) = obj.get(field) {
                    for key in data.keys() {
                        let valid = !key.is_empty()
                            && key.len() <= validate::DNS1123_SUBDOMAIN_LEN_MAX
                            && key
                                .bytes()
                                .all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c));
                        if !valid {
                            let msg = validate::regex_error(
                                CONFIG_KEY_ERR,
                                CONFIG_KEY_FMT,
                                &["key.name", "KEY_NAME", "key-name"],
                            );
                            errs.push(field_invalid(&format!("{field}[{key}]"), key, &msg));
                        }
                    }
                }
            }
        }
        Builtin::Lease => {
            let spec = obj.get("spec");
            let int = |f: &str| spec.and_then(|s| s.get(f)).and_then(Value::as_i64);
            if let Some(d) = int("leaseDurationSeconds").filter(|d| *d <= 0) {
                errs.push(format!(
                    "spec.leaseDurationSeconds: Invalid value: {d}: must be greater than 0"
                ));
            }
            if let Some(n) = int("leaseTransitions").filter(|n| *n < 0) {
                errs.push(format!(
                    "spec.leaseTransitions: Invalid value: {n}: must be greater than or equal to 0"
                ));
            }
        }
        Builtin::Pod => {
            let containers = obj
                .get("spec")
                .and_then(|s| s.get("containers"))
                .and_then(Value::as_array);
            match containers {
                None => errs.push(field_required("spec.containers", "")),
                Some(c) if c.is_empty() => errs.push(field_required("spec.containers", "")),
                Some(c) => {
                    for (i, container) in c.iter().enumerate() {
                        let s = |f: &str| container.get(f).and_then(Value::as_str).unwrap_or("");
                        if s("name").is_empty() {
                            errs.push(field_required(&format!("spec.containers[{i}].name"), ""));
                        }
                        if s("image").is_empty() {
                            errs.push(field_required(&format!("spec.containers[{i}].image"), ""));
                        }
                    }
                }
            }
        }
        Builtin::Namespace | Builtin::Other => {}
    }
    errs
}

/// A pod spec without the fields an update may change.
fn pod_spec_fixed(obj: &Value) -> Value {
    let mut spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(map) = spec.as_object_mut() {
        for f in [
            "activeDeadlineSeconds",
            "tolerations",
            "terminationGracePeriodSeconds",
        ] {
            map.remove(f);
        }
        for list in ["containers", "initContainers"] {
            if let Some(Value::Array(cs)) = map.get_mut(list) {
                for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                    c.remove("image");
                }
            }
        }
    }
    spec
}

/// `ValidateUpdate` of the type (after [`validate`] of the new object).
pub(crate) fn validate_update(
    t: &ResourceType,
    obj: &Value,
    old: &Value,
    scope: UpdateScope,
) -> Vec<String> {
    let mut errs = Vec::new();
    match (builtin(t), scope) {
        (Builtin::ConfigMap, _) if old.get("immutable").and_then(Value::as_bool) == Some(true) => {
            let msg = "field is immutable when `immutable` is set";
            if obj.get("immutable").and_then(Value::as_bool) != Some(true) {
                errs.push(field_forbidden("immutable", msg));
            }
            for f in ["data", "binaryData"] {
                if obj.get(f) != old.get(f) {
                    errs.push(field_forbidden(f, msg));
                }
            }
        }
        (Builtin::Pod, UpdateScope::Main)
            if obj.get("spec") != old.get("spec") && pod_spec_fixed(obj) != pod_spec_fixed(old) =>
        {
            errs.push(field_forbidden("spec", POD_SPEC_IMMUTABLE));
        }
        (Builtin::Pod, UpdateScope::Status) => {
            if let Some(phase) = obj
                .get("status")
                .and_then(|s| s.get("phase"))
                .and_then(Value::as_str)
            {
                if !POD_PHASES.contains(&phase) {
                    let supported: Vec<String> =
                        POD_PHASES.iter().map(|p| format!("{p:?}")).collect();
                    errs.push(format!(
                        "status.phase: Unsupported value: {phase:?}: supported values: {}",
                        supported.join(", ")
                    ));
                }
            }
        }
        _ => {}
    }
    errs
}
