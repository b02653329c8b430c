//! `no-write-fight` (ownership): one object, one owner. Two controllers that both think they own
//! an object (two operators managing the same Deployment, two parents whose selectors overlap,
//! in two hosts) undo each other's writes, back and forth, for as long as they run.
//!
//! Each commit is attributed to the client host whose request made it ([`super::peers`]), per
//! object and per part written (the main resource or its `status` subresource, so a workload
//! scaling the spec and the controller writing status are two parts, not a fight). The writers
//! of one part, consecutive writes by one host merged, form a sequence such as `A B A B A`; a
//! stretch in which two hosts take turns, each turn undoing the other's, is a ping-pong. A
//! stretch with [`Ownership::turns_min`] changes of writer or more, one of the two hosts a
//! controller (a host that reconciles), is flagged. Two clients that are not controllers writing
//! one object in random turns (the `api-smoke` workload) is contention, not ownership: two of 300
//! `api-smoke` seeds have 8 turns by chance.
//!
//! What it does not see: the values. A fight inside one host (two parents in one controller
//! whose selectors overlap) has a single writer; it shows as a controller that never settles,
//! which [`super::quiescence()`] flags once the workload stops. Leader election's Leases change
//! hands by design and are exempt.

pub use super::names::NO_WRITE_FIGHT;
use super::peers::Peers;
use super::Violation;
use kubesim_model::HistoryEvent;
use std::collections::BTreeMap;

/// The budget of [`no_write_fight`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    /// Fewest changes of writer, taking turns between two hosts, that make a fight.
    pub turns_min: usize,
    /// Key prefixes not judged.
    pub exempt: &'static [&'static str],
}

impl Default for Ownership {
    /// 8 turns (`A B A B A B A B A`); Leases exempt.
    fn default() -> Self {
        Self {
            turns_min: 8,
            exempt: &["leases.coordination.k8s.io/"],
        }
    }
}

/// A run of consecutive writes by one host.
struct Turn<'a> {
    writer: &'a str,
    first: &'a HistoryEvent,
}

/// No two hosts take turns writing one object part, as the module doc says.
pub fn no_write_fight(history: &[HistoryEvent], budget: Ownership) -> Vec<Violation> {
    no_write_fight_in(&Peers::of(history), budget)
}

