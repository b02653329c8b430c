//! Targeted faults: fail, delay or drop the Nth (or every) API request that matches a
//! [`Selector`], or crash a host right after its Nth matching write (dsk's fault DSL aims faults
//! the same way: by client, verb, resource, namespace and name).
//!
//! Matching requests are counted run-wide, over every API server replica and across replica
//! restarts, in the order the replicas receive them (which the seed fixes). A request is counted
//! when the replica records it; a write is counted for a crash when the replica answers it 2xx,
//! in the step storage committed it, as [`crate::faults::FaultAction::CrashAfterWrites`] counts.

//!
//! - `selector.rs`: [`Selector`], which requests a fault is aimed at.
//! - `mod.rs`: [`TargetedFault`], what it does to them, and its plan-file form.
//! - `armed.rs`: [`Armed`], the faults of a run counting matching requests and writes.

mod armed;
mod selector;

pub use armed::{Armed, Hit};
pub use selector::{Selector, Subresource};

use crate::api::Verb;
use crate::plan::time;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which of the matching requests a targeted fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Only the Nth matching request (1 = the first).
    Nth(u64),
    /// Every matching request.
    Every,
}

pub use Which::{Every, Nth};

/// How a failed request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Respond {
    /// A Kubernetes status error: 409 Conflict, 429 TooManyRequests, 500 InternalError,
    /// 504 Timeout, or 410 Expired on a watch (an `ERROR` event, as a compacted watch gets it)
    /// or a list.
    Status(u16),
    /// The connection is reset: the client gets no answer and a broken connection.
    Reset,
}

/// The statuses a plan can inject.
pub const STATUSES: [u16; 5] = [409, 410, 429, 500, 504];

/// What a targeted fault does to the requests it hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with an error instead of serving.
    Fail(Respond),
    /// Serve after a delay.
    Delay(Duration),
    /// Never answer (the client waits for its own timeout).
    Drop,
    /// Crash the selector's host right after the replica answers the write, restart it later.
    CrashAfterWrite {
        /// How long the host stays down.
        restart_after: Duration,
    },
}

/// One targeted fault of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Repr", into = "Repr")]
pub struct TargetedFault {
    /// The requests aimed at.
    pub selector: Selector,
    /// Which of them.
    pub which: Which,
    /// What happens to them.
    pub action: Action,
    /// Only requests received at or after this simulated time are counted.
    pub from: Option<Duration>,
    /// Only requests received before this simulated time are counted.
    pub until: Option<Duration>,
}

impl TargetedFault {
    /// The entry as the plan's text form and history lines print it.
    pub fn describe(&self) -> String {
        let which = match self.which {
            Nth(n) => format!("#{n}"),
            Every => "every".into(),
        };
        let sel = self.selector.describe();
        match &self.action {
            Action::Fail(Respond::Status(code)) => format!("fail {which} {sel} with {code}"),
            Action::Fail(Respond::Reset) => format!("reset {which} {sel}"),
            Action::Delay(d) => format!("delay {which} {sel} by {}ms", d.as_millis()),
            Action::Drop => format!("drop {which} {sel}"),
            Action::CrashAfterWrite { restart_after } => format!(
                "crash after write {which} {sel}, restart {}ms later",
                restart_after.as_millis()
            ),
        }
    }

    /// Checks what can be checked without a world: a known status, 410 only on watch or list,
    /// a crash aimed at one host's writes.
    pub fn check(&self) -> Result<(), String> {
        if let Nth(0) = self.which {
            return Err("nth: counts from 1 (1 = the first matching request)".into());
        }
        match &self.action {
            Action::Fail(Respond::Status(code)) => {
                if !STATUSES.contains(code) {
                    return Err(format!(
                        "status: {code} cannot be injected; expected 409, 410 (watch or list), 429, 500 or 504"
                    ));
                }
                let list_or_watch = matches!(self.selector.verb, Some(Verb::Watch | Verb::List));
                if *code == 410 && !list_or_watch {
                    return Err("status: 410 Expired is answered to a watch or a list: set match.verb to watch or list".into());
                }
                if *code == 409 && self.selector.verb.is_some_and(|v| !v.is_write()) {
                    return Err("status: 409 Conflict is answered to writes only".into());
                }
            }
            Action::CrashAfterWrite { .. } => {
                if self.selector.host.is_none() {
                    return Err("match.host: a crash after a write needs the host to crash".into());
                }
                if self.selector.verb.is_some_and(|v| !v.is_write()) {
                    return Err("match.verb: a crash after a write counts writes (create, update, patch, delete, deletecollection)".into());
                }
                if self.which == Every {
                    return Err("every: a host crashes after its nth write; give nth".into());
                }
            }
            Action::Delay(_) | Action::Drop | Action::Fail(Respond::Reset) => {}
        }
        if let (Some(from), Some(until)) = (self.from, self.until) {
            if until <= from {
                return Err("until: must be later than from".into());
            }
        }
        Ok(())
    }
}

