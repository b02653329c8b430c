//! The entry point for a user's own tests: `kubesim::check(scenario).seeds(0..500).run()`.
//!
//! Runs the scenario over the seeds; on the first violation it panics with the oracle, the
//! simulated time, the history event id, the last history lines, the fault plan and the one-line
//! commands that replay the seed: `KUBESIM_SEED=N cargo test <this test>` (which reruns only that
//! seed and prints its whole history), and `kubesim replay NAME --seed N` for built-in scenarios.

use crate::history;
use crate::run::{self, RunReport};
use crate::scenario::{self, Scenario};
use crate::world::FaultProfile;
use std::ops::Range;

/// Environment variable that pins a check to one seed (and prints its full history).
pub const SEED_VAR: &str = "KUBESIM_SEED";

/// History lines shown with a violation.
const TAIL_LINES: usize = 30;

/// A sweep of one scenario, built by [`check`].
#[derive(Clone)]
pub struct Check {
    scenario: Scenario,
    seeds: Range<u64>,
    faults: FaultProfile,
}

/// Starts a check of `scenario` (default: seeds `0..100`, swarm faults).
pub fn check(scenario: Scenario) -> Check {
    Check {
        scenario,
        seeds: 0..100,
        faults: FaultProfile::Swarm,
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

    /// Runs every seed (or only `KUBESIM_SEED`), panicking with a replayable report on the first
    /// violation. Returns the reports of the seeds run.
    pub fn run(self) -> Vec<RunReport> {
        let pinned = std::env::var(SEED_VAR)
            .ok()
            .map(|v| crate::cli_seed(&v).unwrap_or_else(|e| panic!("{SEED_VAR}: {e}")));
        let seeds: Vec<u64> = match pinned {
            Some(s) => vec![s],
            None => self.seeds.clone().collect(),
        };
        let mut reports = Vec::new();
        for seed in seeds {
            let report = run::run_with(&self.scenario, seed, true, self.faults);
            if pinned.is_some() {
                print!("{}", history::to_text(&report.events));
            }
            if !report.held() {
                panic!("{}", self.describe(&report));
            }
            reports.push(RunReport {
                events: Vec::new(),
                ..report
            });
        }
        reports
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
        let test = std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .map(str::to_string);
        match test {
            Some(t) => out.push_str(&format!(
                "replay: {SEED_VAR}={} cargo test {t} -- --exact --nocapture\n",
                report.seed
            )),
            None => out.push_str(&format!("replay: {SEED_VAR}={} cargo test\n", report.seed)),
        }
        if scenario::find(report.scenario).is_some() {
            out.push_str(&format!(
                "replay: kubesim replay {} --seed {} --trace\n",
                report.scenario, report.seed
            ));
        }
        out
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
        assert!(msg.contains("kubesim replay split-brain --seed"), "{msg}");
    }
}
