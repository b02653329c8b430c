//! What a scenario needs, in one import: `use kubesim::prelude::*;`.
//!
//! The world and its faults, the scenario type, the kit (hosts, typed storage, `converges`,
//! shutdown, workload), the checks and sweeps, and the RNG trait and type (so a user crate needs
//! neither `rand` nor `rand_chacha`).

pub use crate::check::check;
pub use crate::determinism::isolated;
pub use crate::faults::{FaultAction, FaultProfile};
pub use crate::history::Recorder;
pub use crate::kit::CONVERGES;
pub use crate::kit::{insist, Host, Objects, Shutdown, SimRng, Workload};
pub use crate::oracle::{Violation, CHECKER_ERROR, NO_LEAKED_STREAMS, NO_WRITE_FIGHT, QUIESCENCE};
pub use crate::plan::{Every, FaultPlan, Nth, Respond, Selector};
pub use crate::scenario::{default_check, Expectation, Scenario, DEFAULT_HEAL_AT};
pub use crate::sweep::Sweep;
pub use crate::transport::Target;
pub use crate::world::{World, WorldConfig};
pub use kubesim_model::{EventKind, HistoryEvent};
pub use rand::{Rng, SeedableRng};
