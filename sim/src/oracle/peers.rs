//! Who is behind each connection, watch and commit: the client host a replica's `conn-open`
//! line names, carried over to the requests, watch streams and commits of that connection.
//!
//! The replica records, in this order and with no await between them (so no other line of the
//! run can come in between):
//!
//! - `conn-open cN HOST` when it accepts connection N (numbers start again at 1 when the replica
//!   restarts, so a `crash` or `restart` of the replica forgets its connections);
//! - `request cN VERB ...`, then for a watch `watch-open wM ...`, at once unless a fault plan
//!   delays the request (`crate::http::watch` opens the stream in the same synchronous step as
//!   the request otherwise): a `watch-open` right after a `request cN watch` of the same
//!   replica is connection N's stream; failing that, it is the stream of the one watch request
//!   of that replica still waiting for its outcome (a `watch-open` or a `response`; a new
//!   request or a close of its connection ends the wait), and of nobody when several wait;
//! - for a write, the `commit` lines storage made for it and at once its `response cN ...`
//!   (`crate::http::handle` applies the request and records the answer in one synchronous
//!   step): commits right before a `response cN` of the same replica are connection N's writes.
//!
//! Commits not followed at once by a response (the garbage collector's, the harness's) are not
//! attributed, nor is anything on a connection whose `conn-open` is not in the history.

use kubesim_model::{EventKind, HistoryEvent};
use std::collections::{BTreeMap, BTreeSet};

/// A connection: the replica that accepted it and its number there.
pub type Conn<'a> = (&'a str, u64);

/// One attributed commit.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// The `commit` event.
    pub commit: &'a HistoryEvent,
    /// The object written.
    pub key: &'a str,
    /// The client host whose request made it.
    pub writer: &'a str,
    /// The request's subresource (`status`), if any.
    pub subresource: Option<&'a str>,
    /// The request's verb.
    pub verb: &'a str,
}

/// One watch stream and the connection it was opened on.
#[derive(Debug, Clone, Copy)]
pub struct Stream<'a> {
    /// The `watch-open` event.
    pub open: &'a HistoryEvent,
    /// Its watcher id.
    pub watcher: u64,
    /// What it watches.
    pub target: &'a str,
    /// The connection, when the request before the open is in the history.
    pub conn: Option<Conn<'a>>,
    /// The client host, when the connection's `conn-open` is in the history.
    pub client: Option<&'a str>,
    /// The `watch-close` event, if the stream ended (a crash of its replica ends it unrecorded:
    /// see [`Peers::replica_down`]).
    pub close: Option<&'a HistoryEvent>,
}

/// The attribution of a history's connections, requests, streams and commits.
#[derive(Debug, Default)]
pub struct Peers<'a> {
    /// Client host of each request, by event index in the history.
    pub requests: BTreeMap<usize, &'a str>,
    /// Every attributed commit, in history order.
    pub writes: Vec<Write<'a>>,
    /// Every watch stream, by watcher id.
    pub streams: BTreeMap<u64, Stream<'a>>,
    /// Times (µs) at which each replica crashed or restarted: every connection it had ended.
    pub replica_down: BTreeMap<&'a str, Vec<u64>>,
    /// Hosts that reconcile (a `reconcile-begin` line): controllers, as opposed to workloads.
    pub reconcilers: BTreeSet<&'a str>,
}

