//! Controller and client hosts in one call each: [`World::add_controller`] and
//! [`World::add_client`] hand the host's code a [`Host`], which builds its `kube::Client`, its
//! history observer and its seeded RNG, so a scenario never wires turmoil, the transport or the
//! recorder by hand.

use crate::history::Recorder;
use crate::observe::HostObserver;
use crate::transport::{self, Target};
use crate::world::World;
use rand::SeedableRng;
use std::future::Future;

/// The seeded RNG of a simulated run (ChaCha8). Re-exported so a scenario needs neither `rand`
/// nor `rand_chacha` as a dependency of its own.
pub type SimRng = rand_chacha::ChaCha8Rng;

/// What a host's code is given: its name, its seed, and the things built from them.
///
/// Call [`Host::client`] inside the host's `async` block: `kube::Client` spawns its buffer task
/// on the runtime it is built in, and that must be the host's.
#[derive(Clone)]
pub struct Host {
    name: String,
    seed: u64,
    replicas: usize,
    recorder: Recorder,
}

impl Host {
    /// The host's name (`controller-0`, `workload`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's seed, forked from the world's: the same for every start of the host.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A `kube::Client` whose connections go to an API server replica drawn per connection
    /// from the host's seed (a reconnect can land on a replica whose watch cache lags).
    pub fn client(&self) -> kube::Client {
        self.client_to(self.any_replica())
    }

    /// A `kube::Client` whose connections go to `target`.
    pub fn client_to(&self, target: Target) -> kube::Client {
        transport::client(&self.name, target, self.recorder.clone())
    }

    /// Any replica, drawn per connection from the host's seed (what [`Host::client`] uses).
    pub fn any_replica(&self) -> Target {
        Target::Any {
            replicas: self.replicas,
            seed: self.seed,
        }
    }

    /// The observer that writes a kubesim-controller runtime's events (workqueue, reconciles,
    /// informers, leases) into the history, on this host.
    pub fn observer(&self) -> kubesim_controller::SharedObserver {
        HostObserver::shared(self.recorder.clone(), &self.name)
    }

    /// The run's history recorder.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Writes a `client TEXT` line on this host.
    pub fn note(&self, text: impl Into<String>) {
        self.recorder.note(&self.name, text);
    }

    /// A fresh RNG seeded by the host's seed (the same sequence on every start of the host).
    pub fn rng(&self) -> SimRng {
        SimRng::seed_from_u64(self.seed)
    }
}

/// What a host's future may return: nothing, or a `Result` whose error fails the run.
pub trait HostOutcome {
    /// As turmoil's host result.
    fn into_result(self) -> turmoil::Result;
}

impl HostOutcome for () {
    fn into_result(self) -> turmoil::Result {
        Ok(())
    }
}

impl<E: Into<Box<dyn std::error::Error>>> HostOutcome for Result<(), E> {
    fn into_result(self) -> turmoil::Result {
        self.map_err(Into::into)
    }
}

impl World {
    /// Adds a controller host called `name`: `run` is called with its [`Host`] at every start
    /// (restarts after a crash included) and runs until the host crashes or the run ends. The
    /// host is a target of the fault drawer ([`crate::faults`]): partitions, crashes.
    pub fn add_controller<F, Fut>(&mut self, name: &str, run: F) -> Host
    where
        F: Fn(Host) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: HostOutcome,
    {
        let seed = self.fork_seed();
        self.add_controller_seeded(name, seed, run)
    }

    /// [`World::add_controller`] with a seed the caller forked (to fork more seeds for the host
    /// in an order of its own).
    pub fn add_controller_seeded<F, Fut>(&mut self, name: &str, seed: u64, run: F) -> Host
    where
        F: Fn(Host) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: HostOutcome,
    {
        let host = self.host_handle(name, seed);
        self.mark_controller(name);
        let given = host.clone();
        self.sim.host(name, move || {
            let running = run(given.clone());
            async move { running.await.into_result() }
        });
        host
    }

    /// Adds a client host called `name` (a workload, a user): the run ends when every client
    /// host's future has returned. Client hosts are not fault targets.
    pub fn add_client<Fut>(&mut self, name: &str, run: impl FnOnce(Host) -> Fut) -> Host
    where
        Fut: Future + 'static,
        Fut::Output: HostOutcome,
    {
        let seed = self.fork_seed();
        let host = self.host_handle(name, seed);
        let running = run(host.clone());
        self.sim
            .client(name, async move { running.await.into_result() });
        host
    }

    fn host_handle(&self, name: &str, seed: u64) -> Host {
        Host {
            name: name.to_string(),
            seed,
            replicas: self.replicas().len(),
            recorder: self.recorder.clone(),
        }
    }
}
