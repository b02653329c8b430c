//! Pitfall 5: a nested timeout that extends the parent's deadline.
//!
//! Each reconcile has a 3 s deadline (the runtime's `reconcile_timeout`) and writes the group's
//! status every time. The status write is slow when the API server is, and the developer, tired
//! of seeing it cut short with the reconcile, moves it to a task of its own with a budget of its
//! own, [`STATUS_TIMEOUT`]. In `nested-timeout` that budget starts from `Context::background()`:
//! when the reconcile is cut at its deadline, the write lives on and lands later, on behalf of a
//! reconcile that has already been retried: `no-work-after-deadline` catches the call.
//! `nested-timeout-fixed` derives the budget from the reconcile's context (`ctx.with_timeout`),
//! which keeps the earlier of the two deadlines.
//!
//! Why a task: the runtime cuts a reconcile at its deadline by dropping its future, so a fresh
//! deadline inside it cannot extend it (in Go, where a reconcile runs until it returns, it does).
//! Work moved to a task of its own is where a fresh deadline does harm.
//!
//! On top of the `replicagroup` world's faults, the API server replicas answer a tenth of the
//! requests late (up to 15 s) until the world heals.

use super::{add_controller, check_with};
use crate::faults::{FaultAction, FaultProfile};
use crate::history::Recorder;
use crate::oracle::names;
use crate::oracle::Violation;
use crate::scenario::pitfalls::pair;
use crate::scenario::replicagroup;
use crate::scenario::Scenario;
use crate::transport::{self, ClientOptions, Target, Timeouts};
use crate::world::World;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use kubesim_controller::reference::{self, ReplicaGroup, ReplicaGroupStatus, FINALIZER};
use kubesim_controller::{Action, Cancelled, Context};
use kubesim_model::{EventKind, HistoryEvent};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The status write's own budget.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(30);
/// Each reconcile's deadline.
pub const RECONCILE_TIMEOUT: Duration = Duration::from_secs(3);

fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    check_with(world, history, RECONCILE_TIMEOUT)
}

/// Share of the requests the replicas answer late, and how late at most.
const SLOW_RATE: f64 = 0.1;
const SLOW_MAX: Duration = Duration::from_secs(15);

/// What went wrong in a reconcile.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// The reference part failed.
    #[error(transparent)]
    Reference(#[from] reference::Error),
    /// The status write failed.
    #[error("update status: {0}")]
    Status(#[source] kube::Error),
    /// The status write ran out of time.
    #[error("update status: {0}")]
    StatusCut(Cancelled),
    /// The status write's task panicked or was aborted.
    #[error("update status: {0}")]
    StatusTask(#[source] tokio::task::JoinError),
}

/// The pair.
pub(super) fn scenarios() -> Vec<Scenario> {
    let mut out = pair(
        ("nested-timeout", "nested-timeout-fixed"),
        (
            "pitfall 5: a status write on its own task with a fresh 30 s deadline outlives the reconcile",
            "pitfall 5 fixed: the status write's deadline is derived from the reconcile's context",
        ),
        names::NO_WORK_AFTER_DEADLINE,
        |w| setup(w, false),
        |w| setup(w, true),
    );
    for s in &mut out {
        s.check = check;
    }
    out.into()
}

fn setup(world: &mut World, fixed: bool) {
    replicagroup::setup_with(world, |w| {
        add_controller(w, RECONCILE_TIMEOUT, client, move |g, ctx, data| {
            reconcile(g, ctx, data, fixed)
        })
    });
    slow_api(world);
}

/// The reconciler's client: kube's default timeouts, every call recorded.
fn client(host: &str, target: Target, recorder: Recorder) -> kube::Client {
    let options = ClientOptions {
        timeouts: Timeouts::KUBE_DEFAULTS,
        record_calls: true,
        call_deadline: None,
    };
    transport::client_with(host, target, recorder, options)
}

/// The reference controller's reconcile, with the status written every time, by
/// [`write_status`] (an unchanged status is not written again by the API server).
async fn reconcile(
    group: Arc<ReplicaGroup>,
    ctx: Context,
    data: Arc<reference::Data>,
    fixed: bool,
) -> Result<Action, Error> {
    let status = ReplicaGroupStatus {
        replicas: group.spec.replicas,
        observed_generation: group.meta().generation,
    };
    // The reference writes the status last, when it differs: show it a group whose status is
    // already right, and write the status here instead.
    let mut shown = (*group).clone();
    shown.status = Some(status.clone());
    let action = reference::reconcile(Arc::new(shown), ctx.clone(), data.clone()).await?;
    // The reference made the pods (rather than deleting, or adding its finalizer first).
    let made_pods = group.meta().deletion_timestamp.is_none()
        && group.finalizers().iter().any(|f| f == FINALIZER);
    if made_pods {
        write_status(&ctx, &data.client, &group, status, fixed).await?;
    }
    Ok(action)
}

/// Writes `status` on a task of its own, so that the write is not cut short with the reconcile.
async fn write_status(
    ctx: &Context,
    client: &kube::Client,
    group: &ReplicaGroup,
    status: ReplicaGroupStatus,
    fixed: bool,
) -> Result<(), Error> {
    let budget = if fixed {
        ctx.with_timeout(STATUS_TIMEOUT)
    } else {
        // The mistake: a fresh deadline, whatever is left of the reconcile's.
        Context::background().with_timeout(STATUS_TIMEOUT)
    };
    let ns = group.namespace().unwrap_or_else(|| "default".into());
    let groups: Api<ReplicaGroup> = Api::namespaced(client.clone(), &ns);
    let name = group.name_any();
    let patch = Patch::Merge(json!({ "status": status }));
    let write = tokio::spawn(async move {
        budget
            .run(groups.patch_status(&name, &PatchParams::default(), &patch))
            .await
    });
    match write.await {
        Ok(Ok(Ok(_))) => Ok(()),
        Ok(Ok(Err(e))) => Err(Error::Status(e)),
        Ok(Err(cut)) => Err(Error::StatusCut(cut)),
        Err(e) => Err(Error::StatusTask(e)),
    }
}

/// The replicas answer a quarter of the requests up to 30 s late, until the heal time; the other
/// API faults the `replicagroup` world drew stay as drawn.
fn slow_api(world: &mut World) {
    if world.fault_profile() == FaultProfile::None {
        return;
    }
    let seed = world.fork_seed();
    let mut faults = world.cluster().replica_faults();
    let healing = !faults.is_none();
    faults.slow_rate = SLOW_RATE;
    faults.slow_max = SLOW_MAX;
    if !healing {
        faults.seed = seed;
    }
    world.recorder().record(
        "sim",
        EventKind::Fault {
            text: format!(
                "api slow={:.3} up to {}ms",
                faults.slow_rate,
                faults.slow_max.as_millis()
            ),
        },
    );
    world.cluster().set_replica_faults(faults);
    if !healing {
        world.schedule(world.harness_heal_at(), FaultAction::HealApiFaults);
    }
}
