//! W2, the storm: 1M adds of Zipf-distributed keys; after every 8th add, get+done one key if any
//! is queued; then drain.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion};
use kubesim_controller::{LocalWorkQueue, WorkQueue};
use tokio::runtime::Runtime;

use crate::queues::{BenchQueue, PlainQueue};
use crate::scheduler::w2_scheduler;
use crate::setup::Key;

/// W2: the storm; after every 8th add, get+done one key if any is queued; then drain.
/// Returns the number of gets.
pub(crate) async fn w2<Q: BenchQueue>(queue: &Q, keys: &[Key], seq: &[u16]) -> u64 {
    let mut gets = 0;
    for (i, &k) in seq.iter().enumerate() {
        queue.add(keys[k as usize]);
        if i % 8 == 7 && queue.len() > 0 {
            let got = queue.get().await.expect("a key");
            queue.done(&got);
            gets += 1;
        }
    }
    while queue.len() > 0 {
        let got = queue.get().await.expect("a key");
        queue.done(&got);
        gets += 1;
    }
    gets
}

/// The criterion group `W2 storm (1M adds)`.
pub(crate) fn bench(c: &mut Criterion, rt: &Runtime, keys: &'static [Key], seq: &[u16]) {
    let mut group = c.benchmark_group("W2 storm (1M adds)");
    group.sample_size(10);
    macro_rules! w2_bench {
        ($name:expr, $ty:ty) => {
            group.bench_function($name, |b| {
                b.iter_batched(
                    <$ty as BenchQueue>::fresh,
                    |queue| {
                        black_box(rt.block_on(w2(&queue, keys, seq)));
                        queue
                    },
                    BatchSize::PerIteration,
                )
            });
        };
    }
    w2_bench!("plain", Arc<PlainQueue>);
    w2_bench!("workqueue", WorkQueue<Key>);
    w2_bench!("local", LocalWorkQueue<Key>);
    group.bench_function("kube-runtime", |b| {
        let _guard = rt.enter();
        b.iter(|| w2_scheduler(keys, seq, 8))
    });
    group.finish();
}
