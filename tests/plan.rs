//! Fault plans as data: a drawn plan survives JSON, replays to the same history, targeted faults
//! hit exactly the request (or write) they name, and shrinking keeps the failure with fewer
//! faults.

mod common;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kubesim::faults::FaultProfile;
use kubesim::plan::{secs, FaultPlan, Nth, Respond, Selector};
use kubesim::run;
use kubesim::scenario;
use kubesim::transport::Target;
use kubesim::world::World;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::BTreeMap;
use std::process::{Command, Output};

fn cm(name: &str, value: u64) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_string());
    cm.data = Some([("v".to_string(), value.to_string())].into());
    cm
}

/// `(event index, verb, code)` of each answered request `host` sent, in history order, with the
/// index of its request event: requests are told apart by connection (the `conn-open` line names
/// the client).
fn exchanges(events: &[HistoryEvent], host: &str) -> Vec<(usize, usize, String, u16)> {
    let mut peers: BTreeMap<(String, u64), String> = BTreeMap::new();
    let mut open: BTreeMap<(String, u64), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match &e.kind {
            EventKind::ConnOpen { conn, peer } => {
                peers.insert((e.host.clone(), *conn), peer.clone());
            }
            EventKind::Request { conn, .. } => {
                open.insert((e.host.clone(), *conn), i);
            }
            EventKind::Response {
                conn, verb, code, ..
            } => {
                let key = (e.host.clone(), *conn);
                if peers.get(&key).map(String::as_str) == Some(host) {
                    let req = open.remove(&key).expect("a response follows its request");
                    out.push((req, i, verb.clone(), *code));
                }
            }
            _ => {}
        }
    }
    out
}

/// A world whose client `writer` writes config map `cm-0` ten times (a create, then updates),
/// and whose client `other` updates `other-0` ten times, interleaved; 409s are shrugged off.
fn two_writers(plan: FaultPlan) -> World {
    let mut w = common::world(21, &[0]);
    for (host, name) in [("writer", "cm-0"), ("other", "other-0")] {
        common::client(&mut w, host, Target::Replica(0), move |c| async move {
            let api: Api<ConfigMap> = Api::namespaced(c, "default");
            api.create(&PostParams::default(), &cm(name, 0)).await?;
            for i in 1..10 {
                let _ = api
                    .replace(name, &PostParams::default(), &cm(name, i))
                    .await;
            }
            Ok(())
        });
    }
    w.set_fault_plan(plan);
    w
}

#[test]
fn a_targeted_409_on_the_nth_matching_update_hits_exactly_that_request() {
    let plan = FaultPlan::new().fail(
        Selector::new()
            .host("writer")
            .verb("update")
            .resource("configmaps"),
        Nth(3),
        Respond::Status(409),
    );
    let mut w = two_writers(plan);
    common::run(&mut w);
    let events = w.recorder().events();
    let writer: Vec<(usize, usize, String, u16)> = exchanges(&events, "writer")
        .into_iter()
        .filter(|(.., verb, _)| verb == "update")
        .collect();
    assert_eq!(writer.len(), 9, "nine updates answered");
    for (n, (req, resp, _, code)) in writer.iter().enumerate() {
        let injected = events[*req..*resp]
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Fault { text } if text.starts_with("plan ")));
        if n == 2 {
            assert_eq!(*code, 409, "the third update");
            assert!(
                injected,
                "the plan's fault line is between request and answer"
            );
        } else {
            assert_eq!(*code, 200, "update #{}", n + 1);
            assert!(!injected);
        }
    }
    let other = exchanges(&events, "other");
    assert!(
        other.iter().all(|(.., code)| *code < 300),
        "the other client's updates are not aimed at: {other:?}"
    );
    let plan_lines = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Fault { text } if text.starts_with("plan ")))
        .count();
    assert_eq!(plan_lines, 1, "hit once");
}

