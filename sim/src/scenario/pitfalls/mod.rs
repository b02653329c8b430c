//! The pitfall catalogue (docs/design.md): classic controller bugs, each as a scenario pair: `NAME`, the
//! natural mistake, expected to be caught by a named oracle, and `NAME-fixed`, the idiomatic fix,
//! expected to hold. Both run the `replicagroup` world (workload, faults, `converges` oracle) with
//! a variant of the reference controller, written with the same public API a user has.
//!
//! | pair | the mistake | caught by |
//! |---|---|---|
//! | `worker-leak` | a background loop with no exit on shutdown | `no-leaked-tasks` |
//! | `informer-leak` | a side informer run under `Context::background()`, never stopped | `no-leaked-tasks` |
//! | `spawn-per-event` | a reconcile spawned per event, bypassing the workqueue | `no-concurrent-reconcile` |
//! | `connect-timeout` | a read timeout taken for a request timeout: a connect hangs in a partition | `deadline-respected` |
//! | `nested-timeout` | a status write on its own task with a fresh deadline outlives the reconcile's | `no-work-after-deadline` |
//! | `fake-timeout` | a reconcile cut short by the loss of the lease reported as a timeout | `honest-cancel-reason` |
//! | `intermediate-state` | status acknowledges a generation before its pods exist; a crash in between is trusted after restart | `converges` |
//! | `stale-delete` | a TTL cleaner deletes by name from a lagging cache and removes the recreated object (no uid precondition) | `no-stale-delete` |
//! | `edge-triggered` | pods created/deleted by the change between old and new spec of each event, never from the current state | `converges` |
//! | `ignore-conflict` | on 409, the stale copy forced through with the latest resourceVersion | `no-lost-update` |
//! | `hot-loop` | a persistent error retried at once (`requeue_after(ZERO)`), forever | `no-hot-loop` |
//! | `finalizer-stuck` | finalizer removal left to an event that is never watched | `converges` |
//! | `kr-hot-loop`, `kr-ignore-conflict`, `kr-finalizer-stuck` | pitfalls 11, 10 and 13 on an unmodified `kube_runtime::Controller` | as their twins |

mod conflicts;
mod deadlines;
mod fake_timeout;
mod kube_runtime;
mod sieve;
mod stop_path;

use super::replicagroup::{self, CONTROLLER};
use super::{Expectation, Scenario};
use crate::kit::Shutdown;
use crate::oracle::names;
use crate::oracle::{self, Violation};
use crate::world::World;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use kube::{Resource, ResourceExt};
use kubesim_controller::reference::{self, ReplicaGroup, GROUP_LABEL};
use kubesim_controller::{
    default_error_policy, Action, Change, Context, Controller, ControllerConfig, Informer,
    InformerConfig, ObjectRef,
};
use kubesim_model::{EventKind, HistoryEvent};
use rand::SeedableRng;
use std::sync::Arc;
use std::time::Duration;

/// When the pitfall controllers are told to stop (after convergence had time to happen).
const STOP_AT: Duration = Duration::from_secs(80);

/// Seeds `kubesim explore` runs by default for each pitfall scenario.
pub const DEFAULT_SEEDS: u64 = 20;

/// A pitfall pair on the `replicagroup` world: `name` (the mistake, expected to be caught by
/// `oracle`) and `fixed` (the idiomatic fix, expected to hold). Both are judged by [`check`];
/// a module that needs another world or more oracles overrides the fields it needs.
pub(crate) fn pair(
    (name, fixed): (&'static str, &'static str),
    (summary, fixed_summary): (&'static str, &'static str),
    oracle: &'static str,
    buggy_setup: fn(&mut World),
    fixed_setup: fn(&mut World),
) -> [Scenario; 2] {
    [
        Scenario {
            name,
            summary,
            expectation: Expectation::Caught(oracle),
            seeds: DEFAULT_SEEDS,
            config: replicagroup::config,
            setup: buggy_setup,
            check,
            heal_at: None,
        },
        Scenario {
            name: fixed,
            summary: fixed_summary,
            expectation: Expectation::Holds,
            seeds: DEFAULT_SEEDS,
            config: replicagroup::config,
            setup: fixed_setup,
            check,
            heal_at: None,
        },
    ]
}

/// Every pitfall scenario, buggy then fixed, pair by pair, in catalogue order.
pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    out.extend(pair(
        ("worker-leak", "worker-leak-fixed"),
        (
            "pitfall 1: a status refresher loop with no exit on shutdown leaks its task",
            "pitfall 1 fixed: the loop exits when the stop context ends",
        ),
        names::NO_LEAKED_TASKS,
        |w| setup(w, Variant::Leak { fixed: false }),
        |w| setup(w, Variant::Leak { fixed: true }),
    ));
    out.extend(stop_path::scenarios());
    out.extend(pair(
        ("spawn-per-event", "spawn-per-event-fixed"),
        (
            "pitfall 3: a reconcile task spawned per watch event, bypassing the workqueue",
            "pitfall 3 fixed: events go through the workqueue (Controller)",
        ),
        names::NO_CONCURRENT_RECONCILE,
        |w| setup(w, Variant::SpawnPerEvent),
        |w| setup(w, Variant::Reference),
    ));
    out.extend(deadlines::scenarios());
    out.extend(fake_timeout::scenarios());
    out.extend(sieve::scenarios());
    out.extend(conflicts::scenarios());
    out.extend(pair(
        ("finalizer-stuck", "finalizer-stuck-fixed"),
        (
            "pitfall 13: the finalizer waits for a pod event the controller never watches",
            "pitfall 13 fixed: the controller owns its pods, so their deletion requeues the group",
        ),
        names::CONVERGES,
        |w| setup(w, Variant::FinalizerStuck { owns: false }),
        |w| setup(w, Variant::FinalizerStuck { owns: true }),
    ));
    out.extend(kube_runtime::scenarios());
    out
}

