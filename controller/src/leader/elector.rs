//! The elector: client-go's `tools/leaderelection` algorithm over a `coordination.k8s.io/v1`
//! Lease, with every step reported to an [`Observer`](crate::Observer).
//!
//! One attempt ([`LeaderElector::try_acquire_or_renew`], client-go's `tryAcquireOrRenew`):
//! 1. fast path: a leader whose lease is still valid on its own clock updates the lease it last
//!    saw (its `resourceVersion` makes the update conditional; a 409 falls through);
//! 2. read the lease (create it, held by us, if it does not exist);
//! 3. if the record differs from the one observed last, remember it and the *local* time
//!    (`observed_at`); a record held by someone else is valid until `observed_at +
//!    leaseDurationSeconds` on our clock, and then may be taken over; an empty holder may be
//!    taken at once;
//! 4. update the lease with us as holder: a new holder bumps `leaseTransitions` and sets
//!    `acquireTime`; a renewal keeps both.
//!
//! Every API call is bounded on the local clock. The loops that repeat attempts (acquire, renew,
//! one term) are in `run.rs`; the conditional write before a protected write in `fence.rs`.

use super::config::{ConfigError, LeaderElectionConfig};
use super::record::LeaseRecord;
use crate::clock::Clock;
use crate::observer::{self, SharedObserver};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::ResourceExt;
use kubesim_model::EventKind;
use rand::RngCore;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What an elector currently knows, published on [`LeaderElector::subscribe`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderStatus {
    /// The last leader observed (reported once per change, like client-go's `OnNewLeader`).
    pub leader: Option<String>,
    /// True between started leading and stopped leading.
    pub leading: bool,
}

/// Why one attempt failed, in a stable text form for the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AttemptError {
    /// Someone else holds a lease that has not expired on our clock.
    Held(String),
    /// The API answered with an error status.
    Api(u16, String),
    /// The request failed below HTTP (connection refused, reset).
    Transport,
    /// The request did not finish in time (local clock).
    Timeout,
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Held(h) => write!(f, "held by {h}"),
            Self::Api(code, reason) => write!(f, "{code} {reason}"),
            Self::Transport => f.write_str("transport error"),
            Self::Timeout => f.write_str("timeout"),
        }
    }
}

impl From<kube::Error> for AttemptError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => Self::Api(s.code, s.reason),
            _ => Self::Transport,
        }
    }
}

/// How an attempt succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Won {
    /// We became the holder (new term).
    Acquired,
    /// We were the holder and renewed.
    Renewed,
}

/// What the elector last observed (client-go's `observedRecord`, `observedTime`, the lock's cached
/// lease, and `reportedLeader`).
#[derive(Default)]
pub(super) struct Observed {
    pub(super) record: Option<LeaseRecord>,
    /// Local time at which `record` was first seen.
    at: Option<Instant>,
    /// The lease object last read or written (its resourceVersion conditions the next update).
    pub(super) lease: Option<Lease>,
    reported_leader: Option<String>,
}

/// A leader election candidate for one Lease.
pub struct LeaderElector {
    pub(super) api: Api<Lease>,
    pub(super) name: String,
    pub(super) lease_id: String,
    pub(super) config: LeaderElectionConfig,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) rng: Mutex<Box<dyn RngCore + Send>>,
    observer: SharedObserver,
    observed: Mutex<Observed>,
    /// Serialises lease writes of the renew loop and of [`LeaderElector::fence`].
    pub(super) io: tokio::sync::Mutex<()>,
    pub(super) status: watch::Sender<LeaderStatus>,
}

