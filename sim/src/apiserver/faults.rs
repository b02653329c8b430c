//! Faults an API server replica injects into what it serves, drawn from a seeded RNG: API errors
//! (429, 500, 504, and 409 on writes), slow responses, and dropped watch streams. Each injection
//! is a `fault` history event on the replica, so a report says what the client met.

use crate::api::Verb;
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
}

impl ReplicaFaults {
    /// True when nothing is injected.
    pub fn is_none(&self) -> bool {
        self.error_rate == 0.0 && self.slow_rate == 0.0 && self.watch_drop_rate == 0.0
    }
}

/// One replica's injector.
pub struct Injector {
    config: ReplicaFaults,
    rng: Mutex<ChaCha8Rng>,
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
        let rng =
            ChaCha8Rng::seed_from_u64(config.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        Self {
            config,
            rng: Mutex::new(rng),
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

    /// An error to answer a `verb` request with, if one is injected.
    pub fn error_for(&self, verb: Verb) -> Option<ApiError> {
        if !self.draw(self.config.error_rate) {
            return None;
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
            quiet.error_for(Verb::Create).is_none()
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
            },
            0,
            Arc::default(),
        );
        for _ in 0..20 {
            let e = loud.error_for(Verb::Get).expect("always");
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
        assert!(i.error_for(Verb::Get).is_some());
        healed.store(true, Ordering::Relaxed);
        assert!(i.error_for(Verb::Get).is_none());
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
                .map(|_| i.error_for(Verb::Update).map(|e| e.code()))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(0), draws(0));
        assert_ne!(draws(0), draws(1), "replicas draw their own faults");
    }
}
