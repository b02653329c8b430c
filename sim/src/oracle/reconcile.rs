//! Controller runtime oracles over reconciles: one key at a time per host, and a bound on how
//! many run at once.

use super::names;
use super::violation::violation;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::BTreeMap;

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
                        oracle: names::NO_CONCURRENT_RECONCILE,
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
                        names::BOUNDED_CONCURRENCY,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::*;

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
}
