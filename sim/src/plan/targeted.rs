//! Targeted faults: fail, delay or drop the Nth (or every) API request that matches a
//! [`Selector`], or crash a host right after its Nth matching write (dsk's fault DSL aims faults
//! the same way: by client, verb, resource, namespace and name).
//!
//! Matching requests are counted run-wide, over every API server replica and across replica
//! restarts, in the order the replicas receive them (which the seed fixes). A request is counted
//! when the replica records it; a write is counted for a crash when the replica answers it 2xx,
//! in the step storage committed it, as [`crate::world::FaultAction::CrashAfterWrites`] counts.

use crate::api::{ApiRequest, Verb};
use crate::plan::time;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

/// Which API requests a targeted fault is aimed at. Every field that is set must match; an
/// empty selector matches every request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// The client host that sends the request (`controller-0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The verb: get, list, watch, create, update, patch, delete, deletecollection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<Verb>,
    /// The resource as histories name it (`pods`, `widgets.example.com`), or its plural alone
    /// (`widgets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The namespace of the request's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object name of the request's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The subresource: only `status` exists in kubesim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<Subresource>,
}

/// A subresource a selector can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subresource {
    /// `/status`.
    Status,
}

impl Selector {
    /// A selector that matches every request; narrow it with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only requests sent by client host `host`.
    pub fn host(mut self, host: &str) -> Self {
        self.host = Some(host.to_string());
        self
    }

    /// Only requests with verb `verb` (`get`, `list`, `watch`, `create`, `update`, `patch`,
    /// `delete`, `deletecollection`).
    ///
    /// # Panics
    /// On any other verb (a bug in the caller's test, not input).
    pub fn verb(mut self, verb: &str) -> Self {
        self.verb = Some(Verb::parse(verb).unwrap_or_else(|| {
            panic!("unknown verb {verb:?}: expected get, list, watch, create, update, patch, delete or deletecollection")
        }));
        self
    }

    /// Only requests on `resource` (`pods`, `widgets.example.com`, or the plural `widgets`).
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = Some(resource.to_string());
        self
    }

    /// Only requests in namespace `namespace`.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// Only requests on the object named `name`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Only requests on the `/status` subresource.
    pub fn status_subresource(mut self) -> Self {
        self.subresource = Some(Subresource::Status);
        self
    }

    /// Whether `request`, sent by `peer`, matches.
    pub fn matches(&self, peer: &str, request: &ApiRequest) -> bool {
        let resource_ok = self.resource.as_deref().is_none_or(|r| {
            let short = request.resource.short_name();
            short == r || request.resource.plural == r
        });
        self.host.as_deref().is_none_or(|h| h == peer)
            && self.verb.is_none_or(|v| v == request.verb)
            && resource_ok
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| request.namespace.as_deref() == Some(ns))
            && self
                .name
                .as_deref()
                .is_none_or(|n| request.name.as_deref() == Some(n))
            && self.subresource.is_none_or(|_| request.status)
    }

    /// The selector as history lines print it: `update pods default/x from controller-0`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.verb {
            parts.push(
                serde_json::to_value(v)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            );
        }
        if let Some(r) = &self.resource {
            parts.push(r.clone());
        }
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => parts.push(format!("{ns}/{n}")),
            (Some(ns), None) => parts.push(format!("{ns}/*")),
            (None, Some(n)) => parts.push(format!("*/{n}")),
            (None, None) => {}
        }
        if self.subresource.is_some() {
            parts.push("status".into());
        }
        if let Some(h) = &self.host {
            parts.push(format!("from {h}"));
        }
        if parts.is_empty() {
            "any request".into()
        } else {
            parts.join(" ")
        }
    }
}

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

/// What a replica does to one request a targeted fault hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index of the entry in the plan's `targeted` list.
    pub index: usize,
    /// What to do.
    pub action: Action,
    /// The entry's text, for the history.
    pub text: String,
}

/// The targeted faults of a run, armed: the entries and how many matching requests (or writes)
/// each has seen. Shared by every replica (and the harness, which crashes hosts).
#[derive(Debug, Default)]
pub struct Armed {
    entries: Vec<TargetedFault>,
    state: Mutex<ArmedState>,
}

#[derive(Debug, Default)]
struct ArmedState {
    /// Matching requests (or writes, for crashes) seen per entry.
    counts: Vec<u64>,
    /// Crashes due: host and downtime, in the order their writes were answered.
    crashes: Vec<(String, Duration)>,
}

