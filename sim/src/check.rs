//! The entry point for a user's own tests: `kubesim::check(scenario).seeds(0..500).run()`.
//!
//! Runs the scenario over the seeds; on the first violation it panics with the oracle, the
//! simulated time, the history event id, the last history lines, the fault plan (with the API
//! error rates it injected) and the one-line commands that replay the seed:
//! `KUBESIM_SEED=N cargo test -p PKG --test FILE -- TEST --exact --nocapture --include-ignored`
//! (which reruns only that seed of only that test and prints its whole history), and
//! `kubesim replay NAME --seed N` for built-in scenarios.
//!
//! The determinism guard (FoundationDB reruns 5% of its simulations): every
//! [`RERUN_EVERY`]-th seed (the first one included) runs twice, and a second run whose history
//! differs fails the check with the first differing line, so a user crate that is not
//! deterministic (a wall clock, an unseeded RNG, a real thread) is told so instead of producing
//! seeds that do not replay. A build without `--cfg tokio_unstable` is refused before any seed
//! runs, with the fix in the message.

use crate::faults::FaultProfile;
use crate::history;
use crate::plan::FaultPlan;
use crate::run::{self, RunReport};
use crate::scenario::{self, Scenario};
use crate::shrink;
use std::ops::Range;

/// Environment variable that pins a check to one seed (and prints its full history).
pub const SEED_VAR: &str = "KUBESIM_SEED";

/// History lines shown with a violation.
const TAIL_LINES: usize = 30;

/// One seed in this many is run twice and its two histories compared (the first seed always).
pub const RERUN_EVERY: usize = 20;

/// A sweep of one scenario, built by [`check`].
#[derive(Clone)]
pub struct Check {
    scenario: Scenario,
    seeds: Range<u64>,
    faults: FaultProfile,
    rerun_every: usize,
    caller: &'static std::panic::Location<'static>,
    plan: Option<FaultPlan>,
    shrink_runs: usize,
}

/// Candidate runs the failure report spends shrinking a failing seed's fault plan by default.
pub const SHRINK_RUNS: usize = 64;

/// Starts a check of `scenario` (default: seeds `0..100`, swarm faults, every
/// [`RERUN_EVERY`]-th seed run twice).
#[track_caller]
pub fn check(scenario: Scenario) -> Check {
    Check {
        scenario,
        seeds: 0..100,
        faults: FaultProfile::Swarm,
        rerun_every: RERUN_EVERY,
        caller: std::panic::Location::caller(),
        plan: None,
        shrink_runs: SHRINK_RUNS,
    }
}

impl Check {
    /// The seeds to run.
    pub fn seeds(mut self, seeds: Range<u64>) -> Self {
        self.seeds = seeds;
        self
    }

    /// The fault profile.
    pub fn faults(mut self, faults: FaultProfile) -> Self {
        self.faults = faults;
        self
    }

    /// Runs `plan`'s faults instead of drawing them, on every seed ([`FaultPlan`]: timed,
    /// targeted, API rates, BUGGIFY points).
    pub fn plan(mut self, plan: FaultPlan) -> Self {
        self.plan = Some(plan);
        self
    }

    /// Spends at most `runs` candidate runs shrinking a failing seed's fault plan for the
    /// report (`0`: do not shrink). Default [`SHRINK_RUNS`].
    pub fn shrink_runs(mut self, runs: usize) -> Self {
        self.shrink_runs = runs;
        self
    }

    /// Runs every `n`-th seed twice to compare histories (`0`: never; `1`: every seed).
    pub fn rerun_every(mut self, n: usize) -> Self {
        self.rerun_every = n;
        self
    }

    /// Runs every seed (or only `KUBESIM_SEED`), panicking with a replayable report on the first
    /// violation. Returns the reports of the seeds run.
    pub fn run(self) -> Vec<RunReport> {
        let pinned = std::env::var(SEED_VAR)
            .ok()
            .map(|v| crate::seed::parse(&v).unwrap_or_else(|e| panic!("{SEED_VAR}: {e}")));
        let seeds: Vec<u64> = match pinned {
            Some(s) => vec![s],
            None => self.seeds.clone().collect(),
        };
        if let Err(e) = crate::determinism::build_check() {
            panic!("kubesim: {e}");
        }
        let mut reports = Vec::new();
        for (i, seed) in seeds.into_iter().enumerate() {
            let report = self.run_one(seed);
            if pinned.is_some() {
                print!("{}", history::to_text(&report.events));
            }
            if !report.held() {
                panic!("{}", self.describe(&report));
            }
            if self.rerun_every > 0 && i % self.rerun_every == 0 {
                let again = self.run_one(seed);
                if let Some(d) = run::divergence(seed, &report, &again) {
                    panic!(
                        "kubesim: scenario {} is not deterministic: {d}\n{}",
                        report.scenario, NONDETERMINISM_HINT
                    );
                }
            }
            reports.push(RunReport {
                events: Vec::new(),
                ..report
            });
        }
        reports
    }

    /// One run of `seed`, with the plan if one is set (a plan that does not fit the scenario
    /// fails the check with the field it names).
    fn run_one(&self, seed: u64) -> RunReport {
        match &self.plan {
            None => run::run_with(&self.scenario, seed, true, self.faults),
            Some(plan) => run::run_with_plan(&self.scenario, seed, true, self.faults, plan)
                .unwrap_or_else(|e| panic!("kubesim: the fault plan does not fit: {e}")),
        }
    }

