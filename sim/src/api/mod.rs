//! The API server core: a pure, synchronous state machine over an etcd-like store.
//!
//! - [`request`]: the parsed request ([`ApiRequest`]) the HTTP front hands in.
//! - [`ApiState`]: storage (one global revision bumped by every write, which is every object's
//!   `resourceVersion`; a log of commits kept for watches until compaction) and the REST
//!   semantics of kubernetes/apiserver's generic registry store.
//! - [`WatchCache`]: one API server replica's cache, trailing storage; it serves `resourceVersion=0`
//!   lists and watches.
//!
//! How a request flows: [`ApiState::apply`] dispatches on the verb to one file per verb
//! (`create.rs`, `update.rs`, `patch/`, `delete.rs`, `list.rs`); every write that replaces an
//! existing object goes through the one update path in `update.rs` (optimistic concurrency,
//! server-managed fields, generation, finalizers, no-op detection), so PUT, PATCH, server-side
//! apply and the garbage collector (`gc.rs`) share its rules. Storage (`store.rs`) only knows
//! keys, revisions and the log, and two indexes it keeps on every commit: objects by label
//! (`label_index.rs`, for lists with an equality selector) and what the garbage collector looks
//! up (`gc_index.rs`: uids, owned objects, objects being deleted). Selectors, continue tokens,
//! uids and validation messages have their own files.
//!
//! Per-type strategies of the built-in types are in `strategy.rs`, namespace deletion in
//! `namespace_lifecycle.rs`, server-side apply's field ownership in `managed_fields.rs`.
//!
//! Known differences from kubernetes/apiserver are listed on each function and in the README's
//! known gaps; the main ones: no graceful deletion (pods go at once), no admission (namespaces
//! need not exist), server-side apply owns lists whole, strategic merge patch with a simplified
//! list merge, field selectors limited to `metadata.name` and `metadata.namespace`, the watch
//! cache ignores `limit` (as before Kubernetes 1.31) and buffers all types in one ring.

pub mod request;

mod continue_token;
mod create;
mod delete;
mod gc;
mod gc_index;
mod label_index;
mod list;
mod managed_fields;
mod meta;
mod namespace_lifecycle;
mod patch;
mod selector;
mod store;
mod strategy;
mod uid;
mod update;
mod validate;
mod watch_cache;

#[cfg(test)]
mod testutil;

pub use request::{
    ApiRequest, DeleteOptions, ListOptions, PatchType, Propagation, ResourceVersionMatch, Verb,
};

use kubesim_model::{ApiError, ObjectKey, ResourceType, WatchEventType};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use list::ListBody;
pub use watch_cache::{error_event, is_expired, WatchCache, WatchCursor};

/// Storage settings.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Revisions of history kept for watches and exact lists; older ones are compacted away
    /// automatically after each write (0 = never compact automatically).
    pub compaction_window: u64,
    /// Seed for object uids (uids are derived from it and a counter, so runs repeat).
    pub uid_seed: u64,
    /// Largest request body accepted, in bytes (the front answers 413 beyond it).
    pub max_body_bytes: usize,
    /// The NamespaceLifecycle admission plugin: a create in a namespace that does not exist is
    /// 404 `namespaces "x" not found`, and in a `Terminating` one 403 Forbidden. Off by default
    /// (scenarios create objects in namespaces they never create); `default`, `kube-system`,
    /// `kube-public` and `kube-node-lease` always exist, as on a cluster.
    pub namespace_lifecycle: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            compaction_window: 1000,
            uid_seed: 0,
            max_body_bytes: 3 * 1024 * 1024,
            namespace_lifecycle: false,
        }
    }
}

/// One committed write, as kept in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// The revision this write created.
    pub rev: u64,
    /// `Added`, `Modified` or `Deleted`.
    pub kind: WatchEventType,
    /// The object written.
    pub key: ObjectKey,
    /// The object after the write (for `Deleted`: the last state, with `resourceVersion` = `rev`).
    pub object: Arc<Value>,
    /// The object before the write (`None` for `Added`).
    pub prev: Option<Arc<Value>>,
}

