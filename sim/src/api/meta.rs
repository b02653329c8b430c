//! `metadata` of JSON objects: typed accessors, and the shape check every request body passes
//! before the core looks inside it (bad input is a 400, never a panic).

use kubesim_model::{ApiError, ResourceType};
use serde_json::{Map, Value};

/// The `metadata` object, if any.
pub(crate) fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

/// `metadata`, created when missing. Callers pass objects checked by [`checked_object`].
pub(crate) fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    let map = obj
        .as_object_mut()
        .expect("invariant: stored and checked objects are JSON objects");
    // Look up before inserting: `Map::entry` would allocate the key on every call.
    if !matches!(map.get("metadata"), Some(Value::Object(_))) {
        map.insert("metadata".to_string(), Value::Object(Map::new()));
    }
    map.get_mut("metadata")
        .and_then(Value::as_object_mut)
        .expect("invariant: metadata was just made an object")
}

/// A string field of `metadata` (`""` when missing).
pub(crate) fn str_of<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Sets a string field of `metadata`.
pub(crate) fn set_str(obj: &mut Value, field: &str, value: String) {
    set_field(obj, field, Some(Value::String(value)));
}

/// Sets a string field of `metadata` to a copy of `value`; allocates only when the field
/// differs.
pub(crate) fn set_str_from(obj: &mut Value, field: &str, value: &str) {
    let m = meta_mut(obj);
    match m.get_mut(field) {
        Some(Value::String(s)) if s == value => {}
        Some(v) => *v = Value::String(value.to_string()),
        None => {
            m.insert(field.to_string(), Value::String(value.to_string()));
        }
    }
}

/// Sets or removes (`None`) a field of `metadata`. An existing field is overwritten in place
/// (no copy of its key).
pub(crate) fn set_field(obj: &mut Value, field: &str, value: Option<Value>) {
    let m = meta_mut(obj);
    match value {
        Some(v) => match m.get_mut(field) {
            Some(slot) => *slot = v,
            None => {
                m.insert(field.to_string(), v);
            }
        },
        None => {
            m.remove(field);
        }
    }
}

/// A field of `metadata`, cloned.
pub(crate) fn field(obj: &Value, field: &str) -> Option<Value> {
    meta(obj).and_then(|m| m.get(field)).cloned()
}

pub(crate) fn name(obj: &Value) -> &str {
    str_of(obj, "name")
}

pub(crate) fn namespace(obj: &Value) -> &str {
    str_of(obj, "namespace")
}

pub(crate) fn uid(obj: &Value) -> &str {
    str_of(obj, "uid")
}

/// `metadata.resourceVersion` of a stored object.
pub(crate) fn stored_rv(obj: &Value) -> u64 {
    str_of(obj, "resourceVersion")
        .parse()
        .expect("invariant: stored objects carry a numeric resourceVersion")
}

