//! `no-leaked-streams`: a controller told to stop lets go of the API server. A watch stream still
//! open some time after its host's shutdown, or a call the host still makes then, belongs to a
//! task nobody stopped: a detached `tokio::spawn`, an informer run under a context nothing
//! cancels. The runtime's tracked-task check (`no-leaked-tasks`) cannot see a task it never
//! tracked; the API server sees its streams.
//!
//! From the history alone (who is behind each stream and request comes from [`super::peers`]):
//!
//! - a host's **shutdown** is its `runtime NAME stopping: shutdown` line (a stop for another
//!   reason, such as `leadership lost`, may be followed by a new term and is not judged). Its
//!   lifetime ends at its next `crash`, `restart` or `runtime NAME start`, or at the end of the
//!   run.
//! - it is judged [`Leaks::grace_us`] after the later of the shutdown and the harness's last
//!   fault, heal, crash or restart (a partition holds a closing stream's FIN until it heals),
//!   if the lifetime lasts that long;
//! - then every watch stream opened on a connection of the host and open at that time (not
//!   closed, and its replica not down since), or opened later, is a leak; so is every other
//!   request the host makes after that time.
//!
//! An idle connection still open is not a leak: a client's pool keeps connections after their
//! last call until the client itself is dropped, and holding a client is not holding a stream.

pub use super::names::NO_LEAKED_STREAMS;
use super::peers::Peers;
use super::quiescence::harness_faults;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};

/// The budget of [`no_leaked_streams`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaks {
    /// Time after the shutdown (and the last fault) for the host's streams to close and their
    /// close to reach the server, µs.
    pub grace_us: u64,
}

impl Default for Leaks {
    /// 5 s: the built-in controllers stop within their 2 s shutdown grace, and a close reaches
    /// the server one network latency (milliseconds) later.
    fn default() -> Self {
        Self {
            grace_us: 5_000_000,
        }
    }
}

fn secs(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, us % 1_000_000 / 1_000)
}

/// No stream or call outlives its host's shutdown, as the module doc says; `end_us` is the
/// run's simulated end when known.
pub fn no_leaked_streams(
    history: &[HistoryEvent],
    end_us: Option<u64>,
    budget: Leaks,
) -> Vec<Violation> {
    no_leaked_streams_in(history, None, end_us, budget)
}

