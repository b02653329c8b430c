//! One API server replica's state: its watch cache, which trails storage by the replica's lag
//! (as kube-apiserver's watch cache trails etcd), and what it injects. The HTTP front that
//! serves it, and the replica's host loop, are `crate::http` (which depends on this, not the
//! reverse). Everything here is rebuilt when the replica's host restarts; storage is not.

use super::faults::Injector;
use super::Cluster;
use crate::api::WatchCache;
use kubesim_model::EventKind;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// What the HTTP front of one replica works with.
pub struct Replica {
    /// Host name, `apiserver-N`.
    pub name: String,
    /// Shared storage.
    pub cluster: Arc<Cluster>,
    cache: Mutex<WatchCache>,
    cache_revision: tokio::sync::watch::Sender<u64>,
    /// What this replica injects.
    pub faults: Injector,
    /// The simulated time a replica outside the simulation reads ([`standalone`]).
    frozen_at: Option<Duration>,
}

impl Replica {
    /// Replica `name` of `cluster` inside the simulation: a cold watch cache at storage's
    /// revision and the faults of its index (`apiserver-N`). Follow storage with [`pump`].
    pub fn start(cluster: Arc<Cluster>, name: String) -> Arc<Self> {
        let cache = WatchCache::new(&cluster.state(), cluster.config.watch_cache_capacity);
        let index = name
            .rsplit('-')
            .next()
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        let faults = cluster.injector(index);
        Self::with(cluster, name, cache, faults, None)
    }

    fn with(
        cluster: Arc<Cluster>,
        name: String,
        cache: WatchCache,
        faults: Injector,
        frozen_at: Option<Duration>,
    ) -> Arc<Self> {
        let (cache_revision, _) = tokio::sync::watch::channel(cache.revision());
        Arc::new(Self {
            name,
            cluster,
            cache: Mutex::new(cache),
            cache_revision,
            faults,
            frozen_at,
        })
    }

    /// Locks the watch cache. Take storage's lock first when both are needed.
    pub fn cache(&self) -> MutexGuard<'_, WatchCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The replica's now: simulated time, or the moment a stopped run stopped.
    pub fn now(&self) -> Duration {
        self.frozen_at.unwrap_or_else(crate::clock::sim_now)
    }

    /// Follows the cache's revision.
    pub fn subscribe_cache(&self) -> tokio::sync::watch::Receiver<u64> {
        self.cache_revision.subscribe()
    }
}

/// A replica outside the simulation, serving `cluster` as it stands (the run has stopped): no
/// faults, a warm watch cache, and its clock at `now` (the simulated moment the run stopped:
/// new objects are created then, ages count to it). Run [`pump`] beside it so that it follows
/// writes made to it.
pub fn standalone(cluster: Arc<Cluster>, now: Duration) -> Arc<Replica> {
    cluster.set_replica_faults(super::faults::ReplicaFaults::default());
    cluster.heal_replica_faults();
    let cache = WatchCache::warm(&cluster.state(), cluster.config.watch_cache_capacity);
    let faults = cluster.injector(0);
    Replica::with(cluster, host_name(0), cache, faults, Some(now))
}

/// Host name of replica `index`.
pub fn host_name(index: usize) -> String {
    format!("apiserver-{index}")
}

impl Replica {
    /// Replica `name` without a listener: its watch cache pump runs on the current `LocalSet`
    /// (its cache trails storage by `lag`), and requests go straight to
    /// [`crate::http::handle`]. The host loop (`crate::http::server::run`) uses it; so do tests
    /// that drive the HTTP front in-process.
    pub fn detached(cluster: Arc<Cluster>, name: String, lag: Duration) -> Arc<Self> {
        let replica = Self::start(cluster, name);
        // Host tasks go on the LocalSet: its single task list drops in a fixed order on a crash,
        // while tokio::spawn tasks are sharded by a process-global task id (see transport/mod.rs).
        tokio::task::spawn_local(pump(replica.clone(), lag));
        replica
    }
}

/// Applies storage's new revisions to the replica's cache, `lag` after it sees them.
pub async fn pump(replica: Arc<Replica>, lag: Duration) {
    let mut storage = replica.cluster.subscribe();
    // Writes made between the cache's load and this subscription would otherwise wait for
    // the next write.
    if *storage.borrow() != replica.cache().revision() {
        storage.mark_changed();
    }
    loop {
        if storage.changed().await.is_err() {
            return;
        }
        let target = *storage.borrow_and_update();
        if !lag.is_zero() {
            tokio::time::sleep(lag).await;
        }
        let rev = {
            let st = replica.cluster.state();
            let mut cache = replica.cache();
            cache.advance(&st, target);
            cache.revision()
        };
        replica
            .cluster
            .recorder
            .record(&replica.name, EventKind::CacheSync { rev });
        replica.cache_revision.send_replace(rev);
    }
}
