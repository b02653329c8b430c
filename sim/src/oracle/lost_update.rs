//! `no-lost-update`: a client's acknowledged write is not undone by someone else: what the
//! client sees afterwards, and what storage holds at the end, is what it wrote, until it writes
//! that field again.
//!
//! Optimistic concurrency (resourceVersion preconditions, 409 Conflict) exists so that no writer
//! overwrites a change it has not seen. A controller that answers a 409 by forcing its stale copy
//! through (taking the latest resourceVersion and putting its old object back) silently undoes
//! other writers' changes (pitfall 10). A level-triggered controller often puts the change back on
//! its next reconcile of the newer copy; the spec still flapped (pods deleted and made again), and
//! when no newer copy comes, the change is lost for good. Both count.
//!
//! Clients note their writes and observations in the history (`client` events) as
//! `<verb> <name> <field>=<value> ... <result>`: the workloads of the built-in scenarios write
//! `create g0 replicas=2 ok`, `scale g0 replicas=4 ok`, `delete g0 ok`, end an attempt they could
//! not confirm with `gave up`, and note what a watch opened after their write shows as
//! `saw g0 replicas=4`. The rules, per object `name` and one `field`, for the client that writes
//! it:
//!
//! - **seen**: after its acknowledged write (`ok`) of value v, until its next write of `field`,
//!   everything it sees of `field` is v;
//! - **stored**: its last acknowledged write of v holds at the end: storage holds v;
//! - an acknowledged `delete` ends the claim, and so does `gave up` on a write of `field` or a
//!   delete (it may or may not have landed, so nothing can be said); a refusal (`409 Conflict`,
//!   `404 NotFound`, an injected error) changed nothing and keeps the earlier claim;
//! - an object whose `field` two clients wrote is not judged (one client may legitimately change
//!   what another wrote), nor an object gone from storage (a delete may come from elsewhere, such
//!   as the garbage collector).
//!
//! A `seen` violation points at the observation; a `stored` one at the first commit on the object
//! after the acknowledged write (the first write that may have undone it), or at the
//! acknowledgement when there is none.

use super::names;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::{BTreeMap, BTreeSet};

/// What the oracle may expect of one object's field.
enum Claim<'a> {
    /// The last acknowledged write set this value, at this event.
    Holds(&'a str, &'a HistoryEvent),
    /// Deleted, or the last write's outcome is unknown.
    Nothing,
}

/// One client note, parsed.
struct Note<'a> {
    verb: &'a str,
    name: &'a str,
    value: Option<&'a str>,
    acknowledged: bool,
    unknown: bool,
}

fn parse<'a>(text: &'a str, field: &str) -> Option<Note<'a>> {
    let mut words = text.split(' ');
    let verb = words.next()?;
    let name = words.next()?;
    let rest: Vec<&str> = words.collect();
    let value = rest
        .iter()
        .find_map(|w| w.strip_prefix(field)?.strip_prefix('='));
    Some(Note {
        verb,
        name,
        value,
        acknowledged: rest.last() == Some(&"ok"),
        unknown: text.ends_with(" gave up"),
    })
}

fn lost(at: &HistoryEvent, ack: &HistoryEvent, what: String) -> Violation {
    Violation {
        oracle: names::NO_LOST_UPDATE,
        time_us: at.time_us,
        event_id: Some(at.id),
        message: format!(
            "{} was told \"{}\" (#{:06}), but {what}",
            ack.host, ack.kind, ack.id
        ),
    }
}

