//! `metav1.Status` errors, with the codes, reasons and messages of the real API server
//! (k8s.io/apimachinery `pkg/api/errors/errors.go`). Clients branch on these, so they are part of
//! the contract.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

/// `metav1.StatusReason`: the machine-readable cause of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StatusReason {
    /// 400.
    BadRequest,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409 on create of an existing name.
    AlreadyExists,
    /// 409 on a stale resourceVersion or a failed precondition.
    Conflict,
    /// 410: a resourceVersion or continue token older than the retained history.
    Expired,
    /// 422: the object fails validation.
    Invalid,
    /// 405.
    MethodNotAllowed,
    /// 413.
    RequestEntityTooLarge,
    /// 415.
    UnsupportedMediaType,
    /// 429.
    TooManyRequests,
    /// 500.
    InternalError,
    /// 504.
    Timeout,
    /// 503.
    ServiceUnavailable,
    /// 500 with an empty reason (`metav1.StatusReasonUnknown`): what the apiserver answers for
    /// an error that is not an API status (`responsewriters.ErrorToAPIStatus`).
    Unknown,
}

impl StatusReason {
    /// The wire spelling of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequest",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "NotFound",
            Self::AlreadyExists => "AlreadyExists",
            Self::Conflict => "Conflict",
            Self::Expired => "Expired",
            Self::Invalid => "Invalid",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::TooManyRequests => "TooManyRequests",
            Self::InternalError => "InternalError",
            Self::Timeout => "Timeout",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::Unknown => "",
        }
    }

    /// The HTTP status code the API server answers with for this reason.
    pub fn code(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::AlreadyExists | Self::Conflict => 409,
            Self::Expired => 410,
            Self::Invalid => 422,
            Self::MethodNotAllowed => 405,
            Self::RequestEntityTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::TooManyRequests => 429,
            Self::InternalError | Self::Unknown => 500,
            Self::Timeout => 504,
            Self::ServiceUnavailable => 503,
        }
    }
}

/// A failed API request: what `kube::Error::Api` carries on the client side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message} ({} {})", reason.code(), reason.as_str())]
pub struct ApiError {
    /// Machine-readable reason; the HTTP code follows from it.
    pub reason: StatusReason,
    /// Human-readable message, worded as the real API server words it.
    pub message: String,
    /// `details.name`, when the error is about one object.
    pub name: Option<String>,
    /// `details.group`.
    pub group: Option<String>,
    /// `details.kind` (the plural resource name, as the API server fills it).
    pub kind: Option<String>,
    /// The rarer parts of a Status (`details.uid`, `details.causes`,
    /// `details.retryAfterSeconds`, `metadata.continue`), boxed to keep errors small.
    #[serde(default)]
    pub extra: Option<Box<StatusExtra>>,
}

/// The rarer parts of a `metav1.Status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusExtra {
    /// `details.uid`.
    pub uid: Option<String>,
    /// `details.causes`: one per field error of an Invalid, one per conflicting field of an
    /// apply conflict.
    pub causes: Vec<StatusCause>,
    /// `details.retryAfterSeconds`.
    pub retry_after_seconds: Option<u32>,
    /// `metadata.continue` of the Status (the 410 of a stale continue token carries a fresh one).
    pub continue_token: Option<String>,
}

/// `metav1.StatusCause`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    /// `reason` (`FieldValueInvalid`, `FieldManagerConflict`, ...); empty = omitted.
    pub reason: String,
    /// `message`.
    pub message: String,
    /// `field`; empty = omitted.
    pub field: String,
}

impl StatusCause {
    /// A cause from a field error's text `path: Body`, as `errors.NewInvalid` builds it
    /// (`field.Error.Type` as the reason, `ErrorBody()` as the message).
    pub fn from_field_error(text: &str) -> Self {
        let (field, body) = text.split_once(": ").unwrap_or(("", text));
        let reason = [
            ("Invalid value", "FieldValueInvalid"),
            ("Required value", "FieldValueRequired"),
            ("Forbidden", "FieldValueForbidden"),
            ("Unsupported value", "FieldValueNotSupported"),
            ("Duplicate value", "FieldValueDuplicate"),
            ("Too long", "FieldValueTooLong"),
            ("Too many", "FieldValueTooMany"),
            ("Not found", "FieldValueNotFound"),
            ("Internal error", "InternalError"),
        ]
        .iter()
        .find(|(prefix, _)| body.starts_with(prefix))
        .map(|(_, r)| *r)
        .unwrap_or("FieldValueInvalid");
        Self {
            reason: reason.to_string(),
            message: body.to_string(),
            field: field.to_string(),
        }
    }
}

