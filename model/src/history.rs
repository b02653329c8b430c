//! The events of a simulated run.
//!
//! Every observable step is one [`HistoryEvent`]: an id (its index in the run), the simulated time,
//! the host it happened on, and what happened ([`EventKind`]). The one-line text form
//! ([`HistoryEvent`]'s `Display`) is stable and documented in the README: no addresses, no
//! wall-clock values, no hash-ordered collections, so the same seed renders the same bytes on any
//! machine. [`HistoryHasher`] folds the lines into the 64-bit history hash (XXH3-64 of each line
//! and its newline, streamed).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::watch::WatchEventType;

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Index of the event in the run, from 0.
    pub id: u64,
    /// Simulated time since the start of the run, in microseconds.
    pub time_us: u64,
    /// The host the event happened on (`apiserver-0`, `client-1`, `sim` for the harness).
    pub host: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Variants are grouped by the component that records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// An API server replica received a request. `target` is `resource/namespace/name` or a
    /// collection `resource/namespace`; `conn` numbers the connection on that replica.
    Request {
        /// Connection number on the serving replica.
        conn: u64,
        /// Verb: get, list, create, update, patch, delete, watch, deletecollection.
        verb: String,
        /// What it addresses.
        target: String,
        /// Subresource (`status`) if any.
        subresource: Option<String>,
        /// `resourceVersion` the request carried (query or body), if any.
        rv: Option<String>,
    },
    /// An API server replica answered a request.
    Response {
        /// Connection number on the serving replica.
        conn: u64,
        /// Verb of the request answered.
        verb: String,
        /// What it addressed.
        target: String,
        /// HTTP status code.
        code: u16,
        /// `resourceVersion` of the returned object or list, if any.
        rv: Option<u64>,
        /// Status reason on failure.
        reason: Option<String>,
    },
    /// Storage committed a write at revision `rev`.
    Commit {
        /// The new global revision.
        rev: u64,
        /// `ADDED`, `MODIFIED` or `DELETED`.
        op: WatchEventType,
        /// The object written.
        key: String,
    },
    /// Storage compacted its history: revisions up to `rev` are gone.
    Compact {
        /// The new compacted revision.
        rev: u64,
    },
    /// A watch stream started on a replica.
    WatchOpen {
        /// Watcher id, unique in the run.
        watcher: u64,
        /// What it watches.
        target: String,
        /// The resourceVersion it starts from, if any.
        rv: Option<String>,
    },
    /// A watch event was written to a watcher's stream.
    WatchSend {
        /// Watcher id.
        watcher: u64,
        /// Event type.
        kind: WatchEventType,
        /// Object key (empty for bookmarks and errors).
        key: String,
        /// resourceVersion carried by the event.
        rv: u64,
    },
    /// A watch stream ended.
    WatchClose {
        /// Watcher id.
        watcher: u64,
        /// Why: `timeout`, `expired`, `client gone`, `replica stopped`.
        reason: String,
    },
    /// An API server replica accepted a connection from client host `peer`. Connection numbers
    /// count from 1 on each replica and start again when it restarts; every `request`,
    /// `response` and `watch-open` on connection `cN` of that replica comes from `peer`.
    ConnOpen {
        /// Connection number on the accepting replica.
        conn: u64,
        /// The client's host name (turmoil's reverse lookup of its address), `unknown` if none.
        peer: String,
    },
    /// The server side of a connection ended: the client closed it or it broke. Not recorded
    /// when the replica itself crashes (its `crash` ends all its connections).
    ConnClose {
        /// Connection number on the replica.
        conn: u64,
    },
    /// A replica's watch cache caught up to a storage revision.
    CacheSync {
        /// The revision the cache now reflects.
        rev: u64,
    },
    /// A client could not reach an API server replica.
    ConnectFailed {
        /// The replica it tried.
        to: String,
        /// The error kind (for example `connection refused`).
        error: String,
    },
    /// A client-side observation recorded by a workload or controller.
    Client {
        /// What the client did or saw, in a stable text form.
        text: String,
    },
    /// The harness injected a fault.
    Fault {
        /// The fault, in a stable text form.
        text: String,
    },
    /// The harness healed a fault.
    Heal {
        /// The fault healed.
        text: String,
    },
    /// A host crashed (all its tasks dropped).
    Crash {
        /// The host.
        target: String,
    },
    /// A host restarted from its factory.
    Restart {
        /// The host.
        target: String,
    },
    /// A key was added to a controller's workqueue (`how`: `add`, `rate-limited <delay>`,
    /// `after <delay>`).
    QueueAdd {
        /// The key.
        key: String,
        /// How it was added.
        how: String,
    },
    /// A worker took a key from the workqueue.
    QueueGet {
        /// The key.
        key: String,
        /// The worker index.
        worker: u32,
    },
    /// A worker finished with a key.
    QueueDone {
        /// The key.
        key: String,
    },
    /// A reconcile started.
    ReconcileBegin {
        /// The key.
        key: String,
        /// Attempt number for this key since its last success (1 = first try).
        attempt: u32,
    },
    /// A reconcile ended.
    ReconcileEnd {
        /// The key.
        key: String,
        /// Attempt number.
        attempt: u32,
        /// `ok`, `requeue`, `requeue-after <d>`, `error <msg>`, `terminal <msg>`,
        /// `cancelled <reason>`.
        outcome: String,
        /// Simulated duration, microseconds.
        duration_us: u64,
    },
    /// An informer step: `list`, `watch`, `relist`, `synced`, `backoff`.
    Informer {
        /// The resource watched.
        resource: String,
        /// What happened, in a stable text form.
        text: String,
    },
    /// A leader election step: `acquired`, `renewed`, `renew-failed`, `lost`, `released`,
    /// `observed <holder>`.
    Lease {
        /// The lease, `namespace/name`.
        lease: String,
        /// What happened.
        text: String,
    },
    /// A controller runtime step: start, shutdown, leaked tasks.
    Runtime {
        /// What happened.
        text: String,
    },
}

