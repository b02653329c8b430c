//! [`GenericWorkQueue`] ([`WorkQueue`], [`LocalWorkQueue`]): the core algorithm behind a shared cell, with async `get` and drain.
//!
//! Blocking follows client-go's condition variable (`util/workqueue/queue.go`): a getter that
//! finds nothing registers as waiting, and an add signals one waiting getter; nobody is signalled
//! when nobody waits, so the uncontended path never touches the [`Notify`]. A waiting getter also
//! sleeps until the earliest delayed key is due (on the queue's clock: `tokio::time::sleep_until`
//! unless [`QueueConfig::with_clock`] injected one), which is how delayed keys become ready
//! without a timer task or a heartbeat: the clock is only read when a delayed key exists, and a
//! sleep is only armed when a getter has nothing else to do.
//!
//! No task is spawned. Instead every operation that changes the queue (`add`, `add_after`, `get`,
//! `try_get`, `done`, `shut_down`, `metrics`) first queues every delayed key due by now, in
//! ready-time order, so the order of keys is the one client-go's background loop gives: a key
//! that became due before an `add` is queued before it. `len` and `delayed_len` change nothing;
//! they count due keys as if they had been moved.

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::core::{Core, GetPoll, Wakeups};
use super::metrics::{QueueConfig, WorkQueueMetrics};
use super::mode::{Local, Mode, ThreadSafe};
use crate::clock::ClockHandle;

/// A workqueue with client-go semantics, generic over the key type and the sharing [`Mode`].
///
/// Use it through its aliases: [`WorkQueue<K>`] is thread-safe (`Send + Sync` when `K: Send`); [`LocalWorkQueue<K>`] is the
/// single-threaded variant for simulated hosts. Cloning gives another handle to the same queue.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use kubesim_controller::WorkQueue;
/// let queue = WorkQueue::new();
/// queue.add("default/web");
/// queue.add("default/web"); // deduplicated
/// assert_eq!(queue.len(), 1);
/// let key = queue.get().await.unwrap();
/// // ... reconcile ...
/// queue.done(&key);
/// queue.shut_down();
/// assert_eq!(queue.get().await, None);
/// # });
/// ```
pub struct GenericWorkQueue<K, M: Mode> {
    inner: M::Ptr<Inner<K, M>>,
}

/// The thread-safe workqueue ([`ThreadSafe`] mode), for production: see [`GenericWorkQueue`].
pub type WorkQueue<K> = GenericWorkQueue<K, ThreadSafe>;

/// The single-threaded workqueue ([`Local`] mode): same API and semantics, no atomics, `!Send`.
/// See [`GenericWorkQueue`].
pub type LocalWorkQueue<K> = GenericWorkQueue<K, Local>;

struct Inner<K, M: Mode> {
    core: M::Cell<Core<K>>,
    /// Waiting getters.
    items: Notify,
    /// Waiting `shut_down_with_drain` callers.
    drained: Notify,
    /// The core's clock, also read outside the lock to arm a waiting getter's sleep.
    clock: ClockHandle,
}

impl<K, M: Mode> Clone for GenericWorkQueue<K, M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K, M: Mode> fmt::Debug for GenericWorkQueue<K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericWorkQueue").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone, M: Mode> Default for GenericWorkQueue<K, M> {
    fn default() -> Self {
        Self::build(QueueConfig::default())
    }
}

impl<K: Hash + Eq + Clone, M: Mode> GenericWorkQueue<K, M> {
    /// An unnamed queue: counters only, no timing metrics (client-go's `New`).
    pub fn new() -> Self {
        Self::build(QueueConfig::default())
    }

    /// A queue with a configuration (client-go's `NewWithConfig`).
    pub fn with_config(config: QueueConfig) -> Self {
        Self::build(config)
    }

    pub(crate) fn build(config: QueueConfig) -> Self {
        let clock = config.clock.clone();
        Self {
            inner: M::new_ptr(Inner {
                core: M::new_cell(Core::new(config)),
                items: Notify::new(),
                drained: Notify::new(),
                clock,
            }),
        }
    }

    /// Queues `key` unless it is already queued. If it is being processed, it is queued again
    /// when `done` is called for it. Ignored after shutdown. Delayed keys due by now are queued
    /// first, as client-go's waiting loop queued them at their ready time.
    pub fn add(&self, key: K) {
        self.with(|core| core.add(key));
    }

