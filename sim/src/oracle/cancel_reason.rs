//! `honest-cancel-reason`: a reconcile cut short by the loss of its host's lease says so.
//!
//! docs/design.md ("Cancellation and deadlines"): the cancel reason (shutdown, leadership lost,
//! deadline exceeded, API error) is kept distinct and recorded; a cancellation is never reported
//! as a timeout. The runtime keeps that promise for the reconciles it cancels itself
//! (`cancelled leadership lost`), but a reconciler that runs its work under the lease's context
//! reports its own error, and a natural `Err(_) => Error::Timeout` turns the loss of leadership
//! into a timeout that never happened (pitfall 6).
//!
//! The rule, per host: when the history shows `lease <l> lost ...` on a host, every reconcile on
//! that host that began before the loss, was still running at it, and ended in failure within
//! [`CUT_WITHIN`] of it was cut short by the loss; its outcome must name the reason
//! (`leadership lost`). A reconcile that ends well (`ok`) is not this oracle's business: the
//! single-writer oracle judges work done after a lease is lost.
//!
//! The window assumes what every lease-aware controller does: its reconciles run under the term's
//! context, so losing the lease ends them at once (the runtime's
//! [`run_while_leading`](kubesim_controller::run_while_leading) does, in the same instant). A
//! failure long after the loss has some other cause and is not judged.

use super::names;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::BTreeMap;

/// How soon after a lease loss a failed reconcile counts as cut short by it, microseconds.
pub const CUT_WITHIN_US: u64 = 1_000_000;
/// [`CUT_WITHIN_US`] as a duration, for the docs.
pub const CUT_WITHIN: std::time::Duration = std::time::Duration::from_micros(CUT_WITHIN_US);

/// The words an honest outcome of a reconcile cut short by a lease loss contains.
pub const LEADERSHIP_LOST: &str = "leadership lost";

/// A reconcile running on one host: the lease losses of its host while it ran.
struct Running<'a> {
    losses: Vec<&'a HistoryEvent>,
}

/// Whether a reconcile outcome is a success (`ok`, `ok requeue`, `ok requeue-after ...`).
fn succeeded(outcome: &str) -> bool {
    outcome == "ok" || outcome.starts_with("ok ")
}

/// Checks the rule in the module doc over `history`.
pub fn honest_cancel_reason(history: &[HistoryEvent]) -> Vec<Violation> {
    let mut running: BTreeMap<(&str, &str), Running<'_>> = BTreeMap::new();
    let mut out = Vec::new();
    for e in history {
        let host = e.host.as_str();
        match &e.kind {
            EventKind::ReconcileBegin { key, .. } => {
                running.insert((host, key.as_str()), Running { losses: Vec::new() });
            }
            EventKind::Lease { text, .. } if text.starts_with("lost") => {
                for ((h, _), r) in running.iter_mut() {
                    if *h == host {
                        r.losses.push(e);
                    }
                }
            }
            EventKind::ReconcileEnd { key, outcome, .. } => {
                let Some(r) = running.remove(&(host, key.as_str())) else {
                    continue;
                };
                if succeeded(outcome) || outcome.contains(LEADERSHIP_LOST) {
                    continue;
                }
                let cut = r
                    .losses
                    .iter()
                    .rev()
                    .find(|l| e.time_us.saturating_sub(l.time_us) <= CUT_WITHIN_US);
                if let Some(loss) = cut {
                    out.push(Violation {
                        oracle: names::HONEST_CANCEL_REASON,
                        time_us: e.time_us,
                        event_id: Some(e.id),
                        message: format!(
                            "{key} on {host} was cut short when the host lost its lease \
                             (#{:06}: {}), but reported \"{outcome}\"",
                            loss.id, loss.kind
                        ),
                    });
                }
            }
            // A crash ends everything that was running on the host.
            EventKind::Crash { target } => running.retain(|(h, _), _| h != target),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::history;

    fn begin(host: &'static str) -> (&'static str, EventKind) {
        let key = "default/g0".into();
        (host, EventKind::ReconcileBegin { key, attempt: 1 })
    }

    fn end(host: &'static str, outcome: &str) -> (&'static str, EventKind) {
        let kind = EventKind::ReconcileEnd {
            key: "default/g0".into(),
            attempt: 1,
            outcome: outcome.into(),
            duration_us: 0,
        };
        (host, kind)
    }

    fn lost(host: &'static str) -> (&'static str, EventKind) {
        let kind = EventKind::Lease {
            lease: "default/lead".into(),
            text: "lost no renewal within 10s".into(),
        };
        (host, kind)
    }

    #[test]
    fn a_lease_loss_reported_as_a_timeout_is_caught() {
        let h = history(vec![
            begin("c-0"),
            lost("c-0"),
            end("c-0", "error reconcile failed: timed out after 5s"),
        ]);
        let v = honest_cancel_reason(&h);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].oracle, "honest-cancel-reason");
        assert_eq!(v[0].event_id, Some(2));
        assert!(
            v[0].message.contains("(#000001: lease default/lead lost"),
            "{}",
            v[0]
        );
        assert!(v[0].message.contains("timed out after 5s"), "{}", v[0]);
    }

    #[test]
    fn an_honest_reason_a_success_and_other_hosts_stay_quiet() {
        let h = history(vec![
            begin("c-0"),
            begin("c-1"),
            lost("c-0"),
            end("c-0", "cancelled leadership lost"),
            // c-1 kept its lease: its timeout is its own.
            end("c-1", "error reconcile failed: timed out after 5s"),
            begin("c-0"),
            lost("c-0"),
            end("c-0", "ok"),
            // A timeout that ended before the loss is not blamed on it.
            begin("c-0"),
            end("c-0", "error reconcile failed: timed out after 5s"),
            lost("c-0"),
        ]);
        assert_eq!(honest_cancel_reason(&h), vec![]);
    }

    #[test]
    fn a_failure_long_after_the_loss_and_a_crash_are_not_blamed_on_it() {
        let mut events = vec![begin("c-0"), lost("c-0")];
        // 1,001 events 1 ms apart: the end comes more than CUT_WITHIN after the loss.
        events.extend((0..1_001).map(|_| ("sim", EventKind::Compact { rev: 1 })));
        events.push(end("c-0", "error reconcile failed: 500"));
        assert_eq!(honest_cancel_reason(&history(events)), vec![]);
        let crashed = history(vec![
            begin("c-0"),
            (
                "sim",
                EventKind::Crash {
                    target: "c-0".into(),
                },
            ),
            begin("c-1"),
            lost("c-0"),
            end("c-0", "error timed out"),
        ]);
        assert_eq!(honest_cancel_reason(&crashed), vec![]);
    }
}
