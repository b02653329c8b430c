//! Strategic merge patch (`application/strategic-merge-patch+json`, built-in types only),
//! simplified from k8s.io/apimachinery `pkg/util/strategicpatch`.

use serde_json::{Map, Value};

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
