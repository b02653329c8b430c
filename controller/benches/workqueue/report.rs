//! The one-shot report printed before timing: the gets each workload performs (the queues
//! implementing client-go's algorithm must agree) and the heap bytes per distinct queued key.

use std::sync::Arc;
use std::time::Duration; // used by the `w3!` expansions

use kubesim_controller::{
    default_controller_rate_limiter, LocalRateLimitingQueue, LocalWorkQueue, RateLimitingQueue,
    WorkQueue,
};

use crate::concurrent::w2_concurrent;
use crate::heap::heap_bytes_of;
use crate::queues::{BenchQueue, PlainQueue};
use crate::scheduler::{scheduler_bytes_per_key, w2_scheduler};
use crate::setup::{current_thread, Key};
use crate::w2::w2;
use crate::w3::w3;

/// Live heap bytes per key of a fresh `Q` holding every key of `keys`.
fn bytes_per_key<Q: BenchQueue>(keys: &[Key]) -> f64 {
    let (queue, bytes) = heap_bytes_of(|| {
        let queue = Q::fresh();
        for &key in keys {
            queue.add(key);
        }
        queue
    });
    drop(queue);
    bytes as f64 / keys.len() as f64
}

/// Runs each workload once per queue and prints what it did; asserts the gets agree.
pub(crate) fn report(keys: &'static [Key], seq: &Arc<Vec<u16>>) {
    let rt = current_thread(false);
    println!("== one-shot report (not timed) ==");
    let plain = rt.block_on(w2(&<Arc<PlainQueue>>::fresh(), keys, seq));
    let wq = rt.block_on(w2(&WorkQueue::new(), keys, seq));
    let local = rt.block_on(w2(&LocalWorkQueue::new(), keys, seq));
    let sched = {
        let _guard = rt.enter();
        w2_scheduler(keys, seq, 8)
    };
    println!(
        "W2 gets: plain {plain}, workqueue {wq}, local {local}, kube-runtime scheduler {sched}"
    );
    assert_eq!(wq, plain, "same algorithm, same gets");
    assert_eq!(local, plain, "same algorithm, same gets");

    let paused = current_thread(true);
    let (storm, total) = paused.block_on(async {
        w3!(
            &RateLimitingQueue::new(default_controller_rate_limiter()),
            keys,
            seq
        )
    });
    let (storm_local, total_local) = paused.block_on(async {
        w3!(
            &LocalRateLimitingQueue::new(default_controller_rate_limiter()),
            keys,
            seq
        )
    });
    assert_eq!((storm, total), (storm_local, total_local));
    println!("W3 gets: {storm} during the storm, {total} in total (both queues)");

    let multi = tokio::runtime::Runtime::new().expect("runtime");
    let c_plain = multi.block_on(w2_concurrent(<Arc<PlainQueue>>::fresh(), keys, seq.clone()));
    let c_wq = multi.block_on(w2_concurrent(WorkQueue::new(), keys, seq.clone()));
    println!("concurrent W2 gets (vary run to run): plain {c_plain}, workqueue {c_wq}");

    let size = std::mem::size_of::<Key>();
    println!(
        "heap bytes per distinct queued key ({} keys, key handle {size} bytes, key text not \
         counted): plain {:.1}, workqueue {:.1}, local {:.1}, kube-runtime scheduler {:.1}",
        keys.len(),
        bytes_per_key::<Arc<PlainQueue>>(keys),
        bytes_per_key::<WorkQueue<Key>>(keys),
        bytes_per_key::<LocalWorkQueue<Key>>(keys),
        scheduler_bytes_per_key(&rt, keys),
    );
    let queue = WorkQueue::new();
    for &key in keys {
        queue.add(key);
    }
    println!(
        "WorkQueue::heap_bytes per key: {:.1}",
        queue.heap_bytes() as f64 / keys.len() as f64
    );
}
