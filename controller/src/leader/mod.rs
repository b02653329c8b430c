//! Leader election on `coordination.k8s.io/v1` Leases, with client-go's algorithm
//! (`tools/leaderelection/leaderelection.go`, `resourcelock/leaselock.go`), and fencing on top.
//!
//! - [`LeaderElectionConfig`] and [`ConfigError`]: the three durations and client-go's checks
//!   (`lease_duration > renew_deadline > 1.2 * retry_period`; defaults 15 s / 10 s / 2 s).
//! - [`Clock`]: the local clock the algorithm times takeover and the renew deadline on
//!   ([`TokioClock`] by default; the simulator supplies skewed and pausable clocks). It lives in
//!   [`crate::clock`], shared with the workqueue and the rate limiters, and is re-exported here.
//! - [`LeaderElector`] (`elector.rs`): the candidate, what it observed, one attempt to acquire
//!   or renew, and [`LeaderStatus`] updates.
//! - The run loop (`run.rs`): acquire (retry with jitter 1.2), renew, release, `run` for one term
//!   ending with a [`TermEnd`], and [`run_while_leading`], which runs work (a controller) only
//!   while leading.
//! - Fencing (`fence.rs`): [`LeaderElector::fence`] and [`FenceError`].
//!
//! Every step is reported to the [`Observer`](crate::Observer) as
//! `EventKind::Lease { lease, text }` with `text` one of `acquired rv=R transitions=T`,
//! `renewed rv=R`, `renew-failed <why>`, `lost <why>`, `released rv=R`, `release-failed <why>`,
//! `observed <holder>` (`<none>` for an empty holder), `fenced rv=R`, `fence-failed <why>`.
//!
//! ## Safety, and what client-go does not give
//!
//! The algorithm never compares timestamps across replicas: a candidate takes a lease over only
//! after it has seen the record unchanged for `lease_duration` on its own clock. That tolerates
//! clock offset but not clock-rate skew or process pauses: a leader whose clock runs slow, or
//! that stops for longer than `lease_duration`, still believes it leads after another replica
//! took over, until its next renewal fails for `renew_deadline`. Its writes in that window are
//! stale-leader writes (split brain). [`LeaderElector::fence`] closes the window for writes that
//! call it first: it is a conditional update of the lease naming this replica, so a deposed
//! leader's fence fails with [`FenceError::NotLeader`] instead of its write going through.

mod config;
mod elector;
mod fence;
mod record;
mod run;

pub use crate::clock::{wall_after, Clock, ManualClock, TokioClock};
pub use config::{jitter, ConfigError, LeaderElectionConfig, JITTER_FACTOR};
pub use elector::{LeaderElector, LeaderStatus};
pub use fence::FenceError;
pub use record::LeaseRecord;
pub use run::{run_while_leading, TermEnd};
