//! A conformance case as a table row: a sentence, the Kubernetes source the expectation comes
//! from, and a request sequence with what each answer must be. Builders keep rows short:
//!
//! ```text
//! case("a create of an existing name is 409 AlreadyExists", "store.go: Create", vec![
//!     post(CMS, cm("a")),
//!     post(CMS, cm("a")).code(409).reason("AlreadyExists").msg(r#"configmaps "a" already exists"#),
//! ])
//! ```
//!
//! `$name` in a path, a body or an expected string is a value saved by an earlier step
//! (`.save("/metadata/uid", "uid")`).

use http::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// One behaviour.
pub struct Case {
    /// What the API server does, as a sentence.
    pub name: &'static str,
    /// Where the expectation comes from: a kube-apiserver / apimachinery source file and function,
    /// or a section of the Kubernetes API Concepts.
    pub source: &'static str,
    /// The request sequence.
    pub steps: Vec<Step>,
    /// A behaviour kubesim deliberately approximates (listed in the README's known gaps): the
    /// case is run and reported, and expected to fail.
    pub gap: Option<&'static str>,
}

/// What a step does.
pub enum StepKind {
    /// One request; its answer is checked.
    Request,
    /// Opens watch `id` in the background (its stream is read until it ends).
    WatchStart(u32),
    /// Waits for watch `id` to end and checks its status code and events.
    WatchEnd(u32),
    /// One pass of the garbage collector.
    Gc,
    /// Compacts storage up to its current revision.
    Compact,
    /// Lets simulated time pass.
    Sleep(Duration),
}

/// One step of a case.
pub struct Step {
    pub kind: StepKind,
    pub method: Method,
    pub path: String,
    pub content_type: Option<&'static str>,
    pub body: Option<String>,
    pub expect: Expect,
    pub events: Option<EventsExpect>,
    pub save: Vec<(&'static str, &'static str)>,
}

/// What an answer (or one watch event) must contain.
#[derive(Default, Clone)]
pub struct Expect {
    /// Status code; `None` = any 2xx (a set-up step).
    pub code: Option<u16>,
    /// JSON pointer -> value.
    pub fields: Vec<(String, Value)>,
    /// JSON pointers that must be absent.
    pub absent: Vec<String>,
    /// JSON pointer whose string must differ from a saved variable.
    pub differs: Vec<(&'static str, &'static str)>,
    /// JSON pointer whose numeric string must be greater than a saved variable.
    pub num_gt: Vec<(&'static str, &'static str)>,
    /// Number of list items.
    pub items: Option<usize>,
}

impl Expect {
    /// A field check.
    pub fn f(mut self, ptr: &str, v: impl Into<Value>) -> Self {
        self.fields.push((ptr.to_string(), v.into()));
        self
    }
}

/// What a watch stream must carry.
#[derive(Default)]
pub struct EventsExpect {
    /// Event types, exactly.
    pub types: Option<Vec<String>>,
    /// Checks on event `i` (negative: from the end).
    pub each: Vec<(i64, Expect)>,
}

/// A case.
pub fn case(name: &'static str, source: &'static str, steps: Vec<Step>) -> Case {
    Case {
        name,
        source,
        steps,
        gap: None,
    }
}

impl Case {
    /// Marks the case as a known, deliberate approximation.
    pub fn gap(mut self, why: &'static str) -> Self {
        self.gap = Some(why);
        self
    }
}

fn step(
    method: Method,
    path: &str,
    content_type: Option<&'static str>,
    body: Option<String>,
) -> Step {
    Step {
        kind: StepKind::Request,
        method,
        path: path.to_string(),
        content_type,
        body,
        expect: Expect::default(),
        events: None,
        save: Vec::new(),
    }
}

/// GET.
pub fn get(path: &str) -> Step {
    step(Method::GET, path, None, None)
}
/// POST with a JSON body.
pub fn post(path: &str, body: Value) -> Step {
    step(
        Method::POST,
        path,
        Some("application/json"),
        Some(body.to_string()),
    )
}
/// PUT with a JSON body.
pub fn put(path: &str, body: Value) -> Step {
    step(
        Method::PUT,
        path,
        Some("application/json"),
        Some(body.to_string()),
    )
}
/// PATCH with a content type and a JSON body.
pub fn patch(path: &str, content_type: &'static str, body: Value) -> Step {
    step(
        Method::PATCH,
        path,
        Some(content_type),
        Some(body.to_string()),
    )
}
/// JSON merge patch.
pub fn merge(path: &str, body: Value) -> Step {
    patch(path, MERGE, body)
}
/// JSON patch.
pub fn jsonpatch(path: &str, body: Value) -> Step {
    patch(path, JSON_PATCH, body)
}
/// Strategic merge patch.
pub fn smp(path: &str, body: Value) -> Step {
    patch(path, SMP, body)
}
/// Server-side apply (the body sent as JSON, which is YAML).
pub fn apply(path: &str, body: Value) -> Step {
    patch(path, APPLY, body)
}
/// DELETE without a body.
pub fn delete(path: &str) -> Step {
    step(Method::DELETE, path, None, None)
}
/// DELETE with a DeleteOptions body.
pub fn delete_with(path: &str, body: Value) -> Step {
    step(
        Method::DELETE,
        path,
        Some("application/json"),
        Some(body.to_string()),
    )
}
/// Any request with a raw body.
pub fn raw(method: Method, path: &str, content_type: Option<&'static str>, body: &str) -> Step {
    step(method, path, content_type, Some(body.to_string()))
}
/// Starts watch `id` at `path` (which carries `watch=true` and its options).
pub fn watch_start(id: u32, path: &str) -> Step {
    let mut s = get(path);
    s.kind = StepKind::WatchStart(id);
    s
}
/// Waits for watch `id` to end.
pub fn watch_end(id: u32) -> Step {
    let mut s = get("-");
    s.kind = StepKind::WatchEnd(id);
    s.events = Some(EventsExpect::default());
    s
}
/// One garbage collector pass.
pub fn gc() -> Step {
    let mut s = get("-");
    s.kind = StepKind::Gc;
    s
}
/// Compaction to the current revision.
pub fn compact() -> Step {
    let mut s = get("-");
    s.kind = StepKind::Compact;
    s
}
/// Simulated time passes.
pub fn sleep_s(secs: u64) -> Step {
    let mut s = get("-");
    s.kind = StepKind::Sleep(Duration::from_secs(secs));
    s
}

