//! Query parameters of REST requests, parsed with the apiserver's names and types. A value that
//! does not parse is a 400 with a message naming the parameter.

use crate::api::{DeleteOptions, ListOptions, Propagation, ResourceVersionMatch};
use kubesim_model::ApiError;

/// Everything the query string can say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `watch=true|1`.
    pub watch: bool,
    /// List and watch options.
    pub list: ListOptions,
    /// Delete options given in the query.
    pub delete: DeleteOptions,
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// `force`.
    pub force: bool,
    /// `force` was given at all (forbidden on a non-apply patch).
    pub force_given: bool,
    /// `dryRun` values.
    pub dry_run: Vec<String>,
    /// `resourceVersionMatch` as given (validated with the list options).
    pub resource_version_match: Option<String>,
    /// `sendInitialEvents`, when given.
    pub send_initial_events: Option<bool>,
    /// `orphanDependents`, when given.
    pub orphan_dependents: Option<bool>,
}

fn bool_param(name: &str, v: &str) -> Result<bool, ApiError> {
    match v {
        "true" | "1" | "True" | "TRUE" => Ok(true),
        "false" | "0" | "False" | "FALSE" | "" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "invalid value for query parameter {name}: {v:?} is not a boolean"
        ))),
    }
}

fn u64_param(name: &str, v: &str) -> Result<u64, ApiError> {
    v.parse::<u64>().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid value for query parameter {name}: {v:?} is not a non-negative integer"
        ))
    })
}

/// Parses a raw query string (without `?`).
pub fn parse(raw: &str) -> Result<Query, ApiError> {
    let mut q = Query::default();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        let v = v.as_ref();
        match k.as_ref() {
            "watch" => q.watch = bool_param("watch", v)?,
            "labelSelector" => q.list.label_selector = Some(v.to_string()),
            "fieldSelector" => q.list.field_selector = Some(v.to_string()),
            "resourceVersion" => q.list.resource_version = Some(v.to_string()),
            "resourceVersionMatch" => {
                q.list.resource_version_match = match v {
                    "NotOlderThan" => Some(ResourceVersionMatch::NotOlderThan),
                    "Exact" => Some(ResourceVersionMatch::Exact),
                    _ => None,
                };
                q.resource_version_match = (!v.is_empty()).then(|| v.to_string());
            }
            "sendInitialEvents" => {
                let b = bool_param("sendInitialEvents", v)?;
                q.send_initial_events = Some(b);
                q.list.send_initial_events = b;
            }
            "orphanDependents" => q.orphan_dependents = Some(bool_param("orphanDependents", v)?),
            "limit" => q.list.limit = Some(u64_param("limit", v)?),
            "continue" => q.list.continue_token = Some(v.to_string()),
            "timeoutSeconds" => q.list.timeout_seconds = Some(u64_param("timeoutSeconds", v)?),
            "allowWatchBookmarks" => {
                q.list.allow_watch_bookmarks = bool_param("allowWatchBookmarks", v)?
            }
            "fieldManager" => q.field_manager = Some(v.to_string()),
            "force" => {
                q.force = bool_param("force", v)?;
                q.force_given = true;
            }
            "dryRun" => q.dry_run.push(v.to_string()),
            "propagationPolicy" => match propagation(v) {
                Ok(p) => q.delete.propagation = Some(p),
                Err(_) => q.delete.errors.push(propagation_not_supported(v)),
            },
            "gracePeriodSeconds" => {
                u64_param("gracePeriodSeconds", v)?;
            }
            // Parameters the apiserver accepts that change nothing here.
            _ => {}
        }
    }
    Ok(q)
}

/// `field.NotSupported("propagationPolicy", ...)` of `ValidateDeleteOptions`.
pub fn propagation_not_supported(v: &str) -> String {
    format!(
        "propagationPolicy: Unsupported value: {v:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
    )
}

/// The wire spelling of a propagation policy.
pub fn propagation_name(p: Propagation) -> &'static str {
    match p {
        Propagation::Background => "Background",
        Propagation::Foreground => "Foreground",
        Propagation::Orphan => "Orphan",
    }
}

/// Parses a `propagationPolicy` value.
pub fn propagation(v: &str) -> Result<Propagation, ApiError> {
    match v {
        "Background" => Ok(Propagation::Background),
        "Foreground" => Ok(Propagation::Foreground),
        "Orphan" => Ok(Propagation::Orphan),
        _ => Err(ApiError::bad_request(format!(
            "invalid propagationPolicy {v:?}: supported values: \"Background\", \"Foreground\", \"Orphan\""
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_watch_parameters_parse_with_apiserver_names() {
        let q = parse("watch=1&resourceVersion=12&allowWatchBookmarks=true&timeoutSeconds=290&labelSelector=app%3Dweb&limit=5")
            .expect("valid query");
        assert!(q.watch && q.list.allow_watch_bookmarks);
        assert_eq!(q.list.resource_version.as_deref(), Some("12"));
        assert_eq!(q.list.label_selector.as_deref(), Some("app=web"));
        assert_eq!((q.list.timeout_seconds, q.list.limit), (Some(290), Some(5)));
    }

    #[test]
    fn bad_values_are_400_naming_the_parameter() {
        for raw in ["limit=abc", "watch=maybe", "timeoutSeconds=-1"] {
            let e = parse(raw).expect_err(raw);
            assert_eq!(e.code(), 400, "{raw}");
            let name = raw.split('=').next().expect("has a name");
            assert!(e.message.contains(name), "{raw}: {}", e.message);
        }
    }
}