/// The serde form of a [`TargetedFault`]:
/// `{"fault": "fail", "match": {...}, "nth": 2, "status": 409}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repr {
    fault: Kind,
    #[serde(rename = "match", default)]
    selector: Selector,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nth: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    every: bool,
    /// `fail`: the status to answer with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    /// `delay`: how long.
    #[serde(
        default,
        with = "time::option",
        skip_serializing_if = "Option::is_none"
    )]
    by: Option<Duration>,
    /// `crash-after-write`: how long the host stays down.
    #[serde(
        default,
        with = "time::option",
        skip_serializing_if = "Option::is_none"
    )]
    restart_after: Option<Duration>,
    #[serde(
        default,
        with = "time::option",
        skip_serializing_if = "Option::is_none"
    )]
    from: Option<Duration>,
    #[serde(
        default,
        with = "time::option",
        skip_serializing_if = "Option::is_none"
    )]
    until: Option<Duration>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Fail,
    Reset,
    Delay,
    Drop,
    CrashAfterWrite,
}

impl TryFrom<Repr> for TargetedFault {
    type Error = String;

    fn try_from(r: Repr) -> Result<Self, String> {
        let which = match (r.nth, r.every) {
            (Some(n), false) => Nth(n),
            (None, true) => Every,
            (Some(_), true) => return Err("give nth or every, not both".into()),
            (None, false) => return Err("missing nth (or \"every\": true)".into()),
        };
        let only = |field: &str, set: bool, kinds: &str| -> Result<(), String> {
            if set {
                Err(format!("{field}: only for {kinds}"))
            } else {
                Ok(())
            }
        };
        only(
            "status",
            r.status.is_some() && r.fault != Kind::Fail,
            "fail",
        )?;
        only("by", r.by.is_some() && r.fault != Kind::Delay, "delay")?;
        only(
            "restart_after",
            r.restart_after.is_some() && r.fault != Kind::CrashAfterWrite,
            "crash-after-write",
        )?;
        let action = match r.fault {
            Kind::Fail => Action::Fail(Respond::Status(
                r.status
                    .ok_or("status: missing (409, 410, 429, 500 or 504)")?,
            )),
            Kind::Reset => Action::Fail(Respond::Reset),
            Kind::Delay => Action::Delay(r.by.ok_or("by: missing (how long to delay)")?),
            Kind::Drop => Action::Drop,
            Kind::CrashAfterWrite => Action::CrashAfterWrite {
                restart_after: r
                    .restart_after
                    .ok_or("restart_after: missing (how long the host stays down)")?,
            },
        };
        let fault = TargetedFault {
            selector: r.selector,
            which,
            action,
            from: r.from,
            until: r.until,
        };
        fault.check()?;
        Ok(fault)
    }
}

impl From<TargetedFault> for Repr {
    fn from(t: TargetedFault) -> Self {
        let (nth, every) = match t.which {
            Nth(n) => (Some(n), false),
            Every => (None, true),
        };
        let mut r = Repr {
            fault: Kind::Fail,
            selector: t.selector,
            nth,
            every,
            status: None,
            by: None,
            restart_after: None,
            from: t.from,
            until: t.until,
        };
        match t.action {
            Action::Fail(Respond::Status(code)) => r.status = Some(code),
            Action::Fail(Respond::Reset) => r.fault = Kind::Reset,
            Action::Delay(d) => {
                r.fault = Kind::Delay;
                r.by = Some(d);
            }
            Action::Drop => r.fault = Kind::Drop,
            Action::CrashAfterWrite { restart_after } => {
                r.fault = Kind::CrashAfterWrite;
                r.restart_after = Some(restart_after);
            }
        }
        r
    }
}