impl Armed {
    /// Arms `entries`.
    pub fn new(entries: Vec<TargetedFault>) -> Self {
        let counts = vec![0; entries.len()];
        Self {
            entries,
            state: Mutex::new(ArmedState {
                counts,
                crashes: Vec::new(),
            }),
        }
    }

    /// The armed entries.
    pub fn entries(&self) -> &[TargetedFault] {
        &self.entries
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ArmedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn in_window(t: &TargetedFault, now: Duration) -> bool {
        t.from.is_none_or(|f| now >= f) && t.until.is_none_or(|u| now < u)
    }

    /// Counts `request` (sent by `peer`, received at `now`) against every request fault that
    /// matches it; the first entry whose turn it is hits it.
    pub fn on_request(&self, peer: &str, request: &ApiRequest, now: Duration) -> Option<Hit> {
        let mut st = self.state();
        let mut hit = None;
        for (i, t) in self.entries.iter().enumerate() {
            if matches!(t.action, Action::CrashAfterWrite { .. })
                || !Self::in_window(t, now)
                || !t.selector.matches(peer, request)
            {
                continue;
            }
            st.counts[i] += 1;
            let turn = match t.which {
                Nth(n) => st.counts[i] == n,
                Every => true,
            };
            if turn && hit.is_none() {
                hit = Some(Hit {
                    index: i,
                    action: t.action.clone(),
                    text: t.describe(),
                });
            }
        }
        hit
    }

    /// Counts a write answered 2xx against every crash entry that matches it; a crash whose
    /// count is reached becomes due ([`Armed::take_crashes`]).
    pub fn on_write(&self, peer: &str, request: &ApiRequest, now: Duration) {
        let mut st = self.state();
        for (i, t) in self.entries.iter().enumerate() {
            let Action::CrashAfterWrite { restart_after } = t.action else {
                continue;
            };
            if !Self::in_window(t, now) || !t.selector.matches(peer, request) {
                continue;
            }
            st.counts[i] += 1;
            if t.which == Nth(st.counts[i]) {
                st.crashes.push((peer.to_string(), restart_after));
            }
        }
    }

    /// The crashes that became due since the last call: host and downtime.
    pub fn take_crashes(&self) -> Vec<(String, Duration)> {
        std::mem::take(&mut self.state().crashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim_model::ResourceType;

    fn update(ns: &str, name: &str) -> ApiRequest {
        ApiRequest::new(Verb::Update, ResourceType::pod(), Some(ns), Some(name))
    }

    #[test]
    fn the_nth_matching_request_is_hit_and_no_other() {
        let armed = Armed::new(vec![TargetedFault {
            selector: Selector::new().host("c").verb("update").resource("pods"),
            which: Nth(2),
            action: Action::Fail(Respond::Status(409)),
            from: None,
            until: None,
        }]);
        let t = Duration::ZERO;
        assert!(armed.on_request("c", &update("d", "a"), t).is_none());
        assert!(armed.on_request("other", &update("d", "a"), t).is_none());
        let get = ApiRequest::new(Verb::Get, ResourceType::pod(), Some("d"), Some("a"));
        assert!(armed.on_request("c", &get, t).is_none());
        let hit = armed
            .on_request("c", &update("d", "b"), t)
            .expect("the second update");
        assert_eq!(hit.action, Action::Fail(Respond::Status(409)));
        assert!(armed.on_request("c", &update("d", "c"), t).is_none());
    }

    #[test]
    fn a_crash_is_due_after_the_nth_matching_write() {
        let armed = Armed::new(vec![TargetedFault {
            selector: Selector::new().host("c").name("x"),
            which: Nth(2),
            action: Action::CrashAfterWrite {
                restart_after: Duration::from_secs(1),
            },
            from: None,
            until: None,
        }]);
        let t = Duration::ZERO;
        armed.on_write("c", &update("d", "x"), t);
        armed.on_write("c", &update("d", "y"), t);
        assert!(armed.take_crashes().is_empty());
        armed.on_write("c", &update("d", "x"), t);
        assert_eq!(
            armed.take_crashes(),
            vec![("c".to_string(), Duration::from_secs(1))]
        );
        armed.on_write("c", &update("d", "x"), t);
        assert!(armed.take_crashes().is_empty(), "only once");
    }
}
