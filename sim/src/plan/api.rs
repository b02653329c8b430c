//! The API server replicas' fault rates as plans write them ([`ApiFaults`]).

use super::time;
use crate::apiserver::faults::{ConflictWindow, ReplicaFaults};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the API server replicas inject ([`ReplicaFaults`] as plans write it). Rates are per
/// request (per watch batch for drops), in `0.0..=1.0`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiFaults {
    /// Requests answered 429, 500, 504 (or 409 on writes) instead of served.
    #[serde(default)]
    pub error_rate: f64,
    /// Requests served late.
    #[serde(default)]
    pub slow_rate: f64,
    /// The longest delay of a slow request.
    #[serde(default, with = "time")]
    pub slow_max: Duration,
    /// Watch streams cut after a batch of events.
    #[serde(default)]
    pub watch_drop_rate: f64,
    /// Seed of the replicas' injection RNG; absent: the seed the run's fault drawer drew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// A window of 409 Conflicts on the updates and patches of one resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Conflicts>,
}

/// The conflict window of [`ApiFaults`] ([`ConflictWindow`] as plans write it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conflicts {
    /// The resource, as histories name it (`pods`, `widgets.example.com`).
    pub resource: String,
    /// Start of the window.
    #[serde(with = "time")]
    pub from: Duration,
    /// End of the window (exclusive).
    #[serde(with = "time")]
    pub until: Duration,
    /// Chance that a matching write in the window gets a 409.
    pub rate: f64,
}

impl ApiFaults {
    /// The plan form of what replicas inject; `None` when they inject nothing.
    pub fn from_replica_faults(f: &ReplicaFaults) -> Option<Self> {
        if f.is_none() {
            return None;
        }
        Some(Self {
            error_rate: f.error_rate,
            slow_rate: f.slow_rate,
            slow_max: f.slow_max,
            watch_drop_rate: f.watch_drop_rate,
            seed: Some(f.seed),
            conflicts: f.conflicts.as_ref().map(|w| Conflicts {
                resource: w.resource.clone(),
                from: w.from,
                until: w.until,
                rate: w.rate,
            }),
        })
    }

    /// What replicas inject under this plan; `seed` when the plan gives none.
    pub fn to_replica_faults(&self, seed: u64) -> ReplicaFaults {
        ReplicaFaults {
            error_rate: self.error_rate,
            slow_rate: self.slow_rate,
            slow_max: self.slow_max,
            watch_drop_rate: self.watch_drop_rate,
            seed: self.seed.unwrap_or(seed),
            conflicts: self.conflicts.as_ref().map(|c| ConflictWindow {
                resource: c.resource.clone(),
                from: c.from,
                until: c.until,
                rate: c.rate,
            }),
            targeted: None,
        }
    }

    /// True when nothing is injected.
    pub fn is_none(&self) -> bool {
        self.to_replica_faults(0).is_none()
    }
}