fn opt<T: fmt::Display>(v: &Option<T>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "-".to_string(),
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request {
                conn,
                verb,
                target,
                subresource,
                rv,
            } => {
                write!(f, "request c{conn} {verb} {target}")?;
                if let Some(s) = subresource {
                    write!(f, "/{s}")?;
                }
                write!(f, " rv={}", opt(rv))
            }
            Self::Response {
                conn,
                verb,
                target,
                code,
                rv,
                reason,
            } => {
                write!(f, "response c{conn} {verb} {target} {code} rv={}", opt(rv))?;
                if let Some(r) = reason {
                    write!(f, " {r}")?;
                }
                Ok(())
            }
            Self::Commit { rev, op, key } => write!(f, "commit rev={rev} {op} {key}"),
            Self::Compact { rev } => write!(f, "compact rev={rev}"),
            Self::WatchOpen {
                watcher,
                target,
                rv,
            } => {
                write!(f, "watch-open w{watcher} {target} rv={}", opt(rv))
            }
            Self::WatchSend {
                watcher,
                kind,
                key,
                rv,
            } => {
                if key.is_empty() {
                    write!(f, "watch-send w{watcher} {kind} rv={rv}")
                } else {
                    write!(f, "watch-send w{watcher} {kind} {key} rv={rv}")
                }
            }
            Self::WatchClose { watcher, reason } => write!(f, "watch-close w{watcher} {reason}"),
            Self::ConnOpen { conn, peer } => write!(f, "conn-open c{conn} {peer}"),
            Self::ConnClose { conn } => write!(f, "conn-close c{conn}"),
            Self::CacheSync { rev } => write!(f, "cache-sync rev={rev}"),
            Self::ConnectFailed { to, error } => write!(f, "connect-failed {to} {error}"),
            Self::Client { text } => write!(f, "client {text}"),
            Self::Fault { text } => write!(f, "fault {text}"),
            Self::Heal { text } => write!(f, "heal {text}"),
            Self::Crash { target } => write!(f, "crash {target}"),
            Self::Restart { target } => write!(f, "restart {target}"),
            Self::QueueAdd { key, how } => write!(f, "queue-add {key} {how}"),
            Self::QueueGet { key, worker } => write!(f, "queue-get {key} worker={worker}"),
            Self::QueueDone { key } => write!(f, "queue-done {key}"),
            Self::ReconcileBegin { key, attempt } => {
                write!(f, "reconcile-begin {key} attempt={attempt}")
            }
            Self::ReconcileEnd {
                key,
                attempt,
                outcome,
                duration_us,
            } => write!(
                f,
                "reconcile-end {key} attempt={attempt} {outcome} took={}.{:06}s",
                duration_us / 1_000_000,
                duration_us % 1_000_000
            ),
            Self::Informer { resource, text } => write!(f, "informer {resource} {text}"),
            Self::Lease { lease, text } => write!(f, "lease {lease} {text}"),
            Self::Runtime { text } => write!(f, "runtime {text}"),
        }
    }
}

impl fmt::Display for HistoryEvent {
    /// `#<id> <seconds>.<micros>s <host> <event>`, for example
    /// `#000042 1.250000s apiserver-0 commit rev=7 ADDED configmaps/default/a`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_line(f, self.id, self.time_us, &self.host, &self.kind)
    }
}

