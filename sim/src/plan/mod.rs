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
//! use kubesim::faults::FaultAction;
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

pub mod api;
pub mod check;
pub mod error;
pub mod file;
pub mod targeted;
pub mod time;
pub mod timed;

pub use api::{ApiFaults, Conflicts};
pub use error::PlanError;
pub use targeted::{Action, Every, Nth, Respond, Selector, TargetedFault, Which};
pub use timed::Timed;

use crate::faults::FaultAction;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
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
