//! A run's world: turmoil's simulation, the API server cluster, and the seeded RNG that decides
//! everything else.
//!
//! Determinism rule 1 (docs/design.md): one seed decides everything. The world RNG is ChaCha8 seeded
//! with the run's seed; turmoil's RNG (message latencies, host order) is seeded from it first, then
//! every component forks its own RNG from it in the fixed order of construction
//! ([`World::fork_seed`]). The epoch is fixed ([`crate::clock::EPOCH_UNIX_SECS`]).

use crate::apiserver::{gc, replica, Cluster, ClusterConfig};
use crate::clock;
use crate::history::Recorder;
use crate::plan::{targeted::Armed, ApiFaults, FaultPlan, PlanError, Timed};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Settings of a world, drawn from the seed by the scenario.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// Number of API server replicas.
    pub replicas: usize,
    /// Smallest one-way message latency.
    pub latency_min: Duration,
    /// Largest one-way message latency.
    pub latency_max: Duration,
    /// Largest watch cache lag; each replica draws its own in `0..=cache_lag_max`.
    pub cache_lag_max: Duration,
    /// Fixed watch cache lags per replica, instead of drawing them (for tests).
    pub cache_lags: Option<Vec<Duration>>,
    /// turmoil's tick: how far simulated time moves per step. turmoil polls every host once per
    /// tick whatever happens, so a step costs about the same wall time at any tick; the tick sets
    /// the simulation's speed. Timers inside a host fire at their exact times; network messages
    /// are delivered at the first tick boundary after their latency. Default 10 ms: about 1,750
    /// simulated seconds per wall second for the `replicagroup` world (`cargo bench --bench sim`),
    /// against about 200 at 1 ms.
    pub tick: Duration,
    /// How simulated time advances: in fixed ticks, or from event to event.
    pub time: TimeMode,
    /// Simulated time after which an unfinished run is an error.
    pub duration_max: Duration,
    /// API server settings.
    pub cluster: ClusterConfig,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            replicas: 2,
            latency_min: Duration::from_millis(1),
            latency_max: Duration::from_millis(10),
            cache_lag_max: Duration::from_millis(200),
            cache_lags: None,
            tick: Duration::from_millis(10),
            time: TimeMode::default(),
            duration_max: Duration::from_secs(600),
            cluster: ClusterConfig::default(),
        }
    }
}

/// How a world's simulated time advances (docs/sim-bench.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeMode {
    /// turmoil's fixed tick ([`WorldConfig::tick`]): every step moves time by one tick and
    /// polls every host; messages are delivered on tick boundaries. The mechanism before event
    /// time, kept to compare against (`kubesim --time tick`, `benches/sim.rs`).
    Tick,
    /// From event to event (the patched turmoil's `Sim::next_event`/`Sim::step_to`), the
    /// default: each step jumps to the earliest host timer, message delivery or harness event
    /// (fault, garbage collection, convergence probe), and polls only the hosts with something
    /// to do then. Messages are delivered at their exact times (whole milliseconds).
    #[default]
    Event,
}

impl std::str::FromStr for TimeMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tick" => Ok(Self::Tick),
            "event" => Ok(Self::Event),
            _ => Err(format!("invalid time mode {s:?}: expected tick or event")),
        }
    }
}

/// A process-wide [`TimeMode`] that replaces every world's configured one (0: none, 1: tick,
/// 2: event). Benchmarks set it to measure both mechanisms on the same scenarios in one run.
static TIME_MODE_OVERRIDE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Makes every world built from now on advance time by `mode` (`None`: as configured). For
/// benchmarks that compare the two mechanisms in one process.
pub fn override_time_mode(mode: Option<TimeMode>) {
    let v = match mode {
        None => 0,
        Some(TimeMode::Tick) => 1,
        Some(TimeMode::Event) => 2,
    };
    TIME_MODE_OVERRIDE.store(v, std::sync::atomic::Ordering::SeqCst);
}

