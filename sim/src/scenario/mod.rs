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

use crate::oracle::Violation;
use crate::world::{World, WorldConfig};
use kubesim_model::HistoryEvent;
use std::fmt;

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

/// A scenario: plain data plus three functions.
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
    pub config: fn(&mut rand_chacha::ChaCha8Rng) -> WorldConfig,
    /// Adds the scenario's hosts to a freshly built world.
    pub setup: fn(&mut World),
    /// Judges the finished run; the history is complete.
    pub check: fn(&World, &[HistoryEvent]) -> Vec<Violation>,
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
