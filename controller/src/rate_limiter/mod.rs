//! Rate limiters: how long to wait before retrying a key (client-go
//! `util/workqueue/default_rate_limiters.go`).
//!
//! | file              | limiter                                                        |
//! |-------------------|----------------------------------------------------------------|
//! | `exponential.rs`  | [`ItemExponentialRateLimiter`]: base * 2^failures, capped      |
//! | `fast_slow.rs`    | [`ItemFastSlowRateLimiter`]: fast for N failures, then slow    |
//! | `bucket.rs`       | [`BucketRateLimiter`]: token bucket, `golang.org/x/time/rate`  |
//! | `max_of.rs`       | [`MaxOfRateLimiter`]: the longest delay of several limiters    |
//! | `max_wait.rs`     | [`WithMaxWaitRateLimiter`]: caps another limiter's delay       |
//! | `defaults.rs`     | client-go's default limiters                                   |
//!
//! [`default_controller_rate_limiter`] is client-go's `DefaultControllerRateLimiter`,
//! [`default_item_based_rate_limiter`] its `DefaultItemBasedRateLimiter`. Only the token bucket
//! reads time, through `tokio::time` or a [`Clock`](crate::Clock) given to
//! [`BucketRateLimiter::with_clock`] (client-go's bucket reads the wall clock; we do not copy
//! that). Per-key state sits in an `FxHashMap`, never iterated.

mod bucket;
mod defaults;
mod exponential;
mod fast_slow;
mod max_of;
mod max_wait;

use std::time::Duration;

pub use bucket::BucketRateLimiter;
pub use defaults::{
    default_controller_rate_limiter, default_controller_rate_limiter_with_clock,
    default_item_based_rate_limiter,
};
pub use exponential::ItemExponentialRateLimiter;
pub use fast_slow::ItemFastSlowRateLimiter;
pub use max_of::MaxOfRateLimiter;
pub use max_wait::WithMaxWaitRateLimiter;

/// Decides how long a key waits before it is retried (client-go `TypedRateLimiter`).
pub trait RateLimiter<K> {
    /// The delay before `key` may be processed again; records one more requeue of `key`.
    fn when(&mut self, key: &K) -> Duration;
    /// Forgets `key`'s history: the next `when` starts from scratch.
    fn forget(&mut self, key: &K);
    /// How many times `key` has been delayed since it was last forgotten.
    fn num_requeues(&self, key: &K) -> u32;
}

impl<K, R: RateLimiter<K> + ?Sized> RateLimiter<K> for Box<R> {
    fn when(&mut self, key: &K) -> Duration {
        (**self).when(key)
    }
    fn forget(&mut self, key: &K) {
        (**self).forget(key)
    }
    fn num_requeues(&self, key: &K) -> u32 {
        (**self).num_requeues(key)
    }
}

/// Errors building a rate limiter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateLimiterError {
    /// The bucket's refill rate must be finite and above zero.
    #[error("invalid token bucket rate {qps} per second: must be finite and above zero")]
    InvalidRate {
        /// The rejected rate.
        qps: f64,
    },
    /// A bucket of zero tokens refuses every reservation.
    #[error("invalid token bucket burst 0: must hold at least one token")]
    ZeroBurst,
}
