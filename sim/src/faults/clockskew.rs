//! Per-replica clocks for leader election: an offset, a rate (drift), and process pauses.
//!
//! turmoil simulates one `tokio::time` per host, and every host's clock runs at the same rate.
//! A [`SkewedClock`] maps a host's tokio time `t` (measured from the clock's creation) to a local
//! time
//!
//! ```text
//! local(t) = offset + rate * (t - paused(t))
//! ```
//!
//! where `paused(t)` is the part of `[0, t)` covered by the [`Pause`]s. During a pause `now()`
//! stands still and no [`Clock::sleep`] finishes (a sleep ends at the first host time its local
//! deadline is reached, which is never inside a pause), which is what a stop-the-world GC or a
//! SIGSTOP looks like to code that waits on its clock. The plan ([`ClockSkew`]) is plain data,
//! drawn from the seed and printable, so a report says which replica ran fast, slow or stopped.
//!
//! client-go's leader election tolerates offset but not rate skew beyond
//! `lease_duration / renew_deadline`, nor pauses longer than `lease_duration`
//! (`tools/leaderelection/doc.go`); these clocks are how the simulation produces both.

use crate::clock::EPOCH_UNIX_SECS;
use futures::future::BoxFuture;
use k8s_openapi::jiff::Timestamp;
use kubesim_controller::leader::{wall_after, Clock};
use rand::Rng;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// The local clock stops at `at` (host time since the clock was made) for `length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// When the pause starts, host time since the clock's creation.
    pub at: Duration,
    /// How long it lasts, in host time.
    pub length: Duration,
}

/// How one replica's clock deviates from true (host) time.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockSkew {
    /// Added to local time (client-go tolerates any offset).
    pub offset: Duration,
    /// Local seconds per host second: 1.0 is exact, 0.1 a clock ten times slow.
    pub rate: f64,
    /// Process pauses, in any order (they must not overlap).
    pub pauses: Vec<Pause>,
}

impl Default for ClockSkew {
    fn default() -> Self {
        Self::exact()
    }
}

impl fmt::Display for ClockSkew {
    /// `rate=0.100 offset=3.000s pauses=[12.500s+30.000s]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rate={:.3} offset={:.3}s pauses=[",
            self.rate,
            self.offset.as_secs_f64()
        )?;
        for (i, p) in self.pauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(
                f,
                "{:.3}s+{:.3}s",
                p.at.as_secs_f64(),
                p.length.as_secs_f64()
            )?;
        }
        f.write_str("]")
    }
}

impl ClockSkew {
    /// A clock that keeps true time.
    pub fn exact() -> Self {
        Self {
            offset: Duration::ZERO,
            rate: 1.0,
            pauses: Vec::new(),
        }
    }

    /// A clock running at `rate` local seconds per host second.
    pub fn rate(rate: f64) -> Self {
        Self {
            rate,
            ..Self::exact()
        }
    }

    /// Adds a pause of `length` starting at host time `at`.
    pub fn with_pause(mut self, at: Duration, length: Duration) -> Self {
        self.pauses.push(Pause { at, length });
        self.check();
        self
    }

    /// Draws an offset in `0..=offset_max`, a rate log-uniform in `[1/rate_max, rate_max]` and,
    /// with probability `pause_probability`, one pause of `pause_length_max / 2 ..=
    /// pause_length_max` starting in `0..pause_start_max`.
    pub fn draw(
        rng: &mut impl Rng,
        offset_max: Duration,
        rate_max: f64,
        pause_probability: f64,
        pause_start_max: Duration,
        pause_length_max: Duration,
    ) -> Self {
        assert!(rate_max >= 1.0, "rate_max is a factor of at least 1");
        let offset = Duration::from_millis(rng.random_range(0..=offset_max.as_millis() as u64));
        let exponent: f64 = rng.random_range(-1.0..=1.0);
        let rate = rate_max.powf(exponent);
        let mut skew = Self {
            offset,
            rate,
            pauses: Vec::new(),
        };
        if rng.random_bool(pause_probability.clamp(0.0, 1.0)) {
            let at = Duration::from_millis(rng.random_range(0..pause_start_max.as_millis() as u64));
            let max_ms = pause_length_max.as_millis() as u64;
            let length = Duration::from_millis(rng.random_range(max_ms / 2..=max_ms));
            skew = skew.with_pause(at, length);
        }
        skew
    }

    fn check(&mut self) {
        assert!(
            self.rate.is_finite() && self.rate > 0.0,
            "a clock rate is positive"
        );
        self.pauses.sort_by_key(|p| p.at);
        for w in self.pauses.windows(2) {
            assert!(w[0].at + w[0].length <= w[1].at, "pauses do not overlap");
        }
    }

    /// Host time spent paused within `[0, t)`.
    fn paused_before(&self, t: Duration) -> Duration {
        self.pauses
            .iter()
            .map(|p| {
                let end = (p.at + p.length).min(t);
                end.saturating_sub(p.at)
            })
            .sum()
    }

    /// Local time since creation (without the offset) at host time `t`.
    pub fn local(&self, t: Duration) -> Duration {
        (t - self.paused_before(t)).mul_f64(self.rate)
    }

