//! Running a seed up to one history event, and storage as it was at that event.

use crate::apiserver::Cluster;
use crate::faults::FaultProfile;
use crate::history::Recorder;
use crate::plan::{FaultPlan, PlanError};
use crate::run::{self, Prepared};
use crate::scenario::Scenario;
use kubesim_model::{ApiError, EventKind, HistoryEvent};
use std::sync::Arc;

/// A run stopped at one event, its storage rewound to that moment.
pub struct Stopped {
    /// Storage (the run's etcd) at the event, with its log for watches that resume.
    pub cluster: Arc<Cluster>,
    /// The history up to and including the event.
    pub events: Vec<HistoryEvent>,
    /// Storage's revision at the event: that of the last commit at or before it.
    pub revision: u64,
    /// Simulated time of the stop: the stop event's (the run's end without one).
    pub time: std::time::Duration,
    /// Whether the run ended (every client host done, or an error) before reaching the event
    /// asked for; then `events` is the whole history.
    pub ended_early: bool,
    /// The run's error, when a host failed before the stop.
    pub run_error: Option<String>,
}

impl Stopped {
    /// The event the run stopped at (the last one of [`Stopped::events`]).
    pub fn event(&self) -> Option<&HistoryEvent> {
        self.events.last()
    }
}

/// Why a run could not be stopped and served.
#[derive(Debug, thiserror::Error)]
pub enum StopError {
    /// The fault plan does not fit the scenario's world.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The world could not be built.
    #[error("the run could not start: {0}")]
    Unbuildable(String),
    /// The run ended before the event asked for.
    #[error("the run has {count} events (ids 0 to {}); there is no event {id}", .count.saturating_sub(1))]
    NoSuchEvent {
        /// The event asked for.
        id: u64,
        /// Events the whole run recorded.
        count: u64,
    },
    /// Storage's log no longer holds the revision of the event (compacted since).
    #[error("storage cannot go back to revision {revision} of event {id}: {source}")]
    Compacted {
        /// The event asked for.
        id: u64,
        /// Its revision.
        revision: u64,
        /// The storage error (410 Expired).
        source: Box<ApiError>,
    },
}

/// Runs `scenario`'s `seed` (with `plan`'s faults when given) up to history event `until` (the
/// whole run when `None`) and rewinds storage to the last commit at or before that event: the
/// cluster as the event saw it. The run stops after the simulation step that recorded the event,
/// so later commits of that step are undone, not lost from the log's past.
pub fn stop_at(
    scenario: &Scenario,
    seed: u64,
    faults: FaultProfile,
    plan: Option<&FaultPlan>,
    until: Option<u64>,
) -> Result<Stopped, StopError> {
    crate::determinism::isolated(|| {
        let recorder = Recorder::new();
        let mut world = match run::prepare(scenario, seed, &recorder, faults, plan)? {
            Prepared::Ready(world) => world,
            Prepared::Unbuildable(report) => {
                let why = report
                    .violations
                    .first()
                    .map(|v| v.message.clone())
                    .unwrap_or_default();
                return Err(StopError::Unbuildable(why));
            }
        };
        if let Some(id) = until {
            world.stop_after_event(id);
        }
        let run_error = world.run().err().map(|e| e.to_string());
        let end = world.elapsed();
        let cluster = Arc::clone(world.cluster());
        drop(world);
        let mut events = recorder.events();
        let ended_early = until.is_some_and(|id| events.len() as u64 <= id);
        if let (Some(id), true) = (until, ended_early && run_error.is_none()) {
            return Err(StopError::NoSuchEvent {
                id,
                count: events.len() as u64,
            });
        }
        if let Some(id) = until {
            events.truncate(id as usize + 1);
        }
        let revision = revision_at(&events).unwrap_or_else(|| cluster.state().revision());
        cluster
            .rewind(revision)
            .map_err(|source| StopError::Compacted {
                id: until.unwrap_or_default(),
                revision,
                source: Box::new(source),
            })?;
        let time = match until {
            Some(_) if !ended_early => events
                .last()
                .map_or(end, |e| std::time::Duration::from_micros(e.time_us)),
            _ => end,
        };
        Ok(Stopped {
            cluster,
            time,
            events,
            revision,
            ended_early,
            run_error,
        })
    })
}

/// The revision of the last commit in `events`.
fn revision_at(events: &[HistoryEvent]) -> Option<u64> {
    events.iter().rev().find_map(|e| match e.kind {
        EventKind::Commit { rev, .. } => Some(rev),
        _ => None,
    })
}
