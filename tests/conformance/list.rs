//! LIST: resourceVersion and resourceVersionMatch rules, paging, selectors (API Concepts:
//! "Resource versions", "Retrieving large results sets in chunks"; `endpoints/handlers/get.go`,
//! `storage/etcd3/store.go`, `storage/cacher`).

use crate::case::*;
use serde_json::json;

const CONCEPTS_RV: &str = "API Concepts: Resource versions (semantics for get and list)";
const CHUNKS: &str = "API Concepts: Retrieving large results sets in chunks";
const LISTOPTS: &str = "staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go: ValidateListOptions; handlers/get.go: ListResource";
const ETCD: &str = "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: store.GetList; etcd3/errors.go: interpretListError";
const INCONSISTENT: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn three() -> Vec<Step> {
    vec![
        post(
            CMS,
            json!({"metadata": {"name": "a", "labels": {"app": "web", "tier": "1"}}}),
        ),
        post(
            CMS,
            json!({"metadata": {"name": "b", "labels": {"app": "db"}}}),
        ),
        post(CMS, json!({"metadata": {"name": "c"}})).save("/metadata/resourceVersion", "rv"),
    ]
}

fn with(mut steps: Vec<Step>, more: Vec<Step>) -> Vec<Step> {
    steps.extend(more);
    steps
}

fn names(s: Step, names: &[&str]) -> Step {
    let mut s = s.items(names.len());
    for (i, n) in names.iter().enumerate() {
        s = s.f(&format!("/items/{i}/metadata/name"), *n);
    }
    s
}

