//! The served API server: one replica's HTTP front over the stopped run's storage, on a real
//! TCP listener and a single-threaded tokio runtime (the same `LocalSet` shape a replica host
//! has inside the simulation). It runs after the simulation, on real time: watch timeouts and
//! bookmarks tick by the wall clock, and writes (`kubectl edit`, `apply`) go into storage.

use crate::apiserver::{replica, Cluster};
use crate::http;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
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
        let (replica, pump) = replica::standalone(cluster, now);
        tokio::task::spawn_local(pump);
        let mut conn_id = 0u64;
        loop {
            let (stream, _) = listener.accept().await?;
            conn_id += 1;
            let replica = replica.clone();
            tokio::task::spawn_local(async move {
                let conn = conn_id;
                let service = hyper::service::service_fn(move |req| {
                    let replica = replica.clone();
                    async move { Ok::<_, Infallible>(http::handle(&replica, conn, req).await) }
                });
                // A client that goes away just ends its connection.
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
