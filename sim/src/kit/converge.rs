//! `converges` as a library oracle: a user predicate over typed objects, checked by the harness
//! once per simulated second from the heal time on, and a deadline after the heal.
//!
//! The harness records when the predicate started to hold for good (held at every later probe
//! and at the end of the run), so a report tells apart a controller that converged late
//! (`converged 31.2 s after healing, deadline 20 s`) from one that never did (`not converged
//! ... : <why>`, the predicate's own words at the end). A deadline of `None` only asks for
//! convergence by the end of the run; a legitimate long backoff is allowed for by a longer one.
//! A probe is skipped while storage's revision has not moved, and while no write since the last
//! probe touched a type the predicate read there ([`Objects::of`] notes each type asked for): the
//! predicate is a function of the objects it reads, so its answer cannot have changed. A lease
//! renewal does not wake a predicate over pods.

use super::storage::{objects_of, resource_name};
use crate::api::ApiState;
pub use crate::oracle::names::CONVERGES;
use crate::oracle::Violation;
use crate::world::World;
use kube::Resource;
use kubesim_model::{HistoryEvent, ObjectKey};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How often the harness probes the predicate after the heal time.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Storage's objects at one moment, read as typed objects by a convergence predicate.
pub struct Objects {
    items: Vec<(ObjectKey, Arc<serde_json::Value>)>,
    /// The storage resource names (`ObjectKey::resource`) asked for so far.
    read: RefCell<BTreeSet<String>>,
}

impl Objects {
    /// A view of `items` (storage's objects in key order).
    pub fn new(items: Vec<(ObjectKey, Arc<serde_json::Value>)>) -> Self {
        Self {
            items,
            read: RefCell::default(),
        }
    }

    /// The objects of type `K`, in key order.
    pub fn of<K: Resource<DynamicType = ()> + DeserializeOwned>(&self) -> Vec<K> {
        let resource = resource_name::<K>();
        if !self.read.borrow().contains(&resource) {
            self.read.borrow_mut().insert(resource);
        }
        objects_of(&self.items)
    }

    /// The storage resource names (`ObjectKey::resource`) of the types read so far.
    pub fn read(&self) -> BTreeSet<String> {
        self.read.borrow().clone()
    }
}

