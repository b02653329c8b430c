//! Pitfalls 4, 5 and 6: deadlines that do not cover a call, nested timeouts that extend the parent's deadline, and leadership loss reported as a timeout.
//!
//! Pairs 4 and 5 run the `replicagroup` world with the reference controller's runtime, set as
//! [`controller_config`] says (a deadline per reconcile, and a resync so that it keeps calling
//! the API server while faults last). Its reconciler has a client of its own, which records every
//! call it makes ([`crate::transport::ClientOptions::record_calls`]); the informers keep an
//! unrecorded one. Besides the pitfall judge ([`super::check`]), two oracles read those calls
//! ([`crate::oracle::deadline`]): `deadline-respected` (a call ends by the deadline declared for
//! it) and `no-work-after-deadline` (a call made for a reconcile ends by the reconcile's
//! deadline).
//!
//! - [`connect_timeout`]: pitfall 4, a read timeout taken for a request timeout.
//! - [`nested_timeout`]: pitfall 5, a status write given a fresh 30 s deadline.

mod connect_timeout;
mod nested_timeout;

use super::replicagroup::{self, CONTROLLER};
use crate::history::Recorder;
use crate::oracle::{self, Violation};
use crate::scenario::Scenario;
use crate::transport::Target;
use crate::world::{World, WorldConfig};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_controller::{
    default_error_policy, Action, Context, Controller, ControllerConfig, InformerConfig,
};
use kubesim_model::HistoryEvent;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How often the controller re-delivers every group to its queue.
pub const RESYNC: Duration = Duration::from_secs(5);

/// The pairs of this module, buggy then fixed.
pub(super) fn scenarios() -> Vec<Scenario> {
    let mut out = connect_timeout::scenarios();
    out.extend(nested_timeout::scenarios());
    out
}

/// The `replicagroup` controller's settings, with a deadline of `reconcile_timeout` and a
/// [`RESYNC`].
fn controller_config(seed: u64, reconcile_timeout: Duration) -> ControllerConfig {
    let base = replicagroup::controller_config(seed);
    ControllerConfig {
        reconcile_timeout: Some(reconcile_timeout),
        informer: InformerConfig {
            resync: Some(RESYNC),
            ..base.informer.clone()
        },
        ..base
    }
}

/// How the reconciler's client is made, on the controller's host.
type MakeClient = fn(&str, Target, Recorder) -> kube::Client;

/// Adds the controller on host [`CONTROLLER`], with reconciles of deadline `reconcile_timeout`:
/// informers on a plain client, `reconcile` with a client from `reconciler_client`.
fn add_controller<R, F, E>(
    world: &mut World,
    reconcile_timeout: Duration,
    reconciler_client: MakeClient,
    reconcile: R,
) where
    R: Fn(Arc<ReplicaGroup>, Context, Arc<reference::Data>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    let replicas = world.replicas().len();
    let seed = world.fork_seed();
    let reconciler_seed = world.fork_seed();
    world.add_controller_seeded(CONTROLLER, seed, move |host| {
        let reconcile = reconcile.clone();
        async move {
            let target = Target::Any {
                replicas,
                seed: reconciler_seed,
            };
            let data = Arc::new(reference::Data {
                client: reconciler_client(CONTROLLER, target, host.recorder().clone()),
            });
            Controller::new(
                Api::<ReplicaGroup>::all(host.client()),
                controller_config(seed, reconcile_timeout),
            )
            .owns(Api::<Pod>::all(host.client()), InformerConfig::default())
            .observer(host.observer())
            .run(reconcile, default_error_policy, data, Context::background())
            .await;
        }
    });
}

/// The judge of these pairs: the pitfall judge plus the deadline oracles, for reconciles of
/// deadline `reconcile_timeout`; a call may end one tick late.
fn check_with(
    world: &World,
    history: &[HistoryEvent],
    reconcile_timeout: Duration,
) -> Vec<Violation> {
    let slack = WorldConfig::default().tick;
    let mut out = super::check(world, history);
    out.extend(oracle::deadline_respected(history, slack));
    out.extend(oracle::no_work_after_deadline(
        history,
        reconcile_timeout,
        slack,
    ));
    out
}
