//! Validation of request options as the handlers do it before the registry sees the request
//! (apimachinery `pkg/apis/meta/internalversion/validation` for list and watch options,
//! `pkg/apis/meta/v1/validation` for create, update, patch and delete options). Failures are
//! 422 Invalid errors on the options kind, `ListOptions.meta.k8s.io "" is invalid: ...`.

use super::query::Query;
use crate::api::PatchType;
use kubesim_model::ApiError;

/// `FieldManagerMaxLength`.
const FIELD_MANAGER_LEN_MAX: usize = 128;

fn invalid(kind: &str, errs: &[String]) -> Result<(), ApiError> {
    if errs.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        &format!("{kind}.meta.k8s.io"),
        "meta.k8s.io",
        "",
        errs,
    ))
    .map_err(|mut e| {
        e.kind = Some(kind.to_string());
        e
    })
}

/// The error of a `resourceVersionMatch` beside a continue token, for lists and watches alike.
const CONTINUE_FORBIDDEN: &str = "resourceVersionMatch is forbidden when continue is provided";

/// `ValidateListOptions` (with the WatchList feature on, as it is by default).
pub fn list(q: &Query, watch: bool) -> Result<(), ApiError> {
    let mut errs = Vec::new();
    let forbidden = |m: &str| format!("resourceVersionMatch: Forbidden: {m}");
    let rv_match = q.resource_version_match.as_deref();
    let continued = q
        .list
        .continue_token
        .as_deref()
        .is_some_and(|c| !c.is_empty());
    if watch {
        if q.send_initial_events.is_some() && rv_match != Some("NotOlderThan") {
            errs.push(forbidden(
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if let Some(m) = rv_match {
            if q.send_initial_events.is_none() {
                errs.push(forbidden(
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            if m != "NotOlderThan" {
                errs.push(format!(
                    "resourceVersionMatch: Unsupported value: {m:?}: supported values: \"NotOlderThan\""
                ));
            }
            if continued {
                errs.push(forbidden(CONTINUE_FORBIDDEN));
            }
        }
        return invalid("ListOptions", &errs);
    }
    if let Some(m) = rv_match {
        let rv = q.list.resource_version.as_deref().unwrap_or("");
        if rv.is_empty() {
            errs.push(forbidden(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if continued {
            errs.push(forbidden(CONTINUE_FORBIDDEN));
        }
        if m != "Exact" && m != "NotOlderThan" {
            errs.push(format!(
                "resourceVersionMatch: Unsupported value: {m:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
            ));
        }
        if m == "Exact" && rv == "0" {
            errs.push(forbidden(
                "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
    }
    if q.send_initial_events.is_some() {
        errs.push("sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list".into());
    }
    invalid("ListOptions", &errs)
}

/// `ValidateDryRun`: the field error for values other than `All`, if any.
pub fn dry_run_error(q: &Query) -> Option<String> {
    if q.dry_run.iter().all(|v| v == "All") {
        return None;
    }
    let values: Vec<String> = q.dry_run.iter().map(|v| format!("{v:?}")).collect();
    Some(format!(
        "dryRun: Unsupported value: [{}]: supported values: \"All\"",
        values.join(",")
    ))
}

/// `ValidateFieldManager`.
fn field_manager_errors(q: &Query) -> Vec<String> {
    let mut errs = Vec::new();
    if let Some(m) = &q.field_manager {
        if m.len() > FIELD_MANAGER_LEN_MAX {
            errs.push(format!(
                "fieldManager: Too long: may not be more than {FIELD_MANAGER_LEN_MAX} bytes"
            ));
        }
    }
    errs
}

/// `ValidateCreateOptions` / `ValidateUpdateOptions` (`kind` is `CreateOptions` or
/// `UpdateOptions`).
pub fn write(q: &Query, kind: &str) -> Result<(), ApiError> {
    let mut errs = field_manager_errors(q);
    errs.extend(dry_run_error(q));
    invalid(kind, &errs)
}

/// `ValidatePatchOptions`.
pub fn patch(q: &Query, patch_type: PatchType) -> Result<(), ApiError> {
    let mut errs = Vec::new();
    if patch_type == PatchType::Apply {
        if q.field_manager.as_deref().unwrap_or("").is_empty() {
            errs.push("fieldManager: Required value: is required for apply patch".to_string());
        }
    } else if q.force_given {
        errs.push("force: Forbidden: may not be specified for non-apply patch".to_string());
    }
    errs.extend(field_manager_errors(q));
    errs.extend(dry_run_error(q));
    invalid("PatchOptions", &errs)
}
