//! [`Selector`]: which API requests a targeted fault is aimed at (client, verb, resource,
//! namespace, name, subresource).

use crate::api::{ApiRequest, Verb};
use serde::{Deserialize, Serialize};

/// Which API requests a targeted fault is aimed at. Every field that is set must match; an
/// empty selector matches every request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// The client host that sends the request (`controller-0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The verb: get, list, watch, create, update, patch, delete, deletecollection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<Verb>,
    /// The resource as histories name it (`pods`, `widgets.example.com`), or its plural alone
    /// (`widgets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The namespace of the request's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object name of the request's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The subresource: only `status` exists in kubesim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<Subresource>,
}

/// A subresource a selector can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subresource {
    /// `/status`.
    Status,
}

impl Selector {
    /// A selector that matches every request; narrow it with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only requests sent by client host `host`.
    pub fn host(mut self, host: &str) -> Self {
        self.host = Some(host.to_string());
        self
    }

    /// Only requests with verb `verb` (`get`, `list`, `watch`, `create`, `update`, `patch`,
    /// `delete`, `deletecollection`).
    ///
    /// # Panics
    /// On any other verb (a bug in the caller's test, not input).
    pub fn verb(mut self, verb: &str) -> Self {
        self.verb = Some(Verb::parse(verb).unwrap_or_else(|| {
            panic!("unknown verb {verb:?}: expected get, list, watch, create, update, patch, delete or deletecollection")
        }));
        self
    }

    /// Only requests on `resource` (`pods`, `widgets.example.com`, or the plural `widgets`).
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = Some(resource.to_string());
        self
    }

    /// Only requests in namespace `namespace`.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// Only requests on the object named `name`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Only requests on the `/status` subresource.
    pub fn status_subresource(mut self) -> Self {
        self.subresource = Some(Subresource::Status);
        self
    }

    /// Whether `request`, sent by `peer`, matches.
    pub fn matches(&self, peer: &str, request: &ApiRequest) -> bool {
        let resource_ok = self.resource.as_deref().is_none_or(|r| {
            let short = request.resource.short_name();
            short == r || request.resource.plural == r
        });
        self.host.as_deref().is_none_or(|h| h == peer)
            && self.verb.is_none_or(|v| v == request.verb)
            && resource_ok
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| request.namespace.as_deref() == Some(ns))
            && self
                .name
                .as_deref()
                .is_none_or(|n| request.name.as_deref() == Some(n))
            && self.subresource.is_none_or(|_| request.status)
    }

    /// The selector as history lines print it: `update pods default/x from controller-0`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.verb {
            parts.push(
                serde_json::to_value(v)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            );
        }
        if let Some(r) = &self.resource {
            parts.push(r.clone());
        }
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => parts.push(format!("{ns}/{n}")),
            (Some(ns), None) => parts.push(format!("{ns}/*")),
            (None, Some(n)) => parts.push(format!("*/{n}")),
            (None, None) => {}
        }
        if self.subresource.is_some() {
            parts.push("status".into());
        }
        if let Some(h) = &self.host {
            parts.push(format!("from {h}"));
        }
        if parts.is_empty() {
            "any request".into()
        } else {
            parts.join(" ")
        }
    }
}
