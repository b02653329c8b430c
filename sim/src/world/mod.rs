//! A run's world: turmoil's simulation, the API server cluster, and the seeded RNG that decides
//! everything else.
//!
//! - `mod.rs`: the [`World`], built from a seed ([`World::new`]), and its accessors.
//! - `config.rs`: [`WorldConfig`] and [`TimeMode`].
//! - `hosts.rs`: hosts and the network, turmoil behind the world (`host`, `client`, `crash`,
//!   `partition`, ...).
//! - `step.rs`: the step loop ([`World::run`]) and [`RunError`].
//!
//! Faults live in [`crate::faults`]; hosts with a `kube::Client` in [`crate::kit`].
//!
//! Determinism rule 1 (docs/design.md): one seed decides everything. The world RNG is ChaCha8 seeded
//! with the run's seed; turmoil's RNG (message latencies, host order) is seeded from it first, then
//! every component forks its own RNG from it in the fixed order of construction
//! ([`World::fork_seed`]). The epoch is fixed ([`crate::clock::EPOCH_UNIX_SECS`]).

mod config;
mod hosts;
mod step;
#[cfg(test)]
mod tests;

pub use config::{override_time_mode, TimeMode, WorldConfig};
pub use hosts::HostResult;
pub use step::RunError;

use crate::apiserver::{gc, replica, Cluster};
use crate::clock;
use crate::faults::Faults;
use crate::history::Recorder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Duration;

/// One simulated run being assembled or executed.
pub struct World {
    /// turmoil's simulation (crate internals drive it; users go through [`World`]'s methods).
    pub(crate) sim: turmoil::Sim<'static>,
    /// Storage and the replicas' shared state.
    pub(crate) cluster: Arc<Cluster>,
    /// The run's history.
    pub(crate) recorder: Recorder,
    /// Replica host names, in index order.
    replicas: Vec<String>,
    /// The seed of the run.
    seed: u64,
    rng: ChaCha8Rng,
    /// The faults: profile, schedule, armed crashes, heal time, fault plan ([`crate::faults`]).
    pub(crate) faults: Faults,
    tick: Duration,
    time: TimeMode,
    duration_max: Duration,
    /// Under [`TimeMode::Event`], the time of the step the harness is acting before.
    harness_at: Duration,
    gc: gc::GarbageCollector,
    /// Third-party randomness and the real-time clock follow the seed while the world lives.
    determinism: crate::determinism::Guard,
    /// Controller hosts, the fault drawer's targets, in the order they were added.
    controllers: Vec<String>,
    /// The registered convergence check, probed while the world runs.
    pub(crate) convergence: Option<crate::kit::converge::Convergence>,
    /// Stop the run after the step that records this history event ([`World::stop_after_event`]).
    stop_after: Option<u64>,
}

impl World {
    /// Builds the world for `seed`: turmoil, storage, `config.replicas` API server replicas with
    /// their cache lags, and the garbage collector.
    ///
    /// # Panics
    /// With the fix in the message when this build or thread cannot run deterministically
    /// ([`crate::determinism::SetupError`]: no `--cfg tokio_unstable`, or a thread that already
    /// used std's hash keys); [`World::try_new`] returns the error instead.
    pub fn new(seed: u64, config: WorldConfig, recorder: Recorder) -> Self {
        match Self::try_new(seed, config, recorder) {
            Ok(world) => world,
            Err(e) => panic!("kubesim: {e}"),
        }
    }

    /// [`World::new`], or why this build or thread cannot run the world deterministically.
    pub fn try_new(
        seed: u64,
        mut config: WorldConfig,
        recorder: Recorder,
    ) -> Result<Self, crate::determinism::SetupError> {
        let determinism = crate::determinism::Guard::enter(seed)?;
        assert!(
            config.replicas > 0,
            "a world needs at least one API server replica"
        );
        assert!(config.latency_min <= config.latency_max);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let turmoil_seed: u64 = rng.random();
        config.cluster.store.uid_seed = rng.random();
        let sim = turmoil::Builder::new()
            .rng_seed(turmoil_seed)
            .epoch(clock::epoch())
            .tick_duration(config.tick)
            .simulation_duration(config.duration_max)
            .min_message_latency(config.latency_min)
            .max_message_latency(config.latency_max)
            .build();
        let cluster = Cluster::new(config.cluster.clone(), recorder.clone());
        let mut world = Self {
            sim,
            cluster: cluster.clone(),
            recorder,
            replicas: Vec::new(),
            seed,
            rng,
            tick: config.tick,
            time: config::time_mode_override().unwrap_or(config.time),
            duration_max: config.duration_max,
            harness_at: Duration::ZERO,
            gc: gc::GarbageCollector::new(cluster),
            determinism,
            controllers: Vec::new(),
            convergence: None,
            faults: Faults::default(),
            stop_after: None,
        };
        let lag_max_us = config.cache_lag_max.as_micros() as u64;
        for i in 0..config.replicas {
            let name = replica::host_name(i);
            let drawn = Duration::from_micros(world.rng.random_range(0..=lag_max_us));
            let lag = match &config.cache_lags {
                Some(lags) => *lags.get(i).expect("cache_lags has one lag per replica"),
                None => drawn,
            };
            world.add_replica(name, lag);
        }
        Ok(world)
    }

    fn add_replica(&mut self, name: String, lag: Duration) {
        let cluster = self.cluster.clone();
        self.recorder.record(
            "sim",
            kubesim_model::EventKind::Fault {
                text: format!("{name} watch-cache-lag={}ms", lag.as_millis()),
            },
        );
        let host = name.clone();
        self.sim.host(host.as_str(), move || {
            crate::http::server::run(cluster.clone(), name.clone(), lag)
        });
        self.replicas.push(host);
    }

    /// The resolution of simulated clocks that need one: turmoil's tick under
    /// [`TimeMode::Tick`], 1 ms (tokio's timer resolution) under [`TimeMode::Event`].
    pub fn sim_tick(&self) -> Duration {
        match self.time {
            TimeMode::Tick => self.tick,
            TimeMode::Event => Duration::from_millis(1),
        }
    }

    /// How this world's simulated time advances.
    pub fn time_mode(&self) -> TimeMode {
        self.time
    }

    /// A fresh seed for a component, forked from the world RNG (call in a fixed order).
    pub fn fork_seed(&mut self) -> u64 {
        self.rng.random()
    }

    /// A fresh RNG for a component, forked from the world RNG.
    pub fn fork_rng(&mut self) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.fork_seed())
    }

    /// Draws from the world RNG.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// The controller hosts added with [`World::add_controller`], in order.
    pub fn controllers(&self) -> &[String] {
        &self.controllers
    }

    /// Counts `name` as a controller host (a fault target).
    pub(crate) fn mark_controller(&mut self, name: &str) {
        self.controllers.push(name.to_string());
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Storage and the replicas' shared state.
    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// The run's history recorder.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The API server replicas' host names, in index order.
    pub fn replicas(&self) -> &[String] {
        &self.replicas
    }
}
