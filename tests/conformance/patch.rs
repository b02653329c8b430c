//! PATCH: JSON merge, JSON patch and strategic merge patch (`endpoints/handlers/patch.go`).

use crate::case::*;
use serde_json::json;

const PATCH: &str =
    "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: patcher.patchResource";
const JSP: &str =
    "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: jsonPatcher.applyJSPatch";
const SMPS: &str = "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: smpPatcher; apimachinery/pkg/util/strategicpatch/patch.go: StrategicMergePatch";
const OPTS: &str = "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: ValidatePatchOptions; handlers/patch.go: PatchResource";
const LOCK: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

pub fn cases() -> Vec<Case> {
    vec![
        case("a merge patch sets a field", JSP, vec![
            post(CMS, cm("a")),
            merge(&at(CMS, "a"), json!({"data": {"x": "y"}})).code(200).f("/data/x", "y").f("/data/k", "v"),
        ]),
        case("a merge patch with null removes a key", JSP, vec![
            post(CMS, cm("a")),
            merge(&at(CMS, "a"), json!({"data": {"k": null}})).code(200).absent("/data/k"),
        ]),
        case("a merge patch replaces lists whole", JSP, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["a.io/x", "a.io/y"]}})),
            merge(&at(CMS, "a"), json!({"metadata": {"finalizers": ["a.io/z"]}})).code(200)
                .f("/metadata/finalizers", json!(["a.io/z"])),
        ]),
        case("a patch of a missing object is 404", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: jsonPatcher.createNewObject", vec![
            merge(&at(CMS, "a"), json!({"data": {}})).status(404, "NotFound").msg("configmaps \"a\" not found")
                .details("a", "", "configmaps"),
        ]),
        case("a merge patch carrying a stale resourceVersion is 409", PATCH, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            merge(&at(CMS, "a"), json!({"data": {"k": "1"}})).code(200),
            merge(&at(CMS, "a"), json!({"metadata": {"resourceVersion": "$rv"}, "data": {"k": "2"}})).status(409, "Conflict")
                .msg(&format!("Operation cannot be fulfilled on configmaps \"a\": {LOCK}")),
        ]),
        case("a merge patch carrying the current resourceVersion succeeds", PATCH, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            merge(&at(CMS, "a"), json!({"metadata": {"resourceVersion": "$rv"}, "data": {"k": "2"}})).code(200).f("/data/k", "2"),
        ]),
        case("a patch that changes nothing keeps the resourceVersion", "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: GuaranteedUpdate", vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            merge(&at(CMS, "a"), json!({"data": {"k": "v"}})).code(200).f("/metadata/resourceVersion", "$rv"),
        ]),
        case("a patch that changes the name is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go: checkName", vec![
            post(CMS, cm("a")),
            merge(&at(CMS, "a"), json!({"metadata": {"name": "b"}})).status(400, "BadRequest")
                .msg("the name of the object (b) does not match the name on the URL (a)"),
        ]),
        case("a patch that changes the namespace is 400", "staging/src/k8s.io/apiserver/pkg/registry/rest/meta.go: EnsureObjectNamespaceMatchesRequestNamespace", vec![
            post(CMS, cm("a")),
            merge(&at(CMS, "a"), json!({"metadata": {"namespace": "other"}})).status(400, "BadRequest")
                .msg("the namespace of the provided object does not match the namespace sent on the request"),
        ]),
        case("a patch that changes the uid is a 409 precondition failure", PATCH, vec![
            post(CMS, cm("a")).save("/metadata/uid", "uid"),
            merge(&at(CMS, "a"), json!({"metadata": {"uid": "other"}})).status(409, "Conflict")
                .msg("Operation cannot be fulfilled on configmaps \"a\": StorageError: invalid object, Code: 4, Key: /registry/configmaps/default/a, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: other, UID in object meta: $uid"),
        ]),
        case("a patch on a custom resource's spec bumps its generation", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForUpdate", vec![
            post(WIDGETS, widget("w")),
            merge(&at(WIDGETS, "w"), json!({"spec": {"size": 3}})).code(200).f("/metadata/generation", 2),
        ]),
        case("a JSON patch replace sets a field", JSP, vec![
            post(CMS, cm("a")),
            jsonpatch(&at(CMS, "a"), json!([{"op": "replace", "path": "/data/k", "value": "w"}])).code(200).f("/data/k", "w"),
        ]),
        case("a JSON patch add creates a key", JSP, vec![
            post(CMS, cm("a")),
            jsonpatch(&at(CMS, "a"), json!([{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}])).code(200)
                .f("/metadata/labels/a", "b"),
        ]),
        case("a JSON patch whose test fails is 422 with the generic message", JSP, vec![
            post(CMS, cm("a")),
            jsonpatch(&at(CMS, "a"), json!([{"op": "test", "path": "/data/k", "value": "nope"}, {"op": "remove", "path": "/data/k"}]))
                .status(422, "Invalid").msg("the server rejected our request due to an error in our request")
                .absent("/details/name"),
        ]),
        case("a JSON patch removing a missing path is 422", JSP, vec![
            post(CMS, cm("a")),
            jsonpatch(&at(CMS, "a"), json!([{"op": "remove", "path": "/data/missing"}]))
                .status(422, "Invalid").msg("the server rejected our request due to an error in our request"),
        ]),
        case("a JSON patch that is not an array is 400", JSP, vec![
            post(CMS, cm("a")),
            jsonpatch(&at(CMS, "a"), json!({"op": "remove", "path": "/data/k"})).status(400, "BadRequest"),
        ]),
        case("a JSON patch with a test on metadata.resourceVersion guards the write", JSP, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            jsonpatch(&at(CMS, "a"), json!([{"op": "test", "path": "/metadata/resourceVersion", "value": "$rv"},
                {"op": "replace", "path": "/data/k", "value": "2"}])).code(200).f("/data/k", "2"),
            jsonpatch(&at(CMS, "a"), json!([{"op": "test", "path": "/metadata/resourceVersion", "value": "$rv"},
                {"op": "replace", "path": "/data/k", "value": "3"}])).status(422, "Invalid"),
        ]),
        case("a strategic merge patch merges containers by name", SMPS, vec![
            post(PODS, json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}})),
            smp(&at(PODS, "p"), json!({"spec": {"containers": [{"name": "b", "image": "z"}]}})).code(200)
                .f("/spec/containers/0/image", "x").f("/spec/containers/1/image", "z"),
        ]),
        case("a strategic merge patch that removes a pod's container is refused by pod update validation", "pkg/apis/core/validation/validation.go: ValidatePodUpdate", vec![
            post(PODS, json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}})),
            smp(&at(PODS, "p"), json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}})).status(422, "Invalid")
                .f("/details/causes/0/field", "spec").f("/details/causes/0/reason", "FieldValueForbidden"),
        ]),
        case("a strategic merge patch on a configmap merges maps", SMPS, vec![
            post(CMS, cm("a")),
            smp(&at(CMS, "a"), json!({"data": {"x": "y"}})).code(200).f("/data/k", "v").f("/data/x", "y"),
        ]),
        case("a strategic merge patch merges finalizers as a set", SMPS, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["a.io/x"]}})),
            smp(&at(CMS, "a"), json!({"metadata": {"finalizers": ["a.io/y"]}})).code(200)
                .f("/metadata/finalizers", json!(["a.io/x", "a.io/y"])),
        ]),
        case("a strategic merge patch on a custom resource is 415", "staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go: serveResource (supportedTypes)", vec![
            post(WIDGETS, widget("w")),
            smp(&at(WIDGETS, "w"), json!({"spec": {"size": 2}})).status(415, "UnsupportedMediaType")
                .msg("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
        ]),
        case("a patch with an unknown content type on a custom resource is 415", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go: errUnsupportedMediaType", vec![
            post(WIDGETS, widget("w")),
            patch(&at(WIDGETS, "w"), "text/plain", json!({})).status(415, "UnsupportedMediaType"),
        ]),
        case("force on a non-apply patch is 422", OPTS, vec![
            post(CMS, cm("a")),
            merge(&format!("{}?force=true", at(CMS, "a")), json!({"data": {}})).status(422, "Invalid")
                .msg("PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch")
                .f("/details/group", "meta.k8s.io").f("/details/kind", "PatchOptions"),
        ]),
        case("a merge patch that is not valid JSON is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: jsonPatcher.applyJSPatch (ErrBadJSONPatch)", vec![
            post(CMS, cm("a")),
            raw(http::Method::PATCH, &at(CMS, "a"), Some(MERGE), "{not json").status(400, "BadRequest"),
        ]),
        case("a merge patch adding a finalizer to a deleting object is 422", "staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go: ValidateNoNewFinalizers", vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["a.io/x"]}})),
            delete(&at(CMS, "a")).code(200),
            merge(&at(CMS, "a"), json!({"metadata": {"finalizers": ["a.io/x", "a.io/y"]}})).status(422, "Invalid")
                .f("/details/causes/0/field", "metadata.finalizers"),
        ]),
        case("a merge patch removing the last finalizer of a deleting object deletes it", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: ShouldDeleteDuringUpdate", vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["a.io/x"]}})),
            delete(&at(CMS, "a")).code(200),
            merge(&at(CMS, "a"), json!({"metadata": {"finalizers": null}})).code(200),
            get(&at(CMS, "a")).status(404, "NotFound"),
        ]),
        case("a patch with dryRun=All is not stored", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/dryrun.go: DryRunnableStorage.GuaranteedUpdate", vec![
            post(CMS, cm("a")),
            merge(&format!("{}?dryRun=All", at(CMS, "a")), json!({"data": {"k": "dry"}})).code(200).f("/data/k", "dry"),
            get(&at(CMS, "a")).code(200).f("/data/k", "v"),
        ]),
    ]
}
