//! Queue metrics with client-go's names and meaning (`util/workqueue/metrics.go`).
//!
//! | client-go metric                              | here                                        |
//! |-----------------------------------------------|---------------------------------------------|
//! | `workqueue_depth`                             | [`WorkQueueMetrics::depth`]                 |
//! | `workqueue_adds_total`                        | [`WorkQueueMetrics::adds`]                  |
//! | `workqueue_queue_duration_seconds`            | [`WorkQueueMetrics::queue_duration`]        |
//! | `workqueue_work_duration_seconds`             | [`WorkQueueMetrics::work_duration`]         |
//! | `workqueue_unfinished_work_seconds`           | [`WorkQueueMetrics::unfinished_work`]       |
//! | `workqueue_longest_running_processor_seconds` | [`WorkQueueMetrics::longest_running_processor`] |
//! | `workqueue_retries_total`                     | [`WorkQueueMetrics::retries`]               |
//!
//! As in client-go, `depth` rises on every add that is not deduplicated and falls on every get,
//! so an item added again while it is being processed counts until it is handed out again.
//! Counters are always kept (they cost an increment). The timing metrics need the clock on every
//! add, get and done, so, like client-go, only a *named* queue ([`QueueConfig::named`]) keeps
//! them. With the `metrics` feature a named queue also exports everything through the
//! [`metrics`](https://docs.rs/metrics) facade with the label `name`; the two gauges computed
//! from the running items (`unfinished_work`, `longest_running_processor`) are exported when a
//! snapshot is taken, so whoever polls [`WorkQueue::metrics`] periodically (client-go does it
//! every 500 ms) keeps them fresh.
//!
//! [`WorkQueue::metrics`]: super::GenericWorkQueue::metrics

use std::time::Duration;
use tokio::time::Instant;

use super::export::Exporter;
use crate::clock::{Clock, ClockHandle};

/// Upper bounds of the duration histogram buckets: client-go's
/// `prometheus.ExponentialBuckets(10e-9, 10, 10)`, from 10 ns to 10 s.
pub const DURATION_BUCKET_BOUNDS: [Duration; 10] = [
    Duration::from_nanos(10),
    Duration::from_nanos(100),
    Duration::from_micros(1),
    Duration::from_micros(10),
    Duration::from_micros(100),
    Duration::from_millis(1),
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(10),
];

/// Configuration of a queue: client-go's `TypedQueueConfig` (`Name`, `Clock`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueConfig {
    /// The queue's name. A named queue records timing metrics and, with the `metrics` feature,
    /// exports them labelled `name = <name>`. An unnamed queue keeps only counters.
    pub name: Option<String>,
    /// Where ready times and metrics timestamps are read: `tokio::time` unless
    /// [`with_clock`](Self::with_clock) set one.
    pub(crate) clock: ClockHandle,
}

impl QueueConfig {
    /// A named queue, with timing metrics.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Reads time from `clock` instead of `tokio::time` (client-go's `TypedQueueConfig.Clock`):
    /// `add_after` ready times, the sleep of a waiting `get`, and the timing metrics. With a
    /// [`ManualClock`](crate::ManualClock), delayed keys become due only when the test moves it.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = ClockHandle::new(clock);
        self
    }
}

/// A histogram of durations with client-go's bucket bounds ([`DURATION_BUCKET_BOUNDS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DurationHistogram {
    /// Number of observations.
    pub count: u64,
    /// Sum of all observations.
    pub sum: Duration,
    /// `buckets[i]` counts observations `<= DURATION_BUCKET_BOUNDS[i]` and above the previous
    /// bound (not cumulative); `buckets[10]` counts those above 10 s.
    pub buckets: [u64; 11],
}

impl DurationHistogram {
    fn observe(&mut self, d: Duration) {
        self.count += 1;
        self.sum = self.sum.saturating_add(d);
        let bucket = DURATION_BUCKET_BOUNDS
            .iter()
            .position(|bound| d <= *bound)
            .unwrap_or(DURATION_BUCKET_BOUNDS.len());
        self.buckets[bucket] += 1;
    }
}

/// A snapshot of a queue's metrics. Durations are zero and histograms empty on an unnamed queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkQueueMetrics {
    /// The queue's name, from [`QueueConfig`].
    pub name: Option<String>,
    /// `workqueue_depth`: items added (not deduplicated) and not yet handed out by `get`.
    pub depth: u64,
    /// `workqueue_adds_total`: adds that were not deduplicated.
    pub adds: u64,
    /// `workqueue_retries_total`: calls to `add_after` (hence `add_rate_limited`) before shutdown.
    pub retries: u64,
    /// `workqueue_queue_duration_seconds`: time from add to get.
    pub queue_duration: DurationHistogram,
    /// `workqueue_work_duration_seconds`: time from get to done.
    pub work_duration: DurationHistogram,
    /// `workqueue_unfinished_work_seconds`: summed age of the items being processed now.
    pub unfinished_work: Duration,
    /// `workqueue_longest_running_processor_seconds`: age of the oldest item being processed.
    pub longest_running_processor: Duration,
}

#[derive(Debug, Default, Clone, Copy)]
struct SlotTimes {
    added: Option<Instant>,
    started: Option<Instant>,
}

#[derive(Debug, Default)]
struct Timing {
    /// Indexed by interned key id.
    slots: Vec<SlotTimes>,
    queue_duration: DurationHistogram,
    work_duration: DurationHistogram,
}

