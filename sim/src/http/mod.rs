//! The HTTP front of an API server replica: REST paths and query parameters in, JSON and
//! `metav1.Status` out, watches as streamed newline-delimited JSON. It parses and validates what
//! the client sent (never trusting it: every malformed input is a status error, never a panic),
//! records the request and response in the history, and hands the parsed request to the core.
//!
//! - [`route`]: REST paths.
//! - [`query`]: query parameters.
//! - [`body`]: response bodies.
//! - `answer.rs`: what the core answers (an object, or a list whose items stay shared).
//! - [`watch`]: watch streams.
//! - [`discovery`]: `/api`, `/apis`, group versions and `/version`, for kubectl.
//! - [`table`]: `Table` answers for clients that ask for server-side printing (kubectl get).
//! - [`server`]: the replica's host loop (accept, serve each connection).

mod answer;
pub mod body;
pub mod discovery;
pub mod options;
pub mod query;
pub mod route;
pub mod server;
pub mod table;
pub mod watch;

use crate::api::{ApiRequest, DeleteOptions, PatchType, Verb};
use crate::apiserver::replica::Replica;
use crate::clock;
use crate::plan::targeted::{Action, Respond};
use answer::Answer;
use body::Body;
use bytes::Bytes;
use http::{header, Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use kubesim_model::{ApiError, EventKind, StatusReason};
use serde_json::Value;
use std::sync::Arc;

/// The client host of a request (turmoil's reverse DNS of the connection's peer), put in the
/// request's extensions by the replica's accept loop; targeted faults select on it.
#[derive(Debug, Clone)]
pub struct Peer(pub Arc<str>);

/// A response extension that tells the replica to reset the connection instead of answering
/// (a targeted fault's `reset`). As a service error, it makes hyper drop the connection.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("connection reset by a fault plan")]
pub struct ResetConnection;

/// Serves one request on `replica`; `conn` numbers the connection for the history.
pub async fn handle<B>(replica: &Arc<Replica>, conn: u64, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let peer = req
        .extensions()
        .get::<Peer>()
        .map(|p| p.0.clone())
        .unwrap_or_else(|| "".into());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    // Server-side printing (kubectl get): decided once, no copy of the header.
    let as_table = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(table::wanted);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.split(';').next().unwrap_or("").trim().to_string());
    let max_body_bytes = replica.cluster.config.store.max_body_bytes;
    let body = match Limited::new(req.into_body(), max_body_bytes)
        .collect()
        .await
    {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            let err = if e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::new(
                    StatusReason::RequestEntityTooLarge,
                    format!("Request entity too large: limit is {max_body_bytes}"),
                )
            } else {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
            };
            return reject(replica, conn, &method, &path, err);
        }
    };
    let request = match parse(
        replica,
        &method,
        &path,
        &raw_query,
        content_type.as_deref(),
        &body,
    ) {
        Ok(r) => r,
        // Discovery paths are not resource paths: they reach here as a 404 of the route, and
        // are read from the registry, unrecorded (they are not resource requests).
        Err(e) if method == Method::GET && e.code() == 404 => {
            let doc = discovery::document(&replica.cluster.state(), &path);
            return match doc {
                Some(doc) => body::json(200, &doc),
                None => reject(replica, conn, &method, &path, e),
            };
        }
        Err(e) => return reject(replica, conn, &method, &path, e),
    };
    let recorder = &replica.cluster.recorder;
    let target = request.target();
    let rv = request
        .list
        .resource_version
        .clone()
        .or_else(|| body_resource_version(request.body.as_ref()));
    recorder.record(
        &replica.name,
        EventKind::Request {
            conn,
            verb: request.verb.as_str().into(),
            target: target.clone(),
            subresource: request.status.then(|| "status".to_string()),
            rv,
        },
    );
    // A fault plan's targeted faults come first: they are aimed at this very request.
    let mut planned = None;
    if let Some(hit) = replica.faults.targeted(&peer, &request) {
        let what = match &hit.action {
            Action::Fail(Respond::Status(code)) => {
                let e = planned_error(*code);
                let what = format!("{} {}", e.code(), e.reason);
                planned = Some(e);
                what
            }
            Action::Fail(Respond::Reset) => "reset".into(),
            Action::Delay(d) => format!("delay {}ms", d.as_millis()),
            Action::Drop => "drop".into(),
            Action::CrashAfterWrite { .. } => {
                unreachable!("invariant: crash entries count writes, not requests")
            }
        };
        recorder.record(
            &replica.name,
            EventKind::Fault {
                text: format!("plan c{conn} {what} (targeted[{}] {})", hit.index, hit.text),
            },
        );
        match hit.action {
            Action::Fail(Respond::Reset) => {
                let mut resp = body::error(&ApiError::internal("connection reset"));
                resp.extensions_mut().insert(ResetConnection);
                return resp;
            }
            Action::Delay(d) => tokio::time::sleep(d).await,
            Action::Drop => return std::future::pending().await,
            _ => {}
        }
    }
    if request.verb == Verb::Watch {
        return match planned {
            Some(e) if e.code() == 410 => watch::expired(replica, &request, &e),
            Some(e) => {
                recorder.record(
                    &replica.name,
                    EventKind::Response {
                        conn,
                        verb: request.verb.as_str().into(),
                        target,
                        code: e.code(),
                        rv: None,
                        reason: Some(e.reason.as_str().to_string()),
                    },
                );
                body::error(&e)
            }
            None => watch::start(replica, conn, request).await,
        };
    }
    if let Some(d) = replica.faults.delay() {
        recorder.record(
            &replica.name,
            EventKind::Fault {
                text: format!("slow c{conn} {}ms", d.as_millis()),
            },
        );
        tokio::time::sleep(d).await;
    }
    // The seeded injections are drawn whatever the plan hit, so their sequence stays the seed's.
    let conditional = matches!(request.verb, Verb::Update | Verb::Patch)
        && body_resource_version(request.body.as_ref()).is_some();
    let injected =
        replica
            .faults
            .error_for(request.verb, &request.resource.short_name(), conditional);
    let mut outcome = crate::api::Outcome::Other;
    let result = match (planned, injected) {
        (Some(e), _) => Err(e),
        (None, Some(e)) => {
            recorder.record(
                &replica.name,
                EventKind::Fault {
                    text: format!("inject c{conn} {} {}", e.code(), e.reason),
                },
            );
            Err(e)
        }
        (None, None) => serve(replica, &request, &mut outcome),
    };
    if result.is_ok() && is_write(request.verb) {
        replica.faults.count_write(&peer, &request);
    }
    let code = match (&result, outcome) {
        (Ok(_), crate::api::Outcome::Created) => 201,
        (Ok(_), _) => 200,
        (Err(e), _) => e.code(),
    };
    recorder.record(
        &replica.name,
        EventKind::Response {
            conn,
            verb: request.verb.as_str().into(),
            target,
            code,
            rv: result.as_ref().ok().and_then(Answer::resource_version),
            reason: result.as_ref().err().map(|e| e.reason.as_str().to_string()),
        },
    );
    match result {
        Ok(v) if as_table && matches!(request.verb, Verb::Get | Verb::List) => body::json(
            code,
            &table::convert(&request.resource, &v.to_value(), replica.now()),
        ),
        Ok(v)
            if outcome == crate::api::Outcome::Deleted
                && request.verb == Verb::Delete
                && !request.resource.return_deleted_object =>
        {
            body::json(code, &deleted_status(&request, &v.to_value()))
        }
        Ok(Answer::Object(v)) => body::json(code, &*v),
        Ok(Answer::List(l)) => body::json(code, &l),
        Err(e) => body::error(&e),
    }
}

