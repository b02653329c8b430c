//! LIST: which revision a list is served at (`resourceVersion`, `resourceVersionMatch`,
//! `continue`), selectors, paging, and the list body (etcd3 store `GetList`,
//! `metainternalversion/validation.ValidateListOptions`, the API concepts page "Resource
//! versions").

use super::continue_token;
use super::selector::{FieldSelector, LabelSelector};
use super::store::Store;
use super::{meta, validate, ApiRequest, ListOptions, ResourceVersionMatch};
use kubesim_model::{ApiError, ObjectKey, ResourceType, StatusReason};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// `errExpiredMessage`... the etcd3 store's message for an exact list at a compacted revision.
pub(crate) const LIST_EXPIRED: &str = "The resourceVersion for the provided list is too old.";
/// The etcd3 store's `continueExpired` message for a continue token at a compacted revision.
pub(crate) const CONTINUE_INCONSISTENT: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// What a list or watch selects: namespace, labels, fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl ListQuery {
    /// Parses the selectors of a request (400 on bad syntax).
    pub(crate) fn parse(req: &ApiRequest) -> Result<Self, ApiError> {
        let namespace = if req.resource.namespaced {
            req.namespace.clone().filter(|ns| !ns.is_empty())
        } else {
            None
        };
        let labels = match &req.list.label_selector {
            Some(s) => LabelSelector::parse(s)?,
            None => LabelSelector::default(),
        };
        let fields = match &req.list.field_selector {
            Some(s) => FieldSelector::parse(s)?,
            None => FieldSelector::default(),
        };
        Ok(Self {
            namespace,
            labels,
            fields,
        })
    }

    /// True when the object at `key` is in the namespace and matches the selectors.
    pub(crate) fn matches(&self, key: &ObjectKey, obj: &Value) -> bool {
        // An empty label selector selects everything; otherwise the labels are read in place.
        self.in_scope(key)
            && self.fields.matches(key)
            && (self.labels.is_empty() || self.labels.matches_map(meta::labels_map(obj)))
    }

    /// True when `key` is in the requested namespace (ignoring selectors).
    pub(crate) fn in_scope(&self, key: &ObjectKey) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|ns| *ns == key.namespace)
    }

    fn has_selectors(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }

    pub(crate) fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
}

/// `{"kind": "<Kind>List", "apiVersion", "metadata": {...}, "items": [...]}`.
pub(crate) fn list_body(
    t: &ResourceType,
    rev: u64,
    items: &[Arc<Value>],
    continue_token: Option<String>,
    remaining: Option<u64>,
) -> Value {
    ListBody::new(t, rev, items.to_vec(), continue_token, remaining).to_value()
}

/// A list response (`{"kind": "<Kind>List", "apiVersion", "metadata": {...}, "items": [...]}`)
/// whose items are the stored objects themselves, shared: it serialises to the bytes of
/// [`ListBody::to_value`] without copying an item (a copy, and its freeing, was most of the
/// cost of a list over many objects).
#[derive(Debug, Clone, PartialEq)]
pub struct ListBody {
    kind: String,
    api_version: String,
    metadata: Map<String, Value>,
    items: Vec<Arc<Value>>,
}

impl ListBody {
    fn new(
        t: &ResourceType,
        rev: u64,
        items: Vec<Arc<Value>>,
        continue_token: Option<String>,
        remaining: Option<u64>,
    ) -> Self {
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".into(), json!(rev.to_string()));
        if let Some(c) = continue_token {
            metadata.insert("continue".into(), json!(c));
        }
        if let Some(r) = remaining {
            metadata.insert("remainingItemCount".into(), json!(r));
        }
        Self {
            kind: format!("{}List", t.kind),
            api_version: t.api_version(),
            metadata,
            items,
        }
    }

    /// `metadata.resourceVersion`: the revision the list was read at.
    pub fn resource_version(&self) -> Option<u64> {
        self.metadata.get("resourceVersion")?.as_str()?.parse().ok()
    }

    /// The list as a JSON value (copies every item).
    pub fn to_value(&self) -> Value {
        json!({
            "kind": self.kind,
            "apiVersion": self.api_version,
            "metadata": Value::Object(self.metadata.clone()),
            "items": self.items.iter().map(|o| Value::clone(o)).collect::<Vec<_>>(),
        })
    }
}

impl serde::Serialize for ListBody {
    /// The fields in the order a JSON object of `serde_json` (sorted keys) writes them, so the
    /// bytes equal those of [`ListBody::to_value`].
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("apiVersion", &self.api_version)?;
        m.serialize_entry("items", &Items(&self.items))?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("metadata", &self.metadata)?;
        m.end()
    }
}

/// The items of a [`ListBody`], serialised through the `Arc`s.
struct Items<'a>(&'a [Arc<Value>]);

