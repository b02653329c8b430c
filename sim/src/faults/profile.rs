//! [`FaultProfile`]: which kinds of fault a run draws from its seed (none, all, or a seeded
//! subset under swarm testing).

use rand::Rng;

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
