//! The step loop: between two of turmoil's steps the harness applies due faults, collects
//! garbage and probes convergence, at the time of the step about to run (a tick's start, or the
//! next event's time under [`TimeMode::Event`]).

use super::{TimeMode, World};
use crate::plan::PlanError;
use std::time::Duration;

impl World {
    /// Ends [`World::run`] after the step in which history event `id` is recorded (the world is
    /// then left as that step left it), for looking at the cluster at that moment.
    pub fn stop_after_event(&mut self, id: u64) {
        self.stop_after = Some(id);
    }

    /// Ends the run at its first hot loop ([`crate::oracle::no_hot_loop`] under `budget`, judged
    /// as events are recorded): after the step that recorded the violation. A hot loop does not
    /// end by itself, so the rest of the run could only repeat it; the run's verdict is that
    /// violation alone (the other oracles would judge a run cut short). For scenarios whose bug
    /// is a loop: a buggy seed then costs seconds of simulated time instead of the whole run.
    pub fn stop_at_first_hot_loop(&mut self, budget: crate::oracle::HotLoop) {
        let mut watch = crate::oracle::HotLoopWatch::new(budget);
        self.recorder
            .set_tripwire(Box::new(move |e| watch.observe(e)));
    }

    /// Steps the simulation until every client host has finished, applying scheduled faults
    /// between steps. A host error, or running past the configured duration, is a
    /// [`RunError::Host`] with turmoil's message.
    pub fn run(&mut self) -> Result<(), RunError> {
        let buggify_seed = self.fork_seed();
        self.check_fault_plan().map_err(RunError::Plan)?;
        self.faults.plan.started = Some(self.current_plan());
        let buggify = crate::faults::buggify::activate_with(
            buggify_seed,
            self.recorder.clone(),
            self.faults.plan.buggify.clone(),
        );
        let result = self.run_steps();
        self.faults.plan.buggify_enabled = buggify.enabled_points();
        result
    }

    /// Steps the simulation until simulated time reaches `t`, with the harness's clock following
    /// (for tests that drive a world by hand). Scheduled faults are not applied: a test injects
    /// its own with [`World::crash`], [`World::partition`], ... between calls.
    pub fn run_until(&mut self, t: Duration) -> Result<(), RunError> {
        while self.sim.elapsed() < t {
            self.recorder.set_harness_time(self.sim.elapsed());
            self.sim.step().map_err(|e| RunError::Host(e.to_string()))?;
        }
        Ok(())
    }

    fn run_steps(&mut self) -> Result<(), RunError> {
        if let (Some(c), Some(heal)) = (&mut self.convergence, self.faults.heal_at) {
            c.set_heal_at(heal);
        }
        loop {
            // Under event time the harness acts at the next step's time before the hosts do,
            // as it acts at a tick's start under ticks.
            let now = match self.time {
                TimeMode::Tick => self.sim.elapsed(),
                TimeMode::Event => self.next_step_at(),
            };
            self.harness_at = now;
            self.recorder.set_harness_time(now);
            self.apply_due_faults();
            self.crash_after_due_writes();
            self.gc.poll(now);
            // Storage's lock only when a probe is due (most steps are not at a whole second).
            if let Some(c) = self.convergence.as_mut().filter(|c| c.next_probe() <= now) {
                let state = self.cluster.state();
                let touched = |after, read: &_| crate::kit::converge::touched(&state, after, read);
                c.poll(now, state.revision(), touched, || {
                    crate::kit::Objects::new(state.objects())
                });
            }
            let step = match self.time {
                TimeMode::Tick => self.sim.step(),
                TimeMode::Event => self.sim.step_to(now),
            };
            if self.determinism.real_connects() > 0 {
                return Err(RunError::RealNetwork {
                    attempts: self.determinism.real_connects(),
                });
            }
            match step {
                Ok(true) => return Ok(()),
                Ok(false) if self.stop_after.is_some_and(|id| self.recorder.len() > id) => {
                    return Ok(())
                }
                Ok(false) if self.recorder.has_tripped() => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(RunError::Host(e.to_string())),
            }
        }
    }

    /// The simulated time the harness acts at: the time of the step about to run.
    pub(crate) fn harness_now(&self) -> Duration {
        match self.time {
            TimeMode::Tick => self.sim.elapsed(),
            TimeMode::Event => self.harness_at.max(self.sim.elapsed()),
        }
    }

    /// Under [`TimeMode::Event`], when the next step happens: the earliest of turmoil's next
    /// event and the harness's own (the next scheduled fault, garbage collection pass and
    /// convergence probe), so that each fires at its exact time. With nothing pending at all,
    /// just past `duration_max`, where turmoil reports the run unfinished.
    fn next_step_at(&self) -> Duration {
        let now = self.sim.elapsed();
        let end = self.duration_max + Duration::from_millis(1);
        let harness = [
            self.faults.schedule.next_at(),
            Some(self.gc.next_due()),
            self.convergence.as_ref().map(|c| c.next_probe()),
        ];
        let next = harness
            .into_iter()
            .flatten()
            .chain(self.sim.next_event())
            .fold(end, Duration::min);
        next.max(now)
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A host returned an error or panicked, or the run passed its configured duration
    /// (turmoil's message).
    #[error("{0}")]
    Host(String),
    /// A simulated host tried to reach a real cluster.
    #[error(
        "a simulated host tried to connect to the real network ({attempts} attempts refused): \
         build its kube::Client with kubesim::transport::client, not Client::try_default"
    )]
    RealNetwork {
        /// Connects refused.
        attempts: u64,
    },
    /// The fault plan does not fit the world.
    #[error(transparent)]
    Plan(PlanError),
}
