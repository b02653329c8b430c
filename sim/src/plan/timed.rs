//! Timed faults: each [`FaultAction`] at a simulated time, as plans write them.

use super::time;
use crate::faults::FaultAction;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One timed fault: `action` at simulated time `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TimedRepr", into = "TimedRepr")]
pub struct Timed {
    /// When, from the start of the run.
    pub at: Duration,
    /// What.
    pub action: FaultAction,
}

/// The serde form of a [`Timed`] fault: `{"at": "10.990s", "fault": "crash", "host": "x"}`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
enum TimedRepr {
    Partition {
        #[serde(with = "time")]
        at: Duration,
        hosts: [String; 2],
    },
    PartitionOneway {
        #[serde(with = "time")]
        at: Duration,
        from: String,
        to: String,
    },
    Repair {
        #[serde(with = "time")]
        at: Duration,
        hosts: [String; 2],
    },
    Crash {
        #[serde(with = "time")]
        at: Duration,
        host: String,
    },
    Restart {
        #[serde(with = "time")]
        at: Duration,
        host: String,
    },
    Compact {
        #[serde(with = "time")]
        at: Duration,
    },
    HealApiFaults {
        #[serde(with = "time")]
        at: Duration,
    },
    CrashAfterWrites {
        #[serde(with = "time")]
        at: Duration,
        host: String,
        writes: u64,
        #[serde(with = "time")]
        restart_after: Duration,
    },
}

impl TryFrom<TimedRepr> for Timed {
    type Error = String;

    fn try_from(r: TimedRepr) -> Result<Self, String> {
        let two = |[a, b]: [String; 2]| {
            if a == b {
                Err(format!(
                    "hosts: a partition needs two different hosts, got {a:?} twice"
                ))
            } else {
                Ok((a, b))
            }
        };
        let (at, action) = match r {
            TimedRepr::Partition { at, hosts } => {
                let (a, b) = two(hosts)?;
                (at, FaultAction::Partition(a, b))
            }
            TimedRepr::PartitionOneway { at, from, to } => {
                let (a, b) = two([from, to])?;
                (at, FaultAction::PartitionOneWay(a, b))
            }
            TimedRepr::Repair { at, hosts } => {
                let (a, b) = two(hosts)?;
                (at, FaultAction::Repair(a, b))
            }
            TimedRepr::Crash { at, host } => (at, FaultAction::Crash(host)),
            TimedRepr::Restart { at, host } => (at, FaultAction::Restart(host)),
            TimedRepr::Compact { at } => (at, FaultAction::Compact),
            TimedRepr::HealApiFaults { at } => (at, FaultAction::HealApiFaults),
            TimedRepr::CrashAfterWrites {
                at,
                host,
                writes,
                restart_after,
            } => {
                if writes == 0 {
                    return Err("writes: counts from 1 (1 = the next write)".into());
                }
                (
                    at,
                    FaultAction::CrashAfterWrites {
                        host,
                        writes,
                        restart_after,
                    },
                )
            }
        };
        Ok(Timed { at, action })
    }
}

impl From<Timed> for TimedRepr {
    fn from(t: Timed) -> Self {
        let at = t.at;
        match t.action {
            FaultAction::Partition(a, b) => Self::Partition { at, hosts: [a, b] },
            FaultAction::PartitionOneWay(from, to) => Self::PartitionOneway { at, from, to },
            FaultAction::Repair(a, b) => Self::Repair { at, hosts: [a, b] },
            FaultAction::Crash(host) => Self::Crash { at, host },
            FaultAction::Restart(host) => Self::Restart { at, host },
            FaultAction::Compact => Self::Compact { at },
            FaultAction::HealApiFaults => Self::HealApiFaults { at },
            FaultAction::CrashAfterWrites {
                host,
                writes,
                restart_after,
            } => Self::CrashAfterWrites {
                at,
                host,
                writes,
                restart_after,
            },
        }
    }
}

impl Timed {
    /// The hosts the fault names.
    pub fn hosts(&self) -> Vec<&str> {
        match &self.action {
            FaultAction::Partition(a, b)
            | FaultAction::PartitionOneWay(a, b)
            | FaultAction::Repair(a, b) => vec![a, b],
            FaultAction::Crash(h)
            | FaultAction::Restart(h)
            | FaultAction::CrashAfterWrites { host: h, .. } => vec![h],
            FaultAction::Compact | FaultAction::HealApiFaults => vec![],
        }
    }
}
