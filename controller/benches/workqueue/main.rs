//! Workqueue benchmarks (docs/design.md, "Benchmarks"): W1 cycle, W2 storm, W3 rate-limited storm and
//! a concurrent W2 (4 producers, 4 workers, multi-threaded runtime), for
//!
//! - `plain`: the in-run stand-in for client-go, written here: a std `Mutex` over a `VecDeque`
//!   and two std `HashSet`s, client-go's algorithm, notifying only when a getter waits;
//! - `workqueue`: [`WorkQueue`](kubesim_controller::WorkQueue), the thread-safe queue for production;
//! - `local`: [`LocalWorkQueue`](kubesim_controller::LocalWorkQueue), the single-threaded queue simulated hosts use;
//! - `kube-runtime`: kube-runtime 5.0's `scheduler` (W1 and W2, adapted to its API).
//!
//! Keys are `&'static str` ("ns-{k%100}/obj-{k}"), as cheap to copy as a Go string header, so
//! the figures measure the queues rather than key allocation. Before timing, each workload runs
//! once per queue and prints the gets it performed and the heap bytes per distinct queued key
//! (counted by a global allocator that only counts while asked to).
//!
//! One file per workload, each with its workload and its criterion group ([`w1`], [`w2`], [`w3`],
//! [`concurrent`]); the queues under test in [`queues`], kube-runtime's scheduler adapted in
//! [`scheduler`]; keys, sequence and runtimes in [`setup`]; the allocator in [`heap`]; the
//! one-shot report in [`report`].
//!
//! Run: `cargo bench -p kubesim-controller --bench workqueue -- --warm-up-time 1 --measurement-time 3`

mod concurrent;
mod heap;
mod queues;
mod report;
mod scheduler;
mod setup;
mod w1;
mod w2;
mod w3;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};

use setup::{current_thread, keys, w2_sequence};

/// The report, then every group in a fixed order; the group and function names are the IDs
/// criterion prints, quoted in docs/workqueue.md and the README: keep them stable.
fn benches(c: &mut Criterion) {
    let keys = keys();
    let seq = Arc::new(w2_sequence());
    report::report(keys, &seq);
    let rt = current_thread(false);

    w1::bench(c, &rt, keys);
    w2::bench(c, &rt, keys, &seq);

    let paused = current_thread(true);
    w3::bench(c, &paused, keys, &seq);

    let multi = tokio::runtime::Runtime::new().expect("runtime");
    concurrent::bench(c, &multi, keys, &seq);

    // kube-runtime's scheduler reads the clock once per request (`max_schedule_time`). In this
    // bench binary tokio is built with `test-util` (a dev-dependency feature), which puts a
    // mutex in `Instant::now()`; this line lets the reader subtract that cost. // det-ok: a bench
    let mut group = c.benchmark_group("clock");
    let name = "tokio Instant::now (test-util build)"; // det-ok: a bench name, no simulation
    group.bench_function(name, |b| {
        let _guard = rt.enter();
        b.iter(tokio::time::Instant::now) // det-ok: benchmarks the clock read itself; no simulation
    });
    group.finish();
}

criterion_group!(workqueue, benches);
criterion_main!(workqueue);