fn time_mode_override() -> Option<TimeMode> {
    match TIME_MODE_OVERRIDE.load(std::sync::atomic::Ordering::SeqCst) {
        1 => Some(TimeMode::Tick),
        2 => Some(TimeMode::Event),
        _ => None,
    }
}

/// Which faults a run draws from its seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultProfile {
    /// No faults beyond seeded latencies and cache lags.
    None,
    /// Every kind of fault the scenario knows, with seeded times.
    Default,
    /// Swarm testing (TigerBeetle's VOPR): each seed also draws which kinds are on.
    #[default]
    Swarm,
}

impl std::str::FromStr for FaultProfile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "default" => Ok(Self::Default),
            "swarm" => Ok(Self::Swarm),
            _ => Err(format!(
                "invalid fault profile {s:?}: expected none, default or swarm"
            )),
        }
    }
}

impl FaultProfile {
    /// Whether a kind of fault is on for this run: always (default), never (none), or by a
    /// coin drawn from `rng` (swarm; the coin is drawn in every profile so later draws line up).
    pub fn enabled(self, rng: &mut impl Rng) -> bool {
        let coin = rng.random_bool(0.5);
        match self {
            Self::None => false,
            Self::Default => true,
            Self::Swarm => coin,
        }
    }
}

/// A fault (or its healing) the harness applies between two steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Cut the network between two hosts, both ways. Messages are held, not lost (turmoil's
    /// `hold`): TCP retransmits across an outage, so a connection resumes after the repair,
    /// and a connect attempted during the outage hangs until then, as on a real network.
    Partition(String, String),
    /// Drop every message from the first host to the second.
    PartitionOneWay(String, String),
    /// Undo a partition between two hosts.
    Repair(String, String),
    /// Crash a host: every task on it is dropped.
    Crash(String),
    /// Restart a crashed host from its factory.
    Restart(String),
    /// Compact storage up to its current revision (etcd compaction).
    Compact,
    /// Stop the API errors, slow responses and watch drops the replicas inject.
    HealApiFaults,
    /// Crash `host` right after the `writes`-th write it gets acknowledged from now on, then
    /// restart it `restart_after` later: a crash between two writes of one reconcile (Sieve's
    /// intermediate states). The write is counted in the step a replica commits and answers it;
    /// the answer needs at least one tick to travel back, so the crash at the next step boundary
    /// lands before the host has seen it, let alone sent its next write.
    CrashAfterWrites {
        /// The host to crash.
        host: String,
        /// Which write to crash after, counted from when the fault is applied (1 = the next).
        writes: u64,
        /// How long the host stays down.
        restart_after: Duration,
    },
}

impl FaultAction {
    /// The history verb of the action: `fault`, `heal`, `crash` or `restart`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Repair(..) | Self::HealApiFaults => "heal",
            Self::Restart(..) => "restart",
            Self::Crash(..) | Self::CrashAfterWrites { .. } => "crash",
            _ => "fault",
        }
    }

    /// The action as history lines and plans print it (after [`FaultAction::kind`]).
    pub fn text(&self) -> String {
        match self {
            Self::Partition(a, b) => format!("partition {a} {b}"),
            Self::PartitionOneWay(a, b) => format!("partition-oneway {a} -> {b}"),
            Self::Repair(a, b) => format!("partition {a} {b}"),
            Self::Crash(h) | Self::Restart(h) => h.clone(),
            Self::Compact => "compact".into(),
            Self::HealApiFaults => "api-faults".into(),
            Self::CrashAfterWrites {
                host,
                writes,
                restart_after,
            } => format!(
                "{host} after write {writes}, restart {}ms later",
                restart_after.as_millis()
            ),
        }
    }
}

