//! The worker: one of `max_concurrent_reconciles` loops that take a key from the queue,
//! reconcile the cached object under a child [`Context`] (with the reconcile deadline), and
//! apply the returned [`Action`] to the queue (`forget`, `add_after` or `add_rate_limited`)
//! before `done`. A key no longer in the cache is forgotten without a reconcile. Every step is
//! reported to the [`Observer`](crate::Observer): queue get/add/done and reconcile begin/end.

use super::{Action, ReconcileError};
use crate::context::Context;
use crate::informer::{ObjectRef, Store};
use crate::observer::SharedObserver;
use crate::rate_limiter::RateLimiter;
use crate::workqueue::RateLimitingQueue;
use futures::future::BoxFuture;
use kube::Resource;
use kubesim_model::EventKind;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// One worker's share of the controller: the queue, the primary cache, and the work context.
pub(super) struct Worker<K: Resource, L> {
    /// The worker's number, `0..max_concurrent_reconciles`.
    pub(super) index: u32,
    pub(super) queue: RateLimitingQueue<ObjectRef, L>,
    pub(super) store: Store<K>,
    pub(super) observer: SharedObserver,
    /// The parent of every reconcile's context (cancelled at shutdown).
    pub(super) ctx: Context,
    /// Deadline of each reconcile; `None`: none.
    pub(super) timeout: Option<Duration>,
}

impl<K, L> Worker<K, L>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    L: RateLimiter<ObjectRef> + Send + 'static,
{
    /// Takes keys until the queue is shut down and drained.
    pub(super) fn run<T, E, R, RFut, P>(
        self,
        reconcile: Arc<R>,
        error_policy: Arc<P>,
        data: Arc<T>,
    ) -> BoxFuture<'static, ()>
    where
        T: Send + Sync + 'static,
        E: std::error::Error + Send + 'static,
        R: Fn(Arc<K>, Context, Arc<T>) -> RFut + Send + Sync + 'static,
        RFut: Future<Output = Result<Action, E>> + Send + 'static,
        P: Fn(Arc<K>, &ReconcileError<E>, Arc<T>) -> Action + Send + Sync + 'static,
    {
        Box::pin(async move {
            while let Some(key) = self.queue.get().await {
                let k = key.to_string();
                self.observer.record(EventKind::QueueGet {
                    key: k.clone(),
                    worker: self.index,
                });
                if let Some(obj) = self.store.get(&key) {
                    self.reconcile_one(&key, obj, &*reconcile, &*error_policy, &data)
                        .await;
                } else {
                    // Gone from the cache: nothing to reconcile.
                    self.queue.forget(&key);
                }
                self.queue.done(&key);
                self.observer.record(EventKind::QueueDone { key: k });
            }
        })
    }

    async fn reconcile_one<T, E, R, RFut, P>(
        &self,
        key: &ObjectRef,
        obj: Arc<K>,
        reconcile: &R,
        error_policy: &P,
        data: &Arc<T>,
    ) where
        E: std::error::Error + Send + 'static,
        R: Fn(Arc<K>, Context, Arc<T>) -> RFut,
        RFut: Future<Output = Result<Action, E>>,
        P: Fn(Arc<K>, &ReconcileError<E>, Arc<T>) -> Action,
    {
        let k = key.to_string();
        let attempt = self.queue.num_requeues(key) + 1;
        self.observer.record(EventKind::ReconcileBegin {
            key: k.clone(),
            attempt,
        });
        let started = Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        let ctx = match self.timeout {
            Some(t) => self.ctx.with_timeout(t),
            None => self.ctx.child(),
        };
        let result = ctx
            .run(reconcile(obj.clone(), ctx.clone(), data.clone()))
            .await;
        let (action, outcome) = match result {
            Ok(Ok(action)) => (action, success_outcome(action)),
            Ok(Err(e)) => {
                let err = ReconcileError::Reconciler(e);
                let a = error_policy(obj, &err, data.clone());
                (a, failure_outcome(a, &err.to_string()))
            }
            Err(c) => {
                let err = ReconcileError::<E>::Cancelled(c);
                let a = error_policy(obj, &err, data.clone());
                (a, format!("cancelled {}", c.reason()))
            }
        };
        match action {
            Action::AwaitChange => self.queue.forget(key),
            Action::RequeueAfter(d) => {
                self.queue.forget(key);
                self.observer.record(EventKind::QueueAdd {
                    key: k.clone(),
                    how: format!("after {}ms", d.as_millis()),
                });
                self.queue.queue().add_after(key.clone(), d);
            }
            Action::Requeue => {
                self.observer.record(EventKind::QueueAdd {
                    key: k.clone(),
                    how: "rate-limited".into(),
                });
                self.queue.add_rate_limited(key.clone());
            }
        }
        self.observer.record(EventKind::ReconcileEnd {
            key: k,
            attempt,
            outcome,
            duration_us: started.elapsed().as_micros() as u64,
        });
    }
}

fn success_outcome(a: Action) -> String {
    match a {
        Action::AwaitChange => "ok".into(),
        Action::RequeueAfter(d) => format!("ok requeue-after {}ms", d.as_millis()),
        Action::Requeue => "ok requeue".into(),
    }
}

fn failure_outcome(a: Action, msg: &str) -> String {
    match a {
        Action::AwaitChange => format!("terminal {msg}"),
        _ => format!("error {msg}"),
    }
}
