//! Deadline oracles, over the API calls of a recorded client ([`crate::transport::ClientOptions`]).
//!
//! A recorded client writes two `client` events per call on its host (the text forms below are
//! made by [`begin_text`] and [`end_text`], and nowhere else):
//!
//! - `call-begin <METHOD> <path>` when the call is made, plus ` within=<s>.<us>s` when the harness
//!   declares how long the call may take. The id of this event names the call.
//! - `call-end #<id> <outcome>` when it ends: the HTTP status code, `error` (no response), or
//!   `dropped` (its caller stopped waiting, for example at a deadline). A call ends when its
//!   response head arrives.
//!
//! A crash of the host ends its calls; a call with no end is still running at the last event.
//! A call may end up to `slack` late (one tick: hosts read a clock that moves in ticks).
//!
//! - [`deadline_respected`] (`deadline-respected`): a call with a declared deadline ends by it.
//!   A request timeout that does not cover connection set-up breaks it during a partition
//!   (pitfall 4).
//! - [`no_work_after_deadline`] (`no-work-after-deadline`): a call made on behalf of a reconcile
//!   ends by that reconcile's deadline. Give the recorded client to the reconciler only (informers
//!   keep their own client): then a call made on host H at time t is on behalf of a reconcile of H
//!   that began at or before t, so its deadline is at most the latest such begin plus the
//!   reconcile timeout. The runtime cuts a reconcile at its deadline, but work it spawned with a
//!   deadline of its own lives on (pitfall 5: a nested timeout that extends the parent's).

use super::names;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::BTreeMap;
use std::time::Duration;

const BEGIN: &str = "call-begin ";
const END: &str = "call-end #";

/// The text of a `call-begin` event: `call-begin GET /api/v1/pods within=5.000000s`.
pub fn begin_text(method: &str, path: &str, within: Option<Duration>) -> String {
    match within {
        Some(d) => format!(
            "{BEGIN}{method} {path} within={}",
            seconds(d.as_micros() as u64)
        ),
        None => format!("{BEGIN}{method} {path}"),
    }
}

/// The text of a `call-end` event for the call begun by event `begin_id`.
pub fn end_text(begin_id: u64, outcome: &str) -> String {
    format!("{END}{begin_id:06} {outcome}")
}

fn seconds(us: u64) -> String {
    format!("{}.{:06}s", us / 1_000_000, us % 1_000_000)
}

/// Parses `<s>.<us>s`.
fn parse_seconds(s: &str) -> Option<u64> {
    let (whole, frac) = s.strip_suffix('s')?.split_once('.')?;
    if frac.len() != 6 {
        return None;
    }
    Some(whole.parse::<u64>().ok()? * 1_000_000 + frac.parse::<u64>().ok()?)
}

/// How a call ended.
#[derive(Debug, Clone)]
struct End {
    time_us: u64,
    event_id: u64,
    /// The outcome, or `crash`.
    outcome: String,
}

/// One recorded call.
#[derive(Debug, Clone)]
struct Call<'a> {
    begin: &'a HistoryEvent,
    /// `METHOD path`.
    what: &'a str,
    within_us: Option<u64>,
    end: Option<End>,
}