/// One simulated run being assembled or executed.
pub struct World {
    /// turmoil's simulation.
    pub sim: turmoil::Sim<'static>,
    /// Storage and the replicas' shared state.
    pub cluster: Arc<Cluster>,
    /// The run's history.
    pub recorder: Recorder,
    /// Replica host names, in index order.
    pub replicas: Vec<String>,
    /// The seed of the run.
    pub seed: u64,
    rng: ChaCha8Rng,
    /// Faults to apply, in time order (stable for equal times).
    schedule: Vec<(Duration, FaultAction)>,
    /// The fault profile scenarios draw their faults under.
    pub faults: FaultProfile,
    tick: Duration,
    time: TimeMode,
    duration_max: Duration,
    /// Under [`TimeMode::Event`], the time of the step the harness is acting before.
    harness_at: Duration,
    gc: gc::GarbageCollector,
    /// Armed [`FaultAction::CrashAfterWrites`]: host, write count to crash at, downtime.
    crash_after_writes: Vec<(String, u64, Duration)>,
    /// Third-party randomness and the real-time clock follow the seed while the world lives.
    determinism: crate::determinism::Guard,
    /// Controller hosts, the fault drawer's targets, in the order they were added.
    controllers: Vec<String>,
    /// When the drawn faults heal (set by the fault drawer).
    heal_at: Option<Duration>,
    /// What the API server replicas inject, as the fault plan prints it.
    api_faults: Option<String>,
    /// The registered convergence check, probed while the world runs.
    convergence: Option<crate::kit::converge::Convergence>,
    /// The fault plan state: an override waiting to be installed, the plan installed, targeted
    /// faults armed, BUGGIFY points chosen, and what the run started with.
    plan: PlanState,
    /// Stop the run after the step that records this history event ([`World::stop_after_event`]).
    stop_after: Option<u64>,
}

/// What the world knows of fault plans ([`crate::plan`]).
#[derive(Default)]
struct PlanState {
    /// A plan that replaces every fault the scenario schedules or draws
    /// ([`World::override_fault_plan`]); taken when installed.
    pending_override: Option<FaultPlan>,
    /// An override was set: the scenario's own [`World::schedule`] and
    /// [`World::set_fault_plan`] calls are ignored.
    overridden: bool,
    /// The plan installed (by the scenario or as the override), checked against the world's
    /// hosts when the run starts.
    installed: Option<FaultPlan>,
    /// Targeted faults armed for the run.
    targeted: Option<Arc<Armed>>,
    /// BUGGIFY points the plan enables (`None`: the seed decides).
    buggify: Option<BTreeSet<String>>,
    /// The plan as the run started ([`World::run`]).
    started: Option<FaultPlan>,
    /// BUGGIFY points the run enabled (reached and switched on).
    buggify_enabled: BTreeSet<String>,
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
            schedule: Vec::new(),
            faults: FaultProfile::default(),
            tick: config.tick,
            time: time_mode_override().unwrap_or(config.time),
            duration_max: config.duration_max,
            harness_at: Duration::ZERO,
            gc: gc::GarbageCollector::new(cluster),
            crash_after_writes: Vec::new(),
            determinism,
            controllers: Vec::new(),
            heal_at: None,
            api_faults: None,
            convergence: None,
            plan: PlanState::default(),
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

    /// When the drawn faults heal, if faults were drawn ([`World::draw_faults`]).
    pub fn heal_at(&self) -> Option<Duration> {
        self.heal_at
    }

    /// Sets the heal time (the fault drawer does; a scenario with faults of its own may).
    pub fn set_heal_at(&mut self, at: Duration) {
        self.heal_at = Some(at);
    }

    /// Records what the API server replicas inject, for the fault plan.
    pub(crate) fn note_api_faults(&mut self, text: String) {
        self.api_faults = Some(text);
    }

    /// Requires the cluster to converge: `predicate` over storage's typed objects must hold
    /// within `deadline` after the heal time and still at the end (`None`: by the end of the
    /// run). The harness probes it once per simulated second after the heal; the verdict is the
    /// `converges` oracle ([`World::convergence_verdict`]).
    pub fn converges_within(
        &mut self,
        deadline: Option<Duration>,
        predicate: impl Fn(&crate::kit::Objects) -> Result<(), String> + 'static,
    ) {
        self.convergence = Some(crate::kit::converge::Convergence::new(
            Box::new(predicate),
            self.heal_at.unwrap_or_default(),
            deadline,
        ));
    }

