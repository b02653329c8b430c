//! Pitfalls 4, 5 and 6: deadlines that do not cover a call, nested timeouts that extend the parent's deadline, and leadership loss reported as a timeout.

use crate::scenario::Scenario;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
