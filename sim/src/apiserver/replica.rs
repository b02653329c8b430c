//! One API server replica as a turmoil host.
//!
//! Two tasks: the watch cache pump, which follows storage's revision and applies it to this
//! replica's cache `lag` later (the cache trails storage, as kube-apiserver's watch cache trails
//! etcd), and the accept loop, which serves each connection with hyper's HTTP/1.1 server and the
//! handler in `crate::http`. Everything here is rebuilt when the host restarts; storage is not.

use super::faults::Injector;
use super::{Cluster, API_PORT};
use crate::api::WatchCache;
use crate::http;
use hyper_util::rt::{TokioIo, TokioTimer};
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
}

impl Replica {
    /// Locks the watch cache. Take storage's lock first when both are needed.
    pub fn cache(&self) -> MutexGuard<'_, WatchCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows the cache's revision.
    pub fn subscribe_cache(&self) -> tokio::sync::watch::Receiver<u64> {
        self.cache_revision.subscribe()
    }
}

/// Host name of replica `index`.
pub fn host_name(index: usize) -> String {
    format!("apiserver-{index}")
}

impl Replica {
    /// Replica `name` without a listener: its watch cache pump runs on the current `LocalSet`
    /// (its cache trails storage by `lag`), and requests go straight to
    /// [`crate::http::handle`]. The accept loop of [`run`] uses it; so do tests that drive the
    /// HTTP front in-process.
    pub fn detached(cluster: Arc<Cluster>, name: String, lag: Duration) -> Arc<Self> {
        let cache = {
            let st = cluster.state();
            WatchCache::new(&st, cluster.config.watch_cache_capacity)
        };
        let (cache_revision, _) = tokio::sync::watch::channel(cache.revision());
        let index = name
            .rsplit('-')
            .next()
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        let faults = cluster.injector(index);
        let replica = Arc::new(Replica {
            faults,
            name,
            cluster,
            cache: Mutex::new(cache),
            cache_revision,
        });
        // Host tasks go on the LocalSet: its single task list drops in a fixed order on a crash,
        // while tokio::spawn tasks are sharded by a process-global task id (see transport.rs).
        tokio::task::spawn_local(pump(replica.clone(), lag));
        replica
    }
}

/// The host future of replica `name`, whose cache trails storage by `lag`.
pub async fn run(cluster: Arc<Cluster>, name: String, lag: Duration) -> turmoil::Result {
    let replica = Replica::detached(cluster, name, lag);

    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", API_PORT)).await?;
    let mut conn_id = 0u64;
    loop {
        let (stream, peer) = listener.accept().await?;
        conn_id += 1;
        let replica = replica.clone();
        // The client's host name, to count its writes and to say in the history whose
        // connection this is (turmoil's reverse DNS).
        let peer: Arc<str> = turmoil::reverse_lookup(peer.ip())
            .unwrap_or_default()
            .into();
        let recorder = replica.cluster.recorder.clone();
        recorder.record(
            &replica.name,
            EventKind::ConnOpen {
                conn: conn_id,
                peer: if peer.is_empty() {
                    "unknown".into()
                } else {
                    peer.to_string()
                },
            },
        );
        let host = replica.name.clone();
        // On the host's LocalSet: the close is recorded by this task when hyper's connection
        // future ends (the client closed it or it broke), at a point of the run the seed fixes.
        // A crash of the replica drops the task unrecorded; its `crash` line ends them all.
        tokio::task::spawn_local(async move {
            let conn = conn_id;
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                let (replica, peer) = (replica.clone(), peer.clone());
                let write = is_write(req.method());
                req.extensions_mut().insert(http::Peer(peer.clone()));
                async move {
                    let resp = http::handle(&replica, conn, req).await;
                    // A fault plan's reset: failing the service makes hyper drop the connection.
                    if resp.extensions().get::<http::ResetConnection>().is_some() {
                        return Err(http::ResetConnection);
                    }
                    if write && resp.status().is_success() {
                        replica.cluster.count_write(&peer);
                    }
                    Ok(resp)
                }
            });
            // A connection that breaks (reset, partition, crash of the peer) just ends.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
            recorder.record(&host, EventKind::ConnClose { conn });
        });
    }
}

/// Whether a request with `method` is a write (create, update, patch, delete).
fn is_write(method: &hyper::Method) -> bool {
    matches!(
        *method,
        hyper::Method::POST | hyper::Method::PUT | hyper::Method::PATCH | hyper::Method::DELETE
    )
}

/// Applies storage's new revisions to the cache, `lag` after it sees them.
async fn pump(replica: Arc<Replica>, lag: Duration) {
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
