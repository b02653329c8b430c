//! Pitfall 6, "fake timeout": leadership loss reported as a timeout.
//!
//! The `replicagroup` world (with one API server replica) and two controller replicas,
//! `controller-0` and `controller-1`, in warm standby (the pattern of kube-rs operators with a
//! Lease): both run the controller (its informers keep their caches warm), and both run a [`LeaderElector`] on Lease `default/lead`
//! (client-go's defaults, 15 s / 10 s / 2 s) under [`run_while_leading`], which publishes the
//! current term's context. A reconcile on a replica that does not lead does nothing and looks
//! again in [`STANDBY_RECHECK`]; on the leader, it runs the reference reconcile under the term's
//! context with a budget of [`WORK_TIMEOUT`] (`lead.with_timeout(..)`), and resyncs every
//! [`RESYNC`].
//!
//! `controller-0` starts a moment after `controller-1`, so `controller-1` usually leads first.
//! Besides the `replicagroup` faults (which hit `controller-0`), both replicas are cut off from
//! every API server replica for 12 to 18 s (the network of their node fails): the leader's
//! reconciles hang, its renewals fail, and after `renew_deadline` it loses the lease, which
//! cancels the term's context under the reconcile in flight. After the partition, a replica
//! acquires the lease again and the groups converge.
//!
//! The mistake is the natural `Err(_) => Error::TimedOut` on the context's result: the developer
//! thinks the only way it can fail is the budget running out, so the reconcile cut short by the
//! lease loss is reported as `timed out after 5s`, a timeout that never happened. The
//! `honest-cancel-reason` oracle ([`crate::oracle::cancel_reason`]) catches it. The fix,
//! `fake-timeout-fixed`, keeps the reason: `Err(cut) => Error::CutShort(cut)`
//! ([`Cancelled::reason`] is `leadership lost`).

use crate::faults::{FaultAction, FaultProfile};
use crate::oracle::names;
use crate::oracle::{self, Violation};
use crate::scenario::pitfalls;
use crate::scenario::replicagroup;
use crate::scenario::Scenario;
use crate::world::{World, WorldConfig};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_controller::{
    default_error_policy, run_while_leading, Action, Cancelled, Context, Controller,
    InformerConfig, LeaderElectionConfig, LeaderElector, TokioClock,
};
use kubesim_model::HistoryEvent;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The lease the replicas elect a leader on (namespace `default`).
pub const LEASE: &str = "lead";
/// The budget of a leader's reconcile.
pub const WORK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a leader reconciles a group that has not changed.
pub const RESYNC: Duration = Duration::from_secs(5);
/// How soon a replica that does not lead looks at a group again.
pub const STANDBY_RECHECK: Duration = Duration::from_secs(5);

/// The pair.
pub(super) fn scenarios() -> Vec<Scenario> {
    let [mut buggy, mut fixed] = pitfalls::pair(
        ("fake-timeout", "fake-timeout-fixed"),
        (
            "pitfall 6: a reconcile cut short by the loss of the lease is reported as a timeout",
            "pitfall 6 fixed: the reconcile reports why its context ended (leadership lost)",
        ),
        names::HONEST_CANCEL_REASON,
        |w| setup(w, false),
        |w| setup(w, true),
    );
    for s in [&mut buggy, &mut fixed] {
        s.config = config;
        s.check = check;
    }
    vec![buggy, fixed]
}

/// The `replicagroup` world with one API server replica: two controller replicas instead of one
/// keep the host count, and so the cost of a seed, where it was.
fn config(rng: &mut ChaCha8Rng) -> WorldConfig {
    WorldConfig {
        replicas: 1,
        ..replicagroup::config(rng)
    }
}

/// The judge: the pitfall oracles ([`pitfalls::check`]) and `honest-cancel-reason`.
fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = pitfalls::check(world, history);
    out.extend(oracle::honest_cancel_reason(history));
    out
}

