//! BUGGIFY fault points (FoundationDB): `kubesim::buggify!()` in controller or test code is
//! `false` outside a simulation run. Inside one, each fault point (file and line) is enabled for
//! the run with probability 1/4, drawn from the seed the first time it is reached, and an enabled
//! point fires with probability 1/4 each time. Code under test uses it to take rare paths on
//! purpose: `if kubesim::buggify!() { return Err(...) }`.
//!
//! A fault plan ([`crate::plan::FaultPlan::buggify`]) can fix which points are enabled instead:
//! the enabling coin is still drawn when a point is first reached (so the firing draws line up
//! with the seed's), but the plan's list decides. [`Active::enabled_points`] tells which points a
//! run enabled, so a printed plan lists them and shrinking can switch them off one by one.
//!
//! The state lives in a thread-local set by [`crate::world::World::run`] for the length of the
//! run (a run executes on one thread), so two runs of one seed fire the same points.

use crate::history::Recorder;
use kubesim_model::EventKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

struct State {
    rng: ChaCha8Rng,
    enabled: BTreeMap<(&'static str, u32), bool>,
    recorder: Recorder,
    /// The points a fault plan enables (`file:line`); `None`: the seed decides.
    only: Option<BTreeSet<String>>,
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

impl Active {
    /// The points enabled so far in this run (reached, and switched on), as `file:line`.
    pub fn enabled_points(&self) -> BTreeSet<String> {
        STATE.with(|s| {
            s.borrow()
                .as_ref()
                .map(|st| {
                    st.enabled
                        .iter()
                        .filter(|(_, on)| **on)
                        .map(|((file, line), _)| point(file, *line))
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

/// A fault point's name: `file:line`.
fn point(file: &str, line: u32) -> String {
    format!("{file}:{line}")
}

/// Turns fault points on for a run seeded with `seed`; firings are recorded in `recorder`.
pub fn activate(seed: u64, recorder: Recorder) -> Active {
    activate_with(seed, recorder, None)
}

/// [`activate`], with the enabled points fixed by a fault plan (`Some`) or left to the seed.
pub fn activate_with(seed: u64, recorder: Recorder, only: Option<BTreeSet<String>>) -> Active {
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            rng: ChaCha8Rng::seed_from_u64(seed),
            enabled: BTreeMap::new(),
            recorder,
            only,
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
        let State {
            rng, enabled, only, ..
        } = st;
        let on = *enabled.entry((file, line)).or_insert_with(|| {
            let coin = rng.random_bool(0.25);
            match only {
                Some(points) => points.contains(&point(file, line)),
                None => coin,
            }
        });
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
        $crate::faults::buggify::fire(file!(), line!())
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

    #[test]
    fn a_plan_decides_which_points_are_enabled_and_the_seed_how_they_fire() {
        let run = |only: Option<BTreeSet<String>>| {
            let a = activate_with(5, Recorder::new(), only);
            let fires: Vec<(bool, bool)> = (0..400)
                .map(|_| (fire("x.rs", 1), fire("y.rs", 2)))
                .collect();
            (fires, a.enabled_points())
        };
        let (seeded, enabled) = run(None);
        let (planned, planned_enabled) = run(Some(enabled.clone()));
        assert_eq!(
            seeded, planned,
            "the seed's points, listed, fire the same way"
        );
        assert_eq!(enabled, planned_enabled);
        let (none, none_enabled) = run(Some(BTreeSet::new()));
        assert!(none.iter().all(|(a, b)| !a && !b) && none_enabled.is_empty());
        let (both, both_enabled) = run(Some(["x.rs:1", "y.rs:2"].map(String::from).into()));
        assert_eq!(both_enabled.len(), 2);
        assert!(both.iter().any(|(a, _)| *a) && both.iter().any(|(_, b)| *b));
    }
}
