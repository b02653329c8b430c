//! The API server core: a pure, synchronous state machine over an etcd-like store.
//!
//! - [`request`]: the parsed request ([`ApiRequest`]) the HTTP front hands in.
//! - [`ApiState`]: storage (one global revision bumped by every write, which is every object's
//!   `resourceVersion`; a log of commits kept for watches until compaction) and the REST
//!   semantics of kubernetes/apiserver's generic registry store.
//! - [`WatchCache`]: one API server replica's cache, trailing storage; it serves `resourceVersion=0`
//!   lists and watches.
//!
//! INTERFACE CONTRACT (implemented by the core; the HTTP front codes against these signatures).

pub mod request;

pub use request::{
    ApiRequest, DeleteOptions, ListOptions, PatchType, Propagation, ResourceVersionMatch, Verb,
};

use kubesim_model::{ApiError, ObjectKey, ResourceType, WatchEventType};
use serde_json::Value;
use std::sync::Arc;

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
    _todo: (),
}

impl ApiState {
    /// Empty storage at revision 1 (as etcd starts) with the built-in types registered.
    pub fn new(_config: StoreConfig) -> Self {
        todo!()
    }
    /// Serves a new resource type (for example a custom resource).
    pub fn register(&mut self, _t: ResourceType) {
        todo!()
    }
    /// The registered type at `/apis/{group}/{version}/{plural}` (group empty for `/api/v1`).
    pub fn resolve(&self, _group: &str, _version: &str, _plural: &str) -> Option<&ResourceType> {
        todo!()
    }
    /// Every registered type, in a stable order.
    pub fn resource_types(&self) -> Vec<ResourceType> {
        todo!()
    }
    /// The current global revision.
    pub fn revision(&self) -> u64 {
        todo!()
    }
    /// The compacted revision: the log holds only revisions after it.
    pub fn compacted(&self) -> u64 {
        todo!()
    }
    /// Compacts history up to `rev` (inclusive), like etcd's compaction.
    pub fn compact(&mut self, _rev: u64) {
        todo!()
    }
    /// Answers every verb but `Watch` against storage. `now` is the RFC 3339 simulated time used
    /// for `creationTimestamp` and `deletionTimestamp`.
    pub fn apply(&mut self, _req: &ApiRequest, _now: &str) -> Result<Value, ApiError> {
        todo!()
    }
    /// Log entries with revision > `after`, oldest first; 410 Expired if `after` < compacted.
    pub fn log_since(&self, _after: u64) -> Result<Vec<LogEntry>, ApiError> {
        todo!()
    }
    /// Every commit since the previous call, oldest first (for the history recorder).
    pub fn take_commits(&mut self) -> Vec<LogEntry> {
        todo!()
    }
    /// One pass of the garbage collector: deletes dependents whose owners are gone, orphans
    /// dependents of owners deleted with `Orphan`, and completes foreground deletions whose
    /// dependents are gone. Returns how many writes it made.
    pub fn collect_garbage(&mut self, _now: &str) -> usize {
        todo!()
    }
    /// All objects of every type, in key order (for convergence checks and snapshots).
    pub fn objects(&self) -> Vec<(ObjectKey, Arc<Value>)> {
        todo!()
    }
}

/// One replica's watch cache: a copy of storage at some revision `<= state.revision()` plus a
/// bounded buffer of recent events.
pub struct WatchCache {
    _todo: (),
}

/// A watch in progress on a [`WatchCache`]: what it filters on and the revision it has seen.
pub struct WatchCursor {
    _todo: (),
}

impl WatchCache {
    /// A cache holding storage's current state, with an event buffer of `capacity` events.
    pub fn new(_state: &ApiState, _capacity: usize) -> Self {
        todo!()
    }
    /// The revision the cache reflects.
    pub fn revision(&self) -> u64 {
        todo!()
    }
    /// Applies storage's commits up to revision `to` (clamped to storage's revision). If the
    /// commits it needs were compacted, it reloads from storage's current state.
    pub fn advance(&mut self, _state: &ApiState, _to: u64) {
        todo!()
    }
    /// Serves a `List` from the cache (used for `resourceVersion=0`, and `NotOlderThan` N when
    /// the cache has reached N).
    pub fn list(&self, _req: &ApiRequest) -> Result<Value, ApiError> {
        todo!()
    }
    /// Starts a watch: validates the request (selectors, resourceVersion), and returns the
    /// cursor plus the initial events: for resourceVersion unset or "0", an `Added` event for
    /// each matching object in the cache; for N, the buffered events after N (410 Expired, as an
    /// `Err`, when N is older than the buffer holds).
    pub fn open(&self, _req: &ApiRequest) -> Result<(WatchCursor, Vec<WatchEvent>), ApiError> {
        todo!()
    }
    /// The events for `cursor` since its last position, up to the cache's revision, with label
    /// selector transitions (stops matching = `Deleted`, starts matching = `Added`). Advances the
    /// cursor. Returns 410 if the cursor fell out of the buffer.
    pub fn poll(&self, _cursor: &mut WatchCursor) -> Result<Vec<WatchEvent>, ApiError> {
        todo!()
    }
    /// A bookmark event at the cache's revision if the cursor asked for bookmarks.
    pub fn bookmark(&self, _cursor: &mut WatchCursor) -> Option<WatchEvent> {
        todo!()
    }
}
