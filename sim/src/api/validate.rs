//! Validation messages worded as k8s.io/apimachinery words them (`util/validation`,
//! `util/validation/field`), and the 422 Invalid errors built from them.

use kubesim_model::{ApiError, ResourceType};

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/// `DNS1123LabelMaxLength`.
pub(crate) const DNS1123_LABEL_LEN_MAX: usize = 63;
/// `DNS1123SubdomainMaxLength`.
pub(crate) const DNS1123_SUBDOMAIN_LEN_MAX: usize = 253;

fn is_label(value: &str) -> bool {
    let b = value.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => ok(first) && ok(last) && b.iter().all(|c| ok(c) || *c == b'-'),
        _ => false,
    }
}

fn is_subdomain(value: &str) -> bool {
    value.split('.').all(is_label)
}

/// `RegexError(msg, fmt, examples...)`: each example is followed by `, `, and examples are
/// joined by ` or ` (hence the double space in `'MyName',  or 'my.name'`).
pub(crate) fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{msg} (e.g. {}regex used for validation is '{fmt}')",
        examples.join(" or ")
    )
}

/// `qualifiedNameFmt` and the name part's message.
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// `LabelValueMaxLength` and the name part's limit.
const LABEL_LEN_MAX: usize = 63;

fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            alnum(f) && alnum(l) && b.iter().all(|c| alnum(c) || b"-_.".contains(c))
        }
        _ => false,
    }
}

