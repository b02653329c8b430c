//! Shrinking a failing seed's fault plan: the smallest set of faults that still trips the same
//! oracle, by delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating
//! Failure-Inducing Input", TSE 2002: `ddmin`, which returns a 1-minimal subset: dropping any
//! one more unit makes the failure go away).
//!
//! The units are the plan's faults, each with what undoes it: a partition with its repair, a
//! crash with its restart, a compaction, a crash after writes, each API fault rate on its own
//! (errors, slow responses, watch drops, the conflict window), each targeted fault, each BUGGIFY
//! point the run enabled. Heals that undo nothing (a repair or restart with no fault before it)
//! stay; the heal of the API faults stays while one API rate does. Every candidate runs the same
//! seed with the candidate plan as an override ([`crate::run::run_with_plan`]), so everything
//! but the faults (latencies, cache lags, the workload, clocks) stays the seed's.
//!
//! ```no_run
//! let scenario = kubesim::scenario::find("ignore-conflict").unwrap();
//! let shrunk = kubesim::shrink::shrink(&scenario, 0, kubesim::faults::FaultProfile::Swarm).unwrap();
//! println!("{} of {} faults kept, {} runs", shrunk.kept, shrunk.drawn, shrunk.runs);
//! println!("{}", shrunk.plan.to_json());
//! ```

use crate::faults::{FaultAction, FaultProfile};
use crate::oracle::Violation;
use crate::plan::FaultPlan;
use crate::run::{self, RunReport};
use crate::scenario::{Expectation, Scenario};
use std::collections::{BTreeMap, BTreeSet};

/// Settings of a shrink.
#[derive(Debug, Clone)]
pub struct ShrinkOptions {
    /// The fault profile the seed failed under.
    pub faults: FaultProfile,
    /// The oracle to keep tripping; `None`: the scenario's expected oracle when the run tripped
    /// it, else the run's first violation.
    pub oracle: Option<String>,
    /// The plan to shrink instead of the one the seed draws (`kubesim shrink --plan`).
    pub plan: Option<FaultPlan>,
    /// At most this many candidate runs (the best plan so far is returned when it is reached).
    pub max_runs: usize,
}

impl Default for ShrinkOptions {
    fn default() -> Self {
        Self {
            faults: FaultProfile::Swarm,
            oracle: None,
            plan: None,
            max_runs: 500,
        }
    }
}

/// A shrunk plan and how it was found.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The scenario.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// The oracle the shrunk plan still trips.
    pub oracle: String,
    /// The plan the seed drew (or was given).
    pub original: FaultPlan,
    /// The shrunk plan.
    pub plan: FaultPlan,
    /// Faults in the original plan ([`FaultPlan::fault_count`]).
    pub drawn: usize,
    /// Faults the shrunk plan keeps.
    pub kept: usize,
    /// Runs made, the first (the seed as drawn) included.
    pub runs: usize,
    /// Whether the run budget ran out before the plan was 1-minimal.
    pub budget_exhausted: bool,
    /// The violation the shrunk plan's run reports.
    pub violation: Violation,
    /// The history hash of the shrunk plan's run.
    pub hash: u64,
}

impl Shrunk {
    /// The command that replays the shrunk plan saved as `file`.
    pub fn replay_command(&self, file: &str) -> String {
        format!(
            "kubesim run {} --seed {} --plan {file}",
            self.scenario, self.seed
        )
    }
}

/// Why a seed could not be shrunk.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    /// The seed violated nothing: there is nothing to shrink.
    #[error("scenario {scenario} seed {seed} held: nothing to shrink")]
    Held {
        /// The scenario.
        scenario: &'static str,
        /// The seed.
        seed: u64,
    },
    /// The seed violated other oracles than the one asked for.
    #[error("scenario {scenario} seed {seed} did not trip {oracle} (it tripped {tripped})")]
    OtherOracle {
        /// The scenario.
        scenario: &'static str,
        /// The seed.
        seed: u64,
        /// The oracle asked for.
        oracle: String,
        /// The oracles it tripped.
        tripped: String,
    },
    /// The world could not be built, so no plan was drawn.
    #[error("scenario {scenario} seed {seed}: no fault plan ({message})")]
    NoPlan {
        /// The scenario.
        scenario: &'static str,
        /// The seed.
        seed: u64,
        /// The run's error.
        message: String,
    },
    /// The given plan does not fit the scenario.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// The drawn plan, run as a plan, no longer trips the oracle: the plan does not capture
    /// every fault of the run, or the scenario is not deterministic.
    #[error("scenario {scenario} seed {seed}: its own plan, replayed, does not trip {oracle} (history hash {drawn:016x}, replayed {replayed:016x})")]
    NotReplayed {
        /// The scenario.
        scenario: &'static str,
        /// The seed.
        seed: u64,
        /// The oracle.
        oracle: String,
        /// Hash of the seed's run.
        drawn: u64,
        /// Hash of the replay.
        replayed: u64,
    },
}

