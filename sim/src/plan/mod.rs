//! Fault plans as data (shuttle and madsim keep schedules as plain data; dsk aims faults by
//! verb, resource and name): every fault of a run, written down so it can be printed, edited,
//! saved as JSON or YAML and replayed.
//!
//! A [`FaultPlan`] holds
//! - timed faults ([`Timed`]): each [`FaultAction`] at a simulated time, as the fault drawer and
//!   scenarios schedule them (partitions and repairs, crashes and restarts, compactions, the heal
//!   of the API faults, crashes after a host's Nth write);
//! - the API server replicas' fault rates ([`ApiFaults`]: errors, slow responses, watch drops and
//!   the conflict window), as [`crate::apiserver::faults::ReplicaFaults`] injects them;
//! - targeted faults ([`TargetedFault`]): fail, delay or drop the Nth (or every) request that
//!   matches a [`Selector`], or crash a host after its Nth matching write;
//! - the BUGGIFY points enabled (`file:line`); absent, the seed decides as usual.
//!
//! `kubesim run SCENARIO --seed N --print-plan FILE` writes the plan the seed drew;
//! `--plan FILE` runs a plan instead of the faults the scenario would draw or schedule, while
//! every other seeded choice (latencies, cache lags, the workload, clocks) stays the seed's. A
//! printed plan replays to the same history, hash included. In Rust, build one with the same
//! vocabulary and hand it to [`crate::world::World::set_fault_plan`] in a scenario's setup:
//!
//! ```
//! use kubesim::plan::{secs, FaultPlan, Nth, Respond, Selector};
//! use kubesim::world::FaultAction;
//!
//! let plan = FaultPlan::new()
//!     .at(secs(5), FaultAction::Crash("controller-0".into()))
//!     .at(secs(7), FaultAction::Restart("controller-0".into()))
//!     .fail(
//!         Selector::new().host("controller-0").verb("update").resource("pods"),
//!         Nth(2),
//!         Respond::Status(409),
//!     );
//! let json = plan.to_json();
//! assert_eq!(kubesim::plan::FaultPlan::from_json(&json).unwrap(), plan);
//! ```

pub mod targeted;
pub mod time;

pub use targeted::{Action, Every, Nth, Respond, Selector, TargetedFault, Which};

use crate::apiserver::faults::{ConflictWindow, ReplicaFaults};
use crate::world::FaultAction;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// `Duration::from_secs`, for plans written in Rust.
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// `Duration::from_millis`, for plans written in Rust.
pub fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Every fault of a run, as data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// The scenario the plan was drawn for (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The seed the plan was drawn with (informational: `--seed` decides the run's other
    /// choices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// When the faults heal: liveness oracles (`converges`) count their deadline from here.
    /// Absent: the scenario's own heal time.
    #[serde(
        default,
        with = "time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub heal_at: Option<Duration>,
    /// Faults applied at simulated times, in time order (stable for equal times).
    #[serde(default)]
    pub timed: Vec<Timed>,
    /// What the API server replicas inject; absent: nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiFaults>,
    /// Faults aimed at chosen requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targeted: Vec<TargetedFault>,
    /// The BUGGIFY points enabled (`file:line`, as `buggify` history lines print them); every
    /// other point stays off. Absent: the seed enables points as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buggify: Option<BTreeSet<String>>,
}

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

