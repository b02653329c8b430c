//! The world's step loop and fault applier, on small worlds.

use super::*;
use crate::faults::FaultAction;
use crate::transport::{self, Target};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kubesim_model::EventKind;

/// A world whose host `writer` creates config maps `cm-0`, `cm-1`, ... one after another
/// (starting over after a restart, where the existing ones answer 409), for 5 s.
fn writer_world() -> World {
    let mut world = World::new(7, WorldConfig::default(), Recorder::new());
    let recorder = world.recorder.clone();
    world.host("writer", move || {
        let recorder = recorder.clone();
        async move {
            let client = transport::client("writer", Target::Replica(0), recorder);
            let api: Api<ConfigMap> = Api::namespaced(client, "default");
            for i in 0.. {
                let mut cm = ConfigMap::default();
                cm.metadata.name = Some(format!("cm-{i}"));
                let _ = api.create(&PostParams::default(), &cm).await;
            }
            Ok(())
        }
    });
    world.client("end", async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(())
    });
    world
}

fn config_maps(world: &World) -> usize {
    world
        .cluster
        .state()
        .objects()
        .iter()
        .filter(|(k, _)| k.resource == "configmaps")
        .count()
}

#[test]
fn crash_after_writes_crashes_the_host_between_its_kth_and_next_write() {
    let mut world = writer_world();
    world.schedule(
        Duration::from_secs(1),
        FaultAction::CrashAfterWrites {
            host: "writer".into(),
            writes: 3,
            restart_after: Duration::from_secs(1),
        },
    );
    // Step until the crash; storage then holds what the writer wrote before the fault was
    // armed plus exactly three more: the fourth was never sent.
    let mut armed_with = None;
    let crashed_with = loop {
        world.recorder.set_harness_time(world.sim.elapsed());
        world.apply_due_faults();
        if armed_with.is_none() && world.faults.crash_after_writes.len() == 1 {
            armed_with = Some(config_maps(&world));
        }
        let before = world.recorder.len();
        world.crash_after_due_writes();
        if world.recorder.len() > before {
            break config_maps(&world);
        }
        world.sim.step().expect("the world steps");
    };
    let armed_with = armed_with.expect("the fault was armed at 1 s");
    assert!(
        armed_with > 0,
        "the writer wrote before the fault was armed"
    );
    assert_eq!(crashed_with, armed_with + 3);
    assert_eq!(world.cluster.writes_by("writer"), crashed_with as u64);
    // The crash is in the history, and the restart is scheduled a second later.
    world.run().expect("the run ends");
    let events = world.recorder.events();
    let crash = events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::Crash { target } if target == "writer"))
        .expect("a crash event");
    let restart = events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::Restart { target } if target == "writer"))
        .expect("a restart event");
    assert!(crash < restart);
    assert_eq!(
        events[restart].time_us - events[crash].time_us,
        1_000_000,
        "restarted restart_after later"
    );
    // After the restart the writer starts over: its 409s are not counted as writes.
    assert_eq!(
        world.cluster.writes_by("writer"),
        config_maps(&world) as u64
    );
}

#[test]
fn under_event_time_messages_arrive_at_their_exact_latency_not_on_tick_boundaries() {
    let config = WorldConfig {
        latency_min: Duration::from_millis(3),
        latency_max: Duration::from_millis(3),
        cache_lags: Some(vec![Duration::ZERO, Duration::ZERO]),
        time: TimeMode::Event,
        ..WorldConfig::default()
    };
    let run = || {
        crate::isolated(|| {
            let mut world = World::new(7, config.clone(), Recorder::new());
            let recorder = world.recorder.clone();
            world.client("writer", async move {
                let client = transport::client("writer", Target::Replica(0), recorder);
                let api: Api<ConfigMap> = Api::namespaced(client, "default");
                for i in 0..5 {
                    let mut cm = ConfigMap::default();
                    cm.metadata.name = Some(format!("cm-{i}"));
                    api.create(&PostParams::default(), &cm).await?;
                }
                Ok(())
            });
            world.run().expect("the run ends");
            world.recorder.events()
        })
    };
    let events = run();
    let served: Vec<u64> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Request { .. }))
        .map(|e| e.time_us)
        .collect();
    assert_eq!(served.len(), 5, "five creates served");
    // Everything starts at 0 and every message takes 3 ms: each request is served at a
    // multiple of 3 ms, which a 10 ms tick would have rounded up to its boundaries.
    for t in &served {
        assert_eq!(t % 3_000, 0, "served at {t} us");
    }
    assert!(served.iter().any(|t| t % 10_000 != 0));
    // The same seed gives the same history under event time too.
    let again: Vec<String> = run().iter().map(|e| e.to_string()).collect();
    let first: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    assert_eq!(first, again);
}

#[test]
fn writes_are_counted_per_client_host() {
    let mut world = writer_world();
    world.run().expect("the run ends");
    let written = config_maps(&world) as u64;
    assert!(written > 0);
    assert_eq!(world.cluster.writes_by("writer"), written);
    assert_eq!(world.cluster.writes_by("end"), 0);
}
