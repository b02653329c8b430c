//! Watch event types, as `metav1.WatchEvent.type` spells them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The `type` of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WatchEventType {
    /// An object was created (or started matching the watch's selector).
    Added,
    /// An object was updated.
    Modified,
    /// An object was deleted (or stopped matching the watch's selector).
    Deleted,
    /// A progress notification carrying only a resourceVersion.
    Bookmark,
    /// An error, carrying a `metav1.Status`; the stream ends after it.
    Error,
}

impl WatchEventType {
    /// The wire spelling: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
            Self::Bookmark => "BOOKMARK",
            Self::Error => "ERROR",
        }
    }
}

impl fmt::Display for WatchEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
