//! Field ownership for server-side apply (apimachinery `pkg/util/managedfields`, over
//! sigs.k8s.io/structured-merge-diff): `metadata.managedFields` as a list of entries, one per
//! manager, operation and subresource, each owning a set of field paths.
//!
//! Simplifications, listed in the README's known gaps: paths go through object fields only
//! (a list is owned whole, as an atomic list is; no `k:`/`v:` list-item keys), `fieldsV1`
//! carries no `.` markers for map nodes, and an `Update` entry is recorded only when the
//! request names a `fieldManager` (the apiserver derives one from the user agent otherwise).

use kubesim_model::{ApiError, ResourceType, StatusCause};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A field path: object keys from the root.
pub(crate) type Path = Vec<String>;

/// `metav1.FieldsV1`'s `fieldsType`.
pub(crate) const FIELDS_TYPE: &str = "FieldsV1";

/// The metadata fields the field manager never tracks.
const UNTRACKED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) manager: String,
    /// `Apply` or `Update`.
    pub(crate) operation: String,
    pub(crate) api_version: String,
    pub(crate) time: String,
    pub(crate) subresource: String,
    pub(crate) fields: BTreeSet<Path>,
}

impl Entry {
    fn same_owner(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    /// `printManager` of conflict.go.
    fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == "Update" {
            s.push_str(&format!(" using {} at {}", self.api_version, self.time));
        }
        s
    }

    fn to_json(&self) -> Value {
        let mut e = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": FIELDS_TYPE,
            "fieldsV1": to_fields_v1(&self.fields),
        });
        if !self.subresource.is_empty() {
            e["subresource"] = json!(self.subresource);
        }
        e
    }
}

/// `fieldpath.Path.String()`: `.spec.size`.
fn path_string(p: &Path) -> String {
    p.iter().map(|s| format!(".{s}")).collect()
}

fn to_fields_v1(set: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for p in set {
        let mut node = &mut root;
        for seg in p {
            let child = node
                .entry(format!("f:{seg}"))
                .or_insert_with(|| Value::Object(Map::new()));
            node = match child {
                Value::Object(m) => m,
                _ => unreachable!("invariant: fieldsV1 nodes are objects"),
            };
        }
    }
    Value::Object(root)
}

fn from_fields_v1(v: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
    let Some(m) = v.as_object() else {
        return;
    };
    let children: Vec<(&String, &Value)> = m.iter().filter(|(k, _)| k.starts_with("f:")).collect();
    if children.is_empty() && !prefix.is_empty() {
        out.insert(prefix.clone());
        return;
    }
    for (k, child) in children {
        prefix.push(k[2..].to_string());
        from_fields_v1(child, prefix, out);
        prefix.pop();
    }
}

/// The entries of `obj`'s `metadata.managedFields` (malformed entries are dropped).
pub(crate) fn entries(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let s = |f: &str| e.get(f).and_then(Value::as_str).unwrap_or("").to_string();
            let mut fields = BTreeSet::new();
            from_fields_v1(e.get("fieldsV1")?, &mut Vec::new(), &mut fields);
            Some(Entry {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                time: s("time"),
                subresource: s("subresource"),
                fields,
            })
        })
        .collect()
}

/// Writes `entries` (empty ones dropped, sorted as `sortEncodedManagedFields` sorts them:
/// operation, time, manager, apiVersion, subresource) into `obj`.
pub(crate) fn set_entries(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        let list: Vec<Value> = entries.iter().map(Entry::to_json).collect();
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

fn leaves(v: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push(k.clone());
                leaves(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            out.insert(prefix.clone());
        }
    }
}

/// The field paths `obj` sets that the manager tracks for `subresource` ("" or "status"):
/// `apiVersion`, `kind` and server-owned metadata excluded; `.status` only for the status
/// subresource when the type has one (and then nothing else).
pub(crate) fn tracked(t: &ResourceType, obj: &Value, subresource: &str) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (k, v) in map {
        let keep = match (k.as_str(), subresource) {
            ("apiVersion" | "kind", _) => false,
            ("status", "status") => true,
            (_, "status") => false,
            ("status", _) => !t.status_subresource,
            _ => true,
        };
        if !keep {
            continue;
        }
        let mut prefix = vec![k.clone()];
        if k == "metadata" {
            if let Some(m) = v.as_object() {
                for (f, fv) in m {
                    if UNTRACKED_METADATA.contains(&f.as_str()) {
                        continue;
                    }
                    prefix.push(f.clone());
                    leaves(fv, &mut prefix, &mut out);
                    prefix.pop();
                }
            }
            continue;
        }
        leaves(v, &mut prefix, &mut out);
    }
    out
}

/// The value at `p` in `v`, if any.
pub(crate) fn value_at<'a>(v: &'a Value, p: &Path) -> Option<&'a Value> {
    p.iter().try_fold(v, |node, seg| node.get(seg))
}

/// Removes the field at `p` from `v` (no-op when absent).
pub(crate) fn remove_at(v: &mut Value, p: &Path) {
    let Some((last, parents)) = p.split_last() else {
        return;
    };
    let mut node = v;
    for seg in parents {
        match node.get_mut(seg) {
            Some(n) => node = n,
            None => return,
        }
    }
    if let Some(m) = node.as_object_mut() {
        m.remove(last);
    }
}

