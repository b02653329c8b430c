//! The workqueue algorithm, single-threaded and synchronous: both [`WorkQueue`] modes wrap it.
//!
//! Semantics are client-go's (`util/workqueue/queue.go`, `Add`/`Get`/`Done`;
//! `util/workqueue/delaying_queue.go`, `AddAfter` and the waiting loop):
//!
//! - a key is *dirty* from `add` until `get` hands it out; adding a dirty key is a no-op;
//! - a key is *processing* from `get` until `done`; adding it meanwhile only marks it dirty and
//!   `done` puts it back at the tail of the FIFO, so no two workers ever hold the same key;
//! - a key is *waiting* while it sits in the delay heap; when it is due it is added as above.
//!
//! client-go keeps a `dirty` set, a `processing` set and a FIFO of keys, so every add hashes the
//! key into two sets. Here each key is interned once to a dense `u32` id (a hash table of ids
//! whose keys live in a slot vector, so a key is stored once) and the three sets become three bits
//! of the slot, beside a count of the key's places in the FIFO. An add of a known key costs one
//! hash and one probe; a get costs none; a done costs one hash and one probe. A slot is released,
//! and its key dropped, as soon as the key is neither dirty, processing, waiting nor in the FIFO,
//! so memory follows the live keys, not every key ever seen. Interning is in `slots.rs`.
//!
//! # Delayed keys without a background loop
//!
//! client-go's waiting loop adds a delayed key at its ready time, so it is queued before anything
//! done after that time. There is no loop here: every operation that changes the queue (`add`,
//! `add_after`, `get`, `done`, `shut_down`, and a metrics snapshot) first adds every key due at
//! the current time, in ready-time order ([`Core::promote_due`]), which is exactly the state the
//! loop would have left. A key is due when its ready time is not after now (client-go:
//! `!readyAt.After(now)`). Queries (`len`, `delayed_len`) change nothing: they count due keys as
//! if they had been moved.
//!
//! # `done` for a key that is not being processed
//!
//! client-go's `Done` removes the key from the processing set and, if the key is dirty, pushes it
//! onto the FIFO, whether or not it was processing. So `done` for a key that is queued and not
//! processing puts a second copy in the FIFO: `len` counts it, and two `get`s hand the key out
//! twice, possibly to two workers at once. This core does the same (each slot counts its FIFO
//! places); a worker that only calls `done` for keys it got never reaches this path.
//!
//! The core never blocks and never wakes anyone itself: it records in [`Wakeups`] whom the
//! wrapper must notify once the lock is released.
//!
//! [`WorkQueue`]: super::WorkQueue

use std::collections::VecDeque;
use std::hash::Hash;
use std::time::Duration;

use hashbrown::HashTable;
use tokio::time::Instant;

use super::delay_heap::DelayHeap;
use super::metrics::{MetricsState, QueueConfig, WorkQueueMetrics};
use super::slots::{hash_of, Slot};
pub(crate) use super::wakeups::Wakeups;
use crate::clock::ClockHandle;

/// Set from `add` until `get`.
const DIRTY: u8 = 1 << 0;
/// Set from `get` until `done`.
const PROCESSING: u8 = 1 << 1;
/// Set while the key is in the delay heap.
const WAITING: u8 = 1 << 2;

/// Delays are capped here (30 years), as tokio caps far-future sleeps.
const DELAY_MAX: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The outcome of trying to take a key without waiting.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GetPoll<K> {
    /// A key, now processing.
    Item(K),
    /// The queue is shutting down and holds no queued key.
    ShutDown,
    /// Nothing queued; the earliest waiting key becomes due at `next_ready`.
    Empty { next_ready: Option<Instant> },
}

/// The workqueue state. See the module documentation.
#[derive(Debug)]
pub(crate) struct Core<K> {
    /// Interned ids; hashed and compared through `slots`.
    pub(super) table: HashTable<u32>,
    pub(super) slots: Vec<Slot<K>>,
    /// Released ids, reused last-in first-out (deterministic).
    pub(super) free: Vec<u32>,
    /// Queued ids in add order; each is dirty and not processing, except after `done` for a key
    /// that was not processing (see the module documentation).
    fifo: VecDeque<u32>,
    delayed: DelayHeap,
    /// Distinct keys being processed.
    processing: usize,
    shutting_down: bool,
    drain: bool,
    /// Getters registered as waiting for a key.
    waiting_getters: u32,
    wakeups: Wakeups,
    metrics: MetricsState,
    clock: ClockHandle,
}