/// The store's `finalizeDelete` answer for types without `ReturnDeletedObject`: a `Success`
/// Status naming what was deleted (`details.kind` is the resource, as the store fills it).
fn deleted_status(request: &ApiRequest, deleted: &Value) -> Value {
    let meta = deleted.get("metadata");
    let field = |f: &str| meta.and_then(|m| m.get(f)).cloned();
    let mut details = serde_json::Map::new();
    if let Some(n) = field("name") {
        details.insert("name".into(), n);
    }
    if !request.resource.group.is_empty() {
        details.insert("group".into(), Value::from(request.resource.group.as_str()));
    }
    details.insert("kind".into(), Value::from(request.resource.plural.as_str()));
    if let Some(u) = field("uid") {
        details.insert("uid".into(), u);
    }
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

/// The error a fault plan answers with `code` (texts as kube-apiserver words them).
fn planned_error(code: u16) -> ApiError {
    match code {
        409 => ApiError::new(
            StatusReason::Conflict,
            format!("Operation cannot be fulfilled: {}", ApiError::OPTIMISTIC_LOCK),
        ),
        410 => ApiError::new(
            StatusReason::Expired,
            "too old resource version: injected by a fault plan",
        ),
        429 => ApiError::new(
            StatusReason::TooManyRequests,
            "Too many requests, please try again later.",
        ),
        504 => ApiError::new(
            StatusReason::Timeout,
            "Timeout: request did not complete within requested timeout - context deadline exceeded",
        ),
        _ => ApiError::internal("Internal error occurred: injected by a fault plan"),
    }
}

fn is_write(verb: Verb) -> bool {
    matches!(
        verb,
        Verb::Create | Verb::Update | Verb::Patch | Verb::Delete | Verb::DeleteCollection
    )
}

/// Answers a non-watch request: `resourceVersion=0` lists from this replica's watch cache
/// (possibly stale, as on a real cluster), everything else from storage.
fn serve(
    replica: &Replica,
    request: &ApiRequest,
    outcome: &mut crate::api::Outcome,
) -> Result<Answer, ApiError> {
    if request.verb == Verb::List && request.list.resource_version.as_deref() == Some("0") {
        return replica.cache().list(request).map(Answer::List);
    }
    let now = clock::rfc3339(replica.now());
    let mut st = replica.cluster.state();
    let result = if request.verb == Verb::List {
        // What `apply` answers a list, without copying the items into a JSON value.
        *outcome = crate::api::Outcome::Other;
        st.list(request).map(Answer::List)
    } else {
        let result = st.apply(request, &now).map(Answer::Object);
        *outcome = st.outcome();
        result
    };
    replica.cluster.publish_commits(&mut st, &replica.name);
    result
}

/// Records and answers a request that failed before it reached the core.
fn reject(
    replica: &Replica,
    conn: u64,
    method: &Method,
    path: &str,
    e: ApiError,
) -> Response<Body> {
    let verb = method.as_str().to_ascii_lowercase();
    let recorder = &replica.cluster.recorder;
    recorder.record(
        &replica.name,
        EventKind::Request {
            conn,
            verb: verb.clone(),
            target: path.to_string(),
            subresource: None,
            rv: None,
        },
    );
    recorder.record(
        &replica.name,
        EventKind::Response {
            conn,
            verb,
            target: path.to_string(),
            code: e.code(),
            rv: None,
            reason: Some(e.reason.as_str().to_string()),
        },
    );
    body::error(&e)
}

/// go-restful's 405 as the apiserver's `serviceErrorHandler` words it.
fn method_not_allowed() -> ApiError {
    ApiError::generic(
        StatusReason::MethodNotAllowed,
        "the server does not allow this method on the requested resource",
    )
}

/// Parses method, path, query, content type and body into an [`ApiRequest`].
fn parse(
    replica: &Replica,
    method: &Method,
    path: &str,
    raw_query: &str,
    content_type: Option<&str>,
    body: &Bytes,
) -> Result<ApiRequest, ApiError> {
    let route = route::parse(path)?;
    let q = query::parse(raw_query)?;
    let resource = replica
        .cluster
        .state()
        .resolve(&route.group, &route.version, &route.plural)
        .cloned()
        .ok_or_else(route::not_found)?;
    let has_name = route.name.is_some();
    let verb = match (method, has_name) {
        // requestinfo.go: watch=true on a single-object path is an ordinary get.
        (&Method::GET, true) => Verb::Get,
        (&Method::GET, false) if q.watch => Verb::Watch,
        (&Method::GET, false) => Verb::List,
        (&Method::POST, false) => Verb::Create,
        (&Method::PUT, true) => Verb::Update,
        (&Method::PATCH, true) => Verb::Patch,
        (&Method::DELETE, true) => Verb::Delete,
        (&Method::DELETE, false) => Verb::DeleteCollection,
        _ => return Err(method_not_allowed()),
    };
    // Scope: a namespaced type needs a namespace except for collection reads across namespaces;
    // a cluster-scoped type has none.
    let collection_read = matches!(verb, Verb::List | Verb::Watch);
    if (resource.namespaced && route.namespace.is_none() && !collection_read)
        || (!resource.namespaced && route.namespace.is_some())
        || (route.status && !resource.status_subresource)
    {
        return Err(route::not_found());
    }
    let mut req = ApiRequest::new(
        verb,
        resource,
        route.namespace.as_deref(),
        route.name.as_deref(),
    );
    req.status = route.status;
    req.list = q.list.clone();
    req.delete = q.delete.clone();
    req.field_manager = q.field_manager.clone();
    req.force = q.force;
    req.dry_run = !q.dry_run.is_empty();
    match verb {
        Verb::List | Verb::Watch => options::list(&q, verb == Verb::Watch)?,
        Verb::Create => options::write(&q, "CreateOptions")?,
        Verb::Update => options::write(&q, "UpdateOptions")?,
        Verb::Patch => {
            let t = patch_type(content_type, req.resource.strategic_merge_patch)?;
            options::patch(&q, t)?;
            req.patch_type = Some(t);
        }
        Verb::Delete | Verb::DeleteCollection => {
            req.delete.errors.extend(options::dry_run_error(&q));
        }
        Verb::Get => {}
    }
    match verb {
        Verb::Create | Verb::Update | Verb::Patch => {
            req.body = Some(json_body(body, verb == Verb::Patch)?);
        }
        Verb::Delete | Verb::DeleteCollection => {
            let mut orphan = q.orphan_dependents;
            if !body.is_empty() {
                let opts = json_body(body, false)?;
                merge_delete_options(&mut req.delete, &opts)?;
                orphan = orphan.or(opts.get("orphanDependents").and_then(Value::as_bool));
            }
            if orphan.is_some() {
                if let Some(p) = req.delete.propagation {
                    req.delete.errors.push(format!(
                        "propagationPolicy: Invalid value: {:?}: orphanDependents and deletionPropagation cannot be both set",
                        query::propagation_name(p)
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(req)
}

/// The patch type of a content type. A type the route does not consume is a 415: for built-in
/// types go-restful's own (`415: Unsupported Media Type`, through `serviceErrorHandler`), for
/// custom resources the patch handler's `errUnsupportedMediaType`, which lists what it takes
/// (no strategic merge patch).
fn patch_type(content_type: Option<&str>, strategic: bool) -> Result<PatchType, ApiError> {
    match content_type {
        Some("application/merge-patch+json") => Ok(PatchType::Merge),
        Some("application/json-patch+json") => Ok(PatchType::Json),
        Some("application/strategic-merge-patch+json") if strategic => Ok(PatchType::StrategicMerge),
        Some("application/apply-patch+yaml") => Ok(PatchType::Apply),
        _ if strategic => Err(ApiError::generic(
            StatusReason::UnsupportedMediaType,
            "415: Unsupported Media Type",
        )),
        _ => Err(ApiError::new(
            StatusReason::UnsupportedMediaType,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        )),
    }
}

/// Decodes a JSON body; objects only, except JSON patches which are arrays.
fn json_body(body: &Bytes, allow_array: bool) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; an object is required",
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    match &v {
        Value::Object(_) => Ok(v),
        Value::Array(_) if allow_array => Ok(v),
        _ => Err(ApiError::bad_request(
            "the request body must be a JSON object",
        )),
    }
}

/// Merges a `DeleteOptions` body into the options from the query.
fn merge_delete_options(opts: &mut DeleteOptions, body: &Value) -> Result<(), ApiError> {
    let field = |v: &Value, name: &str| -> Result<Option<String>, ApiError> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ApiError::bad_request(format!(
                "DeleteOptions.{name} must be a string, got {other}"
            ))),
        }
    };
    if let Some(p) = field(body, "propagationPolicy")? {
        match query::propagation(&p) {
            Ok(p) => opts.propagation = Some(p),
            Err(_) => opts.errors.push(query::propagation_not_supported(&p)),
        }
    }
    if let Some(pre) = body.get("preconditions") {
        if !pre.is_null() && !pre.is_object() {
            return Err(ApiError::bad_request(
                "DeleteOptions.preconditions must be an object",
            ));
        }
        if let Some(uid) = field(pre, "uid")? {
            opts.precondition_uid = Some(uid);
        }
        if let Some(rv) = field(pre, "resourceVersion")? {
            opts.precondition_resource_version = Some(rv);
        }
    }
    Ok(())
}

fn body_resource_version(body: Option<&Value>) -> Option<String> {
    body?
        .get("metadata")?
        .get("resourceVersion")?
        .as_str()
        .map(str::to_string)
}

fn object_resource_version(v: &Value) -> Option<u64> {
    v.get("metadata")?
        .get("resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}