/// [`no_write_fight`] over a history's attribution already made (the library shares one).
pub(crate) fn no_write_fight_in(peers: &Peers<'_>, budget: Ownership) -> Vec<Violation> {
    let reconcilers = &peers.reconcilers;
    let mut turns: BTreeMap<(&str, Option<&str>), Vec<Turn<'_>>> = BTreeMap::new();
    for w in &peers.writes {
        if budget.exempt.iter().any(|p| w.key.starts_with(p)) {
            continue;
        }
        let seq = turns.entry((w.key, w.subresource)).or_default();
        if seq.last().is_none_or(|t| t.writer != w.writer) {
            seq.push(Turn {
                writer: w.writer,
                first: w.commit,
            });
        }
    }
    let mut out = Vec::new();
    for ((key, sub), seq) in turns {
        // The longest stretch where every turn's writer is the one two turns before.
        let mut best: Option<(usize, usize)> = None; // (start index, turns)
        let mut start = 0;
        for i in 1..seq.len() {
            if i >= 2 && seq[i].writer != seq[i - 2].writer {
                start = i - 1;
            }
            let changes = i - start;
            if best.is_none_or(|(_, b)| changes > b) {
                best = Some((start, changes));
            }
        }
        let Some((s, changes)) = best else { continue };
        if changes < budget.turns_min.max(1) {
            continue;
        }
        let (a, b) = (seq[s].writer, seq[s + 1].writer);
        if !reconcilers.contains(a) && !reconcilers.contains(b) {
            continue;
        }
        let first = seq[s + 1].first;
        let last = seq[s + changes].first;
        let part = match sub {
            Some(sub) => format!("{key}/{sub}"),
            None => key.to_string(),
        };
        out.push(Violation {
            oracle: NO_WRITE_FIGHT,
            time_us: first.time_us,
            event_id: Some(first.id),
            message: format!(
                "{part}: {a} and {b} undid each other's writes {changes} times in turn \
                 (#{:06} to #{:06}): two owners of one object",
                first.id, last.id
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::history;
    use kubesim_model::{EventKind, WatchEventType};

    fn conn(c: u64, peer: &str) -> (&'static str, EventKind) {
        let peer = peer.into();
        ("apiserver-0", EventKind::ConnOpen { conn: c, peer })
    }

    /// A write of `key` on connection `c`.
    fn write(c: u64, key: &str, status: bool) -> Vec<(&'static str, EventKind)> {
        let subresource = status.then(|| "status".to_string());
        vec![
            (
                "apiserver-0",
                EventKind::Request {
                    conn: c,
                    verb: "update".into(),
                    target: key.into(),
                    subresource,
                    rv: None,
                },
            ),
            (
                "apiserver-0",
                EventKind::Commit {
                    rev: 1,
                    op: WatchEventType::Modified,
                    key: key.into(),
                },
            ),
            (
                "apiserver-0",
                EventKind::Response {
                    conn: c,
                    verb: "update".into(),
                    target: key.into(),
                    code: 200,
                    rv: None,
                    reason: None,
                },
            ),
        ]
    }

    fn reconcile(host: &'static str) -> (&'static str, EventKind) {
        let key = "default/web".into();
        (host, EventKind::ReconcileBegin { key, attempt: 1 })
    }

    fn fight(rounds: usize) -> Vec<(&'static str, EventKind)> {
        let mut h = vec![conn(1, "operator-a"), conn(2, "operator-b")];
        for _ in 0..rounds {
            h.extend(write(1, "deployments/default/web", false));
            h.extend(write(2, "deployments/default/web", false));
        }
        h
    }

    #[test]
    fn two_hosts_undoing_each_others_writes_are_flagged() {
        let mut h = fight(5);
        h.push(reconcile("operator-b"));
        let v = no_write_fight(&history(h), Ownership::default());
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].oracle, NO_WRITE_FIGHT);
        assert_eq!(v[0].event_id, Some(6), "at the first undo");
        assert_eq!(
            v[0].message,
            "deployments/default/web: operator-a and operator-b undid each other's writes 9 \
             times in turn (#000006 to #000030): two owners of one object"
        );
    }

    #[test]
    fn a_few_turns_or_turns_between_two_clients_that_are_not_controllers_are_not_a_fight() {
        let mut few = fight(4);
        few.push(reconcile("operator-a"));
        assert_eq!(no_write_fight(&history(few), Ownership::default()), vec![]);
        assert_eq!(
            no_write_fight(&history(fight(5)), Ownership::default()),
            vec![]
        );
    }

    #[test]
    fn spec_and_status_by_two_hosts_and_a_third_writer_are_not_a_fight() {
        let mut h = vec![
            conn(1, "workload"),
            conn(2, "controller-0"),
            conn(3, "operator-c"),
            reconcile("controller-0"),
        ];
        for _ in 0..10 {
            h.extend(write(1, "groups/default/g0", false));
            h.extend(write(2, "groups/default/g0", true));
        }
        assert_eq!(
            no_write_fight(&history(h.clone()), Ownership::default()),
            vec![]
        );
        // A third writer breaks a stretch of turns: A B A B C B C ...
        let mut three = vec![conn(1, "a"), conn(2, "b"), conn(3, "c"), reconcile("a")];
        for c in [1, 2, 1, 2, 3, 2, 3, 1, 3, 1] {
            three.extend(write(c, "cm/default/x", false));
        }
        assert_eq!(
            no_write_fight(&history(three), Ownership::default()),
            vec![]
        );
    }

    #[test]
    fn leases_changing_hands_are_exempt() {
        let mut h = vec![
            conn(1, "replica-0"),
            conn(2, "replica-1"),
            reconcile("replica-0"),
        ];
        for _ in 0..10 {
            h.extend(write(1, "leases.coordination.k8s.io/default/lead", false));
            h.extend(write(2, "leases.coordination.k8s.io/default/lead", false));
        }
        assert_eq!(no_write_fight(&history(h), Ownership::default()), vec![]);
    }
}