impl<K: Hash + Eq + Clone> Core<K> {
    pub(crate) fn new(config: QueueConfig) -> Self {
        let clock = config.clock.clone();
        Self {
            table: HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            fifo: VecDeque::new(),
            delayed: DelayHeap::default(),
            processing: 0,
            shutting_down: false,
            drain: false,
            waiting_getters: 0,
            wakeups: Wakeups::default(),
            metrics: MetricsState::new(config),
            clock,
        }
    }

    /// client-go `Add`: a no-op after shutdown or for a dirty key.
    ///
    /// The hot path of an event storm: a key that is already dirty costs one hash, one probe
    /// and one key comparison (plus one test for due delayed keys).
    ///
    /// `inline(always)` with `intern` out of line: the layout the W1/W2 benchmarks ran fastest
    /// with (checked with callgrind and CPU time).
    #[inline(always)]
    pub(crate) fn add(&mut self, key: K) {
        self.promote_due();
        if self.shutting_down {
            return;
        }
        let id = self.intern(key);
        self.mark_dirty(id);
    }

    /// client-go `AddAfter`: `add` now if `delay` is zero (client-go: `duration <= 0`), else
    /// wait in the heap; for a key already waiting, the earlier ready time wins.
    pub(crate) fn add_after(&mut self, key: K, delay: Duration) {
        if self.shutting_down {
            return;
        }
        self.metrics.on_retry();
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let now = self.clock.now();
        // A due entry for this key must be queued first, as client-go's loop did at its ready
        // time; the new delay then starts a fresh wait.
        self.promote_due_at(now);
        let ready_at = now + delay.min(DELAY_MAX);
        let earliest_before = self.delayed.next_ready();
        let id = self.intern(key);
        let slot = &mut self.slots[id as usize];
        if slot.state & WAITING != 0 {
            if !self.delayed.lower(id, ready_at) {
                return;
            }
        } else {
            slot.state |= WAITING;
            self.delayed.push(id, ready_at);
        }
        // A new earliest deadline: one waiting getter must re-arm its timer.
        if earliest_before.is_none_or(|t| ready_at < t) {
            self.wake_one_getter();
        }
    }

    /// client-go `Get` without blocking.
    pub(crate) fn poll_get(&mut self) -> GetPoll<K> {
        if let Some(key) = self.try_pop() {
            return GetPoll::Item(key);
        }
        if self.shutting_down {
            return GetPoll::ShutDown;
        }
        GetPoll::Empty {
            next_ready: self.delayed.next_ready(),
        }
    }

    /// The first queued key, now processing; `None` if nothing is queued (shutting down or not).
    #[inline]
    pub(crate) fn try_pop(&mut self) -> Option<K> {
        self.promote_due();
        let id = self.fifo.pop_front()?;
        let slot = &mut self.slots[id as usize];
        assert!(
            slot.queued > 0,
            "invariant: a queued slot counts its places in the FIFO"
        );
        slot.queued -= 1;
        let state = slot.state;
        slot.state = (state & !DIRTY) | PROCESSING;
        let key = slot
            .key
            .clone()
            .expect("invariant: a queued slot holds its key");
        if state & PROCESSING == 0 {
            self.processing += 1;
        }
        self.metrics.on_get(id);
        Some(key)
    }