impl LeaderElector {
    /// A candidate for lease `name` of `api`, reading time from `clock` and drawing jitter from
    /// `rng`. Fails if `config` is invalid.
    pub fn new(
        api: Api<Lease>,
        name: impl Into<String>,
        config: LeaderElectionConfig,
        clock: Arc<dyn Clock>,
        rng: Box<dyn RngCore + Send>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let name = name.into();
        let lease_id = format!("{}/{name}", api.namespace().unwrap_or(""));
        Ok(Self {
            api,
            name,
            lease_id,
            config,
            clock,
            rng: Mutex::new(rng),
            observer: observer::noop(),
            observed: Mutex::new(Observed::default()),
            io: tokio::sync::Mutex::new(()),
            status: watch::Sender::new(LeaderStatus::default()),
        })
    }

    /// Reports lease events to `observer`.
    pub fn observer(mut self, observer: SharedObserver) -> Self {
        self.observer = observer;
        self
    }

    /// This candidate's identity.
    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    /// The settings.
    pub fn config(&self) -> &LeaderElectionConfig {
        &self.config
    }

    /// The lease, `namespace/name`.
    pub fn lease(&self) -> &str {
        &self.lease_id
    }

    /// The clock this elector reads.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// True if the last observed record names this candidate (client-go's `IsLeader`).
    pub fn is_leader(&self) -> bool {
        self.lock()
            .record
            .as_ref()
            .is_some_and(|r| r.holder == self.config.identity)
    }

    /// The holder of the last observed record, if any (client-go's `GetLeader`).
    pub fn leader(&self) -> Option<String> {
        self.lock()
            .record
            .as_ref()
            .filter(|r| !r.holder.is_empty())
            .map(|r| r.holder.clone())
    }

