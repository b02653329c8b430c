//! Faults an API server replica injects into what it serves, drawn from a seeded RNG: API errors
//! (429, 500, 504, and 409 on writes), slow responses, and dropped watch streams. Each injection
//! is a `fault` history event on the replica, so a report says what the client met.

use crate::api::{ApiRequest, Verb};
use crate::plan::targeted::{Armed, Hit};
use kubesim_model::{ApiError, StatusReason};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a replica injects; all rates are per request (or per watch batch) in `0.0..=1.0`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicaFaults {
    /// Chance that a non-watch request is answered with an injected error instead of served.
    pub error_rate: f64,
    /// Chance that a request is delayed before it is served.
    pub slow_rate: f64,
    /// Longest injected delay.
    pub slow_max: Duration,
    /// Chance that a watch stream is cut after a batch of events.
    pub watch_drop_rate: f64,
    /// Seed of the injection RNG (each replica derives its own from it).
    pub seed: u64,
    /// A window of 409 Conflicts aimed at the updates and patches of one resource (the rare
    /// "conflict on the last write" path a controller must handle), if drawn.
    pub conflicts: Option<ConflictWindow>,
    /// Targeted faults of a fault plan ([`crate::plan::TargetedFault`]), shared by every
    /// replica. They are not stopped by the heal of the rates above: a plan says when they end.
    pub targeted: Option<Targets>,
}

/// The armed targeted faults of a run, shared by the replicas (equal when the same).
#[derive(Debug, Clone)]
pub struct Targets(pub Arc<Armed>);

impl PartialEq for Targets {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// 409 Conflicts injected on the conditional updates and patches (those carrying a
/// `resourceVersion`) of one resource during a window of the run, at a high rate: a one-shot
/// conflict on the write that matters, made likely.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictWindow {
    /// The resource aimed at, as storage keys name it (`pods`, `widgets.example.com`).
    pub resource: String,
    /// Start of the window, from the start of the run.
    pub from: Duration,
    /// End of the window (exclusive).
    pub until: Duration,
    /// Chance that a matching write in the window gets a 409.
    pub rate: f64,
}

impl std::fmt::Display for ConflictWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "conflicts on {} writes={:.3} from {}ms to {}ms",
            self.resource,
            self.rate,
            self.from.as_millis(),
            self.until.as_millis()
        )
    }
}

impl ReplicaFaults {
    /// True when nothing is injected.
    pub fn is_none(&self) -> bool {
        self.error_rate == 0.0
            && self.slow_rate == 0.0
            && self.watch_drop_rate == 0.0
            && self.conflicts.is_none()
    }

    /// The rates in the form the history and fault plans print them.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "api errors={:.3} slow={:.3} up to {}ms watch-drops={:.3}",
            self.error_rate,
            self.slow_rate,
            self.slow_max.as_millis(),
            self.watch_drop_rate
        );
        if let Some(w) = &self.conflicts {
            text.push_str(&format!("; {w}"));
        }
        text
    }
}

/// One replica's injector.
pub struct Injector {
    config: ReplicaFaults,
    rng: Mutex<ChaCha8Rng>,
    /// Draws of the conflict window, apart so the other injections keep their sequence.
    conflict_rng: Mutex<ChaCha8Rng>,
    healed: Arc<AtomicBool>,
}

impl Injector {
    /// The injector of replica `index`; it stops injecting once `healed` is set.
    pub fn new(config: ReplicaFaults, index: u64, healed: Arc<AtomicBool>) -> Self {
        assert!(
            (0.0..=1.0).contains(&config.error_rate),
            "error_rate is a probability"
        );
        assert!(
            (0.0..=1.0).contains(&config.slow_rate),
            "slow_rate is a probability"
        );
        assert!(
            (0.0..=1.0).contains(&config.watch_drop_rate),
            "watch_drop_rate is a probability"
        );
        if let Some(w) = &config.conflicts {
            assert!(
                (0.0..=1.0).contains(&w.rate),
                "conflict rate is a probability"
            );
        }
        let replica_seed = config.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let rng = ChaCha8Rng::seed_from_u64(replica_seed);
        let conflict_rng = ChaCha8Rng::seed_from_u64(replica_seed ^ 0x636f_6e66_6c69_6374);
        Self {
            config,
            rng: Mutex::new(rng),
            conflict_rng: Mutex::new(conflict_rng),
            healed,
        }
    }

    fn draw(&self, rate: f64) -> bool {
        if rate == 0.0 || self.healed.load(Ordering::Relaxed) {
            return false;
        }
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .random_bool(rate)
    }

