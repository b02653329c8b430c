//! The applier: scheduled faults applied between two steps, at the harness's time, each
//! recorded in the history; crashes armed after a host's k-th write, and their restarts.

use super::FaultAction;
use crate::world::World;
use kubesim_model::EventKind;
use std::time::Duration;

impl World {
    /// Applies every scheduled fault due at the harness's time, in order, and records it.
    pub(crate) fn apply_due_faults(&mut self) {
        let now = self.harness_now();
        for (_, action) in self.faults.schedule.take_due(now) {
            let text = action.text();
            let kind = match &action {
                FaultAction::Partition(a, b) => {
                    self.sim.hold(a.as_str(), b.as_str());
                    EventKind::Fault { text }
                }
                FaultAction::PartitionOneWay(a, b) => {
                    self.sim.partition_oneway(a.as_str(), b.as_str());
                    EventKind::Fault { text }
                }
                FaultAction::Repair(a, b) => {
                    self.sim.release(a.as_str(), b.as_str());
                    self.sim.repair(a.as_str(), b.as_str());
                    EventKind::Heal { text }
                }
                FaultAction::Crash(h) => {
                    self.sim.crash(h.as_str());
                    EventKind::Crash { target: text }
                }
                FaultAction::Restart(h) => {
                    // Overlapping crash windows (a crash after writes inside a scheduled one)
                    // can restart a running host: that is a crash too, and oracles must see it.
                    if self.sim.is_host_running(h.as_str()) {
                        self.recorder
                            .record("sim", EventKind::Crash { target: h.clone() });
                    }
                    self.sim.bounce(h.as_str());
                    EventKind::Restart { target: text }
                }
                FaultAction::HealApiFaults => {
                    self.cluster.heal_replica_faults();
                    EventKind::Heal { text }
                }
                FaultAction::Compact => {
                    let rev = self.cluster.state().revision();
                    self.cluster.compact("sim", rev);
                    continue;
                }
                FaultAction::CrashAfterWrites {
                    host,
                    writes,
                    restart_after,
                } => {
                    assert!(*writes > 0, "CrashAfterWrites counts from the next write");
                    let at = self.cluster.writes_by(host) + writes;
                    self.faults
                        .crash_after_writes
                        .push((host.clone(), at, *restart_after));
                    EventKind::Fault {
                        text: format!("armed crash {text}"),
                    }
                }
            };
            self.recorder.record("sim", kind);
        }
    }

    /// Crashes every host whose armed [`FaultAction::CrashAfterWrites`] count is reached, and
    /// schedules its restart.
    pub(crate) fn crash_after_due_writes(&mut self) {
        let mut i = 0;
        while i < self.faults.crash_after_writes.len() {
            let (host, at, _) = &self.faults.crash_after_writes[i];
            if self.cluster.writes_by(host) < *at {
                i += 1;
                continue;
            }
            let (host, _, restart_after) = self.faults.crash_after_writes.remove(i);
            self.crash_and_restart_later(host, restart_after);
        }
        let due = self
            .faults
            .plan
            .targeted
            .as_ref()
            .map(|a| a.take_crashes())
            .unwrap_or_default();
        for (host, restart_after) in due {
            if self.sim.is_host_running(host.as_str()) {
                self.crash_and_restart_later(host, restart_after);
            }
        }
    }

    /// Crashes `host` now, records it, and schedules its restart `restart_after` later.
    fn crash_and_restart_later(&mut self, host: String, restart_after: Duration) {
        self.sim.crash(host.as_str());
        self.recorder.record(
            "sim",
            EventKind::Crash {
                target: host.clone(),
            },
        );
        let restart = self.harness_now() + restart_after;
        self.insert_fault(restart, FaultAction::Restart(host));
    }
}
