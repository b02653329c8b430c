//! Workqueue benchmarks (DESIGN.md, "Benchmarks"): W1 cycle, W2 storm, W3 rate-limited storm and
//! a concurrent W2 (4 producers, 4 workers, multi-threaded runtime), for
//!
//! - `plain`: the in-run stand-in for client-go, written here: a std `Mutex` over a `VecDeque`
//!   and two std `HashSet`s, client-go's algorithm, notifying only when a getter waits;
//! - `workqueue`: [`WorkQueue`], the thread-safe queue for production;
//! - `local`: [`LocalWorkQueue`], the single-threaded queue simulated hosts use;
//! - `kube-runtime`: kube-runtime 5.0's `scheduler` (W1 and W2, adapted to its API).
//!
//! Keys are `&'static str` ("ns-{k%100}/obj-{k}"), as cheap to copy as a Go string header, so
//! the figures measure the queues rather than key allocation. Before timing, each workload runs
//! once per queue and prints the gets it performed and the heap bytes per distinct queued key
//! (counted by a global allocator that only counts while asked to).
//!
//! Run: `cargo bench --bench workqueue -- --warm-up-time 1 --measurement-time 3`

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::VecDeque;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use futures::channel::mpsc;
use futures::Stream;
use kube_runtime::scheduler::{scheduler, ScheduleRequest};
use kubesim_controller::{
    default_controller_rate_limiter, LocalRateLimitingQueue, LocalWorkQueue, RateLimitingQueue,
    WorkQueue,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

// ---------------------------------------------------------------------------------------------
// Heap accounting: counts live bytes only while `COUNTING` is set, so timing is unaffected.

struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only adds bookkeeping.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Live heap bytes allocated by `f` and still held by what it returns.
fn heap_bytes_of<T>(f: impl FnOnce() -> T) -> (T, isize) {
    LIVE_BYTES.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let out = f();
    COUNTING.store(false, Ordering::SeqCst);
    (out, LIVE_BYTES.load(Ordering::SeqCst))
}

// ---------------------------------------------------------------------------------------------
// Workload data.

type Key = &'static str;

const KEYS: usize = 10_000;
const W2_ADDS: usize = 1_000_000;
const W2_SEED: u64 = 0x5eed_0002;

/// "ns-{k%100}/obj-{k}" for k < 10,000, leaked once so keys copy like Go string headers.
fn keys() -> &'static [Key] {
    let keys: Vec<Key> = (0..KEYS)
        .map(|k| &*Box::leak(format!("ns-{}/obj-{k}", k % 100).into_boxed_str()))
        .collect();
    Box::leak(keys.into_boxed_slice())
}

