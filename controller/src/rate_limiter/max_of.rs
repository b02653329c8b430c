//! The longest of several delays (client-go `MaxOfRateLimiter`).

use std::fmt;
use std::time::Duration;

use super::RateLimiter;

/// Asks every limiter on every call (so each records the requeue) and returns the longest
/// delay; `num_requeues` is the largest count; `forget` forgets in all of them.
pub struct MaxOfRateLimiter<K> {
    limiters: Vec<Box<dyn RateLimiter<K> + Send>>,
}

impl<K> MaxOfRateLimiter<K> {
    /// The maximum of `limiters`, asked in this order.
    pub fn new(limiters: Vec<Box<dyn RateLimiter<K> + Send>>) -> Self {
        Self { limiters }
    }
}

impl<K> fmt::Debug for MaxOfRateLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxOfRateLimiter")
            .field("limiters", &self.limiters.len())
            .finish()
    }
}

impl<K> RateLimiter<K> for MaxOfRateLimiter<K> {
    fn when(&mut self, key: &K) -> Duration {
        self.limiters
            .iter_mut()
            .map(|limiter| limiter.when(key))
            .fold(Duration::ZERO, Duration::max)
    }

    fn forget(&mut self, key: &K) {
        for limiter in &mut self.limiters {
            limiter.forget(key);
        }
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.limiters
            .iter()
            .map(|limiter| limiter.num_requeues(key))
            .max()
            .unwrap_or(0)
    }
}
