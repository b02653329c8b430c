//! Pitfalls 10 and 11: ignoring 409 Conflict, and requeueing on error without rate limiting.
//! Both pairs run the `replicagroup` world (workload, faults, `converges`) with one more client.
//!
//! **`ignore-conflict`** (pitfall 10). The controller adds its finalizer with a full-object update
//! of its cached copy (client-go's `Update`). A 409 says someone changed the group since that copy
//! was read; the mistake is to "just force it": fetch the latest resourceVersion, stamp it on the
//! stale copy and update again. The forced update puts the stale spec back, undoing the other
//! writer's change. The extra client, `scaler`, does what `kubectl create`, `kubectl scale` and
//! `kubectl get -w` do: it creates groups `s0`..`s2`, scales each one a moment later, while the
//! controller's copy is still the created one (its watch cache lags), and watches it for a while.
//! `no-lost-update` ([`crate::oracle::lost_update`]) catches the scaler seeing its acknowledged
//! scale undone, or storage not holding it at the end. Both count: the controller often puts the
//! scale back itself, because the scale's own event brings it a copy that still lacks the
//! finalizer, which it forces through in turn; the group's pods were deleted and made again
//! meanwhile, and when no such event comes (the two events reach the cache together), the scale
//! is lost for good. `ignore-conflict-fixed` returns the 409 as an error: the default error policy
//! requeues the group and the next reconcile starts from the new copy.
//!
//! **`hot-loop`** (pitfall 11). The extra client, `tenant`, creates a group whose name is 253
//! characters, the longest a name may be. Pod names are `<group>-<index>`, so every pod of that
//! group is rejected (422 Invalid) and its reconcile fails every time. The mistake is an error
//! policy that retries at once (`Action::requeue_after(Duration::ZERO)`): the controller hammers
//! the API server, and `no-hot-loop` catches the retries. `hot-loop-fixed` uses
//! [`default_error_policy`] (rate-limited requeue: 5 ms doubling up to 1000 s). That group can
//! never converge (no pod name derived from it is valid, whatever the controller does), so the
//! `converges` check of both variants leaves it out; every other group must converge as usual.

use crate::history::Recorder;
use crate::observe::HostObserver;
use crate::oracle::names;
use crate::oracle::{self, Violation};
use crate::scenario::pitfalls;
use crate::scenario::replicagroup::{self, CONTROLLER};
use crate::scenario::Scenario;
use crate::transport::{self, Target};
use crate::world::World;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::{Resource, ResourceExt};
use kubesim_controller::reference::{self, ReplicaGroup, ReplicaGroupSpec, FINALIZER};
use kubesim_controller::{
    default_error_policy, Action, Context, Controller, InformerConfig, ReconcileError,
};
use kubesim_model::HistoryEvent;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let [mut buggy, mut fixed] = pitfalls::pair(
        ("ignore-conflict", "ignore-conflict-fixed"),
        (
            "pitfall 10: on 409 the controller forces its stale copy through, undoing a scale",
            "pitfall 10 fixed: a 409 is an error; the group is requeued and re-read",
        ),
        names::NO_LOST_UPDATE,
        |w| setup(w, Variant::ForceOnConflict { fixed: false }),
        |w| setup(w, Variant::ForceOnConflict { fixed: true }),
    );
    buggy.check = check;
    fixed.check = check;
    out.extend([buggy, fixed]);
    let [mut buggy, mut fixed] = pitfalls::pair(
        ("hot-loop", "hot-loop-fixed"),
        (
            "pitfall 11: a persistent error (an invalid pod name) retried at once, forever",
            "pitfall 11 fixed: the default error policy requeues with per-key backoff",
        ),
        names::NO_HOT_LOOP,
        |w| setup(w, Variant::HotLoop { fixed: false }),
        |w| setup(w, Variant::HotLoop { fixed: true }),
    );
    buggy.check = check;
    fixed.check = check;
    out.extend([buggy, fixed]);
    out
}

#[derive(Clone, Copy)]
enum Variant {
    ForceOnConflict { fixed: bool },
    HotLoop { fixed: bool },
}

fn setup(world: &mut World, v: Variant) {
    replicagroup::setup_with(world, |w| {
        add_controller(w, v);
        match v {
            Variant::ForceOnConflict { .. } => add_scaler(w),
            Variant::HotLoop { .. } => add_tenant(w),
        }
    });
}

