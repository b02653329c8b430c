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

/// Writes each [`Piece`] in turn to `w`; evaluates to the [`fmt::Result`].
macro_rules! put {
    ($w:expr, $($piece:expr),+ $(,)?) => {{
        $(Piece::put($piece, $w)?;)+
        fmt::Result::Ok(())
    }};
}

/// One piece of a history line, written straight to the output: strings with `write_str`,
/// integers with `itoa`, so that the hot path (every event of every run is hashed as its line)
/// does not go through `core::fmt`'s argument and padding machinery. The bytes are those of the
/// `write!` form the line was first defined with (the tests keep it as a reference).
trait Piece {
    /// Writes the piece to `w`.
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result;
}

impl Piece for &str {
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
        w.write_str(self)
    }
}

impl Piece for &String {
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
        w.write_str(self)
    }
}

impl Piece for char {
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
        w.write_char(self)
    }
}

impl Piece for WatchEventType {
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
        w.write_str(self.as_str())
    }
}

/// Integers in decimal, as `{}` prints them.
macro_rules! integer_piece {
    ($($t:ty),+) => {$(
        impl Piece for $t {
            fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
                w.write_str(itoa::Buffer::new().format(self))
            }
        }
    )+};
}
integer_piece!(u16, u32, u64);

/// A number zero-padded to at least six digits, as `{:06}` prints it (a longer number is
/// printed in full).
struct Pad6(u64);

impl Piece for Pad6 {
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
        const ZEROS: &str = "000000";
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(self.0);
        // `get` rather than indexing: no zeros (and no panic) for seven digits or more.
        w.write_str(ZEROS.get(digits.len()..).unwrap_or(""))?;
        w.write_str(digits)
    }
}

/// A duration in microseconds as seconds with six decimals and a unit: `1.250000s`.
struct Seconds(u64);

impl Piece for Seconds {
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
        put!(w, self.0 / 1_000_000, '.', Pad6(self.0 % 1_000_000), 's')
    }
}

/// An optional value, `-` when absent.
struct OrDash<T>(Option<T>);

impl<T: Piece> Piece for OrDash<T> {
    fn put<W: fmt::Write>(self, w: &mut W) -> fmt::Result {
        match self.0 {
            Some(v) => v.put(w),
            None => w.write_char('-'),
        }
    }
}

