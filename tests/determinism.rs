//! Determinism is the product: the same seed gives the same history, byte for byte; different
//! seeds explore different histories. Runs every built-in scenario over many seeds.

use kubesim::run;
use kubesim::scenario;
use std::collections::BTreeSet;

/// Seeds checked per scenario (each run twice): 50, or 25 for the long controller scenarios.
fn seeds(name: &str) -> u64 {
    if name == "api-smoke" {
        50
    } else {
        25
    }
}

#[test]
fn every_builtin_scenario_repeats_its_history_exactly_for_each_seed() {
    for sc in scenario::builtins() {
        for seed in 0..seeds(sc.name) {
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
