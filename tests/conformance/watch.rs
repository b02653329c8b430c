//! WATCH: replay then live, bookmarks, 410, selectors, timeouts, watch lists (API Concepts:
//! "Efficient detection of changes", "Watch bookmarks", "Streaming lists"; `storage/cacher`).

use crate::case::*;
use serde_json::json;

const CONCEPTS: &str = "API Concepts: Efficient detection of changes (semantics for watch)";
const CACHER: &str = "staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go: Cacher.Watch";
const TOO_OLD: &str = "staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go: watchCache.getAllEventsSinceLocked (too old resource version)";
const BOOKMARKS: &str = "staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go: cacheWatcher.nextBookmarkTime";
const WATCHLIST: &str = "API Concepts: Streaming lists; cacher/cache_watcher.go: cacheWatcher.processInterval (initial-events-end bookmark)";
const OPTS: &str = "staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go: validateWatchOptions";

fn w(q: &str) -> String {
    format!("{CMS}?watch=true&{q}")
}

fn with(mut a: Vec<Step>, b: Vec<Step>) -> Vec<Step> {
    a.extend(b);
    a
}

pub fn cases() -> Vec<Case> {
    vec![
        case("a watch without resourceVersion starts with an ADDED per object", CONCEPTS, vec![
            post(CMS, cm("a")),
            post(CMS, cm("b")),
            watch_start(1, &w("timeoutSeconds=5")),
            watch_end(1).code(200).events(&["ADDED", "ADDED"])
                .event(0, ev().f("/object/metadata/name", "a")).event(1, ev().f("/object/metadata/name", "b")),
        ]),
        case("a watch from resourceVersion 0 starts with an ADDED per object", CONCEPTS, vec![
            post(CMS, cm("a")),
            watch_start(1, &w("resourceVersion=0&timeoutSeconds=5")),
            watch_end(1).code(200).events(&["ADDED"]),
        ]),
        case("a watch from a resourceVersion replays only later events", CONCEPTS, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            post(CMS, cm("b")),
            merge(&at(CMS, "a"), json!({"data": {"k": "2"}})),
            watch_start(1, &w("resourceVersion=$rv&timeoutSeconds=5")),
            watch_end(1).code(200).events(&["ADDED", "MODIFIED"])
                .event(0, ev().f("/object/metadata/name", "b")).event(1, ev().f("/object/data/k", "2")),
        ]),
        case("a watch from the current resourceVersion sees live events in order", CONCEPTS, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&timeoutSeconds=5")),
            merge(&at(CMS, "a"), json!({"data": {"k": "2"}})),
            delete(&at(CMS, "a")).code(200),
            watch_end(1).code(200).events(&["MODIFIED", "DELETED"])
                .event(1, ev().f("/object/metadata/name", "a").f("/object/data/k", "2")),
        ]),
        case("a DELETED event carries the deletion's resourceVersion", CACHER, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&timeoutSeconds=5")),
            delete(&at(CMS, "a")).code(200),
            get(CMS).code(200).save("/metadata/resourceVersion", "rvd"),
            watch_end(1).code(200).events(&["DELETED"]).event(0, ev().f("/object/metadata/resourceVersion", "$rvd")),
        ]),
        case("watch events carry the object's kind and apiVersion", CACHER, vec![
            post(CMS, cm("a")),
            watch_start(1, &w("timeoutSeconds=5")),
            watch_end(1).code(200).event(0, ev().f("/type", "ADDED").f("/object/kind", "ConfigMap").f("/object/apiVersion", "v1")),
        ]),
        case("a watch ends when timeoutSeconds passes", CONCEPTS, vec![
            watch_start(1, &w("timeoutSeconds=3")),
            sleep_s(5),
            post(CMS, cm("late")),
            watch_end(1).code(200).events(&[]),
        ]),
        case("a watch from a resourceVersion older than the cache's history gets one 410 ERROR event", TOO_OLD, {
            let mut s: Vec<Step> = (0..25).map(|i| post(CMS, cm(&format!("o{i}")))).collect();
            s.push(watch_start(1, &w("resourceVersion=2&timeoutSeconds=5")));
            s.push(watch_end(1).code(200).events(&["ERROR"])
                .event(0, ev().f("/object/kind", "Status").f("/object/code", 410).f("/object/reason", "Expired")
                    .f("/object/status", "Failure")));
            s
        }),
        case("the 410 of a too-old watch names the oldest revision the cache still serves", TOO_OLD, {
            let mut s: Vec<Step> = (0..25).map(|i| post(CMS, cm(&format!("o{i}")))).collect();
            s.push(watch_start(1, &w("resourceVersion=2&timeoutSeconds=5")));
            s.push(watch_end(1).code(200).event(0, ev().f("/object/message", "too old resource version: 2 (6)")));
            s
        }),
        case("a watch from a compacted revision whose events the cache still holds is served", CACHER, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            post(CMS, cm("b")),
            compact(),
            watch_start(1, &w("resourceVersion=$rv&timeoutSeconds=5")),
            watch_end(1).code(200).events(&["ADDED"]),
        ]),
        case("a label-selected watch sees an object that stops matching as DELETED", CACHER, vec![
            post(CMS, json!({"metadata": {"name": "a", "labels": {"app": "web"}}})).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&labelSelector=app%3Dweb&timeoutSeconds=5")),
            merge(&at(CMS, "a"), json!({"metadata": {"labels": {"app": "db"}}})),
            watch_end(1).code(200).events(&["DELETED"]),
        ]),
        case("a label-selected watch sees an object that starts matching as ADDED", CACHER, vec![
            post(CMS, json!({"metadata": {"name": "a", "labels": {"app": "db"}}})).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&labelSelector=app%3Dweb&timeoutSeconds=5")),
            merge(&at(CMS, "a"), json!({"metadata": {"labels": {"app": "web"}}})),
            watch_end(1).code(200).events(&["ADDED"]),
        ]),
        case("a field-selected watch sees only the named object", CACHER, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&fieldSelector=metadata.name%3Db&timeoutSeconds=5")),
            post(CMS, cm("b")),
            post(CMS, cm("c")),
            watch_end(1).code(200).events(&["ADDED"]).event(0, ev().f("/object/metadata/name", "b")),
        ]),
        case("a watch across namespaces sees every namespace", CACHER, vec![
            watch_start(1, "/api/v1/configmaps?watch=true&timeoutSeconds=5"),
            post(CMS, cm("a")),
            post("/api/v1/namespaces/other/configmaps", cm("b")),
            watch_end(1).code(200).events(&["ADDED", "ADDED"]),
        ]),
        case("a watch in one namespace ignores the others", CACHER, vec![
            watch_start(1, &w("timeoutSeconds=5")),
            post("/api/v1/namespaces/other/configmaps", cm("b")),
            watch_end(1).code(200).events(&[]),
        ]),
        case("a watch with bookmarks gets one two seconds before its timeout", BOOKMARKS, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&allowWatchBookmarks=true&fieldSelector=metadata.name%3Da&timeoutSeconds=10")),
            post(CMS, cm("b")).save("/metadata/resourceVersion", "rvb"),
            watch_end(1).code(200).events(&["BOOKMARK"])
                .event(0, ev().f("/object/kind", "ConfigMap").f("/object/metadata/resourceVersion", "$rvb")),
        ]),
        case("a long watch with bookmarks gets one about every minute", BOOKMARKS, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&allowWatchBookmarks=true&fieldSelector=metadata.name%3Da&timeoutSeconds=200")),
            post(CMS, cm("b")),
            watch_end(1).code(200).events(&["BOOKMARK", "BOOKMARK", "BOOKMARK", "BOOKMARK"]),
        ]),
        case("no bookmark carries the revision the watch started from", "staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go: cacheWatcher.process (only events newer than resourceVersion)", vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=100")),
            watch_end(1).code(200).events(&[]),
        ]),
        case("a watch without allowWatchBookmarks gets no bookmarks", BOOKMARKS, vec![
            watch_start(1, &w("timeoutSeconds=100")),
            watch_end(1).code(200).events(&[]),
        ]),
        case("a bookmark carries the latest resourceVersion the cache has seen", BOOKMARKS, vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dz&timeoutSeconds=10")),
            post(CMS, cm("b")).save("/metadata/resourceVersion", "rvb"),
            watch_end(1).code(200).events(&["BOOKMARK"]).event(0, ev().f("/object/metadata/resourceVersion", "$rvb")),
        ]),
        case("a watch list sends the initial objects then a bookmark marking their end", WATCHLIST, vec![
            post(CMS, cm("a")),
            post(CMS, cm("b")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5")),
            watch_end(1).code(200).events(&["ADDED", "ADDED", "BOOKMARK"])
                .event(2, ev().f("/object/metadata/annotations/k8s.io~1initial-events-end", "true")
                    .f("/object/metadata/resourceVersion", "$rv")),
        ]),
        case("a watch list then streams live events", WATCHLIST, vec![
            post(CMS, cm("a")),
            watch_start(1, &w("sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5")),
            post(CMS, cm("b")),
            watch_end(1).code(200).events(&["ADDED", "BOOKMARK", "ADDED", "BOOKMARK"]),
        ]),
        case("sendInitialEvents without resourceVersionMatch is 422", OPTS, vec![
            get(&w("sendInitialEvents=true")).status(422, "Invalid")
                .msg("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
        ]),
        case("resourceVersionMatch on a watch without sendInitialEvents is 422", OPTS, vec![
            get(&w("resourceVersionMatch=NotOlderThan")).status(422, "Invalid")
                .msg("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"),
        ]),
        case("a watch of a custom resource carries its kind", CACHER, vec![
            watch_start(1, &format!("{WIDGETS}?watch=true&timeoutSeconds=5")),
            post(WIDGETS, widget("w")),
            watch_end(1).code(200).events(&["ADDED"]).event(0, ev().f("/object/kind", "Widget")),
        ]),
        case("a watch with a label selector that does not parse is 400", "staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go: ListResource", vec![
            get(&w("labelSelector=a%20in%20b")).status(400, "BadRequest"),
        ]),
        case("an update that changes nothing sends no event", "staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go: GuaranteedUpdate", with(vec![
            post(CMS, cm("a")).save("/metadata/resourceVersion", "rv"),
            watch_start(1, &w("resourceVersion=$rv&timeoutSeconds=5")),
        ], vec![
            merge(&at(CMS, "a"), json!({"data": {"k": "v"}})).code(200),
            watch_end(1).code(200).events(&[]),
        ])),
    ]
}