impl<'a> Peers<'a> {
    /// Attributes `history` as the module doc says.
    pub fn of(history: &'a [HistoryEvent]) -> Self {
        let mut out = Peers::default();
        let mut open: BTreeMap<Conn<'a>, &'a str> = BTreeMap::new();
        // The last request seen on each connection: verb and subresource.
        let mut last_request: BTreeMap<Conn<'a>, (&'a str, Option<&'a str>)> = BTreeMap::new();
        // Commits waiting for the response that follows them at once.
        let mut pending: Vec<&'a HistoryEvent> = Vec::new();
        // Watch requests waiting for their outcome, by connection.
        let mut watching: BTreeMap<Conn<'a>, ()> = BTreeMap::new();
        for (i, e) in history.iter().enumerate() {
            let host = e.host.as_str();
            match &e.kind {
                EventKind::Commit { .. } => {
                    if pending.first().is_some_and(|p| p.host != e.host) {
                        pending.clear();
                    }
                    pending.push(e);
                    continue;
                }
                EventKind::Response { conn, .. } => {
                    let c = (host, *conn);
                    watching.remove(&c);
                    if let (Some(writer), Some((verb, sub))) = (open.get(&c), last_request.get(&c))
                    {
                        for p in pending.iter().filter(|p| p.host == e.host) {
                            if let EventKind::Commit { key, .. } = &p.kind {
                                out.writes.push(Write {
                                    commit: p,
                                    key,
                                    writer,
                                    subresource: *sub,
                                    verb,
                                });
                            }
                        }
                    }
                }
                EventKind::ConnOpen { conn, peer } => {
                    open.insert((host, *conn), peer.as_str());
                    last_request.remove(&(host, *conn));
                    watching.remove(&(host, *conn));
                }
                EventKind::ConnClose { conn } => {
                    watching.remove(&(host, *conn));
                }
                EventKind::Request {
                    conn,
                    verb,
                    subresource,
                    ..
                } => {
                    let c = (host, *conn);
                    last_request.insert(c, (verb.as_str(), subresource.as_deref()));
                    if verb == "watch" {
                        watching.insert(c, ());
                    } else {
                        watching.remove(&c);
                    }
                    if let Some(client) = open.get(&c) {
                        out.requests.insert(i, client);
                    }
                }
                EventKind::WatchOpen {
                    watcher, target, ..
                } => {
                    let conn = match i.checked_sub(1).map(|j| (j, &history[j])) {
                        Some((
                            _,
                            HistoryEvent {
                                host: h,
                                kind: EventKind::Request { conn, verb, .. },
                                ..
                            },
                        )) if h == &e.host && verb == "watch" => Some((host, *conn)),
                        _ => {
                            let mut waiting = watching.keys().filter(|(r, _)| *r == host);
                            match (waiting.next(), waiting.next()) {
                                (Some(c), None) => Some(*c),
                                _ => None,
                            }
                        }
                    };
                    if let Some(c) = conn {
                        watching.remove(&c);
                    }
                    let client = conn.and_then(|c| open.get(&c).copied());
                    out.streams.insert(
                        *watcher,
                        Stream {
                            open: e,
                            watcher: *watcher,
                            target,
                            conn,
                            client,
                            close: None,
                        },
                    );
                }
                EventKind::WatchClose { watcher, .. } => {
                    if let Some(s) = out.streams.get_mut(watcher) {
                        s.close.get_or_insert(e);
                    }
                }
                EventKind::Crash { target } | EventKind::Restart { target } => {
                    open.retain(|(replica, _), _| replica != target);
                    watching.retain(|(replica, _), _| replica != target);
                    last_request.retain(|(replica, _), _| replica != target);
                    out.replica_down
                        .entry(target.as_str())
                        .or_default()
                        .push(e.time_us);
                }
                EventKind::ReconcileBegin { .. } => {
                    out.reconcilers.insert(e.host.as_str());
                }
                _ => {}
            }
            pending.clear();
        }
        out
    }

