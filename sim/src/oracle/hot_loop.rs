//! No hot loop: no client hammers the API server, and no failing key is retried without
//! backoff ([`HotLoop`] says what is counted and why it is sound).

use super::names;
use super::violation::violation;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The budgets of [`no_hot_loop`].
///
/// What is counted, and why it blames only real loops:
///
/// - **Requests that learn nothing**: `response` lines are recorded by the serving API server
///   replica, which does not know the client's host; it numbers connections (`c<N>`). An HTTP/1.1
///   connection belongs to one client and carries one request at a time, so responses of one verb
///   on one target on one connection all answer one client. A response is *fruitless* when it
///   fails (status 400 or more), or when it is a `get`, `update` or `patch` answered with the same
///   status and `resourceVersion` as that client's previous one of that verb on that target (the
///   object did not change, the write changed nothing). More than `requests_max` fruitless
///   responses within `window_us` is that client's hot loop: it keeps asking and learns nothing.
///   Bursts of real work are not counted, however fast: creates succeed with new
///   resourceVersions, and lists are left out (the history does not record their selectors, so
///   two lists of one collection may be different questions). A client spreading a loop over
///   several connections is counted per connection, so the oracle may miss it, never blame it
///   wrongly. Connection numbers restart when a replica restarts, so its counts restart with it.
///   Counting fruitless answers, not requests, keeps the budget independent of how fast the
///   network answers: under exact message times (event time) a healthy controller's startup makes
///   200 requests of one verb a second, as a real one would on a fast network.
/// - **Retries**: a `reconcile-begin` of a key whose previous reconcile on that host did not
///   succeed (`error`, `requeue`, `requeue-after`, `cancelled`) is a retry. More than
///   `retries_max` retries of one key within `window_us` is a requeue without backoff (client-go's
///   default limiter allows 5 ms, 10 ms, 20 ms, ... about 8 retries in the first second). Event
///   storms do not count: a reconcile after a success is not a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotLoop {
    /// The sliding window, microseconds of simulated time.
    pub window_us: u64,
    /// Most fruitless responses of one verb on one target on one connection within the window.
    pub requests_max: usize,
    /// Most retries of one key on one host within the window.
    pub retries_max: usize,
}

impl Default for HotLoop {
    /// One second; 50 fruitless responses (a healthy client gets a handful); 20 retries.
    fn default() -> Self {
        Self {
            window_us: 1_000_000,
            requests_max: 50,
            retries_max: 20,
        }
    }
}

/// Sliding-window counters, one per group; each group is reported once.
struct Windows<K> {
    window_us: u64,
    max: usize,
    times: BTreeMap<K, VecDeque<u64>>,
    reported: BTreeSet<K>,
}

impl<K: Ord + Clone> Windows<K> {
    fn new(window_us: u64, max: usize) -> Self {
        Self {
            window_us,
            max,
            times: BTreeMap::new(),
            reported: BTreeSet::new(),
        }
    }

    /// Counts one occurrence at `t`; returns the count in the window when it first exceeds max.
    /// A group already reported is not counted again (it is reported once); the key is cloned
    /// only when the group is first seen.
    fn hit(&mut self, group: K, t: u64) -> Option<usize> {
        if self.reported.contains(&group) {
            return None;
        }
        let q = match self.times.get_mut(&group) {
            Some(q) => q,
            None => self.times.entry(group.clone()).or_default(),
        };
        while q.front().is_some_and(|f| f + self.window_us <= t) {
            q.pop_front();
        }
        q.push_back(t);
        // Bound the memory per group: the window never needs more than max + 1 entries.
        if q.len() > self.max + 1 {
            q.pop_front();
        }
        let n = q.len();
        (n > self.max).then(|| {
            self.reported.insert(group);
            n
        })
    }

    fn forget(&mut self, keep: impl Fn(&K) -> bool) {
        self.times.retain(|k, _| keep(k));
        self.reported.retain(|k| keep(k));
    }
}

