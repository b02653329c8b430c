//! No oracle panics on any history: random, malformed histories (events out of order, closes
//! without opens, responses without requests, times going backwards, odd client notes) through
//! every history oracle.

use super::*;
use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use proptest::prelude::*;
use std::time::Duration;

const HOSTS: &[&str] = &[
    "sim",
    "apiserver-0",
    "apiserver-1",
    "controller-0",
    "workload",
];
const KEYS: &[&str] = &[
    "replicagroups.kubesim.io/default/g0",
    "configmaps/default/a",
    "pods/default/g0-0",
    "leases.coordination.k8s.io/default/lead",
    "",
];
const TARGETS: &[&str] = &["configmaps/default", "pods", "configmaps/default/a", ""];
const TEXTS: &[&str] = &[
    "scale g0 replicas=4 ok",
    "create g0 replicas=2 ok",
    "delete g0 ok",
    "saw g0 replicas=3",
    "scale g0 replicas=5 gave up",
    "replicagroup stopping: shutdown",
    "stopping: shutdown",
    "replicagroup stopped",
    "replicagroup start",
    "leak x",
    "acquired",
    "lost",
    "",
    " ",
    "call",
];

fn pick(xs: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(xs).prop_map(str::to_string)
}

fn watch_type() -> impl Strategy<Value = WatchEventType> {
    prop::sample::select(vec![
        WatchEventType::Added,
        WatchEventType::Modified,
        WatchEventType::Deleted,
        WatchEventType::Bookmark,
        WatchEventType::Error,
    ])
}

fn small() -> impl Strategy<Value = u64> {
    prop_oneof![0..6u64, Just(u64::MAX), Just(u64::MAX - 1)]
}

fn client_text() -> BoxedStrategy<String> {
    prop_oneof![
        pick(TEXTS),
        (small(), pick(&["dropped", "200", "error", "409"]))
            .prop_map(|(id, outcome)| deadline::end_text(id, &outcome)),
        (pick(&["GET", "PUT"]), prop::option::of(0..5_000u64)).prop_map(|(m, ms)| {
            deadline::begin_text(&m, "/api/v1/pods", ms.map(Duration::from_millis))
        }),
        ".{0,20}",
    ]
    .boxed()
}

fn kind() -> impl Strategy<Value = EventKind> {
    let rv = prop::option::of(prop_oneof![
        Just("0".to_string()),
        Just("3".to_string()),
        Just("x".to_string()),
        Just("18446744073709551615".to_string())
    ]);
    prop_oneof![
        (
            small(),
            pick(&["get", "list", "watch", "update", "patch", "create", "delete"]),
            pick(TARGETS),
            prop::option::of(Just("status".to_string())),
            rv.clone()
        )
            .prop_map(|(conn, verb, target, subresource, rv)| EventKind::Request {
                conn,
                verb,
                target,
                subresource,
                rv
            }),
        (
            small(),
            pick(&["watch", "update", "create"]),
            pick(TARGETS),
            prop::sample::select(vec![200u16, 201, 409, 410, 500]),
            prop::option::of(small())
        )
            .prop_map(|(conn, verb, target, code, rv)| EventKind::Response {
                conn,
                verb,
                target,
                code,
                rv,
                reason: None
            }),
        (small(), watch_type(), pick(KEYS)).prop_map(|(rev, op, key)| EventKind::Commit {
            rev,
            op,
            key
        }),
        small().prop_map(|rev| EventKind::Compact { rev }),
        (small(), pick(TARGETS), rv).prop_map(|(watcher, target, rv)| EventKind::WatchOpen {
            watcher,
            target,
            rv
        }),
        (small(), watch_type(), pick(KEYS), small()).prop_map(|(watcher, kind, key, rv)| {
            EventKind::WatchSend {
                watcher,
                kind,
                key,
                rv,
            }
        }),
        (small(), pick(&["timeout", "client gone"]))
            .prop_map(|(watcher, reason)| EventKind::WatchClose { watcher, reason }),
        (small(), pick(HOSTS)).prop_map(|(conn, peer)| EventKind::ConnOpen { conn, peer }),
        small().prop_map(|conn| EventKind::ConnClose { conn }),
        client_text().prop_map(|text| EventKind::Client { text }),
        pick(TEXTS).prop_map(|text| EventKind::Fault { text }),
        pick(TEXTS).prop_map(|text| EventKind::Heal { text }),
        pick(HOSTS).prop_map(|target| EventKind::Crash { target }),
        pick(HOSTS).prop_map(|target| EventKind::Restart { target }),
        (pick(KEYS), 0..3u32).prop_map(|(key, attempt)| EventKind::ReconcileBegin { key, attempt }),
        (
            pick(KEYS),
            0..3u32,
            pick(&[
                "ok",
                "error boom",
                "requeue-after 5000ms",
                "cancelled leadership lost",
                "cancelled deadline exceeded",
                "terminal x"
            ]),
            small()
        )
            .prop_map(
                |(key, attempt, outcome, duration_us)| EventKind::ReconcileEnd {
                    key,
                    attempt,
                    outcome,
                    duration_us
                }
            ),
        (pick(KEYS), pick(&["add", "rate-limited"]))
            .prop_map(|(key, how)| EventKind::QueueAdd { key, how }),
        pick(TEXTS).prop_map(|text| EventKind::Runtime { text }),
        pick(TEXTS).prop_map(|text| EventKind::Lease {
            lease: "default/lead".into(),
            text
        }),
    ]
}

