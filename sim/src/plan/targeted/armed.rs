//! [`Armed`]: a run's targeted faults, counting the matching requests (and writes) run-wide and
//! saying which request a fault hits and which host is due to crash.

use super::{Action, Every, Nth, TargetedFault};
use crate::api::ApiRequest;
use std::sync::Mutex;
use std::time::Duration;

/// What a replica does to one request a targeted fault hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the entry in the plan's `targeted` list.
    pub index: usize,
    /// What to do.
    pub action: Action,
    /// The entry's text, for the history.
    pub text: String,
}

/// The targeted faults of a run, armed: the entries and how many matching requests (or writes)
/// each has seen. Shared by every replica (and the harness, which crashes hosts).
#[derive(Debug, Default)]
pub struct Armed {
    entries: Vec<TargetedFault>,
    state: Mutex<ArmedState>,
}

#[derive(Debug, Default)]
struct ArmedState {
    /// Matching requests (or writes, for crashes) seen per entry.
    counts: Vec<u64>,
    /// Crashes due: host and downtime, in the order their writes were answered.
    crashes: Vec<(String, Duration)>,
}

impl Armed {
    /// Arms `entries`.
    pub fn new(entries: Vec<TargetedFault>) -> Self {
        let counts = vec![0; entries.len()];
        Self {
            entries,
            state: Mutex::new(ArmedState {
                counts,
                crashes: Vec::new(),
            }),
        }
    }

    /// The armed entries.
    pub fn entries(&self) -> &[TargetedFault] {
        &self.entries
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ArmedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn in_window(t: &TargetedFault, now: Duration) -> bool {
        t.from.is_none_or(|f| now >= f) && t.until.is_none_or(|u| now < u)
    }

    /// Counts `request` (sent by `peer`, received at `now`) against every request fault that
    /// matches it; the first entry whose turn it is hits it.
    pub fn on_request(&self, peer: &str, request: &ApiRequest, now: Duration) -> Option<Hit> {
        let mut st = self.state();
        let mut hit = None;
        for (i, t) in self.entries.iter().enumerate() {
            if matches!(t.action, Action::CrashAfterWrite { .. })
                || !Self::in_window(t, now)
                || !t.selector.matches(peer, request)
            {
                continue;
            }
            st.counts[i] += 1;
            let turn = match t.which {
                Nth(n) => st.counts[i] == n,
                Every => true,
            };
            if turn && hit.is_none() {
                hit = Some(Hit {
                    index: i,
                    action: t.action.clone(),
                    text: t.describe(),
                });
            }
        }
        hit
    }

    /// Counts a write answered 2xx against every crash entry that matches it; a crash whose
    /// count is reached becomes due ([`Armed::take_crashes`]).
    pub fn on_write(&self, peer: &str, request: &ApiRequest, now: Duration) {
        let mut st = self.state();
        for (i, t) in self.entries.iter().enumerate() {
            let Action::CrashAfterWrite { restart_after } = t.action else {
                continue;
            };
            if !Self::in_window(t, now) || !t.selector.matches(peer, request) {
                continue;
            }
            st.counts[i] += 1;
            if t.which == Nth(st.counts[i]) {
                st.crashes.push((peer.to_string(), restart_after));
            }
        }
    }

    /// The crashes that became due since the last call: host and downtime.
    pub fn take_crashes(&self) -> Vec<(String, Duration)> {
        std::mem::take(&mut self.state().crashes)
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::api::Verb;
    use kubesim_model::ResourceType;

    fn update(ns: &str, name: &str) -> ApiRequest {
        ApiRequest::new(Verb::Update, ResourceType::pod(), Some(ns), Some(name))
    }

    #[test]
    fn the_nth_matching_request_is_hit_and_no_other() {
        let armed = Armed::new(vec![TargetedFault {
            selector: Selector::new().host("c").verb("update").resource("pods"),
            which: Nth(2),
            action: Action::Fail(Respond::Status(409)),
            from: None,
            until: None,
        }]);
        let t = Duration::ZERO;
        assert!(armed.on_request("c", &update("d", "a"), t).is_none());
        assert!(armed.on_request("other", &update("d", "a"), t).is_none());
        let get = ApiRequest::new(Verb::Get, ResourceType::pod(), Some("d"), Some("a"));
        assert!(armed.on_request("c", &get, t).is_none());
        let hit = armed
            .on_request("c", &update("d", "b"), t)
            .expect("the second update");
        assert_eq!(hit.action, Action::Fail(Respond::Status(409)));
        assert!(armed.on_request("c", &update("d", "c"), t).is_none());
    }

    #[test]
    fn a_crash_is_due_after_the_nth_matching_write() {
        let armed = Armed::new(vec![TargetedFault {
            selector: Selector::new().host("c").name("x"),
            which: Nth(2),
            action: Action::CrashAfterWrite {
                restart_after: Duration::from_secs(1),
            },
            from: None,
            until: None,
        }]);
        let t = Duration::ZERO;
        armed.on_write("c", &update("d", "x"), t);
        armed.on_write("c", &update("d", "y"), t);
        assert!(armed.take_crashes().is_empty());
        armed.on_write("c", &update("d", "x"), t);
        assert_eq!(
            armed.take_crashes(),
            vec![("c".to_string(), Duration::from_secs(1))]
        );
        armed.on_write("c", &update("d", "x"), t);
        assert!(armed.take_crashes().is_empty(), "only once");
    }
}