impl serde::Serialize for Items<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|o| &**o))
    }
}

/// One page of the objects of `t` (in key order, all of one resource) as of revision `rev`:
/// the matching objects after `after`, at most `limit` of them. When objects remain in range
/// after a full page, the body carries a continue token (whether or not the rest match, as
/// etcd cannot tell) and, without selectors, `remainingItemCount`.
pub(crate) fn page<'a>(
    t: &ResourceType,
    query: &ListQuery,
    objects: impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)>,
    rev: u64,
    after: Option<&ObjectKey>,
    limit: Option<u64>,
) -> ListBody {
    let mut items: Vec<Arc<Value>> = Vec::new();
    let mut last: Option<&ObjectKey> = None;
    let mut remaining: u64 = 0;
    for (key, obj) in objects {
        if after.is_some_and(|a| key <= a) || !query.in_scope(key) {
            continue;
        }
        let full = limit.is_some_and(|l| items.len() as u64 >= l);
        if full {
            remaining += 1;
            continue;
        }
        last = Some(key);
        if query.matches(key, obj) {
            items.push(Arc::clone(obj));
        }
    }
    let (token, remaining) = match (remaining, last) {
        (0, _) | (_, None) => (None, None),
        (n, Some(last)) => {
            let across = t.namespaced && query.namespace().is_none();
            let token = continue_token::encode(rev, last, across);
            (Some(token), (!query.has_selectors()).then_some(n))
        }
    };
    ListBody::new(t, rev, items, token, remaining)
}

/// Parses a `resourceVersion` parameter: `None` when unset or empty.
pub(crate) fn parse_rv(rv: Option<&str>) -> Result<Option<u64>, ApiError> {
    match rv {
        None | Some("") => Ok(None),
        Some(s) => s.parse::<u64>().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "invalid resource version: resourceVersion: Invalid value: {}: strconv.ParseUint: parsing {}: invalid syntax",
                validate::quote(s),
                validate::quote(s)
            ))
        }),
    }
}