/// [`no_leaked_streams`] with the history's attribution, when already made (the library shares
/// one); otherwise it is made only if a host shut down.
pub(crate) fn no_leaked_streams_in<'a>(
    history: &'a [HistoryEvent],
    given: Option<&Peers<'a>>,
    end_us: Option<u64>,
    budget: Leaks,
) -> Vec<Violation> {
    let last = history.iter().map(|e| e.time_us).max().unwrap_or(0);
    let run_end = end_us.unwrap_or(0).max(last);
    let harness: Vec<u64> = harness_faults(history, false).collect();
    let mut peers: Option<Peers<'_>> = None;
    let mut out = Vec::new();
    for (i, stop) in history.iter().enumerate() {
        let EventKind::Runtime { text } = &stop.kind else {
            continue;
        };
        if !(text == "stopping: shutdown" || text.ends_with(" stopping: shutdown")) {
            continue;
        }
        let host = stop.host.as_str();
        let lifetime_end = history[i + 1..]
            .iter()
            .find(|e| match &e.kind {
                EventKind::Crash { target } | EventKind::Restart { target } => target == host,
                EventKind::Runtime { text } => {
                    e.host == host && (text == "start" || text.ends_with(" start"))
                }
                _ => false,
            })
            .map_or(run_end, |e| e.time_us);
        let disturbed = harness
            .iter()
            .copied()
            .filter(|t| *t <= lifetime_end)
            .max()
            .unwrap_or(0);
        let judge = stop.time_us.max(disturbed).saturating_add(budget.grace_us);
        if judge >= lifetime_end {
            continue;
        }
        let peers: &Peers<'a> = match given {
            Some(p) => p,
            None => peers.get_or_insert_with(|| Peers::of(history)),
        };
        let mut leaked: Vec<String> = Vec::new();
        for s in peers.streams.values() {
            if s.client != Some(host) || s.open.time_us >= lifetime_end {
                continue;
            }
            let opened_after = s.open.time_us >= judge;
            let open_at_judge = s.open.time_us < judge
                && s.close.is_none_or(|c| c.time_us > judge)
                && !s
                    .conn
                    .is_some_and(|(replica, _)| peers.down_between(replica, s.open.time_us, judge));
            if opened_after || open_at_judge {
                let (replica, conn) = s.conn.unwrap_or(("?", 0));
                leaked.push(format!(
                    "w{} {} ({replica} c{conn}, opened #{:06} at {})",
                    s.watcher,
                    s.target,
                    s.open.id,
                    secs(s.open.time_us)
                ));
            }
        }
        let mut calls = Vec::new();
        for (j, client) in &peers.requests {
            let e = &history[*j];
            if *client != host || e.time_us < judge || e.time_us >= lifetime_end {
                continue;
            }
            if let EventKind::Request { verb, .. } = &e.kind {
                if verb != "watch" {
                    calls.push(e);
                }
            }
        }
        if leaked.is_empty() && calls.is_empty() {
            continue;
        }
        let mut what = Vec::new();
        if !leaked.is_empty() {
            let shown: Vec<&str> = leaked.iter().take(3).map(String::as_str).collect();
            let more = leaked.len().saturating_sub(3);
            what.push(format!(
                "{} watch stream(s) open: {}{}",
                leaked.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if let Some(first) = calls.first() {
            what.push(format!(
                "{} request(s) made, the first #{:06} \"{}\"",
                calls.len(),
                first.id,
                first.kind
            ));
        }
        out.push(Violation {
            oracle: NO_LEAKED_STREAMS,
            time_us: stop.time_us,
            event_id: Some(stop.id),
            message: format!(
                "{host} was told to stop at {}; at {} it still had {}",
                secs(stop.time_us),
                secs(judge),
                what.join("; ")
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::quiescence::HARNESS_HOST;

    use crate::oracle::testutil::at;

    fn watch(
        ms: u64,
        conn: u64,
        watcher: u64,
        target: &str,
    ) -> Vec<(u64, &'static str, EventKind)> {
        vec![
            (
                ms,
                "apiserver-0",
                EventKind::Request {
                    conn,
                    verb: "watch".into(),
                    target: target.into(),
                    subresource: None,
                    rv: None,
                },
            ),
            (
                ms,
                "apiserver-0",
                EventKind::WatchOpen {
                    watcher,
                    target: target.into(),
                    rv: None,
                },
            ),
        ]
    }

    fn close(ms: u64, watcher: u64) -> (u64, &'static str, EventKind) {
        let reason = "client gone".into();
        (ms, "apiserver-0", EventKind::WatchClose { watcher, reason })
    }

    fn runtime(ms: u64, text: &str) -> (u64, &'static str, EventKind) {
        let text = text.into();
        (ms, "controller-0", EventKind::Runtime { text })
    }

    /// controller-0 watches groups (w0, c1) and pods (w1, c2); it is told to stop at 80 s and
    /// the run ends at 90 s.
    fn base() -> Vec<(u64, &'static str, EventKind)> {
        let mut h = vec![
            (
                0,
                "apiserver-0",
                EventKind::ConnOpen {
                    conn: 1,
                    peer: "controller-0".into(),
                },
            ),
            (
                0,
                "apiserver-0",
                EventKind::ConnOpen {
                    conn: 2,
                    peer: "controller-0".into(),
                },
            ),
            (
                40_000,
                HARNESS_HOST,
                EventKind::Heal {
                    text: "api-faults".into(),
                },
            ),
        ];
        h.extend(watch(10, 1, 0, "groups"));
        h.extend(watch(10, 2, 1, "pods"));
        h.push(runtime(80_000, "replicagroup stopping: shutdown"));
        h
    }

    #[test]
    fn streams_closed_at_shutdown_hold() {
        let mut h = base();
        h.extend([
            close(80_010, 0),
            close(80_010, 1),
            runtime(80_020, "replicagroup stopped"),
        ]);
        assert_eq!(
            no_leaked_streams(&at(h), Some(90_000_000), Leaks::default()),
            vec![]
        );
    }

    #[test]
    fn a_watch_still_open_after_the_grace_is_a_leak_named_with_its_stream() {
        let mut h = base();
        h.push(close(80_010, 0));
        let v = no_leaked_streams(&at(h), Some(90_000_000), Leaks::default());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].oracle, NO_LEAKED_STREAMS);
        assert_eq!(v[0].event_id, Some(7), "located at the shutdown");
        assert_eq!(
            v[0].message,
            "controller-0 was told to stop at 80.000s; at 85.000s it still had 1 watch \
             stream(s) open: w1 pods (apiserver-0 c2, opened #000006 at 0.010s)"
        );
    }

    #[test]
    fn a_stream_reopened_or_a_call_made_after_the_grace_is_a_leak() {
        let mut h = base();
        h.extend([close(80_010, 0), close(80_010, 1)]);
        h.extend(watch(86_000, 2, 2, "pods"));
        h.push((
            87_000,
            "apiserver-0",
            EventKind::Request {
                conn: 1,
                verb: "list".into(),
                target: "pods".into(),
                subresource: None,
                rv: None,
            },
        ));
        let v = no_leaked_streams(&at(h), Some(90_000_000), Leaks::default());
        assert_eq!(v.len(), 1);
        assert!(
            v[0].message.contains("1 watch stream(s) open: w2 pods"),
            "{}",
            v[0]
        );
        assert!(
            v[0].message
                .contains("1 request(s) made, the first #000012 \"request c1 list pods rv=-\""),
            "{}",
            v[0]
        );
    }

    #[test]
    fn no_judgement_without_time_to_close_or_after_a_crash_or_new_term() {
        // The run ends within the grace.
        assert_eq!(
            no_leaked_streams(&at(base()), Some(84_000_000), Leaks::default()),
            vec![]
        );
        // A fault late in the run moves the judgement past its end.
        let mut late = base();
        late.push((
            88_000,
            HARNESS_HOST,
            EventKind::Heal {
                text: "partition".into(),
            },
        ));
        assert_eq!(
            no_leaked_streams(&at(late), Some(90_000_000), Leaks::default()),
            vec![]
        );
        // The host crashed right after the shutdown: its streams went with it.
        let mut crashed = base();
        crashed.push((
            80_500,
            HARNESS_HOST,
            EventKind::Crash {
                target: "controller-0".into(),
            },
        ));
        assert_eq!(
            no_leaked_streams(&at(crashed), Some(90_000_000), Leaks::default()),
            vec![]
        );
        // A stop for the loss of the lease is not a shutdown.
        let mut lost = base();
        lost.pop();
        lost.push(runtime(80_000, "replicagroup stopping: leadership lost"));
        assert_eq!(
            no_leaked_streams(&at(lost), Some(90_000_000), Leaks::default()),
            vec![]
        );
        // The replica that served the stream crashed: the stream ended with it.
        let mut replica = base();
        replica.push(close(80_010, 0));
        replica.push((
            81_000,
            HARNESS_HOST,
            EventKind::Crash {
                target: "apiserver-0".into(),
            },
        ));
        assert_eq!(
            no_leaked_streams(&at(replica), Some(95_000_000), Leaks::default()),
            vec![]
        );
    }
}
