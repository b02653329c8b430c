//! The controller runtime against the simulated API server: informer relists, requeue semantics,
//! deadlines during partitions, and task accounting at shutdown.

mod common;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::ResourceExt;
use kubesim::observe::HostObserver;
use kubesim::transport::Target;
use kubesim_controller::{
    check_leaks, Action, CancelReason, Cancelled, Context, Controller, ControllerConfig, Informer,
    InformerConfig,
};
use rand::SeedableRng;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn cm(name: &str) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name.into());
    c
}

#[test]
fn the_informer_relists_after_410_and_ends_with_the_same_store_as_storage() {
    // The informer's replica restarts while another replica takes the writes: its new watch
    // cache starts past the informer's resourceVersion, so the re-watch is a 410.
    let mut w = common::world(21, &[0, 0]);
    w.schedule(
        Duration::from_secs(1),
        kubesim::faults::FaultAction::Crash("apiserver-0".into()),
    );
    w.schedule(
        Duration::from_secs(3),
        kubesim::faults::FaultAction::Restart("apiserver-0".into()),
    );
    common::client(&mut w, "writer", Target::Replica(1), |c| async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let watched: Api<ConfigMap> = Api::namespaced(c.clone(), "watched");
        let noise: Api<ConfigMap> = Api::namespaced(c, "noise");
        watched.create(&PostParams::default(), &cm("a")).await?;
        for i in 0..150 {
            noise
                .create(&PostParams::default(), &cm(&format!("n{i}")))
                .await?;
        }
        watched.create(&PostParams::default(), &cm("b")).await?;
        Ok(())
    });
    let (cluster, recorder) = (w.cluster().clone(), w.recorder().clone());
    common::client(
        &mut w,
        "informer",
        Target::Replica(0),
        move |c| async move {
            let rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
            let observer = HostObserver::shared(recorder.clone(), "informer");
            let api = Api::<ConfigMap>::namespaced(c, "watched");
            let informer = Informer::new(api, InformerConfig::default(), Box::new(rng), observer);
            let store = informer.store();
            let ctx = Context::background();
            let run = tokio::spawn(informer.run(ctx.clone(), |_| {}));
            tokio::time::sleep(Duration::from_secs(15)).await;
            ctx.cancel(CancelReason::Shutdown);
            run.await?;
            let in_store: Vec<String> = store.list().iter().map(|o| o.name_any()).collect();
            let in_storage: Vec<String> = cluster
                .state()
                .objects()
                .into_iter()
                .filter(|(k, _)| k.resource == "configmaps" && k.namespace == "watched")
                .map(|(k, _)| k.name)
                .collect();
            assert_eq!(in_store, in_storage);
            assert_eq!(in_store, vec!["a", "b"]);
            let lines: Vec<String> = recorder
                .events()
                .iter()
                .filter(|e| e.host == "informer")
                .map(|e| e.to_string())
                .collect();
            assert!(
                lines
                    .iter()
                    .any(|l| l.ends_with("relist after 410 Expired")),
                "the informer relisted:\n{}",
                lines.join("\n")
            );
            Ok(())
        },
    );
    common::run(&mut w);
}

#[test]
fn an_api_call_under_a_deadline_fails_by_the_deadline_during_a_partition() {
    let mut w = common::world(22, &[0]);
    w.schedule(
        Duration::from_millis(500),
        kubesim::faults::FaultAction::Partition("caller".into(), "apiserver-0".into()),
    );
    common::client(&mut w, "caller", Target::Replica(0), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let ctx = Context::background().with_timeout(Duration::from_secs(2));
        let started = tokio::time::Instant::now();
        // A fresh connection: the connect itself hangs in the partition.
        let r = ctx.run(api.get_opt("x")).await;
        assert!(matches!(r, Err(Cancelled::DeadlineExceeded)), "{r:?}");
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "bounded by the deadline, not later"
        );
        Ok(())
    });
    common::run(&mut w);
}

/// Runs a controller over ConfigMaps in `default` whose reconcile answers with `script(attempt)`,
/// for 20 s of simulated time, then shuts it down; returns the history lines of the controller.
fn run_controller(
    seed: u64,
    script: fn(u32) -> Result<Action, String>,
    leak: bool,
) -> (Vec<String>, Result<(), kubesim_controller::Leak>) {
    // Each world gets a fresh thread: a test that builds two worlds would otherwise share hash keys.
    kubesim::isolated(|| run_controller_here(seed, script, leak))
}

