//! The `continue` token of paged lists, in the apiserver's format (k8s.io/apiserver
//! `pkg/storage/continue.go`): unpadded URL-safe base64 of
//! `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the last item>\u0000"}`, where the
//! key is relative to the list's prefix (`name` inside a namespace or for cluster-scoped types,
//! `namespace/name` across namespaces).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kubesim_model::{ApiError, ObjectKey};
use serde::{Deserialize, Serialize};

const TOKEN_VERSION: &str = "meta.k8s.io/v1";

#[derive(Serialize, Deserialize)]
struct Token {
    v: String,
    rv: i64,
    start: String,
}

/// A decoded token: where to resume a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Continue {
    /// The revision the list is served at; `None` for "the latest" (`rv: -1`).
    pub(crate) rev: Option<u64>,
    /// The namespace and name of the last item returned; the next page starts after it.
    pub(crate) after_namespace: String,
    pub(crate) after_name: String,
}

/// Encodes a token resuming after `last` at revision `rev`. `across_namespaces` is true for a
/// list of a namespaced type over all namespaces.
pub(crate) fn encode(rev: u64, last: &ObjectKey, across_namespaces: bool) -> String {
    let rev = i64::try_from(rev).expect("invariant: revisions fit in i64");
    encode_rv(rev, last, across_namespaces)
}

/// A token resuming after `last` at the latest revision (`rv: -1`), as the 410 of a compacted
/// token carries (etcd3 `handleCompactedErrorForPaging`).
pub(crate) fn encode_latest(last: &ObjectKey, across_namespaces: bool) -> String {
    encode_rv(-1, last, across_namespaces)
}

fn encode_rv(rv: i64, last: &ObjectKey, across_namespaces: bool) -> String {
    let start = if across_namespaces {
        format!("{}/{}\u{0}", last.namespace, last.name)
    } else {
        format!("{}\u{0}", last.name)
    };
    let token = Token {
        v: TOKEN_VERSION.into(),
        rv,
        start,
    };
    let json = serde_json::to_vec(&token).expect("invariant: a token serializes");
    URL_SAFE_NO_PAD.encode(json)
}

fn invalid(detail: &str) -> ApiError {
    ApiError::bad_request(format!("invalid continue token: {detail}"))
}

/// Decodes a token (`DecodeContinue`); errors are 400 `invalid continue token: ...`.
/// `namespace` is the namespace of the list request (`None` across namespaces or for
/// cluster-scoped types, with `across_namespaces` telling the two apart).
pub(crate) fn decode(
    value: &str,
    namespace: Option<&str>,
    across_namespaces: bool,
) -> Result<Continue, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|e| invalid(&format!("continue key is not valid: {e}")))?;
    let token: Token = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(&format!("continue key is not valid: {e}")))?;
    if token.v != TOKEN_VERSION {
        return Err(invalid(&format!(
            "continue key is not valid: server does not recognize this encoded version {}",
            token.v
        )));
    }
    let rev = match token.rv {
        -1 => None,
        rv if rv > 0 => Some(rv as u64),
        _ => {
            return Err(invalid(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            ))
        }
    };
    let start = token.start.strip_suffix('\u{0}').unwrap_or(&token.start);
    if start.is_empty() {
        return Err(invalid(
            "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)",
        ));
    }
    if start.contains("..") || start.starts_with('/') {
        return Err(invalid(&format!("continue key is not valid: {start}")));
    }
    let (after_namespace, after_name) = if across_namespaces {
        match start.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => return Err(invalid(&format!("continue key is not valid: {start}"))),
        }
    } else {
        if start.contains('/') {
            return Err(invalid(&format!("continue key is not valid: {start}")));
        }
        (namespace.unwrap_or("").to_string(), start.to_string())
    };
    Ok(Continue {
        rev,
        after_namespace,
        after_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_looks_like_the_api_servers() {
        let k = ObjectKey::new("configmaps", "ns", "b");
        let t = encode(7, &k, true);
        let raw = URL_SAFE_NO_PAD.decode(&t).expect("base64");
        assert_eq!(
            String::from_utf8(raw).expect("utf8"),
            "{\"v\":\"meta.k8s.io/v1\",\"rv\":7,\"start\":\"ns/b\\u0000\"}"
        );
        let c = decode(&t, None, true).expect("decodes");
        assert_eq!(
            (c.rev, c.after_namespace.as_str(), c.after_name.as_str()),
            (Some(7), "ns", "b")
        );
        let t = encode(7, &k, false);
        let c = decode(&t, Some("ns"), false).expect("decodes");
        assert_eq!(
            (c.after_namespace.as_str(), c.after_name.as_str()),
            ("ns", "b")
        );
    }

    #[test]
    fn a_malformed_token_is_a_400() {
        for bad in ["%%%", "e30", "bm90IGpzb24"] {
            let e = decode(bad, None, true).expect_err(bad);
            assert_eq!(e.code(), 400);
            assert!(
                e.message.starts_with("invalid continue token: "),
                "{}",
                e.message
            );
        }
    }
}
