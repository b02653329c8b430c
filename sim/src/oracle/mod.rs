//! Oracles: properties every history must have, checked after the run.
//!
//! Watch guarantees, per watcher (a watcher is one stream, `w<N>` in the history), as etcd's
//! robustness tests name them (`tests/robustness/validate/watch.go`):
//!
//! - [`watch_ordered`]: object events carry strictly increasing resourceVersions and bookmarks
//!   never go backwards.
//! - [`watch_unique`]: no object event (key, resourceVersion) is delivered twice.
//! - [`watch_atomic`]: the events of one revision are delivered together (no event of another
//!   revision between them), and each names an object committed at that revision. Our storage
//!   makes one write per revision, so this catches split or mislabelled revisions.
//! - [`watch_bookmarkable`]: a bookmark's resourceVersion is at least that of every event before
//!   it on the stream (a client may resume from it without missing or repeating anything).
//! - [`watch_reliable`]: no gap against storage's commit log: between the first revision the
//!   stream vouches for and the last one it delivered (event or bookmark), every commit on the
//!   watched target was delivered. A stream that ended is judged only up to its last delivery.
//! - [`watch_resumable`]: a watch opened with `resourceVersion=N` (N > 0) starts with an event
//!   after N.
//!
//! [`watch_guarantees`] runs all six ([`watch`]). Controller runtime oracles ([`reconcile`],
//! [`hot_loop`]):
//!
//! - [`no_concurrent_reconcile`]: one key is never reconciled twice at once on one host.
//! - [`bounded_concurrency`]: at most N reconciles run at once on one host.
//! - [`no_leaked_tasks`] ([`tasks`]): no controller task outlives its stop.
//! - [`no_hot_loop`]: no client hammers the API server, and no failing key is retried without
//!   backoff (see [`HotLoop`] for what is counted and why it is sound).
//! - [`honest_cancel_reason`] ([`cancel_reason`]): a reconcile cut short by its host's lease loss
//!   says `leadership lost`, not a timeout.
//! - [`no_lost_update`] ([`lost_update`]): a client's acknowledged write is not undone by someone
//!   else (what it sees afterwards and what storage holds at the end).
//!
//! Deadline oracles ([`deadline`]), over the calls of a recorded client:
//!
//! - [`deadline_respected`]: a call declared with a deadline ends by it.
//! - [`no_work_after_deadline`]: a call made on behalf of a reconcile ends by its deadline.

//!
//! Oracles over storage's commit log:
//!
//! - [`no_stale_delete`] ([`stale_delete`]): no object is deleted by name on the strength of an
//!   older incarnation (a delete decided from a stale cache removes the recreated object).
//! - [`single_writer`]: no write by a replica that does not hold the lease (leader election).
//!
//! The library: general oracles that judge every scenario from its history alone, with no
//! setting from the scenario, run by [`library()`] ([`Library`]) after every run (`crate::run`),
//! each under [`guard::guarded`]:
//!
//! - [`quiescence()`] ([`QUIESCENCE`]): after the faults and the workload, writes and reconciles
//!   die down;
//! - [`no_leaked_streams`] ([`NO_LEAKED_STREAMS`]): no watch stream or call outlives its host's
//!   shutdown;
//! - [`no_write_fight`] ([`NO_WRITE_FIGHT`]): two hosts do not take turns undoing each other's
//!   writes to one object.
//!
//! They rely on [`peers`], which says which client host is behind each connection, stream and
//! commit. A panicking oracle is a [`CHECKER_ERROR`] violation, never a crashed sweep.
//!
//! Every oracle's name is a constant in [`names`], whose [`names::REGISTRY`] says which oracles
//! judge every run and which a scenario opts into; a violation is a [`Violation`]
//! ([`violation`]).

pub mod cancel_reason;
pub mod deadline;
pub mod guard;
pub mod hot_loop;
pub mod leaks;
pub mod library;
pub mod lost_update;
pub mod names;
pub mod ownership;
pub mod peers;
pub mod quiescence;
pub mod reconcile;
#[cfg(test)]
mod robustness;
pub mod single_writer;
pub mod stale_delete;
pub mod tasks;
#[cfg(test)]
pub(crate) mod testutil;
pub mod violation;
pub mod watch;

pub use guard::guarded;
pub use leaks::{no_leaked_streams, Leaks};
pub use names::{CHECKER_ERROR, NO_LEAKED_STREAMS, NO_WRITE_FIGHT, QUIESCENCE};
pub use ownership::{no_write_fight, Ownership};
pub use quiescence::{quiescence, Quiescence};

pub use cancel_reason::honest_cancel_reason;
pub use deadline::{deadline_respected, no_work_after_deadline};
pub use hot_loop::{no_hot_loop, HotLoop, HotLoopWatch};
pub use library::{library, Library};
pub use lost_update::no_lost_update;
pub use reconcile::{bounded_concurrency, no_concurrent_reconcile};
pub use stale_delete::no_stale_delete;
pub use tasks::no_leaked_tasks;
pub use violation::Violation;
pub use watch::{
    target_matches, watch_atomic, watch_bookmarkable, watch_guarantees, watch_ordered,
    watch_reliable, watch_resumable, watch_unique,
};
