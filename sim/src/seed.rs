//! Seeds as people write them: decimal or `0x` hex, on the command line and in `KUBESIM_SEED`.

/// A seed that is not a number in `0..=u64::MAX`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid seed {0:?}: expected a number in 0..=18446744073709551615 (decimal or 0x hex)")]
pub struct SeedError(pub String);

/// Parses a seed: decimal or `0x` hex, surrounding spaces ignored.
pub fn parse(s: &str) -> Result<u64, SeedError> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| SeedError(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_decimal_or_hex_and_anything_else_names_the_input() {
        assert_eq!(parse("42"), Ok(42));
        assert_eq!(parse(" 0x2a "), Ok(42));
        assert_eq!(parse("0XFF"), Ok(255));
        assert_eq!(parse("18446744073709551615"), Ok(u64::MAX));
        for bad in ["", "-1", "12x", "0x", "18446744073709551616", "0xg"] {
            let e = parse(bad).expect_err(bad);
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
    }
}
