//! Where the runtime reports what it does. In the simulation the observer appends to the run's
//! history (so queue, reconcile, informer and lease steps are history events); on a real cluster
//! the default observer drops them.

use kubesim_model::EventKind;
use std::sync::Arc;

/// Receives the runtime's events, in the order they happen.
pub trait Observer: Send + Sync + 'static {
    /// One event.
    fn record(&self, event: EventKind);
}

/// Drops every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {
    fn record(&self, _event: EventKind) {}
}

/// A shared observer.
pub type SharedObserver = Arc<dyn Observer>;

/// The observer that drops everything, shared.
pub fn noop() -> SharedObserver {
    Arc::new(NoopObserver)
}
