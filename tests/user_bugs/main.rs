//! Example bugs beyond the pitfall catalogue, written as a user writes tests for an
//! own controller in an own crate: only kubesim's public kit (`kubesim::prelude`,
//! `kubesim::kit`), `kubesim_controller`, kube, k8s-openapi and kube-runtime.
//!
//! The controller under test is [`site`]: a `Site` custom resource (an app label, a replica
//! count and an image) whose controller keeps `replicas` Pods of that image and a status, under
//! the library's default faults (healed at 40 s), a workload that scales sites and changes
//! their image through the fault phase, and a user who deletes one Pod at 50 s. Each module is one ordinary
//! mistake in it, as a buggy scenario and its fixed twin, and two tests: the buggy one is caught
//! by the named oracle within its first few seeds, the fixed one holds.
//!
//! | module | the mistake | caught by |
//! |---|---|---|
//! | [`status_every_reconcile`] | a `lastReconciled` timestamp written to status on every reconcile | `quiescence` |
//! | [`requeue_zero`] | kube-runtime `Action::requeue(Duration::ZERO)` on success | `no-hot-loop` |
//! | [`swallowed_conflict`] | a 409 on a conditional write (status, Pod image) returns `Ok` without a requeue | `converges` |
//! | [`label_fight`] | children selected and named by an app label only: two parents fight | `quiescence` |
//! | [`workers_before_leadership`] | the controller started beside leader election, not under it | `single-writer` |
//! | [`detached_watch`] | a readiness watch per reconcile on a detached `tokio::spawn` task | `no-leaked-streams` |
//! | [`never_forget`] | polling with `Action::requeue()` on success: the backoff is never forgotten | `converges` (deadline) |
//!
//! Seeds: in CI a buggy variant must be caught within its first `CAUGHT_WITHIN` seeds and a
//! fixed twin hold over [`FIXED_SEEDS`]. `KUBESIM_USER_BUGS_SEEDS=300` runs every variant over
//! that many seeds and prints, for the buggy ones, how many seeds the oracle caught, the first,
//! and the wall time to the first catch:
//!
//! ```text
//! KUBESIM_USER_BUGS_SEEDS=300 cargo test --release --test user_bugs -- --nocapture --test-threads 1
//! ```

#![forbid(unsafe_code)]

mod detached_watch;
mod label_fight;
mod never_forget;
mod requeue_zero;
mod site;
mod status_every_reconcile;
mod swallowed_conflict;
mod workers_before_leadership;

use kubesim::prelude::*;

/// Seeds a fixed twin must hold over in CI.
pub const FIXED_SEEDS: u64 = 30;

/// The environment variable that asks for a long run over that many seeds.
pub const SEEDS_VAR: &str = "KUBESIM_USER_BUGS_SEEDS";

/// The long run's seed count, if asked for.
fn long_run() -> Option<u64> {
    let v = std::env::var(SEEDS_VAR).ok()?;
    Some(
        kubesim::seed::parse(&v)
            .unwrap_or_else(|e| panic!("{SEEDS_VAR}: {e}"))
            .max(1),
    )
}

/// The oracle a buggy scenario is expected to be caught by.
fn named_oracle(scenario: &Scenario) -> &'static str {
    match scenario.expectation {
        Expectation::Caught(oracle) => oracle,
        Expectation::Holds => panic!("{} is expected to hold, not to be caught", scenario.name),
    }
}

/// Asserts that `scenario` is caught by its named oracle within its first `within` seeds (in a
/// long run: within the long run's seeds, printing the figures of the README table).
pub fn assert_caught_within(scenario: &Scenario, within: u64) {
    let oracle = named_oracle(scenario);
    if let Some(n) = long_run() {
        return measure_caught(scenario, oracle, n);
    }
    let sweep = Sweep {
        stop_on: Some(oracle),
        ..Sweep::default()
    };
    let seeds: Vec<u64> = (0..within).collect();
    let outcome = sweep.run(scenario, &seeds, &|| {});
    let first = outcome.first_caught_by(oracle);
    assert!(
        first.is_some(),
        "{} was not caught by {oracle} within {within} seeds; other violations: {:?}",
        scenario.name,
        outcome.failing.first().map(|r| &r.violations)
    );
    eprintln!("{}: caught by {oracle} at seed {first:?}", scenario.name);
}

