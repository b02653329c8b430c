//! The election record kept in a Lease's spec (client-go's `LeaderElectionRecord`, as
//! `resourcelock/leaselock.go` maps it to `LeaseSpec`).

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;

/// What a lease says about the election. Two records are compared field by field to decide
/// whether the lease changed (client-go compares the raw record bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaseRecord {
    /// `holderIdentity`; empty when nobody holds the lease.
    pub holder: String,
    /// `leaseDurationSeconds`.
    pub lease_duration_seconds: i32,
    /// `acquireTime`.
    pub acquire_time: Option<Timestamp>,
    /// `renewTime`.
    pub renew_time: Option<Timestamp>,
    /// `leaseTransitions`.
    pub lease_transitions: i32,
}

impl LeaseRecord {
    /// The record in `lease` (a lease without a spec is an empty record).
    pub fn of(lease: &Lease) -> Self {
        let Some(spec) = lease.spec.as_ref() else {
            return Self::default();
        };
        Self {
            holder: spec.holder_identity.clone().unwrap_or_default(),
            lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
            acquire_time: spec.acquire_time.as_ref().map(|t| t.0),
            renew_time: spec.renew_time.as_ref().map(|t| t.0),
            lease_transitions: spec.lease_transitions.unwrap_or(0),
        }
    }

    /// Writes the record into `lease`'s spec, keeping the spec's other fields.
    pub fn write_to(&self, lease: &mut Lease) {
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        spec.holder_identity = Some(self.holder.clone());
        spec.lease_duration_seconds = Some(self.lease_duration_seconds);
        spec.acquire_time = self.acquire_time.map(MicroTime);
        spec.renew_time = self.renew_time.map(MicroTime);
        spec.lease_transitions = Some(self.lease_transitions);
    }

    /// The holder for history text: the identity, or `<none>`.
    pub fn holder_text(&self) -> &str {
        if self.holder.is_empty() {
            "<none>"
        } else {
            &self.holder
        }
    }
}
