//! PATCH of every type: merge, JSON, strategic merge, apply, status.

use super::super::testutil::*;
use super::super::*;
use serde_json::json;

fn setup() -> (ApiState, ResourceType) {
    let body = json!({"metadata": {"name": "w", "labels": {"a": "1"}}, "spec": {"x": 1, "y": 2}});
    let (s, t, _) = with_widget(body);
    (s, t)
}

#[test]
fn a_merge_patch_merges_objects_and_removes_nulls() {
    let (mut s, t) = setup();
    let o = patch(
        &mut s,
        &t,
        "w",
        PatchType::Merge,
        json!({"spec": {"x": null, "z": 3}, "metadata": {"labels": {"b": "2"}}}),
    )
    .expect("patched");
    assert_eq!(o["spec"], json!({"y": 2, "z": 3}));
    assert_eq!(o["metadata"]["labels"], json!({"a": "1", "b": "2"}));
    assert_eq!(o["metadata"]["generation"], 2);
}

#[test]
fn a_json_patch_applies_its_operations() {
    let (mut s, t) = setup();
    let o = patch(
        &mut s,
        &t,
        "w",
        PatchType::Json,
        json!([{"op": "test", "path": "/spec/x", "value": 1}, {"op": "replace", "path": "/spec/x", "value": 5}]),
    )
    .expect("patched");
    assert_eq!(o["spec"]["x"], 5);
}

#[test]
fn a_failed_json_patch_test_is_a_422_and_writes_nothing() {
    let (mut s, t) = setup();
    let e = patch(
        &mut s,
        &t,
        "w",
        PatchType::Json,
        json!([{"op": "test", "path": "/spec/x", "value": 9}, {"op": "replace", "path": "/spec/x", "value": 5}]),
    )
    .expect_err("test failed");
    assert_eq!((e.code(), e.message.as_str()), (422, super::PATCH_REJECTED));
    assert_eq!(s.revision(), 2);
}

#[test]
fn a_malformed_json_patch_is_a_400() {
    let (mut s, t) = setup();
    for bad in [
        json!({"op": "add"}),
        json!([{"op": "frobnicate", "path": "/a"}]),
    ] {
        let e = patch(&mut s, &t, "w", PatchType::Json, bad).expect_err("malformed");
        assert_eq!(e.code(), 400);
    }
}

#[test]
fn a_patch_with_a_stale_resource_version_is_a_409_conflict() {
    let (mut s, t) = setup();
    patch(&mut s, &t, "w", PatchType::Merge, json!({"spec": {"x": 7}})).expect("bump");
    let e = patch(
        &mut s,
        &t,
        "w",
        PatchType::Merge,
        json!({"metadata": {"resourceVersion": "2"}, "spec": {"x": 8}}),
    )
    .expect_err("stale");
    assert_eq!(e.code(), 409);
}

#[test]
fn a_patch_that_changes_nothing_is_not_written() {
    let (mut s, t) = setup();
    let o = patch(&mut s, &t, "w", PatchType::Merge, json!({"spec": {"x": 1}})).expect("no-op");
    assert_eq!(rv(&o), 2);
    assert_eq!(s.revision(), 2);
}

#[test]
fn a_patch_of_a_missing_object_is_a_404() {
    let (mut s, t) = setup();
    let e = patch(&mut s, &t, "nope", PatchType::Merge, json!({})).expect_err("missing");
    assert_eq!(e.code(), 404);
}

#[test]
fn strategic_merge_patch_on_a_custom_resource_is_a_415() {
    let (mut s, t) = setup();
    let e = patch(&mut s, &t, "w", PatchType::StrategicMerge, json!({})).expect_err("415");
    assert_eq!(e.code(), 415);
    assert_eq!(
        e.message,
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );
}

