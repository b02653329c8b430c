//! Server-side printing: a get or list whose `Accept` asks for `as=Table` (kubectl's `get` does)
//! is answered with a `meta.k8s.io/v1` `Table`, as kube-apiserver's `TableConvertor`s build it
//! (`k8s.io/apiserver/pkg/endpoints/handlers/response.go`, `transformResponseObject`):
//! the printers of `pkg/printers/internalversion/printers.go` for pods, config maps, leases and
//! namespaces, and apiextensions' default columns (`Name`, `Age`) for custom resources. Each row
//! carries the object's metadata as a `PartialObjectMetadata` (`includeObject=Metadata`, the
//! default), which kubectl reads the namespace column from. Ages are counted from the server's
//! (simulated) now, as the apiserver counts them from its clock.

use crate::clock;
use kubesim_model::ResourceType;
use serde_json::{json, Value};
use std::time::Duration;

/// Whether an `Accept` header asks for a `Table` (`application/json;as=Table;v=v1;g=meta.k8s.io`,
/// or `v1beta1`).
pub fn wanted(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let params: Vec<&str> = range.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// The `Table` for `result` (a list or a single object of `resource`), ages counted at `now`.
pub fn convert(resource: &ResourceType, result: &Value, now: Duration) -> Value {
    let columns = columns(resource);
    let objects: Vec<&Value> = match result.get("items").and_then(Value::as_array) {
        Some(items) => items.iter().collect(),
        None => vec![result],
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "cells": cells(resource, o, now),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
                },
            })
        })
        .collect();
    let mut metadata = json!({});
    for field in ["resourceVersion", "continue", "remainingItemCount"] {
        if let Some(v) = result.pointer(&format!("/metadata/{field}")) {
            if result.get("items").is_some() {
                metadata[field] = v.clone();
            }
        }
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// `(name, type, format, description, priority)` of a column.
type Column = (&'static str, &'static str, &'static str, &'static str, u8);

const NAME: Column = (
    "Name",
    "string",
    "name",
    "Name must be unique within a namespace.",
    0,
);
const AGE: Column = (
    "Age",
    "string",
    "",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
    0,
);

fn column_list(resource: &ResourceType) -> Vec<Column> {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "pods") => vec![
            NAME,
            ("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
            ("Status", "string", "", "The aggregate status of the containers in this pod.", 0),
            ("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
            AGE,
            ("IP", "string", "", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
            ("Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.", 1),
        ],
        ("", "configmaps") => vec![
            NAME,
            ("Data", "string", "", "Data contains the configuration data.", 0),
            AGE,
        ],
        ("", "namespaces") => vec![
            NAME,
            ("Status", "string", "", "The status of the namespace", 0),
            AGE,
        ],
        ("coordination.k8s.io", "leases") => vec![
            NAME,
            ("Holder", "string", "", "HolderIdentity contains the identity of the holder of a current lease.", 0),
            AGE,
        ],
        _ => vec![NAME, ("Age", "date", "", "", 0)],
    }
}

fn columns(resource: &ResourceType) -> Vec<Value> {
    column_list(resource)
        .into_iter()
        .map(|(name, ty, format, description, priority)| {
            json!({
                "name": name,
                "type": ty,
                "format": format,
                "description": description,
                "priority": priority,
            })
        })
        .collect()
}

fn str_at<'a>(o: &'a Value, pointer: &str) -> &'a str {
    o.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn cells(resource: &ResourceType, o: &Value, now: Duration) -> Vec<Value> {
    let name = json!(str_at(o, "/metadata/name"));
    let age = json!(age(str_at(o, "/metadata/creationTimestamp"), now));
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "pods") => {
            let containers = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let statuses = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ready = statuses
                .iter()
                .filter(|s| s["ready"].as_bool() == Some(true))
                .count();
            let restarts: i64 = statuses
                .iter()
                .filter_map(|s| s["restartCount"].as_i64())
                .sum();
            let mut status = str_at(o, "/status/phase").to_string();
            if !str_at(o, "/status/reason").is_empty() {
                status = str_at(o, "/status/reason").to_string();
            }
            if o.pointer("/metadata/deletionTimestamp").is_some() {
                status = "Terminating".into();
            }
            let ip = str_at(o, "/status/podIP");
            let node = str_at(o, "/spec/nodeName");
            vec![
                name,
                json!(format!("{ready}/{containers}")),
                json!(status),
                json!(restarts),
                age,
                json!(if ip.is_empty() { "<none>" } else { ip }),
                json!(if node.is_empty() { "<none>" } else { node }),
            ]
        }
        ("", "configmaps") => {
            let count = |field: &str| {
                o.get(field)
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
            };
            vec![name, json!(count("data") + count("binaryData")), age]
        }
        ("", "namespaces") => vec![name, json!(str_at(o, "/status/phase")), age],
        ("coordination.k8s.io", "leases") => {
            let holder = str_at(o, "/spec/holderIdentity");
            vec![
                name,
                json!(if holder.is_empty() { "<none>" } else { holder }),
                age,
            ]
        }
        _ => vec![name, age],
    }
}

/// The age of an object created at RFC 3339 `created`, at simulated `now`: apimachinery's
/// `duration.HumanDuration`; `<unknown>` without a timestamp, as the printers write it.
fn age(created: &str, now: Duration) -> String {
    let Ok(created) = created.parse::<jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let since_epoch = created.as_second() - clock::EPOCH_UNIX_SECS;
    human_duration(now.as_secs() as i64 - since_epoch)
}

/// apimachinery `pkg/util/duration`'s `HumanDuration`, for whole seconds.
fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectls_accept_header_asks_for_a_table_and_a_plain_client_does_not() {
        assert!(wanted(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wanted("application/json"));
        assert!(!wanted("application/json;as=Table"));
    }

    #[test]
    fn ages_read_as_apimachinery_prints_them() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600, "8h"),
            (48 * 3600, "2d"),
            (50 * 3600, "2d2h"),
            (8 * 24 * 3600, "8d"),
            (2 * 365 * 24 * 3600, "2y"),
            (-1, "0s"),
            (-5, "<invalid>"),
        ];
        for (s, want) in cases {
            assert_eq!(human_duration(s), want, "{s}s");
        }
    }

    #[test]
    fn a_pod_list_becomes_rows_with_readiness_phase_and_simulated_age() {
        let pods = json!({
            "kind": "PodList",
            "metadata": {"resourceVersion": "17"},
            "items": [{
                "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:05Z"},
                "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
                "status": {"phase": "Running", "containerStatuses": [
                    {"ready": true, "restartCount": 2}, {"ready": false, "restartCount": 1}
                ]},
            }],
        });
        let t = convert(&ResourceType::pod(), &pods, Duration::from_secs(65));
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["metadata"]["resourceVersion"], "17");
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["p", "1/2", "Running", 3, "60s", "<none>", "<none>"])
        );
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "ns");
        assert_eq!(t["columnDefinitions"][2]["name"], "Status");
    }

    #[test]
    fn a_custom_resource_gets_the_default_name_and_age_columns() {
        let widget = ResourceType::custom("example.com", "v1", "Widget", "widgets", true, false);
        let one = json!({"metadata": {"name": "w"}});
        let t = convert(&widget, &one, Duration::ZERO);
        assert_eq!(t["rows"][0]["cells"], json!(["w", "<unknown>"]));
        assert_eq!(t["columnDefinitions"].as_array().map(Vec::len), Some(2));
    }
}
