//! # kubesim
//!
//! Deterministic simulation testing for Kubernetes controllers.
//!
//! - [`api`]: the API server core, a pure state machine with Kubernetes REST semantics.
//! - [`buggify`]: BUGGIFY fault points for code under test (`kubesim::buggify!()`).
//! - [`apiserver`]: shared storage and API server replicas as turmoil hosts.
//! - [`http`]: the HTTP front of a replica (REST paths, status errors, watch streams).
//! - [`transport`]: a real `kube::Client` over turmoil's simulated TCP.
//! - [`history`]: the run's history recorder, text and JSON Lines forms, first difference.
//! - [`clock`]: the fixed epoch and simulated timestamps.
//! - [`clockskew`]: per-replica clocks with offset, drift and process pauses (leader election).
//! - [`world`]: one run's turmoil simulation, cluster and seeded RNG.
//! - [`scenario`]: built-in scenarios and the scenario type.
//! - [`observe`]: the controller runtime's events into the history.
//! - [`oracle`]: properties checked over a finished history.
//! - [`single_writer`]: the leader election oracle: no write by a replica that does not hold the lease.
//! - [`run`]: running one seed, and the determinism self-check.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod apiserver;
pub mod buggify;
pub mod clock;
pub mod clockskew;
pub mod history;
pub mod http;
pub mod observe;
pub mod oracle;
pub mod run;
pub mod scenario;
pub mod single_writer;
pub mod transport;
pub mod world;