/// The W2 add sequence: Zipf(s = 1.1) over the 10,000 keys from a seeded ChaCha8, drawn once.
fn w2_sequence() -> Vec<u16> {
    let mut rng = ChaCha8Rng::seed_from_u64(W2_SEED);
    let zipf = Zipf::new(KEYS as f64, 1.1).expect("valid Zipf parameters");
    (0..W2_ADDS)
        .map(|_| zipf.sample(&mut rng) as u16 - 1)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The queues under test, behind one small interface.

trait BenchQueue {
    fn fresh() -> Self;
    fn add(&self, key: Key);
    async fn get(&self) -> Option<Key>;
    fn done(&self, key: &Key);
    fn len(&self) -> usize;
    fn shut_down(&self);
}

/// client-go's algorithm (`util/workqueue/queue.go`) on std types: the baseline.
#[allow(clippy::disallowed_types)] // std HashSet on purpose: this is the plain baseline.
struct PlainState {
    queue: VecDeque<Key>,
    dirty: std::collections::HashSet<Key>,
    processing: std::collections::HashSet<Key>,
    waiting: usize,
    shutting_down: bool,
}

struct PlainQueue {
    state: Mutex<PlainState>,
    notify: Notify,
}

impl BenchQueue for Arc<PlainQueue> {
    #[allow(clippy::disallowed_types)]
    fn fresh() -> Self {
        Arc::new(PlainQueue {
            state: Mutex::new(PlainState {
                queue: VecDeque::new(),
                dirty: std::collections::HashSet::new(),
                processing: std::collections::HashSet::new(),
                waiting: 0,
                shutting_down: false,
            }),
            notify: Notify::new(),
        })
    }

    fn add(&self, key: Key) {
        let mut s = self.state.lock().unwrap();
        if s.shutting_down || s.dirty.contains(key) {
            return;
        }
        s.dirty.insert(key);
        if s.processing.contains(key) {
            return;
        }
        s.queue.push_back(key);
        if s.waiting > 0 {
            self.notify.notify_one();
        }
    }

    async fn get(&self) -> Option<Key> {
        loop {
            let mut notified = pin!(self.notify.notified());
            notified.as_mut().enable();
            {
                let mut s = self.state.lock().unwrap();
                if let Some(key) = s.queue.pop_front() {
                    s.processing.insert(key);
                    s.dirty.remove(key);
                    return Some(key);
                }
                if s.shutting_down {
                    return None;
                }
                s.waiting += 1;
            }
            notified.await;
            self.state.lock().unwrap().waiting -= 1;
        }
    }

    fn done(&self, key: &Key) {
        let mut s = self.state.lock().unwrap();
        s.processing.remove(key);
        if s.dirty.contains(key) {
            s.queue.push_back(key);
            if s.waiting > 0 {
                self.notify.notify_one();
            }
        }
    }

    fn len(&self) -> usize {
        self.state.lock().unwrap().queue.len()
    }

    fn shut_down(&self) {
        self.state.lock().unwrap().shutting_down = true;
        self.notify.notify_waiters();
    }
}

macro_rules! impl_bench_queue {
    ($ty:ty) => {
        impl BenchQueue for $ty {
            fn fresh() -> Self {
                <$ty>::new()
            }
            fn add(&self, key: Key) {
                <$ty>::add(self, key)
            }
            async fn get(&self) -> Option<Key> {
                <$ty>::get(self).await
            }
            fn done(&self, key: &Key) {
                <$ty>::done(self, key)
            }
            fn len(&self) -> usize {
                <$ty>::len(self)
            }
            fn shut_down(&self) {
                <$ty>::shut_down(self)
            }
        }
    };
}

impl_bench_queue!(WorkQueue<Key>);
impl_bench_queue!(LocalWorkQueue<Key>);

/// The thread-safe queues, whose `get` future is `Send`.
trait SendQueue: BenchQueue + Clone + Send + Sync + 'static {
    fn get_send(&self) -> impl std::future::Future<Output = Option<Key>> + Send + '_;
}

impl SendQueue for Arc<PlainQueue> {
    fn get_send(&self) -> impl std::future::Future<Output = Option<Key>> + Send + '_ {
        BenchQueue::get(self)
    }
}

impl SendQueue for WorkQueue<Key> {
    fn get_send(&self) -> impl std::future::Future<Output = Option<Key>> + Send + '_ {
        WorkQueue::get(self)
    }
}

// ---------------------------------------------------------------------------------------------
// Workloads on the queues.

/// W1: on a fresh queue, 100 x (add, get, done).
async fn w1<Q: BenchQueue>(queue: &Q, keys: &[Key]) {
    for &key in &keys[..100] {
        queue.add(key);
        let got = queue.get().await.expect("a key");
        queue.done(&got);
    }
}

