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

#[test]
fn a_hot_loop_run_stops_at_its_first_violation_and_replays_to_the_same_cut() {
    for name in ["hot-loop", "kr-hot-loop"] {
        let sc = scenario::find(name).expect("built in");
        let r = kubesim::run::run(&sc, 0, true);
        // The verdict is the one violation the run stopped at, recorded in the run's last step.
        assert_eq!(r.violations.len(), 1, "{name}: {:?}", r.violations);
        let v = &r.violations[0];
        assert_eq!(v.oracle, "no-hot-loop", "{name}");
        assert!(v.message.ends_with("(the run stops at its first hot loop)"));
        let last = r.events.last().expect("a history").id;
        let cut = v.event_id.expect("the violation names its event");
        assert!(
            cut <= last
                && r.events[cut as usize..]
                    .iter()
                    .all(|e| e.time_us == v.time_us)
        );
        assert!(r.sim_time_us < 90_000_000, "{name} stopped before its end");
        // Stopping is part of the seed's behaviour: a hash-only run stops at the same event.
        let again = kubesim::run::run(&sc, 0, false);
        assert_eq!((again.hash, again.event_count), (r.hash, r.event_count));
        // The fixed twin, which never loops, runs to its end.
        let fixed = scenario::find(&format!("{name}-fixed")).expect("its twin");
        let f = kubesim::run::run(&fixed, 0, true);
        assert!(f.held(), "{:?}", f.violations);
        assert_eq!(f.sim_time_us, 90_000_000);
    }
}
