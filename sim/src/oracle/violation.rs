//! A broken property, located in the history: what every oracle returns.

use kubesim_model::HistoryEvent;
use std::fmt;

/// One broken property, located in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The oracle's name.
    pub oracle: &'static str,
    /// Simulated time of the offending event, microseconds.
    pub time_us: u64,
    /// History id of the offending event, when there is one.
    pub event_id: Option<u64>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}.{:06}s",
            self.oracle,
            self.time_us / 1_000_000,
            self.time_us % 1_000_000
        )?;
        if let Some(id) = self.event_id {
            write!(f, " (event #{id:06})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A violation of `oracle` at event `e`.
pub(crate) fn violation(oracle: &'static str, e: &HistoryEvent, message: String) -> Violation {
    Violation {
        oracle,
        time_us: e.time_us,
        event_id: Some(e.id),
        message,
    }
}