/// One event for a watcher.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// Event type.
    pub kind: WatchEventType,
    /// The object (a `metav1.Status` for `Error`, an object with only `metadata.resourceVersion`
    /// for `Bookmark`).
    pub object: Arc<Value>,
    /// The resourceVersion the event carries.
    pub rv: u64,
    /// The object's key (empty name for bookmarks and errors).
    pub key: ObjectKey,
}

/// What the last successful write did to its object (the front answers 201 for a create,
/// including create-on-update and server-side apply of a new object, and a `Status` for an
/// immediate delete of a type whose store does not return the deleted object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Read, or written in place.
    Other,
    /// The request created the object.
    Created,
    /// The request removed the object from storage.
    Deleted,
}

/// The storage and semantics of the API server.
pub struct ApiState {
    config: StoreConfig,
    /// Served types by `(group, version, plural)`.
    types: BTreeMap<(String, String, String), ResourceType>,
    store: store::Store,
    uids: uid::UidSource,
    outcome: Outcome,
}

impl ApiState {
    /// Empty storage at revision 1 (as etcd starts) with the built-in types registered.
    pub fn new(config: StoreConfig) -> Self {
        let mut state = Self {
            store: store::Store::new(config.compaction_window),
            uids: uid::UidSource::new(config.uid_seed),
            config,
            types: BTreeMap::new(),
            outcome: Outcome::Other,
        };
        for t in ResourceType::builtins() {
            state.register(t);
        }
        assert_eq!(
            state.store.revision(),
            1,
            "invariant: storage starts at revision 1"
        );
        state
    }

    /// Every served resource type, in (group, version, plural) order.
    pub fn types(&self) -> impl Iterator<Item = &ResourceType> {
        self.types.values()
    }

    /// Serves a new resource type (for example a custom resource).
    pub fn register(&mut self, t: ResourceType) {
        let id = (t.group.clone(), t.version.clone(), t.plural.clone());
        self.types.insert(id, t);
    }

    /// The registered type at `/apis/{group}/{version}/{plural}` (group empty for `/api/v1`).
    pub fn resolve(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
    }

    /// Every registered type, in a stable order.
    pub fn resource_types(&self) -> Vec<ResourceType> {
        self.types.values().cloned().collect()
    }

    /// The storage settings this state was made with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The current global revision.
    pub fn revision(&self) -> u64 {
        self.store.revision()
    }

    /// The compacted revision: the log holds only revisions after it.
    pub fn compacted(&self) -> u64 {
        self.store.compacted()
    }

    /// Compacts history up to `rev` (inclusive), like etcd's compaction. Revisions beyond the
    /// current one are clamped; compacting to an older revision than already compacted is a
    /// no-op.
    pub fn compact(&mut self, rev: u64) {
        self.store.compact(rev);
    }

    /// Answers every verb but `Watch` against storage. `now` is the RFC 3339 simulated time used
    /// for `creationTimestamp` and `deletionTimestamp`.
    ///
    /// A `Watch` request is answered with 405 MethodNotAllowed: watches are served by a
    /// [`WatchCache`].
    ///
    /// The answer is shared, not copied: for a get or a write it is the stored object itself
    /// (the same `Arc` the store and the log hold), so a caller that only serialises it pays
    /// no deep copy.
    pub fn apply(&mut self, req: &ApiRequest, now: &str) -> Result<Arc<Value>, ApiError> {
        self.outcome = Outcome::Other;
        if req.dry_run && req.verb.is_write() {
            // dryRun=All: the request runs to the end on a copy of storage, which is dropped.
            let mut scratch = Self {
                config: self.config.clone(),
                types: self.types.clone(),
                store: self.store.clone(),
                uids: self.uids.clone(),
                outcome: Outcome::Other,
            };
            let mut real = req.clone();
            real.dry_run = false;
            let result = scratch.apply(&real, now);
            self.outcome = scratch.outcome;
            return result;
        }
        let rev_before = self.store.revision();
        let result = match req.verb {
            Verb::Get => self.get(req),
            Verb::List => list::list_from_storage(&self.store, req).map(|l| Arc::new(l.to_value())),
            Verb::Create => self.create(req, now),
            Verb::Update => self.update(req, now),
            Verb::Patch => self.patch(req, now),
            Verb::Delete => self.delete(req, now),
            Verb::DeleteCollection => self.delete_collection(req, now).map(Arc::new),
            Verb::Watch => Err(ApiError::new(
                kubesim_model::StatusReason::MethodNotAllowed,
                "watch is served by the watch cache, not by storage",
            )),
        };
        assert!(
            result.is_ok() || self.store.revision() == rev_before,
            "invariant: a failed request writes nothing"
        );
        // A create sets `Created` itself (create.rs); a single-object write that leaves no object
        // removed it.
        if result.is_ok()
            && self.store.revision() > rev_before
            && matches!(req.verb, Verb::Update | Verb::Patch | Verb::Delete)
            && object_key(req).is_ok_and(|key| self.store.get(&key).is_none())
        {
            self.outcome = Outcome::Deleted;
        }
        result
    }

