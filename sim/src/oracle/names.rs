//! Every oracle's name, as violations carry it and `explore`, `shrink --oracle` and scenario
//! expectations spell it, and the registry of oracles: which apply to every scenario (the
//! library, run by `crate::run` after every run) and which a scenario opts into.

/// A watch stream's events come in resourceVersion order ([`super::watch_ordered`]).
pub const WATCH_ORDERED: &str = "watch-ordered";
/// No object event is delivered twice on one stream ([`super::watch_unique`]).
pub const WATCH_UNIQUE: &str = "watch-unique";
/// The events of one revision are delivered together ([`super::watch_atomic`]).
pub const WATCH_ATOMIC: &str = "watch-atomic";
/// A bookmark never goes behind an event ([`super::watch_bookmarkable`]).
pub const WATCH_BOOKMARKABLE: &str = "watch-bookmarkable";
/// No gap against storage's commit log ([`super::watch_reliable`]).
pub const WATCH_RELIABLE: &str = "watch-reliable";
/// A watch from N starts after N ([`super::watch_resumable`]).
pub const WATCH_RESUMABLE: &str = "watch-resumable";
/// One key is never reconciled twice at once ([`super::no_concurrent_reconcile`]).
pub const NO_CONCURRENT_RECONCILE: &str = "no-concurrent-reconcile";
/// At most N reconciles at once on a host ([`super::bounded_concurrency`]).
pub const BOUNDED_CONCURRENCY: &str = "bounded-concurrency";
/// No request or retry hot loop ([`super::no_hot_loop`]).
pub const NO_HOT_LOOP: &str = "no-hot-loop";
/// A lease-loss cancellation says so ([`super::honest_cancel_reason`]).
pub const HONEST_CANCEL_REASON: &str = "honest-cancel-reason";
/// An acknowledged write is not undone by someone else ([`super::no_lost_update`]).
pub const NO_LOST_UPDATE: &str = "no-lost-update";
/// A call with a deadline ends by it ([`super::deadline_respected`]).
pub const DEADLINE_RESPECTED: &str = "deadline-respected";
/// A reconcile's calls end by its deadline ([`super::no_work_after_deadline`]).
pub const NO_WORK_AFTER_DEADLINE: &str = "no-work-after-deadline";
/// No delete by name on the strength of an older incarnation ([`super::no_stale_delete`]).
pub const NO_STALE_DELETE: &str = "no-stale-delete";
/// No write by a replica that does not hold the lease ([`super::single_writer`]).
pub const SINGLE_WRITER: &str = "single-writer";
/// After the heal, storage reaches the wanted state (`crate::kit::converge`).
pub const CONVERGES: &str = "converges";
/// No controller task outlives its stop (the pitfall scenarios' shutdown check).
pub const NO_LEAKED_TASKS: &str = "no-leaked-tasks";
/// Writes and reconciles die down after the faults and the workload ([`super::quiescence()`]).
pub const QUIESCENCE: &str = "quiescence";
/// No watch stream or call outlives its host's shutdown ([`super::no_leaked_streams`]).
pub const NO_LEAKED_STREAMS: &str = "no-leaked-streams";
/// Two hosts do not take turns undoing each other's writes ([`super::no_write_fight`]).
pub const NO_WRITE_FIGHT: &str = "no-write-fight";
/// An oracle panicked ([`super::guarded`]).
pub const CHECKER_ERROR: &str = "checker-error";
/// The run finished: no host failed, the world could be built (`crate::run`).
pub const RUN_COMPLETES: &str = "run-completes";
/// The same seed gave the same history twice (`crate::sweep`, `crate::check`).
pub const DETERMINISM: &str = "determinism";

/// Which runs an oracle judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every run of every scenario, with no setting from the scenario (the library, and the
    /// harness's own checks).
    Every,
    /// The scenarios whose check calls it (with the settings it needs, such as a lease name).
    OptIn,
}

