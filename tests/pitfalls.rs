//! The pitfall catalogue: every buggy scenario is caught by its named oracle within
//! [`SEEDS`] seeds, and its fixed twin holds over [`SEEDS`] seeds. Longer sweeps of the fixed
//! variants: `cargo run --release -- explore NAME-fixed --count 5000`.

use kubesim::scenario::{self, Expectation, Scenario};
use kubesim::sweep::Sweep;

/// Seeds a buggy variant must be caught within, and a fixed variant must hold over.
const SEEDS: u64 = 300;

fn pitfalls() -> Vec<Scenario> {
    let mut all = scenario::pitfalls::scenarios();
    all.extend(scenario::split_brain::scenarios());
    all
}

fn seeds() -> Vec<u64> {
    (0..SEEDS).collect()
}

#[test]
fn every_buggy_pitfall_is_caught_by_its_named_oracle_within_300_seeds() {
    let mut missed = Vec::new();
    for sc in pitfalls() {
        let Expectation::Caught(oracle) = sc.expectation else {
            continue;
        };
        let sweep = Sweep {
            stop_on: Some(oracle),
            ..Sweep::default()
        };
        let outcome = sweep.run(&sc, &seeds(), &|| {});
        match outcome.first_caught_by(oracle) {
            Some(seed) => eprintln!("{}: caught by {oracle} at seed {seed}", sc.name),
            None => missed.push(format!(
                "{} not caught by {oracle} within {SEEDS} seeds (other violations: {:?})",
                sc.name,
                outcome.failing.first().map(|r| &r.violations)
            )),
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn every_fixed_pitfall_holds_over_300_seeds() {
    let mut broken = Vec::new();
    for sc in pitfalls() {
        if sc.expectation != Expectation::Holds {
            continue;
        }
        let outcome = Sweep::default().run(&sc, &seeds(), &|| {});
        if let Some(r) = outcome.failing.first() {
            broken.push(format!(
                "{} seed {} ({} of {SEEDS} seeds violate): {:?}\n  replay: cargo run --release -- replay {} --seed {}",
                sc.name,
                r.seed,
                outcome.failing.len(),
                r.violations,
                sc.name,
                r.seed
            ));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn pitfalls_come_in_buggy_and_fixed_pairs_with_a_named_oracle() {
    let all = pitfalls();
    let names: Vec<&str> = all.iter().map(|s| s.name).collect();
    for sc in &all {
        match sc.expectation {
            Expectation::Caught(oracle) => {
                assert!(!oracle.is_empty(), "{} names no oracle", sc.name);
                assert!(
                    names.contains(&format!("{}-fixed", sc.name).as_str()),
                    "{} has no fixed twin",
                    sc.name
                );
            }
            Expectation::Holds => assert!(
                sc.name
                    .strip_suffix("-fixed")
                    .is_some_and(|buggy| names.contains(&buggy)),
                "{} is not the fixed twin of a buggy pitfall",
                sc.name
            ),
        }
    }
}
