//! The timed fault schedule: [`FaultAction`]s in time order, applied between two steps
//! ([`World::schedule`]).

use super::FaultAction;
use crate::world::World;
use std::time::Duration;

/// Faults to apply, in time order (stable for equal times: the first scheduled goes first).
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    entries: Vec<(Duration, FaultAction)>,
}

impl Schedule {
    /// Adds `action` at `at`, after every entry at the same time or earlier.
    pub(crate) fn insert(&mut self, at: Duration, action: FaultAction) {
        let pos = self.entries.partition_point(|(t, _)| *t <= at);
        self.entries.insert(pos, (at, action));
    }

    /// Removes every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Takes the entries due at `now` (at or before it), in order.
    pub(crate) fn take_due(&mut self, now: Duration) -> Vec<(Duration, FaultAction)> {
        let due = self.entries.partition_point(|(t, _)| *t <= now);
        self.entries.drain(..due).collect()
    }

    /// When the next entry is due.
    pub(crate) fn next_at(&self) -> Option<Duration> {
        self.entries.first().map(|(t, _)| *t)
    }

    /// The entries not yet applied, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Duration, FaultAction)> {
        self.entries.iter()
    }
}

impl World {
    /// Schedules `action` at simulated time `at`. Ignored when the harness runs a fault plan
    /// instead of the scenario's faults ([`World::override_fault_plan`]).
    pub fn schedule(&mut self, at: Duration, action: FaultAction) {
        if self.faults.plan.overridden {
            return;
        }
        self.insert_fault(at, action);
    }

    /// Schedules `action` at `at` whatever the plan (the harness's own faults: restarts).
    pub(crate) fn insert_fault(&mut self, at: Duration, action: FaultAction) {
        self.faults.schedule.insert(at, action);
    }
}