    /// The shrunk fault plan of a failing seed, as the report shows it.
    fn shrunk(&self, seed: u64) -> String {
        if self.shrink_runs == 0 {
            return String::new();
        }
        let opts = shrink::ShrinkOptions {
            faults: self.faults,
            plan: self.plan.clone(),
            max_runs: self.shrink_runs,
            ..shrink::ShrinkOptions::default()
        };
        match shrink::shrink_with(&self.scenario, seed, opts) {
            Ok(s) => format!(
                "shrunk fault plan ({} of {} faults kept, {} runs; save it and pass it to \
                 `check(..).plan(FaultPlan::load(FILE)?)`, or for a built-in scenario `{}`):\n{}",
                s.kept,
                s.drawn,
                s.runs,
                s.replay_command("FILE"),
                s.plan.to_json()
            ),
            Err(e) => format!("shrinking: {e}\n"),
        }
    }

    /// The command that reruns only the calling test at `seed`.
    fn replay_command(&self, seed: u64) -> String {
        let test = std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .map(str::to_string);
        let package = std::env::var("CARGO_PKG_NAME")
            .map(|p| format!(" -p {p}"))
            .unwrap_or_default();
        let target = test_target(self.caller.file());
        match test {
            Some(t) => format!(
                "{SEED_VAR}={seed} cargo test{package}{target} -- {t} --exact --nocapture --include-ignored"
            ),
            None => format!("{SEED_VAR}={seed} cargo test{package}{target}"),
        }
    }

    /// The failure report of a violating run.
    fn describe(&self, report: &RunReport) -> String {
        let mut out = format!(
            "kubesim: scenario {} seed {} violated {} oracle(s):\n",
            report.scenario,
            report.seed,
            report.violations.len()
        );
        for v in &report.violations {
            out.push_str(&format!("  {v}\n"));
        }
        if !report.faults.is_empty() {
            out.push_str(&format!("faults: {}\n", report.faults.join("; ")));
        }
        let tail = &report.events[report.events.len().saturating_sub(TAIL_LINES)..];
        out.push_str(&format!("last {} history lines:\n", tail.len()));
        out.push_str(&history::to_text(tail));
        out.push_str(&self.shrunk(report.seed));
        out.push_str(&format!("replay: {}\n", self.replay_command(report.seed)));
        if scenario::find(report.scenario).is_some() {
            out.push_str(&format!(
                "replay: kubesim replay {} --seed {} --trace\n",
                report.scenario, report.seed
            ));
        }
        out
    }
}

/// What makes a user crate's runs differ, said with the divergence.
const NONDETERMINISM_HINT: &str = "the same seed must give the same history: look for a wall clock \
    (std::time::SystemTime/Instant instead of tokio::time), an RNG not seeded from the host's seed, \
    an OS thread or a real socket in the code under test";

/// The `cargo test` target selection for a test written in `file` (as `Location::file` spells
/// it): ` --test NAME` for an integration test (`tests/NAME.rs`, `tests/NAME/main.rs`), ` --lib`
/// for a unit test under `src/`, nothing when unknown.
fn test_target(file: &str) -> String {
    let path = std::path::Path::new(file);
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    match parts.iter().position(|p| *p == "tests") {
        Some(i) if i + 1 < parts.len() => {
            let name = parts[i + 1].trim_end_matches(".rs");
            format!(" --test {name}")
        }
        _ if parts.contains(&"src") => " --lib".to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holding_scenario_passes_and_reports_each_seed() {
        let sc = scenario::find("api-smoke").expect("built in");
        let reports = check(sc).seeds(0..2).run();
        assert_eq!(
            reports.iter().map(|r| r.seed).collect::<Vec<_>>(),
            vec![0, 1]
        );
    }

    #[test]
    fn a_violation_panics_with_the_oracle_the_history_tail_and_the_replay_commands() {
        let sc = scenario::find("split-brain").expect("built in");
        let err = std::panic::catch_unwind(|| check(sc).seeds(0..5).run())
            .expect_err("split-brain is caught within 5 seeds");
        let msg = err
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(msg.contains("single-writer"), "{msg}");
        assert!(msg.contains("last 30 history lines"), "{msg}");
        assert!(msg.contains("KUBESIM_SEED="), "{msg}");
        assert!(
            msg.contains(" --lib -- "),
            "a unit test replays with --lib: {msg}"
        );
        assert!(msg.contains("--include-ignored"), "{msg}");
        assert!(msg.contains("shrunk fault plan"), "{msg}");
        assert!(msg.contains("kubesim replay split-brain --seed"), "{msg}");
    }

    #[test]
    fn the_replay_command_names_the_integration_test_file_or_the_lib() {
        assert_eq!(test_target("tests/my_bugs.rs"), " --test my_bugs");
        assert_eq!(
            test_target("tests/user_bugs/hot_loop.rs"),
            " --test user_bugs"
        );
        assert_eq!(test_target("/home/u/op/tests/e2e.rs"), " --test e2e");
        assert_eq!(test_target("sim/src/check.rs"), " --lib");
        assert_eq!(test_target("build.rs"), "");
    }

    #[test]
    fn a_deterministic_scenario_passes_the_rerun_of_every_seed() {
        let sc = scenario::find("api-smoke").expect("built in");
        let reports = check(sc).seeds(3..5).rerun_every(1).run();
        assert_eq!(reports.len(), 2);
    }
}
