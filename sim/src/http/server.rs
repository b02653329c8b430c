//! The replica's host: the accept loop that serves each connection with hyper's HTTP/1.1 server
//! and [`super::handle`], over turmoil's simulated TCP ([`run`]) or, for a stopped run served to
//! kubectl, a real listener ([`connection`] is the same for both).

use super::{handle, Peer, ResetConnection};
use crate::apiserver::replica::Replica;
use crate::apiserver::{Cluster, API_PORT};
use hyper_util::rt::{TokioIo, TokioTimer};
use kubesim_model::EventKind;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// The host future of replica `name`, whose cache trails storage by `lag`: the cache pump and
/// the accept loop on port [`API_PORT`], each connection recorded (`conn-open`, `conn-close`).
pub async fn run(cluster: Arc<Cluster>, name: String, lag: Duration) -> turmoil::Result {
    let replica = Replica::detached(cluster, name, lag);

    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", API_PORT)).await?;
    let mut conn_id = 0u64;
    loop {
        let (stream, peer) = listener.accept().await?;
        conn_id += 1;
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
        let served = connection(replica.clone(), conn_id, peer, stream);
        tokio::task::spawn_local(async move {
            served.await;
            recorder.record(&host, EventKind::ConnClose { conn: conn_id });
        });
    }
}

/// Serves connection `conn` from client host `peer` on `replica` until the client closes it or
/// it breaks (a reset, a partition, a crash of the peer). Successful writes are counted for the
/// peer (`crate::apiserver::Cluster::count_write`); a fault plan's reset drops the connection.
pub async fn connection<S>(replica: Arc<Replica>, conn: u64, peer: Arc<str>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        let (replica, peer) = (replica.clone(), peer.clone());
        let write = is_write(req.method());
        req.extensions_mut().insert(Peer(peer.clone()));
        async move {
            let resp = handle(&replica, conn, req).await;
            // A fault plan's reset: failing the service makes hyper drop the connection.
            if resp.extensions().get::<ResetConnection>().is_some() {
                return Err(ResetConnection);
            }
            if write && resp.status().is_success() {
                replica.cluster.count_write(&peer);
            }
            Ok(resp)
        }
    });
    // A connection that breaks just ends.
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Whether a request with `method` is a write (create, update, patch, delete).
fn is_write(method: &hyper::Method) -> bool {
    matches!(
        *method,
        hyper::Method::POST | hyper::Method::PUT | hyper::Method::PATCH | hyper::Method::DELETE
    )
}