/// Asserts that `scenario` holds over [`FIXED_SEEDS`] seeds (or the long run's).
pub fn assert_holds(scenario: &Scenario) {
    assert_eq!(
        scenario.expectation,
        Expectation::Holds,
        "{}",
        scenario.name
    );
    let n = long_run().unwrap_or(FIXED_SEEDS);
    let seeds: Vec<u64> = (0..n).collect();
    let started = wall_clock();
    let outcome = Sweep::default().run(scenario, &seeds, &|| {});
    if let Some(r) = outcome.failing.first() {
        panic!(
            "{} seed {} ({} of {n} seeds violate): {:#?}\nfaults: {}\nreplay: KUBESIM_SEED={} with kubesim::check",
            scenario.name,
            r.seed,
            outcome.failing.len(),
            r.violations,
            r.faults.join("; "),
            r.seed
        );
    }
    eprintln!(
        "{}: held over {n} seeds in {:.1} s",
        scenario.name,
        started.elapsed().as_secs_f64()
    );
}

/// The long run of a buggy scenario: every seed, the number the oracle caught, the first, and
/// the wall time of a one-thread sweep up to that first catch.
fn measure_caught(scenario: &Scenario, oracle: &'static str, n: u64) {
    let seeds: Vec<u64> = (0..n).collect();
    let started = wall_clock();
    let outcome = Sweep::default().run(scenario, &seeds, &|| {});
    let all = started.elapsed().as_secs_f64();
    let caught: Vec<u64> = outcome
        .failing
        .iter()
        .filter(|r| r.violations.iter().any(|v| v.oracle == oracle))
        .map(|r| r.seed)
        .collect();
    let first = *caught.first().unwrap_or_else(|| {
        panic!(
            "{} was not caught by {oracle} within {n} seeds; other violations: {:?}",
            scenario.name,
            outcome.failing.first().map(|r| &r.violations)
        )
    });
    let example = outcome
        .failing
        .iter()
        .find(|r| r.seed == first)
        .and_then(|r| r.violations.iter().find(|v| v.oracle == oracle))
        .map(|v| v.message.clone())
        .unwrap_or_default();
    let to_first = wall_clock();
    let one_thread = Sweep {
        jobs: 1,
        stop_on: Some(oracle),
        ..Sweep::default()
    };
    let upto: Vec<u64> = (0..=first).collect();
    one_thread.run(scenario, &upto, &|| {});
    let to_first = to_first.elapsed().as_secs_f64();
    eprintln!(
        "FIGURES {} | {oracle} | {} / {n} | first seed {first} | {to_first:.2} s to first catch | \
         {} seeds violating any oracle | {all:.1} s for {n} seeds\n  e.g. {example}",
        scenario.name,
        caught.len(),
        outcome.failing.len(),
    );
}

/// Wall time, for the figures printed by a long run only (nothing asserts on it).
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
fn wall_clock() -> std::time::Instant {
    std::time::Instant::now() // det-ok: measures the test, outside any simulated world
}

/// Every scenario of this crate, buggy then fixed, bug by bug.
fn scenarios() -> Vec<Scenario> {
    vec![
        status_every_reconcile::buggy(),
        status_every_reconcile::fixed(),
        requeue_zero::buggy(),
        requeue_zero::fixed(),
        swallowed_conflict::buggy(),
        swallowed_conflict::fixed(),
        label_fight::buggy(),
        label_fight::fixed(),
        workers_before_leadership::buggy(),
        workers_before_leadership::fixed(),
        detached_watch::buggy(),
        detached_watch::fixed(),
        never_forget::buggy(),
        never_forget::fixed(),
    ]
}

/// The scenario a replay names.
const SCENARIO_VAR: &str = "KUBESIM_SCENARIO";

#[test]
#[ignore = "replays one seed: KUBESIM_SCENARIO=NAME KUBESIM_SEED=N, prints its whole history"]
fn one_seed_of_a_named_scenario_replays_with_its_whole_history() {
    let name = std::env::var(SCENARIO_VAR).unwrap_or_else(|_| panic!("set {SCENARIO_VAR}"));
    let scenario = scenarios()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"));
    check(scenario).seeds(0..1).run();
}

#[test]
fn every_bug_comes_with_a_fixed_twin_and_a_named_oracle() {
    let all = scenarios();
    for pair in all.chunks(2) {
        let (buggy, fixed) = (&pair[0], &pair[1]);
        assert!(!named_oracle(buggy).is_empty());
        assert_eq!(fixed.name, format!("{}-fixed", buggy.name));
        assert_eq!(fixed.expectation, Expectation::Holds);
    }
}
