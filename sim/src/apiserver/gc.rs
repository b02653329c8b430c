//! The garbage collector (kube-controller-manager's `garbagecollector`). It talks to storage
//! directly, not over the network, so it is not a host: the harness runs it between simulation
//! steps ([`GarbageCollector::poll`]), one pass every `gc_interval` of simulated time, so
//! dependents disappear some time after their owner, as on a real cluster. Not being a host
//! saves turmoil a poll per tick (every host is polled every tick, idle or not).

use super::Cluster;
use crate::api::LogEntry;
use crate::clock;
use kubesim_model::WatchEventType;
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
            let log = self.cluster.state().log_since(quiet);
            if !log.is_ok_and(|log| log.iter().any(may_matter)) {
                self.quiet_at = Some(self.cluster.state().revision());
                return;
            }
        }
        let stamp = clock::rfc3339(now);
        let writes = self.cluster.write(GC_HOST, |st| st.collect_garbage(&stamp));
        self.quiet_at = (writes == 0).then(|| self.cluster.state().revision());
    }
}

/// Whether a write can change what a pass does: a deletion (an owner may be gone), or a write of an
/// object that has owner references, a deletion timestamp or finalizers. Other writes (a lease
/// renewal, a status update of an object nobody owns) cannot: a new object's uid is fresh, so no
/// dependent can point at it yet.
fn may_matter(e: &LogEntry) -> bool {
    let set = |o: &Value, field: &str| {
        o.pointer(&format!("/metadata/{field}"))
            .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
    };
    e.kind == WatchEventType::Deleted
        || ["ownerReferences", "deletionTimestamp", "finalizers"]
            .iter()
            .any(|f| set(&e.object, f))
}