/// Shrinks the fault plan of `seed` of `scenario` under profile `faults` to a 1-minimal set
/// of faults that still trips the same oracle.
pub fn shrink(scenario: &Scenario, seed: u64, faults: FaultProfile) -> Result<Shrunk, ShrinkError> {
    shrink_with(
        scenario,
        seed,
        ShrinkOptions {
            faults,
            ..ShrinkOptions::default()
        },
    )
}

/// [`shrink`] with options: a given oracle or plan, a run budget.
pub fn shrink_with(
    scenario: &Scenario,
    seed: u64,
    opts: ShrinkOptions,
) -> Result<Shrunk, ShrinkError> {
    let first = match &opts.plan {
        Some(plan) => run::run_with_plan(scenario, seed, true, opts.faults, plan)?,
        None => run::run_with(scenario, seed, true, opts.faults),
    };
    if first.held() {
        return Err(ShrinkError::Held {
            scenario: scenario.name,
            seed,
        });
    }
    let oracle = pick_oracle(scenario, &first, opts.oracle.as_deref()).ok_or_else(|| {
        ShrinkError::OtherOracle {
            scenario: scenario.name,
            seed,
            oracle: opts.oracle.clone().unwrap_or_default(),
            tripped: oracles(&first),
        }
    })?;
    let original = first.plan.clone().ok_or_else(|| ShrinkError::NoPlan {
        scenario: scenario.name,
        seed,
        message: first
            .violations
            .first()
            .map(|v| v.message.clone())
            .unwrap_or_default(),
    })?;
    let units = Units::of(&original);
    let mut runs = 1;
    let mut budget_exhausted = false;
    let mut cache: BTreeMap<Vec<usize>, Option<(Violation, u64)>> = BTreeMap::new();
    let mut trips = |kept: &[usize]| -> Result<bool, ShrinkError> {
        if let Some(r) = cache.get(kept) {
            return Ok(r.is_some());
        }
        if runs >= opts.max_runs {
            budget_exhausted = true;
            return Ok(false);
        }
        runs += 1;
        let plan = units.plan(kept);
        let report = run::run_with_plan(scenario, seed, true, opts.faults, &plan)?;
        let hit = report
            .violations
            .iter()
            .find(|v| v.oracle == oracle)
            .map(|v| (v.clone(), report.hash));
        cache.insert(kept.to_vec(), hit.clone());
        Ok(hit.is_some())
    };
    let all: Vec<usize> = (0..units.len()).collect();
    // The drawn plan, replayed as a plan, must fail as the seed did.
    if !trips(&all)? {
        let replayed = run::run_with_plan(scenario, seed, false, opts.faults, &units.plan(&all))?;
        return Err(ShrinkError::NotReplayed {
            scenario: scenario.name,
            seed,
            oracle,
            drawn: first.hash,
            replayed: replayed.hash,
        });
    }
    let kept = if trips(&[])? {
        Vec::new()
    } else {
        ddmin(all, &mut trips)?
    };
    let (violation, hash) = cache
        .get(&kept)
        .cloned()
        .flatten()
        .expect("invariant: ddmin returns a subset that was run and tripped the oracle");
    let mut plan = units.plan(&kept);
    plan.scenario = Some(scenario.name.to_string());
    plan.seed = Some(seed);
    Ok(Shrunk {
        scenario: scenario.name,
        seed,
        oracle,
        drawn: original.fault_count(),
        kept: plan.fault_count(),
        original,
        plan,
        runs,
        budget_exhausted,
        violation,
        hash,
    })
}

fn oracles(r: &RunReport) -> String {
    let names: BTreeSet<&str> = r.violations.iter().map(|v| v.oracle).collect();
    names.into_iter().collect::<Vec<_>>().join(", ")
}

