//! Oracles: properties every history must have, checked after the run.
//!
//! Watch guarantees, per watcher (a watcher is one stream, `w<N>` in the history), as etcd's
//! robustness tests name them (`tests/robustness/validate/watch.go`):
//!
//! - [`watch_ordered`]: object events carry strictly increasing resourceVersions and bookmarks
//!   never go backwards.
//! - [`watch_unique`]: no object event (key, resourceVersion) is delivered twice.
//! - [`watch_atomic`]: the events of one revision are delivered together (no event of another
//!   revision between them), and each names an object committed at that revision. Our storage
//!   makes one write per revision, so this catches split or mislabelled revisions.
//! - [`watch_bookmarkable`]: a bookmark's resourceVersion is at least that of every event before
//!   it on the stream (a client may resume from it without missing or repeating anything).
//! - [`watch_reliable`]: no gap against storage's commit log: between the first revision the
//!   stream vouches for and the last one it delivered (event or bookmark), every commit on the
//!   watched target was delivered. A stream that ended is judged only up to its last delivery.
//! - [`watch_resumable`]: a watch opened with `resourceVersion=N` (N > 0) starts with an event
//!   after N.
//!
//! [`watch_guarantees`] runs all six. Controller runtime oracles:
//!
//! - [`no_concurrent_reconcile`]: one key is never reconciled twice at once on one host.
//! - [`bounded_concurrency`]: at most N reconciles run at once on one host.
//! - [`no_hot_loop`]: no client hammers the API server, and no failing key is retried without
//!   backoff (see [`HotLoop`] for what is counted and why it is sound).
//! - [`honest_cancel_reason`] ([`cancel_reason`]): a reconcile cut short by its host's lease loss
//!   says `leadership lost`, not a timeout.
//! - [`no_lost_update`] ([`lost_update`]): a client's acknowledged write is not undone by someone
//!   else (what it sees afterwards and what storage holds at the end).
//!
//! Deadline oracles ([`deadline`]), over the calls of a recorded client:
//!
//! - [`deadline_respected`]: a call declared with a deadline ends by it.
//! - [`no_work_after_deadline`]: a call made on behalf of a reconcile ends by its deadline.

//!
//! Oracles over storage's commit log:
//!
//! - [`no_stale_delete`] ([`stale_delete`]): no object is deleted by name on the strength of an
//!   older incarnation (a delete decided from a stale cache removes the recreated object).
//!
//! The library: general oracles that judge every scenario from its history alone, with no
//! setting from the scenario, run by [`library`] after every run (`crate::run`), each under
//! [`guard::guarded`]:
//!
//! - [`quiescence()`] ([`QUIESCENCE`]): after the faults and the workload, writes and reconciles
//!   die down;
//! - [`no_leaked_streams`] ([`NO_LEAKED_STREAMS`]): no watch stream or call outlives its host's
//!   shutdown;
//! - [`no_write_fight`] ([`NO_WRITE_FIGHT`]): two hosts do not take turns undoing each other's
//!   writes to one object.
//!
//! They rely on [`peers`], which says which client host is behind each connection, stream and
//! commit. A panicking oracle is a [`CHECKER_ERROR`] violation, never a crashed sweep.

pub mod cancel_reason;
pub mod deadline;
pub mod guard;
pub mod leaks;
pub mod lost_update;
pub mod ownership;
pub mod peers;
pub mod quiescence;
#[cfg(test)]
mod robustness;
pub mod stale_delete;
#[cfg(test)]
pub(crate) mod testutil;

pub use guard::{guarded, CHECKER_ERROR};
pub use leaks::{no_leaked_streams, Leaks, NO_LEAKED_STREAMS};
pub use ownership::{no_write_fight, Ownership, NO_WRITE_FIGHT};
pub use quiescence::{quiescence, Quiescence, QUIESCENCE};

pub use cancel_reason::honest_cancel_reason;
pub use deadline::{deadline_respected, no_work_after_deadline};
pub use lost_update::no_lost_update;
pub use stale_delete::no_stale_delete;

use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