pub fn cases() -> Vec<Case> {
    vec![
        case("a list answers the List kind with the current resourceVersion", CONCEPTS_RV, with(three(), vec![
            names(get(CMS).code(200).f("/kind", "ConfigMapList").f("/apiVersion", "v1")
                .f("/metadata/resourceVersion", "$rv"), &["a", "b", "c"]),
        ])),
        case("a list of a custom resource answers its List kind", CONCEPTS_RV, vec![
            post(WIDGETS, widget("w")),
            get(WIDGETS).code(200).f("/kind", "WidgetList").f("/apiVersion", "example.com/v1").items(1),
        ]),
        case("items of a built-in list carry no kind or apiVersion", "staging/src/k8s.io/api/core/v1/types.go: ConfigMapList (typed items, TypeMeta empty)", with(three(), vec![
            get(CMS).code(200).absent("/items/0/kind").absent("/items/0/apiVersion"),
        ])).gap("list items are the stored objects, shared without a copy; stripping kind and apiVersion would copy every item on a hot path"),
        case("a list of an empty collection has no items", CONCEPTS_RV, vec![
            get(CMS).code(200).items(0).f("/metadata/resourceVersion", "1"),
        ]),
        case("a list across all namespaces has every namespace's objects", "API Concepts: Resource URIs", vec![
            post(CMS, cm("a")),
            post("/api/v1/namespaces/other/configmaps", cm("b")),
            names(get("/api/v1/configmaps").code(200), &["a", "b"]),
        ]),
        case("a list in one namespace has only its objects", "API Concepts: Resource URIs", vec![
            post(CMS, cm("a")),
            post("/api/v1/namespaces/other/configmaps", cm("b")),
            names(get("/api/v1/namespaces/other/configmaps").code(200), &["b"]),
        ]),
        case("a label selector with equality filters items", "staging/src/k8s.io/apimachinery/pkg/labels/selector.go: Parse", with(three(), vec![
            names(get(&format!("{CMS}?labelSelector=app%3Dweb")).code(200), &["a"]),
        ])),
        case("a label selector with != keeps objects without the label", "staging/src/k8s.io/apimachinery/pkg/labels/selector.go: Requirement.Matches", with(three(), vec![
            names(get(&format!("{CMS}?labelSelector=app!%3Dweb")).code(200), &["b", "c"]),
        ])),
        case("a set-based label selector matches values in the set", "staging/src/k8s.io/apimachinery/pkg/labels/selector.go: Requirement.Matches (In)", with(three(), vec![
            names(get(&format!("{CMS}?labelSelector=app%20in%20(web,db)")).code(200), &["a", "b"]),
        ])),
        case("an existence label selector matches objects with the key", "staging/src/k8s.io/apimachinery/pkg/labels/selector.go: Requirement.Matches (Exists)", with(three(), vec![
            names(get(&format!("{CMS}?labelSelector=app")).code(200), &["a", "b"]),
        ])),
        case("a negated existence selector matches objects without the key", "staging/src/k8s.io/apimachinery/pkg/labels/selector.go: Requirement.Matches (DoesNotExist)", with(three(), vec![
            names(get(&format!("{CMS}?labelSelector=!app")).code(200), &["c"]),
        ])),
        case("several label requirements are ANDed", "staging/src/k8s.io/apimachinery/pkg/labels/selector.go: internalSelector.Matches", with(three(), vec![
            names(get(&format!("{CMS}?labelSelector=app%3Dweb,tier%3D1")).code(200), &["a"]),
        ])),
        case("a label selector that does not parse is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go: ListResource (DecodeParameters)", vec![
            get(&format!("{CMS}?labelSelector=a%20in%20b")).status(400, "BadRequest"),
        ]),
        case("a metadata.name field selector filters items", "pkg/registry/core/configmap/strategy.go: GetAttrs (DefaultClusterScopeAttr)", with(three(), vec![
            names(get(&format!("{CMS}?fieldSelector=metadata.name%3Db")).code(200), &["b"]),
        ])),
        case("a metadata.namespace field selector filters items", "staging/src/k8s.io/apiserver/pkg/registry/generic/matcher.go: ObjectMetaFieldsSet", vec![
            post(CMS, cm("a")),
            post("/api/v1/namespaces/other/configmaps", cm("b")),
            names(get("/api/v1/configmaps?fieldSelector=metadata.namespace%3Dother").code(200), &["b"]),
        ]),
        case("an unsupported field selector is 400", "staging/src/k8s.io/apimachinery/pkg/runtime/scheme.go: ConvertFieldLabel; handlers/get.go", vec![
            get(&format!("{CMS}?fieldSelector=spec.foo%3Dx")).status(400, "BadRequest"),
        ]),
        case("limit answers one page with a continue token and remainingItemCount", CHUNKS, with(three(), vec![
            names(get(&format!("{CMS}?limit=2")).code(200).f("/metadata/remainingItemCount", 1)
                .f("/metadata/resourceVersion", "$rv").save("/metadata/continue", "c1"), &["a", "b"]),
            names(get(&format!("{CMS}?limit=2&continue=$c1")).code(200).absent("/metadata/continue")
                .absent("/metadata/remainingItemCount").f("/metadata/resourceVersion", "$rv"), &["c"]),
        ])),
        case("pages after a write still show the first page's snapshot", CHUNKS, with(three(), vec![
            get(&format!("{CMS}?limit=1")).code(200).save("/metadata/continue", "c1"),
            post(CMS, cm("bb")),
            names(get(&format!("{CMS}?limit=5&continue=$c1")).code(200).f("/metadata/resourceVersion", "$rv"), &["b", "c"]),
        ])),
        case("a limit with a label selector has no remainingItemCount", "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: store.GetList (remainingItemCount only without a selector)", with(three(), vec![
            names(get(&format!("{CMS}?limit=1&labelSelector=app")).code(200).absent("/metadata/remainingItemCount")
                .save("/metadata/continue", "c1"), &["a"]),
            names(get(&format!("{CMS}?limit=1&labelSelector=app&continue=$c1")).code(200), &["b"]),
        ])),
        case("limit=0 means no limit", CHUNKS, with(three(), vec![
            get(&format!("{CMS}?limit=0")).code(200).items(3).absent("/metadata/continue"),
        ])),
        case("a continue token that does not decode is 400", "staging/src/k8s.io/apiserver/pkg/storage/continue.go: DecodeContinue", vec![
            get(&format!("{CMS}?limit=1&continue=garbage")).status(400, "BadRequest"),
        ]),
        case("a continue token with a resourceVersion is 400", "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: store.GetList", with(three(), vec![
            get(&format!("{CMS}?limit=1")).code(200).save("/metadata/continue", "c1"),
            get(&format!("{CMS}?limit=1&continue=$c1&resourceVersion=$rv")).status(400, "BadRequest")
                .msg("specifying resource version is not allowed when using continue"),
        ])),
        case("a continue token older than the compacted revision is 410 carrying a fresh continue", ETCD, with(three(), vec![
            get(&format!("{CMS}?limit=1")).code(200).save("/metadata/continue", "c1"),
            post(CMS, cm("d")),
            compact(),
            get(&format!("{CMS}?limit=1&continue=$c1")).status(410, "Expired").msg(INCONSISTENT)
                .save("/metadata/continue", "c2"),
            names(get(&format!("{CMS}?limit=5&continue=$c2")).code(200), &["b", "c", "d"]),
        ])),
        case("resourceVersionMatch without resourceVersion is 422", LISTOPTS, vec![
            get(&format!("{CMS}?resourceVersionMatch=NotOlderThan")).status(422, "Invalid")
                .msg("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")
                .f("/details/group", "meta.k8s.io").f("/details/kind", "ListOptions").absent("/details/name")
                .cause(0, "FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided", "resourceVersionMatch"),
        ]),
        case("resourceVersionMatch=Exact with resourceVersion 0 is 422", LISTOPTS, vec![
            get(&format!("{CMS}?resourceVersion=0&resourceVersionMatch=Exact")).status(422, "Invalid")
                .msg("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""),
        ]),
        case("an unknown resourceVersionMatch is 422 Unsupported value", LISTOPTS, vec![
            get(&format!("{CMS}?resourceVersion=1&resourceVersionMatch=Newest")).status(422, "Invalid")
                .msg("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\""),
        ]),
        case("resourceVersionMatch with continue is 422", LISTOPTS, with(three(), vec![
            get(&format!("{CMS}?limit=1")).code(200).save("/metadata/continue", "c1"),
            get(&format!("{CMS}?limit=1&continue=$c1&resourceVersionMatch=NotOlderThan")).status(422, "Invalid")
                .f("/details/causes/0/message", "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")
                .f("/details/causes/1/message", "Forbidden: resourceVersionMatch is forbidden when continue is provided"),
        ])),
        case("sendInitialEvents on a list is 422", LISTOPTS, vec![
            get(&format!("{CMS}?sendInitialEvents=true")).status(422, "Invalid")
                .msg("ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"),
        ]),
        case("an Exact list at an older revision answers that revision's state", CONCEPTS_RV, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv1"),
            post(CMS, cm("b")),
            names(get(&format!("{CMS}?resourceVersion=$rv1&resourceVersionMatch=Exact")).code(200)
                .f("/metadata/resourceVersion", "$rv1"), &["a"]),
        ]),
        case("an Exact list at a compacted revision is 410 Expired", ETCD, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv1"),
            post(CMS, cm("b")),
            compact(),
            get(&format!("{CMS}?resourceVersion=$rv1&resourceVersionMatch=Exact")).status(410, "Expired")
                .msg("The resourceVersion for the provided list is too old."),
        ]),
        case("a NotOlderThan list answers at least the given revision", CONCEPTS_RV, with(three(), vec![
            get(&format!("{CMS}?resourceVersion=$rv&resourceVersionMatch=NotOlderThan")).code(200).items(3)
                .f("/metadata/resourceVersion", "$rv"),
        ])),
        case("a list newer than the cache is 504 Timeout with retryAfterSeconds and a ResourceVersionTooLarge cause", "staging/src/k8s.io/apiserver/pkg/storage/errors.go: NewTooLargeResourceVersionError; cacher/watch_cache.go: waitUntilFreshAndBlock", vec![
            get(&format!("{CMS}?resourceVersion=1000")).status(504, "Timeout")
                .msg("Timeout: Too large resource version: 1000, current: 1")
                .f("/details/retryAfterSeconds", 1)
                .f("/details/causes/0/reason", "ResourceVersionTooLarge")
                .f("/details/causes/0/message", "Too large resource version")
                .absent("/details/causes/0/field"),
        ]),
        case("a list at resourceVersion 0 is served, possibly stale, from the watch cache", CONCEPTS_RV, with(three(), vec![
            get(&format!("{CMS}?resourceVersion=0")).code(200).items(3),
        ])),
        case("a list with a limit at an Exact revision pages that revision", CHUNKS, vec![
            post(CMS, cm("a")),
            post(CMS, cm("b")).save("/metadata/resourceVersion", "rv2"),
            post(CMS, cm("c")),
            names(get(&format!("{CMS}?limit=1&resourceVersion=$rv2&resourceVersionMatch=Exact")).code(200)
                .f("/metadata/resourceVersion", "$rv2").save("/metadata/continue", "c1"), &["a"]),
            names(get(&format!("{CMS}?limit=5&continue=$c1")).code(200), &["b"]),
        ]),
    ]
}
