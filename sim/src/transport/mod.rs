//! A real `kube::Client` whose transport is turmoil's simulated TCP.
//!
//! The stack is kube-client's own shape: `BaseUriLayer` over hyper-util's pooled HTTP/1.1 client,
//! whose connector dials an API server replica through `turmoil::net::TcpStream`. Which replica
//! is decided per connection: a fixed one, or one drawn from a seeded RNG, so a client that
//! reconnects can land on a replica whose watch cache lags (Sieve's "time travel").
//! Create clients inside a host's future: `kube::Client::new` spawns its buffer task there.
//!
//! [`client`] has no timeouts. [`client_with`] (or [`service_with`], for building the client
//! with kube's `ClientBuilder` and layers of one's own) takes kube's connection timeouts
//! ([`Timeouts`], applied through hyper-timeout's `TimeoutConnector` as kube-client applies
//! `Config::connect_timeout`/`read_timeout`/`write_timeout`) and can record every call in the
//! history ([`calls`]) for the deadline oracles.

use crate::apiserver::{replica, API_PORT};
use crate::history::Recorder;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioIo, TokioTimer};
use kubesim_model::EventKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

pub mod calls;

/// Which API server replica a client's connections go to.
#[derive(Debug, Clone)]
pub enum Target {
    /// Always replica `n`.
    Replica(usize),
    /// A replica drawn per connection from `0..replicas` with an RNG seeded by `seed`.
    Any {
        /// Number of replicas.
        replicas: usize,
        /// Seed of the choice.
        seed: u64,
    },
}

/// A turmoil TCP stream that hyper-util's pooled client can use.
pub struct SimConnection(TokioIo<turmoil::net::TcpStream>);

impl Connection for SimConnection {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for SimConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for SimConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// A boxed connection task.
type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Runs hyper's connection tasks on the host's `LocalSet`.
///
/// Determinism: when turmoil crashes a host it drops the host's tokio runtime, whose task list
/// is sharded by task id, and tokio's task ids come from a process-global counter (shared by
/// every run in the process, and by runs on other threads). Tasks that own sockets must live on
/// the LocalSet, whose single list drops in a fixed order; otherwise the order of the FIN/RST
/// segments a crash sends (and the latencies drawn for them) depends on what else the process
/// spawned. hyper asks for connection tasks from wherever a request is polled (kube's buffer
/// task runs on the runtime, outside the LocalSet), so tasks go through a channel to a spawner
/// task that lives on the LocalSet.
#[derive(Clone, Debug)]
pub struct LocalExecutor {
    tx: tokio::sync::mpsc::UnboundedSender<Task>,
}

impl LocalExecutor {
    /// Starts the spawner on the current `LocalSet` (call from a turmoil host's future).
    pub fn new() -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Task>();
        tokio::task::spawn_local(async move {
            while let Some(task) = rx.recv().await {
                tokio::task::spawn_local(task);
            }
        });
        Self { tx }
    }
}

impl Default for LocalExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl<F> hyper::rt::Executor<F> for LocalExecutor
where
    F: std::future::Future + Send + 'static,
{
    fn execute(&self, fut: F) {
        // The spawner only stops when the host's LocalSet is dropped (a crash), and then the
        // task has nowhere to run anyway.
        let _ = self.tx.send(Box::pin(async move {
            fut.await;
        }));
    }
}

/// Picks the replica of each new connection.
struct Chooser {
    target: Target,
    rng: ChaCha8Rng,
}

impl Chooser {
    fn next(&mut self) -> usize {
        match self.target {
            Target::Replica(n) => n,
            Target::Any { replicas, .. } => {
                assert!(
                    replicas > 0,
                    "invariant: a cluster has at least one replica"
                );
                self.rng.random_range(0..replicas)
            }
        }
    }
}

