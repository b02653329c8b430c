//! The `/status` subresource: status strategies of custom resources and pods.

use crate::case::*;
use serde_json::json;

const CR_STATUS: &str = "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/status_strategy.go: statusStrategy.PrepareForUpdate";
const POD_STATUS: &str = "pkg/registry/core/pod/strategy.go: podStatusStrategy.PrepareForUpdate";
const UPDATE: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.Update";

pub fn cases() -> Vec<Case> {
    vec![
        case("a status update of a custom resource changes its status", CR_STATUS, vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "spec": {"size": 1}, "status": {"ready": true}}))
                .code(200).f("/status/ready", true),
            get(&at(WIDGETS, "w")).code(200).f("/status/ready", true),
        ]),
        case("a status update of a custom resource ignores spec", CR_STATUS, vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "spec": {"size": 9}, "status": {"ready": true}}))
                .code(200).f("/spec/size", 1),
        ]),
        case("a status update of a custom resource ignores labels", CR_STATUS, vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv", "labels": {"a": "b"}}, "spec": {"size": 1}, "status": {"ready": true}}))
                .code(200).absent("/metadata/labels"),
        ]),
        case("a status update does not bump the generation", CR_STATUS, vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "spec": {"size": 5}, "status": {"ready": true}}))
                .code(200).f("/metadata/generation", 1),
        ]),
        case("a status update without status removes it", CR_STATUS, vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "status": {"ready": true}}))
                .code(200).save("/metadata/resourceVersion", "rv2"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv2"}, "spec": {"size": 1}}))
                .code(200).absent("/status"),
        ]),
        case("a status update with a stale resourceVersion is 409", UPDATE, vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "status": {"n": 1}})).code(200),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "status": {"n": 2}}))
                .status(409, "Conflict").details("w", "example.com", "widgets"),
        ]),
        case("a status update of a custom resource without resourceVersion is 422", UPDATE, vec![
            post(WIDGETS, widget("w")),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w"}, "status": {"n": 1}})).status(422, "Invalid")
                .f("/details/causes/0/field", "metadata.resourceVersion"),
        ]),
        case("a status update of a missing object is 404", UPDATE, vec![
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "3"}, "status": {}}))
                .status(404, "NotFound").msg("widgets.example.com \"w\" not found"),
        ]),
        case("the status subresource of a type without one is 404", "staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go: serveResource (subresource not enabled)", vec![
            post(GADGETS, gadget("g")),
            put(&at(GADGETS, "g/status"), json!({"metadata": {"name": "g"}, "status": {}})).status(404, "NotFound"),
        ]),
        case("a configmap has no status subresource", "pkg/registry/core/rest/storage_core.go: configmaps has no status storage", vec![
            post(CMS, cm("a")),
            get(&at(CMS, "a/status")).status(404, "NotFound"),
        ]),
        case("a merge patch on status changes only status", CR_STATUS, vec![
            post(WIDGETS, widget("w")),
            merge(&at(WIDGETS, "w/status"), json!({"spec": {"size": 7}, "status": {"ready": true}}))
                .code(200).f("/status/ready", true).f("/spec/size", 1),
        ]),
        case("a main-resource merge patch ignores status of a custom resource", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForUpdate", vec![
            post(WIDGETS, widget("w")),
            merge(&at(WIDGETS, "w"), json!({"spec": {"size": 7}, "status": {"ready": true}}))
                .code(200).f("/spec/size", 7).absent("/status"),
        ]),
        case("a pod status update sets the phase and keeps the spec", POD_STATUS, vec![
            post(PODS, pod("p")),
            put(&at(PODS, "p/status"), json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "other"}]},
                "status": {"phase": "Running"}})).code(200).f("/status/phase", "Running").f("/spec/containers/0/image", "nginx"),
        ]),
        case("a pod status update with an unknown phase is 422", "pkg/apis/core/validation/validation.go: ValidatePodStatusUpdate", vec![
            post(PODS, pod("p")),
            put(&at(PODS, "p/status"), json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                "status": {"phase": "Sleeping"}})).status(422, "Invalid").f("/details/causes/0/field", "status.phase"),
        ]),
        case("a status update that changes nothing keeps the resourceVersion", "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: GuaranteedUpdate", vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w/status"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "spec": {"size": 1}}))
                .code(200).f("/metadata/resourceVersion", "$rv"),
        ]),
        case("POST to a status subresource is 405", "staging/src/k8s.io/apiserver/pkg/endpoints/installer.go: registerResourceHandlers (no create on subresources)", vec![
            post(WIDGETS, widget("w")),
            post(&at(WIDGETS, "w/status"), widget("w")).status(405, "MethodNotAllowed"),
        ]),
    ]
}
