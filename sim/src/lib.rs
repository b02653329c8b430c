//! # kubesim
//!
//! Deterministic simulation testing for Kubernetes controllers.
//!
//! - [`api`]: the API server core, a pure state machine with Kubernetes REST semantics.
//! - [`check`]: `kubesim::check(scenario).seeds(0..500).run()` for a user's own tests.
//! - [`buggify`]: BUGGIFY fault points for code under test (`kubesim::buggify!()`).
//! - [`apiserver`]: shared storage and API server replicas as turmoil hosts.
//! - [`http`]: the HTTP front of a replica (REST paths, status errors, watch streams).
//! - [`transport`]: a real `kube::Client` over turmoil's simulated TCP.
//! - [`kube_runtime`]: a `kube_runtime::Controller`'s reconciles recorded in the history.
//! - [`history`]: the run's history recorder, text and JSON Lines forms, first difference.
//! - [`clock`]: the fixed epoch and simulated timestamps.
//! - [`determinism`]: what makes unmodified kube-runtime and users' crates follow the seed
//!   (libc interposition, a fresh thread per world, pinned ahash/fastrand), and [`isolated`].
//! - [`clockskew`]: per-replica clocks with offset, drift and process pauses (leader election).
//! - [`world`]: one run's turmoil simulation, cluster and seeded RNG.
//! - [`scenario`]: built-in scenarios and the scenario type.
//! - [`kit`]: the scenario kit (hosts, typed storage, the fault drawer, `converges`, shutdown,
//!   workload), the same the built-ins use; [`prelude`] brings what a scenario needs.
//! - [`observe`]: the controller runtime's events into the history.
//! - [`oracle`]: properties checked over a finished history.
//! - [`picture`]: a history as one self-contained HTML page (lanes per host, filters, details).
//! - [`shrink`]: delta debugging of a failing seed's fault plan down to the faults that matter.
//! - [`plan`]: fault plans as data (JSON/YAML): timed, API-rate, targeted and BUGGIFY faults.
//! - [`run`]: running one seed, and the determinism self-check.
//! - [`serve`]: a run stopped at one event, served on a real port for kubectl.
//! - [`sweep`]: many seeds of a scenario on many threads (`explore`, tests over hundreds of seeds).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod apiserver;
pub mod buggify;
pub mod check;
pub mod clock;
pub mod clockskew;
pub mod determinism;
pub mod history;
pub mod http;
pub mod kit;
pub mod kube_runtime;
pub mod observe;
pub mod oracle;
pub mod picture;
pub mod plan;
pub mod run;
pub mod scenario;
pub mod serve;
pub mod shrink;
pub mod sweep;
pub mod transport;
pub mod world;

pub mod prelude;

pub use check::check;
pub use determinism::isolated;

/// Parses a seed as the command line and `KUBESIM_SEED` spell it: decimal or `0x` hex.
pub fn cli_seed(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| {
        format!(
            "invalid seed {s:?}: expected a number in 0..=18446744073709551615 (decimal or 0x hex)"
        )
    })
}