/// `IsQualifiedName`: the messages for an invalid label key, empty when valid.
fn qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let (prefix, name) = match value.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, value),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            errs.push("prefix part must be non-empty".to_string());
        } else {
            errs.extend(
                dns1123_subdomain(p)
                    .into_iter()
                    .map(|m| format!("prefix part {m}")),
            );
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > LABEL_LEN_MAX {
        errs.push(format!(
            "name part must be no more than {LABEL_LEN_MAX} bytes"
        ));
    }
    if !name.is_empty() && !is_qualified_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `ValidateLabels`: field errors for invalid label keys and values.
pub(crate) fn label_errors(labels: Option<&serde_json::Value>) -> Vec<String> {
    let Some(serde_json::Value::Object(labels)) = labels else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    for (k, v) in labels {
        for m in qualified_name(k) {
            errs.push(field_invalid("metadata.labels", k, &m));
        }
        let v = v.as_str().unwrap_or("");
        if v.len() > LABEL_LEN_MAX {
            errs.push(field_invalid(
                "metadata.labels",
                v,
                &format!("must be no more than {LABEL_LEN_MAX} bytes"),
            ));
        }
        if !v.is_empty() && !is_qualified_part(v) {
            let fmt = format!("({QUALIFIED_NAME_FMT})?");
            errs.push(field_invalid(
                "metadata.labels",
                v,
                &regex_error(LABEL_VALUE_ERR, &fmt, &["MyValue", "my_value", "12345"]),
            ));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`: the messages for an invalid value, empty when valid.
pub(crate) fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_LEN_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_SUBDOMAIN_LEN_MAX} characters"
        ));
    }
    if !is_subdomain(value) {
        let fmt = format!("{DNS1123_LABEL_FMT}(\\.{DNS1123_LABEL_FMT})*");
        errs.push(regex_error(DNS1123_SUBDOMAIN_ERR, &fmt, &["example.com"]));
    }
    errs
}

/// `IsDNS1123Label`: the messages for an invalid value, empty when valid.
pub(crate) fn dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_LEN_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_LABEL_LEN_MAX} characters"
        ));
    }
    if !is_label(value) {
        if is_subdomain(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// Go's `%q` for the strings we quote (close enough: Rust's `{:?}` escapes the same
/// characters for printable ASCII).
pub(crate) fn quote(value: &str) -> String {
    format!("{value:?}")
}

/// `field.Invalid(path, value, detail).Error()` for a string value.
pub(crate) fn field_invalid(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {}: {detail}", quote(value))
}

/// `field.Required(path, detail).Error()`.
pub(crate) fn field_required(path: &str, detail: &str) -> String {
    if detail.is_empty() {
        format!("{path}: Required value")
    } else {
        format!("{path}: Required value: {detail}")
    }
}

/// `field.Forbidden(path, detail).Error()`.
pub(crate) fn field_forbidden(path: &str, detail: &str) -> String {
    format!("{path}: Forbidden: {detail}")
}

/// `schema.GroupKind.String()`: `Kind` for the core group, `Kind.group` otherwise.
fn group_kind(kind: &str, group: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

fn invalid_with(kind: &str, group: &str, name: &str, causes: &[String]) -> ApiError {
    assert!(!causes.is_empty(), "invariant: an Invalid error has causes");
    let mut e = ApiError::invalid(&group_kind(kind, group), group, name, causes);
    e.kind = Some(kind.to_string());
    e
}

/// `errors.NewInvalid(kind.GroupKind(), name, errs)`: `ConfigMap "x" is invalid: ...`,
/// `Lease.coordination.k8s.io "x" is invalid: ...`.
pub(crate) fn invalid(t: &ResourceType, name: &str, causes: &[String]) -> ApiError {
    invalid_with(&t.kind, &t.group, name, causes)
}

/// The store's Invalid errors, which use the plural resource as the kind
/// (`leases.coordination.k8s.io "x" is invalid: ...`, see store.go Update).
pub(crate) fn invalid_resource(t: &ResourceType, name: &str, causes: &[String]) -> ApiError {
    invalid_with(&t.plural, &t.group, name, causes)
}

/// Invalid options (`ListOptions.meta.k8s.io "" is invalid: ...`).
pub(crate) fn invalid_options(kind: &str, causes: &[String]) -> ApiError {
    invalid_with(kind, "meta.k8s.io", "", causes)
}

/// Validates a name with the type's rule: DNS-1123 label for namespaces, DNS-1123 subdomain
/// otherwise; plus `path.ValidatePathSegmentName`. Returns field errors.
pub(crate) fn name_errors(t: &ResourceType, name: &str) -> Vec<String> {
    if name.is_empty() {
        return vec![field_required(
            "metadata.name",
            "name or generateName is required",
        )];
    }
    let msgs = if t.group.is_empty() && t.kind == "Namespace" {
        dns1123_label(name)
    } else {
        dns1123_subdomain(name)
    };
    let mut errs: Vec<String> = msgs
        .iter()
        .map(|m| field_invalid("metadata.name", name, m))
        .collect();
    if errs.is_empty() {
        for bad in ["/", "%"] {
            if name.contains(bad) {
                errs.push(field_invalid(
                    "metadata.name",
                    name,
                    &format!("may not contain '{bad}'"),
                ));
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subdomain_allows_dots_and_dashes_inside() {
        assert!(dns1123_subdomain("a.b-c.d1").is_empty());
        assert_eq!(dns1123_subdomain("Foo").len(), 1);
        assert_eq!(dns1123_subdomain("-a").len(), 1);
        assert_eq!(dns1123_subdomain("a.").len(), 1);
        assert_eq!(dns1123_subdomain(&"a".repeat(254)).len(), 1);
    }

    #[test]
    fn an_invalid_name_gets_the_apimachinery_message() {
        let e = invalid(
            &ResourceType::config_map(),
            "Bad_Name",
            &name_errors(&ResourceType::config_map(), "Bad_Name"),
        );
        assert_eq!(e.code(), 422);
        assert_eq!(
            e.message,
            "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
    }

    #[test]
    fn a_namespace_name_is_a_label_so_dots_are_rejected() {
        assert_eq!(
            dns1123_label("a.b"),
            vec!["must not contain dots".to_string()]
        );
        assert!(dns1123_label("my-ns").is_empty());
        assert!(dns1123_label("A")[0].contains("(e.g. 'my-name',  or '123-abc', regex"));
    }

    #[test]
    fn invalid_errors_of_group_types_qualify_the_kind() {
        let e = invalid(&ResourceType::lease(), "l", &[field_required("x", "")]);
        assert_eq!(
            e.message,
            "Lease.coordination.k8s.io \"l\" is invalid: x: Required value"
        );
        assert_eq!(e.kind.as_deref(), Some("Lease"));
    }
}
