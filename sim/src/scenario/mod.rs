//! Built-in scenarios and the scenario type users build their own with.
//!
//! A scenario says which hosts run (beyond the API server replicas every world has), how the
//! world is configured for a seed, which oracles judge the history, and whether it is expected to
//! hold or to be caught.
//!
//! - [`api_smoke`]: two replicas, three clients doing concurrent writes and a watch.
//! - [`replicagroup`]: the reference controller under faults; must converge.
//! - [`standard`]: the sim-speed workload: 3 leader-elected controller replicas, 200 groups, 10 min.
//! - [`split_brain`]: pitfall 12, leader election under clock skew, with and without fencing.
//! - [`pitfalls`]: the pitfall catalogue, buggy and fixed controller pairs.

pub mod api_smoke;
pub mod kube_runtime;
pub mod pitfalls;
pub mod replicagroup;
pub mod split_brain;
pub mod standard;

use crate::kit::SimRng;
use crate::oracle::Violation;
use crate::world::{World, WorldConfig};
use kubesim_model::{EventKind, HistoryEvent};
use std::fmt;
use std::time::Duration;

/// When a scenario's library faults heal unless it says otherwise ([`Scenario::heal_at`]).
pub const DEFAULT_HEAL_AT: Duration = Duration::from_secs(40);

/// What a scenario is expected to do over a sweep of seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// No seed violates an oracle.
    Holds,
    /// Some seed is caught by the named oracle.
    Caught(&'static str),
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Holds => f.write_str("holds"),
            Self::Caught(o) => write!(f, "caught by {o}"),
        }
    }
}

/// A scenario: plain data plus three functions. Build one with [`Scenario::new`] and its
/// setters, or as a struct literal.
#[derive(Clone)]
pub struct Scenario {
    /// Name used on the command line.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Expected outcome.
    pub expectation: Expectation,
    /// Seeds `kubesim explore` runs by default.
    pub seeds: u64,
    /// The world settings for a seed (may draw from `rng`, which is seeded by the seed).
    pub config: fn(&mut SimRng) -> WorldConfig,
    /// Adds the scenario's hosts to a freshly built world.
    pub setup: fn(&mut World),
    /// Judges the finished run; the history is complete. The library's general oracles run
    /// besides it on every scenario (see [`crate::oracle`]).
    pub check: fn(&World, &[HistoryEvent]) -> Vec<Violation>,
    /// Faults by default: when `Some(t)` and the setup drew no faults of its own, the harness
    /// draws the profile's faults aimed at the scenario's controller hosts
    /// ([`World::draw_faults`]), all healed at `t`. `None`: the scenario draws its own, or none.
    pub heal_at: Option<Duration>,
}

impl Scenario {
    /// A scenario called `name` whose hosts `setup` adds, with the defaults: expected to hold,
    /// 100 seeds, [`WorldConfig::default`], the profile's faults healed at [`DEFAULT_HEAL_AT`],
    /// judged by [`default_check`].
    pub fn new(name: &'static str, setup: fn(&mut World)) -> Self {
        Self {
            name,
            summary: "",
            expectation: Expectation::Holds,
            seeds: 100,
            config: |_| WorldConfig::default(),
            setup,
            check: default_check,
            heal_at: Some(DEFAULT_HEAL_AT),
        }
    }

    /// Sets the one-line summary.
    pub fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    /// Sets the expectation.
    pub fn expect(mut self, expectation: Expectation) -> Self {
        self.expectation = expectation;
        self
    }

    /// Sets the world settings for a seed.
    pub fn config(mut self, config: fn(&mut SimRng) -> WorldConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the judge (replacing [`default_check`]; call it from yours to keep it).
    pub fn check(mut self, check: fn(&World, &[HistoryEvent]) -> Vec<Violation>) -> Self {
        self.check = check;
        self
    }

    /// Sets when the library's faults heal (`None`: no library faults).
    pub fn heal_at(mut self, heal_at: Option<Duration>) -> Self {
        self.heal_at = heal_at;
        self
    }
}

/// The judge of a scenario built with [`Scenario::new`]: watch guarantees (every watch judged
/// per object, so selector watches are safe), no concurrent reconcile of a key, no hot loop,
/// no leaked tasks, and `converges` when the setup registered a predicate
/// ([`World::converges_within`]).
pub fn default_check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    use crate::oracle;
    let targets: std::collections::BTreeSet<&str> = history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WatchOpen { target, .. } => Some(target.as_str()),
            _ => None,
        })
        .collect();
    let filtered: Vec<&str> = targets.into_iter().collect();
    let mut out = oracle::watch_guarantees(history, &filtered);
    out.extend(oracle::no_concurrent_reconcile(history));
    out.extend(oracle::no_hot_loop(history, oracle::HotLoop::default()));
    out.extend(oracle::no_leaked_tasks(history));
    out.extend(world.convergence_verdict(history));
    out
}

/// Every built-in scenario, in listing order.
pub fn builtins() -> Vec<Scenario> {
    let mut all = vec![
        api_smoke::scenario(),
        replicagroup::scenario(),
        kube_runtime::scenario(),
        standard::scenario(),
    ];
    all.extend(pitfalls::scenarios());
    all.extend(split_brain::scenarios());
    all
}

/// The built-in scenario called `name`.
pub fn find(name: &str) -> Option<Scenario> {
    builtins().into_iter().find(|s| s.name == name)
}
