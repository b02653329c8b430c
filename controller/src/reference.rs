//! The reference controller: `ReplicaGroup`, a custom resource whose controller keeps
//! `spec.replicas` Pods alive, named `<group>-<index>`, owned by the group (ownerReferences) and
//! labelled `kubesim.io/group=<group>`. It is level-triggered (every reconcile compares the whole
//! desired and observed state, from a consistent list), idempotent (Pod names are derived, so a
//! repeated create is a 409 AlreadyExists it ignores), records `status.replicas` and `status.observedGeneration`,
//! and uses a finalizer to delete its Pods before the group goes away.
//!
//! The tests, the `replicagroup` scenario, the README tutorial and the real-cluster example
//! (`cargo run -p kubesim-controller --example replicagroup`) all run this code.

use crate::context::Context;
use crate::runtime::Action;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{CustomResource, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The finalizer the controller puts on every group.
pub const FINALIZER: &str = "kubesim.io/cleanup";
/// The label that ties a Pod to its group.
pub const GROUP_LABEL: &str = "kubesim.io/group";

/// Desired state of a `ReplicaGroup`.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[kube(
    group = "kubesim.io",
    version = "v1",
    kind = "ReplicaGroup",
    namespaced,
    status = "ReplicaGroupStatus"
)]
pub struct ReplicaGroupSpec {
    /// How many Pods to keep.
    pub replicas: u32,
    /// The Pods' container image.
    pub image: String,
}

/// Observed state of a `ReplicaGroup`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaGroupStatus {
    /// Pods that exist for the group.
    pub replicas: u32,
    /// The generation these Pods were made for.
    pub observed_generation: Option<i64>,
}

/// What went wrong in a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("{what}: {source}")]
    Api {
        /// The call.
        what: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
}

fn api_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
    let what = what.into();
    move |source| Error::Api { what, source }
}

