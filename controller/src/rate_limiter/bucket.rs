//! Overall token bucket (client-go `TypedBucketRateLimiter` over `golang.org/x/time/rate`).

use std::time::Duration;

use tokio::time::Instant;

use super::{RateLimiter, RateLimiterError};
use crate::clock::{Clock, ClockHandle};

/// A token bucket shared by all keys, with `golang.org/x/time/rate` reservation semantics
/// (`rate.go`, `reserveN` and `advance`): the bucket starts full with `burst` tokens and refills
/// at `qps` tokens per second up to `burst`; every `when` reserves one token and always succeeds,
/// driving the count negative if need be, and the delay is the time the deficit takes to refill.
/// So after `burst` immediate calls, call `burst + n` waits `n / qps` seconds.
///
/// Time is read from `tokio::time`, the simulated clock inside kubesim (client-go's reads the
/// wall clock), or from the [`Clock`] given to [`with_clock`](Self::with_clock). Per-key
/// methods are no-ops: `forget` does nothing, `num_requeues` is 0.
#[derive(Debug, Clone)]
pub struct BucketRateLimiter {
    qps: f64,
    burst: f64,
    tokens: f64,
    /// When `tokens` was last brought up to date; `None` until the first reservation.
    last: Option<Instant>,
    clock: ClockHandle,
}

impl BucketRateLimiter {
    /// A bucket refilling at `qps` tokens per second, holding at most `burst`, starting full.
    pub fn new(qps: f64, burst: u32) -> Result<Self, RateLimiterError> {
        Self::build(qps, burst, ClockHandle::Tokio)
    }

    /// Like [`new`](Self::new), reading time from `clock` (for example a
    /// [`ManualClock`](crate::ManualClock)) instead of `tokio::time`.
    pub fn with_clock(qps: f64, burst: u32, clock: impl Clock) -> Result<Self, RateLimiterError> {
        Self::build(qps, burst, ClockHandle::new(clock))
    }

    pub(crate) fn build(
        qps: f64,
        burst: u32,
        clock: ClockHandle,
    ) -> Result<Self, RateLimiterError> {
        if !(qps.is_finite() && qps > 0.0) {
            return Err(RateLimiterError::InvalidRate { qps });
        }
        if burst == 0 {
            return Err(RateLimiterError::ZeroBurst);
        }
        Ok(Self {
            qps,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: None,
            clock,
        })
    }

    /// Reserves one token at `now` and returns how long the caller must wait for it.
    pub fn reserve_at(&mut self, now: Instant) -> Duration {
        // `advance`: refill for the time since `last`; a clock that went back refills nothing.
        let last = self.last.map_or(now, |last| last.min(now));
        let elapsed = now.duration_since(last);
        let refill = elapsed.as_secs() as f64 * self.qps
            + f64::from(elapsed.subsec_nanos()) * self.qps / 1e9;
        let tokens = (self.tokens + refill).min(self.burst) - 1.0;
        self.tokens = tokens;
        self.last = Some(now);
        if tokens >= 0.0 {
            return Duration::ZERO;
        }
        // `durationFromTokens`, truncated to whole nanoseconds as Go's conversion does.
        let seconds = -tokens / self.qps;
        Duration::from_nanos((seconds * 1e9) as u64)
    }
}

impl<K> RateLimiter<K> for BucketRateLimiter {
    fn when(&mut self, _key: &K) -> Duration {
        let now = self.clock.now();
        self.reserve_at(now)
    }

    fn forget(&mut self, _key: &K) {}

    fn num_requeues(&self, _key: &K) -> u32 {
        0
    }
}
