//! BUGGIFY fault points (FoundationDB): `kubesim::buggify!()` in controller or test code is
//! `false` outside a simulation run. Inside one, each fault point (file and line) is enabled for
//! the run with probability 1/4, drawn from the seed the first time it is reached, and an enabled
//! point fires with probability 1/4 each time. Code under test uses it to take rare paths on
//! purpose: `if kubesim::buggify!() { return Err(...) }`.
//!
//! The state lives in a thread-local set by [`crate::world::World::run`] for the length of the
//! run (a run executes on one thread), so two runs of one seed fire the same points.

use crate::history::Recorder;
use kubesim_model::EventKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::BTreeMap;

struct State {
    rng: ChaCha8Rng,
    enabled: BTreeMap<(&'static str, u32), bool>,
    recorder: Recorder,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Enables fault points for the current thread until the guard drops.
pub struct Active(());

impl Drop for Active {
    fn drop(&mut self) {
        STATE.with(|s| s.borrow_mut().take());
    }
}

/// Turns fault points on for a run seeded with `seed`; firings are recorded in `recorder`.
pub fn activate(seed: u64, recorder: Recorder) -> Active {
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            rng: ChaCha8Rng::seed_from_u64(seed),
            enabled: BTreeMap::new(),
            recorder,
        })
    });
    Active(())
}

/// Whether the fault point at `file:line` fires now. Use [`buggify!`](crate::buggify!).
pub fn fire(file: &'static str, line: u32) -> bool {
    STATE.with(|s| {
        let mut guard = s.borrow_mut();
        let Some(st) = guard.as_mut() else {
            return false;
        };
        let State { rng, enabled, .. } = st;
        let on = *enabled
            .entry((file, line))
            .or_insert_with(|| rng.random_bool(0.25));
        let fired = on && st.rng.random_bool(0.25);
        if fired {
            st.recorder.record(
                "buggify",
                EventKind::Fault {
                    text: format!("buggify {file}:{line}"),
                },
            );
        }
        fired
    })
}

/// `true` when a BUGGIFY fault point fires (never outside a simulation run).
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::buggify::fire(file!(), line!())
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_points_never_fire_outside_a_run() {
        assert!((0..1000).all(|_| !crate::buggify!()));
    }

    #[test]
    fn an_enabled_point_fires_about_a_quarter_of_the_time_and_runs_repeat() {
        let fires = |seed| {
            let _a = activate(seed, Recorder::new());
            (0..400).map(|_| fire("x.rs", 1)).collect::<Vec<_>>()
        };
        // Find a seed whose point is enabled.
        let seed = (0..64)
            .find(|s| fires(*s).iter().any(|f| *f))
            .expect("some seed enables it");
        let a = fires(seed);
        assert_eq!(a, fires(seed), "the same seed fires the same way");
        let n = a.iter().filter(|f| **f).count();
        assert!((50..150).contains(&n), "{n} of 400");
        assert!(
            (0..1000).all(|_| !fire("x.rs", 1)),
            "off again after the run"
        );
    }
}
