//! The pitfall catalogue: each buggy scenario is caught by its named oracle within a few seeds,
//! and its fixed twin holds. Longer sweeps: `cargo run --release -- explore NAME --count 5000`.

use kubesim::run;
use kubesim::scenario::{self, Expectation};

/// Seeds a buggy variant must be caught within, in this test.
const CATCH_WITHIN: u64 = 20;
/// Seeds a fixed variant must hold over, in this test.
const HOLD_OVER: u64 = 8;

fn pitfalls() -> Vec<scenario::Scenario> {
    let mut all = scenario::pitfalls::scenarios();
    all.extend(scenario::split_brain::scenarios());
    all
}

#[test]
fn every_buggy_pitfall_is_caught_by_its_named_oracle() {
    for sc in pitfalls() {
        let Expectation::Caught(oracle) = sc.expectation else {
            continue;
        };
        let caught = (0..CATCH_WITHIN).find(|seed| {
            run::run(&sc, *seed, true)
                .violations
                .iter()
                .any(|v| v.oracle == oracle)
        });
        assert!(
            caught.is_some(),
            "{} was not caught by {oracle} within {CATCH_WITHIN} seeds",
            sc.name
        );
    }
}

#[test]
fn every_fixed_pitfall_holds() {
    for sc in pitfalls() {
        if sc.expectation != Expectation::Holds {
            continue;
        }
        for seed in 0..HOLD_OVER {
            let r = run::run(&sc, seed, true);
            assert!(r.held(), "{} seed {seed}: {:?}", sc.name, r.violations);
        }
    }
}

#[test]
fn pitfalls_come_in_buggy_and_fixed_pairs() {
    let names: Vec<&str> = pitfalls().iter().map(|s| s.name).collect();
    for n in names.iter().filter(|n| !n.ends_with("-fixed")) {
        assert!(
            names.contains(&format!("{n}-fixed").as_str()),
            "{n} has no fixed twin"
        );
    }
}