/// Whether a write to storage after revision `after` touched one of the types in `read`
/// (`ObjectKey::resource` names); a compacted log counts as touched.
pub(crate) fn touched(state: &ApiState, after: u64, read: &BTreeSet<String>) -> bool {
    state
        .log_after(after)
        .map_or(true, |mut log| log.any(|e| read.contains(&e.key.resource)))
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
    /// The types the predicate read at the last probe that ran it.
    read: Option<BTreeSet<String>>,
    /// What the predicate said at that probe.
    answer: Option<Result<(), String>>,
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
            read: None,
            answer: None,
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

    /// Probes the predicate at `now` if a probe is due, storage (at revision `rev`) moved since
    /// the last one, and `touched(last, read)` says a write after revision `last` touched one of
    /// the types the predicate read then (`read`, as `ObjectKey::resource` names).
    pub fn poll(
        &mut self,
        now: Duration,
        rev: u64,
        touched: impl FnOnce(u64, &BTreeSet<String>) -> bool,
        objects: impl FnOnce() -> Objects,
    ) {
        if now < self.next_probe {
            return;
        }
        self.next_probe = now + PROBE_EVERY;
        if self.probed_rev == Some(rev) {
            return;
        }
        let last = self.probed_rev.replace(rev);
        if let (Some(last), Some(read)) = (last, &self.read) {
            if !touched(last, read) {
                return; // the same objects as at the last probe: the same answer
            }
        }
        let objects = objects();
        let answer = (self.predicate)(&objects);
        let held = answer.is_ok();
        self.read = Some(objects.read());
        self.answer = Some(answer);
        self.holding_since = match (held, self.holding_since) {
            (true, Some(since)) => Some(since),
            (true, None) => Some(now),
            (false, _) => None,
        };
    }

    /// The verdict at the end of the run (`now`, storage at revision `rev`, as `objects`). The
    /// predicate's answer at the last probe is reused when storage is where it was then, or
    /// `touched` (as for [`Convergence::poll`]) says no write since touched a type it read.
    pub fn verdict(
        &self,
        now: Duration,
        rev: u64,
        touched: impl FnOnce(u64, &BTreeSet<String>) -> bool,
        objects: impl FnOnce() -> Objects,
        history: &[HistoryEvent],
    ) -> Option<Violation> {
        let violation = |message: String| Violation {
            oracle: CONVERGES,
            time_us: now.as_micros() as u64,
            event_id: history.last().map(|e| e.id),
            message,
        };
        let heal = self.heal_at.as_secs_f64();
        let unmoved = match (self.probed_rev, &self.read) {
            (Some(last), _) if last == rev => true,
            (Some(last), Some(read)) => !touched(last, read),
            _ => false,
        };
        let answer = match &self.answer {
            Some(answer) if unmoved => answer.clone(),
            _ => (self.predicate)(&objects()),
        };
        if let Err(why) = answer {
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
    /// `converges` oracle ([`World::convergence_verdict`]). The predicate must be a function of
    /// the objects it reads through [`Objects::of`]: a probe is skipped while no write touched
    /// a type it read at the last one.
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
        let state = self.cluster.state();
        c.verdict(
            self.sim.elapsed(),
            state.revision(),
            |after, read| touched(&state, after, read),
            || Objects::new(state.objects()),
            history,
        )
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

    /// Every write since a probe touched what it read.
    fn every_write(_: u64, _: &BTreeSet<String>) -> bool {
        true
    }

    fn pod(name: &str, ready: bool) -> (ObjectKey, Arc<serde_json::Value>) {
        let v = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"ready": ready.to_string()}},
        });
        (ObjectKey::new("pods", "default", name), Arc::new(v))
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
            c.poll(secs(t), rev, every_write, empty);
        }
        assert_eq!(c.converged_at(), Some(secs(65)));
        let late = c
            .verdict(secs(90), 100, every_write, empty, &[])
            .expect("25 s is past 10 s");
        assert!(late.message.contains("converged only 25.0s"), "{late}");

        let mut in_time = Convergence::new(holds_when(flag.clone()), secs(40), Some(secs(30)));
        in_time.poll(secs(65), 1, every_write, empty);
        assert!(in_time
            .verdict(secs(90), 100, every_write, empty, &[])
            .is_none());

        flag.store(false, std::sync::atomic::Ordering::Relaxed);
        let never = c
            .verdict(secs(90), 100, every_write, empty, &[])
            .expect("not converged");
        assert!(never.message.contains("not converged") && never.message.contains("not yet"));
    }

    /// `answer` as a predicate, with a count of its calls.
    fn counting(
        answer: impl Fn(&Objects) -> Result<(), String> + 'static,
    ) -> (Arc<std::sync::atomic::AtomicUsize>, Predicate) {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = calls.clone();
        let predicate: Predicate = Box::new(move |objects| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            answer(objects)
        });
        (calls, predicate)
    }

    #[test]
    fn a_probe_is_skipped_while_storage_has_not_moved_and_before_the_heal() {
        let (calls, predicate) = counting(|_| Ok(()));
        let secs = Duration::from_secs;
        let mut c = Convergence::new(predicate, secs(10), None);
        c.poll(secs(5), 1, every_write, empty);
        c.poll(secs(10), 1, every_write, empty);
        c.poll(secs(11), 1, every_write, empty);
        c.poll(secs(12), 2, every_write, empty);
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(c.converged_at(), Some(secs(10)));
    }

    #[test]
    fn a_probe_is_skipped_when_the_writes_since_the_last_touched_no_type_the_predicate_read() {
        use k8s_openapi::api::core::v1::Pod;
        let (calls, predicate) = counting(|objects| {
            let pods = objects.of::<Pod>();
            match pods.iter().all(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l["ready"] == "true")
            }) {
                true => Ok(()),
                false => Err(format!("{} pods, not all ready", pods.len())),
            }
        });
        let secs = Duration::from_secs;
        let mut c = Convergence::new(predicate, secs(10), None);
        let touched_pods = |pods: bool| {
            move |_: u64, read: &BTreeSet<String>| {
                assert_eq!(
                    read.iter().collect::<Vec<_>>(),
                    ["pods"],
                    "the predicate read pods only"
                );
                pods
            }
        };
        let objects = |ready: bool| move || Objects::new(vec![pod("a", ready)]);
        c.poll(secs(10), 1, every_write, objects(false));
        // Storage moved, but only leases: not probed, so the ready pod is not seen yet.
        c.poll(secs(11), 2, touched_pods(false), objects(true));
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(c.converged_at(), None);
        // A pod was written: probed.
        c.poll(secs(12), 3, touched_pods(true), objects(true));
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(c.converged_at(), Some(secs(12)));
        // A lease renewal later keeps the answer, and when it started to hold.
        c.poll(secs(13), 4, touched_pods(false), objects(false));
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(c.converged_at(), Some(secs(12)));
    }
}