/// Writes the text form of `kind` (the part of the line after the host).
fn write_kind<W: fmt::Write>(w: &mut W, kind: &EventKind) -> fmt::Result {
    match kind {
        EventKind::Request {
            conn,
            verb,
            target,
            subresource,
            rv,
        } => {
            put!(w, "request c", *conn, ' ', verb, ' ', target)?;
            if let Some(s) = subresource {
                put!(w, '/', s)?;
            }
            put!(w, " rv=", OrDash(rv.as_ref()))
        }
        EventKind::Response {
            conn,
            verb,
            target,
            code,
            rv,
            reason,
        } => {
            put!(
                w,
                "response c",
                *conn,
                ' ',
                verb,
                ' ',
                target,
                ' ',
                *code,
                " rv=",
                OrDash(*rv)
            )?;
            if let Some(r) = reason {
                put!(w, ' ', r)?;
            }
            Ok(())
        }
        EventKind::Commit { rev, op, key } => put!(w, "commit rev=", *rev, ' ', *op, ' ', key),
        EventKind::Compact { rev } => put!(w, "compact rev=", *rev),
        EventKind::WatchOpen {
            watcher,
            target,
            rv,
        } => put!(
            w,
            "watch-open w",
            *watcher,
            ' ',
            target,
            " rv=",
            OrDash(rv.as_ref())
        ),
        EventKind::WatchSend {
            watcher,
            kind,
            key,
            rv,
        } => {
            put!(w, "watch-send w", *watcher, ' ', *kind)?;
            if !key.is_empty() {
                put!(w, ' ', key)?;
            }
            put!(w, " rv=", *rv)
        }
        EventKind::WatchClose { watcher, reason } => {
            put!(w, "watch-close w", *watcher, ' ', reason)
        }
        EventKind::ConnOpen { conn, peer } => put!(w, "conn-open c", *conn, ' ', peer),
        EventKind::ConnClose { conn } => put!(w, "conn-close c", *conn),
        EventKind::CacheSync { rev } => put!(w, "cache-sync rev=", *rev),
        EventKind::ConnectFailed { to, error } => put!(w, "connect-failed ", to, ' ', error),
        EventKind::Client { text } => put!(w, "client ", text),
        EventKind::Fault { text } => put!(w, "fault ", text),
        EventKind::Heal { text } => put!(w, "heal ", text),
        EventKind::Crash { target } => put!(w, "crash ", target),
        EventKind::Restart { target } => put!(w, "restart ", target),
        EventKind::QueueAdd { key, how } => put!(w, "queue-add ", key, ' ', how),
        EventKind::QueueGet { key, worker } => put!(w, "queue-get ", key, " worker=", *worker),
        EventKind::QueueDone { key } => put!(w, "queue-done ", key),
        EventKind::ReconcileBegin { key, attempt } => {
            put!(w, "reconcile-begin ", key, " attempt=", *attempt)
        }
        EventKind::ReconcileEnd {
            key,
            attempt,
            outcome,
            duration_us,
        } => put!(
            w,
            "reconcile-end ",
            key,
            " attempt=",
            *attempt,
            ' ',
            outcome,
            " took=",
            Seconds(*duration_us)
        ),
        EventKind::Informer { resource, text } => put!(w, "informer ", resource, ' ', text),
        EventKind::Lease { lease, text } => put!(w, "lease ", lease, ' ', text),
        EventKind::Runtime { text } => put!(w, "runtime ", text),
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_kind(f, self)
    }
}

impl HistoryEvent {
    /// Writes the text line (without its newline) to `w`: the bytes of `Display`, without a
    /// `Formatter` between (a history of thousands of lines is written this way).
    pub fn write_text<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        write_line(w, self.id, self.time_us, &self.host, &self.kind)
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
fn write_line<W: fmt::Write>(
    w: &mut W,
    id: u64,
    time_us: u64,
    host: &str,
    kind: &EventKind,
) -> fmt::Result {
    put!(w, '#', Pad6(id), ' ', Seconds(time_us), ' ', host, ' ')?;
    write_kind(w, kind)
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

    // The `write!` form of the line, as it was first defined: the reference the `itoa` and
    // `write_str` form must match byte for byte (pinned seeds and snapshots hash these bytes).

    /// The reference's rendering of an optional value: the value, or `-`.
    fn reference_opt<T: fmt::Display>(v: &Option<T>) -> String {
        match v {
            Some(v) => v.to_string(),
            None => "-".to_string(),
        }
    }

    /// [`EventKind`] rendered by the reference.
    struct ReferenceKind<'a>(&'a EventKind);