/// The name of the group no pod can be made for: 253 characters, the longest name there is,
/// so `<name>-<index>` is always too long.
fn stuck_group() -> String {
    let mut name = "preview-".to_string();
    while name.len() < 253 {
        name.push_str("feature-branch-");
    }
    name.truncate(253);
    name.truncate(name.trim_end_matches('-').len());
    while name.len() < 253 {
        name.push('x');
    }
    debug_assert_eq!(name.len(), 253);
    name
}

/// The judge of both pairs: the `replicagroup` oracles (with the stuck group out of `converges`,
/// see the module doc), `no-leaked-tasks`, and `no-lost-update` on `spec.replicas`.
fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    judge(world, history, Some(1))
}

/// [`check`] with `concurrency` as the bound on reconciles at once per host (none for
/// kube-runtime, which reconciles distinct keys concurrently).
pub(super) fn judge(
    world: &World,
    history: &[HistoryEvent],
    concurrency: Option<usize>,
) -> Vec<Violation> {
    let mut out = oracle::watch_guarantees(history, &[]);
    out.extend(oracle::no_concurrent_reconcile(history));
    if let Some(bound) = concurrency {
        out.extend(oracle::bounded_concurrency(history, bound));
    }
    out.extend(oracle::no_hot_loop(history, oracle::HotLoop::default()));
    out.extend(oracle::no_leaked_tasks(history));
    let objects = world.cluster().state().objects();
    let stuck = stuck_group();
    let groups: Vec<ReplicaGroup> = objects
        .iter()
        .filter(|(k, _)| k.resource == "replicagroups.kubesim.io")
        .filter_map(|(_, v)| ReplicaGroup::deserialize(&**v).ok())
        .collect();
    let pods: Vec<Pod> = objects
        .iter()
        .filter(|(k, _)| k.resource == "pods")
        .filter_map(|(_, v)| Pod::deserialize(&**v).ok())
        .collect();
    let judged: Vec<ReplicaGroup> = groups
        .iter()
        .filter(|g| g.name_any() != stuck)
        .cloned()
        .collect();
    if let Err(why) = reference::converged(&judged, &pods) {
        out.push(Violation {
            oracle: names::CONVERGES,
            time_us: world.elapsed().as_micros() as u64,
            event_id: history.last().map(|e| e.id),
            message: format!(
                "not converged after healing at {}s: {why}",
                world.harness_heal_at().as_secs()
            ),
        });
    }
    let stored: BTreeMap<String, String> = groups
        .iter()
        .filter(|g| g.namespace().as_deref() == Some("default"))
        .map(|g| (g.name_any(), g.spec.replicas.to_string()))
        .collect();
    out.extend(oracle::no_lost_update(
        history,
        "replicagroups.kubesim.io/default",
        "replicas",
        &stored,
    ));
    out
}

/// The controller of both pairs, on host [`CONTROLLER`]: the reference controller's settings and
/// informers, with the variant's reconcile and error policy.
fn add_controller(world: &mut World, v: Variant) {
    let replicas = world.replicas().len();
    let seed = world.fork_seed();
    let recorder = world.recorder().clone();
    world.host(CONTROLLER, move || {
        let recorder = recorder.clone();
        async move {
            let client =
                transport::client(CONTROLLER, Target::Any { replicas, seed }, recorder.clone());
            let controller = Controller::new(
                Api::<ReplicaGroup>::all(client.clone()),
                replicagroup::controller_config(seed),
            )
            .owns(Api::<Pod>::all(client.clone()), InformerConfig::default())
            .observer(HostObserver::shared(recorder, CONTROLLER));
            let data = Arc::new(reference::Data { client });
            let stop = Context::background();
            match v {
                Variant::ForceOnConflict { fixed: false } => {
                    controller
                        .run(forcing_reconcile, default_error_policy, data, stop)
                        .await
                }
                Variant::ForceOnConflict { fixed: true } => {
                    controller
                        .run(requeueing_reconcile, default_error_policy, data, stop)
                        .await
                }
                Variant::HotLoop { fixed: false } => {
                    controller
                        .run(reference::reconcile, retry_at_once, data, stop)
                        .await
                }
                Variant::HotLoop { fixed: true } => {
                    controller
                        .run(reference::reconcile, default_error_policy, data, stop)
                        .await
                }
            }
            Ok(())
        }
    });
}

