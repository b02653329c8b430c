//! Helpers for the core's unit tests.

use super::*;
use kubesim_model::ResourceType;
use serde_json::Value;

/// The simulated time every test request uses.
pub(crate) const NOW: &str = "2024-01-01T00:00:00Z";
/// A later simulated time.
pub(crate) const LATER: &str = "2024-01-01T00:01:00Z";

pub(crate) fn state() -> ApiState {
    ApiState::new(StoreConfig {
        compaction_window: 0,
        ..StoreConfig::default()
    })
}

pub(crate) fn cm() -> ResourceType {
    ResourceType::config_map()
}

/// A namespaced custom resource with a status subresource.
pub(crate) fn widget() -> ResourceType {
    ResourceType::custom("example.com", "v1", "Widget", "widgets", true, true)
}

pub(crate) fn create(s: &mut ApiState, t: &ResourceType, body: Value) -> Result<Value, ApiError> {
    let req = ApiRequest::new(Verb::Create, t.clone(), Some("default"), None).with_body(body);
    s.apply(&req, NOW).map(Arc::unwrap_or_clone)
}

pub(crate) fn get(s: &mut ApiState, t: &ResourceType, name: &str) -> Result<Value, ApiError> {
    let req = ApiRequest::new(Verb::Get, t.clone(), Some("default"), Some(name));
    s.apply(&req, NOW).map(Arc::unwrap_or_clone)
}

pub(crate) fn update(
    s: &mut ApiState,
    t: &ResourceType,
    name: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let req = ApiRequest::new(Verb::Update, t.clone(), Some("default"), Some(name)).with_body(body);
    s.apply(&req, NOW).map(Arc::unwrap_or_clone)
}

pub(crate) fn update_status(
    s: &mut ApiState,
    t: &ResourceType,
    name: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let mut req =
        ApiRequest::new(Verb::Update, t.clone(), Some("default"), Some(name)).with_body(body);
    req.status = true;
    s.apply(&req, NOW).map(Arc::unwrap_or_clone)
}

pub(crate) fn patch(
    s: &mut ApiState,
    t: &ResourceType,
    name: &str,
    patch_type: PatchType,
    body: Value,
) -> Result<Value, ApiError> {
    let mut req =
        ApiRequest::new(Verb::Patch, t.clone(), Some("default"), Some(name)).with_body(body);
    req.patch_type = Some(patch_type);
    s.apply(&req, NOW).map(Arc::unwrap_or_clone)
}

pub(crate) fn delete(s: &mut ApiState, t: &ResourceType, name: &str) -> Result<Value, ApiError> {
    delete_with(s, t, name, DeleteOptions::default())
}

pub(crate) fn delete_with(
    s: &mut ApiState,
    t: &ResourceType,
    name: &str,
    opts: DeleteOptions,
) -> Result<Value, ApiError> {
    let mut req = ApiRequest::new(Verb::Delete, t.clone(), Some("default"), Some(name));
    req.delete = opts;
    s.apply(&req, LATER).map(Arc::unwrap_or_clone)
}

pub(crate) fn list(
    s: &mut ApiState,
    t: &ResourceType,
    opts: ListOptions,
) -> Result<Value, ApiError> {
    let mut req = ApiRequest::new(Verb::List, t.clone(), Some("default"), None);
    req.list = opts;
    s.apply(&req, NOW).map(Arc::unwrap_or_clone)
}

/// The names of a list's items.
pub(crate) fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.resourceVersion` as a number.
pub(crate) fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("object has a resourceVersion")
}

/// Asserts that `e` is the status error with HTTP `code` and `message`.
pub(crate) fn assert_error(e: &ApiError, code: u16, message: &str) {
    assert_eq!((e.code(), e.message.as_str()), (code, message));
}

/// A store with the `widgets` type registered and one widget created from `body`.
pub(crate) fn with_widget(body: Value) -> (ApiState, ResourceType, Value) {
    let mut s = state();
    let t = widget();
    s.register(t.clone());
    let o = create(&mut s, &t, body).expect("created");
    (s, t, o)
}

/// [`with_widget`] with widget `w` (`spec: {a: 1}`).
pub(crate) fn with_widget_w() -> (ApiState, ResourceType, Value) {
    with_widget(serde_json::json!({"metadata": {"name": "w"}, "spec": {"a": 1}}))
}
