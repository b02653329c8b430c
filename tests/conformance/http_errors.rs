//! HTTP-level errors: unknown paths, methods, media types, malformed bodies and options
//! (`endpoints/handlers`, go-restful's service errors as `apiserver.serviceErrorHandler` wraps them).

use crate::case::*;
use http::Method;
use serde_json::json;

const RESTFUL: &str = "staging/src/k8s.io/apiserver/pkg/server/handler.go: serviceErrorHandler (apierrors.NewGenericServerResponse)";
const CREATEOPTS: &str = "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go: createHandler (ValidateCreateOptions)";

pub fn cases() -> Vec<Case> {
    vec![
        case("an unknown resource is 404 with the generic message and empty details", RESTFUL, vec![
            get("/api/v1/namespaces/default/unknowns").status(404, "NotFound")
                .msg("the server could not find the requested resource").f("/details", json!({})),
        ]),
        case("an unknown group is 404", RESTFUL, vec![
            get("/apis/nope.example.com/v1/things").status(404, "NotFound")
                .msg("the server could not find the requested resource"),
        ]),
        case("an unknown subresource is 404", RESTFUL, vec![
            post(CMS, cm("a")),
            get(&at(CMS, "a/scale")).status(404, "NotFound"),
        ]),
        case("a namespaced resource without a namespace in a single-object path is 404", RESTFUL, vec![
            get("/api/v1/configmaps/a").status(404, "NotFound"),
        ]),
        case("a cluster-scoped resource under a namespace is 404", RESTFUL, vec![
            get("/apis/example.com/v1/namespaces/default/gadgets/g").status(404, "NotFound"),
        ]),
        case("POST to a single object is 405 with the generic message", RESTFUL, vec![
            post(CMS, cm("a")),
            post(&at(CMS, "a"), cm("a")).status(405, "MethodNotAllowed")
                .msg("the server does not allow this method on the requested resource"),
        ]),
        case("PUT to a collection is 405", RESTFUL, vec![
            put(CMS, cm("a")).status(405, "MethodNotAllowed")
                .msg("the server does not allow this method on the requested resource"),
        ]),
        case("PATCH to a collection is 405", RESTFUL, vec![
            merge(CMS, json!({})).status(405, "MethodNotAllowed"),
        ]),
        case("a patch of a built-in type with an unknown content type is 415 from go-restful", RESTFUL, vec![
            post(CMS, cm("a")),
            patch(&at(CMS, "a"), "text/plain", json!({})).status(415, "UnsupportedMediaType")
                .msg("415: Unsupported Media Type"),
        ]),
        case("a create body that is not JSON is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go: createHandler (decode error)", vec![
            raw(Method::POST, CMS, Some("application/json"), "{nope").status(400, "BadRequest"),
        ]),
        case("a create with an empty body is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go: createHandler", vec![
            raw(Method::POST, CMS, Some("application/json"), "").status(400, "BadRequest"),
        ]),
        case("a body over the limit is 413 RequestEntityTooLarge", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go: limitedReadBody", vec![
            raw(Method::POST, CMS, Some("application/json"), &format!("{{\"metadata\":{{\"name\":\"a\"}},\"data\":{{\"k\":\"{}\"}}}}", "x".repeat(70 * 1024)))
                .status(413, "RequestEntityTooLarge").msg("Request entity too large: limit is 65536"),
        ]),
        case("a limit that is not a number is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go: ListResource (DecodeParameters)", vec![
            get(&format!("{CMS}?limit=abc")).status(400, "BadRequest"),
        ]),
        case("a timeoutSeconds that is not a number is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go: ListResource (DecodeParameters)", vec![
            get(&format!("{CMS}?watch=true&timeoutSeconds=soon")).status(400, "BadRequest"),
        ]),
        case("an unknown propagationPolicy in the query is 422", "staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go: BeforeDelete (ValidateDeleteOptions)", vec![
            post(CMS, cm("a")),
            delete(&format!("{}?propagationPolicy=Now", at(CMS, "a"))).status(422, "Invalid")
                .f("/details/kind", "DeleteOptions").f("/details/causes/0/field", "propagationPolicy"),
        ]),
        case("an unknown dryRun value on create is 422 Invalid CreateOptions", CREATEOPTS, vec![
            post(&format!("{CMS}?dryRun=Bogus"), cm("a")).status(422, "Invalid")
                .msg("CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Bogus\"]: supported values: \"All\"")
                .f("/details/kind", "CreateOptions"),
        ]),
        case("watch=true on a single-object path is an ordinary get", "staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go: RequestInfoFactory.NewRequestInfo", vec![
            post(CMS, cm("a")),
            get(&format!("{}?watch=true", at(CMS, "a"))).code(200).f("/metadata/name", "a"),
        ]),
        case("a delete body that is not JSON is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go: DeleteResource", vec![
            post(CMS, cm("a")),
            raw(Method::DELETE, &at(CMS, "a"), Some("application/json"), "{nope").status(400, "BadRequest"),
        ]),
        case("an error Status body has kind Status, apiVersion v1 and empty metadata", "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go: Status", vec![
            get(&at(CMS, "x")).status(404, "NotFound").f("/metadata", json!({})),
        ]),
        case("a create with a kind that does not match the resource is 400", "staging/src/k8s.io/apimachinery/pkg/runtime/serializer/versioning/versioning.go: codec.Decode (into a typed object)", vec![
            post(CMS, json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}})).status(400, "BadRequest"),
        ]),
    ]
}
