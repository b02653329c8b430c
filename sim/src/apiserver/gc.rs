//! The garbage collector (kube-controller-manager's `garbagecollector`), as a host of its own: it
//! makes one pass over storage every `gc_interval`, so dependents disappear some time after their
//! owner, as on a real cluster.

use super::Cluster;
use crate::clock;
use std::sync::Arc;

/// Host name of the garbage collector.
pub const GC_HOST: &str = "kube-controller-manager";

/// The garbage collector's host future.
pub async fn run(cluster: Arc<Cluster>) -> turmoil::Result {
    let mut tick = tokio::time::interval(cluster.config.gc_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = clock::rfc3339(clock::sim_now());
        cluster.write(GC_HOST, |st| st.collect_garbage(&now));
    }
}
