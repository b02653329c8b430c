//! Pitfalls 7, 8 and 9 (the Sieve bugs): a crash between two dependent writes, a stale read after reconnecting to a lagging replica, and edge-triggered logic.

use crate::scenario::Scenario;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
