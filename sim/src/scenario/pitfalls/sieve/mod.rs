//! Pitfalls 7, 8 and 9: the three kinds of bug Sieve (Sun et al., "Automatic Reliability Testing
//! for Cluster Management Controllers", OSDI'22; sieve-project/sieve) finds by perturbing what a
//! controller observes.
//!
//! - [`intermediate`] (pitfall 7, intermediate states): a crash between two dependent writes of
//!   one reconcile, and a restarted controller that trusts the first write.
//! - [`stale_delete`] (pitfall 8, stale states / time travel): a delete by name decided from a
//!   lagging API server's cache removes a recreated object.
//! - [`edge`] (pitfall 9, unobserved states): logic that acts on the change between the previous
//!   and the new object, so a change it never sees as an event pair is never acted on.

mod edge;
mod intermediate;
mod stale_delete;

use super::pair;
use crate::oracle::names;
use crate::scenario::replicagroup::{self, CONTROLLER};
use crate::scenario::Scenario;
use crate::world::World;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_controller::{default_error_policy, Action, Context, Controller, InformerConfig};
use std::future::Future;
use std::sync::Arc;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    out.extend(pair(
        ("intermediate-state", "intermediate-state-fixed"),
        (
            "pitfall 7: status acknowledges a generation before its pods exist; a crash in between is never repaired",
            "pitfall 7 fixed: every reconcile recomputes the pods from what it lists (the reference controller)",
        ),
        names::CONVERGES,
        intermediate::buggy,
        intermediate::fixed,
    ));
    out.extend(stale_delete::scenarios());
    out.extend(pair(
        ("edge-triggered", "edge-triggered-fixed"),
        (
            "pitfall 9: pods created and deleted by the change between the old and new spec of each event",
            "pitfall 9 fixed: a level-triggered reconcile from the current state (the reference controller)",
        ),
        names::CONVERGES,
        edge::buggy,
        edge::fixed,
    ));
    out
}

/// Adds a ReplicaGroup controller running `reconcile` (owning its pods, like the reference
/// controller) as host [`CONTROLLER`], connecting to any replica.
fn add_controller<R, F>(world: &mut World, reconcile: R)
where
    R: Fn(Arc<ReplicaGroup>, Context, Arc<reference::Data>) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<Action, reference::Error>> + Send + 'static,
{
    world.add_controller(CONTROLLER, move |host| async move {
        let client = host.client();
        let controller = Controller::new(
            Api::<ReplicaGroup>::all(client.clone()),
            replicagroup::controller_config(host.seed()),
        )
        .owns(Api::<Pod>::all(client.clone()), InformerConfig::default())
        .observer(host.observer());
        let data = Arc::new(reference::Data { client });
        controller
            .run(reconcile, default_error_policy, data, Context::background())
            .await;
    });
}
