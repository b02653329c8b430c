//! Simulated times and durations in fault plans: `"10.990s"`, `"1500ms"`, `"250us"`, or a bare
//! number of seconds (`5`, `0.25`). Parsing is exact (integer arithmetic on the digits), and a
//! printed time reads back as the same [`Duration`], to the microsecond, so a printed plan replays.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::Duration;

/// Formats `d` as plans print it: seconds with three decimals when `d` is a whole number of
/// milliseconds (`"10.990s"`), else with six (`"10.990250s"`).
pub fn format(d: Duration) -> String {
    let us = d.as_micros();
    if us % 1000 == 0 {
        format!("{}.{:03}s", d.as_secs(), d.subsec_millis())
    } else {
        format!("{}.{:06}s", d.as_secs(), d.subsec_micros())
    }
}

/// Parses a time as [`format()`] prints it, or with an `ms`/`us` unit, or bare seconds.
pub fn parse(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "invalid duration {s:?}: expected seconds like \"10.990s\", or \"1500ms\" or \"250us\""
        )
    };
    let (number, unit_us): (&str, u128) = if let Some(n) = t.strip_suffix("us") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000_000)
    } else {
        (t, 1_000_000)
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || digits(frac)) {
        return Err(bad());
    }
    let whole: u128 = whole.parse().map_err(|_| bad())?;
    let mut us = whole.checked_mul(unit_us).ok_or_else(bad)?;
    // Fractional digits below a microsecond are refused, not rounded: a plan is exact.
    let mut scale = unit_us;
    for b in frac.bytes() {
        if scale == 1 {
            if b != b'0' {
                return Err(format!("{s:?}: finer than a microsecond"));
            }
            continue;
        }
        scale /= 10;
        us += u128::from(b - b'0') * scale;
    }
    let us = u64::try_from(us).map_err(|_| bad())?;
    Ok(Duration::from_micros(us))
}

/// Serde `with` module for a [`Duration`] field.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

/// Serde `with` module for a [`Duration`] field.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Int(u64),
        Float(f64),
        Text(String),
    }
    let parsed = match Repr::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "expected a duration like \"10.990s\", \"1500ms\" or a number of seconds",
        )
    })? {
        Repr::Int(n) => Ok(Duration::from_secs(n)),
        Repr::Float(f) if f.is_finite() && f >= 0.0 => {
            Ok(Duration::from_micros((f * 1e6).round() as u64))
        }
        Repr::Float(f) => Err(format!(
            "invalid duration {f}: must be a non-negative number"
        )),
        Repr::Text(t) => parse(&t),
    };
    parsed.map_err(serde::de::Error::custom)
}

/// Serde `with` module for an optional [`Duration`] field.
pub mod option {
    use serde::{Deserializer, Serializer};
    use std::time::Duration;

    /// Serializes `Some(d)` as [`super::format()`] prints it.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    /// Deserializes a present time (absent fields default to `None` through `#[serde(default)]`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        super::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_times_parse_back_exactly() {
        for us in [
            0,
            1,
            999,
            1_000,
            10_990_000,
            10_990_250,
            600_000_000,
            123_456_789,
        ] {
            let d = Duration::from_micros(us);
            assert_eq!(parse(&format(d)), Ok(d), "{}", format(d));
        }
    }

    #[test]
    fn units_and_bare_seconds_are_accepted_and_garbage_is_not() {
        assert_eq!(parse("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2.5ms"), Ok(Duration::from_micros(2500)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("0.25"), Ok(Duration::from_millis(250)));
        for bad in [
            "",
            "s",
            "-1s",
            "1.2.3s",
            "5 min",
            "1e3",
            ".5s",
            "0.0000001s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