/// One oracle in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Its name.
    pub name: &'static str,
    /// Which runs it judges.
    pub scope: Scope,
    /// What it checks, in one line.
    pub summary: &'static str,
}

const fn entry(name: &'static str, scope: Scope, summary: &'static str) -> Entry {
    Entry {
        name,
        scope,
        summary,
    }
}

/// Every oracle kubesim has, library first.
pub const REGISTRY: &[Entry] = &[
    entry(
        QUIESCENCE,
        Scope::Every,
        "writes and reconciles die down after the faults and the workload",
    ),
    entry(
        NO_LEAKED_STREAMS,
        Scope::Every,
        "no watch stream or call outlives its host's shutdown",
    ),
    entry(
        NO_WRITE_FIGHT,
        Scope::Every,
        "two hosts do not take turns undoing each other's writes",
    ),
    entry(
        CHECKER_ERROR,
        Scope::Every,
        "an oracle panicked (a bug in the checker, not the controller)",
    ),
    entry(
        RUN_COMPLETES,
        Scope::Every,
        "the run finished: no host failed, the world could be built",
    ),
    entry(
        DETERMINISM,
        Scope::Every,
        "the same seed gave the same history twice",
    ),
    entry(
        WATCH_ORDERED,
        Scope::OptIn,
        "a watch stream's events come in resourceVersion order",
    ),
    entry(
        WATCH_UNIQUE,
        Scope::OptIn,
        "no object event is delivered twice on one stream",
    ),
    entry(
        WATCH_ATOMIC,
        Scope::OptIn,
        "the events of one revision are delivered together",
    ),
    entry(
        WATCH_BOOKMARKABLE,
        Scope::OptIn,
        "a bookmark never goes behind an event",
    ),
    entry(
        WATCH_RELIABLE,
        Scope::OptIn,
        "no gap against storage's commit log",
    ),
    entry(
        WATCH_RESUMABLE,
        Scope::OptIn,
        "a watch from resourceVersion N starts after N",
    ),
    entry(
        NO_CONCURRENT_RECONCILE,
        Scope::OptIn,
        "one key is never reconciled twice at once",
    ),
    entry(
        BOUNDED_CONCURRENCY,
        Scope::OptIn,
        "at most N reconciles run at once on a host",
    ),
    entry(
        NO_HOT_LOOP,
        Scope::OptIn,
        "no client hammers the API server; no retry without backoff",
    ),
    entry(
        HONEST_CANCEL_REASON,
        Scope::OptIn,
        "a reconcile cut short by lease loss says so",
    ),
    entry(
        NO_LOST_UPDATE,
        Scope::OptIn,
        "an acknowledged write is not undone by someone else",
    ),
    entry(
        DEADLINE_RESPECTED,
        Scope::OptIn,
        "a call declared with a deadline ends by it",
    ),
    entry(
        NO_WORK_AFTER_DEADLINE,
        Scope::OptIn,
        "a reconcile's calls end by its deadline",
    ),
    entry(
        NO_STALE_DELETE,
        Scope::OptIn,
        "no delete by name on the strength of an older incarnation",
    ),
    entry(
        SINGLE_WRITER,
        Scope::OptIn,
        "no write by a replica that does not hold the lease",
    ),
    entry(
        CONVERGES,
        Scope::OptIn,
        "after the heal, storage reaches the wanted state",
    ),
    entry(
        NO_LEAKED_TASKS,
        Scope::OptIn,
        "no controller task outlives its stop",
    ),
];

/// The registry entry named `name`.
pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_oracle_name_is_registered_once_in_kebab_case() {
        let names: BTreeSet<&str> = REGISTRY.iter().map(|e| e.name).collect();
        assert_eq!(names.len(), REGISTRY.len(), "no name twice");
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
        }
        assert_eq!(find(CONVERGES).map(|e| e.scope), Some(Scope::OptIn));
        assert_eq!(find(QUIESCENCE).map(|e| e.scope), Some(Scope::Every));
        assert!(find("no-such-oracle").is_none());
    }
}
