//! Call recording: a tower layer over a client's HTTP service that writes the beginning and the
//! end of every call into the history, in the text forms of [`crate::oracle::deadline`].
//!
//! A call ends when its future yields (a response head, or an error) or is dropped (its caller
//! stopped waiting). A drop is recorded by a task on the host's `LocalSet`, not in `Drop`:
//! a crash drops the host's tasks in an order that depends on tokio's process-global task ids,
//! so recording there would make histories differ between runs. A crash drops that task too,
//! and the oracles end the host's calls at its `crash` event instead.

use crate::history::Recorder;
use crate::oracle::deadline::{begin_text, end_text};
use futures::future::BoxFuture;
use kubesim_model::EventKind;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// Wraps a client's HTTP service, recording each call on `host`.
#[derive(Clone)]
pub struct RecordCalls<S> {
    inner: S,
    host: Arc<str>,
    recorder: Recorder,
    within: Option<Duration>,
    dropped: mpsc::UnboundedSender<u64>,
}

impl<S> RecordCalls<S> {
    /// Records the calls of `inner` on `host`, each declared with deadline `within` (from its
    /// beginning) when given. Call from a turmoil host's future: it starts the task that records
    /// dropped calls on the host's `LocalSet`.
    pub fn new(inner: S, host: &str, recorder: Recorder, within: Option<Duration>) -> Self {
        let (dropped, mut rx) = mpsc::unbounded_channel::<u64>();
        let host: Arc<str> = host.into();
        {
            let (host, recorder) = (host.clone(), recorder.clone());
            tokio::task::spawn_local(async move {
                while let Some(id) = rx.recv().await {
                    recorder.record(
                        &host,
                        EventKind::Client {
                            text: end_text(id, "dropped"),
                        },
                    );
                }
            });
        }
        Self {
            inner,
            host,
            recorder,
            within,
            dropped,
        }
    }
}

/// Reports a call that ends without yielding.
struct DropGuard {
    id: u64,
    ended: bool,
    dropped: mpsc::UnboundedSender<u64>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.ended {
            // Fails only once the host's LocalSet is gone (a crash), when nobody records.
            let _ = self.dropped.send(self.id);
        }
    }
}

impl<S, B, RB> tower::Service<http::Request<B>> for RecordCalls<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    RB: 'static,
{
    type Response = http::Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let text = begin_text(req.method().as_str(), req.uri().path(), self.within);
        let id = self.recorder.record(&self.host, EventKind::Client { text });
        let guard = DropGuard {
            id,
            ended: false,
            dropped: self.dropped.clone(),
        };
        let (host, recorder) = (self.host.clone(), self.recorder.clone());
        let fut = self.inner.call(req);
        Box::pin(async move {
            // The whole guard moves in (a closure would capture only the field it assigns).
            let mut guard = guard;
            let out = fut.await;
            let outcome = match &out {
                Ok(resp) => resp.status().as_u16().to_string(),
                Err(_) => "error".to_string(),
            };
            recorder.record(
                &host,
                EventKind::Client {
                    text: end_text(id, &outcome),
                },
            );
            guard.ended = true;
            out
        })
    }
}