    /// Adds `key` once `delay` has passed on the queue's clock (client-go `AddAfter`). For a
    /// key already waiting, the earlier ready time wins (client-go's `knownEntries`). Ignored
    /// after shutdown. Counts as a retry in the metrics, whatever the delay.
    ///
    /// A zero delay is [`add`](Self::add) at once, as client-go's `if duration <= 0 { q.Add(item) }`.
    /// A [`Duration`] cannot be negative: a delay computed from a deadline that has already
    /// passed (`deadline.saturating_duration_since(now)`) is zero, which is client-go's negative
    /// case. Delays are capped at 30 years.
    ///
    /// Ordering: delayed keys are queued in ready-time order, before anything added after their
    /// ready time. Keys with equal ready times are queued in the order of the `add_after` calls
    /// that set those times (client-go's heap is not stable there, so its order is one of the
    /// possible orders; this is the deterministic one).
    pub fn add_after(&self, key: K, delay: Duration) {
        self.with(|core| core.add_after(key, delay));
    }

    /// Waits for a key and marks it processing; the caller must call [`done`](Self::done) for
    /// it. Returns `None` once the queue is shut down and has no queued key left (as in
    /// client-go, keys queued before shutdown are still handed out).
    ///
    /// Cancel-safe: dropping the future never loses a key.
    pub fn get(&self) -> Get<'_, K, M> {
        Get {
            queue: self,
            wait: None,
        }
    }

    /// Takes a queued key without waiting: `None` if nothing is queued (or after shutdown with
    /// nothing queued).
    pub fn try_get(&self) -> Option<K> {
        self.with(Core::try_pop)
    }

    /// Marks `key` as no longer processing; if it was added meanwhile, it is queued again.
    ///
    /// For a key that is not being processed this is client-go's `Done`, exactly: if the key is
    /// queued (dirty), it is queued a second time, so `len` counts it twice and two `get`s hand
    /// it out, possibly to two workers at once; otherwise nothing happens. Call `done` only for
    /// keys you got.
    pub fn done(&self, key: &K) {
        self.with(|core| core.done(key));
    }

    /// Number of queued keys (client-go `Len`): not those being processed, not those waiting
    /// for a delay. Delayed keys due by now count if client-go's loop would have queued them
    /// (not if they are already queued or being processed). Changes nothing.
    pub fn len(&self) -> usize {
        self.with(|core| core.len())
    }

    /// Whether no key is queued (see [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of keys handed out by `get` and not yet `done`.
    pub fn processing_len(&self) -> usize {
        self.with(|core| core.processing_len())
    }

    /// Number of keys waiting for an `add_after` delay that is not over yet.
    pub fn delayed_len(&self) -> usize {
        self.with(|core| core.delayed_len())
    }

    /// Stops accepting keys and wakes every getter; getters drain the keys already queued and
    /// then receive `None`. Keys waiting for a delay are dropped. Does not wait for workers.
    pub fn shut_down(&self) {
        self.with(|core| core.shut_down(false));
    }

    /// Shuts down at once, like [`shut_down`](Self::shut_down), and returns a future that
    /// completes when no key is being processed any more (client-go `ShutDownWithDrain`). A
    /// later `shut_down` ends the wait early.
    ///
    /// The future owns a handle to the queue (it borrows nothing), so it can be spawned or
    /// awaited from another task while workers finish: `tokio::spawn(queue.shut_down_with_drain())`.
    /// For [`WorkQueue`] it is `Send`.
    pub fn shut_down_with_drain(&self) -> impl Future<Output = ()> + 'static
    where
        K: 'static,
    {
        self.with(|core| core.shut_down(true));
        let queue = self.clone();
        async move {
            loop {
                let mut notified = pin!(queue.inner.drained.notified());
                notified.as_mut().enable();
                if queue.with(|core| core.is_drained()) {
                    return;
                }
                notified.await;
            }
        }
    }

    /// Whether `shut_down` or `shut_down_with_drain` was called.
    pub fn is_shutting_down(&self) -> bool {
        self.with(|core| core.is_shutting_down())
    }

    /// A snapshot of the metrics at the current time of the queue's clock (see
    /// [`WorkQueueMetrics`]), after queueing the delayed keys due by now (so `adds` and `depth`
    /// count them, as client-go's loop would have); with the `metrics` feature it also
    /// refreshes the exported gauges.
    pub fn metrics(&self) -> WorkQueueMetrics {
        self.with(Core::metrics)
    }

    /// Heap bytes owned by the queue's bookkeeping (hash table, slots, FIFO, delay heap,
    /// per-key times), not counting heap memory owned by the keys themselves.
    pub fn heap_bytes(&self) -> usize {
        self.with(|core| core.heap_bytes())
    }

    /// Runs `f` on the core, then sends the wake-ups it recorded, outside the lock.
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut Core<K>) -> R) -> R {
        let (out, wakeups) = M::with(&self.inner.core, |core| {
            let out = f(core);
            (out, core.take_wakeups())
        });
        if !wakeups.is_empty() {
            self.wake(wakeups);
        }
        out
    }

    #[cold]
    fn wake(&self, wakeups: Wakeups) {
        if wakeups.all_getters() {
            self.inner.items.notify_waiters();
        } else {
            for _ in 0..wakeups.getters() {
                self.inner.items.notify_one();
            }
        }
        if wakeups.drain_waiters() {
            self.inner.drained.notify_waiters();
        }
    }
}

