//! Fast, then slow retries (client-go `ItemFastSlowRateLimiter`).

use std::hash::Hash;
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::RateLimiter;

/// Waits `fast` for a key's first `max_fast_attempts` requeues, `slow` after that.
#[derive(Debug, Clone)]
pub struct ItemFastSlowRateLimiter<K> {
    failures: FxHashMap<K, u32>,
    fast: Duration,
    slow: Duration,
    max_fast_attempts: u32,
}

impl<K: Hash + Eq + Clone> ItemFastSlowRateLimiter<K> {
    /// `fast` for the first `max_fast_attempts` requeues of a key, then `slow`.
    pub fn new(fast: Duration, slow: Duration, max_fast_attempts: u32) -> Self {
        Self {
            failures: FxHashMap::default(),
            fast,
            slow,
            max_fast_attempts,
        }
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> for ItemFastSlowRateLimiter<K> {
    fn when(&mut self, key: &K) -> Duration {
        let failures = match self.failures.get_mut(key) {
            Some(n) => n,
            None => self.failures.entry(key.clone()).or_insert(0),
        };
        *failures = failures.saturating_add(1);
        if *failures <= self.max_fast_attempts {
            self.fast
        } else {
            self.slow
        }
    }

    fn forget(&mut self, key: &K) {
        self.failures.remove(key);
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }
}