/// `metadata.generation` (0 when missing).
pub(crate) fn generation(obj: &Value) -> i64 {
    meta(obj)
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

pub(crate) fn deletion_timestamp(obj: &Value) -> Option<&str> {
    meta(obj)
        .and_then(|m| m.get("deletionTimestamp"))
        .and_then(Value::as_str)
}

pub(crate) fn finalizers(obj: &Value) -> Vec<String> {
    strings(meta(obj).and_then(|m| m.get("finalizers")))
}

/// Sets `metadata.finalizers`, removing the field when empty.
pub(crate) fn set_finalizers(obj: &mut Value, finalizers: &[String]) {
    let v = (!finalizers.is_empty()).then(|| Value::from(finalizers.to_vec()));
    set_field(obj, "finalizers", v);
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.labels` as stored, if it is a map (checked bodies have string values only).
pub(crate) fn labels_map(obj: &Value) -> Option<&Map<String, Value>> {
    meta(obj)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnerRef {
    pub(crate) uid: String,
    pub(crate) block_owner_deletion: bool,
}

/// The entries of `metadata.ownerReferences`, read in place (none when it is not a list).
pub(crate) fn owner_references(obj: &Value) -> impl Iterator<Item = &Value> {
    meta(obj)
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A string field of one owner reference (empty when missing).
pub(crate) fn ref_str<'a>(r: &'a Value, field: &str) -> &'a str {
    r.get(field).and_then(Value::as_str).unwrap_or("")
}

/// Whether `metadata.finalizers` holds `f`, read in place.
pub(crate) fn has_finalizer(obj: &Value, f: &str) -> bool {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(f)))
}

pub(crate) fn owner_refs(obj: &Value) -> Vec<OwnerRef> {
    owner_references(obj)
        .map(|r| OwnerRef {
            uid: ref_str(r, "uid").into(),
            block_owner_deletion: r
                .get("blockOwnerDeletion")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
        .collect()
}

/// Removes the ownerReferences with the given uid.
pub(crate) fn remove_owner_ref(obj: &mut Value, owner_uid: &str) {
    let refs: Vec<Value> = owner_references(obj)
        .filter(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid))
        .cloned()
        .collect();
    set_field(
        obj,
        "ownerReferences",
        (!refs.is_empty()).then(|| Value::from(refs)),
    );
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The error encoding/json gives for a field of the wrong type.
fn wrong_type(path: &str, found: &Value, go_type: &str) -> ApiError {
    ApiError::bad_request(format!(
        "json: cannot unmarshal {} into Go struct field {path} of type {go_type}",
        json_type(found)
    ))
}

/// The metadata fields the core reads, with the JSON type each must have.
const META_STRINGS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "selfLink",
];
const META_INTEGERS: &[&str] = &["generation", "deletionGracePeriodSeconds"];
const META_STRING_MAPS: &[&str] = &["labels", "annotations"];

/// Checks the shape of a request body for type `t` and returns it ready to work on: a JSON
/// object whose `apiVersion`/`kind` (filled when missing) match the type and whose `metadata`
/// fields have the right JSON types; `null` metadata fields are dropped (Go would decode them
/// as zero values). Errors are 400 BadRequest, except malformed ownerReferences (422, as
/// `ValidateOwnerReferences`).
pub(crate) fn checked_object(body: &Value, t: &ResourceType) -> Result<Value, ApiError> {
    let Some(map) = body.as_object() else {
        return Err(ApiError::bad_request(format!(
            "the request body must be a JSON object, found {}",
            json_type(body)
        )));
    };
    let api_version = t.api_version();
    match map.get("apiVersion") {
        None | Some(Value::Null) => {}
        Some(Value::String(v)) if *v == api_version => {}
        Some(Value::String(v)) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )))
        }
        Some(other) => return Err(wrong_type("apiVersion", other, "string")),
    }
    match map.get("kind") {
        None | Some(Value::Null) => {}
        Some(Value::String(k)) if *k == t.kind => {}
        Some(Value::String(k)) => {
            return Err(ApiError::bad_request(format!(
                "{k} in version \"{}\" cannot be handled as a {}: the kind in the data ({k}) does not match the expected kind ({})",
                t.version, t.kind, t.kind
            )))
        }
        Some(other) => return Err(wrong_type("kind", other, "string")),
    }
    match map.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => check_meta(m)?,
        Some(other) => return Err(wrong_type("metadata", other, "v1.ObjectMeta")),
    }
    // Every check passed: one deep copy of the body (the hot write path clones nothing else).
    let mut obj = map.clone();
    if obj.get("apiVersion").is_none_or(Value::is_null) {
        obj.insert("apiVersion".into(), Value::String(api_version));
    }
    if obj.get("kind").is_none_or(Value::is_null) {
        obj.insert("kind".into(), Value::String(t.kind.clone()));
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m.retain(|_, v| !v.is_null()),
        _ => {
            obj.insert("metadata".into(), Value::Object(Map::new()));
        }
    }
    Ok(Value::Object(obj))
}

/// The types of the `metadata` fields the server reads (null fields are ignored).
fn check_meta(m: &Map<String, Value>) -> Result<(), ApiError> {
    let path = |f: &str| format!("ObjectMeta.metadata.{f}");
    // Null fields count as absent (they are dropped from the stored object).
    let get = |f: &str| m.get(f).filter(|v| !v.is_null());
    for f in META_STRINGS {
        if let Some(v) = get(f) {
            if !v.is_string() {
                return Err(wrong_type(&path(f), v, "string"));
            }
        }
    }
    for f in META_INTEGERS {
        if let Some(v) = get(f) {
            if v.as_i64().is_none() {
                return Err(wrong_type(&path(f), v, "int64"));
            }
        }
    }
    for f in META_STRING_MAPS {
        if let Some(v) = get(f) {
            let Some(obj) = v.as_object() else {
                return Err(wrong_type(&path(f), v, "map[string]string"));
            };
            if let Some((_, bad)) = obj.iter().find(|(_, v)| !v.is_string()) {
                return Err(wrong_type(&path(f), bad, "string"));
            }
        }
    }
    if let Some(v) = get("finalizers") {
        let ok = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(wrong_type(&path("finalizers"), v, "[]string"));
        }
    }
    if let Some(v) = get("managedFields") {
        let ok = v.as_array().is_some_and(|a| a.iter().all(Value::is_object));
        if !ok {
            return Err(wrong_type(
                &path("managedFields"),
                v,
                "[]v1.ManagedFieldsEntry",
            ));
        }
    }
    if let Some(v) = get("ownerReferences") {
        let Some(refs) = v.as_array() else {
            return Err(wrong_type(
                &path("ownerReferences"),
                v,
                "[]v1.OwnerReference",
            ));
        };
        for r in refs {
            let Some(r) = r.as_object() else {
                return Err(wrong_type(&path("ownerReferences"), r, "v1.OwnerReference"));
            };
            for f in ["apiVersion", "kind", "name", "uid"] {
                match r.get(f) {
                    Some(Value::String(_)) | None | Some(Value::Null) => {}
                    Some(other) => {
                        return Err(wrong_type(
                            &format!("OwnerReference.metadata.ownerReferences.{f}"),
                            other,
                            "string",
                        ))
                    }
                }
            }
            for f in ["controller", "blockOwnerDeletion"] {
                match r.get(f) {
                    Some(Value::Bool(_)) | None | Some(Value::Null) => {}
                    Some(other) => {
                        return Err(wrong_type(
                            &format!("OwnerReference.metadata.ownerReferences.{f}"),
                            other,
                            "bool",
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// `ValidateOwnerReferences`: field errors for owner references missing a required field.
pub(crate) fn owner_ref_errors(obj: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let mut controllers = 0;
    for r in owner_references(obj) {
        let s = |f: &str| ref_str(r, f);
        let p = "metadata.ownerReferences";
        let required = [
            ("apiVersion", "version must not be empty"),
            ("kind", "must not be empty"),
            ("name", "must not be empty"),
            ("uid", "must not be empty"),
        ];
        for (field, why) in required {
            if s(field).is_empty() {
                errs.push(super::validate::field_invalid(
                    &format!("{p}.{field}"),
                    "",
                    why,
                ));
            }
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            controllers += 1;
        }
    }
    if controllers > 1 {
        errs.push(format!(
            "metadata.ownerReferences: Invalid value: []v1.OwnerReference{{...}}: Only one reference can have Controller set to true. Found {controllers} references"
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_that_is_not_an_object_is_a_400() {
        let e = checked_object(&json!([1]), &ResourceType::config_map()).expect_err("array");
        assert_eq!(e.code(), 400);
    }

    #[test]
    fn a_metadata_field_of_the_wrong_type_is_a_400_naming_the_field() {
        let t = ResourceType::config_map();
        let e = checked_object(&json!({"metadata": {"name": 5}}), &t).expect_err("number");
        assert_eq!(
            e.message,
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string"
        );
        let e = checked_object(&json!({"metadata": {"labels": {"a": 1}}}), &t).expect_err("x");
        assert_eq!(e.code(), 400);
        let e = checked_object(&json!({"metadata": {"finalizers": "x"}}), &t).expect_err("x");
        assert_eq!(e.code(), 400);
    }

    #[test]
    fn a_missing_api_version_and_kind_are_filled_and_a_wrong_one_is_a_400() {
        let t = ResourceType::lease();
        let o =
            checked_object(&json!({"metadata": {"name": "a", "uid": null}}), &t).expect("valid");
        assert_eq!(o["apiVersion"], "coordination.k8s.io/v1");
        assert_eq!(o["kind"], "Lease");
        assert!(o["metadata"].get("uid").is_none());
        let e = checked_object(&json!({"apiVersion": "v1"}), &t).expect_err("wrong");
        assert_eq!(
            e.message,
            "the API version in the data (v1) does not match the expected API version (coordination.k8s.io/v1)"
        );
    }
}
