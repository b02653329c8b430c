//! Namespace deletion (kubernetes `pkg/registry/core/namespace/storage/storage.go` `REST.Delete`
//! and kube-controller-manager's namespace controller, `pkg/controller/namespace/deletion`):
//! deleting a namespace whose `spec.finalizers` is not empty marks it `Terminating`; the
//! controller (here a step of the garbage collector's pass) deletes everything in it, then
//! removes the `kubernetes` finalizer, and the namespace goes once no finalizer is left.

use super::{meta, ApiState, DeleteOptions};
use kubesim_model::{ObjectKey, ResourceType, WatchEventType};
use serde_json::Value;
use std::sync::Arc;

/// `v1.FinalizerKubernetes`.
const FINALIZER_KUBERNETES: &str = "kubernetes";

/// Whether `t` is the core Namespace type.
pub(crate) fn is_namespace(t: &ResourceType) -> bool {
    t.group.is_empty() && t.kind == "Namespace"
}

fn spec_finalizers(obj: &Value) -> Vec<String> {
    obj.get("spec")
        .and_then(|s| s.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

impl ApiState {
    /// `REST.Delete` of a namespace with spec finalizers: `deletionTimestamp` set and
    /// `status.phase: Terminating`, one MODIFIED commit; `None` when the namespace has none
    /// (it is then deleted as any object).
    pub(crate) fn mark_namespace_terminating(
        &mut self,
        key: &ObjectKey,
        cur: &Value,
        now: &str,
    ) -> Option<Arc<Value>> {
        if spec_finalizers(cur).is_empty() {
            return None;
        }
        let mut obj = cur.clone();
        meta::set_str(&mut obj, "deletionTimestamp", now.to_string());
        if let Some(map) = obj.as_object_mut() {
            map.insert("status".into(), serde_json::json!({"phase": "Terminating"}));
        }
        Some(self.store.commit(WatchEventType::Modified, key, obj))
    }

    /// Whether a namespace is being deleted (the namespace controller has work, or waits).
    pub fn has_terminating_namespace(&self) -> bool {
        self.store
            .range(&ResourceType::namespace().short_name())
            .any(|(_, o)| meta::deletion_timestamp(o).is_some())
    }

    /// The namespace controller's pass: for each terminating namespace, deletes the objects in
    /// it; once it is empty, drops the `kubernetes` finalizer and, with no finalizer left,
    /// removes the namespace.
    pub(crate) fn finalize_namespaces(&mut self, now: &str) {
        let ns_type = ResourceType::namespace();
        let terminating: Vec<(ObjectKey, String)> = self
            .store
            .range(&ns_type.short_name())
            .filter(|(_, o)| meta::deletion_timestamp(o).is_some())
            .map(|(k, _)| (k.clone(), k.name.clone()))
            .collect();
        for (ns_key, ns) in terminating {
            let contents: Vec<ObjectKey> = self
                .store
                .iter()
                .filter(|(k, _)| k.namespace == ns)
                .map(|(k, _)| k.clone())
                .collect();
            let mut remaining = 0;
            for key in contents {
                let Some(t) = self.type_of(&key.resource) else {
                    continue;
                };
                let _ = self.delete_object(&t, &key, &DeleteOptions::default(), now);
                if self.store.get(&key).is_some() {
                    remaining += 1;
                }
            }
            if remaining > 0 {
                continue;
            }
            let Some(cur) = self.store.get(&ns_key).cloned() else {
                continue;
            };
            let rest: Vec<Value> = spec_finalizers(&cur)
                .into_iter()
                .filter(|f| f != FINALIZER_KUBERNETES)
                .map(Value::from)
                .collect();
            if rest.is_empty() && meta::finalizers(&cur).is_empty() {
                self.store
                    .commit(WatchEventType::Deleted, &ns_key, Value::clone(&cur));
            } else if spec_finalizers(&cur).len() != rest.len() {
                let mut obj = Value::clone(&cur);
                if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                    spec.insert("finalizers".into(), Value::Array(rest));
                }
                self.store.commit(WatchEventType::Modified, &ns_key, obj);
            }
        }
    }
}
