//! The run loop: terms of leadership, and work run only while leading.
//!
//! [`LeaderElector::acquire`] repeats attempts every `retry_period` with jitter 1.2 (client-go's
//! `wait.JitterUntil`); [`LeaderElector::renew`] renews every `retry_period` and stops leading
//! once an attempt has not succeeded within `renew_deadline` (client-go's `wait.PollImmediateUntil`
//! under a `renew_deadline` timeout). [`LeaderElector::run`] is one term (client-go's `Run`):
//! acquire, lead while renewing, then [`LeaderElector::release`] if configured to.
//! [`run_while_leading`] runs one term after another until stopped.

use super::config::{jitter, JITTER_FACTOR};
use super::elector::LeaderElector;
use super::record::LeaseRecord;
use crate::context::{CancelReason, Context};
use kube::api::PostParams;
use std::future::Future;

/// Why leading ended (or never began).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermEnd {
    /// No renewal succeeded within `renew_deadline`: leadership lost.
    Lost,
    /// The stop context ended while leading.
    Stopped,
    /// The stop context ended before the lease was acquired.
    NotAcquired,
}

impl LeaderElector {
    /// Tries until this candidate holds the lease (`true`) or `stop` ends (`false`), waiting
    /// `retry_period` with jitter 1.2 between attempts (client-go's `acquire`).
    pub async fn acquire(&self, stop: &Context) -> bool {
        loop {
            if stop.is_done() {
                return false;
            }
            let attempt = stop.run(self.try_acquire_or_renew(None)).await;
            self.maybe_report_transition();
            match attempt {
                Err(_) => return false,
                Ok(Ok(_)) => {
                    self.note(format!(
                        "acquired rv={} transitions={}",
                        self.rv_text(),
                        self.transitions()
                    ));
                    return true;
                }
                Ok(Err(_)) => {}
            }
            let wait = {
                let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
                jitter(self.config.retry_period, JITTER_FACTOR, &mut **rng)
            };
            if stop.run(self.clock.sleep(wait)).await.is_err() {
                return false;
            }
        }
    }

    /// Renews every `retry_period` until a renewal has not succeeded within `renew_deadline`
    /// ([`TermEnd::Lost`]) or `stop` ends ([`TermEnd::Stopped`]) (client-go's `renew`).
    pub async fn renew(&self, stop: &Context) -> TermEnd {
        loop {
            let deadline = self.clock.now() + self.config.renew_deadline;
            let poll = async {
                loop {
                    match self.try_acquire_or_renew(Some(deadline)).await {
                        Ok(_) => return true,
                        Err(e) => {
                            self.maybe_report_transition();
                            self.note(format!("renew-failed {e}"));
                        }
                    }
                    if self.clock.now() >= deadline {
                        return false;
                    }
                    self.clock.sleep(self.config.retry_period).await;
                }
            };
            let expired = self.clock.sleep(self.config.renew_deadline);
            let renewed = tokio::select! {
                biased;
                _ = stop.done() => return TermEnd::Stopped,
                ok = poll => ok,
                _ = expired => false,
            };
            self.maybe_report_transition();
            if !renewed {
                self.note(format!(
                    "lost no renewal within {}s",
                    self.config.renew_deadline.as_secs_f64()
                ));
                return TermEnd::Lost;
            }
            self.note(format!("renewed rv={}", self.rv_text()));
            if stop
                .run(self.clock.sleep(self.config.retry_period))
                .await
                .is_err()
            {
                return TermEnd::Stopped;
            }
        }
    }

    /// Writes an empty holder if this candidate holds the lease (client-go's `release`).
    /// Returns false if the write failed.
    pub async fn release(&self) -> bool {
        let _io = self.io.lock().await;
        if !self.is_leader() {
            return true;
        }
        let (lease, prev) = {
            let o = self.lock();
            (o.lease.clone(), o.record.clone())
        };
        let Some(mut lease) = lease else {
            return true;
        };
        let now = self.wall_now();
        LeaseRecord {
            holder: String::new(),
            lease_duration_seconds: 1,
            acquire_time: Some(now),
            renew_time: Some(now),
            lease_transitions: prev.map_or(0, |p| p.lease_transitions),
        }
        .write_to(&mut lease);
        let params = PostParams::default();
        let call = self.api.replace(&self.name, &params, &lease);
        match self.bounded(self.call_limit(None), call).await {
            Ok(written) => {
                self.set_observed(written, true);
                self.note(format!("released rv={}", self.rv_text()));
                self.maybe_report_transition();
                true
            }
            Err(e) => {
                self.note(format!("release-failed {e}"));
                false
            }
        }
    }

    /// One term (client-go's `Run`): acquires, runs `lead` with a context that is cancelled with
    /// [`CancelReason::LeadershipLost`] when renewal fails (or with the stop reason), waits for
    /// `lead` to finish, then releases the lease if configured to. Returns how the term ended.
    pub async fn run<F, Fut>(&self, stop: &Context, lead: F) -> TermEnd
    where
        F: FnOnce(Context) -> Fut,
        Fut: Future<Output = ()>,
    {
        if !self.acquire(stop).await {
            return TermEnd::NotAcquired;
        }
        let lead_ctx = stop.child();
        self.status.send_modify(|s| s.leading = true);
        let work = lead(lead_ctx.clone());
        let renew = self.renew(stop);
        tokio::pin!(work, renew);
        let mut work_done = false;
        let end = loop {
            tokio::select! {
                biased;
                end = &mut renew => break end,
                _ = &mut work, if !work_done => work_done = true,
            }
        };
        let reason = match end {
            TermEnd::Lost => CancelReason::LeadershipLost,
            TermEnd::Stopped | TermEnd::NotAcquired => {
                stop.reason().unwrap_or(CancelReason::Shutdown)
            }
        };
        lead_ctx.cancel(reason);
        if !work_done {
            work.await;
        }
        self.status.send_modify(|s| s.leading = false);
        if self.config.release_on_cancel {
            self.release().await;
        }
        end
    }
}

/// Runs `start(lead)` for every term this candidate wins, until `stop` ends.
///
/// `lead` is cancelled with [`CancelReason::LeadershipLost`](crate::CancelReason) as soon as a
/// renewal has failed for `renew_deadline` (a [`Controller`](crate::Controller) run under it
/// cancels its in-flight reconciles at once), or with the stop reason on shutdown. The next term
/// starts only after the previous `start` future has returned. Returns the number of terms led.
///
/// ```no_run
/// # async fn example(elector: kubesim_controller::leader::LeaderElector,
/// #     make: impl Fn() -> kubesim_controller::Controller<k8s_openapi::api::core::v1::ConfigMap>) {
/// use kubesim_controller::{leader::run_while_leading, Action, Context};
/// use std::sync::Arc;
/// let stop = Context::background();
/// run_while_leading(&elector, &stop, |lead| {
///     make().run(
///         |_cm, _ctx, _data: Arc<()>| async { Ok::<_, std::io::Error>(Action::await_change()) },
///         |_cm, _err, _data| Action::requeue(),
///         Arc::new(()),
///         lead,
///     )
/// })
/// .await;
/// # }
/// ```
pub async fn run_while_leading<F, Fut>(elector: &LeaderElector, stop: &Context, mut start: F) -> u32
where
    F: FnMut(Context) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut terms = 0u32;
    while !stop.is_done() {
        match elector.run(stop, &mut start).await {
            TermEnd::Lost | TermEnd::Stopped => terms += 1,
            TermEnd::NotAcquired => break,
        }
    }
    terms
}
