//! [`WorldConfig`]: the settings of a world, and [`TimeMode`]: how its simulated time advances.

use crate::apiserver::ClusterConfig;
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

pub(crate) fn time_mode_override() -> Option<TimeMode> {
    match TIME_MODE_OVERRIDE.load(std::sync::atomic::Ordering::SeqCst) {
        1 => Some(TimeMode::Tick),
        2 => Some(TimeMode::Event),
        _ => None,
    }
}
