//! What a reconcile asks for next (kube-rs's `Action`), with client-go's queue semantics.

use std::time::Duration;

/// The result of a reconcile, or of the error policy after a failed one.
///
/// | returned | on success | from the error policy |
/// |---|---|---|
/// | [`Action::await_change`] | `forget`: wait for the next change | terminal: `forget`, no requeue |
/// | [`Action::requeue_after`] | `forget` + `add_after(d)` | `forget` + `add_after(d)` |
/// | [`Action::requeue`] | `add_rate_limited` | `add_rate_limited` (the default) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing more until the object changes.
    AwaitChange,
    /// Reconcile again after this delay (the rate limiter is reset).
    RequeueAfter(Duration),
    /// Reconcile again after the rate limiter's delay for this key.
    Requeue,
}

impl Action {
    /// Wait for the next change.
    pub fn await_change() -> Self {
        Self::AwaitChange
    }

    /// Reconcile again after `d`.
    pub fn requeue_after(d: Duration) -> Self {
        Self::RequeueAfter(d)
    }

    /// Reconcile again, rate-limited.
    pub fn requeue() -> Self {
        Self::Requeue
    }
}