impl Step {
    /// Expected status code.
    pub fn code(mut self, c: u16) -> Self {
        self.expect.code = Some(c);
        self
    }
    /// Expected field.
    pub fn f(mut self, ptr: &str, v: impl Into<Value>) -> Self {
        self.expect.fields.push((ptr.to_string(), v.into()));
        self
    }
    /// Expected absent field.
    pub fn absent(mut self, ptr: &str) -> Self {
        self.expect.absent.push(ptr.to_string());
        self
    }
    /// Expected `metav1.Status` failure: kind, status, code, reason (empty = absent).
    pub fn status(self, code: u16, reason: &str) -> Self {
        let s = self
            .code(code)
            .f("/kind", "Status")
            .f("/apiVersion", "v1")
            .f("/status", "Failure")
            .f("/code", code);
        if reason.is_empty() {
            s.absent("/reason")
        } else {
            s.f("/reason", reason)
        }
    }
    /// Expected `message`.
    pub fn msg(self, m: &str) -> Self {
        self.f("/message", m)
    }
    /// Expected `details` name, group (empty = absent) and kind.
    pub fn details(self, name: &str, group: &str, kind: &str) -> Self {
        let s = self.f("/details/name", name).f("/details/kind", kind);
        if group.is_empty() {
            s.absent("/details/group")
        } else {
            s.f("/details/group", group)
        }
    }
    /// Expected `details.causes[i]` reason, message, field.
    pub fn cause(self, i: usize, reason: &str, message: &str, field: &str) -> Self {
        self.f(&format!("/details/causes/{i}/reason"), reason)
            .f(&format!("/details/causes/{i}/message"), message)
            .f(&format!("/details/causes/{i}/field"), field)
    }
    /// Expected number of list items.
    pub fn items(mut self, n: usize) -> Self {
        self.expect.items = Some(n);
        self
    }
    /// Expects the string at `ptr` to differ from saved `$var`.
    pub fn differs(mut self, ptr: &'static str, var: &'static str) -> Self {
        self.expect.differs.push((ptr, var));
        self
    }
    /// Expects the numeric string at `ptr` to be above saved `$var`.
    pub fn gt(mut self, ptr: &'static str, var: &'static str) -> Self {
        self.expect.num_gt.push((ptr, var));
        self
    }
    /// Saves the value at `ptr` as `$var`.
    pub fn save(mut self, ptr: &'static str, var: &'static str) -> Self {
        self.save.push((ptr, var));
        self
    }
    /// Expected watch event types, exactly.
    pub fn events(mut self, types: &[&str]) -> Self {
        self.events_mut().types = Some(types.iter().map(|t| t.to_string()).collect());
        self
    }
    /// Checks on event `i` (negative counts from the end).
    pub fn event(mut self, i: i64, e: Expect) -> Self {
        self.events_mut().each.push((i, e));
        self
    }
    fn events_mut(&mut self) -> &mut EventsExpect {
        self.events.get_or_insert_with(EventsExpect::default)
    }
}

/// An empty event expectation to chain `.f(...)` on.
pub fn ev() -> Expect {
    Expect::default()
}

pub const MERGE: &str = "application/merge-patch+json";
pub const JSON_PATCH: &str = "application/json-patch+json";
pub const SMP: &str = "application/strategic-merge-patch+json";
pub const APPLY: &str = "application/apply-patch+yaml";

/// ConfigMaps in `default`.
pub const CMS: &str = "/api/v1/namespaces/default/configmaps";
/// Pods in `default`.
pub const PODS: &str = "/api/v1/namespaces/default/pods";
/// Leases in `default`.
pub const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
/// Widgets (namespaced custom resource with status) in `default`.
pub const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";
/// Gadgets (cluster-scoped custom resource).
pub const GADGETS: &str = "/apis/example.com/v1/gadgets";
/// Namespaces.
pub const NAMESPACES: &str = "/api/v1/namespaces";

/// A ConfigMap named `name` with `data: {k: v}`.
pub fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}
/// A Pod named `name` with one container.
pub fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}
/// A Lease named `name` held by `a`.
pub fn lease(name: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name},
           "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}})
}
/// A Widget named `name` with `spec.size: 1`.
pub fn widget(name: &str) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name},
           "spec": {"size": 1}})
}
/// A Gadget named `name`.
pub fn gadget(name: &str) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": name},
           "spec": {"size": 1}})
}
/// `{path}/{name}`.
pub fn at(path: &str, name: &str) -> String {
    format!("{path}/{name}")
}