#[test]
fn a_host_crashes_right_after_its_nth_matching_write_and_restarts_later() {
    // A host (clients cannot crash) that creates `cm-0` and updates it every 100 ms, starting
    // over after a restart; the run ends after 5 s.
    let mut w = common::world(22, &[0]);
    let recorder = w.recorder().clone();
    w.host("writer", move || {
        let recorder = recorder.clone();
        async move {
            let client = kubesim::transport::client("writer", Target::Replica(0), recorder);
            let api: Api<ConfigMap> = Api::namespaced(client, "default");
            let _ = api.create(&PostParams::default(), &cm("cm-0", 0)).await;
            for i in 1.. {
                let _ = api
                    .replace("cm-0", &PostParams::default(), &cm("cm-0", i))
                    .await;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok(())
        }
    });
    w.client("end", async {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        Ok(())
    });
    w.set_fault_plan(FaultPlan::new().crash_after_write(
        Selector::new().host("writer").verb("update").name("cm-0"),
        4,
        secs(1),
    ));
    common::run(&mut w);
    let events = w.recorder().events();
    let crash = events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::Crash { target } if target == "writer"))
        .expect("the writer crashed");
    let writer = exchanges(&events, "writer");
    let updates_before: Vec<_> = writer
        .iter()
        .filter(|(req, _, verb, _)| verb == "update" && *req < crash)
        .collect();
    assert_eq!(
        updates_before.len(),
        4,
        "four updates, then the crash: {writer:?}"
    );
    assert!(updates_before.iter().all(|(.., code)| *code == 200));
    let requests_after_crash_before_restart = events[crash..]
        .iter()
        .take_while(|e| !matches!(&e.kind, EventKind::Restart { target } if target == "writer"))
        .filter(|e| matches!(&e.kind, EventKind::Request { verb, target, .. } if verb == "update" && target.ends_with("/cm-0")))
        .count();
    assert_eq!(
        requests_after_crash_before_restart, 0,
        "no fifth update while down"
    );
    let restart = events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::Restart { target } if target == "writer"))
        .expect("restarted");
    assert_eq!(
        events[restart].time_us - events[crash].time_us,
        1_000_000,
        "down for restart_after"
    );
}

#[test]
fn a_drawn_plan_survives_a_json_round_trip() {
    let sc = scenario::find("replicagroup").expect("built-in");
    let report = run::run_with(&sc, 3, false, FaultProfile::Default);
    let plan = report.plan.expect("a drawn plan");
    assert!(plan.fault_count() > 0);
    let back = FaultPlan::from_json(&plan.to_json()).expect("parses");
    assert_eq!(back, plan);
    let back = FaultPlan::from_yaml(&plan.to_yaml()).expect("parses");
    assert_eq!(back, plan);
}

#[test]
fn a_printed_plan_replays_to_the_same_history_hash() {
    // replicagroup draws its faults with the library drawer; the pitfalls schedule their own
    // (partitions, crashes, crashes after writes, slow API answers).
    let cases: &[(&str, &[u64])] = &[
        ("replicagroup", &[0, 1, 2, 3, 4]),
        ("stale-delete", &[0, 1]),
        ("nested-timeout", &[0, 1]),
        ("fake-timeout", &[0]),
        ("intermediate-state", &[0, 1]),
        ("ignore-conflict", &[0]),
    ];
    for (name, seeds) in cases {
        let sc = scenario::find(name).expect("built-in");
        for &seed in seeds.iter() {
            for profile in [FaultProfile::Swarm, FaultProfile::Default] {
                let drawn = run::run_with(&sc, seed, true, profile);
                let plan = drawn.plan.clone().expect("a drawn plan");
                let text = plan.to_json();
                let replayed = run::run_with_plan(
                    &sc,
                    seed,
                    true,
                    profile,
                    &FaultPlan::from_json(&text).expect("parses"),
                )
                .expect("the plan fits");
                if let Some(d) = run::divergence(seed, &drawn, &replayed) {
                    panic!("{name} seed {seed} {profile:?}: {d}\nplan: {text}");
                }
                assert_eq!(replayed.plan.as_ref(), Some(&plan), "{name} {seed}");
            }
        }
    }
}

#[test]
fn an_empty_plan_runs_without_the_seeds_faults() {
    let sc = scenario::find("replicagroup").expect("built-in");
    let drawn = run::run_with(&sc, 2, true, FaultProfile::Default);
    assert!(drawn.plan.as_ref().is_some_and(|p| p.fault_count() > 0));
    let quiet =
        run::run_with_plan(&sc, 2, true, FaultProfile::Default, &FaultPlan::new()).expect("fits");
    let faults = quiet
        .events
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::Crash { .. })
                || matches!(&e.kind, EventKind::Fault { text } if text.starts_with("partition") || text.starts_with("inject"))
        })
        .count();
    assert_eq!(faults, 0, "no crash, partition or injected error");
    assert!(quiet.held(), "{:?}", quiet.violations);
}

#[test]
fn a_plan_naming_a_host_the_scenario_lacks_is_refused() {
    let sc = scenario::find("replicagroup").expect("built-in");
    let plan = FaultPlan::new().at(
        secs(3),
        kubesim::faults::FaultAction::Crash("controller-7".into()),
    );
    let e = run::run_with_plan(&sc, 0, true, FaultProfile::Swarm, &plan).expect_err("refused");
    assert_eq!(e.field(), "timed[0].host", "{e}");
    assert!(
        e.to_string().contains("controller-0"),
        "lists the hosts: {e}"
    );
}

