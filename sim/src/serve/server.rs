//! The served API server: one replica's HTTP front (`crate::http::server::connection`, the same
//! as inside the simulation) over the stopped run's storage, on a real TCP listener and a
//! single-threaded tokio runtime (the `LocalSet` shape a replica host has inside the
//! simulation). It runs after the simulation, on real time: watch timeouts and bookmarks tick by
//! the wall clock, and writes (`kubectl edit`, `apply`) go into storage.

use crate::apiserver::{replica, Cluster};
use crate::http::server::connection;
use std::sync::Arc;

/// Serves `cluster` on `listener` until the process ends or accepting fails; the server's clock
/// stays at simulated time `now`.
pub fn serve(
    cluster: Arc<Cluster>,
    now: std::time::Duration,
    listener: std::net::TcpListener,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let replica = replica::standalone(cluster, now);
        tokio::task::spawn_local(replica::pump(replica.clone(), std::time::Duration::ZERO));
        let mut conn = 0u64;
        loop {
            let (stream, peer) = listener.accept().await?;
            conn += 1;
            let peer: Arc<str> = peer.to_string().into();
            tokio::task::spawn_local(connection(replica.clone(), conn, peer, stream));
        }
    })
}
