//! `converges` as a library oracle: a user predicate over typed objects, checked by the harness
//! once per simulated second from the heal time on, and a deadline after the heal.
//!
//! The harness records when the predicate started to hold for good (held at every later probe
//! and at the end of the run), so a report tells apart a controller that converged late
//! (`converged 31.2 s after healing, deadline 20 s`) from one that never did (`not converged
//! ... : <why>`, the predicate's own words at the end). A deadline of `None` only asks for
//! convergence by the end of the run; a legitimate long backoff is allowed for by a longer one.
//! A probe is skipped while storage's revision has not moved (its answer cannot have changed).

use super::storage::objects_of;
pub use crate::oracle::names::CONVERGES;
use crate::oracle::Violation;
use crate::world::World;
use kube::Resource;
use kubesim_model::{HistoryEvent, ObjectKey};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// How often the harness probes the predicate after the heal time.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Storage's objects at one moment, read as typed objects by a convergence predicate.
pub struct Objects {
    items: Vec<(ObjectKey, Arc<serde_json::Value>)>,
}

impl Objects {
    /// A view of `items` (storage's objects in key order).
    pub fn new(items: Vec<(ObjectKey, Arc<serde_json::Value>)>) -> Self {
        Self { items }
    }

    /// The objects of type `K`, in key order.
    pub fn of<K: Resource<DynamicType = ()> + DeserializeOwned>(&self) -> Vec<K> {
        objects_of(&self.items)
    }
}

/// What a convergence predicate says: `Ok` when the desired state is reached, else why not.
pub type Predicate = Box<dyn Fn(&Objects) -> Result<(), String>>;

/// A registered convergence check and what the probes saw.
pub struct Convergence {
    predicate: Predicate,
    deadline: Option<Duration>,
    heal_at: Duration,
    next_probe: Duration,
    probed_rev: Option<u64>,
    /// Since when the predicate has held at every probe (None: it did not hold at the last).
    holding_since: Option<Duration>,
}

impl Convergence {
    /// A check of `predicate` with `deadline` after `heal_at`.
    pub fn new(predicate: Predicate, heal_at: Duration, deadline: Option<Duration>) -> Self {
        Self {
            predicate,
            deadline,
            heal_at,
            next_probe: heal_at,
            probed_rev: None,
            holding_since: None,
        }
    }

    /// The heal time the deadline counts from.
    pub fn heal_at(&self) -> Duration {
        self.heal_at
    }

    /// Moves the heal time (faults drawn after the check was registered); probes start there.
    pub fn set_heal_at(&mut self, heal_at: Duration) {
        self.heal_at = heal_at;
        self.next_probe = heal_at;
    }

    /// When the next probe is due.
    pub fn next_probe(&self) -> Duration {
        self.next_probe
    }

    /// Probes the predicate at `now` if a probe is due and storage moved since the last one.
    pub fn poll(&mut self, now: Duration, rev: u64, objects: impl FnOnce() -> Objects) {
        if now < self.next_probe {
            return;
        }
        self.next_probe = now + PROBE_EVERY;
        if self.probed_rev == Some(rev) {
            return;
        }
        self.probed_rev = Some(rev);
        let held = (self.predicate)(&objects()).is_ok();
        self.holding_since = match (held, self.holding_since) {
            (true, Some(since)) => Some(since),
            (true, None) => Some(now),
            (false, _) => None,
        };
    }

    /// The verdict at the end of the run (`now`, storage as `objects`).
    pub fn verdict(
        &self,
        now: Duration,
        objects: Objects,
        history: &[HistoryEvent],
    ) -> Option<Violation> {
        let violation = |message: String| Violation {
            oracle: CONVERGES,
            time_us: now.as_micros() as u64,
            event_id: history.last().map(|e| e.id),
            message,
        };
        let heal = self.heal_at.as_secs_f64();
        if let Err(why) = (self.predicate)(&objects) {
            return Some(violation(format!(
                "not converged after healing at {heal}s: {why}"
            )));
        }
        let since = self.holding_since.unwrap_or(now).max(self.heal_at);
        let took = since - self.heal_at;
        match self.deadline {
            Some(deadline) if took > deadline => Some(violation(format!(
                "converged only {:.1}s after healing at {heal}s, deadline {:.1}s",
                took.as_secs_f64(),
                deadline.as_secs_f64()
            ))),
            _ => None,
        }
    }

    /// When the predicate started to hold for good, if it holds at the last probe.
    pub fn converged_at(&self) -> Option<Duration> {
        self.holding_since
    }
}

impl World {
    /// Requires the cluster to converge: `predicate` over storage's typed objects must hold
    /// within `deadline` after the heal time and still at the end (`None`: by the end of the
    /// run). The harness probes it once per simulated second after the heal; the verdict is the
    /// `converges` oracle ([`World::convergence_verdict`]).
    pub fn converges_within(
        &mut self,
        deadline: Option<Duration>,
        predicate: impl Fn(&Objects) -> Result<(), String> + 'static,
    ) {
        self.convergence = Some(Convergence::new(
            Box::new(predicate),
            self.heal_at().unwrap_or_default(),
            deadline,
        ));
    }

    /// The `converges` verdict of a finished run, if a convergence check was registered.
    pub fn convergence_verdict(&self, history: &[HistoryEvent]) -> Option<Violation> {
        let c = self.convergence.as_ref()?;
        let objects = Objects::new(self.cluster.state().objects());
        c.verdict(self.sim.elapsed(), objects, history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds_when(flag: Arc<std::sync::atomic::AtomicBool>) -> Predicate {
        Box::new(move |_: &Objects| {
            if flag.load(std::sync::atomic::Ordering::Relaxed) {
                Ok(())
            } else {
                Err("not yet".into())
            }
        })
    }

    fn empty() -> Objects {
        Objects::new(Vec::new())
    }

    #[test]
    fn a_late_convergence_is_told_apart_from_none_and_from_one_in_time() {
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let secs = Duration::from_secs;
        let mut c = Convergence::new(holds_when(flag.clone()), secs(40), Some(secs(10)));
        for (t, rev) in (40..=70).zip(1..) {
            if t == 65 {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            c.poll(secs(t), rev, empty);
        }
        assert_eq!(c.converged_at(), Some(secs(65)));
        let late = c
            .verdict(secs(90), empty(), &[])
            .expect("25 s is past 10 s");
        assert!(late.message.contains("converged only 25.0s"), "{late}");

        let mut in_time = Convergence::new(holds_when(flag.clone()), secs(40), Some(secs(30)));
        in_time.poll(secs(65), 1, empty);
        assert!(in_time.verdict(secs(90), empty(), &[]).is_none());

        flag.store(false, std::sync::atomic::Ordering::Relaxed);
        let never = c.verdict(secs(90), empty(), &[]).expect("not converged");
        assert!(never.message.contains("not converged") && never.message.contains("not yet"));
    }

    #[test]
    fn a_probe_is_skipped_while_storage_has_not_moved_and_before_the_heal() {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = calls.clone();
        let predicate: Predicate = Box::new(move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        });
        let secs = Duration::from_secs;
        let mut c = Convergence::new(predicate, secs(10), None);
        c.poll(secs(5), 1, empty);
        c.poll(secs(10), 1, empty);
        c.poll(secs(11), 1, empty);
        c.poll(secs(12), 2, empty);
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(c.converged_at(), Some(secs(10)));
    }
}
