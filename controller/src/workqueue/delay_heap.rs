//! An indexed binary min-heap of interned key ids ordered by ready time.
//!
//! client-go keeps waiting items in `waitForPriorityQueue` plus a `knownEntries` map so that an
//! earlier `AddAfter` for an item already waiting moves it forward
//! (`util/workqueue/delaying_queue.go`, `insert`). Here the key is already interned to a dense id,
//! so the map becomes a position vector indexed by id and "move forward" is a sift-up.
//!
//! Ties on ready time are broken by insertion sequence (the order of the calls that set the ready
//! times: a push, or a `lower` that moved an id forward), so the order is a pure function of the
//! calls made: no hashing, no address comparison. client-go orders its heap by `readyAt` alone
//! with `container/heap`, which is not stable, so equal ready times come out in an order that
//! depends on the heap's shape; insertion order is the deterministic choice among the orders it
//! can produce.

use tokio::time::Instant;

/// Marks an id that is not in the heap.
const ABSENT: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    ready_at: Instant,
    seq: u64,
    id: u32,
}

impl Entry {
    fn before(&self, other: &Entry) -> bool {
        (self.ready_at, self.seq) < (other.ready_at, other.seq)
    }
}

/// Min-heap on `(ready_at, insertion sequence)` with decrease-key by id.
#[derive(Debug, Default)]
pub(crate) struct DelayHeap {
    entries: Vec<Entry>,
    /// `positions[id]` is the index of `id` in `entries`, or [`ABSENT`].
    /// Grown lazily: a queue that never delays allocates nothing here.
    positions: Vec<u32>,
    next_seq: u64,
}

impl DelayHeap {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The earliest ready time, if any id is waiting.
    pub(crate) fn next_ready(&self) -> Option<Instant> {
        self.entries.first().map(|e| e.ready_at)
    }

    /// The ready time of `id`, if it is waiting.
    #[cfg(test)]
    pub(crate) fn ready_at(&self, id: u32) -> Option<Instant> {
        let pos = *self.positions.get(id as usize)?;
        (pos != ABSENT).then(|| self.entries[pos as usize].ready_at)
    }

    /// Inserts `id`, which must not be waiting yet.
    pub(crate) fn push(&mut self, id: u32, ready_at: Instant) {
        let idx = id as usize;
        if self.positions.len() <= idx {
            self.positions.resize(idx + 1, ABSENT);
        }
        assert_eq!(self.positions[idx], ABSENT, "id {id} is already waiting");
        let seq = self.next_seq;
        self.next_seq += 1;
        let pos = self.entries.len();
        self.entries.push(Entry { ready_at, seq, id });
        self.positions[idx] = u32::try_from(pos).expect("invariant: fewer than 2^32 waiting ids");
        self.sift_up(pos);
    }

    /// Moves `id` to `ready_at` if that is earlier than its current ready time.
    /// Returns whether it moved.
    pub(crate) fn lower(&mut self, id: u32, ready_at: Instant) -> bool {
        let pos = self.positions[id as usize];
        assert_ne!(pos, ABSENT, "id {id} is not waiting");
        let pos = pos as usize;
        if ready_at >= self.entries[pos].ready_at {
            return false;
        }
        self.entries[pos].ready_at = ready_at;
        self.entries[pos].seq = self.next_seq;
        self.next_seq += 1;
        self.sift_up(pos);
        true
    }

    /// Removes and returns the earliest id, with its ready time, if it is ready at `now`.
    pub(crate) fn pop_ready(&mut self, now: Instant) -> Option<(u32, Instant)> {
        let first = self.entries.first()?;
        if first.ready_at > now {
            return None;
        }
        let ready_at = first.ready_at;
        Some((self.remove_at(0), ready_at))
    }

