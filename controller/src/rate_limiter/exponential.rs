//! Per-key exponential backoff (client-go `ItemExponentialFailureRateLimiter`).

use std::hash::Hash;
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::RateLimiter;

/// Waits `base * 2^failures` for a key, capped at `max`; the failure count is per key and reset
/// by `forget`. Overflow-safe: once the product exceeds `max` (or any integer width) the delay
/// is `max`, however many failures follow.
#[derive(Debug, Clone)]
pub struct ItemExponentialRateLimiter<K> {
    failures: FxHashMap<K, u32>,
    base: Duration,
    max: Duration,
}

impl<K: Hash + Eq + Clone> ItemExponentialRateLimiter<K> {
    /// Backoff from `base`, doubling per failure, capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            failures: FxHashMap::default(),
            base,
            max,
        }
    }

    /// `base * 2^exp`, or `max` if that is larger or does not fit.
    fn backoff(&self, exp: u32) -> Duration {
        let factor = 1u128.checked_shl(exp).filter(|_| exp < 128);
        factor
            .and_then(|f| self.base.as_nanos().checked_mul(f))
            .and_then(|nanos| u64::try_from(nanos).ok())
            .map(Duration::from_nanos)
            .filter(|d| *d <= self.max)
            .unwrap_or(self.max)
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> for ItemExponentialRateLimiter<K> {
    fn when(&mut self, key: &K) -> Duration {
        let failures = match self.failures.get_mut(key) {
            Some(n) => n,
            None => self.failures.entry(key.clone()).or_insert(0),
        };
        let exp = *failures;
        *failures = failures.saturating_add(1);
        self.backoff(exp)
    }

    fn forget(&mut self, key: &K) {
        self.failures.remove(key);
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_above_max_gives_max_at_once() {
        let mut limiter = ItemExponentialRateLimiter::new(Duration::MAX, Duration::from_secs(1));
        assert_eq!(limiter.when(&"k"), Duration::from_secs(1));
        assert_eq!(limiter.when(&"k"), Duration::from_secs(1));
    }
}