/// One client's exchanges of one kind: replica host, connection, verb, target.
type Exchange = (String, u64, String, String);

/// No request hot loop and no retry hot loop, as [`HotLoop`] defines them.
pub fn no_hot_loop(history: &[HistoryEvent], budget: HotLoop) -> Vec<Violation> {
    let mut watch = HotLoopWatch::new(budget);
    history.iter().filter_map(|e| watch.observe(e)).collect()
}

/// [`no_hot_loop`] one event at a time, as events are recorded: what lets a run stop at its
/// first hot loop ([`crate::world::World::stop_at_first_hot_loop`]).
pub struct HotLoopWatch {
    budget: HotLoop,
    requests: Windows<Exchange>,
    last_answer: BTreeMap<Exchange, (u16, Option<u64>)>,
    retries: Windows<(String, String)>,
    /// Keys per host whose last reconcile did not succeed.
    failed: BTreeMap<String, BTreeSet<String>>,
}

impl HotLoopWatch {
    /// A watch with nothing seen yet.
    pub fn new(budget: HotLoop) -> Self {
        Self {
            budget,
            requests: Windows::new(budget.window_us, budget.requests_max),
            last_answer: BTreeMap::new(),
            retries: Windows::new(budget.window_us, budget.retries_max),
            failed: BTreeMap::new(),
        }
    }