/// W2: the storm; after every 8th add, get+done one key if any is queued; then drain.
/// Returns the number of gets.
async fn w2<Q: BenchQueue>(queue: &Q, keys: &[Key], seq: &[u16]) -> u64 {
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

/// W2 adapted to kube-runtime's scheduler: an add is a `ScheduleRequest` due now sent on the
/// scheduler's input channel; a get is one poll of the scheduler stream (it has no `len`, and no
/// `done`: nothing is "processing"). Returns the number of items emitted.
fn w2_scheduler(keys: &[Key], seq: &[u16], every: usize) -> u64 {
    let run_at = tokio::time::Instant::now();
    let (tx, rx) = mpsc::unbounded();
    let mut sched = pin!(scheduler(rx));
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut gets = 0;
    for (i, &k) in seq.iter().enumerate() {
        tx.unbounded_send(ScheduleRequest {
            message: keys[k as usize],
            run_at,
        })
        .expect("the scheduler is alive");
        if i % every == every - 1 {
            if let Poll::Ready(Some(key)) = sched.as_mut().poll_next(&mut cx) {
                black_box(key);
                gets += 1;
            }
        }
    }
    while let Poll::Ready(Some(key)) = sched.as_mut().poll_next(&mut cx) {
        black_box(key);
        gets += 1;
    }
    gets
}

/// Concurrent W2: 4 producers add interleaved quarters of the sequence while 4 workers get and
/// done; then shut down and let the workers drain. Returns the number of gets.
async fn w2_concurrent<Q: SendQueue>(queue: Q, keys: &'static [Key], seq: Arc<Vec<u16>>) -> u64 {
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

// ---------------------------------------------------------------------------------------------
// Runtimes and the one-shot report.

fn current_thread(paused: bool) -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()
        .expect("runtime")
}

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

fn scheduler_bytes_per_key(rt: &Runtime, keys: &[Key]) -> f64 {
    let _guard = rt.enter();
    let run_at = tokio::time::Instant::now();
    let (state, bytes) = heap_bytes_of(|| {
        let (tx, rx) = mpsc::unbounded();
        let mut sched = Box::pin(scheduler(rx));
        for &key in keys {
            tx.unbounded_send(ScheduleRequest {
                message: key,
                run_at,
            })
            .expect("alive");
        }
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        // `hold` takes every request in without emitting any.
        let held = Pin::new(&mut sched.as_mut().hold()).poll_next(&mut cx);
        assert!(held.is_pending());
        (tx, sched)
    });
    drop(state);
    bytes as f64 / keys.len() as f64
}

fn report(keys: &'static [Key], seq: &Arc<Vec<u16>>) {
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

// ---------------------------------------------------------------------------------------------
// Criterion groups.

fn benches(c: &mut Criterion) {
    let keys = keys();
    let seq = Arc::new(w2_sequence());
    report(keys, &seq);
    let rt = current_thread(false);

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

    let mut group = c.benchmark_group("W2 storm (1M adds)");
    group.sample_size(10);
    macro_rules! w2_bench {
        ($name:expr, $ty:ty) => {
            group.bench_function($name, |b| {
                b.iter_batched(
                    <$ty as BenchQueue>::fresh,
                    |queue| {
                        black_box(rt.block_on(w2(&queue, keys, &seq)));
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
        b.iter(|| w2_scheduler(keys, &seq, 8))
    });
    group.finish();

    let paused = current_thread(true);
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

    let multi = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("W2 concurrent (4 producers, 4 workers, 1M adds)");
    group.sample_size(10);
    group.bench_function("plain", |b| {
        b.iter(|| multi.block_on(w2_concurrent(<Arc<PlainQueue>>::fresh(), keys, seq.clone())))
    });
    group.bench_function("workqueue", |b| {
        b.iter(|| multi.block_on(w2_concurrent(WorkQueue::new(), keys, seq.clone())))
    });
    group.finish();

    // kube-runtime's scheduler reads the clock once per request (`max_schedule_time`). In this
    // bench binary tokio is built with `test-util` (a dev-dependency feature), which puts a
    // mutex in `Instant::now()`; this line lets the reader subtract that cost.
    let mut group = c.benchmark_group("clock");
    group.bench_function("tokio Instant::now (test-util build)", |b| {
        let _guard = rt.enter();
        b.iter(tokio::time::Instant::now)
    });
    group.finish();
}

criterion_group!(workqueue, benches);
criterion_main!(workqueue);
