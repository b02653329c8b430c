//! Shared set-up for integration tests: a world with fixed settings and a way to run client code
//! in it.
#![allow(dead_code)]

use kubesim::history::Recorder;
use kubesim::transport::{self, Target};
use kubesim::world::{World, WorldConfig};
use std::future::Future;
use std::time::Duration;

/// A world with `replicas` replicas whose caches lag by exactly `lags`, 1..5 ms latencies.
pub fn world(seed: u64, lags: &[u64]) -> World {
    let config = WorldConfig {
        replicas: lags.len(),
        latency_min: Duration::from_millis(1),
        latency_max: Duration::from_millis(5),
        cache_lags: Some(lags.iter().map(|ms| Duration::from_millis(*ms)).collect()),
        duration_max: Duration::from_secs(300),
        ..WorldConfig::default()
    };
    World::new(seed, config, Recorder::new())
}

/// Adds client host `name` running `body` with a `kube::Client` aimed at `target`.
pub fn client<F, Fut>(world: &mut World, name: &str, target: Target, body: F)
where
    F: FnOnce(kube::Client) -> Fut + 'static,
    Fut: Future<Output = Result<(), Box<dyn std::error::Error>>> + 'static,
{
    let recorder = world.recorder().clone();
    let host = name.to_string();
    world.client(name, async move {
        let client = transport::client(&host, target, recorder);
        body(client).await
    });
}

/// Runs the world to completion, panicking with the history tail on an error.
pub fn run(world: &mut World) {
    if let Err(e) = world.run() {
        let events = world.recorder().events();
        let tail = &events[events.len().saturating_sub(30)..];
        panic!("run failed: {e}\n{}", kubesim::history::to_text(tail));
    }
}