/// Writes the text line of event `id` (without its newline) from its parts: the one definition
/// of the line that [`HistoryEvent`]'s `Display` and [`HistoryHasher::push_parts`] share, so an
/// event hashed from its parts hashes the bytes it would print.
fn write_line(
    w: &mut impl fmt::Write,
    id: u64,
    time_us: u64,
    host: &str,
    kind: &EventKind,
) -> fmt::Result {
    write!(
        w,
        "#{:06} {}.{:06}s {} {}",
        id,
        time_us / 1_000_000,
        time_us % 1_000_000,
        host,
        kind
    )
}

/// Streams history lines into the 64-bit history hash.
#[derive(Default)]
pub struct HistoryHasher {
    state: xxhash_rust::xxh3::Xxh3,
    /// The line being hashed, reused so that hashing an event allocates nothing once the
    /// buffer has grown to the longest line.
    line: String,
}

impl HistoryHasher {
    /// A hasher over no lines yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one event, as its text line plus a newline.
    pub fn push(&mut self, event: &HistoryEvent) {
        self.push_parts(event.id, event.time_us, &event.host, &event.kind);
    }

    /// Adds the event `HistoryEvent { id, time_us, host, kind }` without building it (a
    /// recorder that keeps only the hash need not copy the host name): the same bytes as
    /// [`HistoryHasher::push`].
    pub fn push_parts(&mut self, id: u64, time_us: u64, host: &str, kind: &EventKind) {
        self.line.clear();
        write_line(&mut self.line, id, time_us, host, kind)
            .expect("invariant: writing to a String cannot fail");
        self.line.push('\n');
        // The same bytes as before (the line, then a newline): XXH3's streaming digest does
        // not depend on how the input is split across `update` calls.
        self.state.update(self.line.as_bytes());
    }

    /// The hash of the lines pushed so far.
    pub fn finish(&self) -> u64 {
        self.state.digest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64, kind: EventKind) -> HistoryEvent {
        HistoryEvent {
            id,
            time_us: 1_250_000,
            host: "apiserver-0".into(),
            kind,
        }
    }

    #[test]
    fn text_form_is_one_stable_line() {
        let e = ev(
            42,
            EventKind::Commit {
                rev: 7,
                op: WatchEventType::Added,
                key: "configmaps/default/a".into(),
            },
        );
        assert_eq!(
            e.to_string(),
            "#000042 1.250000s apiserver-0 commit rev=7 ADDED configmaps/default/a"
        );
    }

    #[test]
    fn json_lines_round_trip() {
        let e = ev(
            1,
            EventKind::Response {
                conn: 3,
                verb: "update".into(),
                target: "leases/kube-system/l".into(),
                code: 409,
                rv: None,
                reason: Some("Conflict".into()),
            },
        );
        let line = serde_json::to_string(&e).expect("serializes");
        assert!(line.contains("\"event\":\"response\""));
        let back: HistoryEvent = serde_json::from_str(&line).expect("parses");
        assert_eq!(back, e);
    }

    #[test]
    fn connection_events_have_stable_text_and_json_forms() {
        let open = ev(
            3,
            EventKind::ConnOpen {
                conn: 2,
                peer: "controller-0".into(),
            },
        );
        assert_eq!(
            open.to_string(),
            "#000003 1.250000s apiserver-0 conn-open c2 controller-0"
        );
        let close = ev(4, EventKind::ConnClose { conn: 2 });
        assert_eq!(
            close.to_string(),
            "#000004 1.250000s apiserver-0 conn-close c2"
        );
        for e in [open, close] {
            let line = serde_json::to_string(&e).expect("serializes");
            assert!(line.contains("\"event\":\"conn_"), "{line}");
            let back: HistoryEvent = serde_json::from_str(&line).expect("parses");
            assert_eq!(back, e);
        }
    }

    #[test]
    fn hash_depends_on_every_line_and_its_order() {
        let a = ev(0, EventKind::Compact { rev: 1 });
        let b = ev(1, EventKind::Compact { rev: 2 });
        let hash = |evs: &[&HistoryEvent]| {
            let mut h = HistoryHasher::new();
            evs.iter().for_each(|e| h.push(e));
            h.finish()
        };
        assert_eq!(hash(&[&a, &b]), hash(&[&a, &b]));
        assert_ne!(hash(&[&a, &b]), hash(&[&b, &a]));
        assert_ne!(hash(&[&a]), hash(&[&a, &b]));
    }
}