/// Pitfall 11: "retry right away", whatever the error.
fn retry_at_once(
    _group: Arc<ReplicaGroup>,
    _err: &ReconcileError<reference::Error>,
    _data: Arc<reference::Data>,
) -> Action {
    Action::requeue_after(Duration::ZERO)
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

fn api_err(what: &str) -> impl FnOnce(kube::Error) -> reference::Error + '_ {
    move |source| reference::Error::Api {
        what: what.into(),
        source,
    }
}

/// Pitfall 10's reconcile: the reference reconcile, except that the finalizer is added with a
/// full-object update that forces its way past a 409.
pub(super) fn forcing_reconcile(
    group: Arc<ReplicaGroup>,
    ctx: Context,
    data: Arc<reference::Data>,
) -> impl Future<Output = Result<Action, reference::Error>> {
    reconcile_with_update(group, ctx, data, true)
}

/// Pitfall 10 fixed: the same update, with a 409 returned as an error.
pub(super) fn requeueing_reconcile(
    group: Arc<ReplicaGroup>,
    ctx: Context,
    data: Arc<reference::Data>,
) -> impl Future<Output = Result<Action, reference::Error>> {
    reconcile_with_update(group, ctx, data, false)
}

async fn reconcile_with_update(
    group: Arc<ReplicaGroup>,
    ctx: Context,
    data: Arc<reference::Data>,
    force: bool,
) -> Result<Action, reference::Error> {
    let needs_finalizer = group.meta().deletion_timestamp.is_none()
        && !group.finalizers().iter().any(|f| f == FINALIZER);
    if !needs_finalizer {
        return reference::reconcile(group, ctx, data).await;
    }
    let ns = group.namespace().unwrap_or_else(|| "default".into());
    let name = group.name_any();
    let groups: Api<ReplicaGroup> = Api::namespaced(data.client.clone(), &ns);
    let pp = PostParams::default();
    let mut updated = (*group).clone();
    updated.finalizers_mut().push(FINALIZER.into());
    match groups.replace(&name, &pp, &updated).await {
        Err(e) if force && is_conflict(&e) => {
            // The mistake: "someone else touched it; just force it". The latest resourceVersion
            // makes the cached copy's update go through, spec and all.
            let latest = groups.get(&name).await.map_err(api_err("get group"))?;
            updated.metadata.resource_version = latest.resource_version();
            groups
                .replace(&name, &pp, &updated)
                .await
                .map_err(api_err("add finalizer (forced)"))?;
        }
        // The fix: a 409 is an error like any other; the requeued reconcile starts from the
        // cache again, which by then holds the other writer's change.
        other => {
            other.map_err(api_err("add finalizer"))?;
        }
    }
    // The update brings the group back through the watch; its pods are made then.
    Ok(Action::await_change())
}

