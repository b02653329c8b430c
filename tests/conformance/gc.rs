//! Garbage collection of dependents (kube-controller-manager `pkg/controller/garbagecollector`,
//! API Concepts / "Garbage Collection" in the Kubernetes docs).

use crate::case::*;
use serde_json::json;

const GC: &str = "pkg/controller/garbagecollector/garbagecollector.go: attemptToDeleteItem";
const ORPHAN: &str = "pkg/controller/garbagecollector/garbagecollector.go: orphanDependents";
const FG: &str =
    "pkg/controller/garbagecollector/garbagecollector.go: processDeletingDependentsItem";

fn dep(name: &str, owner: &str) -> serde_json::Value {
    json!({"metadata": {"name": name, "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": format!("${owner}_uid")}]}})
}

fn dep_blocking(name: &str, owner: &str) -> serde_json::Value {
    json!({"metadata": {"name": name, "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": format!("${owner}_uid"), "blockOwnerDeletion": true}]}})
}

pub fn cases() -> Vec<Case> {
    vec![
        case("a dependent of a deleted owner is deleted in the background", GC, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(CMS, dep("d", "o")).code(201),
            delete(&at(CMS, "o")).code(200),
            gc(),
            get(&at(CMS, "d")).status(404, "NotFound"),
        ]),
        case("a dependent whose owner lives is kept", GC, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(CMS, dep("d", "o")).code(201),
            gc(),
            get(&at(CMS, "d")).code(200),
        ]),
        case("a dependent whose ownerReference names a uid that is not the live object's is deleted", GC, vec![
            post(CMS, cm("o")),
            post(CMS, json!({"metadata": {"name": "d", "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "not-the-uid"}]}})).code(201),
            gc(),
            get(&at(CMS, "d")).status(404, "NotFound"),
        ]),
        case("a dependent with another live owner only loses the dangling reference", GC, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(CMS, cm("p")).save("/metadata/uid", "p_uid"),
            post(CMS, json!({"metadata": {"name": "d", "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "$o_uid"},
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "p", "uid": "$p_uid"}]}})).code(201),
            delete(&at(CMS, "o")).code(200),
            gc(),
            get(&at(CMS, "d")).code(200).f("/metadata/ownerReferences/0/name", "p").absent("/metadata/ownerReferences/1"),
        ]),
        case("an orphaning delete strips the owner's references from dependents and then completes", ORPHAN, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(CMS, dep("d", "o")).code(201),
            delete(&format!("{}?propagationPolicy=Orphan", at(CMS, "o"))).code(200),
            gc(),
            gc(),
            get(&at(CMS, "o")).status(404, "NotFound"),
            get(&at(CMS, "d")).code(200).absent("/metadata/ownerReferences"),
        ]),
        case("a foreground delete keeps the owner until blocking dependents are gone", FG, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(CMS, dep_blocking("d", "o")).code(201),
            delete_with(&at(CMS, "o"), json!({"propagationPolicy": "Foreground"})).code(200),
            get(&at(CMS, "o")).code(200).f("/metadata/finalizers/0", "foregroundDeletion"),
            gc(),
            gc(),
            get(&at(CMS, "d")).status(404, "NotFound"),
            get(&at(CMS, "o")).status(404, "NotFound"),
        ]),
        case("a foreground delete without dependents completes on the next pass", FG, vec![
            post(CMS, cm("o")),
            delete_with(&at(CMS, "o"), json!({"propagationPolicy": "Foreground"})).code(200),
            gc(),
            get(&at(CMS, "o")).status(404, "NotFound"),
        ]),
        case("a dependent held by a finalizer keeps a foreground owner waiting", FG, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(CMS, json!({"metadata": {"name": "d", "finalizers": ["a.io/hold"], "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "$o_uid", "blockOwnerDeletion": true}]}})).code(201),
            delete_with(&at(CMS, "o"), json!({"propagationPolicy": "Foreground"})).code(200),
            gc(),
            gc(),
            get(&at(CMS, "d")).code(200),
            get(&at(CMS, "o")).code(200),
        ]),
        case("a namespaced dependent of a cluster-scoped owner is collected", GC, vec![
            post(GADGETS, gadget("g")).save("/metadata/uid", "g_uid"),
            post(CMS, json!({"metadata": {"name": "d", "ownerReferences": [
                {"apiVersion": "example.com/v1", "kind": "Gadget", "name": "g", "uid": "$g_uid"}]}})).code(201),
            delete(&at(GADGETS, "g")).code(200),
            gc(),
            get(&at(CMS, "d")).status(404, "NotFound"),
        ]),
        case("dependents of a deleted owner are collected across types", GC, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(WIDGETS, json!({"metadata": {"name": "w", "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "$o_uid"}]}, "spec": {}})).code(201),
            delete(&at(CMS, "o")).code(200),
            gc(),
            get(&at(WIDGETS, "w")).status(404, "NotFound"),
        ]),
        case("a chain of dependents is collected pass by pass", GC, vec![
            post(CMS, cm("o")).save("/metadata/uid", "o_uid"),
            post(CMS, dep("d", "o")).save("/metadata/uid", "d_uid"),
            post(CMS, dep("e", "d")),
            delete(&at(CMS, "o")).code(200),
            gc(),
            gc(),
            get(&at(CMS, "e")).status(404, "NotFound"),
        ]),
        case("an owner with a user finalizer keeps its dependents while it is deleting", GC, vec![
            post(CMS, json!({"metadata": {"name": "o", "finalizers": ["a.io/hold"]}})).save("/metadata/uid", "o_uid"),
            post(CMS, dep("d", "o")).code(201),
            delete(&at(CMS, "o")).code(200),
            gc(),
            get(&at(CMS, "d")).code(200),
        ]),
        case("a terminating namespace is emptied and then removed by the namespace controller", "pkg/controller/namespace/deletion/namespaced_resources_deleter.go: Delete", vec![
            post(NAMESPACES, json!({"metadata": {"name": "team"}})),
            post("/api/v1/namespaces/team/configmaps", cm("a")),
            delete("/api/v1/namespaces/team").code(200).f("/status/phase", "Terminating"),
            get("/api/v1/namespaces/team").code(200).f("/metadata/deletionTimestamp", "2026-01-01T00:00:00Z"),
            gc(),
            get("/api/v1/namespaces/team/configmaps/a").status(404, "NotFound"),
            get("/api/v1/namespaces/team").status(404, "NotFound"),
        ]),
        case("a namespace waits for contents held by finalizers", "pkg/controller/namespace/deletion/namespaced_resources_deleter.go: Delete (estimate > 0)", vec![
            post(NAMESPACES, json!({"metadata": {"name": "team"}})),
            post("/api/v1/namespaces/team/configmaps", json!({"metadata": {"name": "a", "finalizers": ["a.io/hold"]}})),
            delete("/api/v1/namespaces/team").code(200),
            gc(),
            get("/api/v1/namespaces/team").code(200).f("/status/phase", "Terminating"),
            merge("/api/v1/namespaces/team/configmaps/a", json!({"metadata": {"finalizers": null}})).code(200),
            gc(),
            get("/api/v1/namespaces/team").status(404, "NotFound"),
        ]),
    ]
}