    /// A list served by storage, as [`ApiState::apply`] answers it, with the items shared
    /// instead of copied into a JSON value (the HTTP front serialises it as it is).
    pub fn list(&self, req: &ApiRequest) -> Result<ListBody, ApiError> {
        list::list_from_storage(&self.store, req)
    }

    /// What the last [`ApiState::apply`] did to its object.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Log entries with revision > `after`, oldest first; 410 Expired if `after` < compacted.
    pub fn log_since(&self, after: u64) -> Result<Vec<LogEntry>, ApiError> {
        self.store.log_since(after)
    }

    /// [`ApiState::log_since`] by reference, without copying the entries.
    pub fn log_after(&self, after: u64) -> Result<impl Iterator<Item = &LogEntry> + '_, ApiError> {
        self.store.log_after(after)
    }

    /// Undoes every write after revision `rev`: storage as it was when `rev` was committed
    /// (`kubesim replay --until`). 410 Expired when `rev` is compacted.
    pub fn rewind(&mut self, rev: u64) -> Result<(), ApiError> {
        self.store.rewind(rev)
    }

    /// Every commit since the previous call, oldest first (for the history recorder).
    pub fn take_commits(&mut self) -> Vec<LogEntry> {
        self.store.take_commits()
    }

    /// One pass of the garbage collector: deletes dependents whose owners are gone, orphans
    /// dependents of owners deleted with `Orphan`, and completes foreground deletions whose
    /// dependents are gone. Returns how many writes it made.
    pub fn collect_garbage(&mut self, now: &str) -> usize {
        gc::collect_garbage(self, now)
    }

    /// All objects of every type, in key order (for convergence checks and snapshots).
    pub fn objects(&self) -> Vec<(ObjectKey, Arc<Value>)> {
        self.store
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect()
    }

    /// One object, if it exists.
    pub fn object(&self, key: &ObjectKey) -> Option<Arc<Value>> {
        self.store.get(key).cloned()
    }

    pub(crate) fn store(&self) -> &store::Store {
        &self.store
    }

    /// GET of one object: 404 NotFound when absent.
    fn get(&self, req: &ApiRequest) -> Result<Arc<Value>, ApiError> {
        let key = object_key(req)?;
        match self.store.get(&key) {
            Some(obj) => Ok(Arc::clone(obj)),
            None => Err(not_found(&req.resource, &key.name)),
        }
    }
}

/// The key a single-object request addresses: 400 when the path has no name (or a namespaced
/// type has no namespace).
pub(crate) fn object_key(req: &ApiRequest) -> Result<ObjectKey, ApiError> {
    let name = match req.name.as_deref() {
        Some(n) if !n.is_empty() => n,
        _ => {
            return Err(ApiError::bad_request(
                "name is required for this request (the path has no object name)",
            ))
        }
    };
    let namespace = if req.resource.namespaced {
        match req.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => {
                return Err(ApiError::bad_request(
                    "namespace is required for a namespaced resource",
                ))
            }
        }
    } else {
        ""
    };
    Ok(ObjectKey::new(req.resource.short_name(), namespace, name))
}

