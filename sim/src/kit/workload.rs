//! A reusable workload driver: a client host that creates objects, changes them at seeded
//! intervals, deletes one, and stays until the end of the run ([`Workload`]); and [`insist`], the
//! retry loop of a user who wants a call through faults.

use super::host::{Host, SimRng};
use crate::world::World;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::core::NamespaceResourceScope;
use kube::Resource;
use rand::{Rng, SeedableRng};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use std::future::Future;
use std::ops::Range;
use std::time::Duration;

/// Tries of [`insist`] before it gives up.
pub const INSIST_TRIES: usize = 60;
/// Time one try of [`insist`] may take.
pub const INSIST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between two tries of [`insist`].
pub const INSIST_PAUSE: Duration = Duration::from_millis(500);

/// Retries `call` until it succeeds or answers 409 or 404 (each try bounded by
/// [`INSIST_TIMEOUT`], [`INSIST_PAUSE`] apart, at most [`INSIST_TRIES`] times), writing
/// `WHAT ok`, `WHAT 409 Conflict` or `WHAT gave up` as a `client` line on `host`.
pub async fn insist<T, F, Fut>(host: &Host, what: &str, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    for _ in 0..INSIST_TRIES {
        match tokio::time::timeout(INSIST_TIMEOUT, call()).await {
            Ok(Ok(_)) => {
                host.note(format!("{what} ok"));
                return;
            }
            Ok(Err(kube::Error::Api(s))) if s.code == 409 || s.code == 404 => {
                host.note(format!("{what} {} {}", s.code, s.reason));
                return;
            }
            _ => tokio::time::sleep(INSIST_PAUSE).await,
        }
    }
    host.note(format!("{what} gave up"));
}

/// Builds object `name` (and a short description for the history, such as `replicas=3`).
pub type MakeFn<K> = fn(&str, &mut SimRng) -> (K, String);
/// Draws a merge patch for a change (and its description, such as `replicas=0`).
pub type ChangeFn = fn(&mut SimRng) -> (serde_json::Value, String);

/// A workload over namespaced objects of type `K`: `count` objects `{prefix}0..` created, then
/// `steps` changes (merge patches of `change`) to random ones, a seeded pause of `pause` apart,
/// one of them a delete when `delete_at` says so; the host then stays until `end_at` of the run.
#[derive(Clone)]
pub struct Workload<K> {
    /// The namespace of the objects.
    pub namespace: String,
    /// Name prefix: objects are `{prefix}0`, `{prefix}1`, ...
    pub prefix: String,
    /// How many objects are created.
    pub count: usize,
    /// Builds each object.
    pub make: MakeFn<K>,
    /// How many changes follow the creates.
    pub steps: usize,
    /// The verb written for a change in the history (`scale`, `update`).
    pub change_verb: &'static str,
    /// Draws each change.
    pub change: ChangeFn,
    /// The step (from 0) that deletes an object drawn at the start, instead of changing one.
    pub delete_at: Option<usize>,
    /// Pause before each step, milliseconds.
    pub pause_ms: Range<u64>,
    /// When the host returns (so the run ends), from the start of the run.
    pub end_at: Duration,
}

impl<K> Workload<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + 'static,
{
    /// Adds the workload as client host `name`.
    pub fn start(self, world: &mut World, name: &str) -> Host {
        let seed = world.fork_seed();
        world.add_client(name, move |host| async move {
            let mut rng = SimRng::seed_from_u64(seed);
            self.drive(&host, &mut rng).await;
        })
    }

    /// Runs the workload from `host`, drawing from `rng`.
    pub async fn drive(&self, host: &Host, rng: &mut SimRng) {
        let api: Api<K> = Api::namespaced(host.client(), &self.namespace);
        let start = tokio::time::Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        let pp = PostParams::default();
        for i in 0..self.count {
            let name = format!("{}{i}", self.prefix);
            let (object, what) = (self.make)(&name, rng);
            insist(host, &format!("create {name} {what}"), || {
                api.create(&pp, &object)
            })
            .await;
        }
        let deleted = match self.delete_at {
            Some(_) if self.count > 0 => Some(rng.random_range(0..self.count)),
            _ => None,
        };
        for step in 0..self.steps {
            if self.count == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(
                rng.random_range(self.pause_ms.clone()),
            ))
            .await;
            let picked = rng.random_range(0..self.count);
            if let (Some(at), Some(d)) = (self.delete_at, deleted) {
                if step == at {
                    let name = format!("{}{d}", self.prefix);
                    let dp = DeleteParams::default();
                    insist(host, &format!("delete {name}"), || api.delete(&name, &dp)).await;
                    continue;
                }
            }
            let (patch, what) = (self.change)(rng);
            let name = format!("{}{picked}", self.prefix);
            let (params, patch) = (PatchParams::default(), Patch::Merge(patch));
            insist(host, &format!("{} {name} {what}", self.change_verb), || {
                api.patch(&name, &params, &patch)
            })
            .await;
        }
        tokio::time::sleep_until(start + self.end_at).await;
    }
}
