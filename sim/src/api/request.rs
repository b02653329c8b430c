//! What a client asks of the API server, already parsed from HTTP by the front
//! (`crate::http`). The core ([`super::ApiState`]) answers it without any I/O.

use kubesim_model::ResourceType;
use serde_json::Value;

/// The verb of a request, as the apiserver's request info names it (serialized in lower case,
/// as histories and fault plans spell it).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// GET of one object.
    Get,
    /// GET of a collection.
    List,
    /// GET of a collection with `watch=true`.
    Watch,
    /// POST to a collection.
    Create,
    /// PUT of one object.
    Update,
    /// PATCH of one object.
    Patch,
    /// DELETE of one object.
    Delete,
    /// DELETE of a collection.
    DeleteCollection,
}

impl Verb {
    /// Lower-case name used in histories.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Watch => "watch",
            Self::Create => "create",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::DeleteCollection => "deletecollection",
        }
    }

    /// The verb spelled `s` in lower case, as [`Verb::as_str`] writes it.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Get,
            Self::List,
            Self::Watch,
            Self::Create,
            Self::Update,
            Self::Patch,
            Self::Delete,
            Self::DeleteCollection,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Whether the verb writes (create, update, patch, delete, deletecollection).
    pub fn is_write(self) -> bool {
        !matches!(self, Self::Get | Self::List | Self::Watch)
    }
}

/// The `Content-Type` of a PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/strategic-merge-patch+json` (built-in types only).
    StrategicMerge,
    /// `application/apply-patch+yaml` (server-side apply; JSON bodies accepted).
    Apply,
}

/// `resourceVersionMatch` of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceVersionMatch {
    /// `NotOlderThan`.
    NotOlderThan,
    /// `Exact`.
    Exact,
}

/// Query parameters of list and watch requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `labelSelector`, unparsed (`a=b,c!=d,e in (f,g),!h,i`).
    pub label_selector: Option<String>,
    /// `fieldSelector`, unparsed; `metadata.name` and `metadata.namespace` are supported.
    pub field_selector: Option<String>,
    /// `resourceVersion`, unparsed: unset = most recent, `"0"` = any, N = not older than N.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// `limit` (0 = no limit).
    pub limit: Option<u64>,
    /// `continue` token from a previous page.
    pub continue_token: Option<String>,
    /// `timeoutSeconds` (watch).
    pub timeout_seconds: Option<u64>,
    /// `allowWatchBookmarks` (watch).
    pub allow_watch_bookmarks: bool,
    /// `sendInitialEvents=true` (a watch list: the initial objects, then a bookmark marking
    /// their end, then live events).
    pub send_initial_events: bool,
}

/// `DeleteOptions`, from the query or the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// `preconditions.uid`.
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub precondition_resource_version: Option<String>,
    /// `propagationPolicy`.
    pub propagation: Option<Propagation>,
    /// Field errors of `ValidateDeleteOptions`, found by the front while parsing (an unknown
    /// `propagationPolicy`, `orphanDependents` together with it, an unknown `dryRun`); the core
    /// answers them with 422 once it has found the object, as `rest.BeforeDelete` does.
    pub errors: Vec<String>,
}

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted by the garbage collector after the owner is gone.
    Background,
    /// The owner waits (finalizer `foregroundDeletion`) until blocking dependents are gone.
    Foreground,
    /// Dependents lose their ownerReference to the owner (finalizer `orphan`).
    Orphan,
}

/// One parsed request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// The verb.
    pub verb: Verb,
    /// The resource addressed (resolved by the front through `ApiState::resolve`).
    pub resource: ResourceType,
    /// Namespace from the path; `None` for cluster-scoped paths and all-namespace lists.
    pub namespace: Option<String>,
    /// Name from the path, for single-object verbs.
    pub name: Option<String>,
    /// `true` for the `/status` subresource.
    pub status: bool,
    /// Request body (create, update, patch, delete options).
    pub body: Option<Value>,
    /// Patch content type, for `Patch`.
    pub patch_type: Option<PatchType>,
    /// List and watch options.
    pub list: ListOptions,
    /// Delete options (query and body merged by the front).
    pub delete: DeleteOptions,
    /// `fieldManager` query parameter.
    pub field_manager: Option<String>,
    /// `force` query parameter (apply).
    pub force: bool,
    /// `dryRun=All`: validated and answered, never stored.
    pub dry_run: bool,
}

impl ApiRequest {
    /// A request with no body and default options.
    pub fn new(
        verb: Verb,
        resource: ResourceType,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        Self {
            verb,
            resource,
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
            status: false,
            body: None,
            patch_type: None,
            list: ListOptions::default(),
            delete: DeleteOptions::default(),
            field_manager: None,
            force: false,
            dry_run: false,
        }
    }

    /// With a body.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The history target: `resource/namespace/name`, `resource/namespace` or `resource`.
    pub fn target(&self) -> String {
        let mut t = self.resource.short_name();
        if let Some(ns) = &self.namespace {
            t.push('/');
            t.push_str(ns);
        }
        if let Some(n) = &self.name {
            t.push('/');
            t.push_str(n);
        }
        t
    }
}
