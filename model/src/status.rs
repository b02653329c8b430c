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
}

impl StatusReason {
    /// The wire spelling of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequest",
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
        }
    }

    /// The HTTP status code the API server answers with for this reason.
    pub fn code(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::NotFound => 404,
            Self::AlreadyExists | Self::Conflict => 409,
            Self::Expired => 410,
            Self::Invalid => 422,
            Self::MethodNotAllowed => 405,
            Self::RequestEntityTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::TooManyRequests => 429,
            Self::InternalError => 500,
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
        }
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

    /// The `metav1.Status` JSON body the API server writes for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason.as_str(),
            "code": self.code(),
        });
        if self.name.is_some() || self.kind.is_some() {
            let mut details = serde_json::Map::new();
            if let Some(n) = &self.name {
                details.insert("name".into(), json!(n));
            }
            if let Some(g) = &self.group {
                if !g.is_empty() {
                    details.insert("group".into(), json!(g));
                }
            }
            if let Some(k) = &self.kind {
                details.insert("kind".into(), json!(k));
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
