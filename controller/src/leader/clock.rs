//! The clock an elector reads: a local, monotonic clock plus the wall time it writes into the
//! lease.
//!
//! client-go times takeover and the renew deadline on the candidate's own clock, never on
//! timestamps read from the lease (so it tolerates clock *offset* between replicas but not
//! clock-*rate* skew, see `tools/leaderelection/doc.go`). Putting that clock behind a trait lets
//! the simulator give each replica a clock that runs fast or slow, or stops for a while (a process
//! pause), which is how a split brain happens.

use futures::future::BoxFuture;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use std::time::Duration;
use tokio::time::Instant;

/// A replica's local clock.
pub trait Clock: Send + Sync + 'static {
    /// The local monotonic time.
    fn now(&self) -> Instant;
    /// Completes once the local clock has advanced by `d`.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
    /// The local wall time, written as `acquireTime`/`renewTime` (informational: the algorithm
    /// never compares it across replicas).
    fn timestamp(&self) -> Timestamp;
}

/// `tokio::time` (simulated per host under turmoil), with wall time counted from an anchor.
#[derive(Debug, Clone)]
pub struct TokioClock {
    start: Instant,
    start_wall: Timestamp,
}

impl TokioClock {
    /// A clock whose wall time reads `start_wall` now. On a real cluster pass the current time;
    /// in a simulation, the run's fixed epoch.
    pub fn new(start_wall: Timestamp) -> Self {
        Self {
            start: Instant::now(), // det-ok: tokio::time::Instant, the host's simulated clock
            start_wall,
        }
    }
}

impl Default for TokioClock {
    /// Wall time counted from the Unix epoch (deterministic; pass a real anchor in production).
    fn default() -> Self {
        Self::new(Timestamp::UNIX_EPOCH)
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now() // det-ok: tokio::time::Instant, the host's simulated clock
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }

    fn timestamp(&self) -> Timestamp {
        wall_after(self.start_wall, self.now() - self.start)
    }
}

/// `start + elapsed`, saturating at the largest timestamp.
pub fn wall_after(start: Timestamp, elapsed: Duration) -> Timestamp {
    SignedDuration::try_from(elapsed)
        .ok()
        .and_then(|d| start.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}
