//! Pitfall 4: a request timeout that does not cover connection set-up.
//!
//! Every API call of the reconciler must end within [`CALL_TIMEOUT`], so that a call stuck on an
//! unreachable API server replica gives up and the retry can land on the other one. The client of
//! `connect-timeout` is configured the way kube's `Config` invites: `read_timeout` set to
//! [`CALL_TIMEOUT`], the other timeouts left at kube's defaults. hyper-timeout applies the read
//! timeout to each read on an open connection, and the connect timeout (30 s by default) to
//! connection set-up, so a call that opens a connection during a partition (the SYN is held, as
//! on a real network) hangs until the partition heals: `deadline-respected` catches it.
//! `connect-timeout-fixed` bounds the whole call with a timeout layer
//! (`ClientBuilder::with_layer(&TimeoutLayer::new(..))`, what a context's deadline does for one
//! call), connection set-up included.
//!
//! After the `replicagroup` world's faults have healed, each run cuts the controller off from
//! every replica once, for 10 to 18 s (the controller's resync keeps it calling meanwhile).

use super::{add_controller, check_with};
use crate::faults::{FaultAction, FaultProfile};
use crate::history::Recorder;
use crate::oracle::names;
use crate::oracle::Violation;
use crate::scenario::pitfalls::pair;
use crate::scenario::replicagroup::{self, CONTROLLER};
use crate::scenario::Scenario;
use crate::transport::{self, ClientOptions, Target, Timeouts};
use crate::world::World;
use kubesim_controller::reference;
use kubesim_model::HistoryEvent;
use rand::Rng;
use std::time::Duration;

/// How long each API call of the reconciler may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Each reconcile's deadline: a call cut with its reconcile ends late all the same.
pub const RECONCILE_TIMEOUT: Duration = Duration::from_secs(10);

fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    check_with(world, history, RECONCILE_TIMEOUT)
}

/// The reconciler's client options: kube's defaults with a read timeout, every call recorded
/// with its deadline.
fn options() -> ClientOptions {
    ClientOptions {
        timeouts: Timeouts {
            read: Some(CALL_TIMEOUT),
            ..Timeouts::KUBE_DEFAULTS
        },
        record_calls: true,
        call_deadline: Some(CALL_TIMEOUT),
    }
}

/// The mistake: the read timeout is taken for a bound on the whole call.
fn read_timeout_only(host: &str, target: Target, recorder: Recorder) -> kube::Client {
    transport::client_with(host, target, recorder, options())
}

/// The fix: a timeout over the whole call, connection set-up included.
fn whole_call_timeout(host: &str, target: Target, recorder: Recorder) -> kube::Client {
    let service = transport::service_with(host, target, recorder, options());
    kube::client::ClientBuilder::new(service, "default")
        .with_layer(&tower::timeout::TimeoutLayer::new(CALL_TIMEOUT))
        .build()
}

/// The pair.
pub(super) fn scenarios() -> Vec<Scenario> {
    let mut out = pair(
        ("connect-timeout", "connect-timeout-fixed"),
        (
            "pitfall 4: a read timeout taken for a request timeout; a connect hangs in a partition",
            "pitfall 4 fixed: a timeout over the whole call, connection set-up included",
        ),
        names::DEADLINE_RESPECTED,
        |w| setup(w, read_timeout_only),
        |w| setup(w, whole_call_timeout),
    );
    for s in &mut out {
        s.check = check;
    }
    out.into()
}

fn setup(world: &mut World, client: super::MakeClient) {
    replicagroup::setup_with(world, |w| {
        add_controller(w, RECONCILE_TIMEOUT, client, reference::reconcile)
    });
    isolate_controller(world);
}

/// Cuts the controller off from every replica once, for longer than [`CALL_TIMEOUT`], after
/// the heal time ([`World::harness_heal_at`]) (so that no repair of the world's own partitions ends it early).
fn isolate_controller(world: &mut World) {
    let mut rng = world.fork_rng();
    if world.fault_profile() == FaultProfile::None {
        return;
    }
    let at = world.harness_heal_at() + Duration::from_millis(rng.random_range(1_000..10_000));
    let end = at + Duration::from_millis(rng.random_range(10_000..18_000));
    for r in world.replicas().to_vec() {
        world.schedule(at, FaultAction::Partition(CONTROLLER.into(), r.clone()));
        world.schedule(end, FaultAction::Repair(CONTROLLER.into(), r));
    }
}
