//! Pitfall 2: an informer or watch started without a stop path.

use crate::scenario::Scenario;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    Vec::new()
}