fn history() -> impl Strategy<Value = Vec<HistoryEvent>> {
    prop::collection::vec((pick(HOSTS), kind(), 0..3_000_000u64, any::<bool>()), 0..60).prop_map(
        |events| {
            let mut t = 0u64;
            events
                .into_iter()
                .enumerate()
                .map(|(i, (host, kind, dt, back))| {
                    // Mostly forward in time, sometimes backwards (hosts' clocks interleave).
                    t = if back {
                        t.saturating_sub(dt / 10)
                    } else {
                        t + dt
                    };
                    HistoryEvent {
                        id: i as u64,
                        time_us: t,
                        host,
                        kind,
                    }
                })
                .collect()
        },
    )
}

/// Every history oracle of this module, unguarded (a panic fails the test).
fn all(h: &[HistoryEvent], end_us: Option<u64>) {
    let _ = watch_guarantees(h, &[]);
    let _ = watch_guarantees(h, &["configmaps/default", "pods"]);
    let _ = no_concurrent_reconcile(h);
    let _ = bounded_concurrency(h, 1);
    let _ = no_hot_loop(h, HotLoop::default());
    let _ = honest_cancel_reason(h);
    let stored = [("g0".to_string(), "4".to_string())].into_iter().collect();
    let _ = no_lost_update(h, "replicagroups.kubesim.io/default", "replicas", &stored);
    let _ = deadline_respected(h, Duration::ZERO);
    let _ = no_work_after_deadline(h, Duration::from_secs(1), Duration::ZERO);
    let _ = no_stale_delete(&[], h, "replicagroups.kubesim.io", |_| true);
    let _ = peers::Peers::of(h);
    let _ = quiescence(h, end_us, Quiescence::default());
    let tight = Quiescence {
        settle_us: 0,
        window_min_us: 0,
        writes_min: 0,
        quarters_min: 0,
        reconcile_period_min_us: 0,
        exempt: &[],
    };
    let _ = quiescence(h, end_us, tight);
    let _ = no_leaked_streams(h, end_us, Leaks::default());
    let _ = no_leaked_streams(h, end_us, Leaks { grace_us: 0 });
    let _ = no_write_fight(h, Ownership::default());
    let _ = no_write_fight(
        h,
        Ownership {
            turns_min: 0,
            exempt: &[],
        },
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn no_oracle_panics_on_a_random_history(h in history(), end in prop::option::of(any::<u64>())) {
        all(&h, end);
        let v = Library { end_us: end, ..Library::default() }.check(&h);
        prop_assert!(v.iter().all(|v| v.oracle != CHECKER_ERROR), "{v:?}");
    }
}