    /// Whether the replica `replica` went down (crash or restart) in `(after, until]`.
    pub fn down_between(&self, replica: &str, after: u64, until: u64) -> bool {
        self.replica_down
            .get(replica)
            .is_some_and(|ts| ts.iter().any(|t| *t > after && *t <= until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::{history, request, response};
    use kubesim_model::WatchEventType;

    pub(crate) fn conn_open(
        replica: &'static str,
        conn: u64,
        peer: &str,
    ) -> (&'static str, EventKind) {
        let peer = peer.into();
        (replica, EventKind::ConnOpen { conn, peer })
    }

    fn commit(key: &str) -> (&'static str, EventKind) {
        let kind = EventKind::Commit {
            rev: 2,
            op: WatchEventType::Modified,
            key: key.into(),
        };
        ("apiserver-0", kind)
    }

    #[test]
    fn a_commit_belongs_to_the_response_that_follows_it_at_once() {
        let h = history(vec![
            conn_open("apiserver-0", 1, "controller-0"),
            conn_open("apiserver-0", 2, "workload"),
            request(1, "update", "cm/default/a"),
            request(2, "update", "cm/default/a"),
            commit("cm/default/a"),
            response(2, "update", "cm/default/a", 200, None),
            commit("cm/default/a"),
            response(1, "update", "cm/default/a", 200, None),
            // The garbage collector's commit: no response follows it.
            ("kube-controller-manager", commit("cm/default/a").1),
            ("sim", EventKind::Compact { rev: 1 }),
        ]);
        let p = Peers::of(&h);
        let writers: Vec<_> = p.writes.iter().map(|w| (w.commit.id, w.writer)).collect();
        assert_eq!(writers, vec![(4, "workload"), (6, "controller-0")]);
        assert_eq!(p.requests.get(&2), Some(&"controller-0"));
    }

    #[test]
    fn a_watch_belongs_to_the_request_right_before_it_and_a_restart_forgets_connections() {
        let h = history(vec![
            conn_open("apiserver-0", 1, "controller-0"),
            request(1, "watch", "pods"),
            (
                "apiserver-0",
                EventKind::WatchOpen {
                    watcher: 0,
                    target: "pods".into(),
                    rv: None,
                },
            ),
            (
                "sim",
                EventKind::Restart {
                    target: "apiserver-0".into(),
                },
            ),
            request(1, "watch", "pods"),
            (
                "apiserver-0",
                EventKind::WatchOpen {
                    watcher: 1,
                    target: "pods".into(),
                    rv: None,
                },
            ),
        ]);
        let p = Peers::of(&h);
        assert_eq!(p.streams[&0].client, Some("controller-0"));
        assert_eq!(p.streams[&0].conn, Some(("apiserver-0", 1)));
        assert_eq!(p.streams[&1].conn, Some(("apiserver-0", 1)));
        assert_eq!(p.streams[&1].client, None, "c1 was not reopened");
        assert!(p.down_between("apiserver-0", 0, 3_000));
    }

    #[test]
    fn a_delayed_watch_belongs_to_the_one_watch_request_still_waiting() {
        let open = |watcher| {
            let target = "pods".into();
            let kind = EventKind::WatchOpen {
                watcher,
                target,
                rv: None,
            };
            ("apiserver-0", kind)
        };
        let delay = || {
            let text = "plan c1 delay 500ms".into();
            ("apiserver-0", EventKind::Fault { text })
        };
        let h = history(vec![
            conn_open("apiserver-0", 1, "controller-0"),
            conn_open("apiserver-0", 2, "workload"),
            request(1, "watch", "pods"),
            delay(),
            request(2, "get", "pods/default/a"),
            response(2, "get", "pods/default/a", 200, None),
            open(0),
            // Two watch requests waiting: the open is nobody's.
            request(1, "watch", "pods"),
            request(2, "watch", "pods"),
            delay(),
            open(1),
        ]);
        let p = Peers::of(&h);
        assert_eq!(p.streams[&0].client, Some("controller-0"));
        assert_eq!(p.streams[&1].client, None);
    }

    #[test]
    fn every_commit_and_watch_of_a_real_run_is_attributed() {
        let scenario = crate::scenario::api_smoke::scenario();
        let report = crate::run::run(&scenario, 3, true);
        let h = &report.events;
        let p = Peers::of(h);
        let commits = h
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Commit { .. }))
            .count();
        assert!(commits > 0);
        assert_eq!(
            p.writes.len(),
            commits,
            "the api-smoke clients make every commit"
        );
        assert!(!p.streams.is_empty());
        for s in p.streams.values() {
            assert!(s.client.is_some(), "unattributed {}", s.open);
        }
        let clients: std::collections::BTreeSet<&str> = p.writes.iter().map(|w| w.writer).collect();
        assert!(
            clients.iter().all(|c| c.starts_with("client-")),
            "{clients:?}"
        );
    }
}
