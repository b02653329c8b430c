//! [`ClockHandle`]: the clock a queue or a limiter keeps.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::time::Instant;

use super::Clock;

/// `tokio::time` read directly (the default: no allocation, no dynamic call on the hot path), or
/// an injected [`Clock`].
#[derive(Clone, Default)]
pub(crate) enum ClockHandle {
    /// `tokio::time`, as [`TokioClock`](super::TokioClock) reads it.
    #[default]
    Tokio,
    /// A clock given by the user.
    Injected(Arc<dyn Clock>),
}

impl ClockHandle {
    pub(crate) fn new(clock: impl Clock) -> Self {
        Self::Injected(Arc::new(clock))
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self {
            Self::Tokio => Instant::now(), // det-ok: tokio::time::Instant, the host's simulated clock
            Self::Injected(clock) => clock.now(),
        }
    }

    /// Completes once the clock reads `deadline` or later.
    pub(crate) fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        match self {
            Self::Tokio => Box::pin(tokio::time::sleep_until(deadline)),
            Self::Injected(clock) => clock.sleep_until(deadline),
        }
    }
}

impl fmt::Debug for ClockHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tokio => f.write_str("tokio"),
            Self::Injected(_) => f.write_str("injected"),
        }
    }
}

/// Two handles are equal if both read tokio or both hold the same injected clock.
impl PartialEq for ClockHandle {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Tokio, Self::Tokio) => true,
            (Self::Injected(a), Self::Injected(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ClockHandle {}