    /// The `converges` verdict of a finished run, if a convergence check was registered.
    pub fn convergence_verdict(
        &self,
        history: &[kubesim_model::HistoryEvent],
    ) -> Option<crate::oracle::Violation> {
        let c = self.convergence.as_ref()?;
        let objects = crate::kit::Objects::new(self.cluster.state().objects());
        c.verdict(self.sim.elapsed(), objects, history)
    }

    /// Schedules `action` at simulated time `at`. Ignored when the harness runs a fault plan
    /// instead of the scenario's faults ([`World::override_fault_plan`]).
    pub fn schedule(&mut self, at: Duration, action: FaultAction) {
        if self.plan.overridden {
            return;
        }
        self.insert_fault(at, action);
    }

    fn insert_fault(&mut self, at: Duration, action: FaultAction) {
        let pos = self.schedule.partition_point(|(t, _)| *t <= at);
        self.schedule.insert(pos, (at, action));
    }

    /// Runs `plan`'s faults: its timed faults replace those scheduled so far, its API rates
    /// replace what the replicas inject, its targeted faults are armed, its BUGGIFY points are
    /// the only ones on, and its heal time (else its last timed fault's) becomes the run's. For a
    /// scenario's setup; the library's fault drawer is then not used. The plan's hosts and
    /// resources are checked when the run starts (an unknown one fails the run).
    ///
    /// When the harness runs a plan of its own ([`World::override_fault_plan`]: `--plan`,
    /// shrinking), that plan is installed here instead.
    pub fn set_fault_plan(&mut self, plan: FaultPlan) {
        if let Some(over) = self.plan.pending_override.take() {
            self.install_plan(over, true);
        } else if !self.plan.overridden {
            self.install_plan(plan, true);
        }
    }

    /// Makes `plan` replace every fault the scenario would schedule or draw (call before the
    /// scenario's setup). The setup still makes all its seeded draws, so the run's other choices
    /// stay the seed's; [`World::schedule`] becomes a no-op, and the plan is installed by
    /// [`World::install_fault_plan_override`] after the setup (or where the setup calls
    /// [`World::set_fault_plan`]).
    pub fn override_fault_plan(&mut self, plan: FaultPlan) {
        self.plan.pending_override = Some(plan);
        self.plan.overridden = true;
    }

    /// Installs the override plan if the setup has not, then checks the installed plan against
    /// the world: its hosts exist, its resources are served.
    pub fn install_fault_plan_override(&mut self) -> Result<(), PlanError> {
        if let Some(over) = self.plan.pending_override.take() {
            self.install_plan(over, false);
        }
        self.check_fault_plan()
    }

