//! Seed sweeps on many threads: what `kubesim explore` runs, and what tests that assert over
//! hundreds of seeds call.
//!
//! Each seed runs start to finish on one thread (a run is single-threaded and deterministic);
//! threads only split the seeds, taking them in order. The result does not depend on the number
//! of threads: the failing seeds are sorted, and with [`Sweep::stop_on`] every seed before the
//! first one that stopped the sweep has been run (seeds are taken in order), so that seed is the
//! same as on one thread.

use crate::faults::FaultProfile;
use crate::oracle::names;
use crate::oracle::Violation;
use crate::run::{self, RunReport};
use crate::scenario::{Expectation, Scenario};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How to run a sweep.
#[derive(Debug, Clone, Copy)]
pub struct Sweep {
    /// Worker threads (at least one is used).
    pub jobs: usize,
    /// Fault profile of every run.
    pub faults: FaultProfile,
    /// Run each seed twice; a differing history is a `determinism` violation.
    pub check_determinism: bool,
    /// Stop taking seeds after the first one this oracle catches (a buggy scenario's sweep can
    /// end at its first catch).
    pub stop_on: Option<&'static str>,
}

impl Default for Sweep {
    /// Every core, swarm faults, one run per seed, every seed.
    fn default() -> Self {
        Self {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            faults: FaultProfile::Swarm,
            check_determinism: false,
            stop_on: None,
        }
    }
}

/// What a sweep found.
#[derive(Debug)]
pub struct Outcome {
    /// Seeds run.
    pub seeds_run: u64,
    /// Reports of the seeds that violated an oracle, by seed, without their histories.
    pub failing: Vec<RunReport>,
}

impl Outcome {
    /// Whether the sweep met `expectation`: no violation for [`Expectation::Holds`], a violation
    /// by the named oracle for [`Expectation::Caught`].
    pub fn met(&self, expectation: Expectation) -> bool {
        match expectation {
            Expectation::Holds => self.failing.is_empty(),
            Expectation::Caught(oracle) => self.first_caught_by(oracle).is_some(),
        }
    }

    /// The first seed a violation of `oracle` was found at.
    pub fn first_caught_by(&self, oracle: &str) -> Option<u64> {
        self.failing
            .iter()
            .find(|r| r.violations.iter().any(|v| v.oracle == oracle))
            .map(|r| r.seed)
    }
}

impl Sweep {
    /// Runs `seeds` of `scenario`; `on_seed` is called after each seed (a progress bar).
    pub fn run(&self, scenario: &Scenario, seeds: &[u64], on_seed: &(dyn Fn() + Sync)) -> Outcome {
        let next = AtomicUsize::new(0);
        let stop_after = AtomicUsize::new(usize::MAX);
        let ran = AtomicUsize::new(0);
        let failing = Mutex::new(Vec::new());
        // det-ok: each seed runs start to finish on one thread; threads only split the seeds.
        #[allow(clippy::disallowed_methods)]
        std::thread::scope(|scope| {
            for _ in 0..self.jobs.min(seeds.len()).max(1) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i > stop_after.load(Ordering::SeqCst) {
                        return;
                    }
                    let Some(&seed) = seeds.get(i) else { return };
                    let mut report = self.one(scenario, seed);
                    ran.fetch_add(1, Ordering::SeqCst);
                    if !report.held() {
                        let stops = self
                            .stop_on
                            .is_some_and(|o| report.violations.iter().any(|v| v.oracle == o));
                        if stops {
                            stop_after.fetch_min(i, Ordering::SeqCst);
                        }
                        report.events = Vec::new();
                        failing
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((i, report));
                    }
                    on_seed();
                });
            }
        });
        let mut failing = failing.into_inner().unwrap_or_else(|p| p.into_inner());
        failing.sort_by_key(|(i, _)| *i);
        let cut = stop_after.into_inner();
        Outcome {
            seeds_run: ran.into_inner().min(cut.saturating_add(1)) as u64,
            failing: failing
                .into_iter()
                .filter(|(i, _)| *i <= cut)
                .map(|(_, r)| r)
                .collect(),
        }
    }

    fn one(&self, scenario: &Scenario, seed: u64) -> RunReport {
        if !self.check_determinism {
            return run::run_with(scenario, seed, true, self.faults);
        }
        match run::check_determinism_with(scenario, seed, self.faults) {
            Ok(r) => r,
            Err(d) => {
                let mut r = run::run_with(scenario, seed, false, self.faults);
                r.violations.push(Violation {
                    oracle: names::DETERMINISM,
                    time_us: 0,
                    event_id: Some(d.line as u64),
                    message: d.to_string(),
                });
                r
            }
        }
    }
}