/// A plan that cannot be read or run, naming the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file could not be read or written.
    #[error("cannot {action} plan file {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a plan: bad syntax, an unknown field or fault, a bad value.
    #[error("bad fault plan: at {field}: {message}")]
    Malformed {
        /// serde's path to the field (`timed[3].fault`, `targeted[0].match.verb`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The plan does not fit the world it is run in (an unknown host or resource).
    #[error("bad fault plan: at {field}: {message}")]
    Invalid {
        /// The field (`timed[2].host`, `targeted[0].match.resource`).
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl PlanError {
    /// The field the error names.
    pub fn field(&self) -> &str {
        match self {
            Self::Io { path, .. } => path,
            Self::Malformed { field, .. } | Self::Invalid { field, .. } => field,
        }
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

fn malformed<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> PlanError {
    let path = e.path().to_string();
    PlanError::Malformed {
        field: if path == "." {
            "the top level".into()
        } else {
            path
        },
        message: e.into_inner().to_string(),
    }
}

impl FaultPlan {
    /// An empty plan: no faults at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `action` at simulated time `at` (kept in time order, stable for equal times).
    pub fn at(mut self, at: Duration, action: FaultAction) -> Self {
        self.push_timed(at, action);
        self
    }

    /// Inserts a timed fault after every entry at or before `at`.
    pub fn push_timed(&mut self, at: Duration, action: FaultAction) {
        let pos = self.timed.partition_point(|t| t.at <= at);
        self.timed.insert(pos, Timed { at, action });
    }

    /// Fails the requests `selector` and `which` pick, answering `respond`.
    pub fn fail(self, selector: Selector, which: Which, respond: Respond) -> Self {
        self.targeted(selector, which, Action::Fail(respond))
    }

    /// Delays the requests `selector` and `which` pick by `by`.
    pub fn delay(self, selector: Selector, which: Which, by: Duration) -> Self {
        self.targeted(selector, which, Action::Delay(by))
    }

    /// Never answers the requests `selector` and `which` pick.
    pub fn drop_requests(self, selector: Selector, which: Which) -> Self {
        self.targeted(selector, which, Action::Drop)
    }

    /// Crashes `selector`'s host (which must be set) right after its `nth` matching write is
    /// answered, and restarts it `restart_after` later.
    pub fn crash_after_write(self, selector: Selector, nth: u64, restart_after: Duration) -> Self {
        self.targeted(
            selector,
            Nth(nth),
            Action::CrashAfterWrite { restart_after },
        )
    }

    /// Adds a targeted fault.
    ///
    /// # Panics
    /// When the entry is not valid ([`TargetedFault::check`]): a mistake in the test's code.
    pub fn targeted(mut self, selector: Selector, which: Which, action: Action) -> Self {
        let t = TargetedFault {
            selector,
            which,
            action,
            from: None,
            until: None,
        };
        if let Err(e) = t.check() {
            panic!("kubesim: bad targeted fault {}: {e}", t.describe());
        }
        self.targeted.push(t);
        self
    }

    /// Sets what the API server replicas inject.
    pub fn api(mut self, api: ApiFaults) -> Self {
        self.api = (!api.is_none()).then_some(api);
        self
    }

    /// Enables exactly these BUGGIFY points (`file:line`).
    pub fn buggify<S: Into<String>>(mut self, points: impl IntoIterator<Item = S>) -> Self {
        self.buggify = Some(points.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the heal time.
    pub fn heal_at(mut self, at: Duration) -> Self {
        self.heal_at = Some(at);
        self
    }

    /// Number of faults: timed entries that inject (not heals), API rates, targeted entries and
    /// BUGGIFY points.
    pub fn fault_count(&self) -> usize {
        let timed = self
            .timed
            .iter()
            .filter(|t| {
                !matches!(
                    t.action,
                    FaultAction::Repair(..) | FaultAction::Restart(..) | FaultAction::HealApiFaults
                )
            })
            .count();
        let api = self.api.as_ref().map_or(0, |a| {
            usize::from(a.error_rate > 0.0)
                + usize::from(a.slow_rate > 0.0)
                + usize::from(a.watch_drop_rate > 0.0)
                + usize::from(a.conflicts.is_some())
        });
        timed + api + self.targeted.len() + self.buggify.as_ref().map_or(0, BTreeSet::len)
    }

    /// The plan as pretty JSON (with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("invariant: a plan serializes");
        s.push('\n');
        s
    }

    /// The plan as YAML.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("invariant: a plan serializes")
    }

    /// Reads a plan from JSON, naming the field at fault on error.
    pub fn from_json(text: &str) -> Result<Self, PlanError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let plan: Self = serde_path_to_error::deserialize(&mut de).map_err(malformed)?;
        de.end().map_err(|e| PlanError::Malformed {
            field: "the end of the file".into(),
            message: e.to_string(),
        })?;
        plan.check()?;
        Ok(plan)
    }

    /// Reads a plan from YAML, naming the field at fault on error.
    pub fn from_yaml(text: &str) -> Result<Self, PlanError> {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let plan: Self = serde_path_to_error::deserialize(de).map_err(malformed)?;
        plan.check()?;
        Ok(plan)
    }

    /// Reads a plan file: YAML when the name ends in `.yaml` or `.yml`, JSON otherwise.
    pub fn load(path: &Path) -> Result<Self, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            action: "read",
            path: path.display().to_string(),
            source,
        })?;
        if is_yaml(path) {
            Self::from_yaml(&text)
        } else {
            Self::from_json(&text)
        }
    }

    /// Writes the plan to `path`, as YAML when the name ends in `.yaml` or `.yml`, else JSON.
    pub fn save(&self, path: &Path) -> Result<(), PlanError> {
        let text = if is_yaml(path) {
            self.to_yaml()
        } else {
            self.to_json()
        };
        std::fs::write(path, text).map_err(|source| PlanError::Io {
            action: "write",
            path: path.display().to_string(),
            source,
        })
    }

    /// Checks what can be checked without a world: rates are probabilities, windows end after
    /// they start, BUGGIFY points are `file:line`.
    pub fn check(&self) -> Result<(), PlanError> {
        if let Some(api) = &self.api {
            for (name, rate) in [
                ("error_rate", api.error_rate),
                ("slow_rate", api.slow_rate),
                ("watch_drop_rate", api.watch_drop_rate),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(PlanError::invalid(
                        format!("api.{name}"),
                        format!("{rate} is not a probability in 0..=1"),
                    ));
                }
            }
            if let Some(c) = &api.conflicts {
                if !(0.0..=1.0).contains(&c.rate) {
                    return Err(PlanError::invalid(
                        "api.conflicts.rate",
                        format!("{} is not a probability in 0..=1", c.rate),
                    ));
                }
                if c.until < c.from {
                    return Err(PlanError::invalid(
                        "api.conflicts.until",
                        "the window ends before it starts",
                    ));
                }
            }
        }
        for (i, p) in self.buggify.iter().flatten().enumerate() {
            let ok = p
                .rsplit_once(':')
                .is_some_and(|(f, l)| !f.is_empty() && l.parse::<u32>().is_ok());
            if !ok {
                return Err(PlanError::invalid(
                    format!("buggify[{i}]"),
                    format!("{p:?} is not a fault point: expected file:line"),
                ));
            }
        }
        let sorted = self.timed.windows(2).all(|w| w[0].at <= w[1].at);
        if !sorted {
            let i = self
                .timed
                .windows(2)
                .position(|w| w[0].at > w[1].at)
                .unwrap_or(0);
            return Err(PlanError::invalid(
                format!("timed[{}].at", i + 1),
                "timed faults must be in time order",
            ));
        }
        Ok(())
    }

    /// Checks the plan against a world: every host it names exists, and every resource it names
    /// is served.
    pub fn check_world(
        &self,
        hosts: &BTreeSet<String>,
        resources: &[String],
    ) -> Result<(), PlanError> {
        let known = |field: String, h: &str| {
            if hosts.contains(h) {
                Ok(())
            } else {
                Err(PlanError::invalid(
                    field,
                    format!(
                        "unknown host {h:?}; hosts of this scenario: {}",
                        hosts.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        };
        let served = |field: &str, r: &str| {
            let ok = resources
                .iter()
                .any(|s| s == r || s.split('.').next() == Some(r));
            if ok {
                Ok(())
            } else {
                Err(PlanError::invalid(
                    field,
                    format!(
                        "unknown resource {r:?}; resources served: {}",
                        resources.join(", ")
                    ),
                ))
            }
        };
        for (i, t) in self.timed.iter().enumerate() {
            let field = match &t.action {
                FaultAction::Partition(..) | FaultAction::Repair(..) => "hosts",
                FaultAction::PartitionOneWay(..) => "from/to",
                _ => "host",
            };
            for h in t.hosts() {
                known(format!("timed[{i}].{field}"), h)?;
            }
        }
        if let Some(c) = self.api.as_ref().and_then(|a| a.conflicts.as_ref()) {
            served("api.conflicts.resource", &c.resource)?;
        }
        for (i, t) in self.targeted.iter().enumerate() {
            if let Some(h) = &t.selector.host {
                known(format!("targeted[{i}].match.host"), h)?;
            }
            if let Some(r) = &t.selector.resource {
                served(&format!("targeted[{i}].match.resource"), r)?;
            }
        }
        Ok(())
    }

    /// The plan as one line per fault, as run reports print plans.
    pub fn text(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(api) = &self.api {
            out.push(format!(
                "0.000s fault {}",
                api.to_replica_faults(0).describe()
            ));
        }
        out.extend(self.timed.iter().map(|t| {
            format!(
                "{}.{:03}s {} {}",
                t.at.as_secs(),
                t.at.subsec_millis(),
                t.action.kind(),
                t.action.text()
            )
        }));
        out.extend(
            self.targeted
                .iter()
                .map(|t| format!("targeted {}", t.describe())),
        );
        if let Some(points) = &self.buggify {
            let list: Vec<&str> = points.iter().map(String::as_str).collect();
            out.push(format!("buggify [{}]", list.join(", ")));
        }
        out
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FaultPlan {
        FaultPlan::new()
            .heal_at(secs(40))
            .at(millis(10_990), FaultAction::Crash("controller-0".into()))
            .at(millis(15_881), FaultAction::Restart("controller-0".into()))
            .at(
                millis(3_000),
                FaultAction::Partition("controller-0".into(), "apiserver-1".into()),
            )
            .at(secs(40), FaultAction::HealApiFaults)
            .at(
                secs(9),
                FaultAction::CrashAfterWrites {
                    host: "controller-0".into(),
                    writes: 2,
                    restart_after: Duration::from_micros(1_500_250),
                },
            )
            .api(ApiFaults {
                error_rate: 0.021_373_918_237_113_4,
                slow_rate: 0.0,
                slow_max: Duration::ZERO,
                watch_drop_rate: 0.13,
                seed: Some(u64::MAX - 3),
                conflicts: Some(Conflicts {
                    resource: "pods".into(),
                    from: secs(20),
                    until: millis(27_500),
                    rate: 0.661_234_567_890_123_4,
                }),
            })
            .fail(
                Selector::new()
                    .host("controller-0")
                    .verb("update")
                    .resource("pods"),
                Nth(2),
                Respond::Status(409),
            )
            .delay(Selector::new().verb("list"), Every, millis(800))
            .drop_requests(Selector::new().name("x").namespace("default"), Nth(1))
            .fail(Selector::new().verb("watch"), Nth(3), Respond::Status(410))
            .fail(Selector::new().status_subresource(), Nth(1), Respond::Reset)
            .crash_after_write(
                Selector::new().host("controller-0").resource("pods"),
                3,
                secs(2),
            )
            .buggify(["controller/src/x.rs:12"])
    }

    #[test]
    fn a_plan_survives_a_json_round_trip_exactly() {
        let plan = sample();
        let json = plan.to_json();
        assert_eq!(FaultPlan::from_json(&json).expect("parses"), plan, "{json}");
        assert_eq!(plan.timed[0].at, millis(3_000), "kept in time order");
    }

    #[test]
    fn a_plan_survives_a_yaml_round_trip_exactly() {
        let plan = sample();
        let yaml = plan.to_yaml();
        assert_eq!(FaultPlan::from_yaml(&yaml).expect("parses"), plan, "{yaml}");
    }

    #[test]
    fn drawn_rates_read_back_as_the_same_f64() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..2_000 {
            let rate: f64 = rng.random_range(0.01..0.1);
            let plan = FaultPlan::new().api(ApiFaults {
                error_rate: rate,
                ..ApiFaults::default()
            });
            let back = FaultPlan::from_json(&plan.to_json()).expect("parses");
            assert_eq!(back.api.expect("api").error_rate.to_bits(), rate.to_bits());
        }
    }

    fn err(json: &str) -> PlanError {
        FaultPlan::from_json(json).expect_err("a bad plan")
    }

    #[test]
    fn bad_plans_name_the_field_at_fault() {
        let e = err(r#"{"timed": [{"at": "1s", "fault": "explode", "host": "x"}]}"#);
        assert_eq!(e.field(), "timed[0].fault", "{e}");
        assert!(e.to_string().contains("explode"), "{e}");
        let e = err(r#"{"timed": [{"at": "soon", "fault": "crash", "host": "x"}]}"#);
        assert_eq!(e.field(), "timed[0]", "{e}");
        let e = err(
            r#"{"targeted": [{"fault": "fail", "match": {"verb": "updat"}, "nth": 1, "status": 409}]}"#,
        );
        assert_eq!(e.field(), "targeted[0].match.verb", "{e}");
        let e = err(
            r#"{"targeted": [{"fault": "fail", "match": {"hots": "x"}, "nth": 1, "status": 409}]}"#,
        );
        assert_eq!(e.field(), "targeted[0].match.hots", "{e}");
        let e = err(r#"{"targeted": [{"fault": "fail", "match": {}, "nth": 1, "status": 418}]}"#);
        assert_eq!(e.field(), "targeted[0]", "{e}");
        assert!(e.to_string().contains("status: 418"), "{e}");
        let e = err(
            r#"{"targeted": [{"fault": "fail", "match": {"verb": "get"}, "nth": 1, "status": 410}]}"#,
        );
        assert!(e.to_string().contains("watch or list"), "{e}");
        let e = err(r#"{"api": {"error_rate": 1.5}}"#);
        assert_eq!(e.field(), "api.error_rate", "{e}");
        let e = err(r#"{"healAt": "4s"}"#);
        assert!(e.to_string().contains("healAt"), "{e}");
        let e = err(r#"{"buggify": ["nowhere"]}"#);
        assert_eq!(e.field(), "buggify[0]", "{e}");
    }

    #[test]
    fn a_plan_naming_an_unknown_host_or_resource_does_not_fit_the_world() {
        let hosts: BTreeSet<String> = ["controller-0", "apiserver-0", "apiserver-1"]
            .map(String::from)
            .into();
        let resources = vec!["pods".to_string(), "widgets.example.com".to_string()];
        assert!(sample().check_world(&hosts, &resources).is_ok());
        let plan = FaultPlan::new().at(secs(1), FaultAction::Crash("controller-9".into()));
        let e = plan
            .check_world(&hosts, &resources)
            .expect_err("unknown host");
        assert_eq!(e.field(), "timed[0].host");
        let plan =
            FaultPlan::new().fail(Selector::new().resource("gadgets"), Every, Respond::Reset);
        let e = plan
            .check_world(&hosts, &resources)
            .expect_err("unknown resource");
        assert_eq!(e.field(), "targeted[0].match.resource");
        let plan =
            FaultPlan::new().fail(Selector::new().resource("widgets"), Every, Respond::Reset);
        assert!(
            plan.check_world(&hosts, &resources).is_ok(),
            "a plural alone names a resource"
        );
    }
}