/// The future returned by [`GenericWorkQueue::get`].
///
/// A hand-written future rather than an `async fn`, so that the common case, a key is queued,
/// costs one locked pop and nothing else: the state a waiting getter needs (its [`Notified`]
/// and, when a delayed key exists, a sleep on the queue's clock until it is due) is allocated
/// only when the getter actually has to wait, which parks its task anyway.
///
/// Waiting follows client-go's condition variable: enable the notification, then check under
/// the lock and register as waiting; an add signals one registered getter. A wake-up, a
/// timeout or a spurious wake all lead to the same thing: unregister, then check again.
#[must_use = "futures do nothing unless polled"]
pub struct Get<'a, K: Hash + Eq + Clone, M: Mode> {
    queue: &'a GenericWorkQueue<K, M>,
    /// Set while this getter is registered as waiting in the core.
    wait: Option<Wait<'a>>,
}

/// What a registered getter waits on.
struct Wait<'a> {
    notified: Pin<Box<Notified<'a>>>,
    /// Until the earliest delayed key is due, if any key is delayed.
    sleep: Option<BoxFuture<'static, ()>>,
}

impl<K: Hash + Eq + Clone, M: Mode> fmt::Debug for Get<'_, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.wait.is_some())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone, M: Mode> Future for Get<'_, K, M> {
    type Output = Option<K>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<K>> {
        let this = &mut *self;
        if this.wait.is_none() {
            if let Some(key) = this.queue.with(Core::try_pop) {
                return Poll::Ready(Some(key));
            }
        }
        this.poll_wait(cx)
    }
}

impl<'a, K: Hash + Eq + Clone, M: Mode> Get<'a, K, M> {
    /// The slow path: nothing was queued at the first look.
    #[cold]
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<Option<K>> {
        loop {
            if let Some(wait) = &mut self.wait {
                let signalled = wait.notified.as_mut().poll(cx).is_ready();
                let due = !signalled
                    && wait
                        .sleep
                        .as_mut()
                        .is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready());
                if !signalled && !due {
                    return Poll::Pending;
                }
                self.stop_waiting();
            }
            // Enable before checking under the lock, so a signal sent in between is not lost.
            let mut notified = Box::pin(self.queue.inner.items.notified());
            notified.as_mut().enable();
            let poll = self.queue.with(|core| {
                let poll = core.poll_get();
                if matches!(poll, GetPoll::Empty { .. }) {
                    core.register_getter();
                }
                poll
            });
            match poll {
                GetPoll::Item(key) => return Poll::Ready(Some(key)),
                GetPoll::ShutDown => return Poll::Ready(None),
                GetPoll::Empty { next_ready } => {
                    self.wait = Some(Wait {
                        notified,
                        sleep: next_ready
                            .map(|deadline| self.queue.inner.clock.sleep_until(deadline)),
                    });
                }
            }
        }
    }

    /// Unregisters this getter (it no longer counts as waiting), then drops what it waited on.
    #[cold]
    fn stop_waiting(&mut self) {
        if let Some(wait) = self.wait.take() {
            self.queue.with(|core| core.unregister_getter());
            drop(wait);
        }
    }
}

/// A getter dropped while it waits stops counting as waiting.
impl<K: Hash + Eq + Clone, M: Mode> Drop for Get<'_, K, M> {
    #[inline]
    fn drop(&mut self) {
        if self.wait.is_some() {
            self.stop_waiting();
        }
    }
}
