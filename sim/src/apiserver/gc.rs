//! The garbage collector (kube-controller-manager's `garbagecollector`). It talks to storage
//! directly, not over the network, so it is not a host: the harness runs it between simulation
//! steps ([`GarbageCollector::poll`]), one pass every `gc_interval` of simulated time, so
//! dependents disappear some time after their owner, as on a real cluster. Not being a host
//! saves turmoil a poll per tick (every host is polled every tick, idle or not).

use super::Cluster;
use crate::api::{ApiState, LogEntry};
use crate::clock;
use kubesim_model::WatchEventType;

/// Storage's resource name of namespaces.
const NAMESPACES: &str = "namespaces";
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The name the collector's writes carry in the history.
pub const GC_HOST: &str = "kube-controller-manager";

/// The collector's schedule and what it knows about its last pass.
pub struct GarbageCollector {
    cluster: Arc<Cluster>,
    interval: Duration,
    next: Duration,
    /// The revision after the last pass, when that pass wrote nothing.
    quiet_at: Option<u64>,
}

impl GarbageCollector {
    /// A collector whose first pass is at time zero.
    pub fn new(cluster: Arc<Cluster>) -> Self {
        let interval = cluster.config.gc_interval;
        assert!(!interval.is_zero(), "gc_interval must be positive");
        Self {
            cluster,
            interval,
            next: Duration::ZERO,
            quiet_at: None,
        }
    }

    /// When the next pass is due.
    pub fn next_due(&self) -> Duration {
        self.next
    }

    /// Makes the pass due at simulated time `now`, if one is; a late pass delays the next ones
    /// (tokio's `MissedTickBehavior::Delay`).
    pub fn poll(&mut self, now: Duration) {
        if now < self.next {
            return;
        }
        self.next = now + self.interval;
        // A pass is a function of storage alone: after a pass that wrote nothing, the next one can
        // only write if a write that may matter to it came in between (a compacted log: maybe).
        if let Some(quiet) = self.quiet_at {
            let state = self.cluster.state();
            let log = state.log_after(quiet);
            let matters = |e: &LogEntry| may_matter(&state, e);
            if !state.has_terminating_namespace() && !log.is_ok_and(|mut log| log.any(matters)) {
                self.quiet_at = Some(state.revision());
                return;
            }
        }
        let stamp = clock::rfc3339(now);
        let writes = self.cluster.write(GC_HOST, |st| st.collect_garbage(&stamp));
        self.quiet_at = (writes == 0).then(|| self.cluster.state().revision());
    }
}