    /// Checks the installed plan (if any) against the world's hosts and resources.
    pub fn check_fault_plan(&self) -> Result<(), PlanError> {
        let Some(plan) = &self.plan.installed else {
            return Ok(());
        };
        let resources: Vec<String> = self
            .cluster
            .state()
            .types()
            .map(|t| t.short_name())
            .collect();
        plan.check_world(&self.host_names(), &resources)
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

    /// Installs `plan`; `in_setup`: the scenario's setup installs it, and a plan without a heal
    /// time heals at its last timed fault (so the library drawer stays out).
    fn install_plan(&mut self, plan: FaultPlan, in_setup: bool) {
        self.schedule.clear();
        for t in &plan.timed {
            self.insert_fault(t.at, t.action.clone());
        }
        let current = self.cluster.replica_faults();
        let seed = match current.seed {
            0 => self.seed ^ 0x706c_616e_2d61_7069,
            s => s,
        };
        let mut api = match &plan.api {
            Some(a) => a.to_replica_faults(seed),
            None => crate::apiserver::faults::ReplicaFaults {
                seed: current.seed,
                ..Default::default()
            },
        };
        let rates = |f: &crate::apiserver::faults::ReplicaFaults| {
            let mut f = f.clone();
            f.targeted = None;
            f
        };
        let same = (api.is_none() && current.is_none()) || rates(&api) == rates(&current);
        if !same {
            let text = if api.is_none() {
                "plan: api faults off".to_string()
            } else {
                format!("plan: {}", api.describe())
            };
            self.recorder
                .record("sim", kubesim_model::EventKind::Fault { text });
            self.api_faults = (!api.is_none()).then(|| api.describe());
        }
        self.plan.targeted =
            (!plan.targeted.is_empty()).then(|| Arc::new(Armed::new(plan.targeted.clone())));
        api.targeted = self
            .plan
            .targeted
            .clone()
            .map(crate::apiserver::faults::Targets);
        self.cluster.set_replica_faults(api);
        self.plan.buggify = plan.buggify.clone();
        let last = plan.timed.last().map(|t| t.at).unwrap_or_default();
        self.heal_at = plan.heal_at.or(self.heal_at);
        if in_setup && self.heal_at.is_none() {
            self.heal_at = Some(last);
        }
        self.plan.installed = Some(plan);
    }

    /// The faults of the run as a plan: what is scheduled, what the replicas inject, the
    /// targeted faults armed, the BUGGIFY points chosen.
    pub fn current_plan(&self) -> FaultPlan {
        FaultPlan {
            scenario: None,
            seed: Some(self.seed),
            heal_at: self.heal_at,
            timed: self
                .schedule
                .iter()
                .map(|(at, action)| Timed {
                    at: *at,
                    action: action.clone(),
                })
                .collect(),
            api: ApiFaults::from_replica_faults(&self.cluster.replica_faults()),
            targeted: self
                .plan
                .targeted
                .as_ref()
                .map(|a| a.entries().to_vec())
                .unwrap_or_default(),
            buggify: self.plan.buggify.clone(),
        }
    }

    /// After [`World::run`]: the plan the run started with, with the BUGGIFY points it enabled
    /// (when the seed chose them), so that running it as an override repeats the run.
    pub fn run_plan(&self) -> Option<FaultPlan> {
        let mut plan = self.plan.started.clone()?;
        if plan.buggify.is_none() && !self.plan.buggify_enabled.is_empty() {
            plan.buggify = Some(self.plan.buggify_enabled.clone());
        }
        Some(plan)
    }

    /// The scheduled faults not yet applied, as `<time> <fault>` lines (the drawn plan, printed
    /// with the seed so a report is self-contained).
    pub fn fault_plan(&self) -> Vec<String> {
        let api = self.api_faults.iter().map(|t| format!("0.000s fault {t}"));
        let targeted = self.plan.targeted.iter().flat_map(|a| {
            a.entries()
                .iter()
                .map(|t| format!("targeted {}", t.describe()))
        });
        let buggify = self.plan.buggify.iter().map(|points| {
            let list: Vec<&str> = points.iter().map(String::as_str).collect();
            format!("buggify [{}]", list.join(", "))
        });
        api.chain(self.schedule.iter().map(|(t, a)| {
            format!(
                "{}.{:03}s {} {}",
                t.as_secs(),
                t.subsec_millis(),
                a.kind(),
                a.text()
            )
        }))
        .chain(targeted)
        .chain(buggify)
        .collect()
    }

    fn apply_due_faults(&mut self) {
        let now = self.harness_now();
        let due = self.schedule.partition_point(|(t, _)| *t <= now);
        for (_, action) in self.schedule.drain(..due).collect::<Vec<_>>() {
            let text = action.text();
            let kind = match &action {
                FaultAction::Partition(a, b) => {
                    self.sim.hold(a.as_str(), b.as_str());
                    kubesim_model::EventKind::Fault { text }
                }
                FaultAction::PartitionOneWay(a, b) => {
                    self.sim.partition_oneway(a.as_str(), b.as_str());
                    kubesim_model::EventKind::Fault { text }
                }
                FaultAction::Repair(a, b) => {
                    self.sim.release(a.as_str(), b.as_str());
                    self.sim.repair(a.as_str(), b.as_str());
                    kubesim_model::EventKind::Heal { text }
                }
                FaultAction::Crash(h) => {
                    self.sim.crash(h.as_str());
                    kubesim_model::EventKind::Crash { target: text }
                }
                FaultAction::Restart(h) => {
                    // Overlapping crash windows (a crash after writes inside a scheduled one)
                    // can restart a running host: that is a crash too, and oracles must see it.
                    if self.sim.is_host_running(h.as_str()) {
                        self.recorder
                            .record("sim", kubesim_model::EventKind::Crash { target: h.clone() });
                    }
                    self.sim.bounce(h.as_str());
                    kubesim_model::EventKind::Restart { target: text }
                }
                FaultAction::HealApiFaults => {
                    self.cluster.heal_replica_faults();
                    kubesim_model::EventKind::Heal { text }
                }
                FaultAction::Compact => {
                    let rev = self.cluster.state().revision();
                    self.cluster.compact("sim", rev);
                    continue;
                }
                FaultAction::CrashAfterWrites {
                    host,
                    writes,
                    restart_after,
                } => {
                    assert!(*writes > 0, "CrashAfterWrites counts from the next write");
                    let at = self.cluster.writes_by(host) + writes;
                    self.crash_after_writes
                        .push((host.clone(), at, *restart_after));
                    kubesim_model::EventKind::Fault {
                        text: format!("armed crash {text}"),
                    }
                }
            };
            self.recorder.record("sim", kind);
        }
    }

    /// Crashes every host whose armed [`FaultAction::CrashAfterWrites`] count is reached, and
    /// schedules its restart.
    fn crash_after_due_writes(&mut self) {
        let mut i = 0;
        while i < self.crash_after_writes.len() {
            let (host, at, _) = &self.crash_after_writes[i];
            if self.cluster.writes_by(host) < *at {
                i += 1;
                continue;
            }
            let (host, _, restart_after) = self.crash_after_writes.remove(i);
            self.crash_and_restart_later(host, restart_after);
        }
        let due = self
            .plan
            .targeted
            .as_ref()
            .map(|a| a.take_crashes())
            .unwrap_or_default();
        for (host, restart_after) in due {
            if self.sim.is_host_running(host.as_str()) {
                self.crash_and_restart_later(host, restart_after);
            }
        }
    }

    /// Crashes `host` now, records it, and schedules its restart `restart_after` later.
    fn crash_and_restart_later(&mut self, host: String, restart_after: Duration) {
        self.sim.crash(host.as_str());
        self.recorder.record(
            "sim",
            kubesim_model::EventKind::Crash {
                target: host.clone(),
            },
        );
        let restart = self.harness_now() + restart_after;
        self.insert_fault(restart, FaultAction::Restart(host));
    }

    /// Ends [`World::run`] after the step in which history event `id` is recorded (the world is
    /// then left as that step left it), for looking at the cluster at that moment.
    pub fn stop_after_event(&mut self, id: u64) {
        self.stop_after = Some(id);
    }

    /// Ends the run at its first hot loop ([`crate::oracle::no_hot_loop`] under `budget`, judged
    /// as events are recorded): after the step that recorded the violation. A hot loop does not
    /// end by itself, so the rest of the run could only repeat it; the run's verdict is that
    /// violation alone (the other oracles would judge a run cut short). For scenarios whose bug
    /// is a loop: a buggy seed then costs seconds of simulated time instead of the whole run.
    pub fn stop_at_first_hot_loop(&mut self, budget: crate::oracle::HotLoop) {
        let mut watch = crate::oracle::HotLoopWatch::new(budget);
        self.recorder
            .set_tripwire(Box::new(move |e| watch.observe(e)));
    }

    /// Steps the simulation until every client host has finished, applying scheduled faults
    /// between steps. A host error, or running past the configured duration, is a
    /// [`RunError::Host`] with turmoil's message.
    pub fn run(&mut self) -> Result<(), RunError> {
        let buggify_seed = self.fork_seed();
        self.check_fault_plan().map_err(RunError::Plan)?;
        self.plan.started = Some(self.current_plan());
        let buggify = crate::buggify::activate_with(
            buggify_seed,
            self.recorder.clone(),
            self.plan.buggify.clone(),
        );
        let result = self.run_steps();
        self.plan.buggify_enabled = buggify.enabled_points();
        result
    }

    fn run_steps(&mut self) -> Result<(), RunError> {
        if let (Some(c), Some(heal)) = (&mut self.convergence, self.heal_at) {
            c.set_heal_at(heal);
        }
        loop {
            // Under event time the harness acts at the next step's time before the hosts do,
            // as it acts at a tick's start under ticks.
            let now = match self.time {
                TimeMode::Tick => self.sim.elapsed(),
                TimeMode::Event => self.next_step_at(),
            };
            self.harness_at = now;
            self.recorder.set_harness_time(now);
            self.apply_due_faults();
            self.crash_after_due_writes();
            self.gc.poll(now);
            if let Some(c) = &mut self.convergence {
                let cluster = &self.cluster;
                let rev = cluster.state().revision();
                c.poll(now, rev, || {
                    crate::kit::Objects::new(cluster.state().objects())
                });
            }
            let step = match self.time {
                TimeMode::Tick => self.sim.step(),
                TimeMode::Event => self.sim.step_to(now),
            };
            if self.determinism.real_connects() > 0 {
                return Err(RunError::RealNetwork {
                    attempts: self.determinism.real_connects(),
                });
            }
            match step {
                Ok(true) => return Ok(()),
                Ok(false) if self.stop_after.is_some_and(|id| self.recorder.len() > id) => {
                    return Ok(())
                }
                Ok(false) if self.recorder.tripped().is_some() => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(RunError::Host(e.to_string())),
            }
        }
    }
}

impl World {
    /// The simulated time the harness acts at: the time of the step about to run.
    fn harness_now(&self) -> Duration {
        match self.time {
            TimeMode::Tick => self.sim.elapsed(),
            TimeMode::Event => self.harness_at.max(self.sim.elapsed()),
        }
    }

