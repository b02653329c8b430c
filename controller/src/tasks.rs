//! Task accounting: every task the runtime spawns is tracked with a name, so a shutdown can wait
//! for them and a leak checker can name the ones still alive.
//!
//! [`TaskSet`] wraps tokio-util's `TaskTracker` (waiting for tasks to finish) with a registry of
//! live task names (naming them). A task leaves the registry when its future completes or is
//! dropped (aborted, or its runtime crashed), through a guard.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio_util::task::TaskTracker;

#[derive(Default)]
struct Registry {
    next: u64,
    live: BTreeMap<u64, String>,
}

/// A named set of spawned tasks.
#[derive(Clone, Default)]
pub struct TaskSet {
    tracker: TaskTracker,
    registry: Arc<Mutex<Registry>>,
}

struct LiveGuard {
    id: u64,
    registry: Arc<Mutex<Registry>>,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        let mut r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let removed = r.live.remove(&self.id);
        debug_assert!(
            removed.is_some(),
            "invariant: a task leaves the registry once"
        );
    }
}

impl TaskSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns `fut` on the current runtime as task `name`.
    pub fn spawn<F>(&self, name: impl Into<String>, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let guard = self.register(name.into());
        self.tracker.spawn(async move {
            let _guard = guard;
            fut.await
        })
    }

    fn register(&self, name: String) -> LiveGuard {
        let mut r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let id = r.next;
        r.next += 1;
        r.live.insert(id, name);
        LiveGuard {
            id,
            registry: self.registry.clone(),
        }
    }

    /// Names of the tasks alive now, in spawn order.
    pub fn live(&self) -> Vec<String> {
        let r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        r.live.values().cloned().collect()
    }

    /// Number of tasks alive now.
    pub fn len(&self) -> usize {
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .live
            .len()
    }

    /// True when no task is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops accepting the wait as complete until [`TaskSet::close`], then waits for every task.
    pub async fn wait(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }

    /// Marks the set closed (tasks may still be spawned; `wait` returns once they finish).
    pub fn close(&self) {
        self.tracker.close();
    }
}

/// What a leak check found: tasks alive after shutdown that were not alive before start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} task(s) still alive after shutdown: {}", .leaked.len(), .leaked.join(", "))]
pub struct Leak {
    /// Names of the leaked tasks.
    pub leaked: Vec<String>,
}

/// Compares the live tasks after shutdown with those before start; names the ones left.
pub fn check_leaks(before: &[String], after: &[String]) -> Result<(), Leak> {
    let mut remaining: Vec<String> = before.to_vec();
    let mut leaked = Vec::new();
    for t in after {
        match remaining.iter().position(|b| b == t) {
            Some(i) => {
                remaining.remove(i);
            }
            None => leaked.push(t.clone()),
        }
    }
    if leaked.is_empty() {
        Ok(())
    } else {
        Err(Leak { leaked })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn finished_tasks_leave_the_registry_and_stuck_ones_are_named() {
        let set = TaskSet::new();
        let before = set.live();
        set.spawn("short", async {
            tokio::time::sleep(Duration::from_secs(1)).await
        });
        set.spawn("stuck-worker", std::future::pending::<()>());
        assert_eq!(set.live(), vec!["short", "stuck-worker"]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let err = check_leaks(&before, &set.live()).expect_err("one task is stuck");
        assert_eq!(err.leaked, vec!["stuck-worker"]);
        assert!(err.to_string().contains("stuck-worker"));
    }

    #[tokio::test(start_paused = true)]
    async fn an_aborted_task_is_no_longer_live() {
        let set = TaskSet::new();
        let h = set.spawn("aborted", std::future::pending::<()>());
        h.abort();
        let _ = h.await;
        assert!(set.is_empty());
    }
}
