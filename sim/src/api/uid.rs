//! Deterministic object uids and `generateName` suffixes, derived from the configured seed and a
//! counter so that the same run always hands out the same values.

/// The alphabet of `generateName` suffixes (apimachinery `util/rand.String`: no vowels, no
/// confusable characters).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Length of a generated name suffix (`names.SimpleNameGenerator`).
pub(crate) const NAME_SUFFIX_LEN: usize = 5;
/// `maxGeneratedNameLength`: the prefix is cut so that prefix + suffix fits 63 characters.
pub(crate) const GENERATED_NAME_PREFIX_MAX: usize = 63 - NAME_SUFFIX_LEN;

/// Hands out uids and name suffixes.
#[derive(Clone)]
pub(crate) struct UidSource {
    seed: u64,
    counter: u64,
}

/// SplitMix64: a small, well-distributed mixer (Steele, Lea, Flood: "Fast splittable
/// pseudorandom number generators", OOPSLA 2014).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl UidSource {
    pub(crate) fn new(seed: u64) -> Self {
        Self { seed, counter: 0 }
    }

    fn next_u64(&mut self) -> u64 {
        self.counter += 1;
        splitmix64(self.seed ^ splitmix64(self.counter))
    }

    /// A version-4-shaped UUID: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    pub(crate) fn uid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let hi = (hi & !0xf000) | 0x4000; // version 4
        let lo = (lo & !(0xc << 60)) | (0x8 << 60); // variant 10xx
        let uid = format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        );
        assert_eq!(uid.len(), 36, "invariant: a uid has 36 characters");
        uid
    }

    /// `generateName` plus a 5-character suffix, the prefix cut to fit 63 characters.
    pub(crate) fn generate_name(&mut self, prefix: &str) -> String {
        let cut: String = prefix.chars().take(GENERATED_NAME_PREFIX_MAX).collect();
        let mut bits = self.next_u64();
        let mut name = cut;
        for _ in 0..NAME_SUFFIX_LEN {
            let i = (bits % NAME_ALPHABET.len() as u64) as usize;
            bits /= NAME_ALPHABET.len() as u64;
            name.push(char::from(NAME_ALPHABET[i]));
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_uuid_shaped_distinct_and_repeat_for_the_same_seed() {
        let mut a = UidSource::new(7);
        let mut b = UidSource::new(7);
        let (a1, a2) = (a.uid(), a.uid());
        assert_ne!(a1, a2);
        assert_eq!(a1, b.uid());
        assert_eq!(&a1[14..15], "4");
        assert!(a1.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_ne!(UidSource::new(8).uid(), a1);
    }

    #[test]
    fn generated_names_append_five_characters_to_a_cut_prefix() {
        let mut s = UidSource::new(0);
        let n = s.generate_name("web-");
        assert!(n.starts_with("web-") && n.len() == 9);
        let long = "a".repeat(100);
        assert_eq!(s.generate_name(&long).len(), 63);
    }
}
