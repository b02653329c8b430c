//! Typed views of the simulated cluster's storage: register a custom resource from its Rust type
//! ([`World::register_crd`]) and read objects back as that type ([`World::objects`]), without
//! raw JSON keyed by strings.

use crate::world::World;
use kube::core::{CustomResourceExt, Resource};
use kubesim_model::resource::ScopeMarker;
use kubesim_model::{ObjectKey, ResourceType};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The storage key prefix of `K`: `plural` for core types, `plural.group` otherwise.
pub fn resource_name<K: Resource<DynamicType = ()>>() -> String {
    let (plural, group) = (K::plural(&()), K::group(&()));
    if group.is_empty() {
        plural.into_owned()
    } else {
        format!("{plural}.{group}")
    }
}

/// Storage's objects of type `K`, in key order. An object that does not deserialize as `K` is
/// left out (storage holds what clients wrote; a schema mismatch is the test's to see).
pub fn objects_of<K>(objects: &[(ObjectKey, Arc<serde_json::Value>)]) -> Vec<K>
where
    K: Resource<DynamicType = ()> + DeserializeOwned,
{
    let resource = resource_name::<K>();
    objects
        .iter()
        .filter(|(k, _)| k.resource == resource)
        .filter_map(|(_, v)| K::deserialize(&**v).ok())
        .collect()
}

impl World {
    /// Registers the custom resource `K` with the API server, namespaced or not as `K` is, with
    /// a `/status` subresource when its CRD (kube's `#[derive(CustomResource)]`) declares one.
    pub fn register_crd<K>(&self)
    where
        K: CustomResourceExt + Resource<DynamicType = ()>,
        K::Scope: ScopeMarker,
    {
        let status = K::crd()
            .spec
            .versions
            .iter()
            .any(|v| v.subresources.as_ref().is_some_and(|s| s.status.is_some()));
        self.cluster
            .state()
            .register(ResourceType::of_custom::<K>(status));
    }

    /// Storage's objects of type `K` now, in key order (namespace, then name).
    pub fn objects<K>(&self) -> Vec<K>
    where
        K: Resource<DynamicType = ()> + DeserializeOwned,
    {
        objects_of(&self.cluster.state().objects())
    }

    /// The object `K` called `name` in `namespace` (empty for cluster-scoped), if it exists.
    pub fn object<K>(&self, namespace: &str, name: &str) -> Option<K>
    where
        K: Resource<DynamicType = ()> + DeserializeOwned,
    {
        let key = ObjectKey {
            resource: resource_name::<K>(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        let value = self.cluster.state().object(&key)?;
        K::deserialize(&*value).ok()
    }
}