#[test]
fn strategic_merge_patch_merges_finalizers_and_named_lists() {
    let mut s = state();
    let pod = ResourceType::pod();
    create(
        &mut s,
        &pod,
        json!({"metadata": {"name": "p", "finalizers": ["a"]},
               "spec": {"containers": [{"name": "c1", "image": "x"}, {"name": "c2", "image": "y"}]}}),
    )
    .expect("created");
    let o = patch(
        &mut s,
        &pod,
        "p",
        PatchType::StrategicMerge,
        json!({"metadata": {"finalizers": ["b"]},
               "spec": {"containers": [{"name": "c2", "image": "z"}]}}),
    )
    .expect("patched");
    assert_eq!(o["metadata"]["finalizers"], json!(["a", "b"]));
    assert_eq!(
        o["spec"]["containers"],
        json!([{"name": "c1", "image": "x"}, {"name": "c2", "image": "z"}])
    );
    // Removing a container is a change pod update validation forbids.
    let e = patch(
        &mut s,
        &pod,
        "p",
        PatchType::StrategicMerge,
        json!({"spec": {"containers": [{"name": "c1", "$patch": "delete"}]}}),
    )
    .expect_err("containers are fixed");
    assert_eq!(e.code(), 422);
}

#[test]
fn a_status_patch_changes_only_the_status() {
    let (mut s, t) = setup();
    let mut req = ApiRequest::new(Verb::Patch, t.clone(), Some("default"), Some("w"))
        .with_body(json!({"status": {"ok": true}, "spec": {"x": 100}}));
    req.patch_type = Some(PatchType::Merge);
    req.status = true;
    let o = s.apply(&req, NOW).expect("patched");
    assert_eq!(o["status"]["ok"], true);
    assert_eq!(o["spec"]["x"], 1);
}

#[test]
fn apply_without_a_field_manager_is_a_422() {
    let (mut s, t) = setup();
    let e = patch(&mut s, &t, "w", PatchType::Apply, json!({})).expect_err("no manager");
    assert_eq!(e.code(), 422);
    assert_eq!(
        e.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
}

fn apply(
    s: &mut ApiState,
    t: &ResourceType,
    name: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let mut req =
        ApiRequest::new(Verb::Patch, t.clone(), Some("default"), Some(name)).with_body(body);
    req.patch_type = Some(PatchType::Apply);
    req.field_manager = Some("ctl".into());
    s.apply(&req, NOW).map(Arc::unwrap_or_clone)
}

#[test]
fn apply_creates_a_missing_object_and_records_its_manager() {
    let (mut s, t) = setup();
    let o = apply(
        &mut s,
        &t,
        "new",
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "new", "labels": {"l": "v"}}, "spec": {"x": 1}}),
    )
    .expect("created");
    assert_eq!(o["metadata"]["generation"], 1);
    let mf = &o["metadata"]["managedFields"][0];
    assert_eq!(mf["manager"], "ctl");
    assert_eq!(mf["operation"], "Apply");
    assert_eq!(
        mf["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:l": {}}}, "f:spec": {"f:x": {}}})
    );
}

#[test]
fn apply_merges_into_an_existing_object_and_a_repeat_is_a_no_op() {
    let (mut s, t) = setup();
    let body = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": 5}});
    let o = apply(&mut s, &t, "w", body.clone()).expect("applied");
    assert_eq!(o["spec"], json!({"x": 5, "y": 2}));
    let again = apply(&mut s, &t, "w", body).expect("again");
    assert_eq!(rv(&again), rv(&o));
}

#[test]
fn apply_with_the_wrong_api_version_is_a_400() {
    let (mut s, t) = setup();
    let e = apply(
        &mut s,
        &t,
        "w",
        json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}),
    )
    .expect_err("version");
    assert_eq!(e.code(), 400);
    assert!(e
        .message
        .starts_with("Incorrect version specified in apply patch."));
}

#[test]
fn removing_the_last_finalizer_by_patch_deletes_a_deleting_object() {
    let (mut s, t) = setup();
    patch(
        &mut s,
        &t,
        "w",
        PatchType::Merge,
        json!({"metadata": {"finalizers": ["f"]}}),
    )
    .expect("finalizer");
    delete(&mut s, &t, "w").expect("deleting");
    let e = patch(
        &mut s,
        &t,
        "w",
        PatchType::Merge,
        json!({"metadata": {"finalizers": ["f", "g"]}}),
    )
    .expect_err("new finalizer");
    assert_eq!(e.code(), 422);
    patch(
        &mut s,
        &t,
        "w",
        PatchType::Json,
        json!([{"op": "remove", "path": "/metadata/finalizers"}]),
    )
    .expect("removed");
    assert_eq!(get(&mut s, &t, "w").expect_err("gone").code(), 404);
}
