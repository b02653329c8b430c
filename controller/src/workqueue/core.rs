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
//! of the slot. An add of a known key costs one hash and one probe; a get costs none; a done costs
//! one hash and one probe. A slot is released, and its key dropped, as soon as the key is neither
//! dirty, processing nor waiting, so memory follows the live keys, not every key ever seen.
//!
//! The core never blocks and never wakes anyone itself: it records in [`Wakeups`] whom the
//! wrapper must notify once the lock is released.
//!
//! [`WorkQueue`]: super::WorkQueue

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use tokio::time::Instant;

use super::delay_heap::DelayHeap;
use super::metrics::{MetricsState, QueueConfig, WorkQueueMetrics};

/// Set from `add` until `get`.
const DIRTY: u8 = 1 << 0;
/// Set from `get` until `done`.
const PROCESSING: u8 = 1 << 1;
/// Set while the key is in the delay heap.
const WAITING: u8 = 1 << 2;

/// Delays are capped here (30 years), as tokio caps far-future sleeps.
const DELAY_MAX: Duration = Duration::from_secs(86_400 * 365 * 30);

fn hash_of<Q: Hash + ?Sized>(key: &Q) -> u64 {
    FxBuildHasher.hash_one(key)
}

#[derive(Debug)]
struct Slot<K> {
    /// `None` while the slot is on the free list.
    key: Option<K>,
    state: u8,
}

/// Whom the wrapper must notify after an operation, outside the lock. Packed into one word, so
/// that the common answer, nobody, costs one compare after every operation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wakeups {
    bits: u32,
}

impl Wakeups {
    /// Wake every waiting getter: client-go's `cond.Broadcast` on shutdown.
    const ALL_GETTERS: u32 = 1 << 31;
    /// Wake `shut_down_with_drain` callers to re-check.
    const DRAIN_WAITERS: u32 = 1 << 30;
    /// The low bits count the waiting getters to wake (`notify_one` each): client-go's
    /// `cond.Signal`. [`Core::register_getter`] keeps the count below this mask.
    const GETTERS_MASK: u32 = Self::DRAIN_WAITERS - 1;

    pub(crate) fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// How many waiting getters to wake one by one.
    pub(crate) fn getters(self) -> u32 {
        self.bits & Self::GETTERS_MASK
    }

    /// Whether to wake every waiting getter.
    pub(crate) fn all_getters(self) -> bool {
        self.bits & Self::ALL_GETTERS != 0
    }

    /// Whether to wake `shut_down_with_drain` callers.
    pub(crate) fn drain_waiters(self) -> bool {
        self.bits & Self::DRAIN_WAITERS != 0
    }
}

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
    table: HashTable<u32>,
    slots: Vec<Slot<K>>,
    /// Released ids, reused last-in first-out (deterministic).
    free: Vec<u32>,
    /// Dirty, non-processing ids in add order.
    fifo: VecDeque<u32>,
    delayed: DelayHeap,
    processing: usize,
    shutting_down: bool,
    drain: bool,
    /// Getters registered as waiting for a key.
    waiting_getters: u32,
    wakeups: Wakeups,
    metrics: MetricsState,
}