/// Dials the replicas of `target` through turmoil; failures are `connect-failed` events.
fn connector(
    host: &str,
    target: Target,
    recorder: Recorder,
) -> impl tower::Service<
    http::Uri,
    Response = SimConnection,
    Error = std::io::Error,
    Future = impl std::future::Future<Output = std::io::Result<SimConnection>> + Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    let seed = match target {
        Target::Any { seed, .. } => seed,
        Target::Replica(_) => 0,
    };
    let chooser = Arc::new(Mutex::new(Chooser {
        target,
        rng: ChaCha8Rng::seed_from_u64(seed),
    }));
    let host: Arc<str> = host.into();
    tower::service_fn(move |_uri: http::Uri| {
        let index = chooser.lock().unwrap_or_else(|p| p.into_inner()).next();
        let (host, recorder) = (host.clone(), recorder.clone());
        Box::pin(async move {
            let to = replica::host_name(index);
            match turmoil::net::TcpStream::connect((to.as_str(), API_PORT)).await {
                Ok(s) => Ok(SimConnection(TokioIo::new(s))),
                Err(e) => {
                    recorder.record(
                        &host,
                        EventKind::ConnectFailed {
                            to,
                            error: e.kind().to_string(),
                        },
                    );
                    Err(e)
                }
            }
        })
    })
}

fn base_uri() -> kube::client::middleware::BaseUriLayer {
    kube::client::middleware::BaseUriLayer::new(http::Uri::from_static(
        "http://kubernetes.default.svc",
    ))
}

/// A `kube::Client` for code running on turmoil host `host`, connected to `target`. Connection
/// failures are recorded in `recorder` as `connect-failed` events.
pub fn client(host: &str, target: Target, recorder: Recorder) -> kube::Client {
    let http = hyper_util::client::legacy::Client::builder(LocalExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .build(connector(host, target, recorder));
    let service = tower::ServiceBuilder::new().layer(base_uri()).service(http);
    kube::Client::new(service, "default")
}

/// A connection's timeouts, as kube's `Config` names them. Each bounds one step, not a call: a
/// call may take up to connect + write + read, and a read timeout restarts with every byte read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connection set-up (`Config::connect_timeout`).
    pub connect: Option<Duration>,
    /// Waiting for bytes on an open connection (`Config::read_timeout`).
    pub read: Option<Duration>,
    /// Writing a request on an open connection (`Config::write_timeout`).
    pub write: Option<Duration>,
}

impl Timeouts {
    /// No timeouts (what [`client`] has).
    pub const NONE: Self = Self {
        connect: None,
        read: None,
        write: None,
    };

    /// kube-client 5's defaults (`Config::new`): connect 30 s, no read timeout, write 295 s.
    pub const KUBE_DEFAULTS: Self = Self {
        connect: Some(Duration::from_secs(30)),
        read: None,
        write: Some(Duration::from_secs(295)),
    };
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::NONE
    }
}

/// How [`client_with`] and [`service_with`] build a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// The connections' timeouts.
    pub timeouts: Timeouts,
    /// Record every call's beginning and end in the history ([`calls`]).
    pub record_calls: bool,
    /// With `record_calls`: the deadline every call must meet, from its beginning, declared in
    /// its `call-begin` event (the `deadline-respected` oracle checks it).
    pub call_deadline: Option<Duration>,
}

/// The HTTP service of a client, boxed.
pub type SimService = tower::util::BoxService<
    http::Request<kube::client::Body>,
    http::Response<hyper::body::Incoming>,
    tower::BoxError,
>;

/// The HTTP service a `kube::Client` on host `host` would use, with `options`: pass it to
/// `kube::client::ClientBuilder::new`, add layers, build.
pub fn service_with(
    host: &str,
    target: Target,
    recorder: Recorder,
    options: ClientOptions,
) -> SimService {
    use tower::ServiceExt as _;
    assert!(
        options.record_calls || options.call_deadline.is_none(),
        "a call deadline is declared in the history: it needs record_calls"
    );
    let mut connector =
        hyper_timeout::TimeoutConnector::new(connector(host, target, recorder.clone()));
    connector.set_connect_timeout(options.timeouts.connect);
    connector.set_read_timeout(options.timeouts.read);
    connector.set_write_timeout(options.timeouts.write);
    let http = hyper_util::client::legacy::Client::builder(LocalExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .build(connector);
    let service = tower::ServiceBuilder::new().layer(base_uri()).service(http);
    if options.record_calls {
        let recorded = calls::RecordCalls::new(service, host, recorder, options.call_deadline);
        tower::util::BoxService::new(recorded.map_err(tower::BoxError::from))
    } else {
        tower::util::BoxService::new(service.map_err(tower::BoxError::from))
    }
}

/// A `kube::Client` on host `host`, connected to `target`, built with `options`.
pub fn client_with(
    host: &str,
    target: Target,
    recorder: Recorder,
    options: ClientOptions,
) -> kube::Client {
    kube::client::ClientBuilder::new(service_with(host, target, recorder, options), "default")
        .build()
}
