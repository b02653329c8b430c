//! `quiescence`: once the faults are over and the workload has stopped, a controller settles:
//! its writes and reconciles die down (a steady state, as dsk's `TickUntilSteady` waits for).
//! A controller that keeps writing an object, or keeps reconciling a key at a steady rate, after
//! nothing changed any more is caught, with the key and the count.
//!
//! The quiet window is worked out from the history alone, so the oracle applies to every
//! scenario:
//!
//! - it starts [`Quiescence::settle_us`] after the later of the harness's last fault, heal,
//!   crash, restart or compaction (lines of host `sim`) and the last commit made by a host that
//!   never reconciles (the workload: a host with no `reconcile-begin` line; who made a commit
//!   comes from [`super::peers`]);
//! - it ends at the end of the run (the run's simulated end when the caller knows it, else the
//!   last event);
//! - it is judged only when it lasts at least [`Quiescence::window_min_us`].
//!
//! In it, with the window cut into four quarters:
//!
//! - **writes**: an object that hosts which reconcile committed [`Quiescence::writes_min`] times
//!   or more, in at least [`Quiescence::quarters_min`] quarters (a steady writer, not one late
//!   burst), is flagged, whatever the rate: a status write every few seconds is as much a loop
//!   as twenty a second. Objects under [`Quiescence::exempt`] (Leases: leader election renews
//!   them every 2 s by design) are not judged.
//! - **reconciles**: a key one host reconciled more than `window / reconcile_period_min_us + 1`
//!   times, in at least `quarters_min` quarters, is flagged. A periodic requeue is legitimate
//!   (`requeue_after`, kube-rs's `Action::requeue`): the built-in controllers requeue every 5 s
//!   (`nested-timeout-fixed`, `fake-timeout-fixed`, `kr-hot-loop-fixed`), hence a 2 s default.
//!
//! A host that writes without ever reconciling (a controller not built on a runtime that
//! records reconciles) counts as workload: its writes end the window's start instead of being
//! judged, so the oracle may miss it, never blame it wrongly.

pub use super::names::QUIESCENCE;
use super::peers::Peers;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::{BTreeMap, BTreeSet};

/// The harness's host name in the history (faults, heals, crashes, restarts, compactions).
pub const HARNESS_HOST: &str = "sim";

/// The budgets of [`quiescence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quiescence {
    /// Time given to settle after the last fault and the last workload write, µs.
    pub settle_us: u64,
    /// The shortest quiet window judged, µs.
    pub window_min_us: u64,
    /// Fewest writes of one object in the window that can be a steady writer.
    pub writes_min: usize,
    /// Of the window's four quarters, how many must see writes (or reconciles) of the key.
    pub quarters_min: usize,
    /// The shortest periodic requeue allowed, µs: a key may be reconciled once per this
    /// period on average over the window (plus one).
    pub reconcile_period_min_us: u64,
    /// Key prefixes not judged for writes.
    pub exempt: &'static [&'static str],
}

impl Default for Quiescence {
    /// Settle 10 s, judge windows of 20 s or more, 3 writes in 3 of 4 quarters, a periodic
    /// requeue down to 2 s, Leases exempt.
    fn default() -> Self {
        Self {
            settle_us: 10_000_000,
            window_min_us: 20_000_000,
            writes_min: 3,
            quarters_min: 3,
            reconcile_period_min_us: 2_000_000,
            exempt: &["leases.coordination.k8s.io/"],
        }
    }
}

/// The quiet window of `history`, `[start, end]` in µs, when it is long enough to judge.
pub fn quiet_window(
    history: &[HistoryEvent],
    end_us: Option<u64>,
    q: Quiescence,
) -> Option<(u64, u64)> {
    window_in(history, &Peers::of(history), end_us, q)
}

