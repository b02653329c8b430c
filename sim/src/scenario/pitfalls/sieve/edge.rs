//! Pitfall 9 (Sieve: unobserved states): edge-triggered logic that needs every intermediate
//! event.
//!
//! The mistake: an informer handler remembers the last spec it saw of each group and turns every
//! event into the change since then: `new.replicas - old.replicas` pods to create (indexes
//! `old..new`) or delete (`new..old`), then records status. Each change is acted on once, when
//! its event arrives. Whatever it never sees as an event pair is never acted on: a scale made
//! while the controller was down (after a restart every group looks new, so nothing is deleted),
//! and a change whose calls failed or were cut short (an injected error, a crash after a write:
//! the event is spent). `converges` catches the pods left wrong. Both variants run the
//! `replicagroup` world plus the crashes after drawn writes of [`super::intermediate`].
//!
//! The fix is the reference controller: a level-triggered reconcile that compares the whole
//! desired state with the pods it lists, through the workqueue, retried with backoff.

use super::intermediate::crash_between_writes;
use crate::scenario::replicagroup::{self, CONTROLLER};
use crate::world::World;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use kubesim_controller::reference::{self, ReplicaGroup, ReplicaGroupStatus};
use kubesim_controller::{Change, Context, Informer, InformerConfig, ObjectRef};
use kubesim_model::EventKind;
use rand::SeedableRng;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The buggy variant's world.
pub(super) fn buggy(world: &mut World) {
    replicagroup::setup_with(world, add_edge_triggered);
    crash_between_writes(world);
}

/// The fixed variant's world: the reference controller.
pub(super) fn fixed(world: &mut World) {
    replicagroup::setup_with(world, |w| replicagroup::add_controller(w, CONTROLLER));
    crash_between_writes(world);
}

/// One change to act on: scale `group` from `from` to its `spec.replicas` pods.
struct Delta {
    group: Arc<ReplicaGroup>,
    from: u32,
}

fn add_edge_triggered(world: &mut World) {
    world.add_controller(CONTROLLER, move |host| {
        let seed = host.seed();
        async move {
            let (client, observer) = (host.client(), host.observer());
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Delta>();
            let informer = Informer::new(
                Api::<ReplicaGroup>::all(client.clone()),
                InformerConfig::default(),
                Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(seed)),
                observer.clone(),
            );
            // The handler: the change since the last version seen of each group.
            let mut seen: BTreeMap<ObjectRef, u32> = BTreeMap::new();
            tokio::spawn(
                informer.run(Context::background(), move |change| match change {
                    Change::Apply(group) => {
                        let key = ObjectRef::of(group.as_ref());
                        let from = seen.insert(key, group.spec.replicas).unwrap_or(0);
                        if from != group.spec.replicas {
                            let _ = tx.send(Delta { group, from });
                        }
                    }
                    // Its pods go with it (ownerReferences, garbage collection).
                    Change::Delete(group) => {
                        seen.remove(&ObjectRef::of(group.as_ref()));
                    }
                }),
            );
            while let Some(delta) = rx.recv().await {
                if let Err(e) = act(&client, &delta).await {
                    // The event has been handled; the next one will bring the next change.
                    observer.record(EventKind::Runtime {
                        text: format!("scale {} failed: {e}", delta.group.name_any()),
                    });
                }
            }
        }
    });
}

/// Creates or deletes the pods between `delta.from` and the new count, then records status.
async fn act(client: &kube::Client, delta: &Delta) -> Result<(), kube::Error> {
    let group = &delta.group;
    let ns = group.namespace().unwrap_or_else(|| "default".into());
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let to = group.spec.replicas;
    for i in delta.from..to {
        match pods
            .create(&PostParams::default(), &reference::pod_for(group, i))
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            r => {
                r?;
            }
        }
    }
    for i in to..delta.from {
        let name = format!("{}-{i}", group.name_any());
        match pods.delete(&name, &DeleteParams::default()).await {
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            r => {
                r?;
            }
        }
    }
    let status = ReplicaGroupStatus {
        replicas: to,
        observed_generation: group.meta().generation,
    };
    Api::<ReplicaGroup>::namespaced(client.clone(), &ns)
        .patch_status(
            &group.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await?;
    Ok(())
}
