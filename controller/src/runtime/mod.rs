//! The controller: informers feeding a rate-limited workqueue, and reconcile workers.
//!
//! [`Controller::run`] wires the pieces the way client-go's controller pattern does:
//! 1. informers (the primary resource, plus any [`Controller::watches`]) list and watch; their
//!    handlers map each change to keys (the object's own key, its owner's key, or a custom map)
//!    and add them to the queue;
//! 2. workers (`worker.rs`) start only once every informer has synced; `max_concurrent_reconciles`
//!    of them take keys from the queue, which guarantees one key is never reconciled twice at
//!    once;
//! 3. each reconcile runs under a [`Context`] child of the runtime's work context; its outcome
//!    drives the queue ([`Action`]): forget, `add_after`, or `add_rate_limited`;
//! 4. when the stop context ends, informers stop, the queue drains for `shutdown_grace`, then
//!    in-flight reconciles are cancelled with the stop reason (at once for leadership loss), and
//!    `run` returns after every task it spawned has finished (see [`TaskSet`]).

pub mod action;
mod worker;

pub use action::Action;

use crate::context::{CancelReason, Cancelled, Context};
use crate::informer::{Change, Informer, InformerConfig, ObjectRef, Store};
use crate::observer::{self, SharedObserver};
use crate::rate_limiter::{default_controller_rate_limiter, RateLimiter};
use crate::tasks::TaskSet;
use crate::workqueue::RateLimitingQueue;
use kube::api::Api;
use kube::{Resource, ResourceExt};
use kubesim_model::EventKind;
use rand::SeedableRng;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use worker::Worker;

/// Settings of a [`Controller`].
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// Name used for tasks and the queue.
    pub name: String,
    /// Workers reconciling at once (client-go's `MaxConcurrentReconciles`, default 1).
    pub max_concurrent_reconciles: usize,
    /// How long shutdown lets in-flight reconciles finish before cancelling them.
    pub shutdown_grace: Duration,
    /// The primary informer's settings.
    pub informer: InformerConfig,
    /// Seed of the informers' backoff jitter.
    pub seed: u64,
    /// Deadline of each reconcile (its context's deadline); `None`: none.
    pub reconcile_timeout: Option<Duration>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            name: "controller".into(),
            max_concurrent_reconciles: 1,
            shutdown_grace: Duration::from_secs(10),
            informer: InformerConfig::default(),
            seed: 0,
            reconcile_timeout: Some(Duration::from_secs(60)),
        }
    }
}

/// What a reconcile failed with, as the runtime sees it.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError<E: std::error::Error + 'static> {
    /// The reconciler returned an error.
    #[error("reconcile failed: {0}")]
    Reconciler(#[source] E),
    /// The reconcile's context ended first.
    #[error("reconcile cut short: {0}")]
    Cancelled(Cancelled),
}

type Mapper<K> = Box<dyn Fn(Change<K>) -> Vec<ObjectRef> + Send + Sync>;
type SecondaryStart = Box<
    dyn FnOnce(
            Context,
            Arc<dyn Fn(ObjectRef) + Send + Sync>,
            TaskSet,
            SharedObserver,
            u64,
        ) -> tokio::sync::watch::Receiver<bool>
        + Send,
>;

/// A controller for resource `K`.
pub struct Controller<K: Resource> {
    api: Api<K>,
    config: ControllerConfig,
    observer: SharedObserver,
    secondaries: Vec<SecondaryStart>,
    limiter: Box<dyn RateLimiter<ObjectRef> + Send>,
    tasks: TaskSet,
    store: Store<K>,
}

