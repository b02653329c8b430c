//! One API server replica's watch cache (k8s.io/apiserver `pkg/storage/cacher`): a copy of
//! storage at some revision, kept up to date from storage's log by [`WatchCache::advance`]
//! (the caller decides how far it trails), plus a bounded buffer of recent events that watches
//! replay from.
//!
//! The buffer holds every type's events (the real cacher has one per type); "too old" is
//! decided as in `watchCache.getAllEventsSinceLocked`: the oldest revision a watch can start
//! from is the one before the first buffered event, or the list revision if nothing has been
//! evicted since the last (re)load.

use super::list::{self, ListBody, ListQuery};
use super::{meta, ApiRequest, ApiState, LogEntry, WatchEvent};
use kubesim_model::{ApiError, ObjectKey, ResourceType, StatusReason, WatchEventType};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// One replica's cache. See the module documentation.
pub struct WatchCache {
    objects: BTreeMap<ObjectKey, Arc<Value>>,
    revision: u64,
    /// Recent commits, oldest first, at most `capacity`.
    events: VecDeque<LogEntry>,
    capacity: usize,
    /// The revision the cache was last (re)loaded at.
    list_revision: u64,
    /// Whether events were dropped from the buffer since the last (re)load.
    evicted: bool,
}

/// A watch in progress on a [`WatchCache`]: what it filters on and the revision it has seen.
pub struct WatchCursor {
    resource: ResourceType,
    query: ListQuery,
    /// Events up to this revision have been delivered.
    rev: u64,
    /// The revision of the last event or bookmark sent.
    sent_rev: u64,
    /// The revision the watch started from: bookmarks are sent only beyond it
    /// (`cacheWatcher.process`).
    start_rev: u64,
    bookmarks: bool,
}

impl WatchCursor {
    /// The revision the watcher has seen everything up to.
    pub fn revision(&self) -> u64 {
        self.rev
    }

    /// The type watched.
    pub fn resource(&self) -> &ResourceType {
        &self.resource
    }
}

fn resource_matches(t: &ResourceType, key: &ObjectKey) -> bool {
    key.resource == t.short_name()
}

fn event(kind: WatchEventType, object: Arc<Value>, rv: u64, key: ObjectKey) -> WatchEvent {
    WatchEvent {
        kind,
        object,
        rv,
        key,
    }
}

