//! Shared setup: the keys, the W2 add sequence and the runtimes every workload runs on.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};
use tokio::runtime::Runtime;

/// A key: `&'static str`, as cheap to copy as a Go string header.
pub(crate) type Key = &'static str;

const KEYS: usize = 10_000;
const W2_ADDS: usize = 1_000_000;
const W2_SEED: u64 = 0x5eed_0002;

/// "ns-{k%100}/obj-{k}" for k < 10,000, leaked once so keys copy like Go string headers.
pub(crate) fn keys() -> &'static [Key] {
    let keys: Vec<Key> = (0..KEYS)
        .map(|k| &*Box::leak(format!("ns-{}/obj-{k}", k % 100).into_boxed_str()))
        .collect();
    Box::leak(keys.into_boxed_slice())
}

/// The W2 add sequence: Zipf(s = 1.1) over the 10,000 keys from a seeded ChaCha8, drawn once.
pub(crate) fn w2_sequence() -> Vec<u16> {
    let mut rng = ChaCha8Rng::seed_from_u64(W2_SEED);
    let zipf = Zipf::new(KEYS as f64, 1.1).expect("valid Zipf parameters");
    (0..W2_ADDS)
        .map(|_| zipf.sample(&mut rng) as u16 - 1)
        .collect()
}

/// A current-thread runtime with time enabled; `paused` starts tokio's clock paused.
pub(crate) fn current_thread(paused: bool) -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()
        .expect("runtime")
}
