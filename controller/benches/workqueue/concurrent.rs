//! Concurrent W2: 4 producers and 4 workers on a multi-threaded runtime (thread-safe queues only).

use std::sync::Arc;

use criterion::Criterion;
use kubesim_controller::WorkQueue;
use tokio::runtime::Runtime;

use crate::queues::{BenchQueue, PlainQueue, SendQueue};
use crate::setup::Key;

/// Concurrent W2: 4 producers add interleaved quarters of the sequence while 4 workers get and
/// done; then shut down and let the workers drain. Returns the number of gets.
pub(crate) async fn w2_concurrent<Q: SendQueue>(
    queue: Q,
    keys: &'static [Key],
    seq: Arc<Vec<u16>>,
) -> u64 {
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut gets = 0u64;
                while let Some(key) = queue.get_send().await {
                    queue.done(&key);
                    gets += 1;
                }
                gets
            })
        })
        .collect();
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let (queue, seq) = (queue.clone(), seq.clone());
            tokio::spawn(async move {
                for (i, &k) in seq.iter().enumerate().skip(p).step_by(4) {
                    queue.add(keys[k as usize]);
                    if i % 1024 == p {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await.expect("producer");
    }
    queue.shut_down();
    let mut gets = 0;
    for worker in workers {
        gets += worker.await.expect("worker");
    }
    gets
}

/// The criterion group `W2 concurrent (4 producers, 4 workers, 1M adds)`; `multi` is a
/// multi-threaded runtime.
pub(crate) fn bench(c: &mut Criterion, multi: &Runtime, keys: &'static [Key], seq: &Arc<Vec<u16>>) {
    let mut group = c.benchmark_group("W2 concurrent (4 producers, 4 workers, 1M adds)");
    group.sample_size(10);
    group.bench_function("plain", |b| {
        b.iter(|| multi.block_on(w2_concurrent(<Arc<PlainQueue>>::fresh(), keys, seq.clone())))
    });
    group.bench_function("workqueue", |b| {
        b.iter(|| multi.block_on(w2_concurrent(WorkQueue::new(), keys, seq.clone())))
    });
    group.finish();
}
