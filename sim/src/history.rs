//! The history recorder: every component of a run appends [`HistoryEvent`]s here.
//!
//! One recorder is shared by all hosts of a run (hosts run on one thread, one at a time, so the
//! order of appends is the order turmoil polls them: deterministic for a seed). The recorder
//! assigns ids, stamps simulated time, and keeps the running hash so that long sweeps can compare
//! runs without keeping every line ([`Recorder::with_retention`]).

use crate::oracle::Violation;
use kubesim_model::{EventKind, HistoryEvent, HistoryHasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A cheap, cloneable handle on the run's history.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    events: Vec<HistoryEvent>,
    next_id: u64,
    hasher: HistoryHasher,
    /// Keep event bodies (false: only the hash and the count are kept).
    keep: bool,
    /// Time used outside a host step (the harness between steps).
    harness_time: Duration,
    /// Judges each event as it is recorded ([`Recorder::set_tripwire`]).
    tripwire: Option<Tripwire>,
    /// The tripwire's first violation: the run stops after the step that recorded it.
    tripped: Option<Violation>,
}

/// An online oracle: sees every event as it is recorded, in order, and answers a violation when
/// the run can stop there (what follows could only repeat it).
pub type Tripwire = Box<dyn FnMut(&HistoryEvent) -> Option<Violation> + Send>;

impl Recorder {
    /// A recorder that keeps every event.
    pub fn new() -> Self {
        Self::with_retention(true)
    }

    /// A recorder that keeps events (`true`) or only their hash and count (`false`).
    pub fn with_retention(keep: bool) -> Self {
        let r = Self::default();
        r.lock().keep = keep;
        r
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock already fails the run; the history is still readable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the time stamped on events recorded outside a host (by the harness).
    pub fn set_harness_time(&self, t: Duration) {
        self.lock().harness_time = t;
    }

    /// Appends an event on `host` at the current simulated time; returns its id.
    pub fn record(&self, host: &str, kind: EventKind) -> u64 {
        let mut inner = self.lock();
        let time = turmoil::sim_elapsed().unwrap_or(inner.harness_time);
        let id = inner.next_id;
        inner.next_id += 1;
        let time_us = time.as_micros() as u64;
        // Times are each host's clock: turmoil polls hosts one after another within a tick and
        // a host woken mid-tick reads a later time, so times between hosts of one tick may
        // interleave. The order of lines is the order things happened.
        let state = &mut *inner;
        if state.keep || state.tripwire.is_some() {
            let event = HistoryEvent {
                id,
                time_us,
                host: host.to_string(),
                kind,
            };
            state.hasher.push(&event);
            if state.tripped.is_none() {
                if let Some(tripwire) = state.tripwire.as_mut() {
                    state.tripped = tripwire(&event);
                }
            }
            if state.keep {
                state.events.push(event);
            }
        } else {
            // Hash only: the same line, hashed from its parts (no event built, no host copied).
            state.hasher.push_parts(id, time_us, host, &kind);
        }
        id
    }

    /// Judges every event recorded from now on with `tripwire`; its first violation is kept
    /// ([`Recorder::tripped`]) and ends the run after the step that recorded it.
    pub fn set_tripwire(&self, tripwire: Tripwire) {
        self.lock().tripwire = Some(tripwire);
    }

    /// Whether the tripwire fired (checked after every simulation step: no copy).
    pub fn has_tripped(&self) -> bool {
        self.lock().tripped.is_some()
    }

    /// The tripwire's first violation, if it fired.
    pub fn tripped(&self) -> Option<Violation> {
        self.lock().tripped.clone()
    }

    /// Records a client-side observation.
    pub fn note(&self, host: &str, text: impl Into<String>) -> u64 {
        self.record(host, EventKind::Client { text: text.into() })
    }

    /// Number of events recorded.
    pub fn len(&self) -> u64 {
        self.lock().next_id
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The 64-bit hash of the history so far.
    pub fn hash(&self) -> u64 {
        self.lock().hasher.finish()
    }

    /// A copy of the kept events.
    pub fn events(&self) -> Vec<HistoryEvent> {
        self.lock().events.clone()
    }
}

/// Renders events as text, one line each.
pub fn to_text(events: &[HistoryEvent]) -> String {
    // About 80 bytes a line; each line is written in place (no string per event).
    let mut out = String::with_capacity(events.len() * 80);
    for e in events {
        e.write_text(&mut out)
            .expect("invariant: writing to a String cannot fail");
        out.push('\n');
    }
    out
}

/// Renders events as JSON Lines.
pub fn to_json_lines(events: &[HistoryEvent]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&serde_json::to_string(e).expect("invariant: history events serialize"));
        out.push('\n');
    }
    out
}

/// The first line where two histories differ: `(index, left line, right line)`, with `None` for
/// a missing line. `None` when they are identical.
pub fn first_difference(
    a: &[HistoryEvent],
    b: &[HistoryEvent],
) -> Option<(usize, Option<String>, Option<String>)> {
    let n = a.len().max(b.len());
    (0..n).find_map(|i| {
        let (x, y) = (
            a.get(i).map(|e| e.to_string()),
            b.get(i).map(|e| e.to_string()),
        );
        (x != y).then_some((i, x, y))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_and_the_hash_follows_the_lines() {
        let r = Recorder::new();
        assert_eq!(r.record("sim", EventKind::Compact { rev: 1 }), 0);
        assert_eq!(r.record("sim", EventKind::Compact { rev: 2 }), 1);
        let evs = r.events();
        let mut h = HistoryHasher::new();
        evs.iter().for_each(|e| h.push(e));
        assert_eq!((r.len(), r.hash()), (2, h.finish()));
    }

    #[test]
    fn a_hash_only_recorder_hashes_the_same_as_a_full_one() {
        let (full, lean) = (Recorder::new(), Recorder::with_retention(false));
        for r in [&full, &lean] {
            r.note("client-0", "x");
            r.note("client-1", "y");
        }
        assert_eq!(full.hash(), lean.hash());
        assert!(lean.events().is_empty());
    }

    #[test]
    fn first_difference_names_the_first_differing_line() {
        let r1 = Recorder::new();
        let r2 = Recorder::new();
        r1.note("h", "same");
        r2.note("h", "same");
        r1.note("h", "left");
        r2.note("h", "right");
        let (i, a, b) = first_difference(&r1.events(), &r2.events()).expect("they differ");
        assert_eq!(i, 1);
        assert!(a.expect("left line").ends_with("client left"));
        assert!(b.expect("right line").ends_with("client right"));
        assert!(first_difference(&r1.events(), &r1.events()).is_none());
    }
}
