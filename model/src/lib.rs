//! # kubesim-model
//!
//! The vocabulary every other kubesim crate speaks. Nothing here does I/O or reads a clock.
//!
//! - [`resource`]: which kinds of object exist ([`ResourceType`]: group, version, kind, plural,
//!   scope, and the per-type rules the API server applies), and the built-in ones kubesim serves.
//! - [`key`]: the identity of one stored object ([`ObjectKey`]).
//! - [`status`]: `metav1.Status` errors ([`ApiError`], [`StatusReason`]) with the codes, reasons
//!   and message texts of the real API server.
//! - [`watch`]: watch event types ([`WatchEventType`]).
//! - [`history`]: the events of a simulated run ([`HistoryEvent`], [`EventKind`]), their stable
//!   one-line text form, and the 64-bit history hash.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod history;
pub mod key;
pub mod resource;
pub mod status;
pub mod watch;

pub use history::{EventKind, HistoryEvent, HistoryHasher};
pub use key::ObjectKey;
pub use resource::ResourceType;
pub use status::{ApiError, StatusCause, StatusExtra, StatusReason};
pub use watch::WatchEventType;