/// The times of the harness's fault lines (faults, heals, crashes, restarts, and compactions
/// when `compactions`).
pub(crate) fn harness_faults(
    history: &[HistoryEvent],
    compactions: bool,
) -> impl Iterator<Item = u64> + '_ {
    history
        .iter()
        .filter(|e| e.host == HARNESS_HOST)
        .filter(move |e| match e.kind {
            EventKind::Fault { .. }
            | EventKind::Heal { .. }
            | EventKind::Crash { .. }
            | EventKind::Restart { .. } => true,
            EventKind::Compact { .. } => compactions,
            _ => false,
        })
        .map(|e| e.time_us)
}

/// [`quiet_window`] with the history's attribution already made.
fn window_in(
    history: &[HistoryEvent],
    peers: &Peers<'_>,
    end_us: Option<u64>,
    q: Quiescence,
) -> Option<(u64, u64)> {
    let harness = harness_faults(history, true).max().unwrap_or(0);
    let workload = peers
        .writes
        .iter()
        .filter(|w| !peers.reconcilers.contains(w.writer))
        .map(|w| w.commit.time_us)
        .max()
        .unwrap_or(0);
    let last = history.iter().map(|e| e.time_us).max().unwrap_or(0);
    let end = end_us.unwrap_or(0).max(last);
    let start = harness.max(workload).saturating_add(q.settle_us);
    (end >= start && end - start >= q.window_min_us.max(1)).then_some((start, end))
}

/// Which quarter of `[start, end]` time `t` falls in (0 to 3).
fn quarter(t: u64, (start, end): (u64, u64)) -> usize {
    let len = u128::from((end - start).max(1));
    let off = u128::from(t.saturating_sub(start).min(end - start));
    ((off * 4 / len) as usize).min(3)
}

fn secs(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, us % 1_000_000 / 1_000)
}

/// What was seen of one key in the window.
struct Seen<'a> {
    first: &'a HistoryEvent,
    last: &'a HistoryEvent,
    count: usize,
    quarters: BTreeSet<usize>,
    hosts: BTreeSet<&'a str>,
}

impl<'a> Seen<'a> {
    fn new(e: &'a HistoryEvent) -> Self {
        Self {
            first: e,
            last: e,
            count: 0,
            quarters: BTreeSet::new(),
            hosts: BTreeSet::new(),
        }
    }

    fn hit(&mut self, e: &'a HistoryEvent, host: &'a str, window: (u64, u64)) {
        self.last = e;
        self.count += 1;
        self.quarters.insert(quarter(e.time_us, window));
        self.hosts.insert(host);
    }
}

/// Writes and reconciles die down in the quiet window, as the module doc says; `end_us` is the
/// run's simulated end when known.
pub fn quiescence(history: &[HistoryEvent], end_us: Option<u64>, q: Quiescence) -> Vec<Violation> {
    quiescence_in(history, &Peers::of(history), end_us, q)
}

