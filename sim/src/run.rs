//! Running one seed of a scenario, and the determinism self-check.

use crate::faults::FaultProfile;
use crate::history::{self, Recorder};
use crate::oracle::names;
use crate::oracle::{self, Violation};
use crate::plan::{FaultPlan, PlanError};
use crate::scenario::Scenario;
use crate::world::World;
use kubesim_model::HistoryEvent;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: &'static str,
    /// The seed.
    pub seed: u64,
    /// The history hash.
    pub hash: u64,
    /// Number of history events.
    pub event_count: u64,
    /// The events (empty when the run kept only the hash).
    pub events: Vec<HistoryEvent>,
    /// Oracle violations; a run error (a host failed, or the run did not finish) is one too.
    pub violations: Vec<Violation>,
    /// Simulated time the run took, microseconds.
    pub sim_time_us: u64,
    /// The fault plan drawn for the seed.
    pub faults: Vec<String>,
    /// The same plan as data (with the BUGGIFY points the run enabled): running it with
    /// [`run_with_plan`] repeats the run. `None` when the world could not be built.
    pub plan: Option<FaultPlan>,
}

impl RunReport {
    /// No oracle was violated.
    pub fn held(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Runs `scenario` with `seed` under the swarm fault profile. `keep_history` keeps every event
/// (else only the hash and count).
pub fn run(scenario: &Scenario, seed: u64, keep_history: bool) -> RunReport {
    run_with(scenario, seed, keep_history, FaultProfile::Swarm)
}

/// Runs `scenario` with `seed` under fault profile `faults`, on a fresh thread of its own
/// ([`crate::determinism`]: std's hash keys are the seed's only on a thread that has not used
/// them).
pub fn run_with(
    scenario: &Scenario,
    seed: u64,
    keep_history: bool,
    faults: FaultProfile,
) -> RunReport {
    crate::determinism::isolated(|| run_here(scenario, seed, keep_history, faults, None))
        .expect("invariant: a run without a fault plan has no plan error")
}

/// [`run_with`], with `plan`'s faults instead of those the scenario would draw or schedule
/// ([`World::override_fault_plan`]); every other seeded choice stays the seed's. A plan that
/// does not fit the scenario's world (an unknown host or resource) is an error.
pub fn run_with_plan(
    scenario: &Scenario,
    seed: u64,
    keep_history: bool,
    faults: FaultProfile,
    plan: &FaultPlan,
) -> Result<RunReport, PlanError> {
    crate::determinism::isolated(|| run_here(scenario, seed, keep_history, faults, Some(plan)))
}

/// A scenario's world for a seed, set up and ready to run.
pub(crate) enum Prepared {
    /// The world, its setup done and its faults drawn or installed.
    Ready(Box<World>),
    /// The world could not be built: the report carries the `run-completes` violation.
    Unbuildable(Box<RunReport>),
}

/// Builds `scenario`'s world for `seed` on the calling thread (which must not have run a world
/// or used std's hash keys), runs its setup and installs its faults: the profile's drawn ones,
/// or `plan`'s instead. A plan that does not fit the world is an error.
pub(crate) fn prepare(
    scenario: &Scenario,
    seed: u64,
    recorder: &Recorder,
    faults: FaultProfile,
    plan: Option<&FaultPlan>,
) -> Result<Prepared, PlanError> {
    // The scenario's config draws come first from their own stream, so adding a host never
    // shifts the world settings of a seed.
    let mut config_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6b75_6265_7369_6d00);
    let config = (scenario.config)(&mut config_rng);
    let mut world = match World::try_new(seed, config, recorder.clone()) {
        Ok(world) => world,
        Err(e) => {
            return Ok(Prepared::Unbuildable(Box::new(RunReport {
                scenario: scenario.name,
                seed,
                hash: 0,
                event_count: 0,
                events: Vec::new(),
                violations: vec![Violation {
                    oracle: names::RUN_COMPLETES,
                    time_us: 0,
                    event_id: None,
                    message: e.to_string(),
                }],
                sim_time_us: 0,
                faults: Vec::new(),
                plan: None,
            })))
        }
    };
    world.set_fault_profile(faults);
    world.set_harness_heal_at(scenario.heal_at);
    if let Some(plan) = plan {
        world.override_fault_plan(plan.clone());
    }
    (scenario.setup)(&mut world);
    // Faults by default: the profile's, aimed at the scenario's controllers, unless the setup
    // drew its own.
    if let (Some(heal_at), None) = (scenario.heal_at, world.heal_at()) {
        world.draw_faults(heal_at);
    }
    if plan.is_some() {
        world.install_fault_plan_override()?;
    }
    Ok(Prepared::Ready(Box::new(world)))
}

/// [`run_with`] on the calling thread, which must not have run a world or used std's hash keys.
fn run_here(
    scenario: &Scenario,
    seed: u64,
    keep_history: bool,
    faults: FaultProfile,
    plan: Option<&FaultPlan>,
) -> Result<RunReport, PlanError> {
    let recorder = Recorder::with_retention(keep_history);
    let mut world = match prepare(scenario, seed, &recorder, faults, plan)? {
        Prepared::Ready(world) => world,
        Prepared::Unbuildable(report) => return Ok(*report),
    };
    let plan_text = world.fault_plan();
    let result = world.run();
    let sim_time_us = world.elapsed().as_micros() as u64;
    let events = recorder.events();
    let mut violations = Vec::new();
    if let Err(e) = result {
        violations.push(Violation {
            oracle: names::RUN_COMPLETES,
            time_us: sim_time_us,
            event_id: recorder.len().checked_sub(1),
            message: e.to_string(),
        });
    }
    if let (true, Some(mut tripped)) = (keep_history, recorder.tripped()) {
        // Stopped at its first hot loop (`World::stop_at_first_hot_loop`): the other oracles
        // would judge a run cut short, so that violation is the verdict.
        tripped
            .message
            .push_str(" (the run stops at its first hot loop)");
        violations.push(tripped);
    } else if keep_history {
        // The scenario's own oracles, then the library's (quiescence, leaked streams, write
        // fights), which apply to every scenario; a panicking oracle is a checker error, not a
        // crashed sweep.
        let check = format!("{} check", scenario.name);
        violations.extend(oracle::guarded(&check, &events, || {
            (scenario.check)(&world, &events)
        }));
        let library = oracle::Library {
            end_us: Some(sim_time_us),
            ..oracle::Library::default()
        };
        violations.extend(library.check(&events));
    }
    let plan = world.run_plan().map(|mut p| {
        p.scenario = Some(scenario.name.to_string());
        p.seed = Some(seed);
        p
    });
    Ok(RunReport {
        scenario: scenario.name,
        seed,
        hash: recorder.hash(),
        event_count: recorder.len(),
        events,
        violations,
        sim_time_us,
        faults: plan_text,
        plan,
    })
}

/// Two runs of one seed that did not produce the same history.
#[derive(Debug, Clone, thiserror::Error)]
#[error("seed {seed}: histories differ at line {line}:\n  first run:  {}\n  second run: {}",
    .left.as_deref().unwrap_or("(no line)"), .right.as_deref().unwrap_or("(no line)"))]