/// One broken property, located in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The oracle's name.
    pub oracle: &'static str,
    /// Simulated time of the offending event, microseconds.
    pub time_us: u64,
    /// History id of the offending event, when there is one.
    pub event_id: Option<u64>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}.{:06}s",
            self.oracle,
            self.time_us / 1_000_000,
            self.time_us % 1_000_000
        )?;
        if let Some(id) = self.event_id {
            write!(f, " (event #{id:06})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Watch events on each stream are in resourceVersion order.
pub fn watch_ordered(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in history {
        if let EventKind::WatchSend {
            watcher,
            kind,
            rv,
            key,
            ..
        } = &e.kind
        {
            if *kind == WatchEventType::Error {
                continue;
            }
            let prev = last.get(watcher).copied().unwrap_or(0);
            // Initial ADDED events of a watch from "now" all carry their own (older) versions.
            let initial = *kind == WatchEventType::Added && prev == 0;
            let ok = match kind {
                WatchEventType::Bookmark => *rv >= prev,
                _ => initial || *rv > prev,
            };
            if !ok {
                out.push(Violation {
                    oracle: "watch-ordered",
                    time_us: e.time_us,
                    event_id: Some(e.id),
                    message: format!("watcher w{watcher} got {kind} {key} rv={rv} after rv={prev}"),
                });
            }
            if !initial {
                last.insert(*watcher, (*rv).max(prev));
            }
        }
    }
    out
}

/// One key is never reconciled twice at once (per host: each controller replica has its own
/// queue; across replicas, leader election is what keeps writers single).
pub fn no_concurrent_reconcile(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut running: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut out = Vec::new();
    for e in history {
        match &e.kind {
            EventKind::ReconcileBegin { key, .. } => {
                if let Some(first) = running.insert((e.host.as_str(), key.as_str()), e.id) {
                    out.push(Violation {
                        oracle: "no-concurrent-reconcile",
                        time_us: e.time_us,
                        event_id: Some(e.id),
                        message: format!(
                            "{key} began on {} while its reconcile #{first:06} was running",
                            e.host
                        ),
                    });
                }
            }
            EventKind::ReconcileEnd { key, .. } => {
                running.remove(&(e.host.as_str(), key.as_str()));
            }
            // A crash ends everything that was running on the host.
            EventKind::Crash { target } => running.retain(|(h, _), _| h != target),
            _ => {}
        }
    }
    out
}

fn violation(oracle: &'static str, e: &HistoryEvent, message: String) -> Violation {
    Violation {
        oracle,
        time_us: e.time_us,
        event_id: Some(e.id),
        message,
    }
}

/// One event written to a watch stream.
struct Delivery<'a> {
    event: &'a HistoryEvent,
    kind: WatchEventType,
    key: &'a str,
    rv: u64,
}

impl Delivery<'_> {
    /// An `ADDED`, `MODIFIED` or `DELETED` event (not a bookmark or an error).
    fn is_object(&self) -> bool {
        !matches!(self.kind, WatchEventType::Bookmark | WatchEventType::Error)
    }
}

/// One watch stream as the history shows it.
struct Stream<'a> {
    /// What it watches (`resource/namespace` or `resource`); empty if its open is not in the
    /// history.
    target: &'a str,
    /// The resourceVersion it was opened with, when that is a revision N > 0.
    start_rv: Option<u64>,
    deliveries: Vec<Delivery<'a>>,
}

/// The watch streams of `history`, by watcher id.
fn streams(history: &[HistoryEvent]) -> BTreeMap<u64, Stream<'_>> {
    let mut out: BTreeMap<u64, Stream<'_>> = BTreeMap::new();
    let empty = |target| Stream {
        target,
        start_rv: None,
        deliveries: Vec::new(),
    };
    for e in history {
        match &e.kind {
            EventKind::WatchOpen {
                watcher,
                target,
                rv,
            } => {
                let s = out.entry(*watcher).or_insert_with(|| empty(""));
                s.target = target.as_str();
                s.start_rv = rv
                    .as_deref()
                    .and_then(|r| r.parse::<u64>().ok())
                    .filter(|n| *n > 0);
            }
            EventKind::WatchSend {
                watcher,
                kind,
                key,
                rv,
            } => out
                .entry(*watcher)
                .or_insert_with(|| empty(""))
                .deliveries
                .push(Delivery {
                    event: e,
                    kind: *kind,
                    key: key.as_str(),
                    rv: *rv,
                }),
            _ => {}
        }
    }
    out
}

/// Storage's commit log as the history shows it: keys by revision, revisions by key.
struct Commits<'a> {
    by_rev: BTreeMap<u64, Vec<(WatchEventType, &'a str)>>,
    by_key: BTreeMap<&'a str, Vec<u64>>,
}

impl<'a> Commits<'a> {
    fn of(history: &'a [HistoryEvent]) -> Self {
        let mut c = Commits {
            by_rev: BTreeMap::new(),
            by_key: BTreeMap::new(),
        };
        for e in history {
            if let EventKind::Commit { rev, op, key } = &e.kind {
                c.by_rev.entry(*rev).or_default().push((*op, key.as_str()));
                c.by_key.entry(key.as_str()).or_default().push(*rev);
            }
        }
        c
    }

    /// The first commit on `key` after revision `rev`.
    fn next_on(&self, key: &str, rev: u64) -> Option<u64> {
        let revs = self.by_key.get(key)?;
        revs.get(revs.partition_point(|r| *r <= rev)).copied()
    }
}

/// Whether object `key` (`resource/namespace/name` or `resource/name`) is under watch target
/// `target` (`resource/namespace`, `resource`, or one object's own key).
pub fn target_matches(target: &str, key: &str) -> bool {
    key.strip_prefix(target)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// No object event is delivered twice on one stream (etcd's "unique").
pub fn watch_unique(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let mut seen: BTreeMap<(&str, u64), u64> = BTreeMap::new();
        for d in s.deliveries.iter().filter(|d| d.is_object()) {
            if let Some(first) = seen.insert((d.key, d.rv), d.event.id) {
                out.push(violation(
                    "watch-unique",
                    d.event,
                    format!(
                        "watcher w{w} got {} {} rv={} again (first as #{first:06})",
                        d.kind, d.key, d.rv
                    ),
                ));
            }
        }
    }
    out
}

