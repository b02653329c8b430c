//! API discovery, as kubectl and client-go's discovery client read it: `/api` (`APIVersions`),
//! `/apis` (`APIGroupList`), `/api/v1` and `/apis/{group}/{version}` (`APIResourceList`) and
//! `/version`. The legacy (unaggregated) documents only: a client that asks for aggregated
//! discovery (`as=APIGroupDiscoveryList`) gets the legacy one with `Content-Type:
//! application/json` and falls back to legacy discovery, as client-go does against an older
//! server (`client-go/discovery/discovery_client.go`, `ServerGroupsAndResources`).
//!
//! The documents are built from the registry, so a custom resource registered in a scenario is
//! discoverable like on a cluster where its CRD is established.

use crate::api::ApiState;
use kubesim_model::ResourceType;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The verbs every served resource supports (the registry store's, as discovery lists them).
const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// The discovery document at `path`, or `None` when `path` is not a discovery path (then it is
/// a resource path, or 404). Only `GET` reaches here.
pub fn document(state: &ApiState, path: &str) -> Option<Value> {
    let path = path.trim_end_matches('/');
    match path.split('/').skip(1).collect::<Vec<_>>().as_slice() {
        ["version"] => Some(version()),
        ["api"] => Some(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "apiserver-0:6443"}
            ],
        })),
        ["apis"] => Some(group_list(state)),
        ["api", version] => resource_list(state, "", version),
        ["apis", group, version] => resource_list(state, group, version),
        ["apis", group] => group_list(state)["groups"]
            .as_array()
            .and_then(|gs| gs.iter().find(|g| g["name"] == *group))
            .map(|g| {
                let mut g = g.clone();
                g["kind"] = json!("APIGroup");
                g["apiVersion"] = json!("v1");
                g
            }),
        _ => None,
    }
}

/// `/version`: the Kubernetes release kubesim's semantics follow.
fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-kubesim",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "",
        "compiler": "kubesim",
        "platform": "simulated",
    })
}

/// `/apis`: every named group with its versions, in name order (the first version preferred).
fn group_list(state: &ApiState) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in state.types().filter(|t| !t.group.is_empty()) {
        let versions = groups.entry(&t.group).or_default();
        if !versions.contains(&t.version.as_str()) {
            versions.push(&t.version);
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(name, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
                .collect();
            json!({"name": name, "preferredVersion": versions[0].clone(), "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// The short names kube-apiserver's registry gives the built-in types (`kubectl get cm`).
fn short_names(t: &ResourceType) -> &'static [&'static str] {
    match (t.group.as_str(), t.plural.as_str()) {
        ("", "pods") => &["po"],
        ("", "configmaps") => &["cm"],
        ("", "namespaces") => &["ns"],
        _ => &[],
    }
}

/// `/api/v1` or `/apis/{group}/{version}`: the resources served there, each with its
/// `/status` subresource when it has one; `None` (404) for a group version nothing serves.
fn resource_list(state: &ApiState, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = state
        .types()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in types {
        resources.push(json!({
            "name": t.plural,
            "singularName": t.kind.to_lowercase(),
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": VERBS,
            "shortNames": short_names(t),
        }));
        if t.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", t.plural),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::StoreConfig;

    fn state() -> ApiState {
        let mut st = ApiState::new(StoreConfig::default());
        st.register(ResourceType::custom(
            "example.com",
            "v1",
            "Widget",
            "widgets",
            true,
            true,
        ));
        st
    }

    #[test]
    fn the_core_group_lists_its_resources_with_their_status_subresources() {
        let doc = document(&state(), "/api/v1").expect("core group is served");
        assert_eq!(doc["groupVersion"], "v1");
        let names: Vec<&str> = doc["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| r["name"].as_str().expect("name"))
            .collect();
        assert!(names.contains(&"pods") && names.contains(&"pods/status"));
        assert!(names.contains(&"configmaps") && names.contains(&"namespaces"));
    }

    #[test]
    fn a_registered_custom_resource_is_discoverable_under_its_group() {
        let st = state();
        let groups = document(&st, "/apis").expect("group list");
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["coordination.k8s.io", "example.com"]);
        let widgets = document(&st, "/apis/example.com/v1").expect("served");
        assert_eq!(widgets["resources"][0]["kind"], "Widget");
        assert_eq!(widgets["resources"][0]["namespaced"], true);
        assert_eq!(
            document(&st, "/apis/example.com").expect("group")["kind"],
            "APIGroup"
        );
    }

    #[test]
    fn unserved_group_versions_and_resource_paths_are_not_discovery() {
        let st = state();
        assert!(document(&st, "/apis/example.com/v2").is_none());
        assert!(document(&st, "/apis/nothing.io").is_none());
        assert!(document(&st, "/api/v1/pods").is_none());
        assert!(document(&st, "/healthz").is_none());
    }
}