    /// The first host time at which local time (without the offset) reaches `target`.
    pub fn host_time_of(&self, target: Duration) -> Duration {
        // Active (unpaused) host time needed, rounded up so local(result) >= target.
        let active_ns = (target.as_nanos() as f64 / self.rate).ceil();
        let mut t = Duration::from_nanos(active_ns.min(u64::MAX as f64) as u64);
        for p in &self.pauses {
            if p.at < t {
                t += p.length;
            } else {
                break;
            }
        }
        t
    }
}

/// A [`Clock`] following a [`ClockSkew`] from the moment it is made (make it inside the host).
///
/// Sleeps end on a multiple of the clock's resolution (host time since its creation), 1 ms by
/// default: set it to turmoil's tick so every wake-up falls on a tick boundary. (A host that wakes
/// inside a tick records events stamped later than those of hosts polled after it in the same
/// tick, which the history recorder rejects as time going backwards.)
#[derive(Debug, Clone)]
pub struct SkewedClock {
    skew: ClockSkew,
    start: Instant,
    resolution: Duration,
}

impl SkewedClock {
    /// A clock starting now on the current host.
    pub fn new(mut skew: ClockSkew) -> Self {
        skew.check();
        Self {
            skew,
            start: Instant::now(), // det-ok: tokio::time::Instant, the host's simulated clock
            resolution: Duration::from_millis(1),
        }
    }

    /// Rounds sleep ends up to multiples of `resolution` (not zero).
    pub fn with_resolution(mut self, resolution: Duration) -> Self {
        assert!(!resolution.is_zero(), "a clock resolution is positive");
        self.resolution = resolution;
        self
    }

    /// The plan this clock follows.
    pub fn skew(&self) -> &ClockSkew {
        &self.skew
    }

    fn local_elapsed(&self) -> Duration {
        self.skew.local(Instant::now() - self.start) // det-ok: tokio::time::Instant, the host's simulated clock
    }
}

impl Clock for SkewedClock {
    fn now(&self) -> Instant {
        self.start + self.skew.offset + self.local_elapsed()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        let target = self.local_elapsed() + d;
        let host = self.skew.host_time_of(target).as_nanos();
        let step = self.resolution.as_nanos();
        let rounded = host.div_ceil(step) * step;
        let wake = self.start + Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX));
        Box::pin(tokio::time::sleep_until(wake))
    }

    fn timestamp(&self) -> Timestamp {
        let epoch = Timestamp::from_second(EPOCH_UNIX_SECS).unwrap_or(Timestamp::UNIX_EPOCH);
        wall_after(epoch, self.skew.offset + self.local_elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_clock_maps_back_to_the_host_time_it_reaches_a_target() {
        let s = ClockSkew::rate(0.1);
        assert_eq!(s.local(Duration::from_secs(20)), Duration::from_secs(2));
        assert_eq!(
            s.host_time_of(Duration::from_secs(2)),
            Duration::from_secs(20)
        );
    }

    #[test]
    fn time_stands_still_during_a_pause_and_a_deadline_inside_it_waits_for_its_end() {
        let s = ClockSkew::exact().with_pause(Duration::from_secs(10), Duration::from_secs(30));
        assert_eq!(s.local(Duration::from_secs(10)), Duration::from_secs(10));
        assert_eq!(s.local(Duration::from_secs(25)), Duration::from_secs(10));
        assert_eq!(s.local(Duration::from_secs(45)), Duration::from_secs(15));
        assert_eq!(
            s.host_time_of(Duration::from_secs(9)),
            Duration::from_secs(9)
        );
        assert_eq!(
            s.host_time_of(Duration::from_secs(11)),
            Duration::from_secs(41)
        );
        for ms in (0..60_000).step_by(777) {
            let target = Duration::from_millis(ms);
            let t = s.host_time_of(target);
            assert!(s.local(t) >= target, "the clock has reached its target");
        }
    }

    #[test]
    fn a_sleep_on_a_paused_clock_ends_after_the_pause() {
        let mut sim = turmoil::Builder::new().build();
        sim.client("replica", async {
            let clock = SkewedClock::new(
                ClockSkew::rate(2.0).with_pause(Duration::from_secs(1), Duration::from_secs(5)),
            );
            let start = Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
            clock.sleep(Duration::from_secs(4)).await; // 2 s local before the pause, 2 s after
            assert_eq!(start.elapsed(), Duration::from_secs(7));
            assert_eq!(clock.now() - start, Duration::from_secs(4));
            Ok(())
        });
        sim.run().expect("the client finishes");
    }

    #[test]
    fn a_drawn_skew_is_printable_and_repeats_per_seed() {
        use rand::SeedableRng;
        let draw = |seed| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            ClockSkew::draw(
                &mut rng,
                Duration::from_secs(5),
                10.0,
                1.0,
                Duration::from_secs(20),
                Duration::from_secs(40),
            )
        };
        assert_eq!(draw(3), draw(3));
        let text = draw(3).to_string();
        assert!(text.starts_with("rate="), "{text}");
        assert!(text.contains("pauses=[") && text.contains('+'), "{text}");
    }
}