/// `ValidateListOptions`: 422 for `resourceVersionMatch` without `resourceVersion`, with
/// `continue`, or `Exact` with `"0"`.
pub(crate) fn validate_options(o: &ListOptions) -> Result<(), ApiError> {
    let Some(m) = o.resource_version_match else {
        return Ok(());
    };
    let rv = o.resource_version.as_deref().unwrap_or("");
    let mut errs = Vec::new();
    if rv.is_empty() {
        errs.push(validate::field_forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    if o.continue_token.as_deref().is_some_and(|c| !c.is_empty()) {
        errs.push(validate::field_forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden when continue is provided",
        ));
    }
    if m == ResourceVersionMatch::Exact && rv == "0" {
        errs.push(validate::field_forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(validate::invalid_options("ListOptions", &errs))
    }
}

/// 504 `Too large resource version: N, current: M` (the storage's
/// `NewTooLargeResourceVersionError`).
pub(crate) fn too_large(requested: u64, current: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusReason::Timeout,
        format!("Timeout: Too large resource version: {requested}, current: {current}"),
    );
    e.extra_mut().retry_after_seconds = Some(1);
    e.extra_mut().causes = vec![kubesim_model::StatusCause {
        reason: "ResourceVersionTooLarge".into(),
        message: "Too large resource version".into(),
        field: String::new(),
    }];
    e
}

/// A list served by storage.
///
/// - `continue` set: the page after the token's key at the token's revision (rebuilt from the
///   log); 410 when that revision was compacted; a `resourceVersion` other than `"0"` with it
///   is 400.
/// - `Exact` N, or N (not 0) with `limit` and no match: the state at revision N; 410 when
///   compacted.
/// - otherwise (unset, `"0"`, `NotOlderThan` N): the latest state; 504 when N is in the
///   future.
pub(crate) fn list_from_storage(store: &Store, req: &ApiRequest) -> Result<ListBody, ApiError> {
    let t = &req.resource;
    let o = &req.list;
    validate_options(o)?;
    let query = ListQuery::parse(req)?;
    let limit = o.limit.filter(|l| *l > 0);
    let resource = t.short_name();
    if let Some(token) = o.continue_token.as_deref().filter(|c| !c.is_empty()) {
        let across = t.namespaced && query.namespace().is_none();
        let c = continue_token::decode(token, query.namespace(), across)?;
        if o.resource_version
            .as_deref()
            .is_some_and(|rv| !rv.is_empty() && rv != "0")
        {
            return Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        let after = ObjectKey::new(resource.as_str(), c.after_namespace, c.after_name);
        let rev = c.rev.unwrap_or(store.revision());
        if rev > store.revision() {
            return Err(ApiError::bad_request(
                "invalid continue token: continue key is not valid: revision in the future",
            ));
        }
        let snapshot = store.snapshot(&resource, rev).ok_or_else(|| {
            // etcd3 handleCompactedErrorForPaging: 410 with a token for the latest revision.
            let mut e = ApiError::new(StatusReason::Expired, CONTINUE_INCONSISTENT);
            e.extra_mut().continue_token = Some(continue_token::encode_latest(&after, across));
            e
        })?;
        return Ok(page(t, &query, snapshot.iter(), rev, Some(&after), limit));
    }
    let rv = parse_rv(o.resource_version.as_deref())?;
    let exact = match (o.resource_version_match, rv) {
        (Some(ResourceVersionMatch::Exact), Some(n)) => Some(n),
        (None, Some(n)) if n > 0 && limit.is_some() => Some(n),
        _ => None,
    };
    if let Some(n) = rv {
        if n > store.revision() {
            return Err(too_large(n, store.revision()));
        }
    }
    match exact {
        Some(n) => {
            let snapshot = store
                .snapshot(&resource, n)
                .ok_or_else(|| ApiError::new(StatusReason::Expired, LIST_EXPIRED))?;
            Ok(page(t, &query, snapshot.iter(), n, None, limit))
        }
        // Without a limit the page is every match, so the objects that carry a label the
        // selector requires are all it needs to visit (with one, the continue token and the
        // remaining count depend on every object in range).
        None => match (limit, query.labels.equality()) {
            (None, Some((label, value))) => Ok(page(
                t,
                &query,
                store.labelled(&resource, label, value),
                store.revision(),
                None,
                None,
            )),
            _ => Ok(page(
                t,
                &query,
                store.range(&resource),
                store.revision(),
                None,
                limit,
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use serde_json::json;

    fn five() -> ApiState {
        let mut s = state();
        for n in ["a", "b", "c", "d", "e"] {
            create(
                &mut s,
                &cm(),
                json!({"metadata": {"name": n, "labels": {"n": n}}}),
            )
            .expect("created");
        }
        s
    }

    fn opts() -> ListOptions {
        ListOptions::default()
    }

    #[test]
    fn a_list_has_kind_api_version_resource_version_and_items_in_key_order() {
        let mut s = five();
        let l = list(&mut s, &cm(), opts()).expect("list");
        assert_eq!(l["kind"], "ConfigMapList");
        assert_eq!(l["apiVersion"], "v1");
        assert_eq!(l["metadata"]["resourceVersion"], "6");
        assert_eq!(names(&l), vec!["a", "b", "c", "d", "e"]);
        assert!(l["metadata"].get("continue").is_none());
    }

    #[test]
    fn limit_and_continue_page_through_a_consistent_snapshot() {
        let mut s = five();
        let mut o = opts();
        o.limit = Some(2);
        let p1 = list(&mut s, &cm(), o.clone()).expect("page 1");
        assert_eq!(names(&p1), vec!["a", "b"]);
        assert_eq!(p1["metadata"]["remainingItemCount"], 3);
        // Writes between pages are not seen: the pages are served at the first page's revision.
        create(&mut s, &cm(), json!({"metadata": {"name": "bb"}})).expect("created");
        delete(&mut s, &cm(), "c").expect("deleted");
        o.continue_token = p1["metadata"]["continue"].as_str().map(str::to_string);
        let p2 = list(&mut s, &cm(), o.clone()).expect("page 2");
        assert_eq!(names(&p2), vec!["c", "d"]);
        assert_eq!(p2["metadata"]["resourceVersion"], "6");
        o.continue_token = p2["metadata"]["continue"].as_str().map(str::to_string);
        let p3 = list(&mut s, &cm(), o).expect("page 3");
        assert_eq!(names(&p3), vec!["e"]);
        assert!(p3["metadata"].get("continue").is_none());
    }

    #[test]
    fn a_continue_token_whose_revision_was_compacted_is_410_expired() {
        let mut s = five();
        let mut o = opts();
        o.limit = Some(2);
        let p1 = list(&mut s, &cm(), o.clone()).expect("page 1");
        create(&mut s, &cm(), json!({"metadata": {"name": "z"}})).expect("created");
        s.compact(s.revision());
        o.continue_token = p1["metadata"]["continue"].as_str().map(str::to_string);
        let e = list(&mut s, &cm(), o).expect_err("expired");
        assert_eq!(
            (e.code(), e.message.as_str()),
            (410, super::CONTINUE_INCONSISTENT)
        );
    }

    #[test]
    fn a_malformed_continue_token_is_a_400() {
        let mut s = five();
        let mut o = opts();
        o.continue_token = Some("not-a-token".into());
        assert_eq!(list(&mut s, &cm(), o).expect_err("bad").code(), 400);
    }

    #[test]
    fn an_exact_list_is_served_at_that_revision_and_410_once_compacted() {
        let mut s = five();
        let mut o = opts();
        o.resource_version = Some("3".into());
        o.resource_version_match = Some(ResourceVersionMatch::Exact);
        let l = list(&mut s, &cm(), o.clone()).expect("exact");
        assert_eq!(names(&l), vec!["a", "b"]);
        assert_eq!(l["metadata"]["resourceVersion"], "3");
        s.compact(4);
        let e = list(&mut s, &cm(), o).expect_err("compacted");
        assert_eq!((e.code(), e.message.as_str()), (410, super::LIST_EXPIRED));
    }

    #[test]
    fn a_resource_version_with_a_limit_is_exact() {
        let mut s = five();
        let mut o = opts();
        o.resource_version = Some("4".into());
        o.limit = Some(10);
        assert_eq!(
            names(&list(&mut s, &cm(), o).expect("list")),
            vec!["a", "b", "c"]
        );
    }

    #[test]
    fn a_future_resource_version_is_a_504_too_large() {
        let mut s = five();
        let mut o = opts();
        o.resource_version = Some("100".into());
        let e = list(&mut s, &cm(), o).expect_err("future");
        assert_eq!(e.code(), 504);
        assert_eq!(
            e.message,
            "Timeout: Too large resource version: 100, current: 6"
        );
    }

    #[test]
    fn resource_version_match_without_resource_version_is_a_422() {
        let mut s = five();
        let mut o = opts();
        o.resource_version_match = Some(ResourceVersionMatch::NotOlderThan);
        let e = list(&mut s, &cm(), o).expect_err("invalid");
        assert_eq!(e.code(), 422);
        assert_eq!(
            e.message,
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        );
    }

    #[test]
    fn label_and_field_selectors_filter_the_items() {
        let mut s = five();
        let mut o = opts();
        o.label_selector = Some("n in (a,c,e),n!=e".into());
        assert_eq!(
            names(&list(&mut s, &cm(), o).expect("list")),
            vec!["a", "c"]
        );
        let mut o = opts();
        o.field_selector = Some("metadata.name=d".into());
        assert_eq!(names(&list(&mut s, &cm(), o).expect("list")), vec!["d"]);
        let mut o = opts();
        o.field_selector = Some("status.phase=x".into());
        assert_eq!(list(&mut s, &cm(), o).expect_err("unknown").code(), 400);
    }

    #[test]
    fn an_equality_selector_answers_the_same_items_through_the_label_index_as_a_scan() {
        let mut s = state();
        for (n, group, tier) in [
            ("e", "g1", "a"),
            ("a", "g1", "b"),
            ("c", "g2", "a"),
            ("b", "g1", "a"),
        ] {
            let body = json!({"metadata": {"name": n, "labels": {"group": group, "tier": tier}}});
            create(&mut s, &cm(), body).expect("created");
        }
        // A label changed and an object deleted: the index follows both.
        let relabel = json!({"metadata": {"name": "c", "labels": {"group": "g1", "tier": "a"}}});
        update(&mut s, &cm(), "c", relabel).expect("updated");
        let req = ApiRequest::new(Verb::Delete, cm(), Some("default"), Some("b"));
        s.apply(&req, NOW).expect("deleted");
        let listed = |s: &mut ApiState, selector: &str, limit: Option<u64>| {
            let mut o = opts();
            o.label_selector = Some(selector.into());
            o.limit = limit;
            names(&list(s, &cm(), o).expect("list"))
        };
        assert_eq!(
            listed(&mut s, "group=g1", None),
            ["a", "c", "e"],
            "in key order"
        );
        assert_eq!(listed(&mut s, "tier in (a),group==g1", None), ["c", "e"]);
        assert_eq!(listed(&mut s, "group=g2", None), Vec::<String>::new());
        // With a limit the scan decides the page and the continue token.
        assert_eq!(listed(&mut s, "group=g1", Some(2)), ["a", "c"]);
    }

    #[test]
    fn a_list_of_one_namespace_excludes_the_others_and_all_namespaces_include_them() {
        let mut s = state();
        for ns in ["a", "b"] {
            let req = ApiRequest::new(Verb::Create, cm(), Some(ns), None)
                .with_body(json!({"metadata": {"name": "x"}}));
            s.apply(&req, NOW).expect("created");
        }
        let req = ApiRequest::new(Verb::List, cm(), Some("b"), None);
        assert_eq!(
            s.apply(&req, NOW).expect("list")["items"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let mut req = ApiRequest::new(Verb::List, cm(), None, None);
        req.list.limit = Some(1);
        let p1 = s.apply(&req, NOW).expect("list");
        assert_eq!(p1["items"][0]["metadata"]["namespace"], "a");
        req.list.continue_token = p1["metadata"]["continue"].as_str().map(str::to_string);
        let p2 = s.apply(&req, NOW).expect("list");
        assert_eq!(p2["items"][0]["metadata"]["namespace"], "b");
    }
}
