//! The queues under test, behind one small interface ([`BenchQueue`]):
//!
//! - `plain` ([`PlainQueue`]): the in-run stand-in for client-go, client-go's algorithm
//!   (`util/workqueue/queue.go`) on std types;
//! - `workqueue` ([`WorkQueue`]) and `local` ([`LocalWorkQueue`]), the crate's two queues.
//!
//! [`SendQueue`] narrows to the thread-safe ones, whose `get` future is `Send`.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Arc, Mutex};

use kubesim_controller::{LocalWorkQueue, WorkQueue};
use tokio::sync::Notify;

use crate::setup::Key;

/// The interface the workloads drive.
pub(crate) trait BenchQueue {
    fn fresh() -> Self;
    fn add(&self, key: Key);
    async fn get(&self) -> Option<Key>;
    fn done(&self, key: &Key);
    fn len(&self) -> usize;
    fn shut_down(&self);
}

/// client-go's algorithm (`util/workqueue/queue.go`) on std types: the baseline.
#[allow(clippy::disallowed_types)] // std HashSet on purpose: this is the plain baseline.
struct PlainState {
    queue: VecDeque<Key>,
    dirty: std::collections::HashSet<Key>, // det-ok: the plain peer of a benchmark, never iterated into a history
    processing: std::collections::HashSet<Key>, // det-ok: the plain peer of a benchmark, never iterated into a history
    waiting: usize,
    shutting_down: bool,
}

pub(crate) struct PlainQueue {
    state: Mutex<PlainState>,
    notify: Notify,
}

impl BenchQueue for Arc<PlainQueue> {
    #[allow(clippy::disallowed_types)]
    fn fresh() -> Self {
        Arc::new(PlainQueue {
            state: Mutex::new(PlainState {
                queue: VecDeque::new(),
                dirty: std::collections::HashSet::new(), // det-ok: the plain peer of a benchmark, never iterated into a history
                processing: std::collections::HashSet::new(), // det-ok: the plain peer of a benchmark, never iterated into a history
                waiting: 0,
                shutting_down: false,
            }),
            notify: Notify::new(),
        })
    }

    fn add(&self, key: Key) {
        let mut s = self.state.lock().unwrap();
        if s.shutting_down || s.dirty.contains(key) {
            return;
        }
        s.dirty.insert(key);
        if s.processing.contains(key) {
            return;
        }
        s.queue.push_back(key);
        if s.waiting > 0 {
            self.notify.notify_one();
        }
    }

    async fn get(&self) -> Option<Key> {
        loop {
            let mut notified = pin!(self.notify.notified());
            notified.as_mut().enable();
            {
                let mut s = self.state.lock().unwrap();
                if let Some(key) = s.queue.pop_front() {
                    s.processing.insert(key);
                    s.dirty.remove(key);
                    return Some(key);
                }
                if s.shutting_down {
                    return None;
                }
                s.waiting += 1;
            }
            notified.await;
            self.state.lock().unwrap().waiting -= 1;
        }
    }

    fn done(&self, key: &Key) {
        let mut s = self.state.lock().unwrap();
        s.processing.remove(key);
        if s.dirty.contains(key) {
            s.queue.push_back(key);
            if s.waiting > 0 {
                self.notify.notify_one();
            }
        }
    }

    fn len(&self) -> usize {
        self.state.lock().unwrap().queue.len()
    }

    fn shut_down(&self) {
        self.state.lock().unwrap().shutting_down = true;
        self.notify.notify_waiters();
    }
}

macro_rules! impl_bench_queue {
    ($ty:ty) => {
        impl BenchQueue for $ty {
            fn fresh() -> Self {
                <$ty>::new()
            }
            fn add(&self, key: Key) {
                <$ty>::add(self, key)
            }
            async fn get(&self) -> Option<Key> {
                <$ty>::get(self).await
            }
            fn done(&self, key: &Key) {
                <$ty>::done(self, key)
            }
            fn len(&self) -> usize {
                <$ty>::len(self)
            }
            fn shut_down(&self) {
                <$ty>::shut_down(self)
            }
        }
    };
}

impl_bench_queue!(WorkQueue<Key>);
impl_bench_queue!(LocalWorkQueue<Key>);

/// The thread-safe queues, whose `get` future is `Send`.
pub(crate) trait SendQueue: BenchQueue + Clone + Send + Sync + 'static {
    fn get_send(&self) -> impl std::future::Future<Output = Option<Key>> + Send + '_;
}

impl SendQueue for Arc<PlainQueue> {
    fn get_send(&self) -> impl std::future::Future<Output = Option<Key>> + Send + '_ {
        BenchQueue::get(self)
    }
}

impl SendQueue for WorkQueue<Key> {
    fn get_send(&self) -> impl std::future::Future<Output = Option<Key>> + Send + '_ {
        WorkQueue::get(self)
    }
}