fn run_controller_here(
    seed: u64,
    script: fn(u32) -> Result<Action, String>,
    leak: bool,
) -> (Vec<String>, Result<(), kubesim_controller::Leak>) {
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Failed(String);
    let mut w = common::world(seed, &[0]);
    let recorder = w.recorder().clone();
    let leaks = Arc::new(Mutex::new(None));
    let leaks_out = leaks.clone();
    common::client(
        &mut w,
        "controller",
        Target::Replica(0),
        move |c| async move {
            let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
            api.create(&PostParams::default(), &cm("a")).await?;
            let controller = Controller::new(
                api,
                ControllerConfig {
                    shutdown_grace: Duration::from_secs(1),
                    ..ControllerConfig::default()
                },
            )
            .observer(HostObserver::shared(recorder, "controller"));
            let tasks = controller.tasks();
            let before = tasks.live();
            if leak {
                // The classic bug: a worker loop with no exit on shutdown.
                tasks.spawn("leaky-poller", async {
                    loop {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                });
            }
            let stop = Context::background();
            let attempts = Arc::new(AtomicU32::new(0));
            let reconcile = move |_o: Arc<ConfigMap>, _ctx: Context, n: Arc<AtomicU32>| async move {
                let attempt = n.fetch_add(1, Ordering::Relaxed) + 1;
                script(attempt).map_err(Failed)
            };
            let policy = |_o: Arc<ConfigMap>,
                          e: &kubesim_controller::ReconcileError<Failed>,
                          _d: Arc<AtomicU32>| {
                if e.to_string().contains("terminal") {
                    Action::await_change()
                } else {
                    Action::requeue()
                }
            };
            let stopper = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(20)).await;
                stopper.cancel(CancelReason::Shutdown);
            });
            let run = controller.run(reconcile, policy, attempts, stop);
            if leak {
                // `run` waits for every task it tracks; the leak keeps it waiting, so bound it.
                let _ = tokio::time::timeout(Duration::from_secs(30), run).await;
            } else {
                run.await;
            }
            *leaks_out.lock().unwrap() = Some(check_leaks(&before, &tasks.live()));
            Ok(())
        },
    );
    common::run(&mut w);
    let lines = w
        .recorder()
        .events()
        .iter()
        .filter(|e| e.host == "controller")
        .map(|e| e.kind.to_string())
        .collect();
    let leak = leaks
        .lock()
        .unwrap()
        .take()
        .expect("the client ran to the end");
    (lines, leak)
}

#[test]
fn a_failing_reconcile_is_requeued_with_growing_rate_limited_delays_then_forgotten_on_success() {
    let (lines, leaks) = run_controller(
        23,
        |n| {
            if n < 4 {
                Err(format!("boom {n}"))
            } else {
                Ok(Action::await_change())
            }
        },
        false,
    );
    let ends: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("reconcile-end"))
        .collect();
    assert_eq!(ends.len(), 4, "{ends:?}");
    for (i, l) in ends.iter().enumerate().take(3) {
        assert!(l.contains(&format!("attempt={} error", i + 1)), "{l}");
    }
    assert!(ends[3].contains("attempt=4 ok"), "{}", ends[3]);
    assert_eq!(
        lines.iter().filter(|l| l.contains("rate-limited")).count(),
        3
    );
    leaks.expect("no task outlives the controller");
}

#[test]
fn requeue_after_comes_back_after_the_delay_and_a_terminal_error_is_not_retried() {
    let (lines, _) = run_controller(
        24,
        |n| {
            if n == 1 {
                Ok(Action::requeue_after(Duration::from_secs(3)))
            } else {
                Err("terminal".into())
            }
        },
        false,
    );
    let ends: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("reconcile-end"))
        .collect();
    assert_eq!(ends.len(), 2, "{ends:?}");
    assert!(ends[0].contains("ok requeue-after 3000ms"));
    assert!(
        ends[1].contains("attempt=1 terminal"),
        "the requeue_after reset the limiter: {}",
        ends[1]
    );
    assert!(lines.iter().any(|l| l.contains("after 3000ms")));
}

