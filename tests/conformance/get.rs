//! GET of one object: the registry store's `Get`.

use crate::case::*;

const GET: &str = "staging/src/k8s.io/apiserver/pkg/storage/errors/storage.go: InterpretGetError; apimachinery errors.go: NewNotFound";

pub fn cases() -> Vec<Case> {
    vec![
        case("a get of a missing object is 404 NotFound with details", GET, vec![
            get(&at(CMS, "nope")).status(404, "NotFound").msg("configmaps \"nope\" not found")
                .details("nope", "", "configmaps"),
        ]),
        case("a NotFound in a named group qualifies the resource and sets details.group", GET, vec![
            get(&at(LEASES, "nope")).status(404, "NotFound")
                .msg("leases.coordination.k8s.io \"nope\" not found").details("nope", "coordination.k8s.io", "leases"),
        ]),
        case("a NotFound for a custom resource names its group", GET, vec![
            get(&at(WIDGETS, "nope")).status(404, "NotFound")
                .msg("widgets.example.com \"nope\" not found").details("nope", "example.com", "widgets"),
        ]),
        case("a get returns the stored object with kind and apiVersion", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.Get", vec![
            post(CMS, cm("a")),
            get(&at(CMS, "a")).code(200).f("/kind", "ConfigMap").f("/apiVersion", "v1").f("/data/k", "v"),
        ]),
        case("a get of a cluster-scoped custom resource works without a namespace", "API Concepts: Resource URIs", vec![
            post(GADGETS, gadget("g")),
            get(&at(GADGETS, "g")).code(200).f("/metadata/name", "g").absent("/metadata/namespace"),
        ]),
        case("an object in another namespace is not found", "API Concepts: Resource URIs", vec![
            post(CMS, cm("a")),
            get("/api/v1/namespaces/other/configmaps/a").status(404, "NotFound"),
        ]),
        case("a get of a lease returns its spec", "pkg/registry/coordination/lease/storage/storage.go", vec![
            post(LEASES, lease("l")),
            get(&at(LEASES, "l")).code(200).f("/spec/holderIdentity", "a").f("/apiVersion", "coordination.k8s.io/v1"),
        ]),
        case("a get of a namespace object is served at its cluster-scoped path", "API Concepts: Resource URIs", vec![
            post(NAMESPACES, serde_json::json!({"metadata": {"name": "team"}})),
            get("/api/v1/namespaces/team").code(200).f("/metadata/name", "team"),
        ]),
        case("a get of the status subresource returns the whole object", "staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/etcd.go: StatusREST.Get", vec![
            post(WIDGETS, widget("w")),
            get(&at(WIDGETS, "w/status")).code(200).f("/spec/size", 1).f("/metadata/name", "w"),
        ]),
        case("a get after a delete is 404", "staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go: Store.Get", vec![
            post(CMS, cm("a")),
            delete(&at(CMS, "a")).code(200),
            get(&at(CMS, "a")).status(404, "NotFound"),
        ]),
        case("a new namespace starts Active", "pkg/registry/core/namespace/strategy.go: namespaceStrategy.PrepareForCreate", vec![
            post(NAMESPACES, serde_json::json!({"metadata": {"name": "team"}})).code(201).f("/status/phase", "Active")
                .f("/spec/finalizers/0", "kubernetes"),
        ]),
    ]
}