    /// client-go `Done`: the key stops processing and, if it is dirty, goes back to the FIFO.
    /// For a key that is not processing, that push is a second copy, as in client-go (see the
    /// module documentation); an unknown key is ignored.
    #[inline]
    pub(crate) fn done(&mut self, key: &K) {
        self.promote_due();
        let hash = hash_of(key);
        let slots = &self.slots;
        let Ok(entry) = self
            .table
            .find_entry(hash, |&id| slots[id as usize].key.as_ref() == Some(key))
        else {
            return;
        };
        let id = *entry.get();
        let slot = &mut self.slots[id as usize];
        if slot.state & PROCESSING == 0 {
            if slot.state & DIRTY != 0 {
                self.push_copy(id);
            }
            return;
        }
        let state = slot.state & !PROCESSING;
        slot.state = state;
        let requeue = state & DIRTY != 0;
        if requeue {
            slot.queued += 1;
        } else if slot.is_idle() {
            // Idle: release the slot without a second probe.
            entry.remove();
            slot.key = None;
            self.free.push(id);
        }
        self.processing -= 1;
        self.metrics.on_done(id);
        if requeue {
            self.push_ready(id);
        }
        if self.processing == 0 && self.drain {
            self.wakeups.bits |= Wakeups::DRAIN_WAITERS;
        }
    }

