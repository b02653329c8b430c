//! Export of queue metrics through the [`metrics`](https://docs.rs/metrics) facade, behind the
//! `metrics` feature. Without the feature, [`Exporter`] is never constructed and costs nothing;
//! the feature switch lives here only, not in the queue's core.

use std::time::Duration;

#[cfg(feature = "metrics")]
mod enabled {
    use super::Duration;
    use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};

    /// Metric handles registered once per named queue, labelled `name`.
    #[derive(Debug)]
    pub(crate) struct Exporter {
        depth: Gauge,
        adds: Counter,
        queue_duration: Histogram,
        work_duration: Histogram,
        unfinished_work: Gauge,
        longest_running_processor: Gauge,
        retries: Counter,
    }

    impl Exporter {
        pub(crate) fn new(name: &str) -> Option<Self> {
            let labels = [("name", name.to_owned())];
            Some(Self {
                depth: gauge!("workqueue_depth", &labels),
                adds: counter!("workqueue_adds_total", &labels),
                queue_duration: histogram!("workqueue_queue_duration_seconds", &labels),
                work_duration: histogram!("workqueue_work_duration_seconds", &labels),
                unfinished_work: gauge!("workqueue_unfinished_work_seconds", &labels),
                longest_running_processor: gauge!(
                    "workqueue_longest_running_processor_seconds",
                    &labels
                ),
                retries: counter!("workqueue_retries_total", &labels),
            })
        }

        pub(crate) fn on_add(&self, depth: u64) {
            self.adds.increment(1);
            self.depth.set(depth as f64);
        }

        pub(crate) fn on_get(&self, depth: u64, waited: Option<Duration>) {
            self.depth.set(depth as f64);
            if let Some(d) = waited {
                self.queue_duration.record(d.as_secs_f64());
            }
        }

        pub(crate) fn on_done(&self, worked: Duration) {
            self.work_duration.record(worked.as_secs_f64());
        }

        pub(crate) fn on_retry(&self) {
            self.retries.increment(1);
        }

        pub(crate) fn on_snapshot(&self, unfinished: Duration, longest: Duration) {
            self.unfinished_work.set(unfinished.as_secs_f64());
            self.longest_running_processor.set(longest.as_secs_f64());
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod enabled {
    use super::Duration;

    /// Without the `metrics` feature nothing is exported; this type is never constructed.
    #[derive(Debug)]
    pub(crate) enum Exporter {}

    impl Exporter {
        pub(crate) fn new(_name: &str) -> Option<Self> {
            None
        }
        pub(crate) fn on_add(&self, _depth: u64) {
            match *self {}
        }
        pub(crate) fn on_get(&self, _depth: u64, _waited: Option<Duration>) {
            match *self {}
        }
        pub(crate) fn on_done(&self, _worked: Duration) {
            match *self {}
        }
        pub(crate) fn on_retry(&self) {
            match *self {}
        }
        pub(crate) fn on_snapshot(&self, _unfinished: Duration, _longest: Duration) {
            match *self {}
        }
    }
}

pub(crate) use enabled::Exporter;