    /// Follows started leading / stopped leading / new leader observed.
    pub fn subscribe(&self) -> watch::Receiver<LeaderStatus> {
        self.status.subscribe()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn note(&self, text: String) {
        self.observer.record(EventKind::Lease {
            lease: self.lease_id.clone(),
            text,
        });
    }

    /// Wall time for the record, whole microseconds (MicroTime's precision).
    pub(super) fn wall_now(&self) -> Timestamp {
        let t = self.clock.timestamp();
        Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
    }

    /// True while the observed record has not expired on the local clock at `now`.
    fn lease_valid(&self, now: Instant) -> bool {
        let o = self.lock();
        match (&o.record, o.at) {
            (Some(r), Some(at)) => {
                let secs = u64::try_from(r.lease_duration_seconds).unwrap_or(0);
                at + Duration::from_secs(secs) > now
            }
            _ => false,
        }
    }

    /// Remembers `lease` as read or written; resets `observed_at` when its record changed.
    pub(super) fn set_observed(&self, lease: Lease, always_reset_time: bool) {
        let record = LeaseRecord::of(&lease);
        let now = self.clock.now();
        let mut o = self.lock();
        if always_reset_time || o.record.as_ref() != Some(&record) {
            o.record = Some(record);
            o.at = Some(now);
        }
        o.lease = Some(lease);
    }

    /// Reports a change of leader once (client-go's `maybeReportTransition`).
    pub(super) fn maybe_report_transition(&self) {
        let holder = self.leader();
        let changed = {
            let mut o = self.lock();
            if o.reported_leader == holder {
                false
            } else {
                o.reported_leader = holder.clone();
                true
            }
        };
        if changed {
            self.note(format!(
                "observed {}",
                holder.as_deref().unwrap_or("<none>")
            ));
            self.status.send_modify(|s| s.leader = holder);
        }
    }

    /// Runs `fut` for at most `limit` of local time.
    pub(super) async fn bounded<T>(
        &self,
        limit: Duration,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, AttemptError> {
        let timeout = self.clock.sleep(limit);
        tokio::select! {
            biased;
            r = fut => r.map_err(AttemptError::from),
            _ = timeout => Err(AttemptError::Timeout),
        }
    }

    /// Time one API call may take: half the renew deadline, and never past `deadline`.
    pub(super) fn call_limit(&self, deadline: Option<Instant>) -> Duration {
        let limit = self.config.renew_deadline / 2;
        match deadline {
            Some(d) => limit.min(d.saturating_duration_since(self.clock.now())),
            None => limit,
        }
    }

    /// The record we would write now: us as holder, renewed now; `prev` gives acquireTime and
    /// leaseTransitions (kept on renewal, bumped on a change of holder).
    pub(super) fn desired(&self, prev: Option<&LeaseRecord>) -> LeaseRecord {
        let now = self.wall_now();
        let mut r = LeaseRecord {
            holder: self.config.identity.clone(),
            lease_duration_seconds: self.config.lease_duration_seconds(),
            acquire_time: Some(now),
            renew_time: Some(now),
            lease_transitions: 0,
        };
        if let Some(p) = prev {
            if p.holder == self.config.identity {
                r.acquire_time = p.acquire_time;
                r.lease_transitions = p.lease_transitions;
                // A renewal must change the record, or candidates would not see it as one.
                if let Some(prev_renew) = p.renew_time {
                    let bumped = prev_renew
                        .checked_add(k8s_openapi::jiff::SignedDuration::from_micros(1))
                        .unwrap_or(prev_renew);
                    r.renew_time = Some(now.max(bumped));
                }
            } else {
                r.lease_transitions = p.lease_transitions.saturating_add(1);
            }
        }
        r
    }

    /// One attempt to acquire or renew (client-go's `tryAcquireOrRenew`), with every API call
    /// ending by `deadline` (local clock) if given.
    pub(super) async fn try_acquire_or_renew(
        &self,
        deadline: Option<Instant>,
    ) -> Result<Won, AttemptError> {
        let _io = self.io.lock().await;
        let now = self.clock.now();
        let params = PostParams::default();

        // 1. Fast path: renew optimistically from the lease we last saw.
        let fast = self.is_leader() && self.lease_valid(now);
        if fast {
            let (lease, prev) = {
                let o = self.lock();
                (o.lease.clone(), o.record.clone())
            };
            if let Some(mut lease) = lease {
                self.desired(prev.as_ref()).write_to(&mut lease);
                let call = self.api.replace(&self.name, &params, &lease);
                if let Ok(written) = self.bounded(self.call_limit(deadline), call).await {
                    self.set_observed(written, true);
                    return Ok(Won::Renewed);
                }
                // Fall through to the slow path (client-go logs and continues).
            }
        }

        // 2. Read the lease, or create it.
        let got = self
            .bounded(self.call_limit(deadline), self.api.get_opt(&self.name))
            .await?;
        let Some(current) = got else {
            let mut lease = Lease::default();
            lease.metadata.name = Some(self.name.clone());
            lease.metadata.namespace = self.api.namespace().map(str::to_string);
            self.desired(None).write_to(&mut lease);
            let created = self
                .bounded(self.call_limit(deadline), self.api.create(&params, &lease))
                .await?;
            self.set_observed(created, true);
            return Ok(Won::Acquired);
        };

        // 3. Compare with what we observed; respect an unexpired lease of another holder.
        let record = LeaseRecord::of(&current);
        self.set_observed(current.clone(), false);
        let me = self.config.identity.as_str();
        if !record.holder.is_empty() && record.holder != me && self.lease_valid(now) {
            return Err(AttemptError::Held(record.holder));
        }

        // 4. Take or renew it, conditional on the resourceVersion just read.
        let won = if record.holder == me {
            Won::Renewed
        } else {
            Won::Acquired
        };
        let mut lease = current;
        self.desired(Some(&record)).write_to(&mut lease);
        let written = self
            .bounded(
                self.call_limit(deadline),
                self.api.replace(&self.name, &params, &lease),
            )
            .await?;
        self.set_observed(written, true);
        Ok(won)
    }

    pub(super) fn rv_text(&self) -> String {
        self.lock()
            .lease
            .as_ref()
            .and_then(|l| l.resource_version())
            .unwrap_or_default()
    }

    pub(super) fn transitions(&self) -> i32 {
        self.lock()
            .record
            .as_ref()
            .map_or(0, |r| r.lease_transitions)
    }
}