impl<K> Controller<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// A controller reconciling the objects of `api`.
    pub fn new(api: Api<K>, config: ControllerConfig) -> Self {
        Self {
            api,
            config,
            observer: observer::noop(),
            secondaries: Vec::new(),
            limiter: Box::new(default_controller_rate_limiter()),
            tasks: TaskSet::new(),
            store: Store::new(),
        }
    }

    /// Reports queue, reconcile and informer events to `observer`.
    pub fn observer(mut self, observer: SharedObserver) -> Self {
        self.observer = observer;
        self
    }

    /// Uses `limiter` instead of the default controller rate limiter.
    pub fn rate_limiter(mut self, limiter: impl RateLimiter<ObjectRef> + Send + 'static) -> Self {
        self.limiter = Box::new(limiter);
        self
    }

    /// The task set every task of this controller is spawned in (for leak checks).
    pub fn tasks(&self) -> TaskSet {
        self.tasks.clone()
    }

    /// The primary store (filled once `run` starts).
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Also watches `api` (of another resource) and maps its changes to primary keys.
    pub fn watches<C>(
        mut self,
        api: Api<C>,
        config: InformerConfig,
        mapper: impl Fn(Change<C>) -> Vec<ObjectRef> + Send + Sync + 'static,
    ) -> Self
    where
        C: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    {
        let mapper: Mapper<C> = Box::new(mapper);
        let name = self.config.name.clone();
        self.secondaries
            .push(Box::new(move |ctx, enqueue, tasks, observer, seed| {
                let rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                let informer = Informer::new(api, config, Box::new(rng), observer);
                let synced = informer.synced();
                let task = format!("{name}/informer/{}", C::plural(&()));
                tasks.spawn(task, async move {
                    informer
                        .run(ctx, |change| {
                            for key in mapper(change) {
                                enqueue(key);
                            }
                        })
                        .await
                });
                synced
            }));
        self
    }

    /// Also watches objects owned by the primary kind (via `ownerReferences`) and reconciles
    /// their owner when they change.
    pub fn owns<C>(self, api: Api<C>, config: InformerConfig) -> Self
    where
        C: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    {
        let kind = K::kind(&()).to_string();
        self.watches(api, config, move |change| {
            owner_keys(change.object().as_ref(), &kind)
        })
    }

    /// Runs until `stop` ends. `reconcile` gets the object, a context and `data`; `error_policy`
    /// maps a failure to an [`Action`] (see [`default_error_policy`]).
    pub async fn run<T, E, R, RFut, P>(
        self,
        reconcile: R,
        error_policy: P,
        data: Arc<T>,
        stop: Context,
    ) where
        T: Send + Sync + 'static,
        E: std::error::Error + Send + 'static,
        R: Fn(Arc<K>, Context, Arc<T>) -> RFut + Send + Sync + 'static,
        RFut: Future<Output = Result<Action, E>> + Send + 'static,
        P: Fn(Arc<K>, &ReconcileError<E>, Arc<T>) -> Action + Send + Sync + 'static,
    {
        let Controller {
            api,
            config,
            observer,
            secondaries,
            limiter,
            tasks,
            store: handed_out,
        } = self;
        let name = config.name.clone();
        observer.record(EventKind::Runtime {
            text: format!("{name} start"),
        });
        let queue: RateLimitingQueue<ObjectRef, _> = RateLimitingQueue::new(limiter);
        let informer_ctx = stop.child();
        let work_ctx = Context::background();

        let enqueue: Arc<dyn Fn(ObjectRef) + Send + Sync> = {
            let (queue, observer) = (queue.clone(), observer.clone());
            Arc::new(move |key: ObjectRef| {
                observer.record(EventKind::QueueAdd {
                    key: key.to_string(),
                    how: "add".into(),
                });
                queue.add(key);
            })
        };
        let mut synced = Vec::new();
        let primary = Informer::new(
            api,
            config.informer.clone(),
            Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(config.seed)),
            observer.clone(),
        )
        .with_store(handed_out);
        let store = primary.store();
        synced.push(primary.synced());
        {
            let enqueue = enqueue.clone();
            tasks.spawn(
                format!("{name}/informer/{}", K::plural(&())),
                primary.run(informer_ctx.clone(), move |change| {
                    enqueue(ObjectRef::of(change.object().as_ref()));
                }),
            );
        }
        for (i, start) in secondaries.into_iter().enumerate() {
            let seed = config.seed.wrapping_add(1 + i as u64);
            synced.push(start(
                informer_ctx.clone(),
                enqueue.clone(),
                tasks.clone(),
                observer.clone(),
                seed,
            ));
        }

        // Workers start only once every informer has synced.
        for mut rx in synced {
            let wait = async {
                while !*rx.borrow_and_update() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            };
            if stop.run(wait).await.is_err() {
                break;
            }
        }
        let reconcile = Arc::new(reconcile);
        let error_policy = Arc::new(error_policy);
        if !stop.is_done() {
            observer.record(EventKind::Runtime {
                text: format!(
                    "{name} synced, starting {} worker(s)",
                    config.max_concurrent_reconciles
                ),
            });
            for worker in 0..config.max_concurrent_reconciles {
                let w = Worker {
                    index: worker as u32,
                    queue: queue.clone(),
                    store: store.clone(),
                    observer: observer.clone(),
                    ctx: work_ctx.clone(),
                    timeout: config.reconcile_timeout,
                };
                let (reconcile, error_policy, data) =
                    (reconcile.clone(), error_policy.clone(), data.clone());
                tasks.spawn(
                    format!("{name}/worker-{worker}"),
                    w.run(reconcile, error_policy, data),
                );
            }
        }

        // Shutdown.
        let reason = stop.done().await;
        observer.record(EventKind::Runtime {
            text: format!("{name} stopping: {reason}"),
        });
        informer_ctx.cancel(reason);
        if reason == CancelReason::LeadershipLost {
            work_ctx.cancel(reason);
            queue.queue().shut_down();
        } else {
            let drained =
                tokio::time::timeout(config.shutdown_grace, queue.queue().shut_down_with_drain())
                    .await;
            if drained.is_err() {
                observer.record(EventKind::Runtime {
                    text: format!("{name} grace period over, cancelling reconciles"),
                });
            }
            work_ctx.cancel(reason);
        }
        tasks.wait().await;
        observer.record(EventKind::Runtime {
            text: format!("{name} stopped"),
        });
    }
}

/// The default error policy: requeue, rate-limited (client-go's `AddRateLimited` on error).
pub fn default_error_policy<K, E: std::error::Error, T>(
    _obj: Arc<K>,
    _err: &ReconcileError<E>,
    _data: Arc<T>,
) -> Action {
    Action::requeue()
}

/// Keys of the owners of kind `owner_kind` named in `obj`'s ownerReferences (same namespace).
pub fn owner_keys<C: Resource>(obj: &C, owner_kind: &str) -> Vec<ObjectRef> {
    obj.owner_references()
        .iter()
        .filter(|o| o.kind == owner_kind)
        .map(|o| ObjectRef::new(obj.meta().namespace.as_deref(), &o.name))
        .collect()
}
