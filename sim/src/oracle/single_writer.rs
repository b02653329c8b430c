//! The single-writer oracle for leader election: no write is committed on behalf of a replica
//! while storage says another replica (or nobody) holds the lease.
//!
//! ## Why it is judged from storage, not from clients
//!
//! Requests are recorded on the API server host, so the history alone cannot say which replica
//! sent a write. Instead, each protected write names its writer *in the object it writes*: the
//! annotation [`WRITER_ANNOTATION`] = the replica's leader election identity. What a write
//! carries is exactly what that replica sent, so the attribution is sound whatever the network
//! did (delays, retries, a replica crashed after sending).
//!
//! Storage's commit log ([`crate::api::ApiState::log_since`], kept whole by running with
//! `compaction_window: 0`) is one total order of every write, lease updates included. Walking it
//! in revision order gives, at each revision, the lease's holder *in storage*. A protected write
//! at revision `r` by `X` is a violation when the lease's last write before `r` names a holder
//! other than `X` (someone else acquired it, or `X` released it). Deletes are not attributed (the
//! object no longer says who deleted it) and are not checked.
//!
//! Times come from the history's `commit` events (same revisions), for the report.

use crate::api::LogEntry;
use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use std::collections::BTreeMap;
use std::fmt;

/// The annotation a protected write carries: the identity of the replica that wrote it.
pub const WRITER_ANNOTATION: &str = "kubesim.io/writer";

/// A write committed for a replica that did not hold the lease at that revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The lease, `namespace/name`.
    pub lease: String,
    /// The replica the write was made for.
    pub writer: String,
    /// The holder storage named at the write (`<none>` when empty).
    pub holder: String,
    /// The object written.
    pub key: String,
    /// The write's revision.
    pub write_rev: u64,
    /// The revision at which `holder` got the lease (last holder change before the write).
    pub holder_since_rev: u64,
    /// Simulated time of the write's commit, in microseconds.
    pub write_time_us: Option<u64>,
    /// Simulated time at which `holder` got the lease, in microseconds.
    pub holder_since_time_us: Option<u64>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t =
            |us: Option<u64>| us.map_or("?".to_string(), |us| format!("{:.6}s", us as f64 / 1e6));
        write!(
            f,
            "single writer violated on lease {}: {} wrote {} at rev {} ({}) while the lease was \
             held by {} since rev {} ({})",
            self.lease,
            self.writer,
            self.key,
            self.write_rev,
            t(self.write_time_us),
            self.holder,
            self.holder_since_rev,
            t(self.holder_since_time_us),
        )
    }
}

/// Checks `log` (every commit, oldest first) against the lease `namespace/name`; `history`
/// supplies commit times. Returns every violation, oldest first.
pub fn check(
    log: &[LogEntry],
    lease_namespace: &str,
    lease_name: &str,
    history: &[HistoryEvent],
) -> Vec<Violation> {
    let times: BTreeMap<u64, u64> = history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Commit { rev, .. } => Some((*rev, e.time_us)),
            _ => None,
        })
        .collect();
    let lease_id = format!("{lease_namespace}/{lease_name}");
    let mut holder = String::new();
    let mut holder_since_rev = 0u64;
    let mut violations = Vec::new();
    let mut last_rev = 0u64;
    for entry in log {
        assert!(
            entry.rev > last_rev,
            "invariant: the commit log is in revision order"
        );
        last_rev = entry.rev;
        let key = &entry.key;
        if key.resource.starts_with("leases")
            && key.namespace == lease_namespace
            && key.name == lease_name
        {
            let now = if entry.kind == WatchEventType::Deleted {
                String::new()
            } else {
                entry.object["spec"]["holderIdentity"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            };
            if now != holder {
                holder = now;
                holder_since_rev = entry.rev;
            }
            continue;
        }
        if entry.kind == WatchEventType::Deleted {
            continue;
        }
        let Some(writer) = entry.object["metadata"]["annotations"][WRITER_ANNOTATION].as_str()
        else {
            continue;
        };
        // Every protected write sets the annotation; one that left it unchanged would be
        // attributed to the previous writer.
        if writer != holder {
            violations.push(Violation {
                lease: lease_id.clone(),
                writer: writer.to_string(),
                holder: if holder.is_empty() {
                    "<none>".into()
                } else {
                    holder.clone()
                },
                key: key.to_string(),
                write_rev: entry.rev,
                holder_since_rev,
                write_time_us: times.get(&entry.rev).copied(),
                holder_since_time_us: times.get(&holder_since_rev).copied(),
            });
        }
    }
    violations
}