/// Checks the rules in the module doc for `field` of the objects under `target`
/// (`resource/namespace`, as commit keys spell it), given `stored`: each object's name and the
/// value of `field` in storage at the end of the run.
pub fn no_lost_update(
    history: &[HistoryEvent],
    target: &str,
    field: &str,
    stored: &BTreeMap<String, String>,
) -> Vec<Violation> {
    let notes: Vec<(&HistoryEvent, Note<'_>)> = history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Client { text } => parse(text, field).map(|n| (e, n)),
            _ => None,
        })
        .collect();
    let mut writers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (e, n) in &notes {
        if n.verb != "saw" && n.value.is_some() {
            writers.entry(n.name).or_default().insert(e.host.as_str());
        }
    }
    let single = |name: &str| writers.get(name).is_some_and(|w| w.len() == 1);
    let mut claims: BTreeMap<&str, Claim<'_>> = BTreeMap::new();
    let mut seen_lost: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for (e, n) in &notes {
        match (n.verb, n.value) {
            ("delete", _) if n.acknowledged || n.unknown => {
                claims.insert(n.name, Claim::Nothing);
            }
            ("saw", Some(value)) => {
                let Some(Claim::Holds(want, ack)) = claims.get(n.name) else {
                    continue;
                };
                let writer = writers.get(n.name).and_then(|w| w.first());
                if value != *want
                    && single(n.name)
                    && writer == Some(&e.host.as_str())
                    && seen_lost.insert(n.name)
                {
                    out.push(lost(e, ack, format!("then saw {} {field}={value}", n.name)));
                }
            }
            (_, Some(value)) if n.acknowledged => {
                claims.insert(n.name, Claim::Holds(value, e));
            }
            (_, Some(_)) if n.unknown => {
                claims.insert(n.name, Claim::Nothing);
            }
            _ => {}
        }
    }
    for (name, claim) in claims {
        let Claim::Holds(value, ack) = claim else {
            continue;
        };
        let Some(now) = stored.get(name) else {
            continue;
        };
        if now == value || !single(name) || seen_lost.contains(name) {
            continue;
        }
        let key = format!("{target}/{name}");
        let overwrite = history
            .iter()
            .skip_while(|x| x.id <= ack.id)
            .find(|x| matches!(&x.kind, EventKind::Commit { key: k, .. } if *k == key));
        let by = match overwrite {
            Some(c) => format!(", first overwritten by {} (#{:06})", c.kind, c.id),
            None => String::new(),
        };
        let what = format!("storage holds {name} {field}={now} at the end{by}");
        out.push(lost(overwrite.unwrap_or(ack), ack, what));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::history;
    use kubesim_model::WatchEventType;

    fn note(host: &'static str, text: &str) -> (&'static str, EventKind) {
        (host, EventKind::Client { text: text.into() })
    }

    fn commit(rev: u64, name: &str) -> (&'static str, EventKind) {
        let key = format!("replicagroups.kubesim.io/default/{name}");
        let op = WatchEventType::Modified;
        ("apiserver-0", EventKind::Commit { rev, op, key })
    }

    fn stored(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const TARGET: &str = "replicagroups.kubesim.io/default";

    #[test]
    fn an_acknowledged_scale_undone_by_another_writer_is_caught() {
        let h = history(vec![
            note("scaler", "create s0 replicas=1 ok"),
            commit(2, "s0"),
            note("scaler", "scale s0 replicas=4 ok"),
            commit(3, "s0"),
            commit(4, "s0"),
        ]);
        let v = no_lost_update(&h, TARGET, "replicas", &stored(&[("s0", "1")]));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].oracle, "no-lost-update");
        assert_eq!(v[0].event_id, Some(3), "the first commit after the ack");
        assert!(
            v[0].message.contains(
                "scaler was told \"client scale s0 replicas=4 ok\" (#000002), \
                 but storage holds s0 replicas=1 at the end"
            ),
            "{}",
            v[0]
        );
    }

    #[test]
    fn the_last_acknowledged_write_holding_stays_quiet() {
        let h = history(vec![
            note("scaler", "create s0 replicas=1 ok"),
            note("scaler", "saw s0 replicas=1"),
            note("scaler", "scale s0 replicas=4 ok"),
            note("scaler", "saw s0 replicas=4"),
            // Refused writes changed nothing.
            note("scaler", "scale s0 replicas=2 409 Conflict"),
            note("workload", "create g0 replicas=3 ok"),
            note("workload", "delete g0 ok"),
        ]);
        let end = stored(&[("s0", "4"), ("g0", "5")]);
        assert_eq!(no_lost_update(&h, TARGET, "replicas", &end), vec![]);
    }

    #[test]
    fn an_overwrite_the_writer_sees_is_caught_even_if_put_back_later() {
        let h = history(vec![
            note("scaler", "create s0 replicas=1 ok"),
            note("scaler", "scale s0 replicas=4 ok"),
            note("scaler", "saw s0 replicas=4"),
            note("scaler", "saw s0 replicas=1"),
            note("scaler", "saw s0 replicas=4"),
            note("scaler", "scale s0 replicas=2 ok"),
            note("scaler", "saw s0 replicas=2"),
        ]);
        let v = no_lost_update(&h, TARGET, "replicas", &stored(&[("s0", "2")]));
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].event_id, Some(3), "the observation");
        assert!(
            v[0].message
                .contains("(#000001), but then saw s0 replicas=1"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn unknown_outcomes_two_writers_and_vanished_objects_are_not_judged() {
        let h = history(vec![
            note("scaler", "create s0 replicas=1 ok"),
            note("scaler", "scale s0 replicas=4 gave up"),
            note("scaler", "create s1 replicas=1 ok"),
            note("workload", "scale s1 replicas=2 ok"),
            note("scaler", "saw s1 replicas=2"),
            note("scaler", "create s2 replicas=1 ok"),
        ]);
        let end = stored(&[("s0", "4"), ("s1", "1")]);
        assert_eq!(no_lost_update(&h, TARGET, "replicas", &end), vec![]);
    }
}
