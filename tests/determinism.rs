//! Determinism is the product: the same seed gives the same history, byte for byte; different
//! seeds explore different histories. Every built-in scenario is run twice per seed within one
//! process (as `explore --check-determinism` does) and in two separate processes (as a replay on
//! another machine does).

use kubesim::run;
use kubesim::scenario;
use std::collections::BTreeSet;

/// Seeds of `api-smoke` checked in one process (each run twice).
const SMOKE_SEEDS: u64 = 50;
/// Seeds of every other scenario checked in one process (each run twice).
const SEEDS: u64 = 20;
/// Seeds of every scenario checked across processes (each run twice).
const PROCESS_SEEDS: u64 = 3;

fn check_in_process(filter: impl Fn(&str) -> bool, seeds: u64) {
    let scenarios: Vec<_> = scenario::builtins()
        .into_iter()
        .filter(|s| filter(s.name))
        .collect();
    assert!(!scenarios.is_empty(), "the filter matches a scenario");
    for sc in scenarios {
        for seed in 0..seeds {
            if let Err(d) = run::check_determinism(&sc, seed) {
                panic!("{}: {d}", sc.name);
            }
        }
    }
}

#[test]
fn api_smoke_repeats_its_history_exactly_for_each_seed() {
    check_in_process(|n| n == "api-smoke", SMOKE_SEEDS);
}

#[test]
fn replicagroup_and_its_pitfalls_repeat_their_histories_exactly_for_each_seed() {
    check_in_process(
        |n| n == "replicagroup" || n.starts_with("worker-leak"),
        SEEDS,
    );
}

#[test]
fn the_other_pitfalls_repeat_their_histories_exactly_for_each_seed() {
    check_in_process(
        |n| n.starts_with("spawn-per-event") || n.starts_with("finalizer-stuck"),
        SEEDS,
    );
}

#[test]
fn split_brain_repeats_its_history_exactly_for_each_seed() {
    check_in_process(|n| n.starts_with("split-brain"), SEEDS);
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
