//! Pitfalls 10 and 11: ignoring 409 Conflict, and requeueing on error without rate limiting.

use crate::scenario::Scenario;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
