//! Simulated wall-clock values: the fixed epoch every run starts at, and the RFC 3339 timestamps
//! the API server writes (`creationTimestamp`, `deletionTimestamp`, lease times).

use std::time::Duration;

/// Seconds since the Unix epoch at simulated time zero: 2026-01-01T00:00:00Z. Fixed, so objects
/// carry the same timestamps on every run (turmoil's default epoch is the wall clock).
pub const EPOCH_UNIX_SECS: i64 = 1_767_225_600;

/// The epoch as a `SystemTime`, for `turmoil::Builder::epoch`. A fixed value, never the wall
/// clock (det-ok: turmoil's API takes the type).
#[allow(clippy::disallowed_types)]
pub fn epoch() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(EPOCH_UNIX_SECS as u64)
}

/// Simulated time since the start of the run: the current host's view of the global clock, or
/// zero outside a simulation step.
pub fn sim_now() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

/// RFC 3339 timestamp, second precision (as `metav1.Time` serializes), of `elapsed` after the
/// epoch.
pub fn rfc3339(elapsed: Duration) -> String {
    let secs = EPOCH_UNIX_SECS + elapsed.as_secs() as i64;
    let ts = jiff::Timestamp::from_second(secs).expect("invariant: simulated time stays in range");
    // jiff's RFC 3339 form: `Z`, and no fraction for a whole second (every request and write
    // formats one, so not through `strftime`'s format string).
    ts.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_start_at_the_fixed_epoch_with_second_precision() {
        assert_eq!(rfc3339(Duration::ZERO), "2026-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(Duration::from_millis(61_999)),
            "2026-01-01T00:01:01Z"
        );
    }

    #[test]
    fn timestamps_read_as_the_strftime_form_across_days_months_and_years() {
        for secs in [
            0,
            59,
            3_599,
            86_399,
            86_400,
            2_678_400,
            31_535_999,
            31_536_000,
            400_000_123,
        ] {
            let ts = jiff::Timestamp::from_second(EPOCH_UNIX_SECS + secs).expect("in range");
            assert_eq!(
                rfc3339(Duration::from_secs(secs as u64)),
                ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "{secs} s after the epoch"
            );
        }
    }
}
