//! The reference controller against a real cluster: the same runtime and reconcile code the
//! simulation tests, through a `kube::Client` from `KUBECONFIG` (or the in-cluster config).
//!
//! ```sh
//! kubectl apply -f <(cargo run -p kubesim-controller --example replicagroup -- crd)
//! cargo run -p kubesim-controller --example replicagroup
//! ```

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, CustomResourceExt};
use kubesim_controller::reference::{self, ReplicaGroup};
use kubesim_controller::{
    default_error_policy, CancelReason, Context, Controller, ControllerConfig, InformerConfig,
};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("crd") {
        println!("{}", serde_json::to_string_pretty(&ReplicaGroup::crd())?);
        return Ok(());
    }
    let client = kube::Client::try_default().await?;
    let controller = Controller::new(
        Api::<ReplicaGroup>::all(client.clone()),
        ControllerConfig {
            name: "replicagroup".into(),
            ..ControllerConfig::default()
        },
    )
    .owns(Api::<Pod>::all(client.clone()), InformerConfig::default());
    let stop = Context::background();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel(CancelReason::Shutdown);
        }
    });
    let data = Arc::new(reference::Data { client });
    controller
        .run(reference::reconcile, default_error_policy, data, stop)
        .await;
    Ok(())
}
