//! Hosts and the network of a world: turmoil's simulation behind the world's own methods.
//!
//! Scenarios add hosts with a `kube::Client` through the kit ([`World::add_controller`],
//! [`World::add_client`]); the methods here are the raw ones under them, and the raw network
//! faults a hand-driven test injects between [`World::run_until`] calls. None of them records
//! anything in the history: a test records what it does with [`World::recorder`].

use super::World;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

/// What a host's software returns: `Ok` when it finishes, an error to fail the run.
pub type HostResult = Result<(), Box<dyn std::error::Error>>;

impl World {
    /// Simulated time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }

    /// Adds a host called `name` whose software is `software()`, started again after every
    /// restart. The run does not wait for it to finish.
    pub fn host<F, Fut>(&mut self, name: &str, software: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = HostResult> + 'static,
    {
        self.sim.host(name, software);
    }

    /// Adds a client host called `name` running `software`: the run ends when every client has
    /// finished.
    pub fn client<Fut>(&mut self, name: &str, software: Fut)
    where
        Fut: Future<Output = HostResult> + 'static,
    {
        self.sim.client(name, software);
    }

    /// Crashes host `name`: every task on it is dropped.
    pub fn crash(&mut self, name: &str) {
        self.sim.crash(name);
    }

    /// Restarts host `name` from its software (a running host is crashed first).
    pub fn bounce(&mut self, name: &str) {
        self.sim.bounce(name);
    }

    /// Drops every message between hosts `a` and `b`, both ways, until [`World::repair`].
    pub fn partition(&mut self, a: &str, b: &str) {
        self.sim.partition(a, b);
    }

    /// Undoes a partition between hosts `a` and `b`.
    pub fn repair(&mut self, a: &str, b: &str) {
        self.sim.repair(a, b);
    }

    /// Every host name of the world (turmoil's DNS, walked in address order without adding
    /// names).
    pub fn host_names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for i in 1..=u16::MAX {
            let ip = std::net::Ipv4Addr::new(192, 168, (i >> 8) as u8, (i & 0xff) as u8);
            match self.sim.reverse_lookup(ip.into()) {
                Some(name) => out.insert(name),
                None => break,
            };
        }
        out
    }
}
