use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubesim::prelude::*;
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_controller::{default_error_policy, Context, Controller, ControllerConfig};
use std::{sync::Arc, time::Duration};

fn setup(world: &mut World) {
    world.register_crd::<ReplicaGroup>();
    world.add_controller("controller-0", |host| async move {
        let client = host.client(); // a real kube::Client over the simulated network
        let config = ControllerConfig {
            reconcile_timeout: Some(Duration::from_secs(10)),
            ..ControllerConfig::default()
        };
        Controller::new(Api::<ReplicaGroup>::all(client.clone()), config)
            .owns(Api::<Pod>::all(client.clone()), Default::default())
            .observer(host.observer())
            .run(
                reference::reconcile,
                default_error_policy,
                Arc::new(reference::Data { client }),
                Context::background(),
            )
            .await;
    });
    // Create, scale and delete groups while the faults are on (or write your own `Workload`).
    kubesim::scenario::replicagroup::workload().start(world, "workload");
    // Within 30 s of the heal, storage must hold what every group asks for.
    world.converges_within(Some(Duration::from_secs(30)), |objects| {
        reference::converged(&objects.of::<ReplicaGroup>(), &objects.of::<Pod>())
    });
}

#[test]
fn my_controller_converges_under_faults() {
    kubesim::check(Scenario::new("my-controller", setup))
        .seeds(0..20)
        .run();
}
