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
//! On top of the `replicagroup` world's faults, each run cuts the controller off from every
//! replica once, for 10 to 18 s, before the world heals. The controller resyncs its groups every
//! [`RESYNC`], so it keeps calling during the cut (its watches are held too).

use super::{add_controller, check_with};
use crate::history::Recorder;
use crate::scenario::pitfalls::pair;
use crate::scenario::replicagroup::{self, CONTROLLER, HEAL_AT};
use crate::scenario::Scenario;
use crate::transport::{self, ClientOptions, Target, Timeouts};
use crate::world::{FaultAction, FaultProfile, World};
use kubesim_controller::{reference, ControllerConfig, InformerConfig};
use kubesim_model::HistoryEvent;
use rand::Rng;
use std::time::Duration;

/// How long each API call of the reconciler may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the controller re-delivers every group to its queue.
pub const RESYNC: Duration = Duration::from_secs(5);

/// The `replicagroup` controller's settings, with a resync.
fn config(seed: u64) -> ControllerConfig {
    let base = replicagroup::controller_config(seed);
    ControllerConfig {
        informer: InformerConfig {
            resync: Some(RESYNC),
            ..base.informer.clone()
        },
        ..base
    }
}

fn check(world: &crate::world::World, history: &[HistoryEvent]) -> Vec<crate::oracle::Violation> {
    let timeout = config(0).reconcile_timeout;
    check_with(
        world,
        history,
        timeout.expect("invariant: reconciles have a deadline"),
    )
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
        "deadline-respected",
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
        add_controller(w, config, client, reference::reconcile)
    });
    isolate_controller(world);
}

/// Cuts the controller off from every replica once, for longer than [`CALL_TIMEOUT`], healed
/// by [`HEAL_AT`].
fn isolate_controller(world: &mut World) {
    let mut rng = world.fork_rng();
    if world.faults == FaultProfile::None {
        return;
    }
    let at = Duration::from_millis(rng.random_range(3_000..20_000));
    let end = (at + Duration::from_millis(rng.random_range(10_000..18_000))).min(HEAL_AT);
    for r in world.replicas.clone() {
        world.schedule(at, FaultAction::Partition(CONTROLLER.into(), r.clone()));
        world.schedule(end, FaultAction::Repair(CONTROLLER.into(), r));
    }
}