pub struct Divergence {
    /// The seed.
    pub seed: u64,
    /// Index of the first differing line.
    pub line: usize,
    /// That line in the first run.
    pub left: Option<String>,
    /// That line in the second run.
    pub right: Option<String>,
}

/// Runs `seed` twice and compares the histories; on a mismatch, names the first differing line.
pub fn check_determinism(scenario: &Scenario, seed: u64) -> Result<RunReport, Divergence> {
    check_determinism_with(scenario, seed, FaultProfile::Swarm)
}

/// [`check_determinism`] under fault profile `faults`.
pub fn check_determinism_with(
    scenario: &Scenario,
    seed: u64,
    faults: FaultProfile,
) -> Result<RunReport, Divergence> {
    let a = run_with(scenario, seed, true, faults);
    let b = run_with(scenario, seed, true, faults);
    match divergence(seed, &a, &b) {
        None => Ok(a),
        Some(d) => Err(d),
    }
}

/// Where two runs of `seed` (with their histories kept) differ, if they do.
pub fn divergence(seed: u64, a: &RunReport, b: &RunReport) -> Option<Divergence> {
    if a.hash == b.hash && a.event_count == b.event_count {
        return None;
    }
    let (line, left, right) = history::first_difference(&a.events, &b.events).unwrap_or((
        a.events.len().min(b.events.len()),
        None,
        None,
    ));
    Some(Divergence {
        seed,
        line,
        left,
        right,
    })
}
