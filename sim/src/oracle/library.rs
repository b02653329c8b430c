//! The library: the general oracles that judge every scenario from its history alone, run after
//! every run, each under [`super::guarded`], sharing one attribution ([`super::peers`]).

use super::names::{NO_LEAKED_STREAMS, NO_WRITE_FIGHT, QUIESCENCE};
use super::{
    guarded, leaks, ownership, peers, quiescence, Leaks, Ownership, Quiescence, Violation,
};
use kubesim_model::HistoryEvent;

/// The settings of the library oracles, each with its documented default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Library {
    /// The run's simulated end, µs, when known (a quiet end of the run has no events).
    pub end_us: Option<u64>,
    /// [`quiescence()`]'s budgets.
    pub quiescence: Quiescence,
    /// [`no_leaked_streams`](super::no_leaked_streams)'s grace.
    pub leaks: Leaks,
    /// [`no_write_fight`](super::no_write_fight)'s threshold.
    pub ownership: Ownership,
}

impl Library {
    /// Runs every library oracle over `history`, each guarded.
    pub fn check(&self, history: &[HistoryEvent]) -> Vec<Violation> {
        // One attribution of connections, requests and commits serves every library oracle.
        let mut peers = None;
        let mut out = guarded("peers", history, || {
            peers = Some(peers::Peers::of(history));
            Vec::new()
        });
        let Some(peers) = peers else {
            return out;
        };
        out.extend(guarded(QUIESCENCE, history, || {
            quiescence::quiescence_in(history, &peers, self.end_us, self.quiescence)
        }));
        out.extend(guarded(NO_LEAKED_STREAMS, history, || {
            leaks::no_leaked_streams_in(history, Some(&peers), self.end_us, self.leaks)
        }));
        out.extend(guarded(NO_WRITE_FIGHT, history, || {
            ownership::no_write_fight_in(&peers, self.ownership)
        }));
        out
    }
}

/// The library oracles with their defaults over `history` ([`Library::check`]).
pub fn library(history: &[HistoryEvent]) -> Vec<Violation> {
    Library::default().check(history)
}
