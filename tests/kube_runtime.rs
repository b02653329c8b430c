//! Unmodified kube-runtime controllers are deterministic under every fault class: same seed, same
//! history, in one process (on threads that ran other seeds before) and in separate processes.

use kubesim::determinism::SetupError;
use kubesim::faults::FaultProfile;
use kubesim::history::Recorder;
use kubesim::scenario;
use kubesim::sweep::Sweep;
use kubesim::world::{World, WorldConfig};

/// Seeds swept twice each in CI (`KUBESIM_KR_SEEDS` for more; 1,000 measured in the README).
fn seeds() -> u64 {
    std::env::var("KUBESIM_KR_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

#[test]
fn the_kube_runtime_scenario_repeats_its_history_exactly_under_swarm_and_default_faults() {
    let sc = scenario::find("kube-runtime").expect("built in");
    let seeds: Vec<u64> = (0..seeds()).collect();
    for faults in [FaultProfile::Swarm, FaultProfile::Default] {
        let sweep = Sweep {
            check_determinism: true,
            faults,
            ..Sweep::default()
        };
        let outcome = sweep.run(&sc, &seeds, &|| {});
        assert_eq!(outcome.seeds_run, seeds.len() as u64);
        assert!(
            outcome.failing.is_empty(),
            "{faults:?}: seed {} {}",
            outcome.failing[0].seed,
            outcome.failing[0].violations[0]
        );
    }
}

#[test]
fn the_kube_runtime_scenario_history_differs_between_seeds() {
    let sc = scenario::find("kube-runtime").expect("built in");
    let a = kubesim::run::run(&sc, 1, false).hash;
    let b = kubesim::run::run(&sc, 2, false).hash;
    assert_ne!(a, b);
}

#[test]
fn a_second_world_on_one_thread_is_refused_with_the_fix_in_the_message() {
    kubesim::isolated(|| {
        let first = World::try_new(1, WorldConfig::default(), Recorder::new());
        assert!(first.is_ok());
        drop(first);
        let second = World::try_new(2, WorldConfig::default(), Recorder::new());
        let err = second.err().expect("a reused thread is refused");
        assert_eq!(err, SetupError::ThreadReused);
        assert!(err.to_string().contains("kubesim::isolated"), "{err}");
    });
}

#[test]
fn a_thread_that_used_a_std_hashmap_first_is_refused() {
    kubesim::isolated(|| {
        #[allow(clippy::disallowed_types)]
        let mut m = std::collections::HashMap::new();
        m.insert(1, 2);
        let err = World::try_new(1, WorldConfig::default(), Recorder::new())
            .err()
            .expect("refused");
        assert_eq!(err, SetupError::ThreadReused);
    });
}

#[test]
fn this_build_has_tokio_unstable_and_the_interposition_linked() {
    assert!(kubesim_interpose::linked());
    assert!(kubesim::determinism::prepare().is_ok());
    kubesim::isolated(|| {
        World::try_new(3, WorldConfig::default(), Recorder::new()).expect("this build is set up");
    });
}

#[test]
fn the_missing_tokio_unstable_error_names_the_fix() {
    let text = SetupError::MissingTokioUnstable.to_string();
    assert!(text.contains("--cfg tokio_unstable"), "{text}");
    assert!(text.contains(".cargo/config.toml"), "{text}");
    assert!(text.contains("RUSTFLAGS"), "{text}");
}
