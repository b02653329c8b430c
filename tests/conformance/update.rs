//! PUT (full replace): the registry store's `Update`, `rest.BeforeUpdate`, per-type strategies.

use crate::case::*;
use serde_json::json;

const UPDATE: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.Update";
const BEFORE: &str = "staging/src/k8s.io/apiserver/pkg/registry/rest/update.go: BeforeUpdate";
const NAMES: &str = "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go: checkName";
const PRECOND: &str = "staging/src/k8s.io/apiserver/pkg/registry/rest/update.go: defaultUpdatedObjectInfo.Preconditions; storage/interfaces.go: Preconditions.Check; storage/errors/storage.go: InterpretUpdateError";
const METAUPD: &str = "staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go: ValidateObjectMetaAccessorUpdate";
const LOCK: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

pub fn cases() -> Vec<Case> {
    vec![
        case("an update with the current resourceVersion succeeds with a new one", UPDATE, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "resourceVersion": "$rv"}, "data": {"k": "new"}}))
                .code(200).f("/data/k", "new").gt("/metadata/resourceVersion", "rv"),
        ]),
        case("an update with a stale resourceVersion is 409 Conflict", UPDATE, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "resourceVersion": "$rv"}, "data": {"k": "1"}})).code(200),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "resourceVersion": "$rv"}, "data": {"k": "2"}}))
                .status(409, "Conflict")
                .msg(&format!("Operation cannot be fulfilled on configmaps \"a\": {LOCK}"))
                .details("a", "", "configmaps"),
        ]),
        case("a conflict in a named group names the qualified resource", UPDATE, vec![
            post(LEASES, lease("l")).save("/metadata/resourceVersion", "rv"),
            put(&at(LEASES, "l"), json!({"metadata": {"name": "l", "resourceVersion": "$rv"}, "spec": {"holderIdentity": "b"}})).code(200),
            put(&at(LEASES, "l"), json!({"metadata": {"name": "l", "resourceVersion": "$rv"}, "spec": {"holderIdentity": "c"}}))
                .status(409, "Conflict")
                .msg(&format!("Operation cannot be fulfilled on leases.coordination.k8s.io \"l\": {LOCK}"))
                .details("l", "coordination.k8s.io", "leases"),
        ]),
        case("an update without resourceVersion of a configmap is unconditional", "pkg/registry/core/configmap/strategy.go: AllowUnconditionalUpdate", vec![
            post(CMS, cm("a")),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a"}, "data": {"k": "new"}})).code(200).f("/data/k", "new"),
        ]),
        case("an update without resourceVersion of a lease is 422 must be specified for an update", UPDATE, vec![
            post(LEASES, lease("l")),
            put(&at(LEASES, "l"), json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "b"}})).status(422, "Invalid")
                .msg("leases.coordination.k8s.io \"l\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update")
                .details("l", "coordination.k8s.io", "leases")
                .cause(0, "FieldValueInvalid", "Invalid value: 0: must be specified for an update", "metadata.resourceVersion"),
        ]),
        case("an update without resourceVersion of a custom resource is 422", UPDATE, vec![
            post(WIDGETS, widget("w")),
            put(&at(WIDGETS, "w"), json!({"metadata": {"name": "w"}, "spec": {"size": 2}})).status(422, "Invalid")
                .msg("widgets.example.com \"w\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update")
                .details("w", "example.com", "widgets"),
        ]),
        case("an update of a missing configmap is 404 NotFound", UPDATE, vec![
            put(&at(CMS, "a"), cm("a")).status(404, "NotFound").msg("configmaps \"a\" not found").details("a", "", "configmaps"),
        ]),
        case("an update of a missing lease creates it and answers 201", "pkg/registry/coordination/lease/strategy.go: AllowCreateOnUpdate; endpoints/handlers/update.go: UpdateResource (wasCreated)", vec![
            put(&at(LEASES, "l"), lease("l")).code(201).f("/metadata/name", "l").f("/spec/holderIdentity", "a"),
            get(&at(LEASES, "l")).code(200).f("/spec/holderIdentity", "a"),
        ]),
        case("a create-on-update ignores the resourceVersion it was sent", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.Update (create path); storage/etcd3/store.go: updateState (PrepareObjectForStorage)", vec![
            put(&at(LEASES, "l"), json!({"metadata": {"name": "l", "resourceVersion": "5"}, "spec": {}}))
                .code(201).f("/metadata/name", "l"),
        ]),
        case("an update of a missing custom resource is 404", UPDATE, vec![
            put(&at(WIDGETS, "w"), json!({"metadata": {"name": "w", "resourceVersion": "5"}, "spec": {}}))
                .status(404, "NotFound").msg("widgets.example.com \"w\" not found"),
        ]),
        case("a uid in the body that differs from the stored one is a 409 precondition failure", PRECOND, vec![
            post(CMS, cm("a")).save("/metadata/uid", "uid"),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "uid": "other"}, "data": {}})).status(409, "Conflict")
                .msg("Operation cannot be fulfilled on configmaps \"a\": StorageError: invalid object, Code: 4, Key: /registry/configmaps/default/a, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: other, UID in object meta: $uid")
                .details("a", "", "configmaps"),
        ]),
        case("a uid in the body equal to the stored one is accepted", PRECOND, vec![
            post(CMS, cm("a")).save("/metadata/uid", "uid"),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "uid": "$uid"}, "data": {"k": "2"}})).code(200).f("/metadata/uid", "$uid"),
        ]),
        case("an update without a uid keeps the stored uid", BEFORE, vec![
            post(CMS, cm("a")).save("/metadata/uid", "uid"),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a"}, "data": {}})).code(200).f("/metadata/uid", "$uid"),
        ]),
        case("a body name that differs from the path is 400", NAMES, vec![
            post(CMS, cm("a")),
            put(&at(CMS, "a"), cm("b")).status(400, "BadRequest")
                .msg("the name of the object (b) does not match the name on the URL (a)"),
        ]),
        case("a body namespace that differs from the path is 400", NAMES, vec![
            post(CMS, cm("a")),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "namespace": "other"}})).status(400, "BadRequest")
                .msg("the namespace of the object (other) does not match the namespace on the request (default)"),
        ]),
        case("an update cannot change creationTimestamp", BEFORE, vec![
            post(CMS, cm("a")),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "creationTimestamp": "2001-01-01T00:00:00Z"}, "data": {"k": "2"}}))
                .code(200).f("/metadata/creationTimestamp", "2026-01-01T00:00:00Z"),
        ]),
        case("an update cannot set a deletionTimestamp on a live object", METAUPD, vec![
            post(CMS, cm("a")),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "deletionTimestamp": "2026-01-01T00:00:00Z"}}))
                .status(422, "Invalid").f("/details/causes/0/field", "metadata.deletionTimestamp")
                .f("/details/causes/0/reason", "FieldValueInvalid"),
        ]),
        case("an update cannot remove the deletionTimestamp of a deleting object", BEFORE, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/f"]}})),
            delete(&at(CMS, "a")).code(200).save("/metadata/deletionTimestamp", "ts"),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "finalizers": ["example.com/f"]}, "data": {"k": "2"}}))
                .code(200).f("/metadata/deletionTimestamp", "$ts").f("/data/k", "2"),
        ]),
        case("an update of a custom resource's spec bumps its generation", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForUpdate", vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "spec": {"size": 2}}))
                .code(200).f("/metadata/generation", 2),
        ]),
        case("an update of a custom resource's labels keeps its generation", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForUpdate", vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w"), json!({"metadata": {"name": "w", "resourceVersion": "$rv", "labels": {"a": "b"}}, "spec": {"size": 1}}))
                .code(200).f("/metadata/generation", 1).f("/metadata/labels/a", "b"),
        ]),
        case("a generation sent in an update is ignored", BEFORE, vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w"), json!({"metadata": {"name": "w", "resourceVersion": "$rv", "generation": 40}, "spec": {"size": 1}}))
                .code(200).f("/metadata/generation", 1),
        ]),
        case("status in a main-resource update of a custom resource is ignored", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForUpdate", vec![
            post(WIDGETS, widget("w")).save("/metadata/resourceVersion", "rv"),
            put(&at(WIDGETS, "w"), json!({"metadata": {"name": "w", "resourceVersion": "$rv"}, "spec": {"size": 1}, "status": {"ready": true}}))
                .code(200).absent("/status"),
        ]),
        case("status in a main-resource update of a pod is ignored", "pkg/registry/core/pod/strategy.go: podStrategy.PrepareForUpdate", vec![
            post(PODS, pod("p")),
            put(&at(PODS, "p"), json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                "status": {"phase": "Running"}})).code(200).f("/status/phase", "Pending"),
        ]),
        case("an update that changes nothing keeps the resourceVersion", "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: GuaranteedUpdate (shouldn't write when unchanged)", vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "resourceVersion": "$rv"}, "data": {"k": "v"}}))
                .code(200).f("/metadata/resourceVersion", "$rv"),
        ]),
        case("a new finalizer on a deleting object is 422 Forbidden", METAUPD, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/a"]}})),
            delete(&at(CMS, "a")).code(200),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "finalizers": ["example.com/a", "example.com/b"]}}))
                .status(422, "Invalid")
                .msg("ConfigMap \"a\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/b\"}")
                .cause(0, "FieldValueForbidden", "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/b\"}", "metadata.finalizers"),
        ]),
        case("removing the last finalizer of a deleting object deletes it", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: ShouldDeleteDuringUpdate", vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/a"]}})),
            delete(&at(CMS, "a")).code(200),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "finalizers": []}})).code(200).f("/metadata/name", "a"),
            get(&at(CMS, "a")).status(404, "NotFound"),
        ]),
        case("an update of an immutable configmap's data is 422", "pkg/apis/core/validation/validation.go: ValidateConfigMapUpdate", vec![
            post(CMS, json!({"metadata": {"name": "a"}, "immutable": true, "data": {"k": "v"}})),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a"}, "immutable": true, "data": {"k": "2"}})).status(422, "Invalid")
                .f("/details/causes/0/field", "data").f("/details/causes/0/reason", "FieldValueForbidden"),
        ]),
        case("an update of a pod's image is allowed", "pkg/apis/core/validation/validation.go: ValidatePodUpdate", vec![
            post(PODS, pod("p")),
            put(&at(PODS, "p"), json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}))
                .code(200).f("/spec/containers/0/image", "nginx:2"),
        ]),
        case("an update of a pod's container name is 422 Forbidden on spec", "pkg/apis/core/validation/validation.go: ValidatePodUpdate", vec![
            post(PODS, pod("p")),
            put(&at(PODS, "p"), json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "d", "image": "nginx"}]}}))
                .status(422, "Invalid").f("/details/causes/0/field", "spec").f("/details/causes/0/reason", "FieldValueForbidden"),
        ]),
        case("an update with invalid labels is 422", "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: ValidateLabels", vec![
            post(CMS, cm("a")),
            put(&at(CMS, "a"), json!({"metadata": {"name": "a", "labels": {"-bad": "x"}}})).status(422, "Invalid")
                .f("/details/causes/0/field", "metadata.labels"),
        ]),
        case("an update with dryRun=All is not stored", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/dryrun.go: DryRunnableStorage.GuaranteedUpdate", vec![
            post(CMS, cm("a")),
            put(&format!("{}?dryRun=All", at(CMS, "a")), json!({"metadata": {"name": "a"}, "data": {"k": "dry"}})).code(200).f("/data/k", "dry"),
            get(&at(CMS, "a")).code(200).f("/data/k", "v"),
        ]),
    ]
}