/// Records `manager` as the owner of every field of a new object (a create, or an update that
/// creates): an `Update` entry against nothing.
pub(crate) fn record_create(t: &ResourceType, obj: &mut Value, manager: &str, now: &str) {
    let entries = record_update(t, Vec::new(), &Value::Null, obj, manager, "", now);
    set_entries(obj, entries);
}

/// An `Update` by `manager`: it owns every tracked field whose value it changed (set or
/// removed) between `old` and `new`, and every other manager loses those fields (an update
/// never conflicts). Returns the new entries.
pub(crate) fn record_update(
    t: &ResourceType,
    mut base: Vec<Entry>,
    old: &Value,
    new: &Value,
    manager: &str,
    subresource: &str,
    now: &str,
) -> Vec<Entry> {
    let before = tracked(t, old, subresource);
    let after = tracked(t, new, subresource);
    let changed: BTreeSet<Path> = after
        .iter()
        .filter(|p| value_at(old, p) != value_at(new, p))
        .cloned()
        .collect();
    let removed: BTreeSet<Path> = before.difference(&after).cloned().collect();
    if changed.is_empty() && removed.is_empty() {
        return base;
    }
    for e in base.iter_mut() {
        e.fields
            .retain(|p| !changed.contains(p) && !removed.contains(p));
    }
    let api_version = t.api_version();
    match base
        .iter_mut()
        .find(|e| e.same_owner(manager, "Update", subresource) && e.api_version == api_version)
    {
        Some(e) => {
            e.fields.extend(changed);
            e.time = now.to_string();
        }
        None => base.push(Entry {
            manager: manager.to_string(),
            operation: "Update".into(),
            api_version,
            time: now.to_string(),
            subresource: subresource.to_string(),
            fields: changed,
        }),
    }
    base
}

/// The result of an apply: the merged object's fields to remove and the new entries.
pub(crate) struct Applied {
    /// Fields the manager stopped applying and no one else owns: removed from the object.
    pub(crate) prune: Vec<Path>,
    pub(crate) entries: Vec<Entry>,
}

/// An `Apply` by `manager` of the configuration whose tracked fields are `applied`, giving
/// `merged` from `live` (structured-merge-diff `Updater.Apply`): a field another manager owns
/// whose value the apply changes is a conflict (409 unless `force`, which takes it over); the
/// fields the manager applied last time and no longer applies are pruned when no one else owns
/// them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_apply(
    t: &ResourceType,
    mut base: Vec<Entry>,
    live: &Value,
    merged: &Value,
    applied: BTreeSet<Path>,
    manager: &str,
    subresource: &str,
    force: bool,
    now: &str,
) -> Result<Applied, ApiError> {
    let mine = |e: &Entry| e.same_owner(manager, "Apply", subresource);
    let mut conflicts: Vec<(usize, Path)> = Vec::new();
    for (i, e) in base.iter().enumerate() {
        if mine(e) || e.manager == manager {
            continue;
        }
        for p in applied.intersection(&e.fields) {
            if value_at(live, p) != value_at(merged, p) {
                conflicts.push((i, p.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&base, &conflicts));
    }
    for (i, p) in &conflicts {
        base[*i].fields.remove(p);
    }
    let previous: BTreeSet<Path> = base
        .iter()
        .find(|e| mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let prune: Vec<Path> = previous
        .difference(&applied)
        .filter(|p| !base.iter().any(|e| !mine(e) && e.fields.contains(*p)))
        .cloned()
        .collect();
    let api_version = t.api_version();
    match base.iter_mut().find(|e| mine(e)) {
        Some(e) => {
            let changed = e.fields != applied || live != merged || !prune.is_empty();
            e.fields = applied;
            e.api_version = api_version;
            if changed {
                e.time = now.to_string();
            }
        }
        None => base.push(Entry {
            manager: manager.to_string(),
            operation: "Apply".into(),
            api_version,
            time: now.to_string(),
            subresource: subresource.to_string(),
            fields: applied,
        }),
    }
    Ok(Applied {
        prune,
        entries: base,
    })
}

/// `NewConflictError`: one cause per conflicting field, the message listing them by manager.
fn conflict_error(base: &[Entry], conflicts: &[(usize, Path)]) -> ApiError {
    let causes: Vec<StatusCause> = conflicts
        .iter()
        .map(|(i, p)| StatusCause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with {}", base[*i].describe()),
            field: path_string(p),
        })
        .collect();
    let message = if let [(i, p)] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            base[*i].describe(),
            path_string(p)
        )
    } else {
        let mut by_manager: Vec<(String, Vec<String>)> = Vec::new();
        for (i, p) in conflicts {
            let m = base[*i].describe();
            match by_manager.iter_mut().find(|(k, _)| *k == m) {
                Some((_, paths)) => paths.push(path_string(p)),
                None => by_manager.push((m, vec![path_string(p)])),
            }
        }
        by_manager.sort();
        let mut lines = Vec::new();
        for (m, paths) in by_manager {
            lines.push(format!("conflicts with {m}:"));
            lines.extend(paths.into_iter().map(|p| format!("- {p}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ApiError::apply_conflict(causes, message)
}
