//! A cap on another limiter's delay (client-go `WithMaxWaitRateLimiter`).

use std::time::Duration;

use super::RateLimiter;

/// Returns the inner limiter's delay, but never more than `max_wait`.
#[derive(Debug, Clone)]
pub struct WithMaxWaitRateLimiter<L> {
    inner: L,
    max_wait: Duration,
}

impl<L> WithMaxWaitRateLimiter<L> {
    /// `inner`'s delays, capped at `max_wait`.
    pub fn new(inner: L, max_wait: Duration) -> Self {
        Self { inner, max_wait }
    }
}

impl<K, L: RateLimiter<K>> RateLimiter<K> for WithMaxWaitRateLimiter<L> {
    fn when(&mut self, key: &K) -> Duration {
        self.inner.when(key).min(self.max_wait)
    }

    fn forget(&mut self, key: &K) {
        self.inner.forget(key);
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.inner.num_requeues(key)
    }
}