impl WatchCache {
    /// A cache holding storage's current state, with an event buffer of `capacity` events.
    pub fn new(state: &ApiState, capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "invariant: a watch cache buffers at least one event"
        );
        let mut cache = Self {
            objects: BTreeMap::new(),
            revision: 0,
            events: VecDeque::with_capacity(capacity),
            capacity,
            list_revision: 0,
            evicted: false,
        };
        cache.reload(state);
        cache
    }

    /// A cache that has been following storage: at storage's revision, with the last
    /// `capacity` commits still in the log buffered, so watches resume from before now (the
    /// stopped run `kubesim replay --until ID --serve` serves).
    pub fn warm(state: &ApiState, capacity: usize) -> Self {
        let mut cache = Self::new(state, capacity);
        let from = state
            .revision()
            .saturating_sub(capacity as u64)
            .max(state.compacted())
            .max(super::store::REVISION_INITIAL);
        let mut objects = BTreeMap::new();
        for t in state.types() {
            objects.extend(
                state
                    .store()
                    .snapshot(&t.short_name(), from)
                    .unwrap_or_default(),
            );
        }
        cache.objects = objects;
        cache.revision = from;
        cache.list_revision = from;
        cache.advance(state, state.revision());
        cache
    }

    fn reload(&mut self, state: &ApiState) {
        self.objects = state
            .store()
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        self.revision = state.revision();
        self.list_revision = self.revision;
        self.events.clear();
        self.evicted = false;
    }

    /// The revision the cache reflects.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The oldest revision a watch may start from (`oldest - 1` in the cacher's terms).
    pub fn oldest_revision(&self) -> u64 {
        match (self.evicted, self.events.front()) {
            (true, Some(first)) => first.rev - 1,
            _ => self.list_revision,
        }
    }

    /// Applies storage's commits up to revision `to` (clamped to storage's revision). If the
    /// commits it needs were compacted, it reloads from storage's current state.
    pub fn advance(&mut self, state: &ApiState, to: u64) {
        let to = to.min(state.revision());
        if to <= self.revision {
            return;
        }
        let entries = match state.log_after(self.revision) {
            Ok(entries) => entries,
            Err(_) => {
                self.reload(state);
                return;
            }
        };
        // Only the entries the buffer keeps are copied (an entry is a key and two `Arc`s).
        for entry in entries.take_while(|e| e.rev <= to) {
            assert_eq!(
                entry.rev,
                self.revision + 1,
                "invariant: the cache receives every revision in order"
            );
            match entry.kind {
                WatchEventType::Deleted => {
                    self.objects.remove(&entry.key);
                }
                // An existing key keeps its map entry: no key copy for a MODIFIED event.
                _ => match self.objects.get_mut(&entry.key) {
                    Some(slot) => *slot = Arc::clone(&entry.object),
                    None => {
                        self.objects
                            .insert(entry.key.clone(), Arc::clone(&entry.object));
                    }
                },
            }
            self.revision = entry.rev;
            if self.events.len() == self.capacity {
                self.events.pop_front();
                self.evicted = true;
            }
            self.events.push_back(entry.clone());
        }
        assert_eq!(self.revision, to, "invariant: the cache reached the target");
    }

    /// Serves a `List` from the cache (used for `resourceVersion=0`, and `NotOlderThan` N when
    /// the cache has reached N; 504 `Too large resource version` when it has not).
    ///
    /// Like the cacher before Kubernetes 1.31, it ignores `limit` and `continue` (the whole
    /// list in one page); `Exact` lists and continue tokens belong to storage.
    pub fn list(&self, req: &ApiRequest) -> Result<ListBody, ApiError> {
        list::validate_options(&req.list)?;
        let query = ListQuery::parse(req)?;
        if let Some(n) = list::parse_rv(req.list.resource_version.as_deref())? {
            if n > self.revision {
                return Err(list::too_large(n, self.revision));
            }
        }
        let from = ObjectKey::new(req.resource.short_name(), "", "");
        let resource = req.resource.short_name();
        let objects = self
            .objects
            .range(from..)
            .take_while(|(k, _)| k.resource == resource);
        Ok(list::page(
            &req.resource,
            &query,
            objects,
            self.revision,
            None,
            None,
        ))
    }

    /// Starts a watch: validates the request (selectors, resourceVersion), and returns the
    /// cursor plus the initial events: for resourceVersion unset or "0", an `Added` event for
    /// each matching object in the cache; for N, the buffered events after N (410 Expired, as an
    /// `Err`, when N is older than the buffer holds).
    ///
    /// Differences: resourceVersion unset is served from the cache as it stands (the real
    /// apiserver makes it a consistent read of the latest state); N newer than the cache
    /// starts an empty watch that delivers events after N once the cache gets there (the
    /// cacher waits up to 3 s and then fails with 504 Too large resource version).
    pub fn open(&self, req: &ApiRequest) -> Result<(WatchCursor, Vec<WatchEvent>), ApiError> {
        let query = ListQuery::parse(req)?;
        let rv = list::parse_rv(req.list.resource_version.as_deref())?;
        let mut cursor = WatchCursor {
            resource: req.resource.clone(),
            query,
            rev: self.revision,
            sent_rev: 0,
            start_rev: self.revision,
            bookmarks: req.list.allow_watch_bookmarks,
        };
        match rv {
            _ if req.list.send_initial_events => {
                // A watch list (API Concepts: Streaming lists): the objects as synthetic
                // ADDED events, then a bookmark annotated `k8s.io/initial-events-end`.
                let mut events = self.added_events(&cursor);
                cursor.sent_rev = self.revision;
                if cursor.bookmarks {
                    let object = json!({
                        "kind": cursor.resource.kind,
                        "apiVersion": cursor.resource.api_version(),
                        "metadata": {
                            "resourceVersion": self.revision.to_string(),
                            "annotations": {"k8s.io/initial-events-end": "true"},
                        },
                    });
                    events.push(event(
                        WatchEventType::Bookmark,
                        Arc::new(object),
                        self.revision,
                        ObjectKey::new(cursor.resource.short_name(), "", ""),
                    ));
                }
                Ok((cursor, events))
            }
            None | Some(0) => {
                let events = self.added_events(&cursor);
                cursor.sent_rev = self.revision;
                Ok((cursor, events))
            }
            Some(n) => {
                cursor.rev = n;
                cursor.sent_rev = n;
                cursor.start_rev = n;
                let events = self.poll(&mut cursor)?;
                Ok((cursor, events))
            }
        }
    }

    /// A synthetic `Added` event for each object `cursor` selects, in key order.
    fn added_events(&self, cursor: &WatchCursor) -> Vec<WatchEvent> {
        let resource = cursor.resource.short_name();
        let from = ObjectKey::new(resource.as_str(), "", "");
        self.objects
            .range(from..)
            .take_while(|(k, _)| k.resource == resource)
            .filter(|(k, o)| cursor.query.matches(k, o))
            .map(|(k, o)| {
                event(
                    WatchEventType::Added,
                    Arc::clone(o),
                    meta::stored_rv(o),
                    k.clone(),
                )
            })
            .collect()
    }

    /// The events for `cursor` since its last position, up to the cache's revision, with label
    /// selector transitions (stops matching = `Deleted`, starts matching = `Added`). Advances the
    /// cursor. Returns 410 if the cursor fell out of the buffer.
    ///
    /// As the cacher does, a `Deleted` event for an object that stopped matching carries the
    /// previous state of the object with the event's resourceVersion.
    pub fn poll(&self, cursor: &mut WatchCursor) -> Result<Vec<WatchEvent>, ApiError> {
        let mut out = Vec::new();
        self.poll_into(cursor, &mut out)?;
        Ok(out)
    }

    /// [`WatchCache::poll`] appending to `out` (a watch reuses one vector for all its polls).
    pub fn poll_into(
        &self,
        cursor: &mut WatchCursor,
        out: &mut Vec<WatchEvent>,
    ) -> Result<(), ApiError> {
        if cursor.rev >= self.revision {
            return Ok(());
        }
        let oldest = self.oldest_revision();
        if cursor.rev < oldest {
            return Err(ApiError::too_old_resource_version(cursor.rev, oldest));
        }
        let start = self.events.partition_point(|e| e.rev <= cursor.rev);
        let first = out.len();
        for e in self.events.range(start..) {
            assert!(e.rev > cursor.rev, "invariant: events after the cursor");
            if !resource_matches(&cursor.resource, &e.key) {
                continue;
            }
            let cur_passes =
                e.kind != WatchEventType::Deleted && cursor.query.matches(&e.key, &e.object);
            let old_passes = e
                .prev
                .as_ref()
                .is_some_and(|p| cursor.query.matches(&e.key, p));
            let ev = match (cur_passes, old_passes) {
                (true, false) => event(
                    WatchEventType::Added,
                    Arc::clone(&e.object),
                    e.rev,
                    e.key.clone(),
                ),
                (true, true) => event(e.kind, Arc::clone(&e.object), e.rev, e.key.clone()),
                (false, true) => {
                    let prev = e.prev.as_ref().expect("invariant: old_passes has a prev");
                    let mut obj = Value::clone(prev);
                    meta::set_str(&mut obj, "resourceVersion", e.rev.to_string());
                    event(WatchEventType::Deleted, Arc::new(obj), e.rev, e.key.clone())
                }
                (false, false) => continue,
            };
            out.push(ev);
        }
        if let Some(last) = out[first..].last() {
            cursor.sent_rev = last.rv;
        }
        cursor.rev = self.revision;
        Ok(())
    }

    /// A bookmark event at the cursor's revision (the cache's revision after a
    /// [`WatchCache::poll`]) if the cursor asked for bookmarks and that revision is beyond the
    /// one the watch started from: the cacher sends one at every bookmark time, whether or not
    /// the watcher got events since, but never at the start revision (`cacheWatcher.process`).
    pub fn bookmark(&self, cursor: &mut WatchCursor) -> Option<WatchEvent> {
        if !cursor.bookmarks || cursor.rev <= cursor.start_rev {
            return None;
        }
        cursor.sent_rev = cursor.rev;
        let object = json!({
            "kind": cursor.resource.kind,
            "apiVersion": cursor.resource.api_version(),
            "metadata": {"resourceVersion": cursor.rev.to_string()},
        });
        Some(event(
            WatchEventType::Bookmark,
            Arc::new(object),
            cursor.rev,
            ObjectKey::new(cursor.resource.short_name(), "", ""),
        ))
    }
}

