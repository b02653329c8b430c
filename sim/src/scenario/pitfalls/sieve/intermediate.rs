//! Pitfall 7 (Sieve: intermediate states): a crash between two dependent writes.
//!
//! The mistake: the reconcile first acknowledges a new generation in status
//! (`observedGeneration`, `replicas`), meaning "this spec is being rolled out", then creates and
//! deletes pods; and any reconcile that finds the generation acknowledged returns at once,
//! trusting the record over the pods it could list. A crash (or a failed call) after the
//! acknowledgement leaves an intermediate state that no later reconcile repairs: `converges`
//! catches it. The fault that makes it likely is [`FaultAction::CrashAfterWrites`], which crashes
//! the controller right after its k-th write (k drawn from the seed), then restarts it.
//!
//! The fix is the reference controller: each reconcile recomputes the pods from a list and
//! writes status last, from what it did, so a restart redoes whatever was left undone.

use super::add_controller;
use crate::faults::FaultAction;
use crate::scenario::replicagroup::{self, CONTROLLER};
use crate::world::World;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use kubesim_controller::reference::{self, ReplicaGroup, ReplicaGroupStatus, FINALIZER};
use kubesim_controller::{Action, Context};
use rand::Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The buggy variant's world.
pub(super) fn buggy(world: &mut World) {
    replicagroup::setup_with(world, |w| add_controller(w, acknowledge_first));
    crash_between_writes(world);
}

/// The fixed variant's world: the reference controller under the same faults.
pub(super) fn fixed(world: &mut World) {
    replicagroup::setup_with(world, |w| add_controller(w, reference::reconcile));
    crash_between_writes(world);
}

/// Arms four crashes of the controller: one right after a drawn write among the first ten
/// (finalizers, then the first groups' pods), then three right after the first write following
/// drawn times in the scaling phase (most often the acknowledgement of the next scale).
pub(super) fn crash_between_writes(world: &mut World) {
    let mut rng = world.fork_rng();
    let arms = [
        (500, 2_000, 10),
        (5_000, 15_000, 1),
        (15_000, 25_000, 1),
        (25_000, 35_000, 1),
    ];
    for (from_ms, to_ms, writes_max) in arms {
        let at = Duration::from_millis(rng.random_range(from_ms..=to_ms));
        world.schedule(
            at,
            FaultAction::CrashAfterWrites {
                host: CONTROLLER.into(),
                writes: rng.random_range(1..=writes_max),
                restart_after: Duration::from_millis(rng.random_range(200..=3_000)),
            },
        );
    }
}

/// The mistake: acknowledge the generation, then act; skip generations already acknowledged.
async fn acknowledge_first(
    group: Arc<ReplicaGroup>,
    ctx: Context,
    data: Arc<reference::Data>,
) -> Result<Action, reference::Error> {
    let deleting = group.meta().deletion_timestamp.is_some();
    let has_finalizer = group.finalizers().iter().any(|f| f == FINALIZER);
    if deleting || !has_finalizer {
        return reference::reconcile(group, ctx, data).await;
    }
    let generation = group.meta().generation;
    let acknowledged = group.status.as_ref().and_then(|s| s.observed_generation) == generation;
    if acknowledged {
        // "This generation has been handled": the status says so.
        return Ok(Action::await_change());
    }
    let status = ReplicaGroupStatus {
        replicas: group.spec.replicas,
        observed_generation: generation,
    };
    let ns = group.namespace().unwrap_or_else(|| "default".into());
    Api::<ReplicaGroup>::namespaced(data.client.clone(), &ns)
        .patch_status(
            &group.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await
        .map_err(|source| reference::Error::Api {
            what: "acknowledge generation".into(),
            source,
        })?;
    // Then the pods, as the reference controller makes them (its status write is now a no-op).
    let mut acked = (*group).clone();
    acked.status = Some(status);
    reference::reconcile(Arc::new(acked), ctx, data).await
}