impl Timing {
    fn slot(&mut self, id: u32) -> &mut SlotTimes {
        let idx = id as usize;
        if self.slots.len() <= idx {
            self.slots.resize(idx + 1, SlotTimes::default());
        }
        &mut self.slots[idx]
    }
}

/// The metrics kept inside a queue's core; events come from the core algorithm.
///
/// The counters are updated inline; everything a named queue adds (clock reads, per-key times,
/// export) sits behind one flag in functions kept out of the hot path.
#[derive(Debug)]
pub(crate) struct MetricsState {
    depth: u64,
    adds: u64,
    retries: u64,
    /// Whether `timing` or `export` is set: one test on the hot path instead of two.
    detailed: bool,
    name: Option<String>,
    timing: Option<Timing>,
    export: Option<Exporter>,
    clock: ClockHandle,
}

impl MetricsState {
    pub(crate) fn new(config: QueueConfig) -> Self {
        let timing = config.name.as_ref().map(|_| Timing::default());
        let export = config.name.as_deref().and_then(Exporter::new);
        Self {
            depth: 0,
            adds: 0,
            retries: 0,
            detailed: timing.is_some() || export.is_some(),
            name: config.name,
            timing,
            export,
            clock: config.clock,
        }
    }

    /// An add that was not deduplicated (client-go `defaultQueueMetrics.add`).
    #[inline]
    pub(crate) fn on_add(&mut self, id: u32) {
        self.adds += 1;
        self.depth += 1;
        if self.detailed {
            self.on_add_detailed(id);
        }
    }

    #[cold]
    fn on_add_detailed(&mut self, id: u32) {
        if let Some(timing) = &mut self.timing {
            let slot = timing.slot(id);
            if slot.added.is_none() {
                slot.added = Some(self.clock.now());
            }
        }
        if let Some(export) = &self.export {
            export.on_add(self.depth);
        }
    }

    /// The add of `id` just recorded happened at `at`, earlier: a delayed key queued after its
    /// ready time, which client-go's loop would have added at that time.
    pub(crate) fn backdate_add(&mut self, id: u32, at: Instant) {
        if let Some(timing) = &mut self.timing {
            timing.slot(id).added = Some(at);
        }
    }

    /// A get handed `id` to a worker (client-go `defaultQueueMetrics.get`).
    ///
    /// `depth` stops at zero: only a second FIFO copy made by `done` for a key that was not
    /// processing (which client-go's `Done` pushes without counting it) can take it below, and
    /// client-go's gauge would then read -1.
    #[inline]
    pub(crate) fn on_get(&mut self, id: u32) {
        self.depth = self.depth.saturating_sub(1);
        if self.detailed {
            self.on_get_detailed(id);
        }
    }

    #[cold]
    fn on_get_detailed(&mut self, id: u32) {
        let mut waited = None;
        if let Some(timing) = &mut self.timing {
            let now = self.clock.now();
            let slot = timing.slot(id);
            slot.started = Some(now);
            if let Some(added) = slot.added.take() {
                let d = now.saturating_duration_since(added);
                timing.queue_duration.observe(d);
                waited = Some(d);
            }
        }
        if let Some(export) = &self.export {
            export.on_get(self.depth, waited);
        }
    }

    /// A worker called done for `id` (client-go `defaultQueueMetrics.done`).
    #[inline]
    pub(crate) fn on_done(&mut self, id: u32) {
        if self.detailed {
            self.on_done_detailed(id);
        }
    }

    #[cold]
    fn on_done_detailed(&mut self, id: u32) {
        let mut worked = None;
        if let Some(timing) = &mut self.timing {
            let slot = timing.slot(id);
            if let Some(started) = slot.started.take() {
                let d = self.clock.now().saturating_duration_since(started);
                timing.work_duration.observe(d);
                worked = Some(d);
            }
        }
        if let (Some(export), Some(d)) = (&self.export, worked) {
            export.on_done(d);
        }
    }

    /// An `add_after` call (client-go `defaultQueueMetrics.retry`).
    pub(crate) fn on_retry(&mut self) {
        self.retries += 1;
        if let Some(export) = &self.export {
            export.on_retry();
        }
    }

    /// A snapshot at the current time of the queue's clock.
    pub(crate) fn snapshot(&self) -> WorkQueueMetrics {
        let mut snapshot = WorkQueueMetrics {
            name: self.name.clone(),
            depth: self.depth,
            adds: self.adds,
            retries: self.retries,
            ..WorkQueueMetrics::default()
        };
        if let Some(timing) = &self.timing {
            let now = self.clock.now();
            for started in timing.slots.iter().filter_map(|s| s.started) {
                let age = now.saturating_duration_since(started);
                snapshot.unfinished_work = snapshot.unfinished_work.saturating_add(age);
                snapshot.longest_running_processor = snapshot.longest_running_processor.max(age);
            }
            snapshot.queue_duration = timing.queue_duration.clone();
            snapshot.work_duration = timing.work_duration.clone();
        }
        if let Some(export) = &self.export {
            export.on_snapshot(snapshot.unfinished_work, snapshot.longest_running_processor);
        }
        snapshot
    }

    /// Heap bytes owned by the metrics (per-key times of a named queue).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.timing
            .as_ref()
            .map_or(0, |t| t.slots.capacity() * std::mem::size_of::<SlotTimes>())
    }
}
