//! Bug 5: workers started before leadership. Two replicas of the controller elect a leader on a
//! Lease (kubesim-controller's `LeaderElector`, client-go's algorithm), but the user runs the
//! election beside the controller (`tokio::join!`) instead of running the controller under it:
//! both replicas reconcile from the start, leader or not. Each Pod carries its writer's
//! identity (`kubesim.io/writer`), and the `single-writer` oracle walks storage's commit log for
//! a Pod written by a replica that did not hold the lease. The fix runs the controller inside
//! `run_while_leading`, under the term's context.
//!
//! The oracle needs the whole commit log, so storage never compacts and the scenario draws no
//! library faults (they include compactions); it crashes each replica once instead (20 s and
//! 50 s, back 4 s later), so the lease changes hands during the run.

use crate::site::{self, Data, Error, Site};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubesim::prelude::*;
use kubesim_controller::leader::{run_while_leading, LeaderElectionConfig, LeaderElector};
use kubesim_controller::{
    default_error_policy, Action, ConfigError, Context, Controller, InformerConfig, TokioClock,
};
use std::sync::Arc;
use std::time::Duration;

/// Seeds the buggy variant must be caught within in CI.
const CAUGHT_WITHIN: u64 = 3;

/// The Lease the replicas elect a leader on.
const LEASE: &str = "site-controller";

/// The site controller, writing as `identity`, until `stop` ends.
async fn run_controller(host: &Host, identity: &str, stop: Context) {
    let client = host.client();
    let data = Arc::new(Data {
        client: client.clone(),
        flaws: Default::default(),
        writer: Some(identity.to_string()),
        background: None,
    });
    Controller::new(
        Api::<Site>::all(client.clone()),
        site::controller_config(host.seed()),
    )
    .observer(host.observer())
    .owns(Api::<Pod>::all(client), InformerConfig::default())
    .run(
        |site, _ctx, data| async move {
            site::reconcile(site, data).await?;
            Ok::<_, Error>(Action::await_change())
        },
        default_error_policy,
        data,
        stop,
    )
    .await;
}

fn add_replica(world: &mut World, name: &str, under_election: bool) {
    world.add_controller(name, move |host| async move {
        let elector = LeaderElector::new(
            Api::<Lease>::namespaced(host.client(), site::NAMESPACE),
            LEASE,
            LeaderElectionConfig::new(host.name()),
            Arc::new(TokioClock::default()),
            Box::new(host.rng()),
        )?
        .observer(host.observer());
        let stop = Context::background();
        if under_election {
            run_while_leading(&elector, &stop, |lead| {
                run_controller(&host, host.name(), lead)
            })
            .await;
        } else {
            // The mistake: the controller runs beside the election, not under it.
            let hold_lease = run_while_leading(&elector, &stop, |lead| async move {
                lead.done().await;
            });
            tokio::join!(run_controller(&host, host.name(), stop.clone()), hold_lease);
        }
        Ok::<(), ConfigError>(())
    });
}

/// Storage never compacts: the oracle walks the whole commit log.
fn config(rng: &mut SimRng) -> WorldConfig {
    let mut config = site::config(rng);
    config.cluster.store.compaction_window = 0;
    config
}

fn setup(world: &mut World, under_election: bool) {
    site::setup_with(world, None, |w| {
        for name in ["controller-0", "controller-1"] {
            add_replica(w, name, under_election);
        }
    });
    let secs = Duration::from_secs;
    for (name, at) in [("controller-0", 20), ("controller-1", 50)] {
        world.schedule(secs(at), FaultAction::Crash(name.into()));
        world.schedule(secs(at + 4), FaultAction::Restart(name.into()));
    }
}

/// The default oracles and `single-writer` on the Lease.
fn check(world: &World, history: &[HistoryEvent]) -> Vec<Violation> {
    let mut out = default_check(world, history);
    match world.cluster().state().log_since(0) {
        Ok(log) => out.extend(
            kubesim::oracle::single_writer::check(&log, site::NAMESPACE, LEASE, history)
                .into_iter()
                .map(|v| Violation {
                    oracle: "single-writer",
                    time_us: v.write_time_us.unwrap_or(0),
                    event_id: None,
                    message: v.to_string(),
                }),
        ),
        Err(e) => out.push(Violation {
            oracle: "single-writer",
            time_us: 0,
            event_id: None,
            message: format!("the commit log was compacted, the oracle cannot judge: {e}"),
        }),
    }
    out
}

pub fn buggy() -> Scenario {
    Scenario::new("workers-before-leadership", |w| setup(w, false))
        .summary("two replicas run the controller beside leader election, not under it")
        .config(config)
        .check(check)
        .heal_at(None)
        .expect(Expectation::Caught("single-writer"))
}

pub fn fixed() -> Scenario {
    Scenario::new("workers-before-leadership-fixed", |w| setup(w, true))
        .summary("the controller runs under run_while_leading")
        .config(config)
        .check(check)
        .heal_at(None)
}

#[test]
fn workers_started_beside_the_election_are_caught_by_single_writer() {
    crate::assert_caught_within(&buggy(), CAUGHT_WITHIN);
}

#[test]
fn workers_started_under_the_election_write_only_while_leading() {
    crate::assert_holds(&fixed());
}