/// The recorded calls of `history`, in the order they began, with their ends.
fn calls(history: &[HistoryEvent]) -> Vec<Call<'_>> {
    let mut out: Vec<Call<'_>> = Vec::new();
    // Begin event id -> index in `out`, for calls still running.
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    for e in history {
        match &e.kind {
            EventKind::Client { text } => {
                if let Some(rest) = text.strip_prefix(BEGIN) {
                    let (what, within_us) = match rest.rsplit_once(" within=") {
                        Some((what, w)) => (what, parse_seconds(w)),
                        None => (rest, None),
                    };
                    open.insert(e.id, out.len());
                    out.push(Call {
                        begin: e,
                        what,
                        within_us,
                        end: None,
                    });
                } else if let Some(rest) = text.strip_prefix(END) {
                    let (id, outcome) = rest.split_once(' ').unwrap_or((rest, ""));
                    let Some(i) = id.parse::<u64>().ok().and_then(|id| open.remove(&id)) else {
                        continue;
                    };
                    out[i].end = Some(End {
                        time_us: e.time_us,
                        event_id: e.id,
                        outcome: outcome.to_string(),
                    });
                }
            }
            // A crash drops every task of the host, and with them its calls.
            EventKind::Crash { target } => {
                let ended: Vec<u64> = open
                    .iter()
                    .filter(|(_, i)| out[**i].begin.host == *target)
                    .map(|(id, _)| *id)
                    .collect();
                for id in ended {
                    let i = open.remove(&id).expect("invariant: the id was just listed");
                    out[i].end = Some(End {
                        time_us: e.time_us,
                        event_id: e.id,
                        outcome: "crash".into(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// Judges `call` against `deadline_us`: a violation when it ended (or was still running at
/// `last_us`) more than `slack` after it.
fn judge(
    oracle: &'static str,
    call: &Call<'_>,
    deadline_us: u64,
    slack: Duration,
    last_us: u64,
    whose: &str,
) -> Option<Violation> {
    let late_after = deadline_us + slack.as_micros() as u64;
    let (time_us, event_id, how) = match &call.end {
        Some(end) => (
            end.time_us,
            end.event_id,
            format!("ended {} at {}", end.outcome, seconds(end.time_us)),
        ),
        None => (
            last_us,
            call.begin.id,
            format!("still running at {}", seconds(last_us)),
        ),
    };
    (time_us > late_after).then(|| Violation {
        oracle,
        time_us,
        event_id: Some(event_id),
        message: format!(
            "call #{:06} {} on {} began at {}, {whose} deadline {}, {how}",
            call.begin.id,
            call.what,
            call.begin.host,
            seconds(call.begin.time_us),
            seconds(deadline_us),
        ),
    })
}

/// `deadline-respected`: every recorded call declared with a deadline (`within=`) ends by it,
/// give or take `slack`.
pub fn deadline_respected(history: &[HistoryEvent], slack: Duration) -> Vec<Violation> {
    let last_us = history.last().map_or(0, |e| e.time_us);
    calls(history)
        .iter()
        .filter_map(|c| {
            let within = c.within_us?;
            judge(
                names::DEADLINE_RESPECTED,
                c,
                c.begin.time_us + within,
                slack,
                last_us,
                "its",
            )
        })
        .collect()
}

/// `no-work-after-deadline`: every recorded call ends by the deadline of the reconcile it was
/// made for, give or take `slack`, where reconciles on a host have deadline `reconcile_timeout`
/// and a call is attributed to the reconciles of its host (see the module doc). A call made when
/// every reconcile of its host had passed its deadline is late from its first moment.
pub fn no_work_after_deadline(
    history: &[HistoryEvent],
    reconcile_timeout: Duration,
    slack: Duration,
) -> Vec<Violation> {
    let last_us = history.last().map_or(0, |e| e.time_us);
    let calls = calls(history);
    // The latest reconcile begin on each host before each call began (a crash forgets them).
    let mut latest: BTreeMap<&str, u64> = BTreeMap::new();
    let mut attributed: BTreeMap<u64, u64> = BTreeMap::new();
    let mut next = calls.iter().peekable();
    for e in history {
        match &e.kind {
            EventKind::ReconcileBegin { .. } => {
                latest.insert(e.host.as_str(), e.time_us);
            }
            EventKind::Crash { target } => {
                latest.remove(target.as_str());
            }
            _ => {}
        }
        while let Some(c) = next.peek() {
            if c.begin.id != e.id {
                break;
            }
            if let Some(b) = latest.get(c.begin.host.as_str()) {
                attributed.insert(c.begin.id, *b);
            }
            next.next();
        }
    }
    let timeout_us = reconcile_timeout.as_micros() as u64;
    calls
        .iter()
        .filter_map(|c| {
            let began = *attributed.get(&c.begin.id)?;
            let deadline_us = began + timeout_us;
            let whose = if c.begin.time_us > deadline_us + slack.as_micros() as u64 {
                "made after its reconcile's"
            } else {
                "its reconcile's"
            };
            judge(
                names::NO_WORK_AFTER_DEADLINE,
                c,
                deadline_us,
                slack,
                last_us,
                whose,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(10);

    fn ev(id: u64, time_ms: u64, host: &str, kind: EventKind) -> HistoryEvent {
        HistoryEvent {
            id,
            time_us: time_ms * 1_000,
            host: host.into(),
            kind,
        }
    }

    fn note(id: u64, time_ms: u64, text: String) -> HistoryEvent {
        ev(id, time_ms, "controller-0", EventKind::Client { text })
    }

    fn begin(id: u64, time_ms: u64) -> HistoryEvent {
        ev(
            id,
            time_ms,
            "controller-0",
            EventKind::ReconcileBegin {
                key: "default/g0".into(),
                attempt: 1,
            },
        )
    }

    #[test]
    fn the_text_forms_read_back() {
        assert_eq!(
            begin_text("GET", "/api/v1/pods", Some(Duration::from_millis(5_250))),
            "call-begin GET /api/v1/pods within=5.250000s"
        );
        assert_eq!(end_text(42, "dropped"), "call-end #000042 dropped");
        let h = [
            note(0, 0, begin_text("GET", "/a", Some(Duration::from_secs(5)))),
            note(1, 10, end_text(0, "200")),
        ];
        let c = calls(&h);
        assert_eq!(
            (c.len(), c[0].what, c[0].within_us),
            (1, "GET /a", Some(5_000_000))
        );
        assert_eq!(c[0].end.as_ref().map(|e| e.outcome.as_str()), Some("200"));
    }

    #[test]
    fn a_call_that_ends_after_its_deadline_is_caught() {
        let h = [
            note(
                0,
                1_000,
                begin_text("GET", "/a", Some(Duration::from_secs(5))),
            ),
            ev(1, 2_000, "sim", EventKind::Fault { text: "x".into() }),
            note(2, 9_000, end_text(0, "200")),
        ];
        let v = deadline_respected(&h, TICK);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            (v[0].oracle, v[0].event_id, v[0].time_us),
            ("deadline-respected", Some(2), 9_000_000)
        );
        assert!(
            v[0].message.contains("deadline 6.000000s"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn a_call_dropped_at_its_deadline_or_without_one_is_quiet() {
        let h = [
            note(
                0,
                1_000,
                begin_text("GET", "/a", Some(Duration::from_secs(5))),
            ),
            note(1, 1_000, begin_text("GET", "/b", None)),
            // One tick late: the slack.
            note(2, 6_010, end_text(0, "dropped")),
            note(3, 60_000, end_text(1, "200")),
        ];
        assert!(deadline_respected(&h, TICK).is_empty());
    }

    #[test]
    fn a_call_still_running_past_its_deadline_is_caught_and_a_crash_ends_calls() {
        let running = [
            note(
                0,
                1_000,
                begin_text("GET", "/a", Some(Duration::from_secs(5))),
            ),
            ev(1, 7_000, "sim", EventKind::Fault { text: "x".into() }),
        ];
        let v = deadline_respected(&running, TICK);
        assert_eq!((v.len(), v[0].event_id), (1, Some(0)));
        assert!(v[0].message.contains("still running at 7.000000s"));
        let crashed = [
            note(
                0,
                1_000,
                begin_text("GET", "/a", Some(Duration::from_secs(5))),
            ),
            ev(
                1,
                2_000,
                "sim",
                EventKind::Crash {
                    target: "controller-0".into(),
                },
            ),
            ev(2, 7_000, "sim", EventKind::Fault { text: "x".into() }),
        ];
        assert!(deadline_respected(&crashed, TICK).is_empty());
    }

    #[test]
    fn work_of_a_reconcile_that_outlives_its_deadline_is_caught() {
        let h = [
            begin(0, 1_000),
            note(1, 1_000, begin_text("PATCH", "/g0/status", None)),
            ev(
                2,
                1_000,
                "controller-0",
                EventKind::ReconcileEnd {
                    key: "default/g0".into(),
                    attempt: 1,
                    outcome: "ok".into(),
                    duration_us: 0,
                },
            ),
            note(3, 25_000, end_text(1, "200")),
        ];
        let v = no_work_after_deadline(&h, Duration::from_secs(10), TICK);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            (v[0].oracle, v[0].event_id),
            ("no-work-after-deadline", Some(3))
        );
        assert!(
            v[0].message.contains("its reconcile's deadline 11.000000s"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn a_call_made_after_every_reconcile_deadline_is_caught() {
        let h = [
            begin(0, 1_000),
            note(1, 12_000, begin_text("PATCH", "/g0/status", None)),
            note(2, 12_005, end_text(1, "200")),
        ];
        let v = no_work_after_deadline(&h, Duration::from_secs(10), TICK);
        assert_eq!(v.len(), 1);
        assert!(v[0].message.contains("made after its reconcile's deadline"));
    }

    #[test]
    fn work_within_the_latest_reconcile_deadline_and_unattributed_calls_are_quiet() {
        let h = [
            // Before any reconcile: not on behalf of one.
            note(0, 500, begin_text("GET", "/x", None)),
            begin(1, 1_000),
            note(2, 1_000, begin_text("PATCH", "/g0/status", None)),
            begin(3, 8_000),
            note(4, 9_000, begin_text("GET", "/pods", None)),
            note(5, 11_010, end_text(2, "dropped")),
            note(6, 17_000, end_text(4, "200")),
            note(7, 90_000, end_text(0, "200")),
        ];
        assert!(no_work_after_deadline(&h, Duration::from_secs(10), TICK).is_empty());
    }

    #[test]
    fn a_crash_forgets_the_reconciles_of_its_host() {
        let h = [
            begin(0, 1_000),
            ev(
                1,
                2_000,
                "sim",
                EventKind::Crash {
                    target: "controller-0".into(),
                },
            ),
            note(2, 30_000, begin_text("GET", "/x", None)),
            note(3, 30_005, end_text(2, "200")),
        ];
        assert!(no_work_after_deadline(&h, Duration::from_secs(10), TICK).is_empty());
    }
}
