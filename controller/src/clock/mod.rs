//! Clocks: what the workqueue, the rate limiters and leader election read time from.
//!
//! | file              | concept                                                             |
//! |-------------------|---------------------------------------------------------------------|
//! | `mod.rs`          | the [`Clock`] trait and [`wall_after`]                               |
//! | `tokio_clock.rs`  | [`TokioClock`]: `tokio::time` (simulated per host under turmoil)     |
//! | `manual.rs`       | [`ManualClock`]: moves only when told to (client-go's `FakeClock`)  |
//! | `handle.rs`       | the handle a queue or limiter keeps: tokio's clock, or an injected one |
//!
//! client-go's workqueue takes a `clock.WithTicker` in its configs (`TypedQueueConfig.Clock`,
//! `TypedDelayingQueueConfig.Clock`), so tests can drive a queue from `clock.FakeClock`. Here a
//! queue takes any [`Clock`] through [`QueueConfig::with_clock`](crate::QueueConfig::with_clock)
//! and the token bucket through
//! [`BucketRateLimiter::with_clock`](crate::BucketRateLimiter::with_clock); without one, both read
//! `tokio::time` directly (no dynamic call), which turmoil simulates per host.

mod handle;
mod manual;
mod tokio_clock;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

pub(crate) use handle::ClockHandle;
pub use manual::ManualClock;
pub use tokio_clock::TokioClock;

/// A local, monotonic clock, plus the wall time leader election writes into a lease.
///
/// Leader election times takeover and the renew deadline on the candidate's own clock, never on
/// timestamps read from the lease (client-go `tools/leaderelection/doc.go`): putting that clock
/// behind a trait lets the simulator give each replica a clock that runs fast or slow, or stops
/// for a while (a process pause). The workqueue reads ready times and metrics timestamps from it,
/// and the token bucket its refill time, so a test can drive them from a [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    /// The local monotonic time.
    fn now(&self) -> Instant;
    /// Completes once the local clock has advanced by `d`.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
    /// Completes once the local clock reads `deadline` or later (at once if it already does).
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self.sleep(deadline.saturating_duration_since(self.now()))
    }
    /// The local wall time, written as `acquireTime`/`renewTime` (informational: the algorithm
    /// never compares it across replicas).
    fn timestamp(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        (**self).sleep(d)
    }
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        (**self).sleep_until(deadline)
    }
    fn timestamp(&self) -> Timestamp {
        (**self).timestamp()
    }
}

/// `start + elapsed`, saturating at the largest timestamp.
pub fn wall_after(start: Timestamp, elapsed: Duration) -> Timestamp {
    SignedDuration::try_from(elapsed)
        .ok()
        .and_then(|d| start.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}
