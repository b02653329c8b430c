//! The workqueue: client-go's `util/workqueue` (queue, delaying queue, rate-limiting queue,
//! metrics) with one core algorithm and two sharing modes.
//!
//! | file              | concept                                                           |
//! |-------------------|-------------------------------------------------------------------|
//! | `core.rs`         | the algorithm: dirty/processing/waiting bits, FIFO, due keys      |
//! | `slots.rs`        | interned keys: one slot per live key, a dense id, a free list     |
//! | `wakeups.rs`      | whom to notify after an operation, outside the lock               |
//! | `delay_heap.rs`   | min-heap on ready time with "earlier wins" (decrease-key)         |
//! | `queue.rs`        | [`WorkQueue`], [`LocalWorkQueue`]: shared cell, async `get`, drain |
//! | `mode.rs`         | [`ThreadSafe`] (`Arc<Mutex>`) or [`Local`] (`Rc<RefCell>`)        |
//! | `rate_limited.rs` | [`RateLimitingQueue`]: `add_rate_limited`, `forget`, `num_requeues` |
//! | `metrics.rs`      | [`WorkQueueMetrics`] snapshot with client-go's metric names       |
//! | `export.rs`       | export through the `metrics` crate (feature `metrics`)            |
//!
//! Determinism: the queue reads time only through its [`Clock`](crate::Clock) (`tokio::time`
//! unless [`QueueConfig::with_clock`] injected one), hashes with a fixed hasher
//! (FxHash) and never iterates a hash table; it spawns no task, so nothing outlives it.

mod core;
mod delay_heap;
mod export;
mod metrics;
mod mode;
mod queue;
mod rate_limited;
mod slots;
mod wakeups;

pub use metrics::{DurationHistogram, QueueConfig, WorkQueueMetrics, DURATION_BUCKET_BOUNDS};
pub use mode::{Local, Mode, ThreadSafe};
pub use queue::{GenericWorkQueue, Get, LocalWorkQueue, WorkQueue};
pub use rate_limited::{GenericRateLimitingQueue, LocalRateLimitingQueue, RateLimitingQueue};