    /// Calls `f` for every id ready at `now`, in no particular order, removing nothing.
    ///
    /// Visits only the due entries and their direct children: below an entry that is not due,
    /// nothing is (heap order). The recursion is as deep as the heap, under 32 levels.
    pub(crate) fn for_each_due(&self, now: Instant, mut f: impl FnMut(u32)) {
        self.visit_due(0, now, &mut f);
    }

    fn visit_due(&self, pos: usize, now: Instant, f: &mut impl FnMut(u32)) {
        let Some(entry) = self.entries.get(pos) else {
            return;
        };
        if entry.ready_at > now {
            return;
        }
        f(entry.id);
        self.visit_due(2 * pos + 1, now, f);
        self.visit_due(2 * pos + 2, now, f);
    }

    /// Removes every waiting id, in heap-array order (deterministic), and returns them.
    pub(crate) fn take_all(&mut self) -> Vec<u32> {
        let ids: Vec<u32> = self.entries.drain(..).map(|e| e.id).collect();
        for &id in &ids {
            self.positions[id as usize] = ABSENT;
        }
        ids
    }

    /// Heap bytes owned by this structure.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.positions.capacity() * std::mem::size_of::<u32>()
    }

    fn remove_at(&mut self, pos: usize) -> u32 {
        let last = self.entries.len() - 1;
        self.swap(pos, last);
        let entry = self.entries.pop().expect("invariant: heap is non-empty");
        self.positions[entry.id as usize] = ABSENT;
        if pos < self.entries.len() {
            self.sift_down(pos);
        }
        entry.id
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.entries.swap(a, b);
        self.positions[self.entries[a].id as usize] = a as u32;
        self.positions[self.entries[b].id as usize] = b as u32;
    }

    fn sift_up(&mut self, mut pos: usize) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !self.entries[pos].before(&self.entries[parent]) {
                break;
            }
            self.swap(pos, parent);
            pos = parent;
        }
    }

    fn sift_down(&mut self, mut pos: usize) {
        let len = self.entries.len();
        loop {
            let left = 2 * pos + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.entries[right].before(&self.entries[left]) {
                right
            } else {
                left
            };
            if !self.entries[child].before(&self.entries[pos]) {
                break;
            }
            self.swap(pos, child);
            pos = child;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn heap_pops_in_ready_order_and_breaks_ties_by_insertion() {
        let t0 = Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        let mut heap = DelayHeap::default();
        heap.push(3, t0 + Duration::from_secs(3));
        heap.push(1, t0 + Duration::from_secs(1));
        heap.push(7, t0 + Duration::from_secs(1));
        heap.push(2, t0 + Duration::from_secs(2));
        let far = t0 + Duration::from_secs(10);
        let mut due = Vec::new();
        heap.for_each_due(t0 + Duration::from_secs(2), |id| due.push(id));
        due.sort_unstable();
        assert_eq!(
            due,
            vec![1, 2, 7],
            "due ids are visited without being removed"
        );
        let order: Vec<u32> =
            std::iter::from_fn(|| heap.pop_ready(far).map(|(id, _)| id)).collect();
        assert_eq!(order, vec![1, 7, 2, 3]);
    }

    #[test]
    fn lowering_a_ready_time_moves_the_id_forward_and_raising_it_is_ignored() {
        let t0 = Instant::now(); // det-ok: tokio::time::Instant, the host's simulated clock
        let mut heap = DelayHeap::default();
        heap.push(0, t0 + Duration::from_secs(5));
        heap.push(1, t0 + Duration::from_secs(2));
        assert!(heap.lower(0, t0 + Duration::from_secs(1)));
        assert!(!heap.lower(1, t0 + Duration::from_secs(9)));
        assert_eq!(
            heap.pop_ready(t0 + Duration::from_secs(1)),
            Some((0, t0 + Duration::from_secs(1)))
        );
        assert_eq!(heap.pop_ready(t0 + Duration::from_secs(1)), None);
        assert_eq!(heap.ready_at(1), Some(t0 + Duration::from_secs(2)));
    }
}