    impl fmt::Display for ReferenceKind<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                EventKind::Request {
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
                    write!(f, " rv={}", reference_opt(rv))
                }
                EventKind::Response {
                    conn,
                    verb,
                    target,
                    code,
                    rv,
                    reason,
                } => {
                    write!(
                        f,
                        "response c{conn} {verb} {target} {code} rv={}",
                        reference_opt(rv)
                    )?;
                    if let Some(r) = reason {
                        write!(f, " {r}")?;
                    }
                    Ok(())
                }
                EventKind::Commit { rev, op, key } => write!(f, "commit rev={rev} {op} {key}"),
                EventKind::Compact { rev } => write!(f, "compact rev={rev}"),
                EventKind::WatchOpen {
                    watcher,
                    target,
                    rv,
                } => {
                    write!(f, "watch-open w{watcher} {target} rv={}", reference_opt(rv))
                }
                EventKind::WatchSend {
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
                EventKind::WatchClose { watcher, reason } => {
                    write!(f, "watch-close w{watcher} {reason}")
                }
                EventKind::ConnOpen { conn, peer } => write!(f, "conn-open c{conn} {peer}"),
                EventKind::ConnClose { conn } => write!(f, "conn-close c{conn}"),
                EventKind::CacheSync { rev } => write!(f, "cache-sync rev={rev}"),
                EventKind::ConnectFailed { to, error } => write!(f, "connect-failed {to} {error}"),
                EventKind::Client { text } => write!(f, "client {text}"),
                EventKind::Fault { text } => write!(f, "fault {text}"),
                EventKind::Heal { text } => write!(f, "heal {text}"),
                EventKind::Crash { target } => write!(f, "crash {target}"),
                EventKind::Restart { target } => write!(f, "restart {target}"),
                EventKind::QueueAdd { key, how } => write!(f, "queue-add {key} {how}"),
                EventKind::QueueGet { key, worker } => write!(f, "queue-get {key} worker={worker}"),
                EventKind::QueueDone { key } => write!(f, "queue-done {key}"),
                EventKind::ReconcileBegin { key, attempt } => {
                    write!(f, "reconcile-begin {key} attempt={attempt}")
                }
                EventKind::ReconcileEnd {
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
                EventKind::Informer { resource, text } => write!(f, "informer {resource} {text}"),
                EventKind::Lease { lease, text } => write!(f, "lease {lease} {text}"),
                EventKind::Runtime { text } => write!(f, "runtime {text}"),
            }
        }
    }

    /// [`HistoryEvent`] rendered by the reference.
    struct ReferenceEvent<'a>(&'a HistoryEvent);

    impl fmt::Display for ReferenceEvent<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let e = self.0;
            write!(
                f,
                "#{:06} {}.{:06}s {} {}",
                e.id,
                e.time_us / 1_000_000,
                e.time_us % 1_000_000,
                e.host,
                ReferenceKind(&e.kind)
            )
        }
    }

    /// The reference's line for `event`.
    fn reference_line(event: &HistoryEvent) -> String {
        ReferenceEvent(event).to_string()
    }

    /// Checks every way the line is produced (the event's and the kind's `Display`, and the
    /// hasher) against the reference.
    fn assert_same_as_reference(event: &HistoryEvent) {
        let reference = reference_line(event);
        assert_eq!(event.to_string(), reference, "{event:?}");
        let mut text = String::new();
        event
            .write_text(&mut text)
            .expect("a String takes any write");
        assert_eq!(text, reference, "write_text: {event:?}");
        assert_eq!(
            event.kind.to_string(),
            ReferenceKind(&event.kind).to_string(),
            "{event:?}"
        );
        let mut hasher = HistoryHasher::new();
        hasher.push(event);
        assert_eq!(
            hasher.finish(),
            xxhash_rust::xxh3::xxh3_64(format!("{reference}\n").as_bytes()),
            "{event:?}"
        );
    }

    /// The position of `kind`'s variant in [`EventKind`]; an exhaustive match, so that a new
    /// variant must be added here (and then to [`every_variant`]) before the tests compile.
    fn variant_index(kind: &EventKind) -> usize {
        match kind {
            EventKind::Request { .. } => 0,
            EventKind::Response { .. } => 1,
            EventKind::Commit { .. } => 2,
            EventKind::Compact { .. } => 3,
            EventKind::WatchOpen { .. } => 4,
            EventKind::WatchSend { .. } => 5,
            EventKind::WatchClose { .. } => 6,
            EventKind::ConnOpen { .. } => 7,
            EventKind::ConnClose { .. } => 8,
            EventKind::CacheSync { .. } => 9,
            EventKind::ConnectFailed { .. } => 10,
            EventKind::Client { .. } => 11,
            EventKind::Fault { .. } => 12,
            EventKind::Heal { .. } => 13,
            EventKind::Crash { .. } => 14,
            EventKind::Restart { .. } => 15,
            EventKind::QueueAdd { .. } => 16,
            EventKind::QueueGet { .. } => 17,
            EventKind::QueueDone { .. } => 18,
            EventKind::ReconcileBegin { .. } => 19,
            EventKind::ReconcileEnd { .. } => 20,
            EventKind::Informer { .. } => 21,
            EventKind::Lease { .. } => 22,
            EventKind::Runtime { .. } => 23,
        }
    }

    /// How many variants [`EventKind`] has.
    const VARIANTS: usize = 24;

    /// One event of every variant, built from the number `n`, the text `s`, the watch event
    /// type `op`, and optional fields present or not (`some`).
    fn every_variant(n: u64, s: &str, op: WatchEventType, some: bool) -> Vec<EventKind> {
        let text = || s.to_string();
        let maybe = |v: String| some.then_some(v);
        // The narrower fields take the low bits of `n`, and their own extremes when `n` is.
        let n32 = if n == u64::MAX { u32::MAX } else { n as u32 };
        let n16 = if n == u64::MAX { u16::MAX } else { n as u16 };
        vec![
            EventKind::Request {
                conn: n,
                verb: text(),
                target: text(),
                subresource: maybe(text()),
                rv: maybe(text()),
            },
            EventKind::Response {
                conn: n,
                verb: text(),
                target: text(),
                code: n16,
                rv: some.then_some(n),
                reason: maybe(text()),
            },
            EventKind::Commit {
                rev: n,
                op,
                key: text(),
            },
            EventKind::Compact { rev: n },
            EventKind::WatchOpen {
                watcher: n,
                target: text(),
                rv: maybe(text()),
            },
            EventKind::WatchSend {
                watcher: n,
                kind: op,
                key: text(),
                rv: n,
            },
            EventKind::WatchClose {
                watcher: n,
                reason: text(),
            },
            EventKind::ConnOpen {
                conn: n,
                peer: text(),
            },
            EventKind::ConnClose { conn: n },
            EventKind::CacheSync { rev: n },
            EventKind::ConnectFailed {
                to: text(),
                error: text(),
            },
            EventKind::Client { text: text() },
            EventKind::Fault { text: text() },
            EventKind::Heal { text: text() },
            EventKind::Crash { target: text() },
            EventKind::Restart { target: text() },
            EventKind::QueueAdd {
                key: text(),
                how: text(),
            },
            EventKind::QueueGet {
                key: text(),
                worker: n32,
            },
            EventKind::QueueDone { key: text() },
            EventKind::ReconcileBegin {
                key: text(),
                attempt: n32,
            },
            EventKind::ReconcileEnd {
                key: text(),
                attempt: n32,
                outcome: text(),
                duration_us: n,
            },
            EventKind::Informer {
                resource: text(),
                text: text(),
            },
            EventKind::Lease {
                lease: text(),
                text: text(),
            },
            EventKind::Runtime { text: text() },
        ]
    }

    /// Numbers around the six-digit padding and the seconds boundary, and the extremes.
    const NUMBERS: [u64; 12] = [
        0,
        5,
        42,
        99_999,
        999_999,
        1_000_000,
        1_000_001,
        1_250_000,
        3_000_000,
        12_345_678,
        u64::MAX - 1,
        u64::MAX,
    ];

    /// Texts: empty, plain, with spaces and slashes, and not ASCII.
    const TEXTS: [&str; 5] = [
        "",
        "x",
        "configmaps/default/a",
        "error boom {}",
        "ünïcødé ✓ 🦀",
    ];

    const OPS: [WatchEventType; 5] = [
        WatchEventType::Added,
        WatchEventType::Modified,
        WatchEventType::Deleted,
        WatchEventType::Bookmark,
        WatchEventType::Error,
    ];

    #[test]
    fn every_variant_renders_the_same_bytes_as_the_format_macro_reference() {
        let mut seen = [false; VARIANTS];
        for n in NUMBERS {
            for s in TEXTS {
                for (i, op) in OPS.into_iter().enumerate() {
                    for some in [false, true] {
                        for kind in every_variant(n, s, op, some) {
                            seen[variant_index(&kind)] = true;
                            let event = HistoryEvent {
                                // The line's own numbers vary apart from the event's.
                                id: NUMBERS[(i + usize::from(some)) % NUMBERS.len()],
                                time_us: n,
                                host: s.to_string(),
                                kind,
                            };
                            assert_same_as_reference(&event);
                        }
                    }
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "variants not covered: {seen:?}");
    }

    #[test]
    fn ids_and_times_render_the_same_bytes_as_the_reference_on_both_sides_of_six_digits() {
        for id in NUMBERS {
            for time_us in NUMBERS {
                let event = HistoryEvent {
                    id,
                    time_us,
                    host: "apiserver-0".into(),
                    kind: EventKind::Compact { rev: id },
                };
                assert_same_as_reference(&event);
            }
        }
    }

    #[test]
    fn zero_padding_pads_to_six_digits_and_prints_longer_numbers_in_full() {
        let padded = |n: u64| {
            let mut s = String::new();
            Pad6(n)
                .put(&mut s)
                .expect("writing to a String cannot fail");
            s
        };
        assert_eq!(padded(0), "000000");
        assert_eq!(padded(5), "000005");
        assert_eq!(padded(999_999), "999999");
        assert_eq!(padded(1_000_000), "1000000");
        assert_eq!(padded(u64::MAX), "18446744073709551615");
        for n in NUMBERS {
            assert_eq!(padded(n), format!("{n:06}"));
        }
    }

    #[test]
    fn width_and_fill_flags_are_ignored_as_the_reference_ignores_them() {
        let e = ev(
            7,
            EventKind::Request {
                conn: 1,
                verb: "get".into(),
                target: "pods/default/p".into(),
                subresource: Some("status".into()),
                rv: None,
            },
        );
        assert_eq!(format!("{e:>200}"), format!("{:>200}", ReferenceEvent(&e)));
        assert_eq!(format!("{e:*<3}"), format!("{:*<3}", ReferenceEvent(&e)));
        assert_eq!(
            format!("{:>200}", e.kind),
            format!("{:>200}", ReferenceKind(&e.kind))
        );
    }

    #[test]
    fn hashing_from_parts_hashes_the_reference_lines_each_with_a_newline() {
        let events: Vec<HistoryEvent> =
            every_variant(1_000_001, "k", WatchEventType::Bookmark, true)
                .into_iter()
                .chain(every_variant(0, "", WatchEventType::Error, false))
                .zip(NUMBERS.into_iter().cycle())
                .enumerate()
                .map(|(id, (kind, time_us))| HistoryEvent {
                    id: id as u64,
                    time_us,
                    host: "client-1".into(),
                    kind,
                })
                .collect();
        let mut hasher = HistoryHasher::new();
        let mut text = String::new();
        for e in &events {
            hasher.push_parts(e.id, e.time_us, &e.host, &e.kind);
            text.push_str(&reference_line(e));
            text.push('\n');
        }
        assert_eq!(hasher.finish(), xxhash_rust::xxh3::xxh3_64(text.as_bytes()));
    }

    mod arbitrary {
        //! Arbitrary events of every variant against the reference.

        use super::*;
        use proptest::prelude::*;

        /// Any `u64`, often one near the padding and seconds boundaries or an extreme.
        fn number() -> impl Strategy<Value = u64> {
            prop_oneof![
                any::<u64>(),
                0..2_000_000u64,
                (0..100u64).prop_map(|s| s * 1_000_000),
                prop::sample::select(NUMBERS.to_vec()),
            ]
        }

        /// Any text, often empty or short.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![Just(String::new()), "[a-z/ -]{0,12}", any::<String>()]
        }

        fn op() -> impl Strategy<Value = WatchEventType> {
            prop::sample::select(OPS.to_vec())
        }

        fn kind() -> impl Strategy<Value = EventKind> {
            use proptest::option::of;
            prop_oneof![
                (number(), text(), text(), of(text()), of(text())).prop_map(
                    |(conn, verb, target, subresource, rv)| EventKind::Request {
                        conn,
                        verb,
                        target,
                        subresource,
                        rv,
                    }
                ),
                (
                    number(),
                    text(),
                    text(),
                    any::<u16>(),
                    of(number()),
                    of(text())
                )
                    .prop_map(|(conn, verb, target, code, rv, reason)| {
                        EventKind::Response {
                            conn,
                            verb,
                            target,
                            code,
                            rv,
                            reason,
                        }
                    }),
                (number(), op(), text()).prop_map(|(rev, op, key)| EventKind::Commit {
                    rev,
                    op,
                    key
                }),
                number().prop_map(|rev| EventKind::Compact { rev }),
                (number(), text(), of(text())).prop_map(|(watcher, target, rv)| {
                    EventKind::WatchOpen {
                        watcher,
                        target,
                        rv,
                    }
                }),
                (number(), op(), text(), number()).prop_map(|(watcher, kind, key, rv)| {
                    EventKind::WatchSend {
                        watcher,
                        kind,
                        key,
                        rv,
                    }
                }),
                (number(), text())
                    .prop_map(|(watcher, reason)| EventKind::WatchClose { watcher, reason }),
                (number(), text()).prop_map(|(conn, peer)| EventKind::ConnOpen { conn, peer }),
                number().prop_map(|conn| EventKind::ConnClose { conn }),
                number().prop_map(|rev| EventKind::CacheSync { rev }),
                (text(), text()).prop_map(|(to, error)| EventKind::ConnectFailed { to, error }),
                text().prop_map(|text| EventKind::Client { text }),
                text().prop_map(|text| EventKind::Fault { text }),
                text().prop_map(|text| EventKind::Heal { text }),
                text().prop_map(|target| EventKind::Crash { target }),
                text().prop_map(|target| EventKind::Restart { target }),
                (text(), text()).prop_map(|(key, how)| EventKind::QueueAdd { key, how }),
                (text(), any::<u32>())
                    .prop_map(|(key, worker)| EventKind::QueueGet { key, worker }),
                text().prop_map(|key| EventKind::QueueDone { key }),
                (text(), any::<u32>())
                    .prop_map(|(key, attempt)| EventKind::ReconcileBegin { key, attempt }),
                (text(), any::<u32>(), text(), number()).prop_map(
                    |(key, attempt, outcome, duration_us)| EventKind::ReconcileEnd {
                        key,
                        attempt,
                        outcome,
                        duration_us,
                    }
                ),
                (text(), text())
                    .prop_map(|(resource, text)| EventKind::Informer { resource, text }),
                (text(), text()).prop_map(|(lease, text)| EventKind::Lease { lease, text }),
                text().prop_map(|text| EventKind::Runtime { text }),
            ]
        }

        fn event() -> impl Strategy<Value = HistoryEvent> {
            (number(), number(), text(), kind()).prop_map(|(id, time_us, host, kind)| {
                HistoryEvent {
                    id,
                    time_us,
                    host,
                    kind,
                }
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            #[test]
            fn arbitrary_events_of_every_variant_render_the_same_bytes_as_the_reference(
                e in event()
            ) {
                prop_assert_eq!(e.to_string(), reference_line(&e));
                prop_assert_eq!(e.kind.to_string(), ReferenceKind(&e.kind).to_string());
                let mut hasher = HistoryHasher::new();
                hasher.push(&e);
                prop_assert_eq!(
                    hasher.finish(),
                    xxhash_rust::xxh3::xxh3_64(format!("{}\n", reference_line(&e)).as_bytes())
                );
            }
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
