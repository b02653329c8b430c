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
//! (`create.rs`, `update.rs`, `patch.rs`, `delete.rs`, `list.rs`); every write that replaces an
//! existing object goes through the one update path in `update.rs` (optimistic concurrency,
//! server-managed fields, generation, finalizers, no-op detection), so PUT, PATCH, server-side
//! apply and the garbage collector (`gc.rs`) share its rules. Storage (`store.rs`) only knows
//! keys, revisions and the log. Selectors, continue tokens, uids and validation messages have
//! their own files.
//!
//! Known differences from kubernetes/apiserver are listed on each function; the main ones:
//! no graceful deletion (every type deletes like a ConfigMap: immediately, or via finalizers),
//! no admission (namespaces need not exist), server-side apply without field ownership
//! conflicts, strategic merge patch with a simplified list merge, field selectors limited to
//! `metadata.name` and `metadata.namespace`.

pub mod request;

mod continue_token;
mod create;
mod delete;
mod gc;
mod list;
mod meta;
mod patch;
mod selector;
mod store;
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
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            compaction_window: 1000,
            uid_seed: 0,
            max_body_bytes: 3 * 1024 * 1024,
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

/// The storage and semantics of the API server.
pub struct ApiState {
    config: StoreConfig,
    /// Served types by `(group, version, plural)`.
    types: BTreeMap<(String, String, String), ResourceType>,
    store: store::Store,
    uids: uid::UidSource,
}

impl ApiState {
    /// Empty storage at revision 1 (as etcd starts) with the built-in types registered.
    pub fn new(config: StoreConfig) -> Self {
        let mut state = Self {
            store: store::Store::new(config.compaction_window),
            uids: uid::UidSource::new(config.uid_seed),
            config,
            types: BTreeMap::new(),
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
    pub fn apply(&mut self, req: &ApiRequest, now: &str) -> Result<Value, ApiError> {
        let rev_before = self.store.revision();
        let result = match req.verb {
            Verb::Get => self.get(req),
            Verb::List => list::list_from_storage(&self.store, req),
            Verb::Create => self.create(req, now),
            Verb::Update => self.update(req, now),
            Verb::Patch => self.patch(req, now),
            Verb::Delete => self.delete(req, now),
            Verb::DeleteCollection => self.delete_collection(req, now),
            Verb::Watch => Err(ApiError::new(
                kubesim_model::StatusReason::MethodNotAllowed,
                "watch is served by the watch cache, not by storage",
            )),
        };
        assert!(
            result.is_ok() || self.store.revision() == rev_before,
            "invariant: a failed request writes nothing"
        );
        result
    }

    /// Log entries with revision > `after`, oldest first; 410 Expired if `after` < compacted.
    pub fn log_since(&self, after: u64) -> Result<Vec<LogEntry>, ApiError> {
        self.store.log_since(after)
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
    fn get(&self, req: &ApiRequest) -> Result<Value, ApiError> {
        let key = object_key(req)?;
        match self.store.get(&key) {
            Some(obj) => Ok(Value::clone(obj)),
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
