//! `checker-error`: no oracle may take a run (or a sweep) down with it.
//!
//! An oracle is a function of the history, and a history can be anything: a user's scenario
//! records its own events, a history read from a file may be cut short, and an oracle may hold an
//! assumption the run broke. [`guarded`] runs one oracle under `catch_unwind`; a panic becomes a
//! [`CHECKER_ERROR`] violation naming the oracle and the panic message, located at the last event
//! of the history, and the caller goes on with the next oracle and the next seed. The panic
//! message is also printed by the process's panic hook, with its location.

pub use super::names::CHECKER_ERROR;
use super::Violation;
use kubesim_model::HistoryEvent;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `oracle` (called `name` in the report) over `history`; a panic is a [`CHECKER_ERROR`].
pub fn guarded(
    name: &str,
    history: &[HistoryEvent],
    oracle: impl FnOnce() -> Vec<Violation>,
) -> Vec<Violation> {
    // AssertUnwindSafe: an oracle only reads the history; whatever it built is dropped here.
    match catch_unwind(AssertUnwindSafe(oracle)) {
        Ok(v) => v,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            let last = history.last();
            vec![Violation {
                oracle: CHECKER_ERROR,
                time_us: last.map_or(0, |e| e.time_us),
                event_id: last.map(|e| e.id),
                message: format!("oracle {name} panicked: {what}"),
            }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::testutil::history;
    use kubesim_model::EventKind;

    #[test]
    fn a_panicking_oracle_becomes_a_checker_error_naming_it() {
        let h = history(vec![("sim", EventKind::Compact { rev: 1 })]);
        let v = guarded("watch-guarantees", &h, || panic!("range start {} > end", 3));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].oracle, CHECKER_ERROR);
        assert_eq!(v[0].event_id, Some(0));
        assert_eq!(
            v[0].message,
            "oracle watch-guarantees panicked: range start 3 > end"
        );
        let v = guarded("static", &[], || std::panic::panic_any("static text"));
        assert_eq!(v[0].message, "oracle static panicked: static text");
        assert_eq!(v[0].event_id, None);
    }

    #[test]
    fn a_quiet_oracle_passes_its_violations_through() {
        let ok = guarded("x", &[], Vec::new);
        assert_eq!(ok, vec![]);
    }
}