    /// client-go `Len`: queued keys only (not processing, not waiting), counting the keys due
    /// now as queued if client-go's loop would have queued them. Changes nothing.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        if self.delayed.is_empty() {
            return self.fifo.len();
        }
        self.fifo.len() + self.due_to_queue()
    }

    pub(crate) fn processing_len(&self) -> usize {
        self.processing
    }

    /// Keys waiting for their ready time; those due now count as moved. Changes nothing.
    pub(crate) fn delayed_len(&self) -> usize {
        if self.delayed.is_empty() {
            return 0;
        }
        let mut due = 0;
        self.delayed.for_each_due(self.clock.now(), |_| due += 1);
        self.delayed.len() - due
    }

    /// client-go `ShutDown` (`drain == false`) and `ShutDownWithDrain` (`drain == true`):
    /// later adds are ignored, waiting keys are dropped (those due now are queued first, as
    /// client-go's loop queued them at their ready time), getters are woken.
    pub(crate) fn shut_down(&mut self, drain: bool) {
        self.promote_due();
        self.shutting_down = true;
        self.drain = drain;
        for id in self.delayed.take_all() {
            self.slots[id as usize].state &= !WAITING;
            self.release_if_idle(id);
        }
        self.wakeups.bits |= Wakeups::ALL_GETTERS | Wakeups::DRAIN_WAITERS;
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Whether a `shut_down_with_drain` caller may return: nothing is processing, or a plain
    /// `shut_down` cancelled the drain.
    pub(crate) fn is_drained(&self) -> bool {
        self.processing == 0 || !self.drain
    }

    pub(crate) fn register_getter(&mut self) {
        assert!(
            self.waiting_getters < Wakeups::GETTERS_MASK,
            "invariant: fewer than 2^30 getters wait on one queue"
        );
        self.waiting_getters += 1;
    }

    pub(crate) fn unregister_getter(&mut self) {
        assert!(self.waiting_getters > 0, "invariant: getter was registered");
        self.waiting_getters -= 1;
        let getters = self.wakeups.getters().min(self.waiting_getters);
        self.wakeups.bits = (self.wakeups.bits & !Wakeups::GETTERS_MASK) | getters;
    }

    #[inline]
    pub(crate) fn take_wakeups(&mut self) -> Wakeups {
        std::mem::take(&mut self.wakeups)
    }

    /// A metrics snapshot, after queueing the keys due now (so that `adds` and `depth` count
    /// them, as client-go's would).
    pub(crate) fn metrics(&mut self) -> WorkQueueMetrics {
        self.promote_due();
        self.metrics.snapshot()
    }

    /// Heap bytes owned by the queue's bookkeeping, not counting heap memory the keys own.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.allocation_size()
            + self.slots.capacity() * std::mem::size_of::<Slot<K>>()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + self.fifo.capacity() * std::mem::size_of::<u32>()
            + self.delayed.heap_bytes()
            + self.metrics.heap_bytes()
    }

    /// client-go `Add` for an interned id.
    #[inline]
    fn mark_dirty(&mut self, id: u32) {
        let slot = &mut self.slots[id as usize];
        let state = slot.state;
        if state & DIRTY != 0 {
            return;
        }
        slot.state = state | DIRTY;
        let queue = state & PROCESSING == 0;
        if queue {
            slot.queued += 1;
        }
        self.metrics.on_add(id);
        if queue {
            self.push_ready(id);
        }
    }

    /// Appends `id`, whose `queued` count already includes this place, and signals a getter.
    #[inline]
    fn push_ready(&mut self, id: u32) {
        self.fifo.push_back(id);
        self.wake_one_getter();
    }

    /// client-go's `Done` for a dirty key that is not processing: a second place in the FIFO.
    #[cold]
    #[inline(never)]
    fn push_copy(&mut self, id: u32) {
        self.slots[id as usize].queued += 1;
        self.push_ready(id);
    }

    #[inline]
    fn wake_one_getter(&mut self) {
        if self.wakeups.getters() < self.waiting_getters {
            self.wakeups.bits += 1;
        }
    }

    /// Moves every key due now to the FIFO, in ready-time order (ties in the order of the
    /// `add_after` calls that set the ready times). Reads the clock only if a key is waiting.
    #[inline]
    fn promote_due(&mut self) {
        if !self.delayed.is_empty() {
            self.promote_due_waiting();
        }
    }

    /// Kept out of line so that `add`, `get` and `done` stay small enough to inline.
    #[cold]
    #[inline(never)]
    fn promote_due_waiting(&mut self) {
        let now = self.clock.now();
        self.promote_due_at(now);
    }

    /// Moves the keys due at `now`; the common case, none is due, costs one comparison.
    #[inline]
    fn promote_due_at(&mut self, now: Instant) {
        if self.delayed.next_ready().is_some_and(|t| t <= now) {
            self.promote_due_keys(now);
        }
    }

    #[cold]
    #[inline(never)]
    fn promote_due_keys(&mut self, now: Instant) {
        while let Some((id, ready_at)) = self.delayed.pop_ready(now) {
            let slot = &mut self.slots[id as usize];
            slot.state &= !WAITING;
            let was_dirty = slot.state & DIRTY != 0;
            self.mark_dirty(id);
            if !was_dirty {
                // client-go's loop added it at its ready time.
                self.metrics.backdate_add(id, ready_at);
            }
        }
    }

    /// How many of the keys due now `promote_due` would put in the FIFO: those neither dirty
    /// (already queued, or to be re-queued by `done`) nor processing (`done` re-queues them).
    fn due_to_queue(&self) -> usize {
        let mut count = 0;
        self.delayed.for_each_due(self.clock.now(), |id| {
            if self.slots[id as usize].state & (DIRTY | PROCESSING) == 0 {
                count += 1;
            }
        });
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<K>(poll: GetPoll<K>) -> K {
        match poll {
            GetPoll::Item(k) => k,
            _ => panic!("expected an item"),
        }
    }

    #[test]
    fn an_idle_key_releases_its_slot_and_the_slot_is_reused() {
        let mut core = Core::new(QueueConfig::default());
        core.add("a");
        let a = item(core.poll_get());
        core.done(&a);
        assert_eq!(core.table.len(), 0);
        assert_eq!(core.free, vec![0]);
        core.add("b");
        assert_eq!(core.free, Vec::<u32>::new());
        assert_eq!(core.slots.len(), 1);
        assert_eq!(item(core.poll_get()), "b");
    }

    #[test]
    fn a_slot_with_a_second_fifo_place_is_kept_until_that_place_is_taken() {
        let mut core = Core::new(QueueConfig::default());
        core.add("a");
        core.done(&"a");
        let a = item(core.poll_get());
        core.done(&a);
        assert_eq!(core.table.len(), 1, "the second copy still names the slot");
        assert_eq!(item(core.poll_get()), "a");
        core.done(&"a");
        assert_eq!(core.table.len(), 0);
        assert_eq!(core.processing_len(), 0);
    }

    #[test]
    fn slot_state_and_fifo_count_fit_beside_the_key() {
        assert_eq!(std::mem::size_of::<Slot<&str>>(), 24);
        assert_eq!(std::mem::size_of::<Slot<String>>(), 32);
    }
}
