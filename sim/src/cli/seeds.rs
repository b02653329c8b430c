//! Seeds, seed ranges and shards as the command line spells them.

/// Parses a seed: decimal (`42`) or hexadecimal (`0x2a`).
pub fn parse_seed(s: &str) -> Result<u64, String> {
    kubesim::seed::parse(s).map_err(|e| e.to_string())
}

/// A half-open range of seeds `A..B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedRange {
    /// First seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl std::str::FromStr for SeedRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once("..").ok_or_else(|| {
            format!("invalid seed range {s:?}: expected A..B, for example 0..500")
        })?;
        let (start, end) = (parse_seed(a)?, parse_seed(b)?);
        if start >= end {
            return Err(format!(
                "invalid seed range {s:?}: it is empty (A must be below B)"
            ));
        }
        Ok(Self { start, end })
    }
}

/// Shard `index` of `total`: this machine runs the seeds whose position modulo `total` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u64,
    /// Number of shards.
    pub total: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid shard {s:?}: expected I/N with 0 <= I < N, for example 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, total) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if total == 0 || index >= total {
            return Err(bad());
        }
        Ok(Self { index, total })
    }
}

impl Shard {
    /// The shard from a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` with `total` shards.
    pub fn from_job_index(value: &str, total: u64) -> Result<Self, String> {
        format!("{}/{total}", value.trim()).parse()
    }

    /// Whether the seed at `position` in the sweep belongs to this shard.
    pub fn owns(&self, position: u64) -> bool {
        position % self.total == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_in_decimal_and_hex_and_reject_garbage() {
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed("0x2a"), Ok(42));
        for bad in ["", "-1", "abc", "18446744073709551616", "0x"] {
            assert!(parse_seed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_and_shards_validate() {
        assert_eq!(
            "0..500".parse::<SeedRange>(),
            Ok(SeedRange { start: 0, end: 500 })
        );
        assert!("5..5".parse::<SeedRange>().is_err());
        assert!("5".parse::<SeedRange>().is_err());
        let s: Shard = "1/4".parse().expect("valid shard");
        assert!(s.owns(5) && !s.owns(4));
        assert!("4/4".parse::<Shard>().is_err() && "x/2".parse::<Shard>().is_err());
        assert_eq!(
            Shard::from_job_index("2", 3),
            Ok(Shard { index: 2, total: 3 })
        );
    }
}
