//! # kubesim-controller
//!
//! A controller runtime for kube-rs with client-go semantics. It never depends on the simulator:
//! it reads time through `tokio::time` and takes randomness from an RNG it is given, so the same
//! code runs on a real cluster and inside kubesim.
//!
//! ## Map
//!
//! - [`workqueue`]: client-go's `util/workqueue`. [`WorkQueue`] is a FIFO with a dirty set and
//!   a processing set, so one key is never handed to two workers at once; `add_after` delays a
//!   key on the tokio clock (earlier ready time wins); [`RateLimitingQueue`] adds
//!   `add_rate_limited`, `forget` and `num_requeues`; [`WorkQueueMetrics`] carries client-go's
//!   metric names. Each queue comes in two sharing modes over one algorithm
//!   ([`GenericWorkQueue<K, M>`]): [`WorkQueue<K>`] (thread-safe, for production) and
//!   [`LocalWorkQueue<K>`] (`!Send`, no atomics, for a simulated host).
//! - [`rate_limiter`]: the [`RateLimiter`] trait and client-go's limiters (per-key exponential,
//!   fast-slow, token bucket, max-of, with-max-wait) and
//!   [`default_controller_rate_limiter`] and [`default_item_based_rate_limiter`]
//!   (client-go's `DefaultControllerRateLimiter` and `DefaultItemBasedRateLimiter`).
//! - [`clock`]: the [`Clock`] the queues, the token bucket and leader election read time from:
//!   [`TokioClock`] (the default), or [`ManualClock`], moved only by [`ManualClock::step`] and
//!   [`ManualClock::set`] (client-go's `clock.FakeClock`).
//! - [`leader`]: leader election on Leases with client-go's algorithm ([`LeaderElector`]),
//!   a pluggable [`Clock`], fencing, and [`run_while_leading`] for running a controller only
//!   while leading.
//!
//! A worker loop, as the runtime will run it:
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! use kubesim_controller::{default_controller_rate_limiter, RateLimitingQueue};
//! let queue = RateLimitingQueue::new(default_controller_rate_limiter());
//! queue.add("default/web".to_string());
//! while let Some(key) = queue.get().await {
//!     let failed = queue.num_requeues(&key) < 2; // reconcile(&key) failed twice, then succeeded
//!     if failed {
//!         queue.add_rate_limited(key.clone()); // waits 5 ms, then 10 ms (simulated)
//!     } else {
//!         queue.forget(&key);
//!         queue.shut_down();
//!     }
//!     queue.done(&key);
//! }
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
pub mod context;
pub mod informer;
pub mod leader;
pub mod observer;
pub mod rate_limiter;
pub mod reference;
pub mod runtime;
pub mod tasks;
pub mod workqueue;

pub use clock::{Clock, ManualClock, TokioClock};
pub use context::{CancelReason, Cancelled, Context};
pub use informer::{Change, Informer, InformerConfig, ObjectRef, Store};
pub use leader::{
    run_while_leading, ConfigError, FenceError, LeaderElectionConfig, LeaderElector, LeaderStatus,
};
pub use observer::{NoopObserver, Observer, SharedObserver};
pub use runtime::{
    default_error_policy, owner_keys, Action, Controller, ControllerConfig, ReconcileError,
};
pub use tasks::{check_leaks, Leak, TaskSet};

pub use rate_limiter::{
    default_controller_rate_limiter, default_controller_rate_limiter_with_clock,
    default_item_based_rate_limiter, BucketRateLimiter, ItemExponentialRateLimiter,
    ItemFastSlowRateLimiter, MaxOfRateLimiter, RateLimiter, RateLimiterError,
    WithMaxWaitRateLimiter,
};
pub use workqueue::{
    GenericRateLimitingQueue, GenericWorkQueue, LocalRateLimitingQueue, LocalWorkQueue,
    QueueConfig, RateLimitingQueue, WorkQueue, WorkQueueMetrics,
};
