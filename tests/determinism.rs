//! Determinism is the product: the same seed gives the same history, byte for byte; different
//! seeds explore different histories. Every built-in scenario is run twice per seed within one
//! process (as `explore --check-determinism` does) and in two separate processes (as a replay on
//! another machine does).

use kubesim::run;
use kubesim::scenario;
use kubesim::sweep::Sweep;
use std::collections::BTreeSet;

/// Seeds of `api-smoke` checked in one process (each run twice).
const SMOKE_SEEDS: u64 = 50;
/// Seeds of every other scenario checked in one process (each run twice).
const SEEDS: u64 = 20;

/// Seeds of every scenario checked across processes (each run twice).
const PROCESS_SEEDS: u64 = 3;

/// Runs each seed of every scenario `filter` accepts twice, on every core, and panics on the first
/// pair of differing histories.
fn check_in_process(filter: impl Fn(&str) -> bool, seeds: u64) {
    let scenarios: Vec<_> = scenario::builtins()
        .into_iter()
        .filter(|s| filter(s.name))
        .collect();
    assert!(!scenarios.is_empty(), "the filter matches a scenario");
    let sweep = Sweep {
        check_determinism: true,
        ..Sweep::default()
    };
    let seeds: Vec<u64> = (0..seeds).collect();
    for sc in scenarios {
        let outcome = sweep.run(&sc, &seeds, &|| {});
        assert_eq!(outcome.seeds_run, seeds.len() as u64);
        for r in &outcome.failing {
            if let Some(d) = r.violations.iter().find(|v| v.oracle == "determinism") {
                panic!("{} seed {}: {}", sc.name, r.seed, d.message);
            }
        }
    }
}

#[test]
fn api_smoke_repeats_its_history_exactly_for_each_seed() {
    check_in_process(|n| n == "api-smoke", SMOKE_SEEDS);
}

#[test]
fn every_other_builtin_scenario_repeats_its_history_exactly_for_each_seed() {
    check_in_process(|n| n != "api-smoke", SEEDS);
}

#[test]
fn different_seeds_give_different_api_smoke_histories() {
    let sc = scenario::find("api-smoke").expect("api-smoke is built in");
    let hashes: BTreeSet<u64> = (0..10)
        .map(|seed| run::run(&sc, seed, false).hash)
        .collect();
    assert_eq!(hashes.len(), 10, "ten seeds, ten distinct histories");
}

#[test]
fn api_smoke_holds_and_its_history_covers_every_verb() {
    let sc = scenario::find("api-smoke").expect("api-smoke is built in");
    let report = run::run(&sc, 7, true);
    assert!(report.held(), "{:?}", report.violations);
    let text = kubesim::history::to_text(&report.events);
    for needle in [
        " create ",
        " update ",
        " patch ",
        " delete ",
        " watch ",
        "commit rev=",
        "watch-send ",
    ] {
        assert!(
            text.contains(needle),
            "history of seed 7 has no {needle:?} line"
        );
    }
}

/// The hash line `kubesim run` prints for one seed, from a fresh process.
fn hash_from_process(scenario: &str, seed: u64) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["run", scenario, "--seed", &seed.to_string()])
        .output()
        .expect("the kubesim binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with(&format!("scenario {scenario} seed {seed}:")))
        .unwrap_or_else(|| panic!("no summary line in:\n{text}"))
        .to_string()
}

#[test]
fn every_builtin_scenario_repeats_its_history_exactly_across_processes() {
    for sc in scenario::builtins() {
        for seed in 0..PROCESS_SEEDS {
            let in_process = run::run(&sc, seed, false).hash;
            let (a, b) = (
                hash_from_process(sc.name, seed),
                hash_from_process(sc.name, seed),
            );
            assert_eq!(
                a, b,
                "{} seed {seed} differs between two processes",
                sc.name
            );
            assert!(
                a.ends_with(&format!("history hash {in_process:016x}")),
                "{a}"
            );
        }
    }
}