/// Whether a write can change what a pass does. A pass reads, of each object, only its key,
/// uid, `ownerReferences`, `deletionTimestamp` and `finalizers` (and a namespace's
/// `spec.finalizers`), so after a pass that wrote nothing only a write changing one of those can
/// make the next one write:
/// - a deletion (an owner may be gone);
/// - a new object that has a deletion timestamp or finalizers, or an owner that is not solid
///   (absent, or deleted in the foreground): its uid is fresh, so no dependent can point at it
///   yet, and a dependent whose owners are all solid is left alone;
/// - a change of one of those fields (a lease renewal or a status update leaves them as they
///   were, so it cannot);
/// - any write of a namespace.
///
/// While a namespace is being deleted every pass runs: the namespace controller empties it of
/// whatever lands there.
fn may_matter(state: &ApiState, e: &LogEntry) -> bool {
    const OWNERS: &str = "ownerReferences";
    const DELETION: [&str; 2] = ["deletionTimestamp", "finalizers"];
    /// `metadata.<f>` when set to something other than null or an empty list.
    fn set<'a>(o: &'a Value, f: &str) -> Option<&'a Value> {
        o.get("metadata")
            .and_then(|m| m.get(f))
            .filter(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
    }
    if e.kind == WatchEventType::Deleted || e.key.resource == NAMESPACES {
        return true;
    }
    let o = &e.object;
    match &e.prev {
        None => {
            DELETION.iter().any(|f| set(o, f).is_some())
                || (set(o, OWNERS).is_some() && !state.owners_solid(&e.key, o))
        }
        Some(prev) => DELETION
            .iter()
            .chain([&OWNERS])
            .any(|f| set(o, f) != set(prev, f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiRequest, Verb};
    use crate::apiserver::ClusterConfig;
    use crate::history::Recorder;
    use kubesim_model::ResourceType;
    use serde_json::json;

    const SEC: Duration = Duration::from_secs(1);

    fn cluster() -> Arc<Cluster> {
        Cluster::new(ClusterConfig::default(), Recorder::new())
    }

    fn send(
        c: &Cluster,
        verb: Verb,
        t: ResourceType,
        ns: Option<&str>,
        name: Option<&str>,
        body: Option<Value>,
    ) -> Arc<Value> {
        let mut req = ApiRequest::new(verb, t, ns, name);
        if let Some(body) = body {
            req = req.with_body(body);
        }
        c.write("test", |st| st.apply(&req, "2024-01-01T00:00:00Z"))
            .expect("the request succeeds")
    }

    fn exists(c: &Cluster, ns: &str, name: &str) -> bool {
        let req = ApiRequest::new(Verb::Get, ResourceType::config_map(), Some(ns), Some(name));
        c.write("test", |st| st.apply(&req, "2024-01-01T00:00:00Z"))
            .is_ok()
    }

    fn cm(c: &Cluster, ns: &str, body: Value) -> Arc<Value> {
        send(
            c,
            Verb::Create,
            ResourceType::config_map(),
            Some(ns),
            None,
            Some(body),
        )
    }

    /// PUT of the ConfigMap `name` in `default`.
    fn put_cm(c: &Cluster, name: &str, body: Value) -> Arc<Value> {
        let cm = ResourceType::config_map();
        send(c, Verb::Update, cm, Some("default"), Some(name), Some(body))
    }

    #[test]
    fn an_object_created_in_a_terminating_namespace_after_a_quiet_pass_is_deleted_by_the_next() {
        let c = cluster();
        let mut gc = GarbageCollector::new(Arc::clone(&c));
        send(
            &c,
            Verb::Create,
            ResourceType::namespace(),
            None,
            None,
            Some(json!({"metadata": {"name": "doomed"}, "spec": {"finalizers": ["kubernetes"]}})),
        );
        cm(
            &c,
            "doomed",
            json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
        );
        send(
            &c,
            Verb::Delete,
            ResourceType::namespace(),
            None,
            Some("doomed"),
            None,
        );
        gc.poll(Duration::ZERO); // marks `held` deleted; it stays for its finalizer
        gc.poll(SEC); // nothing left to do: a quiet pass
        let quiet = c.state().revision();
        gc.poll(2 * SEC);
        assert_eq!(
            c.state().revision(),
            quiet,
            "the namespace waits for `held`"
        );
        assert!(exists(&c, "doomed", "held"));

        // A plain object (no owner, no finalizer) lands in the terminating namespace.
        cm(&c, "doomed", json!({"metadata": {"name": "late"}}));
        gc.poll(3 * SEC);
        assert!(
            !exists(&c, "doomed", "late"),
            "the namespace controller empties the namespace"
        );
    }

    #[test]
    fn after_a_quiet_pass_a_change_of_owner_references_is_acted_on_and_a_data_change_is_harmless() {
        let c = cluster();
        let mut gc = GarbageCollector::new(Arc::clone(&c));
        let owner = cm(&c, "default", json!({"metadata": {"name": "owner"}}));
        let owned = |name: &str, uid: &Value| {
            json!({"metadata": {"name": name, "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}})
        };
        cm(&c, "default", owned("dep", &owner["metadata"]["uid"]));
        gc.poll(Duration::ZERO);
        let quiet = c.state().revision();
        gc.poll(SEC);
        assert_eq!(
            c.state().revision(),
            quiet,
            "the owner is there: nothing to do"
        );

        // A data change of the dependent keeps it.
        let mut body = owned("dep", &owner["metadata"]["uid"]);
        body["data"] = json!({"k": "v"});
        put_cm(&c, "dep", body);
        gc.poll(2 * SEC);
        assert!(exists(&c, "default", "dep"));

        // Its owner reference rewritten to a uid that no object has: the next pass deletes it.
        put_cm(&c, "dep", owned("dep", &json!("no-such-uid")));
        gc.poll(3 * SEC);
        assert!(
            !exists(&c, "default", "dep"),
            "a dependent of an absent owner goes"
        );
    }

    #[test]
    fn a_dependent_created_after_a_quiet_pass_is_deleted_when_its_owner_is_absent_and_kept_when_solid(
    ) {
        let c = cluster();
        let mut gc = GarbageCollector::new(Arc::clone(&c));
        let owner = cm(&c, "default", json!({"metadata": {"name": "owner"}}));
        gc.poll(Duration::ZERO);
        let owned = |name: &str, owner: &str, kind: &str, uid: &Value| {
            json!({"metadata": {
                "name": name,
                "ownerReferences": [{"apiVersion": "v1", "kind": kind, "name": owner, "uid": uid}],
            }})
        };
        let uid = &owner["metadata"]["uid"];
        cm(&c, "default", owned("kept", "owner", "ConfigMap", uid));
        cm(
            &c,
            "default",
            owned("orphan", "gone", "ConfigMap", &json!("gone-uid")),
        );
        // An owner of a type the server does not serve is looked up by uid by the pass.
        cm(&c, "default", owned("odd", "owner", "Gadget", uid));
        gc.poll(SEC);
        assert!(exists(&c, "default", "kept"), "its owner is there");
        assert!(!exists(&c, "default", "orphan"), "its owner never existed");
        assert!(
            exists(&c, "default", "odd"),
            "the pass matches owners by uid, not kind"
        );
        let quiet = c.state().revision();
        cm(
            &c,
            "default",
            owned("late", "gone", "ConfigMap", &json!("gone-uid")),
        );
        gc.poll(2 * SEC);
        assert!(c.state().revision() > quiet && !exists(&c, "default", "late"));
    }
}
