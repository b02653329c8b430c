//! W1, the cycle: on a fresh queue, 100 x (add, get, done).

use std::sync::Arc;

use criterion::{BatchSize, Criterion};
use kubesim_controller::{LocalWorkQueue, WorkQueue};
use tokio::runtime::Runtime;

use crate::queues::{BenchQueue, PlainQueue};
use crate::scheduler::w2_scheduler;
use crate::setup::Key;

/// W1: on a fresh queue, 100 x (add, get, done).
pub(crate) async fn w1<Q: BenchQueue>(queue: &Q, keys: &[Key]) {
    for &key in &keys[..100] {
        queue.add(key);
        let got = queue.get().await.expect("a key");
        queue.done(&got);
    }
}

/// The criterion group `W1 cycle (100 x add+get+done)`; kube-runtime's scheduler runs W2's
/// adapter with a get after every add over the first 100 keys.
pub(crate) fn bench(c: &mut Criterion, rt: &Runtime, keys: &'static [Key]) {
    let mut group = c.benchmark_group("W1 cycle (100 x add+get+done)");
    macro_rules! w1_bench {
        ($name:expr, $ty:ty) => {
            group.bench_function($name, |b| {
                b.iter_batched(
                    <$ty as BenchQueue>::fresh,
                    |queue| {
                        rt.block_on(w1(&queue, keys));
                        queue
                    },
                    BatchSize::SmallInput,
                )
            });
        };
    }
    w1_bench!("plain", Arc<PlainQueue>);
    w1_bench!("workqueue", WorkQueue<Key>);
    w1_bench!("local", LocalWorkQueue<Key>);
    group.bench_function("kube-runtime", |b| {
        let _guard = rt.enter();
        let w1_seq: Vec<u16> = (0..100).collect();
        b.iter(|| w2_scheduler(keys, &w1_seq, 1))
    });
    group.finish();
}
