//! Settings of a [`LeaderElector`](super::LeaderElector) and their validation.
//!
//! The relations between the three durations are client-go's (`NewLeaderElector` in
//! `tools/leaderelection/leaderelection.go`): `lease_duration > renew_deadline` so that a leader
//! gives up before a candidate may take over, and `renew_deadline > JITTER_FACTOR *
//! retry_period` so that a leader gets more than one renewal attempt before its deadline.

use rand::{Rng, RngCore};
use std::time::Duration;

/// client-go's `JitterFactor`: the acquire loop waits `retry_period * (1 + r * 1.2)`, `r` uniform
/// in `[0, 1)`.
pub const JITTER_FACTOR: f64 = 1.2;

/// Settings of one elector (client-go's `LeaderElectionConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    /// Who this candidate is; written as the lease's `holderIdentity`. Must not be empty.
    pub identity: String,
    /// How long a candidate waits, on its own clock, without seeing the lease record change
    /// before it may take the lease over. Written as `leaseDurationSeconds` (whole seconds).
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a renewal before it stops leading.
    pub renew_deadline: Duration,
    /// Time between attempts to acquire (with jitter) and to renew (without).
    pub retry_period: Duration,
    /// Write an empty holder when leading ends (client-go's `ReleaseOnCancel`).
    pub release_on_cancel: bool,
}

impl LeaderElectionConfig {
    /// client-go's usual settings (15 s / 10 s / 2 s, no release) for `identity`.
    pub fn new(identity: impl Into<String>) -> Self {
        Self {
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            release_on_cancel: false,
        }
    }

    /// Checks the relations between the durations (client-go's checks, in its order).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lease_duration <= self.renew_deadline {
            return Err(ConfigError::LeaseNotLongerThanRenewDeadline {
                lease_duration: self.lease_duration,
                renew_deadline: self.renew_deadline,
            });
        }
        let jittered_retry = self.retry_period.mul_f64(JITTER_FACTOR);
        if self.renew_deadline <= jittered_retry {
            return Err(ConfigError::RenewDeadlineNotLongerThanJitteredRetry {
                renew_deadline: self.renew_deadline,
                retry_period: self.retry_period,
            });
        }
        if self.lease_duration < Duration::from_secs(1) {
            return Err(ConfigError::LeaseShorterThanOneSecond(self.lease_duration));
        }
        if self.retry_period.is_zero() {
            return Err(ConfigError::ZeroRetryPeriod);
        }
        if self.identity.is_empty() {
            return Err(ConfigError::EmptyIdentity);
        }
        Ok(())
    }

    /// `leaseDurationSeconds` as written to the lease.
    pub fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// A [`LeaderElectionConfig`] that would break the algorithm's assumptions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A leader could still believe it leads after a candidate may take over.
    #[error(
        "leaseDuration ({lease_duration:?}) must be greater than renewDeadline ({renew_deadline:?}): \
         otherwise a candidate may take the lease over while the old leader still acts as leader"
    )]
    LeaseNotLongerThanRenewDeadline {
        /// The configured lease duration.
        lease_duration: Duration,
        /// The configured renew deadline.
        renew_deadline: Duration,
    },
    /// The leader would not get a second renewal attempt before its deadline.
    #[error(
        "renewDeadline ({renew_deadline:?}) must be greater than retryPeriod*JitterFactor \
         ({retry_period:?} * 1.2)"
    )]
    RenewDeadlineNotLongerThanJitteredRetry {
        /// The configured renew deadline.
        renew_deadline: Duration,
        /// The configured retry period.
        retry_period: Duration,
    },
    /// `leaseDurationSeconds` is written in whole seconds and must be positive.
    #[error("leaseDuration ({0:?}) must be at least one second (it is written in whole seconds)")]
    LeaseShorterThanOneSecond(Duration),
    /// The loops would spin.
    #[error("retryPeriod must be greater than zero")]
    ZeroRetryPeriod,
    /// Nobody could tell this candidate's lease from an empty one.
    #[error("identity must not be empty: an empty holderIdentity means an unheld lease")]
    EmptyIdentity,
}

/// client-go's `wait.Jitter`: `period + r * factor * period`, `r` drawn uniformly from `[0, 1)`
/// with `rng`.
pub fn jitter(period: Duration, factor: f64, rng: &mut dyn RngCore) -> Duration {
    assert!(factor >= 0.0, "a jitter factor is not negative");
    let r: f64 = rng.random();
    period + period.mul_f64(r * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(LeaderElectionConfig::new("a").validate(), Ok(()));
    }

    #[test]
    fn a_renew_deadline_not_shorter_than_the_lease_is_rejected_with_both_values() {
        let mut c = LeaderElectionConfig::new("a");
        c.renew_deadline = c.lease_duration;
        let e = c
            .validate()
            .expect_err("renewDeadline == leaseDuration is invalid");
        assert!(matches!(
            e,
            ConfigError::LeaseNotLongerThanRenewDeadline { .. }
        ));
        assert_eq!(
            e.to_string(),
            "leaseDuration (15s) must be greater than renewDeadline (15s): otherwise a candidate \
             may take the lease over while the old leader still acts as leader"
        );
    }

    #[test]
    fn a_renew_deadline_within_one_jittered_retry_is_rejected() {
        let mut c = LeaderElectionConfig::new("a");
        c.renew_deadline = Duration::from_millis(2400); // == 1.2 * 2 s
        assert_eq!(
            c.validate(),
            Err(ConfigError::RenewDeadlineNotLongerThanJitteredRetry {
                renew_deadline: Duration::from_millis(2400),
                retry_period: Duration::from_secs(2),
            })
        );
        c.renew_deadline = Duration::from_millis(2401);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn an_empty_identity_a_zero_retry_and_a_sub_second_lease_are_rejected() {
        let mut c = LeaderElectionConfig::new("");
        assert_eq!(c.validate(), Err(ConfigError::EmptyIdentity));
        c = LeaderElectionConfig::new("a");
        c.retry_period = Duration::ZERO;
        assert_eq!(c.validate(), Err(ConfigError::ZeroRetryPeriod));
        c = LeaderElectionConfig::new("a");
        c.lease_duration = Duration::from_millis(900);
        c.renew_deadline = Duration::from_millis(800);
        c.retry_period = Duration::from_millis(100);
        assert!(matches!(
            c.validate(),
            Err(ConfigError::LeaseShorterThanOneSecond(_))
        ));
    }

    #[test]
    fn jitter_stays_within_one_to_two_point_two_periods_and_repeats_per_seed() {
        let period = Duration::from_secs(2);
        let draw = |seed| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            (0..1000)
                .map(|_| jitter(period, JITTER_FACTOR, &mut rng))
                .collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7), "the same seed gives the same jitter");
        assert_ne!(a, draw(8));
        assert!(a
            .iter()
            .all(|d| *d >= period && *d < period.mul_f64(1.0 + JITTER_FACTOR)));
        let spread = a.iter().max().copied().unwrap_or_default()
            - a.iter().min().copied().unwrap_or_default();
        assert!(
            spread > Duration::from_secs(2),
            "jitter spreads over most of 2.4 s, got {spread:?}"
        );
        assert_eq!(
            jitter(period, 0.0, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1)),
            period
        );
    }
}