/// The `metav1.Status` object of an `ERROR` watch event for `err`.
pub fn error_event(err: &ApiError, resource: &ResourceType) -> WatchEvent {
    WatchEvent {
        kind: WatchEventType::Error,
        object: Arc::new(err.to_status()),
        rv: 0,
        key: ObjectKey::new(resource.short_name(), "", ""),
    }
}

/// Whether `err` is the 410 a watch ends with.
pub fn is_expired(err: &ApiError) -> bool {
    err.reason == StatusReason::Expired
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use serde_json::json;

    fn watch_req(rv: Option<&str>) -> ApiRequest {
        let mut req = ApiRequest::new(Verb::Watch, cm(), Some("default"), None);
        req.list.resource_version = rv.map(str::to_string);
        req
    }

    fn kinds(events: &[WatchEvent]) -> Vec<(WatchEventType, String, u64)> {
        events
            .iter()
            .map(|e| (e.kind, e.key.name.clone(), e.rv))
            .collect()
    }

    #[test]
    fn a_watch_without_resource_version_starts_with_synthetic_added_events() {
        let mut s = state();
        create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("a");
        create(&mut s, &cm(), json!({"metadata": {"name": "b"}})).expect("b");
        let mut c = WatchCache::new(&s, 10);
        let (mut cur, evs) = c.open(&watch_req(None)).expect("open");
        assert_eq!(
            kinds(&evs),
            vec![
                (WatchEventType::Added, "a".into(), 2),
                (WatchEventType::Added, "b".into(), 3)
            ]
        );
        delete(&mut s, &cm(), "a").expect("deleted");
        c.advance(&s, u64::MAX);
        assert_eq!(
            kinds(&c.poll(&mut cur).expect("poll")),
            vec![(WatchEventType::Deleted, "a".into(), 4)]
        );
    }

    #[test]
    fn a_watch_from_a_revision_replays_the_buffered_events_after_it() {
        let mut s = state();
        let a = create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("a");
        let mut c = WatchCache::new(&s, 10);
        update(
            &mut s,
            &cm(),
            "a",
            json!({"metadata": {"name": "a"}, "data": {"x": "1"}}),
        )
        .expect("updated");
        create(&mut s, &cm(), json!({"metadata": {"name": "b"}})).expect("b");
        c.advance(&s, s.revision());
        let (cur, evs) = c.open(&watch_req(Some(&rv(&a).to_string()))).expect("open");
        assert_eq!(
            kinds(&evs),
            vec![
                (WatchEventType::Modified, "a".into(), 3),
                (WatchEventType::Added, "b".into(), 4)
            ]
        );
        assert_eq!(cur.revision(), 4);
    }

    #[test]
    fn watch_from_a_compacted_revision_is_410_expired() {
        let mut s = state();
        let mut c = WatchCache::new(&s, 2);
        for n in ["a", "b", "c", "d"] {
            create(&mut s, &cm(), json!({"metadata": {"name": n}})).expect("created");
        }
        c.advance(&s, s.revision());
        assert_eq!(c.oldest_revision(), 3);
        let e = c.open(&watch_req(Some("2"))).err().expect("expired");
        assert_eq!(
            (e.code(), e.message.as_str()),
            (410, "too old resource version: 2 (3)")
        );
        assert!(c.open(&watch_req(Some("3"))).is_ok());
    }

    #[test]
    fn a_lagging_cache_serves_the_older_state() {
        let mut s = state();
        let mut c = WatchCache::new(&s, 10);
        create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("a");
        create(&mut s, &cm(), json!({"metadata": {"name": "b"}})).expect("b");
        c.advance(&s, 2);
        let req = ApiRequest::new(Verb::List, cm(), Some("default"), None);
        let l = c.list(&req).expect("list").to_value();
        assert_eq!(names(&l), vec!["a"]);
        assert_eq!(l["metadata"]["resourceVersion"], "2");
        let mut req = req;
        req.list.resource_version = Some("3".into());
        assert_eq!(c.list(&req).expect_err("too large").code(), 504);
    }

    #[test]
    fn advance_past_a_compaction_reloads_from_storage() {
        let mut s = state();
        let mut c = WatchCache::new(&s, 10);
        let (mut cur, _) = c.open(&watch_req(None)).expect("open");
        create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("a");
        create(&mut s, &cm(), json!({"metadata": {"name": "b"}})).expect("b");
        s.compact(3);
        c.advance(&s, 2);
        assert_eq!(c.revision(), 3);
        let req = ApiRequest::new(Verb::List, cm(), Some("default"), None);
        assert_eq!(
            names(&c.list(&req).expect("list").to_value()),
            vec!["a", "b"]
        );
        assert_eq!(c.poll(&mut cur).expect_err("gap").code(), 410);
    }

    #[test]
    fn a_label_selector_turns_transitions_into_added_and_deleted() {
        let mut s = state();
        let mut c = WatchCache::new(&s, 10);
        let mut req = watch_req(None);
        req.list.label_selector = Some("app=web".into());
        let (mut cur, evs) = c.open(&req).expect("open");
        assert!(evs.is_empty());
        let o = create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("a");
        let mut m = o.clone();
        m["metadata"]["labels"] = json!({"app": "web"});
        let m = update(&mut s, &cm(), "a", m).expect("labelled");
        let mut u = m.clone();
        u["metadata"]["labels"] = json!({"app": "db"});
        update(&mut s, &cm(), "a", u).expect("relabelled");
        c.advance(&s, s.revision());
        let evs = c.poll(&mut cur).expect("poll");
        assert_eq!(
            kinds(&evs),
            vec![
                (WatchEventType::Added, "a".into(), 3),
                (WatchEventType::Deleted, "a".into(), 4)
            ]
        );
        assert_eq!(evs[1].object["metadata"]["labels"]["app"], "web");
        assert_eq!(evs[1].object["metadata"]["resourceVersion"], "4");
    }

    #[test]
    fn a_bookmark_is_sent_only_when_asked_for_and_beyond_the_start_revision() {
        let mut s = state();
        let mut c = WatchCache::new(&s, 10);
        let mut req = watch_req(None);
        req.list.allow_watch_bookmarks = true;
        let (mut cur, _) = c.open(&req).expect("open");
        assert!(c.bookmark(&mut cur).is_none());
        let other = ResourceType::lease();
        let lease = ApiRequest::new(Verb::Create, other, Some("default"), None)
            .with_body(json!({"metadata": {"name": "l"}}));
        s.apply(&lease, NOW).expect("lease");
        c.advance(&s, s.revision());
        assert!(c.poll(&mut cur).expect("poll").is_empty());
        let b = c.bookmark(&mut cur).expect("bookmark");
        assert_eq!(b.kind, WatchEventType::Bookmark);
        assert_eq!(
            *b.object,
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": "2"}})
        );
        // Bookmarks are periodic (the cacher's bookmark timer): the next one may carry the same
        // revision.
        assert_eq!(c.bookmark(&mut cur).map(|b| b.rv), Some(2));
        let (mut plain, _) = c.open(&watch_req(None)).expect("open");
        assert!(c.bookmark(&mut plain).is_none());
    }

    #[test]
    fn a_watch_only_sees_its_own_type_and_namespace() {
        let mut s = state();
        let mut c = WatchCache::new(&s, 10);
        let (mut cur, _) = c.open(&watch_req(Some("1"))).expect("open");
        let req = ApiRequest::new(Verb::Create, cm(), Some("other"), None)
            .with_body(json!({"metadata": {"name": "x"}}));
        s.apply(&req, NOW).expect("other ns");
        let req = ApiRequest::new(Verb::Create, ResourceType::lease(), Some("default"), None)
            .with_body(json!({"metadata": {"name": "x"}}));
        s.apply(&req, NOW).expect("lease");
        create(&mut s, &cm(), json!({"metadata": {"name": "mine"}})).expect("mine");
        c.advance(&s, s.revision());
        assert_eq!(
            kinds(&c.poll(&mut cur).expect("poll")),
            vec![(WatchEventType::Added, "mine".into(), 4)]
        );
    }
}