/// The oracle to keep: the one asked for, else the scenario's expected one if tripped, else
/// the first violation's.
fn pick_oracle(scenario: &Scenario, r: &RunReport, asked: Option<&str>) -> Option<String> {
    let tripped = |o: &str| r.violations.iter().any(|v| v.oracle == o);
    match asked {
        Some(o) => tripped(o).then(|| o.to_string()),
        None => match scenario.expectation {
            Expectation::Caught(o) if tripped(o) => Some(o.to_string()),
            _ => r.violations.first().map(|v| v.oracle.to_string()),
        },
    }
}

/// Delta debugging's `ddmin` over unit indices: the smallest subset it finds (1-minimal) for
/// which `trips` holds, given that it holds for `all`.
fn ddmin(
    all: Vec<usize>,
    trips: &mut impl FnMut(&[usize]) -> Result<bool, ShrinkError>,
) -> Result<Vec<usize>, ShrinkError> {
    let mut current = all;
    let mut n = 2;
    while current.len() >= 2 {
        let chunks = split(&current, n);
        let mut reduced = false;
        for chunk in &chunks {
            if trips(chunk)? {
                current = chunk.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && n > 2 {
            for i in 0..chunks.len() {
                let complement: Vec<usize> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, c)| c.iter().copied())
                    .collect();
                if trips(&complement)? {
                    current = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (2 * n).min(current.len());
        }
    }
    Ok(current)
}

/// `items` in `n` contiguous chunks of near-equal size.
fn split(items: &[usize], n: usize) -> Vec<Vec<usize>> {
    let n = n.min(items.len()).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let end = start + (items.len() - start) / (n - i);
        out.push(items[start..end].to_vec());
        start = end;
    }
    out
}

/// One unit of a plan: what ddmin keeps or drops.
#[derive(Debug, Clone, PartialEq)]
enum Unit {
    /// Timed faults kept or dropped together: a fault and the entry that undoes it.
    Timed(Vec<usize>),
    /// The API error rate.
    Errors,
    /// The slow responses.
    Slow,
    /// The watch drops.
    WatchDrops,
    /// The conflict window.
    Conflicts,
    /// A targeted fault.
    Targeted(usize),
    /// A BUGGIFY point.
    Buggify(String),
}

/// A plan cut into units.
struct Units {
    plan: FaultPlan,
    units: Vec<Unit>,
    /// Timed entries kept whatever is dropped (heals of nothing in the plan).
    always: Vec<usize>,
}

impl Units {
    fn of(plan: &FaultPlan) -> Self {
        let mut units = Vec::new();
        let mut claimed = vec![false; plan.timed.len()];
        for (i, t) in plan.timed.iter().enumerate() {
            if claimed[i] {
                continue;
            }
            let undo = |j: usize| -> bool {
                let other = &plan.timed[j].action;
                match (&t.action, other) {
                    (
                        FaultAction::Partition(a, b) | FaultAction::PartitionOneWay(a, b),
                        FaultAction::Repair(x, y),
                    ) => (a == x && b == y) || (a == y && b == x),
                    (FaultAction::Crash(h), FaultAction::Restart(r)) => h == r,
                    _ => false,
                }
            };
            match &t.action {
                FaultAction::Partition(..)
                | FaultAction::PartitionOneWay(..)
                | FaultAction::Crash(..) => {
                    let pair = (i + 1..plan.timed.len()).find(|&j| !claimed[j] && undo(j));
                    claimed[i] = true;
                    let mut group = vec![i];
                    if let Some(j) = pair {
                        claimed[j] = true;
                        group.push(j);
                    }
                    units.push(Unit::Timed(group));
                }
                FaultAction::Compact | FaultAction::CrashAfterWrites { .. } => {
                    claimed[i] = true;
                    units.push(Unit::Timed(vec![i]));
                }
                FaultAction::Repair(..) | FaultAction::Restart(..) | FaultAction::HealApiFaults => {
                }
            }
        }
        let always = (0..plan.timed.len()).filter(|&i| !claimed[i]).collect();
        if let Some(api) = &plan.api {
            if api.error_rate > 0.0 {
                units.push(Unit::Errors);
            }
            if api.slow_rate > 0.0 {
                units.push(Unit::Slow);
            }
            if api.watch_drop_rate > 0.0 {
                units.push(Unit::WatchDrops);
            }
            if api.conflicts.is_some() {
                units.push(Unit::Conflicts);
            }
        }
        units.extend((0..plan.targeted.len()).map(Unit::Targeted));
        units.extend(plan.buggify.iter().flatten().cloned().map(Unit::Buggify));
        Self {
            plan: plan.clone(),
            units,
            always,
        }
    }

    fn len(&self) -> usize {
        self.units.len()
    }

    /// The plan with only the units `kept` (indices into the units).
    fn plan(&self, kept: &[usize]) -> FaultPlan {
        let kept: Vec<&Unit> = kept.iter().map(|&i| &self.units[i]).collect();
        let has = |u: &Unit| kept.contains(&u);
        let mut plan = self.plan.clone();
        let mut timed: BTreeSet<usize> = self.always.iter().copied().collect();
        for u in &kept {
            if let Unit::Timed(group) = u {
                timed.extend(group.iter().copied());
            }
        }
        if let Some(api) = &mut plan.api {
            if !has(&Unit::Errors) {
                api.error_rate = 0.0;
            }
            if !has(&Unit::Slow) {
                api.slow_rate = 0.0;
                api.slow_max = std::time::Duration::ZERO;
            }
            if !has(&Unit::WatchDrops) {
                api.watch_drop_rate = 0.0;
            }
            if !has(&Unit::Conflicts) {
                api.conflicts = None;
            }
        }
        let api_on = plan.api.as_ref().is_some_and(|a| !a.is_none());
        if !api_on {
            plan.api = None;
        }
        plan.timed = self
            .plan
            .timed
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                timed.contains(i) && (api_on || t.action != FaultAction::HealApiFaults)
            })
            .map(|(_, t)| t.clone())
            .collect();
        plan.targeted = self
            .plan
            .targeted
            .iter()
            .enumerate()
            .filter(|(i, _)| has(&Unit::Targeted(*i)))
            .map(|(_, t)| t.clone())
            .collect();
        if let Some(points) = &mut plan.buggify {
            points.retain(|p| has(&Unit::Buggify(p.clone())));
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{millis, secs, ApiFaults};

    #[test]
    fn ddmin_finds_the_one_minimal_subset_that_fails() {
        // Fails when units 3 and 7 are both kept.
        let mut runs = 0;
        let mut trips = |s: &[usize]| -> Result<bool, ShrinkError> {
            runs += 1;
            Ok(s.contains(&3) && s.contains(&7))
        };
        let got = ddmin((0..12).collect(), &mut trips).expect("no run errors");
        assert_eq!(got, vec![3, 7]);
        assert!(runs < 40, "{runs} runs");
    }

    #[test]
    fn faults_and_what_undoes_them_are_one_unit() {
        let plan = FaultPlan::new()
            .at(secs(1), FaultAction::Partition("c".into(), "a".into()))
            .at(secs(2), FaultAction::Crash("c".into()))
            .at(secs(3), FaultAction::Repair("a".into(), "c".into()))
            .at(secs(4), FaultAction::Restart("c".into()))
            .at(secs(5), FaultAction::Restart("x".into()))
            .at(secs(6), FaultAction::Compact)
            .at(secs(40), FaultAction::HealApiFaults)
            .api(ApiFaults {
                error_rate: 0.05,
                watch_drop_rate: 0.1,
                ..ApiFaults::default()
            })
            .buggify(["a.rs:1", "b.rs:2"]);
        let units = Units::of(&plan);
        assert_eq!(
            units.units,
            vec![
                Unit::Timed(vec![0, 2]),
                Unit::Timed(vec![1, 3]),
                Unit::Timed(vec![5]),
                Unit::Errors,
                Unit::WatchDrops,
                Unit::Buggify("a.rs:1".into()),
                Unit::Buggify("b.rs:2".into()),
            ]
        );
        assert_eq!(units.plan(&(0..units.len()).collect::<Vec<_>>()), plan);
        let crash_only = units.plan(&[1]);
        let kinds: Vec<String> = crash_only.timed.iter().map(|t| t.action.text()).collect();
        assert_eq!(
            kinds,
            ["c", "c", "x"],
            "the crash, its restart, and the lone restart"
        );
        assert!(
            crash_only.api.is_none(),
            "no rate left: no API faults, no heal of them"
        );
        assert_eq!(crash_only.buggify, Some(BTreeSet::new()));
        let errors = units.plan(&[3]);
        let api = errors.api.expect("errors kept");
        assert!(api.error_rate > 0.0 && api.watch_drop_rate == 0.0);
        assert_eq!(errors.timed.last().map(|t| t.at), Some(millis(40_000)));
    }
}
