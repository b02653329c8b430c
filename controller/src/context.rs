//! Contexts: a cancel token plus a deadline, passed to every reconcile and usable for every API
//! call (Go's `context.Context`, with the cancel *reason* kept).
//!
//! A child's deadline is `min(parent deadline, now + timeout)`: a nested timeout can shorten the
//! parent's deadline but never extend it. [`Context::run`] bounds a whole future, connection
//! set-up included, so an API call under a context fails by its deadline even when the API server
//! cannot be reached. Why a context ended is kept distinct ([`CancelReason`]): shutdown,
//! leadership lost, or the deadline; a cancellation is never reported as a timeout.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Why a context ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CancelReason {
    /// The runtime is shutting down.
    Shutdown,
    /// This replica lost its leader lease.
    LeadershipLost,
    /// The context's deadline passed.
    DeadlineExceeded,
}

impl CancelReason {
    /// Stable text for histories and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shutdown => "shutdown",
            Self::LeadershipLost => "leadership lost",
            Self::DeadlineExceeded => "deadline exceeded",
        }
    }
}

impl std::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A future under a context did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Cancelled {
    /// The deadline passed first.
    #[error("context deadline exceeded")]
    DeadlineExceeded,
    /// The context was cancelled first, for this reason.
    #[error("context cancelled: {0}")]
    Cancelled(CancelReason),
}

impl Cancelled {
    /// The reason, with the deadline as its own reason.
    pub fn reason(self) -> CancelReason {
        match self {
            Self::DeadlineExceeded => CancelReason::DeadlineExceeded,
            Self::Cancelled(r) => r,
        }
    }
}

/// A cancel token, a deadline, and the reason the context ended.
#[derive(Debug, Clone)]
pub struct Context {
    token: CancellationToken,
    deadline: Option<Instant>,
    reason: Arc<OnceLock<CancelReason>>,
    parent: Option<Arc<Context>>,
}

impl Default for Context {
    fn default() -> Self {
        Self::background()
    }
}

impl Context {
    /// A root context: never cancelled unless told, no deadline.
    pub fn background() -> Self {
        Self {
            token: CancellationToken::new(),
            deadline: None,
            reason: Arc::new(OnceLock::new()),
            parent: None,
        }
    }

    /// A child cancelled with this one, with no deadline of its own.
    pub fn child(&self) -> Self {
        Self {
            token: self.token.child_token(),
            deadline: self.deadline,
            reason: Arc::new(OnceLock::new()),
            parent: Some(Arc::new(self.clone())),
        }
    }

    /// A child whose deadline is `min(self's deadline, now + timeout)`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        self.with_deadline(Instant::now() + timeout) // det-ok: tokio::time::Instant, the host's simulated clock
    }

    /// A child whose deadline is `min(self's deadline, deadline)`.
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        let mut c = self.child();
        c.deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
        debug_assert!(
            c.deadline <= self.deadline.or(c.deadline),
            "a child never outlives its parent"
        );
        c
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (`None` without one).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now())) // det-ok: tokio::time::Instant, the host's simulated clock
    }

    /// Cancels this context and its children for `reason` (the first reason given wins).
    pub fn cancel(&self, reason: CancelReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    /// Why the context ended, or `None` while it is live. A passed deadline counts.
    pub fn reason(&self) -> Option<CancelReason> {
        if let Some(r) = self.cancel_reason() {
            return Some(r);
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => Some(CancelReason::DeadlineExceeded), // det-ok: tokio::time::Instant, the host's simulated clock
            _ => None,
        }
    }

    fn cancel_reason(&self) -> Option<CancelReason> {
        if !self.token.is_cancelled() {
            return None;
        }
        self.reason
            .get()
            .copied()
            .or_else(|| self.parent.as_ref().and_then(|p| p.cancel_reason()))
    }

    /// True once cancelled or past the deadline.
    pub fn is_done(&self) -> bool {
        self.reason().is_some()
    }

    /// Waits until the context is cancelled or its deadline passes; returns why.
    pub async fn done(&self) -> CancelReason {
        match self.deadline {
            Some(d) => {
                tokio::select! {
                    biased;
                    _ = self.token.cancelled() => self.cancel_reason().unwrap_or(CancelReason::Shutdown),
                    _ = tokio::time::sleep_until(d) => CancelReason::DeadlineExceeded,
                }
            }
            None => {
                self.token.cancelled().await;
                self.cancel_reason().unwrap_or(CancelReason::Shutdown)
            }
        }
    }

    /// Runs `fut` under this context: its output, or why it was cut short. Cancellation is checked
    /// first, so a context that was cancelled reports the cancel reason even at its deadline.
    pub async fn run<F: Future>(&self, fut: F) -> Result<F::Output, Cancelled> {
        if let Some(r) = self.reason() {
            return Err(match r {
                CancelReason::DeadlineExceeded => Cancelled::DeadlineExceeded,
                r => Cancelled::Cancelled(r),
            });
        }
        let sleep = async {
            match self.deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = self.token.cancelled() => Err(Cancelled::Cancelled(self.cancel_reason().unwrap_or(CancelReason::Shutdown))),
            _ = sleep => Err(Cancelled::DeadlineExceeded),
            out = fut => Ok(out),
        }
    }

    /// The underlying cancellation token (for code that already speaks tokio-util).
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_child_deadline_is_the_earlier_of_parent_and_timeout() {
        let parent = Context::background().with_timeout(Duration::from_secs(5));
        let longer = parent.with_timeout(Duration::from_secs(60));
        let shorter = parent.with_timeout(Duration::from_secs(1));
        assert_eq!(
            longer.deadline(),
            parent.deadline(),
            "a nested timeout never extends the parent"
        );
        assert!(shorter.deadline() < parent.deadline());
    }

    #[tokio::test(start_paused = true)]
    async fn run_fails_by_the_deadline_with_deadline_exceeded() {
        let ctx = Context::background().with_timeout(Duration::from_secs(2));
        let start = Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        let r = ctx.run(std::future::pending::<()>()).await;
        assert_eq!(r, Err(Cancelled::DeadlineExceeded));
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(ctx.reason(), Some(CancelReason::DeadlineExceeded));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancellation_is_reported_with_its_reason_not_as_a_timeout() {
        let root = Context::background();
        let child = root.with_timeout(Duration::from_secs(10));
        let waiter = tokio::spawn({
            let child = child.clone();
            async move { child.run(std::future::pending::<()>()).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        root.cancel(CancelReason::LeadershipLost);
        let r = waiter.await.expect("task completes");
        assert_eq!(r, Err(Cancelled::Cancelled(CancelReason::LeadershipLost)));
        assert_eq!(child.reason(), Some(CancelReason::LeadershipLost));
        // Even after the deadline has also passed, the reason stays the cancellation.
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(child.reason(), Some(CancelReason::LeadershipLost));
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_cancel_reason_wins() {
        let ctx = Context::background();
        ctx.cancel(CancelReason::Shutdown);
        ctx.cancel(CancelReason::LeadershipLost);
        assert_eq!(ctx.done().await, CancelReason::Shutdown);
        assert_eq!(
            ctx.run(async { 1 }).await,
            Err(Cancelled::Cancelled(CancelReason::Shutdown))
        );
    }
}