impl<K: Hash + Eq + Clone> Core<K> {
    pub(crate) fn new(config: QueueConfig) -> Self {
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
        }
    }

    /// client-go `Add`: a no-op after shutdown or for a dirty key.
    ///
    /// The hot path of an event storm: a key that is already dirty costs one hash, one probe
    /// and one key comparison.
    #[inline]
    pub(crate) fn add(&mut self, key: K) {
        if self.shutting_down {
            return;
        }
        let id = self.intern(key);
        self.mark_dirty(id);
    }

    /// client-go `AddAfter`: `add` now if `delay` is zero, else wait in the heap; for a key
    /// already waiting, the earlier ready time wins.
    pub(crate) fn add_after(&mut self, key: K, delay: Duration) {
        if self.shutting_down {
            return;
        }
        self.metrics.on_retry();
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let ready_at = Instant::now() + delay.min(DELAY_MAX); // det-ok: tokio::time::Instant, the host's simulated clock
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
        assert_eq!(
            slot.state & (DIRTY | PROCESSING),
            DIRTY,
            "invariant: a queued key is dirty and not processing"
        );
        slot.state = (slot.state & !DIRTY) | PROCESSING;
        let key = slot
            .key
            .clone()
            .expect("invariant: a queued slot holds its key");
        self.processing += 1;
        self.metrics.on_get(id);
        Some(key)
    }

    /// client-go `Done`. A key that is not being processed is ignored (client-go would re-queue
    /// it if dirty, a duplicate; here the FIFO never holds a key twice).
    #[inline]
    pub(crate) fn done(&mut self, key: &K) {
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
            return;
        }
        slot.state &= !PROCESSING;
        let state = slot.state;
        if state == 0 {
            // Idle: release the slot without a second probe.
            entry.remove();
            slot.key = None;
            self.free.push(id);
        }
        self.processing -= 1;
        self.metrics.on_done(id);
        if state & DIRTY != 0 {
            self.push_ready(id);
        }
        if self.processing == 0 && self.drain {
            self.wakeups.bits |= Wakeups::DRAIN_WAITERS;
        }
    }

    /// client-go `Len`: queued keys only (not processing, not waiting).
    #[inline]
    pub(crate) fn len(&mut self) -> usize {
        self.promote_due();
        self.fifo.len()
    }

    pub(crate) fn processing_len(&self) -> usize {
        self.processing
    }

    pub(crate) fn delayed_len(&self) -> usize {
        self.delayed.len()
    }

    /// client-go `ShutDown` (`drain == false`) and `ShutDownWithDrain` (`drain == true`):
    /// later adds are ignored, waiting keys are dropped, getters are woken.
    pub(crate) fn shut_down(&mut self, drain: bool) {
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

    pub(crate) fn metrics(&self) -> WorkQueueMetrics {
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

    /// The id of `key`, allocating a slot (state 0) if it is not interned.
    ///
    /// A lookup first (`find`), an insertion only on a miss: in a storm most adds hit, and a
    /// hit through `find` does less than through `entry`, which also looks for a free bucket.
    #[inline]
    fn intern(&mut self, key: K) -> u32 {
        let hash = hash_of(&key);
        let slots = &self.slots;
        match self
            .table
            .find(hash, |&id| slots[id as usize].key.as_ref() == Some(&key))
        {
            Some(&id) => id,
            None => self.insert_new(hash, key),
        }
    }

    /// Interns `key`, which is not interned, under its `hash`.
    fn insert_new(&mut self, hash: u64, key: K) -> u32 {
        let id = match self.free.pop() {
            Some(id) => {
                let slot = &mut self.slots[id as usize];
                assert!(
                    slot.key.is_none() && slot.state == 0,
                    "invariant: free slot"
                );
                slot.key = Some(key);
                id
            }
            None => {
                let id =
                    u32::try_from(self.slots.len()).expect("invariant: fewer than 2^32 live keys");
                self.slots.push(Slot {
                    key: Some(key),
                    state: 0,
                });
                id
            }
        };
        let slots = &self.slots;
        self.table.insert_unique(hash, id, |&id| {
            hash_of(
                slots[id as usize]
                    .key
                    .as_ref()
                    .expect("invariant: an interned slot holds its key"),
            )
        });
        id
    }

    /// Releases `id` if it is neither dirty, processing nor waiting.
    fn release_if_idle(&mut self, id: u32) {
        let slot = &mut self.slots[id as usize];
        if slot.state != 0 {
            return;
        }
        let key = slot
            .key
            .take()
            .expect("invariant: an interned slot holds its key");
        let entry = self
            .table
            .find_entry(hash_of(&key), |&other| other == id)
            .expect("invariant: an interned id is in the table");
        entry.remove();
        self.free.push(id);
    }

    #[inline]
    fn mark_dirty(&mut self, id: u32) {
        let slot = &mut self.slots[id as usize];
        let state = slot.state;
        if state & DIRTY != 0 {
            return;
        }
        slot.state = state | DIRTY;
        self.metrics.on_add(id);
        if state & PROCESSING == 0 {
            self.push_ready(id);
        }
    }

    #[inline]
    fn push_ready(&mut self, id: u32) {
        self.fifo.push_back(id);
        self.wake_one_getter();
    }

    #[inline]
    fn wake_one_getter(&mut self) {
        if self.wakeups.getters() < self.waiting_getters {
            self.wakeups.bits += 1;
        }
    }

    /// Moves every due waiting key to the FIFO, in ready-time order. Reads the clock only if
    /// a key is waiting.
    #[inline]
    fn promote_due(&mut self) {
        if !self.delayed.is_empty() {
            self.promote_due_waiting();
        }
    }

    fn promote_due_waiting(&mut self) {
        let now = Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        while let Some(id) = self.delayed.pop_ready(now) {
            self.slots[id as usize].state &= !WAITING;
            self.mark_dirty(id);
        }
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
    fn slot_state_is_one_byte_beside_the_key() {
        assert_eq!(std::mem::size_of::<Slot<&str>>(), 24);
    }
}
