//! [`FaultAction`]: one fault, or its healing, as plain data: what the schedule holds, what a
//! fault plan lists and what the history prints.

use std::time::Duration;

/// A fault (or its healing) the harness applies between two steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Cut the network between two hosts, both ways. Messages are held, not lost (turmoil's
    /// `hold`): TCP retransmits across an outage, so a connection resumes after the repair,
    /// and a connect attempted during the outage hangs until then, as on a real network.
    Partition(String, String),
    /// Drop every message from the first host to the second.
    PartitionOneWay(String, String),
    /// Undo a partition between two hosts.
    Repair(String, String),
    /// Crash a host: every task on it is dropped.
    Crash(String),
    /// Restart a crashed host from its factory.
    Restart(String),
    /// Compact storage up to its current revision (etcd compaction).
    Compact,
    /// Stop the API errors, slow responses and watch drops the replicas inject.
    HealApiFaults,
    /// Crash `host` right after the `writes`-th write it gets acknowledged from now on, then
    /// restart it `restart_after` later: a crash between two writes of one reconcile (Sieve's
    /// intermediate states). The write is counted in the step a replica commits and answers it;
    /// the answer needs at least one tick to travel back, so the crash at the next step boundary
    /// lands before the host has seen it, let alone sent its next write.
    CrashAfterWrites {
        /// The host to crash.
        host: String,
        /// Which write to crash after, counted from when the fault is applied (1 = the next).
        writes: u64,
        /// How long the host stays down.
        restart_after: Duration,
    },
}

impl FaultAction {
    /// The history verb of the action: `fault`, `heal`, `crash` or `restart`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Repair(..) | Self::HealApiFaults => "heal",
            Self::Restart(..) => "restart",
            Self::Crash(..) | Self::CrashAfterWrites { .. } => "crash",
            _ => "fault",
        }
    }

    /// The action as history lines and plans print it (after [`FaultAction::kind`]).
    pub fn text(&self) -> String {
        match self {
            Self::Partition(a, b) => format!("partition {a} {b}"),
            Self::PartitionOneWay(a, b) => format!("partition-oneway {a} -> {b}"),
            Self::Repair(a, b) => format!("partition {a} {b}"),
            Self::Crash(h) | Self::Restart(h) => h.clone(),
            Self::Compact => "compact".into(),
            Self::HealApiFaults => "api-faults".into(),
            Self::CrashAfterWrites {
                host,
                writes,
                restart_after,
            } => format!(
                "{host} after write {writes}, restart {}ms later",
                restart_after.as_millis()
            ),
        }
    }
}