    /// Under [`TimeMode::Event`], when the next step happens: the earliest of turmoil's next
    /// event and the harness's own (the next scheduled fault, garbage collection pass and
    /// convergence probe), so that each fires at its exact time. With nothing pending at all,
    /// just past `duration_max`, where turmoil reports the run unfinished.
    fn next_step_at(&self) -> Duration {
        let now = self.sim.elapsed();
        let end = self.duration_max + Duration::from_millis(1);
        let harness = [
            self.schedule.first().map(|(t, _)| *t),
            Some(self.gc.next_due()),
            self.convergence.as_ref().map(|c| c.next_probe()),
        ];
        let next = harness
            .into_iter()
            .flatten()
            .chain(self.sim.next_event())
            .fold(end, Duration::min);
        next.max(now)
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A host returned an error or panicked, or the run passed its configured duration
    /// (turmoil's message).
    #[error("{0}")]
    Host(String),
    /// A simulated host tried to reach a real cluster.
    #[error(
        "a simulated host tried to connect to the real network ({attempts} attempts refused): \
         build its kube::Client with kubesim::transport::client, not Client::try_default"
    )]
    RealNetwork {
        /// Connects refused.
        attempts: u64,
    },
    /// The fault plan does not fit the world.
    #[error(transparent)]
    Plan(PlanError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{self, Target};
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, PostParams};
    use kubesim_model::EventKind;

