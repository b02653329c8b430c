//! Server-side apply: `application/apply-patch+yaml`, managed fields and ownership conflicts
//! (apimachinery `pkg/util/managedfields`, sigs.k8s.io/structured-merge-diff `merge/update.go`).

use crate::case::*;
use serde_json::json;

const APPLYP: &str = "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: applyPatcher";
const OPTS: &str = "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: ValidatePatchOptions";
const CONFLICT: &str = "staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go: NewConflictError; structured-merge-diff merge/update.go: Updater.Apply";
const MANAGED: &str = "staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/fieldmanager.go: FieldManager.Update/Apply";

fn cmap(name: &str, data: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

pub fn cases() -> Vec<Case> {
    let a = |q: &str| format!("{}?{q}", at(CMS, "a"));
    vec![
        case("an apply without fieldManager is 422", OPTS, vec![
            apply(&at(CMS, "a"), cmap("a", json!({"k": "v"}))).status(422, "Invalid")
                .msg("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
                .cause(0, "FieldValueRequired", "Required value: is required for apply patch", "fieldManager"),
        ]),
        case("an apply of a missing object creates it and answers 201", APPLYP, vec![
            apply(&a("fieldManager=m"), cmap("a", json!({"k": "v"}))).code(201).f("/data/k", "v"),
            get(&at(CMS, "a")).code(200).f("/data/k", "v"),
        ]),
        case("an apply of an existing object answers 200", APPLYP, vec![
            post(CMS, cm("a")),
            apply(&a("fieldManager=m"), cmap("a", json!({"x": "y"}))).code(200).f("/data/x", "y"),
        ]),
        case("an apply records an Apply managedFields entry for its manager", MANAGED, vec![
            apply(&a("fieldManager=m"), cmap("a", json!({"k": "v"}))).code(201)
                .f("/metadata/managedFields/0/manager", "m").f("/metadata/managedFields/0/operation", "Apply")
                .f("/metadata/managedFields/0/apiVersion", "v1").f("/metadata/managedFields/0/fieldsType", "FieldsV1")
                .f("/metadata/managedFields/0/fieldsV1/f:data/f:k", json!({}))
                .f("/metadata/managedFields/0/time", "2026-01-01T00:00:00Z"),
        ]),
        case("a create with fieldManager records an Update managedFields entry", MANAGED, vec![
            post(&format!("{CMS}?fieldManager=creator"), cm("a")).code(201)
                .f("/metadata/managedFields/0/manager", "creator").f("/metadata/managedFields/0/operation", "Update")
                .f("/metadata/managedFields/0/fieldsV1/f:data/f:k", json!({})),
        ]),
        case("an apply of a field another applier owns with another value is 409 with a cause per field", CONFLICT, vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).code(201),
            apply(&a("fieldManager=two"), cmap("a", json!({"k": "w"}))).status(409, "Conflict")
                .msg("Apply failed with 1 conflict: conflict with \"one\": .data.k")
                .cause(0, "FieldManagerConflict", "conflict with \"one\"", ".data.k")
                .absent("/details/name"),
        ]),
        case("an apply conflict with an Update manager names its apiVersion and time", CONFLICT, vec![
            post(&format!("{CMS}?fieldManager=editor"), cm("a")),
            apply(&a("fieldManager=two"), cmap("a", json!({"k": "w"}))).status(409, "Conflict")
                .msg("Apply failed with 1 conflict: conflict with \"editor\" using v1 at 2026-01-01T00:00:00Z: .data.k"),
        ]),
        case("an apply conflict on several fields lists them by manager", CONFLICT, vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v", "l": "v"}))).code(201),
            apply(&a("fieldManager=two"), cmap("a", json!({"k": "w", "l": "w"}))).status(409, "Conflict")
                .msg("Apply failed with 2 conflicts: conflicts with \"one\":\n- .data.k\n- .data.l"),
        ]),
        case("an apply with force=true takes the field over", CONFLICT, vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).code(201),
            apply(&a("fieldManager=two&force=true"), cmap("a", json!({"k": "w"}))).code(200).f("/data/k", "w")
                .f("/metadata/managedFields/0/manager", "two").absent("/metadata/managedFields/1"),
        ]),
        case("an apply of the same value another applier owns shares the field without conflict", CONFLICT, vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).code(201),
            apply(&a("fieldManager=two"), cmap("a", json!({"k": "v"}))).code(200)
                .f("/metadata/managedFields/0/manager", "one").f("/metadata/managedFields/1/manager", "two"),
        ]),
        case("an apply of fields nobody owns never conflicts", CONFLICT, vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).code(201),
            apply(&a("fieldManager=two"), cmap("a", json!({"x": "y"}))).code(200).f("/data/k", "v").f("/data/x", "y"),
        ]),
        case("a field an applier stops applying is removed when no one else owns it", "structured-merge-diff merge/update.go: Updater.prune", vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v", "l": "v"}))).code(201),
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).code(200).absent("/data/l").f("/data/k", "v"),
        ]),
        case("a field an applier stops applying stays when another manager owns it", "structured-merge-diff merge/update.go: Updater.prune", vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v", "l": "v"}))).code(201),
            apply(&a("fieldManager=two"), cmap("a", json!({"l": "v"}))).code(200),
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).code(200).f("/data/l", "v"),
        ]),
        case("an update by another manager takes ownership of the fields it changes", MANAGED, vec![
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).code(201),
            merge(&a("fieldManager=editor"), json!({"data": {"k": "edited"}})).code(200)
                .f("/metadata/managedFields/0/manager", "editor").f("/metadata/managedFields/0/operation", "Update")
                .absent("/metadata/managedFields/1"),
            apply(&a("fieldManager=one"), cmap("a", json!({"k": "v"}))).status(409, "Conflict")
                .msg("Apply failed with 1 conflict: conflict with \"editor\" using v1 at 2026-01-01T00:00:00Z: .data.k"),
        ]),
        case("an apply whose body names another object is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go: checkName", vec![
            apply(&a("fieldManager=m"), cmap("b", json!({}))).status(400, "BadRequest")
                .msg("the name of the object (b) does not match the name on the URL (a)"),
        ]),
        case("an apply of a custom resource creates it at generation 1", APPLYP, vec![
            apply(&format!("{}?fieldManager=m", at(WIDGETS, "w")), widget("w")).code(201).f("/metadata/generation", 1).f("/spec/size", 1),
        ]),
        case("an apply to the status subresource records the subresource in managedFields", MANAGED, vec![
            post(WIDGETS, widget("w")),
            apply(&format!("{}?fieldManager=ctl", at(WIDGETS, "w/status")),
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "status": {"ready": true}}))
                .code(200).f("/status/ready", true)
                .f("/metadata/managedFields/0/subresource", "status").f("/metadata/managedFields/0/operation", "Apply"),
        ]),
        case("an apply with a stale resourceVersion is 409", APPLYP, vec![
            apply(&a("fieldManager=m"), cmap("a", json!({"k": "v"}))).code(201).save("/metadata/resourceVersion", "rv"),
            apply(&a("fieldManager=m"), cmap("a", json!({"k": "w"}))).code(200),
            apply(&a("fieldManager=m"), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "$rv"}, "data": {"k": "x"}}))
                .status(409, "Conflict"),
        ]),
        case("a fieldManager longer than 128 characters is 422", OPTS, vec![
            apply(&a(&format!("fieldManager={}", "m".repeat(129))), cmap("a", json!({}))).status(422, "Invalid")
                .f("/details/causes/0/field", "fieldManager"),
        ]),
        case("an apply that is not an object is 400", APPLYP, vec![
            raw(http::Method::PATCH, &a("fieldManager=m"), Some(APPLY), "[1, 2]").status(400, "BadRequest"),
        ]),
    ]
}