#[test]
fn shutdown_leaves_no_task_behind_and_a_leaking_worker_is_named() {
    let (lines, clean) = run_controller(25, |_| Ok(Action::await_change()), false);
    clean.expect("no task outlives the controller");
    assert!(lines.iter().any(|l| l.ends_with("stopped")));
    let (_, leaky) = run_controller(25, |_| Ok(Action::await_change()), true);
    let leak = leaky.expect_err("the leaking loop is caught");
    assert_eq!(leak.leaked, vec!["leaky-poller"]);
}

#[test]
fn losing_leadership_cancels_in_flight_reconciles_with_reason_leadership_lost() {
    use k8s_openapi::api::coordination::v1::Lease;
    use kubesim_controller::leader::{
        run_while_leading, LeaderElectionConfig, LeaderElector, TokioClock,
    };
    let mut w = common::world(26, &[0]);
    // Cut the replica off from the API server once it leads: renewals fail for RenewDeadline.
    w.schedule(
        Duration::from_secs(5),
        kubesim::faults::FaultAction::Partition("leader".into(), "apiserver-0".into()),
    );
    let recorder = w.recorder().clone();
    common::client(&mut w, "leader", Target::Replica(0), move |c| async move {
        let observer = HostObserver::shared(recorder.clone(), "leader");
        let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
        api.create(&PostParams::default(), &cm("slow")).await?;
        let elector = LeaderElector::new(
            Api::<Lease>::namespaced(c.clone(), "default"),
            "lead",
            LeaderElectionConfig::new("leader".to_string()),
            Arc::new(TokioClock::default()),
            Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(3)),
        )?
        .observer(observer.clone());
        let stop = Context::background();
        let stopper = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(40)).await;
            stopper.cancel(CancelReason::Shutdown);
        });
        run_while_leading(&elector, &stop, |lead| {
            let (api, observer) = (api.clone(), observer.clone());
            async move {
                // A reconcile that takes a minute: it is in flight when leadership is lost.
                let slow = |_o: Arc<ConfigMap>, ctx: Context, _d: Arc<()>| async move {
                    ctx.run(tokio::time::sleep(Duration::from_secs(60)))
                        .await
                        .ok();
                    Ok::<_, std::io::Error>(Action::await_change())
                };
                Controller::new(
                    api,
                    ControllerConfig {
                        reconcile_timeout: None,
                        ..ControllerConfig::default()
                    },
                )
                .observer(observer)
                .run(
                    slow,
                    kubesim_controller::default_error_policy,
                    Arc::new(()),
                    lead,
                )
                .await;
            }
        })
        .await;
        let lines: Vec<String> = recorder
            .events()
            .iter()
            .filter(|e| e.host == "leader")
            .map(|e| e.kind.to_string())
            .collect();
        let end = lines
            .iter()
            .find(|l| l.starts_with("reconcile-end default/slow"))
            .expect("the reconcile ended");
        assert!(end.contains("cancelled leadership lost"), "{end}");
        assert!(
            !end.contains("deadline"),
            "a cancellation is not reported as a timeout: {end}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("stopping: leadership lost")),
            "{lines:?}"
        );
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn the_store_handed_out_before_run_is_the_cache_the_controller_fills() {
    kubesim::isolated(|| {
        let mut w = common::world(5, &[0]);
        let recorder = w.recorder().clone();
        let seen = Arc::new(AtomicU32::new(0));
        let seen_out = seen.clone();
        common::client(
            &mut w,
            "controller",
            Target::Replica(0),
            move |c| async move {
                let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
                api.create(&PostParams::default(), &cm("a")).await?;
                let controller = Controller::new(api, ControllerConfig::default())
                    .observer(HostObserver::shared(recorder, "controller"));
                // A mapper or a reconcile reads the primary cache through this handle.
                let store = controller.store();
                let stop = Context::background();
                let stopper = stop.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    stopper.cancel(CancelReason::Shutdown);
                });
                let reconcile = move |o: Arc<ConfigMap>, _ctx: Context, seen: Arc<AtomicU32>| {
                    let cached = store.get(&kubesim_controller::ObjectRef::of(o.as_ref()));
                    async move {
                        if cached.is_some_and(|c| c.name_any() == "a") {
                            seen.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok::<_, std::convert::Infallible>(Action::await_change())
                    }
                };
                controller
                    .run(reconcile, |_, _, _| Action::requeue(), seen_out, stop)
                    .await;
                Ok(())
            },
        );
        common::run(&mut w);
        assert!(
            seen.load(Ordering::Relaxed) >= 1,
            "the reconcile found its object in the store handed out by Controller::store"
        );
    });
}