/// The events of one revision are delivered together, and each names an object committed at
/// that revision (etcd's "atomic"). With one write per revision, a second event at a revision
/// is also caught here when another revision came between.
pub fn watch_atomic(history: &[HistoryEvent]) -> Vec<Violation> {
    let commits = Commits::of(history);
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let mut finished: BTreeSet<u64> = BTreeSet::new();
        let mut current: Option<u64> = None;
        for d in s.deliveries.iter().filter(|d| d.is_object()) {
            if current != Some(d.rv) {
                finished.extend(current);
                if finished.contains(&d.rv) {
                    out.push(violation(
                        "watch-atomic",
                        d.event,
                        format!(
                            "watcher w{w} got {} {} rv={} after other revisions followed rv={}",
                            d.kind, d.key, d.rv, d.rv
                        ),
                    ));
                }
                current = Some(d.rv);
            }
            if let Some(written) = commits.by_rev.get(&d.rv) {
                if !written.iter().any(|(_, k)| *k == d.key) {
                    let names: Vec<&str> = written.iter().map(|(_, k)| *k).collect();
                    out.push(violation(
                        "watch-atomic",
                        d.event,
                        format!(
                            "watcher w{w} got {} {} rv={}, but revision {} wrote {}",
                            d.kind,
                            d.key,
                            d.rv,
                            d.rv,
                            names.join(",")
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// A bookmark's resourceVersion is at least that of every event before it on the stream
/// (etcd's "bookmarkable"): resuming from it neither misses nor repeats an event.
pub fn watch_bookmarkable(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let mut max = 0u64;
        for d in &s.deliveries {
            match d.kind {
                WatchEventType::Error => {}
                WatchEventType::Bookmark if d.rv < max => out.push(violation(
                    "watch-bookmarkable",
                    d.event,
                    format!(
                        "watcher w{w} got BOOKMARK rv={} after an event at rv={max}",
                        d.rv
                    ),
                )),
                _ => max = max.max(d.rv),
            }
        }
    }
    out
}

/// A watch opened with `resourceVersion=N` (N > 0) starts with an event after N (etcd's
/// "resumable"): nothing at or before N is replayed. An `ERROR` first event (410) is allowed.
pub fn watch_resumable(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        let (Some(n), Some(first)) = (s.start_rv, s.deliveries.first()) else {
            continue;
        };
        if first.kind != WatchEventType::Error && first.rv <= n {
            out.push(violation(
                "watch-resumable",
                first.event,
                format!(
                    "watcher w{w} opened at rv={n} but first got {} {} rv={}",
                    first.kind, first.key, first.rv
                ),
            ));
        }
    }
    out
}

/// No gap against storage's commit log (etcd's "reliable"), for every stream whose open is in
/// the history. Two checks:
///
/// - **Whole target**, for streams on targets not in `filtered`: let U be the last revision the
///   stream delivered (event or bookmark) and L the first it vouches for: N for a watch opened
///   at `resourceVersion=N`; otherwise (unset or `0`, which starts with a snapshot of synthetic
///   `ADDED` events carrying the objects' own, older revisions) the revision of its first
///   `MODIFIED`, `DELETED` or `BOOKMARK`, the first event that cannot belong to the snapshot.
///   Every commit on the target in (L, U] must have been delivered. A stream that ended (timeout,
///   410, crash) is judged only up to its last delivery, so a closed stream is never blamed for
///   what came after it.
/// - **Per object**, for every stream: once a stream delivered `ADDED` or `MODIFIED` for an
///   object at revision r, the next commit on that object, if it is at or before U, must have
///   been delivered (as `MODIFIED`, `DELETED`, or a selector's `DELETED`). This holds for label
///   and field selector watches too: an object the watcher holds matched the selector at r, and
///   a change to a matching object is always an event (it stops matching = `DELETED`).
///
/// The history does not record a watch's selectors (`watch-open` shows only
/// `resource/namespace`), and a selector watch legitimately skips commits on objects that do not
/// match, so the whole-target check would blame it falsely. The caller names the targets whose
/// watches may carry a label or field selector in `filtered`; those get the per-object check
/// only. Pass `&[]` when no watch in the scenario uses a selector.
pub fn watch_reliable(history: &[HistoryEvent], filtered: &[&str]) -> Vec<Violation> {
    let commits = Commits::of(history);
    let mut out = Vec::new();
    for (w, s) in streams(history) {
        if s.target.is_empty() {
            continue;
        }
        let live: Vec<&Delivery<'_>> = s
            .deliveries
            .iter()
            .filter(|d| d.kind != WatchEventType::Error)
            .collect();
        let Some(upper) = live.iter().map(|d| d.rv).max() else {
            continue;
        };
        let delivered: BTreeSet<(&str, u64)> = live
            .iter()
            .filter(|d| d.is_object())
            .map(|d| (d.key, d.rv))
            .collect();
        let mut missing: BTreeSet<(u64, &str)> = BTreeSet::new();
        if !filtered.contains(&s.target) {
            let lower = s.start_rv.or_else(|| {
                live.iter()
                    .find(|d| d.kind != WatchEventType::Added)
                    .map(|d| d.rv)
            });
            // (L, U] is empty when the first live delivery is also the last one.
            if let Some(lower) = lower.filter(|l| *l < upper) {
                for (rev, written) in commits.by_rev.range(lower + 1..=upper) {
                    for (_, key) in written {
                        if target_matches(s.target, key) && !delivered.contains(&(*key, *rev)) {
                            missing.insert((*rev, key));
                        }
                    }
                }
            }
        }
        for d in live
            .iter()
            .filter(|d| matches!(d.kind, WatchEventType::Added | WatchEventType::Modified))
        {
            if let Some(next) = commits.next_on(d.key, d.rv) {
                if next <= upper && !delivered.contains(&(d.key, next)) {
                    missing.insert((next, d.key));
                }
            }
        }
        if let Some((rev, key)) = missing.first() {
            let after = live
                .iter()
                .find(|d| d.rv >= *rev)
                .expect("invariant: a missed revision is at most the last delivered one");
            let op = commits.by_rev[rev]
                .iter()
                .find(|(_, k)| k == key)
                .map(|(op, _)| *op)
                .expect("invariant: a missed commit is in the log");
            out.push(violation(
                "watch-reliable",
                after.event,
                format!(
                    "watcher w{w} ({}) missed commit rev={rev} {op} {key} ({} missed in all), \
                     yet delivered up to rv={upper}",
                    s.target,
                    missing.len()
                ),
            ));
        }
    }
    out
}

/// The settings of the library oracles, each with its documented default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Library {
    /// The run's simulated end, µs, when known (a quiet end of the run has no events).
    pub end_us: Option<u64>,
    /// [`quiescence()`]'s budgets.
    pub quiescence: Quiescence,
    /// [`no_leaked_streams`]'s grace.
    pub leaks: Leaks,
    /// [`no_write_fight`]'s threshold.
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

/// Every watch guarantee: [`watch_ordered`], [`watch_unique`], [`watch_atomic`],
/// [`watch_bookmarkable`], [`watch_reliable`] (with `filtered` as it documents) and
/// [`watch_resumable`].
pub fn watch_guarantees(history: &[HistoryEvent], filtered: &[&str]) -> Vec<Violation> {
    let mut out = watch_ordered(history);
    out.extend(watch_unique(history));
    out.extend(watch_atomic(history));
    out.extend(watch_bookmarkable(history));
    out.extend(watch_reliable(history, filtered));
    out.extend(watch_resumable(history));
    out
}

/// At most `max` reconciles run at once on one host (`max_concurrent_reconciles`).
pub fn bounded_concurrency(history: &[HistoryEvent], max: usize) -> Vec<Violation> {
    let mut running: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut per_host: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for e in history {
        let host = e.host.as_str();
        match &e.kind {
            EventKind::ReconcileBegin { key, .. } => {
                *running.entry((host, key.as_str())).or_default() += 1;
                let n = per_host.entry(host).or_default();
                *n += 1;
                if *n > max {
                    out.push(violation(
                        "bounded-concurrency",
                        e,
                        format!(
                            "{host} began {key} with {} reconciles running (max {max})",
                            *n - 1
                        ),
                    ));
                }
            }
            EventKind::ReconcileEnd { key, .. } => {
                if let Some(k) = running.get_mut(&(host, key.as_str())) {
                    *k -= 1;
                    if *k == 0 {
                        running.remove(&(host, key.as_str()));
                    }
                    let n = per_host.get_mut(host).expect("invariant: counted on begin");
                    *n -= 1;
                }
            }
            EventKind::Crash { target } => {
                running.retain(|(h, _), _| h != target);
                per_host.remove(target.as_str());
            }
            _ => {}
        }
    }
    out
}

/// The budgets of [`no_hot_loop`].
///
/// What is counted, and why it blames only real loops:
///
/// - **Requests**: `request` lines are recorded by the serving API server replica, which does not
///   know the client's host; it numbers connections (`c<N>`). An HTTP/1.1 connection belongs to
///   one client and carries one request at a time, so requests of one verb on one target on one
///   connection within `window_us` all come from one client: more than `requests_max` of them is
///   that client's hot loop. A client spreading a loop over several connections is counted per
///   connection, so the oracle may miss it, never blame it wrongly. Connection numbers restart
///   when a replica restarts, so its counts restart with it.
/// - **Retries**: a `reconcile-begin` of a key whose previous reconcile on that host did not
///   succeed (`error`, `requeue`, `requeue-after`, `cancelled`) is a retry. More than
///   `retries_max` retries of one key within `window_us` is a requeue without backoff (client-go's
///   default limiter allows 5 ms, 10 ms, 20 ms, ... about 8 retries in the first second). Event
///   storms do not count: a reconcile after a success is not a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotLoop {
    /// The sliding window, microseconds of simulated time.
    pub window_us: u64,
    /// Most requests of one verb on one target on one connection within the window.
    pub requests_max: usize,
    /// Most retries of one key on one host within the window.
    pub retries_max: usize,
}

impl Default for HotLoop {
    /// One second; 50 requests (a healthy client makes a handful); 20 retries.
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
    fn hit(&mut self, group: &K, t: u64) -> Option<usize> {
        let q = self.times.entry(group.clone()).or_default();
        while q.front().is_some_and(|f| f + self.window_us <= t) {
            q.pop_front();
        }
        q.push_back(t);
        // Bound the memory per group: the window never needs more than max + 1 entries.
        if q.len() > self.max + 1 {
            q.pop_front();
        }
        (q.len() > self.max && self.reported.insert(group.clone())).then_some(q.len())
    }

    fn forget(&mut self, keep: impl Fn(&K) -> bool) {
        self.times.retain(|k, _| keep(k));
        self.reported.retain(|k| keep(k));
    }
}

/// No request hot loop and no retry hot loop, as [`HotLoop`] defines them.
pub fn no_hot_loop(history: &[HistoryEvent], budget: HotLoop) -> Vec<Violation> {
    let window_ms = budget.window_us / 1_000;
    let mut requests: Windows<(String, u64, String, String)> =
        Windows::new(budget.window_us, budget.requests_max);
    let mut retries: Windows<(String, String)> = Windows::new(budget.window_us, budget.retries_max);
    let mut failed: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut out = Vec::new();
    for e in history {
        let host = e.host.as_str();
        match &e.kind {
            EventKind::Request {
                conn,
                verb,
                target,
                subresource,
                ..
            } => {
                let what = match subresource {
                    Some(s) => format!("{target}/{s}"),
                    None => target.clone(),
                };
                let group = (e.host.clone(), *conn, verb.clone(), what);
                if let Some(n) = requests.hit(&group, e.time_us) {
                    out.push(violation(
                        "no-hot-loop",
                        e,
                        format!(
                            "c{conn} on {host} sent {n} {verb} {} within {window_ms}ms (max {})",
                            group.3, budget.requests_max
                        ),
                    ));
                }
            }
            EventKind::ReconcileBegin { key, .. } if failed.contains(&(host, key.as_str())) => {
                let group = (e.host.clone(), key.clone());
                if let Some(n) = retries.hit(&group, e.time_us) {
                    out.push(violation(
                        "no-hot-loop",
                        e,
                        format!(
                            "{host} retried {key} {n} times within {window_ms}ms (max {})",
                            budget.retries_max
                        ),
                    ));
                }
            }
            EventKind::ReconcileEnd { key, outcome, .. } => {
                let succeeded = outcome == "ok" || outcome.starts_with("terminal");
                if succeeded {
                    failed.remove(&(host, key.as_str()));
                } else {
                    failed.insert((host, key.as_str()));
                }
            }
            EventKind::Crash { target } => {
                requests.forget(|(h, ..)| h != target);
                retries.forget(|(h, _)| h != target);
                failed.retain(|(h, _)| h != target);
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::history;
    use WatchEventType::{Added, Bookmark, Deleted, Error, Modified};

    fn commit(rev: u64, op: WatchEventType, key: &str) -> (&'static str, EventKind) {
        let key = key.into();
        ("apiserver-0", EventKind::Commit { rev, op, key })
    }

    fn open(watcher: u64, target: &str, rv: Option<&str>) -> (&'static str, EventKind) {
        let (target, rv) = (target.into(), rv.map(str::to_string));
        (
            "apiserver-0",
            EventKind::WatchOpen {
                watcher,
                target,
                rv,
            },
        )
    }

    fn send(watcher: u64, kind: WatchEventType, key: &str, rv: u64) -> (&'static str, EventKind) {
        let key = key.into();
        (
            "apiserver-0",
            EventKind::WatchSend {
                watcher,
                kind,
                key,
                rv,
            },
        )
    }

    fn oracles(v: &[Violation]) -> Vec<&'static str> {
        v.iter().map(|v| v.oracle).collect()
    }

    /// Three commits on `configmaps/default`, one elsewhere (rev 3), and a watch from rv=1.
    fn log() -> Vec<(&'static str, EventKind)> {
        vec![
            commit(2, Added, "configmaps/default/a"),
            commit(3, Added, "configmaps/other/x"),
            commit(4, Modified, "configmaps/default/a"),
            commit(5, Added, "configmaps/default/b"),
            open(0, "configmaps/default", Some("1")),
        ]
    }

    #[test]
    fn target_matching_respects_path_segments() {
        assert!(target_matches("pods/default", "pods/default/a"));
        assert!(target_matches("pods", "pods/default/a"));
        assert!(target_matches("nodes", "nodes/n1"));
        assert!(target_matches("pods/default/a", "pods/default/a"));
        assert!(!target_matches("pods/default", "pods/default2/a"));
        assert!(!target_matches("pods", "podsecurity/x"));
    }

    #[test]
    fn watch_unique_catches_an_event_delivered_twice() {
        let mut good = log();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_unique(&history(good.clone())), vec![]);
        let mut bad = good;
        bad.push(send(0, Modified, "configmaps/default/a", 4));
        let v = watch_unique(&history(bad));
        assert_eq!(oracles(&v), vec!["watch-unique"]);
        assert_eq!(v[0].event_id, Some(7));
        assert!(
            v[0].message.contains("again (first as #000006)"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn watch_unique_allows_the_same_event_on_two_streams() {
        let mut h = log();
        h.extend([
            open(1, "configmaps", Some("3")),
            send(0, Modified, "configmaps/default/a", 4),
            send(1, Modified, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_unique(&history(h)), vec![]);
    }

    #[test]
    fn watch_atomic_catches_a_split_revision_and_a_mislabelled_event() {
        // One revision writing two keys (an etcd transaction), delivered together.
        let mut txn = vec![
            commit(2, Added, "configmaps/default/a"),
            commit(2, Added, "configmaps/default/b"),
            commit(3, Modified, "configmaps/default/a"),
            open(0, "configmaps/default", Some("1")),
        ];
        let mut good = txn.clone();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Added, "configmaps/default/b", 2),
            send(0, Modified, "configmaps/default/a", 3),
        ]);
        assert_eq!(watch_atomic(&history(good)), vec![]);
        txn.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 3),
            send(0, Added, "configmaps/default/b", 2),
        ]);
        let v = watch_atomic(&history(txn));
        assert_eq!(oracles(&v), vec!["watch-atomic"]);
        assert!(v[0].message.contains("after other revisions"), "{}", v[0]);

        let mut wrong = log();
        wrong.push(send(0, Modified, "configmaps/default/b", 4));
        let v = watch_atomic(&history(wrong));
        assert_eq!(oracles(&v), vec!["watch-atomic"]);
        assert!(
            v[0].message
                .contains("revision 4 wrote configmaps/default/a"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn watch_bookmarkable_catches_a_bookmark_behind_an_event() {
        let mut good = log();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Bookmark, "", 3),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Bookmark, "", 4),
        ]);
        assert_eq!(watch_bookmarkable(&history(good)), vec![]);
        let mut bad = log();
        bad.extend([
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Bookmark, "", 3),
        ]);
        let v = watch_bookmarkable(&history(bad));
        assert_eq!(oracles(&v), vec!["watch-bookmarkable"]);
        assert_eq!(v[0].event_id, Some(6));
    }

    #[test]
    fn watch_bookmarkable_counts_the_initial_snapshot() {
        // A watch without resourceVersion starts with ADDED events carrying their own revisions.
        let mut bad = log();
        bad.extend([
            open(1, "configmaps/default", None),
            send(1, Added, "configmaps/default/b", 5),
            send(1, Bookmark, "", 4),
        ]);
        assert_eq!(
            oracles(&watch_bookmarkable(&history(bad))),
            vec!["watch-bookmarkable"]
        );
    }

    #[test]
    fn watch_resumable_catches_a_replay_of_the_start_revision() {
        let mut good = log();
        good.push(open(1, "configmaps/default", Some("4")));
        good.push(send(1, Added, "configmaps/default/b", 5));
        assert_eq!(watch_resumable(&history(good)), vec![]);
        let mut bad = log();
        bad.push(open(1, "configmaps/default", Some("4")));
        bad.push(send(1, Modified, "configmaps/default/a", 4));
        let v = watch_resumable(&history(bad));
        assert_eq!(oracles(&v), vec!["watch-resumable"]);
        assert!(v[0].message.contains("opened at rv=4"), "{}", v[0]);
    }

    #[test]
    fn watch_resumable_allows_a_410_and_watches_from_now() {
        let mut h = log();
        h.extend([
            open(1, "configmaps/default", Some("1")),
            send(1, Error, "", 0),
            open(2, "configmaps/default", Some("0")),
            send(2, Added, "configmaps/default/a", 4),
            open(3, "configmaps/default", None),
            send(3, Added, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_resumable(&history(h)), vec![]);
    }

    #[test]
    fn watch_reliable_catches_a_gap_against_storage() {
        let mut good = log();
        good.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Added, "configmaps/default/b", 5),
        ]);
        assert_eq!(watch_reliable(&history(good), &[]), vec![]);
        let mut bad = log();
        bad.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Added, "configmaps/default/b", 5),
        ]);
        let v = watch_reliable(&history(bad), &[]);
        assert_eq!(oracles(&v), vec!["watch-reliable"]);
        assert_eq!(
            v[0].event_id,
            Some(6),
            "located at the delivery after the gap"
        );
        assert!(
            v[0].message
                .contains("missed commit rev=4 MODIFIED configmaps/default/a (1 missed in all)"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn watch_reliable_judges_a_bookmark_as_a_promise() {
        // The bookmark at 5 says everything up to 5 was delivered; b's ADDED at 5 was not.
        let mut bad = log();
        bad.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Bookmark, "", 5),
        ]);
        assert_eq!(
            oracles(&watch_reliable(&history(bad), &[])),
            vec!["watch-reliable"]
        );
    }

    #[test]
    fn watch_reliable_does_not_blame_a_stream_that_ended() {
        // The stream closed after rv=2 (timeout): commits 4 and 5 are not owed to it, and the
        // next stream resumes from 2.
        let mut h = log();
        h.extend([
            send(0, Added, "configmaps/default/a", 2),
            (
                "apiserver-0",
                EventKind::WatchClose {
                    watcher: 0,
                    reason: "timeout".into(),
                },
            ),
            open(1, "configmaps/default", Some("2")),
            send(1, Modified, "configmaps/default/a", 4),
            send(1, Added, "configmaps/default/b", 5),
        ]);
        assert_eq!(watch_reliable(&history(h), &[]), vec![]);
    }

    #[test]
    fn watch_reliable_skips_the_snapshot_of_a_watch_from_now() {
        // From "now" the snapshot holds b (rv 5) but not the deleted c: no event for c's commits
        // is owed. From the first MODIFIED on, every commit is.
        let base = vec![
            commit(2, Added, "configmaps/default/a"),
            commit(3, Added, "configmaps/default/c"),
            commit(4, Deleted, "configmaps/default/c"),
            commit(5, Added, "configmaps/default/b"),
            commit(6, Modified, "configmaps/default/a"),
            commit(7, Modified, "configmaps/default/b"),
            commit(8, Added, "configmaps/default/d"),
            open(0, "configmaps/default", None),
            send(0, Added, "configmaps/default/a", 2),
            send(0, Added, "configmaps/default/b", 5),
            send(0, Modified, "configmaps/default/a", 6),
        ];
        let mut good = base.clone();
        good.extend([
            send(0, Modified, "configmaps/default/b", 7),
            send(0, Added, "configmaps/default/d", 8),
        ]);
        assert_eq!(watch_reliable(&history(good), &[]), vec![]);
        let mut bad = base;
        bad.push(send(0, Added, "configmaps/default/d", 8));
        let v = watch_reliable(&history(bad), &[]);
        assert_eq!(oracles(&v), vec!["watch-reliable"]);
        assert!(v[0].message.contains("rev=7 MODIFIED configmaps/default/b"));
    }

    #[test]
    fn watch_reliable_judges_selector_watches_per_object_only() {
        // A label selector watch: a (matching) got an event, b (not matching) got none. On the
        // whole target that looks like a gap; with the target named as filtered it is not.
        let mut h = vec![
            commit(2, Added, "configmaps/default/a"),
            commit(3, Added, "configmaps/default/b"),
            commit(4, Modified, "configmaps/default/a"),
            open(0, "configmaps/default", Some("1")),
            send(0, Added, "configmaps/default/a", 2),
            send(0, Modified, "configmaps/default/a", 4),
        ];
        assert_eq!(
            oracles(&watch_reliable(&history(h.clone()), &[])),
            vec!["watch-reliable"]
        );
        assert_eq!(
            watch_reliable(&history(h.clone()), &["configmaps/default"]),
            vec![]
        );
        // But a change to an object the watcher holds is owed even under a selector.
        h.extend([
            commit(5, Modified, "configmaps/default/a"),
            commit(6, Modified, "configmaps/default/b"),
        ]);
        h.push(send(0, Modified, "configmaps/default/b", 6));
        let v = watch_reliable(&history(h), &["configmaps/default"]);
        assert_eq!(oracles(&v), vec!["watch-reliable"]);
        assert!(v[0].message.contains("rev=5 MODIFIED configmaps/default/a"));
    }

    #[test]
    fn watch_guarantees_do_not_panic_on_a_field_selector_watch_of_one_object() {
        // A watch from "now" with fieldSelector=metadata.name=a: the snapshot's ADDED, then one
        // MODIFIED, its first and last live delivery. It vouches for the revisions after 4 up
        // to 4: none. This used to panic ("range start is greater than range end").
        let mut h = log();
        h.extend([
            open(1, "configmaps/default", None),
            send(1, Added, "configmaps/default/a", 2),
            send(1, Modified, "configmaps/default/a", 4),
        ]);
        assert_eq!(watch_reliable(&history(h.clone()), &[]), vec![]);
        assert_eq!(
            watch_guarantees(&history(h), &["configmaps/default"]),
            vec![]
        );
    }

    #[test]
    fn watch_guarantees_hold_on_a_clean_stream() {
        let mut h = log();
        h.extend([
            send(0, Added, "configmaps/default/a", 2),
            send(0, Bookmark, "", 3),
            send(0, Modified, "configmaps/default/a", 4),
            send(0, Added, "configmaps/default/b", 5),
            send(0, Bookmark, "", 5),
        ]);
        assert_eq!(watch_guarantees(&history(h), &[]), vec![]);
    }

    fn begin(host: &'static str, key: &str) -> (&'static str, EventKind) {
        let key = key.into();
        (host, EventKind::ReconcileBegin { key, attempt: 1 })
    }

    fn end(host: &'static str, key: &str, outcome: &str) -> (&'static str, EventKind) {
        let (key, outcome) = (key.into(), outcome.into());
        let kind = EventKind::ReconcileEnd {
            key,
            attempt: 1,
            outcome,
            duration_us: 0,
        };
        (host, kind)
    }

    #[test]
    fn bounded_concurrency_catches_one_reconcile_too_many() {
        let two = history(vec![
            begin("c-0", "default/a"),
            begin("c-0", "default/b"),
            begin("c-1", "default/c"),
            end("c-0", "default/a", "ok"),
            begin("c-0", "default/c"),
        ]);
        assert_eq!(bounded_concurrency(&two, 2), vec![]);
        let v = bounded_concurrency(&two, 1);
        assert_eq!(
            oracles(&v),
            vec!["bounded-concurrency", "bounded-concurrency"]
        );
        assert_eq!(v[0].event_id, Some(1));
        assert!(v[0].message.contains("with 1 reconciles running (max 1)"));
    }

    #[test]
    fn bounded_concurrency_forgets_reconciles_a_crash_ended() {
        let h = history(vec![
            begin("c-0", "default/a"),
            (
                "sim",
                EventKind::Crash {
                    target: "c-0".into(),
                },
            ),
            begin("c-0", "default/a"),
            end("c-0", "default/a", "ok"),
            begin("c-0", "default/b"),
        ]);
        assert_eq!(bounded_concurrency(&h, 1), vec![]);
    }

    fn request(conn: u64, verb: &str, target: &str) -> (&'static str, EventKind) {
        let kind = EventKind::Request {
            conn,
            verb: verb.into(),
            target: target.into(),
            subresource: None,
            rv: None,
        };
        ("apiserver-0", kind)
    }

    const TIGHT: HotLoop = HotLoop {
        window_us: 10_000,
        requests_max: 3,
        retries_max: 2,
    };

    #[test]
    fn no_hot_loop_catches_a_connection_hammering_one_target() {
        // Events are 1 ms apart; the window is 10 ms.
        let hot: Vec<_> = (0..6)
            .map(|_| request(1, "get", "pods/default/a"))
            .collect();
        let v = no_hot_loop(&history(hot), TIGHT);
        assert_eq!(oracles(&v), vec!["no-hot-loop"], "reported once");
        assert_eq!(v[0].event_id, Some(3));
        assert!(v[0]
            .message
            .contains("c1 on apiserver-0 sent 4 get pods/default/a within 10ms"));
        // The same requests spread over connections, verbs and targets are fine.
        let spread = history(vec![
            request(1, "get", "pods/default/a"),
            request(2, "get", "pods/default/a"),
            request(1, "list", "pods/default"),
            request(1, "get", "pods/default/b"),
            request(3, "get", "pods/default/a"),
            request(1, "get", "pods/default/a"),
            request(1, "get", "pods/default/a"),
        ]);
        assert_eq!(no_hot_loop(&spread, TIGHT), vec![]);
    }

    #[test]
    fn no_hot_loop_lets_a_window_slide_and_a_restart_renumber() {
        let mut h = vec![request(1, "get", "x/y"); 3];
        h.extend(vec![("sim", EventKind::Compact { rev: 1 }); 8]);
        h.extend(vec![request(1, "get", "x/y"); 3]);
        assert_eq!(no_hot_loop(&history(h), TIGHT), vec![], "11 ms apart");
        let mut h = vec![request(1, "get", "x/y"); 3];
        h.push((
            "sim",
            EventKind::Crash {
                target: "apiserver-0".into(),
            },
        ));
        h.extend(vec![request(1, "get", "x/y"); 3]);
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

    #[test]
    fn the_oracles_judge_real_histories_and_catch_a_dropped_delivery() {
        // A real api-smoke run holds; the same history with one live delivery removed does not.
        let scenario = crate::scenario::api_smoke::scenario();
        let report = crate::run::run(&scenario, 3, true);
        assert!(report.held(), "{:?}", report.violations);
        let h = report.events;
        assert_eq!(watch_guarantees(&h, &[]), vec![]);
        let dropped = h
            .iter()
            .rposition(
                |e| matches!(&e.kind, EventKind::WatchSend { kind, .. } if *kind == Modified),
            )
            .expect("api-smoke delivers a MODIFIED event");
        let mut bad = h.clone();
        let gone = bad.remove(dropped);
        let v = watch_reliable(&bad, &[]);
        assert_eq!(oracles(&v), vec!["watch-reliable"], "dropped {gone}");
    }
}
