//! REST paths, as kube-client builds them (k8s.io/apiserver `endpoints/request/requestinfo.go`):
//!
//! ```text
//! /api/v1/{plural}[/{name}[/status]]                         core, cluster-scoped or all namespaces
//! /api/v1/namespaces/{ns}/{plural}[/{name}[/status]]         core, namespaced
//! /apis/{group}/{version}/{plural}[/{name}[/status]]
//! /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}[/status]]
//! ```
//! `/api/v1/namespaces/{name}` is the Namespace object itself.

use kubesim_model::ApiError;

/// A parsed path, before the resource is resolved against the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// API group, empty for `/api`.
    pub group: String,
    /// API version.
    pub version: String,
    /// Namespace segment, if the path has one.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub plural: String,
    /// Object name, for single-object paths.
    pub name: Option<String>,
    /// The path ends in `/status`.
    pub status: bool,
}

/// go-restful's 404 for a path no route serves, as the apiserver's `serviceErrorHandler`
/// words it (`errors.NewGenericServerResponse`: a generic message, empty details).
pub fn not_found() -> ApiError {
    ApiError::generic(
        kubesim_model::StatusReason::NotFound,
        "the server could not find the requested resource",
    )
}

/// Parses a request path into a [`Route`]; unknown shapes are 404 as on a real API server.
pub fn parse(path: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(not_found());
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", version, rest @ ..] => (String::new(), version.to_string(), rest),
        ["apis", group, version, rest @ ..] => (group.to_string(), version.to_string(), rest),
        _ => return Err(not_found()),
    };
    let route = |namespace: Option<&str>, plural: &str, name: Option<&str>, status: bool| Route {
        group: group.clone(),
        version: version.clone(),
        namespace: namespace.map(str::to_string),
        plural: plural.to_string(),
        name: name.map(str::to_string),
        status,
    };
    Ok(match rest {
        ["namespaces", ns, plural] => route(Some(ns), plural, None, false),
        ["namespaces", ns, plural, name] => route(Some(ns), plural, Some(name), false),
        ["namespaces", ns, plural, name, "status"] => route(Some(ns), plural, Some(name), true),
        [plural] => route(None, plural, None, false),
        [plural, name] => route(None, plural, Some(name), false),
        [plural, name, "status"] => route(None, plural, Some(name), true),
        _ => return Err(not_found()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_core_paths_parse_with_name_and_status() {
        let r = parse("/api/v1/namespaces/default/pods/p1/status").expect("valid path");
        assert_eq!(
            (
                r.group.as_str(),
                r.version.as_str(),
                r.namespace.as_deref(),
                r.plural.as_str()
            ),
            ("", "v1", Some("default"), "pods")
        );
        assert_eq!((r.name.as_deref(), r.status), (Some("p1"), true));
    }

    #[test]
    fn the_namespace_object_itself_is_a_cluster_scoped_path() {
        let r = parse("/api/v1/namespaces/kube-system").expect("valid path");
        assert_eq!(
            (r.plural.as_str(), r.name.as_deref(), r.namespace),
            ("namespaces", Some("kube-system"), None)
        );
    }

    #[test]
    fn group_paths_and_all_namespace_lists_parse() {
        let r = parse("/apis/coordination.k8s.io/v1/namespaces/ns/leases").expect("valid path");
        assert_eq!(
            (r.group.as_str(), r.plural.as_str(), r.name),
            ("coordination.k8s.io", "leases", None)
        );
        let r = parse("/apis/example.com/v1/widgets").expect("valid path");
        assert_eq!((r.namespace, r.plural.as_str()), (None, "widgets"));
    }

    #[test]
    fn unknown_path_shapes_are_404() {
        for p in [
            "/",
            "/healthz",
            "/api",
            "/apis/x",
            "/api/v1/a/b/c/d/e/f/g",
            "/api//v1/pods",
        ] {
            assert_eq!(parse(p).map_err(|e| e.code()), Err(404), "{p}");
        }
    }
}