/// 404 for one object of type `t`.
pub(crate) fn not_found(t: &ResourceType, name: &str) -> ApiError {
    ApiError::not_found(&t.plural, &t.group, name)
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_new_state_serves_the_built_in_types_at_revision_one() {
        let s = state();
        assert_eq!(s.revision(), 1);
        assert_eq!(
            s.resolve("", "v1", "configmaps"),
            Some(&ResourceType::config_map())
        );
        assert_eq!(
            s.resolve("coordination.k8s.io", "v1", "leases"),
            Some(&ResourceType::lease())
        );
        assert!(s.resolve("example.com", "v1", "widgets").is_none());
        assert_eq!(s.resource_types().len(), ResourceType::builtins().len());
    }

    #[test]
    fn a_registered_custom_resource_is_resolved() {
        let mut s = state();
        s.register(widget());
        assert_eq!(s.resolve("example.com", "v1", "widgets"), Some(&widget()));
    }

    #[test]
    fn every_commit_bumps_the_revision_by_one_and_objects_are_in_key_order() {
        let mut s = state();
        for n in ["b", "a"] {
            create(&mut s, &cm(), json!({"metadata": {"name": n}})).expect("created");
        }
        let commits = s.take_commits();
        assert_eq!(
            commits.iter().map(|c| c.rev).collect::<Vec<_>>(),
            vec![2, 3]
        );
        let names: Vec<String> = s.objects().into_iter().map(|(k, _)| k.name).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert_eq!(s.log_since(0).expect("kept").len(), 2);
    }

    #[test]
    fn log_since_a_compacted_revision_is_410_expired() {
        let mut s = state();
        for n in ["a", "b", "c"] {
            create(&mut s, &cm(), json!({"metadata": {"name": n}})).expect("created");
        }
        s.compact(3);
        assert_eq!(s.compacted(), 3);
        let e = s.log_since(2).expect_err("compacted");
        assert_eq!(
            (e.code(), e.message.as_str()),
            (410, "too old resource version: 2 (3)")
        );
        assert_eq!(s.log_since(3).expect("kept").len(), 1);
    }

    #[test]
    fn a_request_without_a_name_or_namespace_is_a_400() {
        let mut s = state();
        let req = ApiRequest::new(Verb::Get, cm(), Some("default"), None);
        assert_eq!(s.apply(&req, NOW).expect_err("no name").code(), 400);
        let req = ApiRequest::new(Verb::Get, cm(), None, Some("a"));
        assert_eq!(s.apply(&req, NOW).expect_err("no namespace").code(), 400);
        let req = ApiRequest::new(Verb::Watch, cm(), None, None);
        assert_eq!(s.apply(&req, NOW).expect_err("watch").code(), 405);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z0-9./~-]{0,5}".prop_map(Value::from),
        ];
        let keys = prop::sample::select(vec![
            "metadata",
            "name",
            "namespace",
            "labels",
            "finalizers",
            "ownerReferences",
            "uid",
            "resourceVersion",
            "generateName",
            "status",
            "spec",
            "apiVersion",
            "kind",
            "op",
            "path",
            "value",
            "from",
        ]);
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(keys.clone().prop_map(String::from), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn malformed_bodies_never_panic_and_failures_write_nothing(
            body in arb_json(),
            verb in 0..7usize,
            status in any::<bool>(),
        ) {
            let mut s = state();
            let t = widget();
            s.register(t.clone());
            create(&mut s, &t, json!({"metadata": {"name": "a", "finalizers": ["f"]}, "spec": {}}))
                .expect("seed object");
            let (verb, patch_type) = match verb {
                0 => (Verb::Create, None),
                1 => (Verb::Update, None),
                2 => (Verb::Patch, Some(PatchType::Merge)),
                3 => (Verb::Patch, Some(PatchType::Json)),
                4 => (Verb::Patch, Some(PatchType::Apply)),
                5 => (Verb::Patch, Some(PatchType::StrategicMerge)),
                _ => (Verb::Delete, None),
            };
            let name = (verb != Verb::Create).then_some("a");
            let mut req = ApiRequest::new(verb, t, Some("default"), name).with_body(body);
            req.patch_type = patch_type;
            req.status = status;
            req.field_manager = Some("m".into());
            let before = s.revision();
            match s.apply(&req, NOW) {
                Ok(_) => prop_assert!(s.revision() <= before + 1),
                Err(e) => {
                    prop_assert_eq!(s.revision(), before);
                    prop_assert!(e.code() >= 400);
                }
            }
            s.collect_garbage(LATER);
        }
    }
}
