//! Watch streams: `200 OK`, then one `{"type":...,"object":...}` line per event.
//!
//! A watch is served from the replica's watch cache: the initial events (synthetic `ADDED`s for
//! `resourceVersion` unset or `0`, the buffered events after N otherwise), then every event the
//! cache applies, bookmarks when asked for, until `timeoutSeconds` passes or the client goes away.
//! A start revision older than the cache's buffer is answered as kube-apiserver answers it:
//! `200 OK` with one `ERROR` event carrying a 410 `Expired` status, then the end of the stream.

use super::body::{self, Body};
use crate::api::{ApiRequest, WatchEvent};
use crate::apiserver::replica::Replica;
use bytes::Bytes;
use http::Response;
use kubesim_model::{ApiError, EventKind, WatchEventType};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long before its timeout a watch gets its last bookmark (`cacheWatcher.nextBookmarkTime`).
const BOOKMARK_BEFORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Lines buffered per watch before the stream applies backpressure.
const WATCH_CHANNEL_CAPACITY: usize = 64;

/// One watch event on the wire: `{"type":...,"object":...}`, serialised by reference (the
/// object is not copied). The keys in kube-apiserver's order (`metav1.WatchEvent`'s fields):
/// with the tag first, kube's adjacently tagged `WatchEvent` decodes the object straight into
/// its type instead of buffering it as untyped content first.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    object: &'a serde_json::Value,
}

fn line(kind: WatchEventType, object: &serde_json::Value) -> Bytes {
    LineEncoder::default().line(kind, object)
}

/// Bytes allowed beyond the previous line's length when sizing the next one.
const LINE_SLACK: usize = 64;

/// Encodes one watch's lines, each into a buffer sized from the line before it (a watch's
/// objects are of one type, so of similar size): one allocation per line instead of a vector
/// grown by doubling. Each line keeps an allocation of its own: lines carved from one shared
/// chunk were measured slower, the large chunk requests making glibc's allocator consolidate.
#[derive(Default)]
struct LineEncoder {
    /// The length of the previous line.
    last: usize,
}

impl LineEncoder {
    fn line(&mut self, kind: WatchEventType, object: &serde_json::Value) -> Bytes {
        let mut v = Vec::with_capacity(self.last + LINE_SLACK);
        serde_json::to_writer(
            &mut v,
            &Line {
                kind: kind.as_str(),
                object,
            },
        )
        .expect("invariant: watch events serialize");
        v.push(b'\n');
        self.last = v.len();
        Bytes::from(v)
    }
}

/// Starts a watch for `request` (already recorded) on `replica`.
pub async fn start(replica: &Arc<Replica>, conn: u64, request: ApiRequest) -> Response<Body> {
    let recorder = replica.cluster.recorder.clone();
    let opened = replica.cache().open(&request);
    let (cursor, initial) = match opened {
        Ok(o) => o,
        Err(e) if e.code() == 410 => return expired(replica, &request, &e),
        Err(e) => {
            recorder.record(
                &replica.name,
                EventKind::Response {
                    conn,
                    verb: "watch".into(),
                    target: request.target(),
                    code: e.code(),
                    rv: None,
                    reason: Some(e.reason.as_str().into()),
                },
            );
            return body::error(&e);
        }
    };
    let watcher = open_watcher(replica, &request);
    let (tx, rx) = mpsc::channel(WATCH_CHANNEL_CAPACITY);
    let timeout = request
        .list
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(replica.cluster.config.watch_timeout_default);
    // On the host's LocalSet: its task list drops in a fixed order when the host crashes.
    tokio::task::spawn_local(stream(
        replica.clone(),
        watcher,
        cursor,
        initial,
        tx,
        timeout,
    ));
    body::stream(rx)
}

/// A new watcher id, with its `watch-open` history line.
fn open_watcher(replica: &Replica, request: &ApiRequest) -> u64 {
    let watcher = replica.cluster.next_watcher_id();
    replica.cluster.recorder.record(
        &replica.name,
        EventKind::WatchOpen {
            watcher,
            target: request.target(),
            rv: request.list.resource_version.clone(),
        },
    );
    watcher
}

