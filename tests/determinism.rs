//! Determinism is the product: the same seed gives the same history, byte for byte; different
//! seeds explore different histories. Runs every built-in scenario over many seeds.

use kubesim::run;
use kubesim::scenario;
use std::collections::BTreeSet;

/// Seeds checked per scenario (each run twice).
const SEEDS: u64 = 50;
/// Seeds checked across processes (each run twice): 20 for the main scenarios, 3 for each
/// pitfall scenario (they share the `replicagroup` world).
fn process_seeds(name: &str) -> u64 {
    if name == "api-smoke" || name == "replicagroup" {
        20
    } else {
        3
    }
}

#[test]
fn api_smoke_repeats_its_history_exactly_for_each_seed_within_one_process() {
    for sc in scenario::builtins()
        .into_iter()
        .filter(|s| s.name == "api-smoke")
    {
        for seed in 0..SEEDS {
            if let Err(d) = run::check_determinism(&sc, seed) {
                panic!("{}: {d}", sc.name);
            }
        }
    }
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
        for seed in 0..process_seeds(sc.name) {
            let (a, b) = (
                hash_from_process(sc.name, seed),
                hash_from_process(sc.name, seed),
            );
            assert_eq!(
                a, b,
                "{} seed {seed} differs between two processes",
                sc.name
            );
        }
    }
}
