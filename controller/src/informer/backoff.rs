//! Exponential backoff with seeded jitter, as client-go's reflector uses it
//! (`wait.NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)`): each failure doubles the base
//! from 800 ms up to 30 s, and the wait is `base * (1 + jitter * U[0,1))`. The jitter comes from
//! the RNG the caller gives, so a simulation seeds it (kube-runtime's default backoff draws from an
//! unseeded fastrand instead).

use rand::{Rng, RngCore};
use std::time::Duration;

/// Settings of a [`Backoff`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// First wait.
    pub initial: Duration,
    /// Largest base wait.
    pub max: Duration,
    /// Growth per failure.
    pub factor: f64,
    /// Jitter fraction: the wait is `base * (1 + jitter * U[0,1))`.
    pub jitter: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(800),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 1.0,
        }
    }
}

/// Exponential backoff state.
pub struct Backoff {
    config: BackoffConfig,
    next_base: Duration,
    rng: Box<dyn RngCore + Send>,
}

impl std::fmt::Debug for Backoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backoff")
            .field("config", &self.config)
            .field("next_base", &self.next_base)
            .finish_non_exhaustive()
    }
}

impl Backoff {
    /// A backoff drawing jitter from `rng`.
    pub fn new(config: BackoffConfig, rng: Box<dyn RngCore + Send>) -> Self {
        assert!(
            config.initial <= config.max,
            "backoff initial must not exceed max"
        );
        assert!(config.factor >= 1.0 && config.jitter >= 0.0);
        Self {
            config,
            next_base: config.initial,
            rng,
        }
    }

    /// The wait after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next_base;
        self.next_base = base.mul_f64(self.config.factor).min(self.config.max);
        let u: f64 = self.rng.random();
        base.mul_f64(1.0 + self.config.jitter * u)
    }

    /// Back to the initial wait (after a success).
    pub fn reset(&mut self) {
        self.next_base = self.config.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn waits_double_from_800ms_to_30s_with_jitter_at_most_doubling_them() {
        let rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut b = Backoff::new(BackoffConfig::default(), Box::new(rng));
        let mut base = Duration::from_millis(800);
        for _ in 0..10 {
            let d = b.next_delay();
            assert!(
                d >= base && d < base * 2,
                "{d:?} not in [{base:?}, {:?})",
                base * 2
            );
            base = (base * 2).min(Duration::from_secs(30));
        }
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(1600));
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let waits = |seed| {
            let mut b = Backoff::new(
                BackoffConfig::default(),
                Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(seed)),
            );
            (0..5).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(waits(3), waits(3));
        assert_ne!(waits(3), waits(4));
    }
}
