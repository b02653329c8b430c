//! `no-leaked-tasks`: no controller task outlives its stop. The controller runtime reports the
//! tasks still alive when its shutdown grace ends as `runtime leak ...` history lines
//! (`kubesim_controller`'s task tracker); each is a violation.

use super::names;
use super::Violation;
use kubesim_model::{EventKind, HistoryEvent};

/// Every `leak` the runtime reported, as a violation at its line.
pub fn no_leaked_tasks(history: &[HistoryEvent]) -> Vec<Violation> {
    history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Runtime { text } if text.starts_with("leak ") => Some(Violation {
                oracle: names::NO_LEAKED_TASKS,
                time_us: e.time_us,
                event_id: Some(e.id),
                message: format!("{} on {}", text, e.host),
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::history;

    fn runtime(text: &str) -> (&'static str, EventKind) {
        let text = text.into();
        ("controller-0", EventKind::Runtime { text })
    }

    #[test]
    fn each_reported_leak_is_a_violation_at_its_line_and_other_runtime_lines_are_not() {
        let h = history(vec![
            runtime("replicagroup start"),
            runtime("leak status-refresher"),
            runtime("replicagroup stopped"),
            runtime("leak informer pods"),
        ]);
        let v = no_leaked_tasks(&h);
        let at: Vec<(Option<u64>, &str)> = v.iter().map(|v| (v.event_id, v.oracle)).collect();
        assert_eq!(
            at,
            [
                (Some(1), names::NO_LEAKED_TASKS),
                (Some(3), names::NO_LEAKED_TASKS)
            ]
        );
        assert_eq!(v[0].message, "leak status-refresher on controller-0");
    }
}
