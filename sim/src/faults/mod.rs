//! Faults in one home: what a run can suffer, how it is drawn from the seed, scheduled, applied,
//! and read back as a plan.
//!
//! - [`FaultProfile`] (`profile.rs`): which kinds of fault a run draws (none, all, swarm).
//! - [`FaultAction`] (`action.rs`): one fault or its healing, as plain data.
//! - `draw.rs`: the fault drawer, the profile's faults aimed at the scenario's controller hosts
//!   ([`World::draw_faults`]), all drawn from the seed.
//! - `schedule.rs`: the timed schedule ([`World::schedule`]).
//! - `applier.rs`: the schedule applied between two steps, each fault recorded in the history;
//!   crashes after a host's k-th write.
//! - `plan_state.rs`: a [`crate::plan::FaultPlan`] installed in a world (by the scenario or the
//!   harness) and the run's faults read back as a plan ([`World::current_plan`]).
//! - [`clockskew`]: per-replica clocks with offset, drift and process pauses (leader election).
//! - [`buggify`]: BUGGIFY fault points for code under test (`kubesim::buggify!()`).
//!
//! The heal time is the harness's ([`crate::scenario::Scenario::heal_at`]): the drawer heals
//! everything it draws then, and the `converges` oracle counts its deadline from it.

mod action;
mod applier;
pub mod buggify;
pub mod clockskew;
mod draw;
mod plan_state;
mod profile;
mod schedule;

pub use action::FaultAction;
pub use profile::FaultProfile;

use crate::world::World;
use std::time::Duration;

/// What a world knows of its faults: the profile, the schedule, armed crashes, the heal time and
/// the fault plan.
#[derive(Default)]
pub(crate) struct Faults {
    /// The fault profile scenarios draw their faults under.
    pub(crate) profile: FaultProfile,
    /// Faults to apply, in time order.
    pub(crate) schedule: schedule::Schedule,
    /// Armed [`FaultAction::CrashAfterWrites`]: host, write count to crash at, downtime.
    pub(crate) crash_after_writes: Vec<(String, u64, Duration)>,
    /// When the drawn faults heal (set by the fault drawer).
    pub(crate) heal_at: Option<Duration>,
    /// The scenario's heal time, given by the harness before the setup
    /// ([`crate::scenario::Scenario::heal_at`]).
    pub(crate) harness_heal_at: Option<Duration>,
    /// What the API server replicas inject, as the fault plan prints it.
    pub(crate) api_faults: Option<String>,
    /// The fault plan state.
    pub(crate) plan: plan_state::PlanState,
}

impl World {
    /// The fault profile the scenario draws its faults under.
    pub fn fault_profile(&self) -> FaultProfile {
        self.faults.profile
    }

    /// Sets the fault profile (the harness does, before the scenario's setup).
    pub fn set_fault_profile(&mut self, profile: FaultProfile) {
        self.faults.profile = profile;
    }

    /// When the drawn faults heal, if faults were drawn ([`World::draw_faults`]).
    pub fn heal_at(&self) -> Option<Duration> {
        self.faults.heal_at
    }

    /// Sets the heal time (the fault drawer does; a scenario with faults of its own may).
    pub fn set_heal_at(&mut self, at: Duration) {
        self.faults.heal_at = Some(at);
    }

    /// When the harness heals this run's faults: the scenario's
    /// [`Scenario::heal_at`](crate::scenario::Scenario::heal_at), else
    /// [`DEFAULT_HEAL_AT`](crate::scenario::DEFAULT_HEAL_AT). A setup that draws its own faults
    /// heals them then.
    pub fn harness_heal_at(&self) -> Duration {
        self.faults
            .harness_heal_at
            .unwrap_or(crate::scenario::DEFAULT_HEAL_AT)
    }

    /// Gives the world the scenario's heal time (the harness does, before the setup).
    pub fn set_harness_heal_at(&mut self, at: Option<Duration>) {
        self.faults.harness_heal_at = at;
    }

    /// Records what the API server replicas inject, for the fault plan.
    pub(crate) fn note_api_faults(&mut self, text: String) {
        self.faults.api_faults = Some(text);
    }
}