/// [`quiescence()`] with the history's attribution already made (the library shares one).
pub(crate) fn quiescence_in(
    history: &[HistoryEvent],
    peers: &Peers<'_>,
    end_us: Option<u64>,
    q: Quiescence,
) -> Vec<Violation> {
    let Some(window) = window_in(history, peers, end_us, q) else {
        return Vec::new();
    };
    let (start, end) = window;
    let in_window = |e: &HistoryEvent| e.time_us >= start && e.time_us <= end;
    let reconcilers = &peers.reconcilers;
    let mut out = Vec::new();

    let mut writes: BTreeMap<&str, Seen<'_>> = BTreeMap::new();
    for w in &peers.writes {
        if !in_window(w.commit)
            || !reconcilers.contains(w.writer)
            || q.exempt.iter().any(|p| w.key.starts_with(p))
        {
            continue;
        }
        writes
            .entry(w.key)
            .or_insert_with(|| Seen::new(w.commit))
            .hit(w.commit, w.writer, window);
    }
    for (key, s) in writes {
        if s.count >= q.writes_min.max(1) && s.quarters.len() >= q.quarters_min {
            let hosts: Vec<&str> = s.hosts.into_iter().collect();
            out.push(Violation {
                oracle: QUIESCENCE,
                time_us: s.first.time_us,
                event_id: Some(s.first.id),
                message: format!(
                    "{key} written {} times by {} in the quiet window {}..{} ({} of 4 quarters, \
                     the last at #{:06}): the controller never settles",
                    s.count,
                    hosts.join(","),
                    secs(start),
                    secs(end),
                    s.quarters.len(),
                    s.last.id
                ),
            });
        }
    }

    let allowed = (end - start) / q.reconcile_period_min_us.max(1) + 1;
    let mut reconciles: BTreeMap<(&str, &str), Seen<'_>> = BTreeMap::new();
    for e in history.iter().filter(|e| in_window(e)) {
        if let EventKind::ReconcileBegin { key, .. } = &e.kind {
            reconciles
                .entry((e.host.as_str(), key.as_str()))
                .or_insert_with(|| Seen::new(e))
                .hit(e, &e.host, window);
        }
    }
    for ((host, key), s) in reconciles {
        if s.count as u64 > allowed && s.quarters.len() >= q.quarters_min {
            out.push(Violation {
                oracle: QUIESCENCE,
                time_us: s.first.time_us,
                event_id: Some(s.first.id),
                message: format!(
                    "{host} reconciled {key} {} times in the quiet window {}..{} (at most {allowed} \
                     for a requeue every {}; the last at #{:06}): the controller never settles",
                    s.count,
                    secs(start),
                    secs(end),
                    secs(q.reconcile_period_min_us),
                    s.last.id
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim_model::WatchEventType;

    use crate::oracle::testutil::at;

    fn conn(c: u64, peer: &str) -> EventKind {
        EventKind::ConnOpen {
            conn: c,
            peer: peer.into(),
        }
    }

    /// A write on connection `c` of `apiserver-0`: request, commit, response.
    fn write(ms: u64, c: u64, key: &str, status: bool) -> Vec<(u64, &'static str, EventKind)> {
        let target = key.to_string();
        vec![
            (
                ms,
                "apiserver-0",
                EventKind::Request {
                    conn: c,
                    verb: "patch".into(),
                    target: target.clone(),
                    subresource: status.then(|| "status".into()),
                    rv: None,
                },
            ),
            (
                ms,
                "apiserver-0",
                EventKind::Commit {
                    rev: 1,
                    op: WatchEventType::Modified,
                    key: target.clone(),
                },
            ),
            (
                ms,
                "apiserver-0",
                EventKind::Response {
                    conn: c,
                    verb: "patch".into(),
                    target,
                    code: 200,
                    rv: None,
                    reason: None,
                },
            ),
        ]
    }

    fn reconcile(ms: u64, key: &str) -> (u64, &'static str, EventKind) {
        let kind = EventKind::ReconcileBegin {
            key: key.into(),
            attempt: 1,
        };
        (ms, "controller-0", kind)
    }

    /// Faults heal at 40 s, the workload writes last at 30 s, the run ends at 90 s: the quiet
    /// window is 50 s to 90 s. Then `every_ms`, from 10 s to 90 s, the controller reconciles
    /// g0 and, if `writes`, patches its status.
    fn controller(every_ms: u64, writes: bool) -> Vec<HistoryEvent> {
        let mut h = vec![
            (0, "apiserver-0", conn(1, "workload")),
            (0, "apiserver-0", conn(2, "controller-0")),
            (
                40_000,
                HARNESS_HOST,
                EventKind::Heal {
                    text: "api-faults".into(),
                },
            ),
        ];
        h.extend(write(30_000, 1, "groups/default/g0", false));
        let mut t = 10_000;
        while t <= 90_000 {
            h.push(reconcile(t, "default/g0"));
            if writes {
                h.extend(write(t, 2, "groups/default/g0", true));
            }
            t += every_ms;
        }
        h.sort_by_key(|(ms, ..)| *ms);
        at(h)
    }

    #[test]
    fn the_quiet_window_starts_after_the_last_fault_and_workload_write() {
        let h = controller(5_000, false);
        assert_eq!(
            quiet_window(&h, Some(90_010_000), Quiescence::default()),
            Some((50_000_000, 90_010_000))
        );
        assert_eq!(
            quiet_window(&h, None, Quiescence::default()),
            Some((50_000_000, 90_000_000)),
            "without the run's end, the last event ends it"
        );
        let short = Quiescence {
            window_min_us: 45_000_000,
            ..Quiescence::default()
        };
        assert_eq!(quiet_window(&h, Some(90_000_000), short), None);
    }

    #[test]
    fn a_status_write_on_every_requeue_every_few_seconds_is_flagged_with_key_and_count() {
        let h = controller(3_000, true);
        let v = quiescence(&h, Some(90_000_000), Quiescence::default());
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].oracle, QUIESCENCE);
        assert!(
            v[0].message.starts_with(
                "groups/default/g0 written 13 times by controller-0 in the quiet window \
                 50.000s..90.000s (4 of 4 quarters"
            ),
            "{}",
            v[0]
        );
    }

    #[test]
    fn twenty_status_writes_a_second_are_flagged_for_writes_and_reconciles() {
        let h = controller(50, true);
        let v = quiescence(&h, None, Quiescence::default());
        let messages: Vec<&str> = v.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(v.len(), 2, "{messages:?}");
        assert!(messages[0].contains("written 801 times"), "{}", messages[0]);
        assert!(
            messages[1].contains("controller-0 reconciled default/g0 801 times"),
            "{}",
            messages[1]
        );
    }

    #[test]
    fn a_periodic_requeue_without_writes_is_allowed_down_to_the_period() {
        assert_eq!(
            quiescence(&controller(5_000, false), None, Quiescence::default()),
            vec![]
        );
        assert_eq!(
            quiescence(&controller(2_000, false), None, Quiescence::default()),
            vec![]
        );
        let v = quiescence(&controller(1_000, false), None, Quiescence::default());
        assert_eq!(v.len(), 1);
        assert!(
            v[0].message.contains(
                "reconciled default/g0 41 times in the quiet window 50.000s..90.000s (at most 21"
            ),
            "{}",
            v[0]
        );
    }

    #[test]
    fn a_late_burst_and_lease_renewals_are_not_a_steady_writer() {
        let mut h = vec![
            (0, "apiserver-0", conn(1, "controller-0")),
            (40_000, HARNESS_HOST, EventKind::Heal { text: "x".into() }),
            reconcile(1_000, "default/g0"),
        ];
        for ms in [85_000, 86_000, 87_000, 88_000] {
            h.extend(write(ms, 1, "groups/default/g0", true));
        }
        let mut t = 50_000;
        while t <= 90_000 {
            h.extend(write(
                t,
                1,
                "leases.coordination.k8s.io/default/lead",
                false,
            ));
            t += 2_000;
        }
        h.sort_by_key(|(ms, ..)| *ms);
        assert_eq!(quiescence(&at(h), None, Quiescence::default()), vec![]);
    }

    #[test]
    fn writes_of_a_host_that_never_reconciles_are_workload_and_move_the_window() {
        // controller-0 never reconciles: its writes up to 90 s leave no quiet window.
        let mut h = vec![(0, "apiserver-0", conn(1, "controller-0"))];
        let mut t = 0;
        while t <= 90_000 {
            h.extend(write(t, 1, "groups/default/g0", true));
            t += 1_000;
        }
        let h = at(h);
        assert_eq!(quiet_window(&h, None, Quiescence::default()), None);
        assert_eq!(quiescence(&h, None, Quiescence::default()), vec![]);
    }
}