#[test]
fn shrinking_a_buggy_pitfall_keeps_fewer_faults_that_still_trip_its_oracle() {
    let sc = scenario::find("stale-delete").expect("built-in");
    let seed = 0;
    let shrunk = kubesim::shrink::shrink(&sc, seed, FaultProfile::Swarm).expect("shrinks");
    assert_eq!(shrunk.oracle, "no-stale-delete");
    assert!(
        shrunk.kept < shrunk.drawn,
        "kept {} of {}",
        shrunk.kept,
        shrunk.drawn
    );
    let again = run::run_with_plan(&sc, seed, true, FaultProfile::Swarm, &shrunk.plan)
        .expect("the shrunk plan fits");
    assert!(
        again
            .violations
            .iter()
            .any(|v| v.oracle == "no-stale-delete"),
        "{:?}",
        again.violations
    );
    assert_eq!(again.hash, shrunk.hash, "the shrunk plan replays");
}

fn kubesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(args)
        .output()
        .expect("the kubesim binary runs")
}

fn hash_line(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines()
        .find(|l| l.contains("history hash"))
        .unwrap_or_else(|| panic!("no hash line in {out}"))
        .to_string()
}

#[test]
fn print_plan_then_plan_on_the_command_line_gives_the_same_history_hash() {
    let dir = std::env::temp_dir().join(format!("kubesim-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (seed, file) in [("5", "p.json"), ("6", "p.yaml")] {
        let path = dir.join(file);
        let path = path.to_str().expect("utf-8 path");
        let first = kubesim(&["run", "replicagroup", "--seed", seed, "--print-plan", path]);
        assert!(first.status.code().is_some_and(|c| c < 2));
        let second = kubesim(&["run", "replicagroup", "--seed", seed, "--plan", path]);
        assert_eq!(first.status.code(), second.status.code());
        let (a, b) = (hash_line(&first), hash_line(&second));
        assert_eq!(a, b, "seed {seed}, {file}");
    }
    let stdout = kubesim(&["run", "replicagroup", "--seed", "5", "--print-plan"]);
    let plan = FaultPlan::from_json(&String::from_utf8_lossy(&stdout.stdout))
        .expect("stdout is the plan alone");
    assert_eq!(plan.seed, Some(5));
    assert!(String::from_utf8_lossy(&stdout.stderr).contains("history hash"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shrink_on_the_command_line_writes_a_plan_that_replays_the_violation() {
    let dir = std::env::temp_dir().join(format!("kubesim-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("s.json");
    let out = out.to_str().expect("utf-8 path");
    let o = kubesim(&["shrink", "ignore-conflict", "--seed", "0", "--out", out]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("no-lost-update still trips"), "{stdout}");
    let replay = format!("replay: kubesim run ignore-conflict --seed 0 --plan {out}");
    assert!(stdout.contains(&replay), "{stdout}");
    let rerun = kubesim(&["run", "ignore-conflict", "--seed", "0", "--plan", out]);
    assert_eq!(rerun.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&rerun.stdout).contains("VIOLATION no-lost-update"));
    let held = kubesim(&["shrink", "replicagroup", "--seed", "0"]);
    assert_eq!(
        held.status.code(),
        Some(1),
        "a seed that holds has nothing to shrink"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reset_breaks_the_connection_and_a_delay_holds_the_answer() {
    let mut w = common::world(23, &[0]);
    common::client(&mut w, "reader", Target::Replica(0), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        api.create(&PostParams::default(), &cm("x", 0)).await?;
        let first = api.get("x").await;
        assert!(
            matches!(
                first,
                Err(kube::Error::HyperError(_) | kube::Error::Service(_))
            ),
            "a reset is a transport error, not an API status: {first:?}"
        );
        api.get("x").await?;
        api.get("x").await?;
        Ok(())
    });
    w.set_fault_plan(
        FaultPlan::new()
            .fail(
                Selector::new().verb("get").name("x"),
                Nth(1),
                Respond::Reset,
            )
            .delay(
                Selector::new().verb("get").name("x"),
                Nth(2),
                std::time::Duration::from_secs(2),
            ),
    );
    common::run(&mut w);
    let events = w.recorder().events();
    let gets: Vec<(usize, Option<usize>)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.kind {
            EventKind::Request { conn, verb, .. } if verb == "get" => {
                let answer = events[i..].iter().position(|r| {
                    r.host == e.host
                        && matches!(&r.kind, EventKind::Response { conn: c, .. } if c == conn)
                });
                Some((i, answer.map(|a| a + i)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(gets.len(), 3, "{gets:?}");
    assert_eq!(gets[0].1, None, "the reset request is never answered");
    let (req, resp) = (gets[1].0, gets[1].1.expect("answered"));
    assert!(
        events[resp].time_us - events[req].time_us >= 2_000_000,
        "held 2 s"
    );
    let (req, resp) = (gets[2].0, gets[2].1.expect("answered"));
    assert!(
        events[resp].time_us - events[req].time_us < 1_000_000,
        "served at once"
    );
}