    /// An error to answer a `verb` request on `resource` with, if one is injected. `conditional`:
    /// the write carries a `resourceVersion` (only those can meet a 409 Conflict from the
    /// conflict window, as only those can on a real API server).
    pub fn error_for(&self, verb: Verb, resource: &str, conditional: bool) -> Option<ApiError> {
        if !self.draw(self.config.error_rate) {
            return if conditional {
                self.window_conflict(verb, resource)
            } else {
                None
            };
        }
        let write = matches!(
            verb,
            Verb::Create | Verb::Update | Verb::Patch | Verb::Delete
        );
        let choices = if write { 4 } else { 3 };
        let pick = self
            .rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .random_range(0..choices);
        Some(match pick {
            0 => ApiError::new(
                StatusReason::TooManyRequests,
                "Too many requests, please try again later.",
            ),
            1 => ApiError::internal("Internal error occurred: injected by kubesim"),
            2 => ApiError::new(
                StatusReason::Timeout,
                "Timeout: request did not complete within requested timeout - context deadline exceeded",
            ),
            _ => ApiError::new(
                StatusReason::Conflict,
                format!("Operation cannot be fulfilled: {}", ApiError::OPTIMISTIC_LOCK),
            ),
        })
    }

    /// A 409 from the conflict window, if `verb` on `resource` now falls in it and the draw says so.
    fn window_conflict(&self, verb: Verb, resource: &str) -> Option<ApiError> {
        let w = self.config.conflicts.as_ref()?;
        if !matches!(verb, Verb::Update | Verb::Patch) || w.resource != resource {
            return None;
        }
        let now = turmoil::sim_elapsed().unwrap_or_default();
        if now < w.from || now >= w.until || self.healed.load(Ordering::Relaxed) {
            return None;
        }
        let hit = self
            .conflict_rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .random_bool(w.rate);
        hit.then(|| {
            ApiError::new(
                StatusReason::Conflict,
                format!(
                    "Operation cannot be fulfilled: {}",
                    ApiError::OPTIMISTIC_LOCK
                ),
            )
        })
    }

    /// The targeted fault that hits `request` (sent by client host `peer`), if one does; every
    /// matching entry counts it.
    pub fn targeted(&self, peer: &str, request: &ApiRequest) -> Option<Hit> {
        let armed = &self.config.targeted.as_ref()?.0;
        armed.on_request(peer, request, turmoil::sim_elapsed().unwrap_or_default())
    }

    /// Counts a write answered 2xx to `peer` for the targeted crashes.
    pub fn count_write(&self, peer: &str, request: &ApiRequest) {
        if let Some(t) = &self.config.targeted {
            t.0.on_write(peer, request, turmoil::sim_elapsed().unwrap_or_default());
        }
    }

    /// A delay to serve the next request after, if one is injected.
    pub fn delay(&self) -> Option<Duration> {
        if !self.draw(self.config.slow_rate) {
            return None;
        }
        let max_us = self.config.slow_max.as_micros() as u64;
        let us = self
            .rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .random_range(0..=max_us);
        Some(Duration::from_micros(us))
    }

    /// Whether to cut a watch stream now.
    pub fn drop_watch(&self) -> bool {
        self.draw(self.config.watch_drop_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_injected_by_default_and_rates_of_one_always_inject() {
        let quiet = Injector::new(ReplicaFaults::default(), 0, Arc::default());
        assert!(
            quiet.error_for(Verb::Create, "pods", false).is_none()
                && quiet.delay().is_none()
                && !quiet.drop_watch()
        );
        let loud = Injector::new(
            ReplicaFaults {
                error_rate: 1.0,
                slow_rate: 1.0,
                slow_max: Duration::from_secs(1),
                watch_drop_rate: 1.0,
                seed: 3,
                conflicts: None,
                targeted: None,
            },
            0,
            Arc::default(),
        );
        for _ in 0..20 {
            let e = loud.error_for(Verb::Get, "pods", false).expect("always");
            assert!(
                [429, 500, 504].contains(&e.code()),
                "reads never get an injected 409"
            );
            assert!(loud.delay().expect("always") <= Duration::from_secs(1));
            assert!(loud.drop_watch());
        }
    }

    #[test]
    fn a_healed_injector_injects_nothing() {
        let healed = Arc::new(AtomicBool::new(false));
        let cfg = ReplicaFaults {
            error_rate: 1.0,
            ..ReplicaFaults::default()
        };
        let i = Injector::new(cfg, 0, healed.clone());
        assert!(i.error_for(Verb::Get, "pods", false).is_some());
        healed.store(true, Ordering::Relaxed);
        assert!(i.error_for(Verb::Get, "pods", false).is_none());
    }

    #[test]
    fn the_same_seed_injects_the_same_faults() {
        let cfg = ReplicaFaults {
            error_rate: 0.5,
            seed: 9,
            ..ReplicaFaults::default()
        };
        let draws = |idx| {
            let i = Injector::new(cfg.clone(), idx, Arc::default());
            (0..50)
                .map(|_| i.error_for(Verb::Update, "pods", true).map(|e| e.code()))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(0), draws(0));
        assert_ne!(draws(0), draws(1), "replicas draw their own faults");
    }
}
