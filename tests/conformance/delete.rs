//! DELETE: `rest.BeforeDelete`, the registry store's `Delete` and `finalizeDelete`, finalizers,
//! preconditions, propagation.

use crate::case::*;
use serde_json::json;

const DELETE: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.Delete";
const FINALIZE: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.finalizeDelete";
const BEFORE: &str = "staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go: BeforeDelete";
const DELOPTS: &str = "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: ValidateDeleteOptions; rest/delete.go: BeforeDelete";
const MARK: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: markAsDeleting";
const GCFIN: &str = "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: deletionFinalizersForGarbageCollection";

pub fn cases() -> Vec<Case> {
    vec![
        case("deleting a configmap answers a Success Status with name, kind and uid", FINALIZE, vec![
            post(CMS, cm("a")).save("/metadata/uid", "uid"),
            delete(&at(CMS, "a")).code(200).f("/kind", "Status").f("/apiVersion", "v1").f("/status", "Success")
                .f("/details/name", "a").f("/details/kind", "configmaps").f("/details/uid", "$uid")
                .absent("/details/group"),
        ]),
        case("deleting a lease answers a Success Status with its group", FINALIZE, vec![
            post(LEASES, lease("l")),
            delete(&at(LEASES, "l")).code(200).f("/status", "Success")
                .f("/details/group", "coordination.k8s.io").f("/details/kind", "leases"),
        ]),
        case("deleting a custom resource answers a Success Status", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/etcd.go: newREST (no ReturnDeletedObject)", vec![
            post(WIDGETS, widget("w")),
            delete(&at(WIDGETS, "w")).code(200).f("/kind", "Status").f("/status", "Success")
                .f("/details/group", "example.com").f("/details/kind", "widgets").f("/details/name", "w"),
        ]),
        case("deleting an unscheduled pod answers the deleted pod", "pkg/registry/core/pod/storage/storage.go: ReturnDeletedObject; pod/strategy.go: CheckGracefulDelete (no node: grace 0)", vec![
            post(PODS, pod("p")),
            delete(&at(PODS, "p")).code(200).f("/kind", "Pod").f("/metadata/name", "p"),
            get(&at(PODS, "p")).status(404, "NotFound"),
        ]),
        case("deleting a namespace answers the namespace, now Terminating", "pkg/registry/core/namespace/storage/storage.go: REST.Delete", vec![
            post(NAMESPACES, json!({"metadata": {"name": "team"}})),
            delete("/api/v1/namespaces/team").code(200).f("/kind", "Namespace").f("/status/phase", "Terminating"),
        ]),
        case("deleting a missing object is 404 NotFound", "staging/src/k8s.io/apiserver/pkg/storage/errors/storage.go: InterpretDeleteError", vec![
            delete(&at(CMS, "a")).status(404, "NotFound").msg("configmaps \"a\" not found").details("a", "", "configmaps"),
        ]),
        case("a delete removes the object at once", DELETE, vec![
            post(CMS, cm("a")),
            delete(&at(CMS, "a")).code(200),
            get(&at(CMS, "a")).status(404, "NotFound"),
        ]),
        case("deleting an object with a finalizer sets deletionTimestamp and answers the object", MARK, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/f"]}})),
            delete(&at(CMS, "a")).code(200).f("/kind", "ConfigMap").f("/metadata/deletionTimestamp", "2026-01-01T00:00:00Z")
                .f("/metadata/deletionGracePeriodSeconds", 0),
            get(&at(CMS, "a")).code(200).f("/metadata/finalizers/0", "example.com/f"),
        ]),
        case("deleting a custom resource with a finalizer bumps its generation", MARK, vec![
            post(WIDGETS, json!({"metadata": {"name": "w", "finalizers": ["example.com/f"]}, "spec": {}})),
            delete(&at(WIDGETS, "w")).code(200).f("/metadata/generation", 2),
        ]),
        case("deleting an object that is already being deleted changes nothing", DELETE, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/f"]}})),
            delete(&at(CMS, "a")).code(200).save("/metadata/resourceVersion", "rv"),
            delete(&at(CMS, "a")).code(200).f("/metadata/resourceVersion", "$rv"),
        ]),
        case("a uid precondition that does not match is 409 naming the kind", BEFORE, vec![
            post(CMS, cm("a")).save("/metadata/uid", "uid"),
            delete_with(&at(CMS, "a"), json!({"preconditions": {"uid": "other"}})).status(409, "Conflict")
                .msg("Operation cannot be fulfilled on ConfigMap \"a\": the UID in the precondition (other) does not match the UID in record ($uid). The object might have been deleted and then recreated")
                .details("a", "", "ConfigMap"),
        ]),
        case("a resourceVersion precondition that does not match is 409", BEFORE, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            delete_with(&at(CMS, "a"), json!({"preconditions": {"resourceVersion": "1"}})).status(409, "Conflict")
                .msg("Operation cannot be fulfilled on ConfigMap \"a\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record ($rv). The object might have been modified"),
        ]),
        case("a precondition conflict in a named group names Kind.group", BEFORE, vec![
            post(LEASES, lease("l")).save("/metadata/uid", "uid"),
            delete_with(&at(LEASES, "l"), json!({"preconditions": {"uid": "x"}})).status(409, "Conflict")
                .msg("Operation cannot be fulfilled on Lease.coordination.k8s.io \"l\": the UID in the precondition (x) does not match the UID in record ($uid). The object might have been deleted and then recreated")
                .details("l", "coordination.k8s.io", "Lease"),
        ]),
        case("matching preconditions delete the object", BEFORE, vec![
            post(CMS, cm("a")).save("/metadata/uid", "uid").save("/metadata/resourceVersion", "rv"),
            delete_with(&at(CMS, "a"), json!({"preconditions": {"uid": "$uid", "resourceVersion": "$rv"}})).code(200).f("/status", "Success"),
        ]),
        case("an unknown propagationPolicy in the body is 422 Invalid DeleteOptions", DELOPTS, vec![
            post(CMS, cm("a")),
            delete_with(&at(CMS, "a"), json!({"propagationPolicy": "Now"})).status(422, "Invalid")
                .msg("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Now\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")
                .f("/details/group", "meta.k8s.io").f("/details/kind", "DeleteOptions")
                .cause(0, "FieldValueNotSupported", "Unsupported value: \"Now\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"", "propagationPolicy"),
        ]),
        case("orphanDependents together with propagationPolicy is 422", DELOPTS, vec![
            post(CMS, cm("a")),
            delete_with(&at(CMS, "a"), json!({"propagationPolicy": "Background", "orphanDependents": true})).status(422, "Invalid")
                .f("/details/causes/0/field", "propagationPolicy")
                .f("/details/causes/0/message", "Invalid value: \"Background\": orphanDependents and deletionPropagation cannot be both set"),
        ]),
        case("dryRun with an unknown value is 422", DELOPTS, vec![
            post(CMS, cm("a")),
            delete(&format!("{}?dryRun=Some", at(CMS, "a"))).status(422, "Invalid").f("/details/causes/0/field", "dryRun"),
        ]),
        case("a delete with dryRun=All leaves the object", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/dryrun.go: DryRunnableStorage.Delete", vec![
            post(CMS, cm("a")),
            delete(&format!("{}?dryRun=All", at(CMS, "a"))).code(200).f("/status", "Success"),
            get(&at(CMS, "a")).code(200),
        ]),
        case("a foreground delete adds the foregroundDeletion finalizer", GCFIN, vec![
            post(CMS, cm("a")),
            delete_with(&at(CMS, "a"), json!({"propagationPolicy": "Foreground"})).code(200)
                .f("/metadata/finalizers", json!(["foregroundDeletion"])).f("/metadata/deletionTimestamp", "2026-01-01T00:00:00Z"),
        ]),
        case("an orphan delete adds the orphan finalizer", GCFIN, vec![
            post(CMS, cm("a")),
            delete(&format!("{}?propagationPolicy=Orphan", at(CMS, "a"))).code(200)
                .f("/metadata/finalizers", json!(["orphan"])),
        ]),
        case("a background delete of an object with a foreground finalizer swaps nothing in", GCFIN, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/f"]}})),
            delete_with(&at(CMS, "a"), json!({"propagationPolicy": "Background"})).code(200)
                .f("/metadata/finalizers", json!(["example.com/f"])),
        ]),
        case("a delete by an orphaning policy keeps the user's finalizers first", GCFIN, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/f"]}})),
            delete_with(&at(CMS, "a"), json!({"propagationPolicy": "Orphan"})).code(200)
                .f("/metadata/finalizers", json!(["example.com/f", "orphan"])),
        ]),
        case("a delete collection removes the matching objects and lists them", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.DeleteCollection", vec![
            post(CMS, json!({"metadata": {"name": "a", "labels": {"x": "1"}}})),
            post(CMS, json!({"metadata": {"name": "b", "labels": {"x": "2"}}})),
            delete(&format!("{CMS}?labelSelector=x%3D1")).code(200).f("/kind", "ConfigMapList").items(1)
                .f("/items/0/metadata/name", "a"),
            get(CMS).code(200).items(1).f("/items/0/metadata/name", "b"),
        ]),
        case("a delete collection without matches answers an empty list", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.DeleteCollection", vec![
            delete(CMS).code(200).f("/kind", "ConfigMapList").items(0),
        ]),
        case("a pod on a node is deleted gracefully: it stays with a 30 second grace period", "pkg/registry/core/pod/strategy.go: CheckGracefulDelete; rest/delete.go: BeforeDelete", vec![
            post(PODS, json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx"}]}})),
            delete(&at(PODS, "p")).code(200).f("/metadata/deletionGracePeriodSeconds", 30)
                .f("/metadata/deletionTimestamp", "2026-01-01T00:00:30Z"),
            get(&at(PODS, "p")).code(200),
        ]).gap("no graceful deletion: there is no kubelet to finish it, so every pod deletes at once"),
    ]
}
