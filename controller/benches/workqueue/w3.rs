//! W3, the rate-limited storm: W2 through `add_rate_limited` on tokio's paused clock.

use criterion::Criterion;
use kubesim_controller::{
    default_controller_rate_limiter, LocalRateLimitingQueue, RateLimitingQueue,
};
use std::time::Duration;
use tokio::runtime::Runtime;

use crate::setup::Key;

/// W3: W2 with `add_rate_limited` through the default controller limiter, `forget` on success,
/// on tokio's paused clock, which advances 1 ms per 8 adds (in 8 ms steps every 64 adds, i.e.
/// 8,000 adds per simulated second). The drain waits (in simulated time) for every delayed key.
/// Returns (gets during the storm, gets in total).
macro_rules! w3 {
    ($queue:expr, $keys:expr, $seq:expr) => {{
        let queue = $queue;
        let mut storm_gets = 0u64;
        for (i, &k) in $seq.iter().enumerate() {
            queue.add_rate_limited($keys[k as usize]);
            if i % 8 == 7 && queue.len() > 0 {
                let got = queue.get().await.expect("a key");
                queue.forget(&got);
                queue.done(&got);
                storm_gets += 1;
            }
            if i % 64 == 63 {
                tokio::time::advance(Duration::from_millis(8)).await;
            }
        }
        let mut gets = storm_gets;
        while queue.len() > 0 || queue.delayed_len() > 0 {
            let got = queue.get().await.expect("a key");
            queue.forget(&got);
            queue.done(&got);
            gets += 1;
        }
        (storm_gets, gets)
    }};
}
pub(crate) use w3;

/// The criterion group `W3 rate-limited storm (1M adds)`; `paused` is a runtime whose clock
/// starts paused.
pub(crate) fn bench(c: &mut Criterion, paused: &Runtime, keys: &'static [Key], seq: &[u16]) {
    let mut group = c.benchmark_group("W3 rate-limited storm (1M adds)");
    group.sample_size(10);
    group.bench_function("workqueue", |b| {
        b.iter(|| {
            paused.block_on(async {
                w3!(
                    &RateLimitingQueue::new(default_controller_rate_limiter()),
                    keys,
                    seq
                )
            })
        })
    });
    group.bench_function("local", |b| {
        b.iter(|| {
            paused.block_on(async {
                w3!(
                    &LocalRateLimitingQueue::new(default_controller_rate_limiter()),
                    keys,
                    seq
                )
            })
        })
    });
    group.finish();
}