    /// A world whose host `writer` creates config maps `cm-0`, `cm-1`, ... one after another
    /// (starting over after a restart, where the existing ones answer 409), for 5 s.
    fn writer_world() -> World {
        let mut world = World::new(7, WorldConfig::default(), Recorder::new());
        let recorder = world.recorder.clone();
        world.sim.host("writer", move || {
            let recorder = recorder.clone();
            async move {
                let client = transport::client("writer", Target::Replica(0), recorder);
                let api: Api<ConfigMap> = Api::namespaced(client, "default");
                for i in 0.. {
                    let mut cm = ConfigMap::default();
                    cm.metadata.name = Some(format!("cm-{i}"));
                    let _ = api.create(&PostParams::default(), &cm).await;
                }
                Ok(())
            }
        });
        world.sim.client("end", async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        });
        world
    }

    fn config_maps(world: &World) -> usize {
        world
            .cluster
            .state()
            .objects()
            .iter()
            .filter(|(k, _)| k.resource == "configmaps")
            .count()
    }

    #[test]
    fn crash_after_writes_crashes_the_host_between_its_kth_and_next_write() {
        let mut world = writer_world();
        world.schedule(
            Duration::from_secs(1),
            FaultAction::CrashAfterWrites {
                host: "writer".into(),
                writes: 3,
                restart_after: Duration::from_secs(1),
            },
        );
        // Step until the crash; storage then holds what the writer wrote before the fault was
        // armed plus exactly three more: the fourth was never sent.
        let mut armed_with = None;
        let crashed_with = loop {
            world.recorder.set_harness_time(world.sim.elapsed());
            world.apply_due_faults();
            if armed_with.is_none() && world.crash_after_writes.len() == 1 {
                armed_with = Some(config_maps(&world));
            }
            let before = world.recorder.len();
            world.crash_after_due_writes();
            if world.recorder.len() > before {
                break config_maps(&world);
            }
            world.sim.step().expect("the world steps");
        };
        let armed_with = armed_with.expect("the fault was armed at 1 s");
        assert!(
            armed_with > 0,
            "the writer wrote before the fault was armed"
        );
        assert_eq!(crashed_with, armed_with + 3);
        assert_eq!(world.cluster.writes_by("writer"), crashed_with as u64);
        // The crash is in the history, and the restart is scheduled a second later.
        world.run().expect("the run ends");
        let events = world.recorder.events();
        let crash = events
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Crash { target } if target == "writer"))
            .expect("a crash event");
        let restart = events
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Restart { target } if target == "writer"))
            .expect("a restart event");
        assert!(crash < restart);
        assert_eq!(
            events[restart].time_us - events[crash].time_us,
            1_000_000,
            "restarted restart_after later"
        );
        // After the restart the writer starts over: its 409s are not counted as writes.
        assert_eq!(
            world.cluster.writes_by("writer"),
            config_maps(&world) as u64
        );
    }

    #[test]
    fn under_event_time_messages_arrive_at_their_exact_latency_not_on_tick_boundaries() {
        let config = WorldConfig {
            latency_min: Duration::from_millis(3),
            latency_max: Duration::from_millis(3),
            cache_lags: Some(vec![Duration::ZERO, Duration::ZERO]),
            time: TimeMode::Event,
            ..WorldConfig::default()
        };
        let run = || {
            crate::isolated(|| {
                let mut world = World::new(7, config.clone(), Recorder::new());
                let recorder = world.recorder.clone();
                world.sim.client("writer", async move {
                    let client = transport::client("writer", Target::Replica(0), recorder);
                    let api: Api<ConfigMap> = Api::namespaced(client, "default");
                    for i in 0..5 {
                        let mut cm = ConfigMap::default();
                        cm.metadata.name = Some(format!("cm-{i}"));
                        api.create(&PostParams::default(), &cm).await?;
                    }
                    Ok(())
                });
                world.run().expect("the run ends");
                world.recorder.events()
            })
        };
        let events = run();
        let served: Vec<u64> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Request { .. }))
            .map(|e| e.time_us)
            .collect();
        assert_eq!(served.len(), 5, "five creates served");
        // Everything starts at 0 and every message takes 3 ms: each request is served at a
        // multiple of 3 ms, which a 10 ms tick would have rounded up to its boundaries.
        for t in &served {
            assert_eq!(t % 3_000, 0, "served at {t} us");
        }
        assert!(served.iter().any(|t| t % 10_000 != 0));
        // The same seed gives the same history under event time too.
        let again: Vec<String> = run().iter().map(|e| e.to_string()).collect();
        let first: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        assert_eq!(first, again);
    }

    #[test]
    fn writes_are_counted_per_client_host() {
        let mut world = writer_world();
        world.run().expect("the run ends");
        let written = config_maps(&world) as u64;
        assert!(written > 0);
        assert_eq!(world.cluster.writes_by("writer"), written);
        assert_eq!(world.cluster.writes_by("end"), 0);
    }
}
