//! POST to a collection: `rest.BeforeCreate`, the registry store's `create`, per-type strategies.

use crate::case::*;
use serde_json::json;

const STORE: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.create";
const BEFORE: &str = "staging/src/k8s.io/apiserver/pkg/registry/rest/create.go: BeforeCreate";
const META: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/rest/meta.go: FillObjectMetaSystemFields";
const NSMATCH: &str =
    "staging/src/k8s.io/apiserver/pkg/registry/rest/meta.go: EnsureObjectNamespaceMatchesRequestNamespace";
const OBJMETA: &str =
    "staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go: ValidateObjectMetaAccessor";
const ETCD: &str = "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: store.Create (ErrResourceVersionSetOnCreate)";
const HANDLER: &str =
    "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go: createHandler (201 Created)";

const DNS1123: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

pub fn cases() -> Vec<Case> {
    vec![
        case("a create answers 201 with the stored object", HANDLER, vec![
            post(CMS, cm("a")).code(201).f("/metadata/name", "a").f("/metadata/namespace", "default")
                .f("/data/k", "v").f("/kind", "ConfigMap").f("/apiVersion", "v1"),
        ]),
        case("a create fills uid, resourceVersion and creationTimestamp", META, vec![
            post(CMS, cm("a")).code(201).f("/metadata/creationTimestamp", "2026-01-01T00:00:00Z")
                .save("/metadata/uid", "uid").save("/metadata/resourceVersion", "rv"),
            get(&at(CMS, "a")).code(200).f("/metadata/uid", "$uid").f("/metadata/resourceVersion", "$rv"),
        ]),
        case("a uid given on create is replaced by a new one", META, vec![
            post(CMS, json!({"metadata": {"name": "a", "uid": "given"}})).code(201)
                .f("/metadata/name", "a").save("/metadata/uid", "uid"),
            get(&at(CMS, "a")).code(200).f("/metadata/uid", "$uid"),
            post(CMS, json!({"metadata": {"name": "b", "uid": "given"}})).code(201).differs("/metadata/uid", "uid"),
        ]),
        case("a creationTimestamp given on create is replaced by the server's", META, vec![
            post(CMS, json!({"metadata": {"name": "a", "creationTimestamp": "2001-01-01T00:00:00Z"}})).code(201)
                .f("/metadata/creationTimestamp", "2026-01-01T00:00:00Z"),
        ]),
        case("a deletionTimestamp given on create is dropped", BEFORE, vec![
            post(CMS, json!({"metadata": {"name": "a", "deletionTimestamp": "2026-01-01T00:00:00Z",
                "deletionGracePeriodSeconds": 30}})).code(201)
                .absent("/metadata/deletionTimestamp").absent("/metadata/deletionGracePeriodSeconds"),
        ]),
        case("a create of an existing name is 409 AlreadyExists with details", "staging/src/k8s.io/apiserver/pkg/storage/errors/storage.go: InterpretCreateError; apimachinery errors.go: NewAlreadyExists", vec![
            post(CMS, cm("a")),
            post(CMS, cm("a")).status(409, "AlreadyExists").msg("configmaps \"a\" already exists")
                .details("a", "", "configmaps"),
        ]),
        case("an AlreadyExists in a named group qualifies the resource with the group", "apimachinery errors.go: NewAlreadyExists (qualifiedResource.String())", vec![
            post(LEASES, lease("l")),
            post(LEASES, lease("l")).status(409, "AlreadyExists")
                .msg("leases.coordination.k8s.io \"l\" already exists").details("l", "coordination.k8s.io", "leases"),
        ]),
        case("a create over an object being deleted says so in the AlreadyExists message", STORE, vec![
            post(CMS, json!({"metadata": {"name": "a", "finalizers": ["example.com/hold"]}})),
            delete(&at(CMS, "a")).code(200),
            post(CMS, cm("a")).status(409, "AlreadyExists")
                .msg("object is being deleted: configmaps \"a\" already exists"),
        ]),
        case("a resourceVersion given on create is a 500 with an empty reason", ETCD, vec![
            post(CMS, json!({"metadata": {"name": "a", "resourceVersion": "5"}})).status(500, "")
                .msg("resourceVersion should not be set on objects to be created").absent("/details"),
        ]),
        case("a name that is not a DNS-1123 subdomain is 422 Invalid with a field cause", OBJMETA, vec![
            post(CMS, cm("A_b")).status(422, "Invalid")
                .msg(&format!("ConfigMap \"A_b\" is invalid: metadata.name: Invalid value: \"A_b\": {DNS1123}"))
                .details("A_b", "", "ConfigMap")
                .cause(0, "FieldValueInvalid", &format!("Invalid value: \"A_b\": {DNS1123}"), "metadata.name"),
        ]),
        case("a create with neither name nor generateName is 422 name or generateName is required", OBJMETA, vec![
            post(CMS, json!({"metadata": {}, "data": {}})).status(422, "Invalid")
                .msg("ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required")
                .cause(0, "FieldValueRequired", "Required value: name or generateName is required", "metadata.name"),
        ]),
        case("a name longer than 253 characters is 422 Invalid", "staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go: IsDNS1123Subdomain", vec![
            post(CMS, cm(&"a".repeat(254))).status(422, "Invalid")
                .f("/details/causes/0/field", "metadata.name")
                .f("/details/causes/0/reason", "FieldValueInvalid"),
        ]),
        case("generateName gives a name of the prefix and five random characters", "staging/src/k8s.io/apiserver/pkg/storage/names/generate.go: SimpleNameGenerator", vec![
            post(CMS, json!({"metadata": {"generateName": "gen-"}})).code(201)
                .f("/metadata/generateName", "gen-").save("/metadata/name", "n"),
            get(&at(CMS, "$n")).code(200).f("/metadata/generateName", "gen-"),
        ]),
        case("an invalid generateName prefix is 422 on metadata.generateName", OBJMETA, vec![
            post(CMS, json!({"metadata": {"generateName": "Bad_"}})).status(422, "Invalid")
                .f("/details/causes/0/field", "metadata.generateName"),
        ]),
        case("a body namespace that differs from the path is 400 BadRequest", NSMATCH, vec![
            post(CMS, json!({"metadata": {"name": "a", "namespace": "other"}})).status(400, "BadRequest")
                .msg("the namespace of the provided object does not match the namespace sent on the request")
                .absent("/details"),
        ]),
        case("a body without a namespace takes the path's", NSMATCH, vec![
            post(CMS, cm("a")).code(201).f("/metadata/namespace", "default"),
        ]),
        case("a namespace in the body of a cluster-scoped create is cleared", NSMATCH, vec![
            post(GADGETS, json!({"metadata": {"name": "g", "namespace": "x"}})).code(201).absent("/metadata/namespace"),
        ]),
        case("a custom resource starts at generation 1", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForCreate", vec![
            post(WIDGETS, widget("w")).code(201).f("/metadata/generation", 1),
        ]),
        case("a configmap has no generation", "pkg/registry/core/configmap/strategy.go: PrepareForCreate", vec![
            post(CMS, cm("a")).code(201).absent("/metadata/generation"),
        ]),
        case("status sent on create of a custom resource with a status subresource is dropped", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForCreate", vec![
            post(WIDGETS, json!({"metadata": {"name": "w"}, "spec": {"size": 1}, "status": {"ready": true}})).code(201)
                .absent("/status"),
        ]),
        case("status sent on create of a custom resource without a status subresource is kept", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go: PrepareForCreate", vec![
            post(GADGETS, json!({"metadata": {"name": "g"}, "status": {"ready": true}})).code(201)
                .f("/status/ready", true),
        ]),
        case("a created pod starts Pending", "pkg/registry/core/pod/strategy.go: podStrategy.PrepareForCreate", vec![
            post(PODS, pod("p")).code(201).f("/status/phase", "Pending"),
        ]),
        case("status sent on create of a pod is replaced by Pending", "pkg/registry/core/pod/strategy.go: podStrategy.PrepareForCreate", vec![
            post(PODS, json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                "status": {"phase": "Running"}})).code(201).f("/status/phase", "Pending"),
        ]),
        case("a pod without containers is 422 spec.containers Required", "pkg/apis/core/validation/validation.go: validateContainers", vec![
            post(PODS, json!({"metadata": {"name": "p"}, "spec": {"containers": []}})).status(422, "Invalid")
                .f("/details/kind", "Pod")
                .f("/details/causes/0/field", "spec.containers")
                .f("/details/causes/0/reason", "FieldValueRequired"),
        ]),
        case("a configmap data key that is not a valid config key is 422", "pkg/apis/core/validation/validation.go: ValidateConfigMap", vec![
            post(CMS, json!({"metadata": {"name": "a"}, "data": {"a b": "v"}})).status(422, "Invalid")
                .f("/details/causes/0/field", "data[a b]")
                .f("/details/causes/0/reason", "FieldValueInvalid"),
        ]),
        case("a lease with a non-positive leaseDurationSeconds is 422", "pkg/apis/coordination/validation/validation.go: ValidateLeaseSpec", vec![
            post(LEASES, json!({"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}})).status(422, "Invalid")
                .msg("Lease.coordination.k8s.io \"l\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0")
                .details("l", "coordination.k8s.io", "Lease"),
        ]),
        case("a namespace name must be a DNS-1123 label", "pkg/apis/core/validation/validation.go: ValidateNamespace (ValidateNamespaceName)", vec![
            post(NAMESPACES, json!({"metadata": {"name": "a.b"}})).status(422, "Invalid")
                .f("/details/causes/0/field", "metadata.name"),
        ]),
        case("an invalid label value is 422 on metadata.labels", "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: ValidateLabels", vec![
            post(CMS, json!({"metadata": {"name": "a", "labels": {"app": "a b"}}})).status(422, "Invalid")
                .f("/details/causes/0/field", "metadata.labels")
                .f("/details/causes/0/reason", "FieldValueInvalid"),
        ]),
        case("an ownerReference without a uid is 422", "staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go: validateOwnerReference", vec![
            post(CMS, json!({"metadata": {"name": "a", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": ""}]}}))
                .status(422, "Invalid").f("/details/causes/0/field", "metadata.ownerReferences.uid"),
        ]),
        case("two controller ownerReferences are 422", "staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go: ValidateOwnerReferences", vec![
            post(CMS, json!({"metadata": {"name": "a", "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u1", "controller": true},
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "p", "uid": "u2", "controller": true}]}}))
                .status(422, "Invalid").f("/details/causes/0/field", "metadata.ownerReferences"),
        ]),
        case("create with dryRun=All validates and answers without storing", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/dryrun.go: DryRunnableStorage.Create", vec![
            post(&format!("{CMS}?dryRun=All"), cm("a")).code(201).f("/metadata/name", "a"),
            get(&at(CMS, "a")).status(404, "NotFound"),
        ]),
    ]
}