#[derive(Clone, Copy)]
enum Variant {
    Reference,
    Leak { fixed: bool },
    SpawnPerEvent,
    FinalizerStuck { owns: bool },
}

fn setup(world: &mut World, v: Variant) {
    replicagroup::setup_with(world, |w| add(w, v));
}

/// The judge of the pitfall pairs: the `replicagroup` oracles plus `no-leaked-tasks`.
pub(crate) fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = replicagroup::check(world, history);
    out.extend(oracle::no_leaked_tasks(history));
    out
}

/// The shutdown of a pitfall controller: the kit's [`Shutdown`] at [`STOP_AT`] of the run.
pub(crate) fn shutdown_at_stop_time() -> Shutdown {
    Shutdown::at(STOP_AT)
}

fn add(world: &mut World, v: Variant) {
    world.add_controller(CONTROLLER, move |host| async move {
        {
            let (seed, client, observer) = (host.seed(), host.client(), host.observer());
            let shutdown = shutdown_at_stop_time();
            let stop = shutdown.stop.clone();
            let config = ControllerConfig {
                shutdown_grace: Duration::from_secs(2),
                ..replicagroup::controller_config(seed)
            };
            let groups = Api::<ReplicaGroup>::all(client.clone());
            let pods = Api::<Pod>::all(client.clone());
            let data = Arc::new(reference::Data { client });
            if let Variant::SpawnPerEvent = v {
                spawn_per_event(groups, data, observer, seed, stop).await;
                return;
            }
            let mut controller = Controller::new(groups, config).observer(observer.clone());
            let owns = !matches!(v, Variant::FinalizerStuck { owns: false });
            if owns {
                controller = controller.owns(pods, InformerConfig::default());
            }
            let tasks = controller.tasks();
            let before = tasks.live();
            if let Variant::Leak { fixed } = v {
                let stop = stop.clone();
                tasks.spawn("status-refresher", async move {
                    loop {
                        if fixed {
                            if stop
                                .run(tokio::time::sleep(Duration::from_secs(5)))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        } else {
                            // The mistake: nothing here ever looks at `stop`.
                            tokio::time::sleep(Duration::from_secs(5)).await;
                        }
                    }
                });
            }
            let run = async {
                match v {
                    Variant::FinalizerStuck { .. } => {
                        controller
                            .run(finalizer_stuck, default_error_policy, data, stop.clone())
                            .await
                    }
                    _ => {
                        controller
                            .run(
                                reference::reconcile,
                                default_error_policy,
                                data,
                                stop.clone(),
                            )
                            .await
                    }
                }
            };
            shutdown
                .await_and_check_leaks(run, &before, &tasks, &observer)
                .await;
            std::future::pending::<()>().await;
        }
    });
}

/// Pitfall 3: every event spawns its own reconcile, so two reconciles of one group can run at once.
async fn spawn_per_event(
    groups: Api<ReplicaGroup>,
    data: Arc<reference::Data>,
    observer: kubesim_controller::SharedObserver,
    seed: u64,
    stop: Context,
) {
    let rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let informer = Informer::new(
        groups,
        InformerConfig::default(),
        Box::new(rng),
        observer.clone(),
    );
    informer
        .run(stop, move |change| {
            if let Change::Apply(g) = change {
                let (data, observer) = (data.clone(), observer.clone());
                // The mistake: no workqueue, no per-key exclusion, no bound on concurrency.
                tokio::spawn(async move {
                    let key = ObjectRef::of(g.as_ref()).to_string();
                    observer.record(EventKind::ReconcileBegin {
                        key: key.clone(),
                        attempt: 1,
                    });
                    let started = tokio::time::Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
                    let r = reference::reconcile(g, Context::background(), data).await;
                    observer.record(EventKind::ReconcileEnd {
                        key,
                        attempt: 1,
                        outcome: if r.is_ok() {
                            "ok".into()
                        } else {
                            "error".into()
                        },
                        duration_us: started.elapsed().as_micros() as u64,
                    });
                });
            }
        })
        .await;
}

fn is_code(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// Pitfall 13: on deletion, delete the pods and return, expecting the pods' deletion to bring the
/// group back; remove the finalizer only when no pod is left.
async fn finalizer_stuck(
    group: Arc<ReplicaGroup>,
    ctx: Context,
    data: Arc<reference::Data>,
) -> Result<Action, reference::Error> {
    if group.meta().deletion_timestamp.is_none() {
        return reference::reconcile(group, ctx, data).await;
    }
    let ns = group.namespace().unwrap_or_else(|| "default".into());
    let name = group.name_any();
    let pods: Api<Pod> = Api::namespaced(data.client.clone(), &ns);
    let existing = pods
        .list(&ListParams::default().labels(&format!("{GROUP_LABEL}={name}")))
        .await
        .map_err(|source| reference::Error::Api {
            what: "list pods".into(),
            source,
        })?
        .items;
    if existing.is_empty() {
        return reference::reconcile(group, ctx, data).await;
    }
    for p in &existing {
        match pods.delete(&p.name_any(), &DeleteParams::default()).await {
            Err(e) if !is_code(&e, 404) => {
                return Err(reference::Error::Api {
                    what: "delete pod".into(),
                    source: e,
                })
            }
            _ => {}
        }
    }
    Ok(Action::await_change())
}
