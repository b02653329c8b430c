//! The scenario kit: what the built-in scenarios are made of, public, for a user's own.
//!
//! - [`host`]: controller and client hosts in one call each ([`World::add_controller`],
//!   [`World::add_client`]), each given a [`Host`] that builds its `kube::Client`, observer and
//!   seeded RNG.
//! - [`storage`]: a custom resource registered from its Rust type ([`World::register_crd`]) and
//!   storage read back as typed objects ([`World::objects`]).
//! - [`converge`]: `converges` with a typed predicate and a deadline after the heal
//!   ([`World::converges_within`]).
//! - [`shutdown`]: a controller's stop path with a leak check ([`Shutdown`]).
//! - [`workload`]: a reusable workload driver ([`Workload`]) and [`insist`].
//!
//! [`World::add_controller`]: crate::world::World::add_controller
//! [`World::add_client`]: crate::world::World::add_client
//! [`World::register_crd`]: crate::world::World::register_crd
//! [`World::objects`]: crate::world::World::objects
//! [`World::converges_within`]: crate::world::World::converges_within

pub mod converge;
pub mod host;
pub mod shutdown;
pub mod storage;
pub mod workload;

pub use converge::{Objects, CONVERGES};
pub use host::{Host, HostOutcome, SimRng};
pub use shutdown::Shutdown;
pub use workload::{insist, Workload};