/// `qualifiedResource.String()`: `plural` for the core group, `plural.group` otherwise.
fn qualified(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

impl ApiError {
    /// An error with a reason and message and no details.
    pub fn new(reason: StatusReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            name: None,
            group: None,
            kind: None,
            extra: None,
        }
    }

    /// The rarer Status parts, created empty on first use.
    pub fn extra_mut(&mut self) -> &mut StatusExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// `details.causes`.
    pub fn causes(&self) -> &[StatusCause] {
        self.extra.as_ref().map_or(&[], |x| x.causes.as_slice())
    }

    /// `errors.NewGenericServerResponse(code, "", GroupResource{}, "", message, 0, false)`: the
    /// answer go-restful's route errors get (404 unknown path, 405, 415): a generic message and
    /// an empty `details`.
    pub fn generic(reason: StatusReason, message: impl Into<String>) -> Self {
        let mut e = Self::new(reason, message);
        e.name = Some(String::new());
        e
    }

    /// `errors.NewApplyConflict(causes, message)`: 409 Conflict with only causes in details.
    pub fn apply_conflict(causes: Vec<StatusCause>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusReason::Conflict, message);
        e.extra_mut().causes = causes;
        e
    }

    fn about(mut self, plural: &str, group: &str, name: &str) -> Self {
        self.name = Some(name.to_string());
        self.group = Some(group.to_string());
        self.kind = Some(plural.to_string());
        self
    }

    /// The HTTP code.
    pub fn code(&self) -> u16 {
        self.reason.code()
    }

    /// 404: `configmaps "x" not found`.
    pub fn not_found(plural: &str, group: &str, name: &str) -> Self {
        let msg = format!("{} \"{name}\" not found", qualified(plural, group));
        Self::new(StatusReason::NotFound, msg).about(plural, group, name)
    }

    /// 403: `configmaps "x" is forbidden: <why>` (`errors.NewForbidden`).
    pub fn forbidden(plural: &str, group: &str, name: &str, why: &str) -> Self {
        let msg = format!(
            "{} \"{name}\" is forbidden: {why}",
            qualified(plural, group)
        );
        Self::new(StatusReason::Forbidden, msg).about(plural, group, name)
    }

    /// 409: `configmaps "x" already exists`.
    pub fn already_exists(plural: &str, group: &str, name: &str) -> Self {
        let msg = format!("{} \"{name}\" already exists", qualified(plural, group));
        Self::new(StatusReason::AlreadyExists, msg).about(plural, group, name)
    }

    /// 409: `Operation cannot be fulfilled on configmaps "x": <why>`.
    pub fn conflict(plural: &str, group: &str, name: &str, why: &str) -> Self {
        let msg = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            qualified(plural, group)
        );
        Self::new(StatusReason::Conflict, msg).about(plural, group, name)
    }

    /// The `why` of a stale-resourceVersion conflict (`registry.OptimisticLockErrorMsg`).
    pub const OPTIMISTIC_LOCK: &'static str =
        "the object has been modified; please apply your changes to the latest version and try again";

    /// 422: `ConfigMap "x" is invalid: <field errors>`.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: &[String]) -> Self {
        let joined = if causes.len() == 1 {
            causes[0].clone()
        } else {
            format!("[{}]", causes.join(", "))
        };
        let msg = format!("{kind} \"{name}\" is invalid: {joined}");
        let mut e = Self::new(StatusReason::Invalid, msg);
        e.name = Some(name.to_string());
        e.group = Some(group.to_string());
        e.kind = Some(kind.to_string());
        e.extra_mut().causes = causes
            .iter()
            .map(|c| StatusCause::from_field_error(c))
            .collect();
        e
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusReason::BadRequest, message)
    }

    /// 410: `too old resource version: <requested> (<oldest available>)`.
    pub fn too_old_resource_version(requested: u64, oldest: u64) -> Self {
        Self::new(
            StatusReason::Expired,
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// 500 with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusReason::InternalError, message)
    }

    /// The `metav1.Status` JSON body the API server writes for this error (empty strings and
    /// absent values omitted, as Go's `omitempty` does).
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code(),
        });
        if self.reason != StatusReason::Unknown {
            status["reason"] = json!(self.reason.as_str());
        }
        let extra = self.extra.as_deref();
        if let Some(c) = extra.and_then(|x| x.continue_token.as_ref()) {
            status["metadata"]["continue"] = json!(c);
        }
        let uid = extra.and_then(|x| x.uid.clone());
        let causes = self.causes();
        let retry = extra.and_then(|x| x.retry_after_seconds);
        let has_details = self.name.is_some()
            || self.kind.is_some()
            || self.group.is_some()
            || uid.is_some()
            || !causes.is_empty()
            || retry.is_some();
        if has_details {
            let mut details = serde_json::Map::new();
            for (key, value) in [
                ("name", &self.name),
                ("group", &self.group),
                ("kind", &self.kind),
                ("uid", &uid),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    details.insert(key.into(), json!(v));
                }
            }
            if !causes.is_empty() {
                let causes: Vec<Value> = causes
                    .iter()
                    .map(|c| {
                        let mut m = serde_json::Map::new();
                        if !c.reason.is_empty() {
                            m.insert("reason".into(), json!(c.reason));
                        }
                        if !c.message.is_empty() {
                            m.insert("message".into(), json!(c.message));
                        }
                        if !c.field.is_empty() {
                            m.insert("field".into(), json!(c.field));
                        }
                        Value::Object(m)
                    })
                    .collect();
                details.insert("causes".into(), Value::Array(causes));
            }
            if let Some(r) = retry.filter(|r| *r > 0) {
                details.insert("retryAfterSeconds".into(), json!(r));
            }
            status["details"] = Value::Object(details);
        }
        status
    }
}

impl fmt::Display for StatusReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_message_is_worded_as_the_api_server_words_it() {
        let e = ApiError::conflict(
            "leases",
            "coordination.k8s.io",
            "l",
            ApiError::OPTIMISTIC_LOCK,
        );
        assert_eq!(
            e.message,
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"l\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let s = e.to_status();
        assert_eq!(s["code"], 409);
        assert_eq!(s["reason"], "Conflict");
        assert_eq!(s["details"]["name"], "l");
    }

    #[test]
    fn not_found_and_expired_carry_their_codes() {
        assert_eq!(ApiError::not_found("configmaps", "", "a").code(), 404);
        assert_eq!(
            ApiError::not_found("configmaps", "", "a").message,
            "configmaps \"a\" not found"
        );
        let e = ApiError::too_old_resource_version(3, 10);
        assert_eq!(
            (e.code(), e.message.as_str()),
            (410, "too old resource version: 3 (10)")
        );
    }
}
