//! A controller's stop path, as a test drives it: a stop [`Context`] cancelled (reason
//! shutdown) at a fixed time of the run, a bounded wait for the controller to return, then a
//! leak check of its task set that writes `runtime leak NAMES` into the history (judged by the
//! `no-leaked-tasks` oracle) and `runtime stopped` (from which the resource-leak oracle judges
//! watches and connections still open).

use kubesim_controller::{check_leaks, CancelReason, Context, SharedObserver, TaskSet};
use kubesim_model::EventKind;
use std::future::Future;
use std::time::Duration;

/// How long a stopping controller gets before its tasks are checked.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// A controller's shutdown at a fixed simulated time of the run (also after a restart: the
/// timer counts from the run's start, not the host's).
pub struct Shutdown {
    /// The stop context to run the controller under.
    pub stop: Context,
    stop_in: Duration,
}

impl Shutdown {
    /// Spawns the timer that cancels [`Shutdown::stop`] at `stop_at` of the run. Call inside the
    /// host's future.
    pub fn at(stop_at: Duration) -> Self {
        let stop_in = stop_at.saturating_sub(turmoil::sim_elapsed().unwrap_or_default());
        let stop = Context::background();
        let timer = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(stop_in).await;
            timer.cancel(CancelReason::Shutdown);
        });
        Self { stop, stop_in }
    }

    /// Awaits `run` (bounded: a controller whose tasks never end never returns), then records
    /// `runtime leak NAMES` if tasks outside `before` are still alive in `tasks`.
    pub async fn await_and_check_leaks(
        &self,
        run: impl Future,
        before: &[String],
        tasks: &TaskSet,
        observer: &SharedObserver,
    ) {
        let _ = tokio::time::timeout(self.stop_in + STOP_GRACE, run).await;
        if let Err(leak) = check_leaks(before, &tasks.live()) {
            observer.record(EventKind::Runtime {
                text: format!("leak {}", leak.leaked.join(",")),
            });
        }
    }
}
