//! Resource identity and the per-type rules the API server applies.

use serde::{Deserialize, Serialize};

/// One kind of object the API server serves, with the rules that differ between kinds.
///
/// The flags mirror where the real API server differs between types: `rest.RESTUpdateStrategy`'s
/// `AllowUnconditionalUpdate`, whether the type has `metadata.generation` bumped on spec changes,
/// whether a `/status` subresource exists, and whether strategic merge patch is accepted (built-in
/// types only; custom resources answer 415).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceType {
    /// API group, empty for the core group.
    pub group: String,
    /// API version, for example `v1`.
    pub version: String,
    /// Kind, for example `ConfigMap`.
    pub kind: String,
    /// Plural resource name used in paths, for example `configmaps`.
    pub plural: String,
    /// Namespaced (true) or cluster-scoped (false).
    pub namespaced: bool,
    /// Has a `/status` subresource: the main resource ignores `.status`, `/status` ignores the rest.
    pub status_subresource: bool,
    /// `metadata.generation` is set to 1 on create and bumped when anything but metadata and
    /// status changes.
    pub generation: bool,
    /// An update without `metadata.resourceVersion` is accepted (last write wins).
    pub unconditional_update: bool,
    /// Strategic merge patch is accepted (built-in types); otherwise 415.
    pub strategic_merge_patch: bool,
    /// Whether an immediate delete answers with the deleted object (the registry store's
    /// `ReturnDeletedObject`, set for pods and namespaces) rather than a `Success` Status.
    #[serde(default)]
    pub return_deleted_object: bool,
    /// Whether an update of a missing object creates it (the strategy's
    /// `AllowCreateOnUpdate`: Leases, for client-go leader election).
    #[serde(default)]
    pub allow_create_on_update: bool,
}

impl ResourceType {
    /// `apiVersion` as written in objects: `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// A short stable name for histories: `plural` for the core group, `plural.group` otherwise.
    pub fn short_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Core `v1` ConfigMap: namespaced, no status, no generation, unconditional update.
    pub fn config_map() -> Self {
        Self::builtin("", "v1", "ConfigMap", "configmaps", false, false, true)
    }

    /// Core `v1` Pod: namespaced, status subresource, generation, unconditional update.
    pub fn pod() -> Self {
        let mut t = Self::builtin("", "v1", "Pod", "pods", true, true, true);
        t.return_deleted_object = true;
        t
    }

    /// `coordination.k8s.io/v1` Lease: namespaced, no status, no generation, updates need a
    /// resourceVersion.
    pub fn lease() -> Self {
        let mut t = Self::builtin(
            "coordination.k8s.io",
            "v1",
            "Lease",
            "leases",
            false,
            false,
            false,
        );
        t.allow_create_on_update = true;
        t
    }

    /// Core `v1` Namespace: cluster-scoped.
    pub fn namespace() -> Self {
        let mut t = Self::builtin("", "v1", "Namespace", "namespaces", true, false, true);
        t.namespaced = false;
        t.return_deleted_object = true;
        t
    }

    /// The built-in types kubesim serves.
    pub fn builtins() -> Vec<Self> {
        vec![
            Self::config_map(),
            Self::pod(),
            Self::lease(),
            Self::namespace(),
        ]
    }

    fn builtin(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        status_subresource: bool,
        generation: bool,
        unconditional_update: bool,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced: true,
            status_subresource,
            generation,
            unconditional_update,
            strategic_merge_patch: true,
            return_deleted_object: false,
            allow_create_on_update: false,
        }
    }

    /// A custom resource as apiextensions-apiserver serves it: generation always, updates need a
    /// resourceVersion, no strategic merge patch, `/status` when `status_subresource`.
    pub fn custom(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
        status_subresource: bool,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
            status_subresource,
            generation: true,
            unconditional_update: false,
            strategic_merge_patch: false,
            return_deleted_object: false,
            allow_create_on_update: false,
        }
    }

    /// The custom resource type of a `kube::CustomResource` (or any static `kube::Resource`).
    pub fn of_custom<K>(status_subresource: bool) -> Self
    where
        K: kube_core::Resource<DynamicType = ()>,
        K::Scope: ScopeMarker,
    {
        Self::custom(
            &K::group(&()),
            &K::version(&()),
            &K::kind(&()),
            &K::plural(&()),
            K::Scope::NAMESPACED,
            status_subresource,
        )
    }
}

/// Tells whether a `kube::Resource::Scope` is namespaced.
pub trait ScopeMarker {
    /// True for `NamespaceResourceScope`.
    const NAMESPACED: bool;
}

impl ScopeMarker for kube_core::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl ScopeMarker for kube_core::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_omits_the_empty_core_group() {
        assert_eq!(ResourceType::pod().api_version(), "v1");
        assert_eq!(
            ResourceType::lease().api_version(),
            "coordination.k8s.io/v1"
        );
        assert_eq!(
            ResourceType::lease().short_name(),
            "leases.coordination.k8s.io"
        );
    }

    #[test]
    fn custom_resources_need_a_resource_version_and_refuse_strategic_merge() {
        let t = ResourceType::custom("example.com", "v1", "Widget", "widgets", true, true);
        assert!(!t.unconditional_update && !t.strategic_merge_patch && t.generation);
    }
}
