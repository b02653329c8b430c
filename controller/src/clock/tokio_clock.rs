//! [`TokioClock`]: `tokio::time`, simulated per host under turmoil.

use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;

use super::{wall_after, Clock};

/// `tokio::time` (simulated per host under turmoil, paused and advanced by tokio's test
/// utilities), with wall time counted from an anchor.
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

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline))
    }

    fn timestamp(&self) -> Timestamp {
        wall_after(self.start_wall, self.now() - self.start)
    }
}