/// The 410 answer to a watch from a compacted revision.
pub(crate) fn expired(replica: &Replica, request: &ApiRequest, e: &ApiError) -> Response<Body> {
    let recorder = &replica.cluster.recorder;
    let watcher = open_watcher(replica, request);
    recorder.record(
        &replica.name,
        EventKind::WatchSend {
            watcher,
            kind: WatchEventType::Error,
            key: String::new(),
            rv: 0,
        },
    );
    recorder.record(
        &replica.name,
        EventKind::WatchClose {
            watcher,
            reason: "expired".into(),
        },
    );
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(line(WatchEventType::Error, &e.to_status()))
        .expect("invariant: a fresh channel has room for one line");
    body::stream(rx)
}

/// Sends `events`, recording each; false when the client is gone.
async fn send(
    replica: &Replica,
    watcher: u64,
    tx: &mpsc::Sender<Bytes>,
    encoder: &mut LineEncoder,
    events: impl IntoIterator<Item = WatchEvent>,
) -> bool {
    for ev in events {
        replica.cluster.recorder.record(
            &replica.name,
            EventKind::WatchSend {
                watcher,
                kind: ev.kind,
                key: if ev.key.name.is_empty() {
                    String::new()
                } else {
                    ev.key.to_string()
                },
                rv: ev.rv,
            },
        );
        if tx.send(encoder.line(ev.kind, &ev.object)).await.is_err() {
            return false;
        }
    }
    true
}

async fn stream(
    replica: Arc<Replica>,
    watcher: u64,
    mut cursor: crate::api::WatchCursor,
    initial: Vec<WatchEvent>,
    tx: mpsc::Sender<Bytes>,
    timeout: Duration,
) {
    let close = |reason: &str| {
        replica.cluster.recorder.record(
            &replica.name,
            EventKind::WatchClose {
                watcher,
                reason: reason.into(),
            },
        );
    };
    let mut cache_rx = replica.subscribe_cache();
    let mut encoder = LineEncoder::default();
    // The events of one poll, reused from poll to poll.
    let mut events = Vec::new();
    let start = tokio::time::Instant::now(); // det-ok: the replica host's paused tokio clock, simulated time
    let deadline_at = start + timeout;
    let deadline = tokio::time::sleep_until(deadline_at);
    tokio::pin!(deadline);
    // cacheWatcher.nextBookmarkTime: every bookmark interval (a minute by default), and last
    // two seconds before the watch times out.
    let interval = replica.cluster.config.bookmark_interval;
    let next_bookmark = |now: tokio::time::Instant| {
        let heartbeat = now + interval;
        let pre_timeout = deadline_at.checked_sub(BOOKMARK_BEFORE_TIMEOUT);
        match pre_timeout {
            Some(p) if p < heartbeat && p > now => p,
            Some(p) if p <= now => deadline_at + interval,
            _ => heartbeat,
        }
    };
    let bookmark_timer = tokio::time::sleep_until(next_bookmark(start));
    tokio::pin!(bookmark_timer);
    if !send(&replica, watcher, &tx, &mut encoder, initial).await {
        return close("client gone");
    }
    loop {
        tokio::select! {
            biased;
            _ = tx.closed() => return close("client gone"),
            _ = &mut deadline => return close("timeout"),
            changed = cache_rx.changed() => {
                if changed.is_err() {
                    return close("replica stopped");
                }
                cache_rx.borrow_and_update();
                let polled = replica.cache().poll_into(&mut cursor, &mut events);
                match polled {
                    Ok(()) => {
                        let sent_any = !events.is_empty();
                        if !send(&replica, watcher, &tx, &mut encoder, events.drain(..)).await {
                            return close("client gone");
                        }
                        if sent_any && replica.faults.drop_watch() {
                            return close("dropped (injected)");
                        }
                    }
                    Err(e) => {
                        let err = WatchEvent {
                            kind: WatchEventType::Error,
                            object: Arc::new(e.to_status()),
                            rv: 0,
                            key: kubesim_model::ObjectKey::new("", "", ""),
                        };
                        send(&replica, watcher, &tx, &mut encoder, vec![err]).await;
                        return close("expired");
                    }
                }
            }
            _ = &mut bookmark_timer => {
                let now = tokio::time::Instant::now();  // det-ok: the replica host's paused tokio clock, simulated time
                bookmark_timer.as_mut().reset(next_bookmark(now));
                let bookmark = replica.cache().bookmark(&mut cursor);
                if let Some(b) = bookmark {
                    if !send(&replica, watcher, &tx, &mut encoder, vec![b]).await {
                        return close("client gone");
                    }
                }
            }
        }
    }
}
