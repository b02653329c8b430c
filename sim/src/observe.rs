//! The bridge from the controller runtime's [`Observer`] to the run's history: events a
//! controller replica reports are recorded on its host.

use crate::history::Recorder;
use kubesim_controller::{Observer, SharedObserver};
use kubesim_model::EventKind;
use std::sync::Arc;

/// Records runtime events as history events of one host.
pub struct HostObserver {
    recorder: Recorder,
    host: String,
}

impl HostObserver {
    /// An observer recording on `host`.
    pub fn shared(recorder: Recorder, host: &str) -> SharedObserver {
        Arc::new(Self {
            recorder,
            host: host.to_string(),
        })
    }
}

impl Observer for HostObserver {
    fn record(&self, event: EventKind) {
        self.recorder.record(&self.host, event);
    }
}