/// Runs `call` until the API server answers it, every 200 ms, for at most 50 tries; notes the
/// outcome as `no-lost-update` reads it (`<what> ok`, `<what> <code> <reason>`, `<what> gave up`).
/// A 404, or a 409 AlreadyExists on a create retried after a lost response, ends it; any other
/// error (an injected 409 Conflict included: it was not served) is retried. Returns what the API
/// server answered, on success.
async fn insist<T, F, Fut>(rec: &Recorder, host: &str, what: String, mut call: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    for _ in 0..50 {
        match tokio::time::timeout(Duration::from_secs(5), call()).await {
            Ok(Ok(written)) => {
                rec.note(host, format!("{what} ok"));
                return Some(written);
            }
            Ok(Err(kube::Error::Api(s))) if s.code == 404 || s.reason == "AlreadyExists" => {
                rec.note(host, format!("{what} {} {}", s.code, s.reason));
                return None;
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    rec.note(host, format!("{what} gave up"));
    None
}

/// How long after creating a group the scaler scales it: up to this, in milliseconds.
const SCALE_AFTER_MS_MAX: u64 = 150;
/// How long the scaler watches a group after scaling it, seconds.
const WATCH_FOR_SECS: u32 = 10;

/// Pitfall 10's extra client: creates `s0`..`s2` at drawn times during the fault phase, scales
/// each one up to [`SCALE_AFTER_MS_MAX`] later, and then watches it for [`WATCH_FOR_SECS`] from
/// its scale's resourceVersion, noting what it sees (`saw s0 replicas=4`), as `kubectl scale`
/// followed by `kubectl get -w` would.
pub(super) fn add_scaler(world: &mut World) {
    let seed = world.fork_seed();
    let target = Target::Any {
        replicas: world.replicas().len(),
        seed: world.fork_seed(),
    };
    let recorder = world.recorder().clone();
    world.client("scaler", async move {
        let client = transport::client("scaler", target, recorder.clone());
        let api: Api<ReplicaGroup> = Api::namespaced(client, "default");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let start = tokio::time::Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        let mut times: Vec<u64> = (0..3).map(|_| rng.random_range(2_000..30_000)).collect();
        times.sort_unstable();
        for (i, at) in times.into_iter().enumerate() {
            tokio::time::sleep_until(start + Duration::from_millis(at)).await;
            let name = format!("s{i}");
            let created = rng.random_range(1..=3u32);
            let scaled = rng.random_range(0..=5u32);
            let think = Duration::from_millis(rng.random_range(0..=SCALE_AFTER_MS_MAX));
            let group = ReplicaGroup::new(
                &name,
                ReplicaGroupSpec {
                    replicas: created,
                    image: "web:1".into(),
                },
            );
            let pp = PostParams::default();
            let what = format!("create {name} replicas={created}");
            insist(&recorder, "scaler", what, || api.create(&pp, &group)).await;
            tokio::time::sleep(think).await;
            let patch = Patch::Merge(json!({ "spec": { "replicas": scaled } }));
            let what = format!("scale {name} replicas={scaled}");
            let params = PatchParams::default();
            let Some(rv) = insist(&recorder, "scaler", what, || {
                api.patch(&name, &params, &patch)
            })
            .await
            .and_then(|g| g.resource_version()) else {
                continue;
            };
            watch_one(&api, &recorder, &name, &rv).await;
        }
        Ok(())
    });
}

/// Watches the groups from `rv` for [`WATCH_FOR_SECS`] and notes every value of `name`'s
/// `spec.replicas` it sees; a fault that ends the stream ends the watch.
async fn watch_one(api: &Api<ReplicaGroup>, rec: &Recorder, name: &str, rv: &str) {
    let params = WatchParams::default().timeout(WATCH_FOR_SECS);
    let bound = Duration::from_secs(u64::from(WATCH_FOR_SECS) + 5);
    let watch = async {
        let Ok(stream) = api.watch(&params, rv).await else {
            return;
        };
        let mut stream = std::pin::pin!(stream);
        while let Some(Ok(event)) = stream.next().await {
            match event {
                WatchEvent::Added(g) | WatchEvent::Modified(g) if g.name_any() == name => {
                    rec.note("scaler", format!("saw {name} replicas={}", g.spec.replicas));
                }
                WatchEvent::Error(_) => return,
                _ => {}
            }
        }
    };
    let _ = tokio::time::timeout(bound, watch).await;
}

/// Pitfall 11's extra client: creates the group no pod can be made for, at a drawn time. The
/// run stops at its first hot loop (the buggy loop would run to the end: 75,000 history events
/// under exact message times, against about 600 for the fixed twin).
pub(super) fn add_tenant(world: &mut World) {
    world.stop_at_first_hot_loop(oracle::HotLoop::default());
    let seed = world.fork_seed();
    let target = Target::Any {
        replicas: world.replicas().len(),
        seed: world.fork_seed(),
    };
    let recorder = world.recorder().clone();
    world.client("tenant", async move {
        let client = transport::client("tenant", target, recorder.clone());
        let api: Api<ReplicaGroup> = Api::namespaced(client, "default");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        tokio::time::sleep(Duration::from_millis(rng.random_range(1_000..20_000))).await;
        let name = stuck_group();
        let group = ReplicaGroup::new(
            &name,
            ReplicaGroupSpec {
                replicas: rng.random_range(1..=3),
                image: "web:1".into(),
            },
        );
        let pp = PostParams::default();
        let what = "create the 253-character group".to_string();
        insist(&recorder, "tenant", what, || api.create(&pp, &group)).await;
        Ok(())
    });
}