fn setup(world: &mut World, honest: bool) {
    replicagroup::setup_with(world, |w| {
        let mut rng = w.fork_rng();
        // controller-1 starts first and usually leads; controller-0, the host the `replicagroup`
        // faults crash and partition, starts a moment later.
        add_replica(w, 1, Duration::ZERO, honest);
        let late = Duration::from_millis(rng.random_range(1_000..3_000));
        add_replica(w, 0, late, honest);
        if w.fault_profile() != FaultProfile::None {
            // Cut both replicas off from every API server replica, during the fault phase, long
            // enough for the leader (whichever it is) to lose the lease (renew_deadline is 10 s).
            let at = Duration::from_millis(rng.random_range(5_000..22_000));
            let end = (at + Duration::from_millis(rng.random_range(12_000..18_000)))
                .min(w.harness_heal_at());
            for i in [1, 0] {
                for r in w.replicas().to_vec() {
                    w.schedule(at, FaultAction::Partition(host(i), r.clone()));
                    w.schedule(end, FaultAction::Repair(host(i), r));
                }
            }
        }
    });
}

fn host(i: usize) -> String {
    format!("controller-{i}")
}

/// What the reconcile of a replica knows: the reference controller's client, and the context of
/// the term this replica leads, if it leads.
struct Data {
    reference: Arc<reference::Data>,
    term: Term,
    honest: bool,
}

/// The current term's context, published by the elector's `run_while_leading`.
#[derive(Clone, Default)]
struct Term(Arc<Mutex<Option<Context>>>);

impl Term {
    fn set(&self, lead: Option<Context>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = lead;
    }

    /// The context of the term in progress (`None` when not leading, or when the term is over).
    fn current(&self) -> Option<Context> {
        let lead = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        lead.filter(|l| !l.is_done())
    }
}

/// What a reconcile failed with.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// The reference reconcile failed.
    #[error(transparent)]
    Reconcile(#[from] reference::Error),
    /// The mistake's report.
    #[error("timed out after {}s", WORK_TIMEOUT.as_secs())]
    TimedOut,
    /// The fix's report: why the work's context ended.
    #[error("cut short: {0}")]
    CutShort(Cancelled),
}

async fn reconcile(
    group: Arc<ReplicaGroup>,
    ctx: Context,
    data: Arc<Data>,
) -> Result<Action, Error> {
    let Some(lead) = data.term.current() else {
        return Ok(Action::requeue_after(STANDBY_RECHECK));
    };
    let work = lead.with_timeout(WORK_TIMEOUT);
    match work
        .run(reference::reconcile(group, ctx, data.reference.clone()))
        .await
    {
        Ok(done) => done
            .map(|_| Action::requeue_after(RESYNC))
            .map_err(Error::from),
        Err(cut) if data.honest => Err(Error::CutShort(cut)),
        // The mistake: "the only way `run` fails is our budget running out".
        Err(_) => Err(Error::TimedOut),
    }
}

/// Adds replica `i` (host `controller-i`), starting `start_after` into its life.
fn add_replica(world: &mut World, i: usize, start_after: Duration, honest: bool) {
    let name = host(i);
    let seed = world.fork_seed();
    let jitter_seed = world.fork_seed();
    world.add_controller_seeded(&name, seed, move |host| {
        let name = host.name().to_string();
        async move {
            tokio::time::sleep(start_after).await;
            let (client, observer) = (host.client(), host.observer());
            let elector = LeaderElector::new(
                Api::<Lease>::namespaced(client.clone(), "default"),
                LEASE,
                LeaderElectionConfig::new(name.clone()),
                Arc::new(TokioClock::default()),
                Box::new(ChaCha8Rng::seed_from_u64(jitter_seed)),
            )?
            .observer(observer.clone());
            let term = Term::default();
            let controller = Controller::new(
                Api::<ReplicaGroup>::all(client.clone()),
                replicagroup::controller_config(seed),
            )
            .owns(Api::<Pod>::all(client.clone()), InformerConfig::default())
            .observer(observer);
            let data = Arc::new(Data {
                reference: Arc::new(reference::Data { client }),
                term: term.clone(),
                honest,
            });
            let stop = Context::background();
            let elect = run_while_leading(&elector, &stop, |lead| {
                let term = term.clone();
                async move {
                    term.set(Some(lead.clone()));
                    lead.done().await;
                    term.set(None);
                }
            });
            let control = controller.run(reconcile, default_error_policy, data, stop.clone());
            tokio::join!(elect, control);
            Ok::<(), Box<dyn std::error::Error>>(())
        }
    });
}
