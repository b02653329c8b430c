//! # kubesim
//!
//! Deterministic simulation testing for Kubernetes controllers: an in-process API server with
//! Kubernetes REST semantics, controller replicas and clients as turmoil hosts, and faults, all
//! driven by one 64-bit seed. Start here: a scenario is a setup function over a [`world::World`];
//! [`check()`] runs it over many seeds and fails with a replay command when an oracle trips.
//!
//! ```
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kube::api::{Api, PostParams};
//! use kubesim::prelude::*;
//!
//! fn setup(world: &mut World) {
//!     // A client host with a real `kube::Client` over the simulated network.
//!     world.add_client("writer", |host| async move {
//!         let api: Api<ConfigMap> = Api::namespaced(host.client(), "default");
//!         let mut cm = ConfigMap::default();
//!         cm.metadata.name = Some("hello".into());
//!         // Retried through the seed's faults until the API server answers.
//!         let pp = PostParams::default();
//!         insist(&host, "create hello", || api.create(&pp, &cm)).await;
//!     });
//!     // After the faults heal, storage must hold the config map.
//!     world.converges_within(None, |objects| {
//!         match objects.of::<ConfigMap>().len() {
//!             1 => Ok(()),
//!             n => Err(format!("{n} config maps")),
//!         }
//!     });
//! }
//!
//! kubesim::check(Scenario::new("hello", setup)).seeds(0..3).run();
//! ```
//!
//! [`prelude`] brings what a scenario needs; `README.md` has the tutorial (a controller under
//! faults), the command line, the history format and the oracles.
//!
//! The modules:
//!
//! - [`api`]: the API server core, a pure state machine with Kubernetes REST semantics.
//! - [`mod@check`]: `kubesim::check(scenario).seeds(0..500).run()` for a user's own tests.
//! - [`apiserver`]: shared storage and API server replicas as turmoil hosts.
//! - [`http`]: the HTTP front of a replica (REST paths, status errors, watch streams).
//! - [`transport`]: a real `kube::Client` over turmoil's simulated TCP.
//! - [`kube_runtime`]: a `kube_runtime::Controller`'s reconciles recorded in the history.
//! - [`history`]: the run's history recorder, text and JSON Lines forms, first difference.
//! - [`clock`]: the fixed epoch and simulated timestamps.
//! - `error.rs`: [`Error`], the crate's error type, and [`Result`].
//! - [`seed`]: seeds as text (decimal or `0x` hex).
//! - [`determinism`]: what makes unmodified kube-runtime and users' crates follow the seed
//!   (libc interposition, a fresh thread per world, pinned ahash/fastrand), and [`isolated`].
//! - [`world`]: one run's world: turmoil's simulation behind it, the cluster, the seeded RNG, the
//!   step loop ([`world::World::run`]) and its configuration.
//! - [`faults`]: faults in one home: the profile, the actions, the drawer, the schedule and its
//!   applier, fault plans installed in a world, clock skew ([`faults::clockskew`]) and BUGGIFY
//!   points for code under test ([`faults::buggify`], `kubesim::buggify!()`).
//! - [`scenario`]: built-in scenarios and the scenario type.
//! - [`kit`]: the scenario kit (hosts, typed storage, `converges`, shutdown, workload), the same
//!   the built-ins use; [`prelude`] brings what a scenario needs.
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
pub mod check;
pub mod clock;
pub mod determinism;
mod error;
pub mod faults;
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
pub mod seed;
pub mod serve;
pub mod shrink;
pub mod sweep;
pub mod transport;
pub mod world;

pub mod prelude;

pub use check::check;
pub use determinism::isolated;
pub use error::{Error, Result};
