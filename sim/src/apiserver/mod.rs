//! The simulated API server: shared storage (the etcd of the run) and the replicas that serve it.
//!
//! - [`Cluster`]: storage ([`ApiState`]) behind a lock, the storage revision as a
//!   `tokio::sync::watch` channel that replicas' watch caches follow, and the run's history.
//!   It lives outside every turmoil host, so it survives replica crashes (it is etcd).
//! - [`replica`]: one API server replica's state: a watch cache that trails storage by its lag,
//!   and what it injects. Its HTTP front and host loop (on port [`API_PORT`]) are `crate::http`,
//!   which depends on this module, not the reverse.
//! - [`gc`]: the garbage collector of kube-controller-manager, as its own host.
//! - [`faults`]: API errors, slow responses and watch drops a replica injects.

pub mod faults;
pub mod gc;
pub mod replica;

use crate::api::{ApiState, StoreConfig};
use crate::history::Recorder;
use kubesim_model::EventKind;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The TCP port every replica listens on (plain HTTP inside the simulation).
pub const API_PORT: u16 = 6443;

/// Settings of the API server side of a run.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Storage settings.
    pub store: StoreConfig,
    /// Events each replica's watch cache keeps for watches that resume.
    pub watch_cache_capacity: usize,
    /// How often a watch that asked for bookmarks gets one (a minute, as the cacher's
    /// `defaultBookmarkFrequency`; the last comes two seconds before the watch's timeout).
    pub bookmark_interval: Duration,
    /// Watch stream length when the client gives no `timeoutSeconds`.
    pub watch_timeout_default: Duration,
    /// How often the garbage collector makes a pass.
    pub gc_interval: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            store: StoreConfig::default(),
            watch_cache_capacity: 100,
            // The cacher's defaultBookmarkFrequency.
            bookmark_interval: Duration::from_secs(60),
            watch_timeout_default: Duration::from_secs(1800),
            gc_interval: Duration::from_secs(1),
        }
    }
}

/// Storage and the run-wide state the replicas share.
pub struct Cluster {
    state: Mutex<ApiState>,
    revision: tokio::sync::watch::Sender<u64>,
    /// The run's history.
    pub recorder: Recorder,
    /// Settings.
    pub config: ClusterConfig,
    next_watcher: AtomicU64,
    replica_faults: Mutex<faults::ReplicaFaults>,
    replica_faults_healed: Arc<std::sync::atomic::AtomicBool>,
    /// Writes acknowledged per client host (see [`Cluster::count_write`]).
    writes: Mutex<BTreeMap<String, u64>>,
}

impl Cluster {
    /// Fresh storage with the built-in types.
    pub fn new(config: ClusterConfig, recorder: Recorder) -> Arc<Self> {
        let state = ApiState::new(config.store.clone());
        let (revision, _) = tokio::sync::watch::channel(state.revision());
        Arc::new(Self {
            state: Mutex::new(state),
            revision,
            recorder,
            config,
            next_watcher: AtomicU64::new(0),
            replica_faults: Mutex::new(faults::ReplicaFaults::default()),
            replica_faults_healed: Arc::default(),
            writes: Mutex::default(),
        })
    }

    /// Locks storage. Never hold the guard across an `.await`.
    pub fn state(&self) -> MutexGuard<'_, ApiState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows storage's revision.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revision.subscribe()
    }

    /// Sets what replicas inject from their next (re)start on (scenarios call it in setup).
    pub fn set_replica_faults(&self, f: faults::ReplicaFaults) {
        *self
            .replica_faults
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = f;
    }

    /// What replicas inject.
    pub fn replica_faults(&self) -> faults::ReplicaFaults {
        self.replica_faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// An injector for replica `index` that stops when [`Cluster::heal_replica_faults`] is called.
    pub fn injector(&self, index: u64) -> faults::Injector {
        faults::Injector::new(
            self.replica_faults(),
            index,
            self.replica_faults_healed.clone(),
        )
    }

    /// Stops every replica's injection, now and after restarts.
    pub fn heal_replica_faults(&self) {
        self.replica_faults_healed.store(true, Ordering::Relaxed);
    }

    /// Counts one write (create, update, patch or delete answered 2xx) sent by client `host`.
    /// A replica calls it when it sends the answer, in the step storage committed the write.
    pub fn count_write(&self, host: &str) {
        *self
            .writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(host.to_string())
            .or_default() += 1;
    }

    /// Writes acknowledged to client `host` so far (a write that changed nothing counts too).
    /// The harness uses it to crash a host between two writes
    /// ([`crate::faults::FaultAction::CrashAfterWrites`]).
    pub fn writes_by(&self, host: &str) -> u64 {
        self.writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
            .copied()
            .unwrap_or(0)
    }

    /// A new watcher id, unique in the run.
    pub fn next_watcher_id(&self) -> u64 {
        self.next_watcher.fetch_add(1, Ordering::Relaxed)
    }

    /// Records the commits storage made since the last call (as `host`) and tells the watch
    /// caches about the new revision. Call with the state lock held, after every write.
    pub fn publish_commits(&self, state: &mut ApiState, host: &str) {
        let commits = state.take_commits();
        if commits.is_empty() {
            return;
        }
        for c in &commits {
            self.recorder.record(
                host,
                EventKind::Commit {
                    rev: c.rev,
                    op: c.kind,
                    key: c.key.to_string(),
                },
            );
        }
        let rev = state.revision();
        assert!(
            commits.last().map(|c| c.rev) == Some(rev),
            "invariant: the last commit is storage's revision"
        );
        self.revision.send_replace(rev);
    }

    /// Runs `f` on storage and publishes the commits it made (the harness's way to write).
    pub fn write<T>(&self, host: &str, f: impl FnOnce(&mut ApiState) -> T) -> T {
        let mut st = self.state();
        let out = f(&mut st);
        self.publish_commits(&mut st, host);
        out
    }

    /// Undoes every write after revision `rev` (see [`ApiState::rewind`]) and tells the
    /// followers. For a stopped run only: watch caches that already saw a later revision are
    /// not rewound.
    pub fn rewind(&self, rev: u64) -> Result<(), kubesim_model::ApiError> {
        let mut st = self.state();
        st.rewind(rev)?;
        self.revision.send_replace(st.revision());
        Ok(())
    }

    /// Compacts storage up to `rev` (etcd compaction), recorded as a history event.
    pub fn compact(&self, host: &str, rev: u64) {
        let mut st = self.state();
        let rev = rev.min(st.revision());
        if rev > st.compacted() {
            st.compact(rev);
            self.recorder.record(host, EventKind::Compact { rev });
        }
    }
}
