//! Fencing: a conditional update of the lease that must commit before a protected write.
//!
//! client-go's algorithm never compares timestamps across replicas, so a leader whose clock runs
//! slow, or that pauses for longer than `lease_duration`, still believes it leads after another
//! replica took over (see the `leader` module doc). [`LeaderElector::fence`] closes that window
//! for writes that call it first: it rewrites the lease naming this replica, conditional on the
//! `resourceVersion` last seen, so a deposed leader gets [`FenceError::NotLeader`] instead of
//! writing. On a conflict (409) it reads the lease once and retries only if it still names us.

use super::elector::{AttemptError, LeaderElector};
use super::record::LeaseRecord;
use kube::api::PostParams;

/// A fenced write may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum FenceError {
    /// The lease names another holder (or none): this replica is not the leader.
    #[error("not the leader of lease {lease}: it is held by {holder}")]
    NotLeader {
        /// The lease, `namespace/name`.
        lease: String,
        /// The holder the lease names (`<none>` when empty).
        holder: String,
    },
    /// The lease could not be read or written.
    #[error("fencing lease {lease} failed: {reason}")]
    Failed {
        /// The lease, `namespace/name`.
        lease: String,
        /// What failed, in the history's text form.
        reason: String,
    },
}

impl LeaderElector {
    /// Fencing: a conditional update of the lease (our last seen `resourceVersion`, holder =
    /// us) that must commit before a protected write. If it succeeds, storage named this
    /// candidate as holder at that revision and no one took the lease over since it was last
    /// observed; a deposed leader gets [`FenceError::NotLeader`] instead of writing.
    ///
    /// Call it immediately before each protected write, with no wait on the local clock in
    /// between: a candidate can take the lease over only a full `lease_duration` (on its clock)
    /// after seeing this update, which bounds how stale the write can be.
    pub async fn fence(&self) -> Result<(), FenceError> {
        let _io = self.io.lock().await;
        let not_leader = |holder: &str| FenceError::NotLeader {
            lease: self.lease_id.clone(),
            holder: holder.to_string(),
        };
        let failed = |e: AttemptError| {
            let reason = e.to_string();
            self.note(format!("fence-failed {reason}"));
            FenceError::Failed {
                lease: self.lease_id.clone(),
                reason,
            }
        };
        let (lease, prev) = {
            let o = self.lock();
            (o.lease.clone(), o.record.clone())
        };
        let (Some(mut lease), Some(prev)) = (lease, prev) else {
            return Err(not_leader("<none>"));
        };
        if prev.holder != self.config.identity {
            return Err(not_leader(prev.holder_text()));
        }
        let params = PostParams::default();
        self.desired(Some(&prev)).write_to(&mut lease);
        let first = self
            .bounded(
                self.call_limit(None),
                self.api.replace(&self.name, &params, &lease),
            )
            .await;
        let written = match first {
            Ok(w) => w,
            Err(AttemptError::Api(409, _)) => {
                // Someone wrote the lease since we saw it: read it and retry only if it is ours.
                let current = self
                    .bounded(self.call_limit(None), self.api.get(&self.name))
                    .await
                    .map_err(failed)?;
                let record = LeaseRecord::of(&current);
                self.set_observed(current.clone(), false);
                if record.holder != self.config.identity {
                    self.note(format!("fence-failed held by {}", record.holder_text()));
                    self.maybe_report_transition();
                    return Err(not_leader(record.holder_text()));
                }
                let mut lease = current;
                self.desired(Some(&record)).write_to(&mut lease);
                self.bounded(
                    self.call_limit(None),
                    self.api.replace(&self.name, &params, &lease),
                )
                .await
                .map_err(failed)?
            }
            Err(e) => return Err(failed(e)),
        };
        self.set_observed(written, true);
        self.note(format!("fenced rv={}", self.rv_text()));
        Ok(())
    }
}