    /// Takes the next event of the history; a violation when it exceeds a budget (each
    /// connection's exchange and each key is reported once).
    pub fn observe(&mut self, e: &HistoryEvent) -> Option<Violation> {
        let budget = self.budget;
        let window_ms = budget.window_us / 1_000;
        let host = e.host.as_str();
        match &e.kind {
            EventKind::Response {
                conn,
                verb,
                target,
                code,
                rv,
                ..
            } if verb != "list" => {
                let group = (e.host.clone(), *conn, verb.clone(), target.clone());
                let answer = (*code, *rv);
                let previous = match self.last_answer.get_mut(&group) {
                    Some(last) => Some(std::mem::replace(last, answer)),
                    None => self.last_answer.insert(group.clone(), answer),
                };
                let repeated =
                    matches!(verb.as_str(), "get" | "update" | "patch") && previous == Some(answer);
                if *code < 400 && !repeated {
                    return None;
                }
                let n = self.requests.hit(group, e.time_us)?;
                Some(violation(
                    names::NO_HOT_LOOP,
                    e,
                    format!(
                        "c{conn} on {host} got {n} fruitless answers to {verb} {target} \
                         within {window_ms}ms (max {}): failures, or the same answer again",
                        budget.requests_max
                    ),
                ))
            }
            EventKind::ReconcileBegin { key, .. } => {
                if !self.failed.get(host).is_some_and(|keys| keys.contains(key)) {
                    return None;
                }
                let n = self.retries.hit((e.host.clone(), key.clone()), e.time_us)?;
                Some(violation(
                    names::NO_HOT_LOOP,
                    e,
                    format!(
                        "{host} retried {key} {n} times within {window_ms}ms (max {})",
                        budget.retries_max
                    ),
                ))
            }
            EventKind::ReconcileEnd { key, outcome, .. } => {
                let succeeded = outcome == "ok" || outcome.starts_with("terminal");
                if succeeded {
                    if let Some(keys) = self.failed.get_mut(host) {
                        keys.remove(key);
                    }
                } else {
                    self.failed
                        .entry(e.host.clone())
                        .or_default()
                        .insert(key.clone());
                }
                None
            }
            EventKind::Crash { target } => {
                self.requests.forget(|(h, ..)| h != target);
                self.last_answer.retain(|(h, ..), _| h != target);
                self.retries.forget(|(h, _)| h != target);
                self.failed.remove(target);
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::*;

    #[test]
    fn no_hot_loop_catches_a_connection_asking_the_same_question_for_the_same_answer() {
        // Events are 1 ms apart; the window is 10 ms.
        let polling: Vec<_> = (0..6)
            .map(|_| response(1, "get", "pods/default/a", 200, Some(7)))
            .collect();
        let v = no_hot_loop(&history(polling), TIGHT);
        assert_eq!(oracles(&v), vec!["no-hot-loop"], "reported once");
        // The first answer is news; the next four repeat it, the fourth repeat exceeds 3.
        assert_eq!(v[0].event_id, Some(4));
        assert!(v[0].message.contains(
            "c1 on apiserver-0 got 4 fruitless answers to get pods/default/a within 10ms (max 3)"
        ));
        // The same answers spread over connections, verbs and targets are fine.
        let spread = history(vec![
            response(1, "get", "pods/default/a", 200, Some(7)),
            response(2, "get", "pods/default/a", 200, Some(7)),
            response(1, "update", "pods/default/a", 200, Some(7)),
            response(1, "get", "pods/default/b", 200, Some(7)),
            response(3, "get", "pods/default/a", 200, Some(7)),
            response(1, "get", "pods/default/a", 200, Some(7)),
            response(1, "get", "pods/default/a", 200, Some(7)),
        ]);
        assert_eq!(no_hot_loop(&spread, TIGHT), vec![]);
    }

    #[test]
    fn no_hot_loop_counts_failures_but_not_a_burst_of_real_work() {
        let failing: Vec<_> = (0..4)
            .map(|_| response(1, "create", "pods/default", 422, None))
            .collect();
        let v = no_hot_loop(&history(failing), TIGHT);
        assert_eq!(oracles(&v), vec!["no-hot-loop"]);
        assert!(v[0]
            .message
            .contains("got 4 fruitless answers to create pods/default"));
        // Creates that succeed, reads of a changing object and lists (whose selectors the
        // history does not record) are work, however fast.
        let mut burst = Vec::new();
        for rv in 1..20 {
            burst.push(response(1, "create", "pods/default", 201, Some(rv)));
            burst.push(response(1, "get", "pods/default/a", 200, Some(rv)));
            burst.push(response(1, "list", "pods/default", 200, Some(7)));
        }
        assert_eq!(no_hot_loop(&history(burst), TIGHT), vec![]);
    }

    #[test]
    fn no_hot_loop_lets_a_window_slide_and_a_restart_renumber() {
        let same = || response(1, "get", "x/y", 200, Some(1));
        let mut h = vec![same(); 4];
        h.extend(vec![("sim", EventKind::Compact { rev: 1 }); 8]);
        h.extend(vec![same(); 3]);
        assert_eq!(no_hot_loop(&history(h), TIGHT), vec![], "11 ms apart");
        let mut h = vec![same(); 4];
        h.push((
            "sim",
            EventKind::Crash {
                target: "apiserver-0".into(),
            },
        ));
        h.extend(vec![same(); 4]);
        assert_eq!(no_hot_loop(&history(h), TIGHT), vec![], "a new c1");
    }

    #[test]
    fn no_hot_loop_catches_retries_without_backoff_but_not_an_event_storm() {
        let mut retrying = Vec::new();
        for _ in 0..4 {
            retrying.push(begin("c-0", "default/a"));
            retrying.push(end("c-0", "default/a", "error boom"));
        }
        let v = no_hot_loop(&history(retrying), TIGHT);
        assert_eq!(oracles(&v), vec!["no-hot-loop"]);
        assert!(v[0]
            .message
            .contains("c-0 retried default/a 3 times within 10ms (max 2)"));
        let mut storm = Vec::new();
        for _ in 0..8 {
            storm.push(begin("c-0", "default/a"));
            storm.push(end("c-0", "default/a", "ok"));
        }
        assert_eq!(no_hot_loop(&history(storm), TIGHT), vec![]);
    }
}