/// Whether `e` is an API error with HTTP status `code`.
fn is_code(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// A create that found the object already there (409 `AlreadyExists`). A 409 `Conflict` on a
/// create is a storage conflict: the object may not exist, so it is an error to retry.
fn already_exists(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists")
}

/// What the reconciler needs.
pub struct Data {
    /// The client.
    pub client: kube::Client,
}

/// The Pod `index` of `group`.
pub fn pod_for(group: &ReplicaGroup, index: u32) -> Pod {
    let name = format!("{}-{index}", group.name_any());
    let owner = OwnerReference {
        api_version: ReplicaGroup::api_version(&()).into(),
        kind: ReplicaGroup::kind(&()).into(),
        name: group.name_any(),
        uid: group.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let mut pod = Pod::default();
    pod.metadata.name = Some(name.clone());
    pod.metadata.labels = Some(BTreeMap::from([(
        GROUP_LABEL.to_string(),
        group.name_any(),
    )]));
    pod.metadata.owner_references = Some(vec![owner]);
    pod.spec = Some(PodSpec {
        containers: vec![Container {
            name: "main".into(),
            image: Some(group.spec.image.clone()),
            ..Default::default()
        }],
        ..Default::default()
    });
    pod
}

/// The index of a Pod named `<group>-<index>`.
fn index_of(pod: &Pod, group: &str) -> Option<u32> {
    pod.name_any()
        .strip_prefix(group)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

/// Reconciles one group: finalizer, Pods, status.
pub async fn reconcile(
    group: Arc<ReplicaGroup>,
    _ctx: Context,
    data: Arc<Data>,
) -> Result<Action, Error> {
    let ns = group.namespace().unwrap_or_else(|| "default".into());
    let name = group.name_any();
    let groups: Api<ReplicaGroup> = Api::namespaced(data.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(data.client.clone(), &ns);
    let selector = ListParams::default().labels(&format!("{GROUP_LABEL}={name}"));
    let existing = pods
        .list(&selector)
        .await
        .map_err(api_err("list pods"))?
        .items;

    if group.meta().deletion_timestamp.is_some() {
        for p in &existing {
            match pods.delete(&p.name_any(), &DeleteParams::default()).await {
                Err(e) if !is_code(&e, 404) => {
                    return Err(api_err(format!("delete pod {}", p.name_any()))(e))
                }
                _ => {}
            }
        }
        if group.finalizers().iter().any(|f| f == FINALIZER) {
            let rest: Vec<&String> = group
                .finalizers()
                .iter()
                .filter(|f| *f != FINALIZER)
                .collect();
            // The resourceVersion makes this a compare-and-swap: a stale view gets 409 and retries.
            let patch = json!({ "metadata": { "finalizers": rest, "resourceVersion": group.resource_version() } });
            groups
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .map_err(api_err("remove finalizer"))?;
        }
        return Ok(Action::await_change());
    }

    if !group.finalizers().iter().any(|f| f == FINALIZER) {
        let mut all = group.finalizers().to_vec();
        all.push(FINALIZER.into());
        let patch = json!({ "metadata": { "finalizers": all, "resourceVersion": group.resource_version() } });
        groups
            .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map_err(api_err("add finalizer"))?;
        // The update brings the group back through the watch.
        return Ok(Action::await_change());
    }

    let want = group.spec.replicas;
    for i in 0..want {
        if existing.iter().any(|p| index_of(p, &name) == Some(i)) {
            continue;
        }
        match pods
            .create(&PostParams::default(), &pod_for(&group, i))
            .await
        {
            Err(e) if !already_exists(&e) => {
                return Err(api_err(format!("create pod {name}-{i}"))(e))
            }
            _ => {}
        }
    }
    for p in &existing {
        let extra = index_of(p, &name).is_none_or(|i| i >= want);
        if extra && p.meta().deletion_timestamp.is_none() {
            match pods.delete(&p.name_any(), &DeleteParams::default()).await {
                Err(e) if !is_code(&e, 404) => {
                    return Err(api_err(format!("delete pod {}", p.name_any()))(e))
                }
                _ => {}
            }
        }
    }
    let status = ReplicaGroupStatus {
        replicas: want,
        observed_generation: group.meta().generation,
    };
    if group.status.as_ref() != Some(&status) {
        let patch = json!({ "status": status });
        groups
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map_err(api_err("update status"))?;
    }
    Ok(Action::await_change())
}

/// Whether storage's content matches every group's desired state: each live group has exactly
/// Pods `0..replicas` and its status says so; no Pod of a deleted group is left.
pub fn converged(groups: &[ReplicaGroup], pods: &[Pod]) -> Result<(), String> {
    // Pods by (namespace, group label) once, instead of a scan of every pod per group.
    let mut by_group: BTreeMap<(Option<String>, &str), Vec<&Pod>> = BTreeMap::new();
    for p in pods {
        if let Some(owner) = p.labels().get(GROUP_LABEL) {
            by_group
                .entry((p.namespace(), owner.as_str()))
                .or_default()
                .push(p);
        }
    }
    for g in groups {
        let name = g.name_any();
        let mut mine: Vec<u32> = by_group
            .get(&(g.namespace(), name.as_str()))
            .into_iter()
            .flatten()
            .filter_map(|p| index_of(p, &name))
            .collect();
        mine.sort_unstable();
        if g.meta().deletion_timestamp.is_some() {
            return Err(format!("group {name} is still being deleted"));
        }
        let want: Vec<u32> = (0..g.spec.replicas).collect();
        if mine != want {
            return Err(format!("group {name} wants pods {want:?}, has {mine:?}"));
        }
        let st = g.status.clone().unwrap_or_default();
        if st.replicas != g.spec.replicas || st.observed_generation != g.meta().generation {
            return Err(format!(
                "group {name} status {st:?} is stale (generation {:?})",
                g.meta().generation
            ));
        }
    }
    let mut live: BTreeMap<Option<String>, BTreeSet<String>> = BTreeMap::new();
    for g in groups {
        live.entry(g.namespace()).or_default().insert(g.name_any());
    }
    for p in pods {
        if let Some(o) = p.labels().get(GROUP_LABEL) {
            if !live
                .get(&p.namespace())
                .is_some_and(|names| names.contains(o.as_str()))
            {
                return Err(format!("pod {} outlived its group {o}", p.name_any()));
            }
        }
    }
    Ok(())
}
