//! client-go's default limiters (`util/workqueue/default_rate_limiters.go`).

use std::hash::Hash;
use std::time::Duration;

use super::{BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter};
use crate::clock::{Clock, ClockHandle};

/// The per-key backoff of [`default_controller_rate_limiter`]: 5 ms doubling up to 1000 s.
const CONTROLLER_BASE: Duration = Duration::from_millis(5);
/// The per-key backoff of [`default_item_based_rate_limiter`]: 1 ms doubling up to 1000 s.
const ITEM_BASED_BASE: Duration = Duration::from_millis(1);
/// The cap of both exponential backoffs.
const BACKOFF_MAX: Duration = Duration::from_secs(1000);
/// The overall bucket of [`default_controller_rate_limiter`].
const BUCKET_QPS: f64 = 10.0;
const BUCKET_BURST: u32 = 100;

const _: () = assert!(CONTROLLER_BASE.as_nanos() < BACKOFF_MAX.as_nanos());
const _: () = assert!(ITEM_BASED_BASE.as_nanos() < BACKOFF_MAX.as_nanos());

/// client-go's `DefaultTypedControllerRateLimiter`: the longer of per-key exponential backoff
/// (5 ms doubling up to 1000 s) and an overall token bucket (10 per second, burst 100) on
/// `tokio::time`.
pub fn default_controller_rate_limiter<K>() -> MaxOfRateLimiter<K>
where
    K: Hash + Eq + Clone + Send + 'static,
{
    controller_rate_limiter(ClockHandle::Tokio)
}

/// [`default_controller_rate_limiter`] whose token bucket reads `clock` (for example a
/// [`ManualClock`](crate::ManualClock)) instead of `tokio::time`.
pub fn default_controller_rate_limiter_with_clock<K>(clock: impl Clock) -> MaxOfRateLimiter<K>
where
    K: Hash + Eq + Clone + Send + 'static,
{
    controller_rate_limiter(ClockHandle::new(clock))
}

fn controller_rate_limiter<K>(clock: ClockHandle) -> MaxOfRateLimiter<K>
where
    K: Hash + Eq + Clone + Send + 'static,
{
    let bucket = BucketRateLimiter::build(BUCKET_QPS, BUCKET_BURST, clock)
        .expect("invariant: 10 qps, burst 100 is valid");
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialRateLimiter::new(
            CONTROLLER_BASE,
            BACKOFF_MAX,
        )),
        Box::new(bucket),
    ])
}

/// client-go's `DefaultTypedItemBasedRateLimiter`: per-key exponential backoff only,
/// 1 ms doubling up to 1000 s (`NewTypedItemExponentialFailureRateLimiter(time.Millisecond,
/// 1000*time.Second)`). It reads no clock.
pub fn default_item_based_rate_limiter<K: Hash + Eq + Clone>() -> ItemExponentialRateLimiter<K> {
    ItemExponentialRateLimiter::new(ITEM_BASED_BASE, BACKOFF_MAX)
}
