//! Interned keys: each key is stored once, in a slot of [`Core`]'s slot vector, and named by a
//! dense `u32` id; a hash table of ids (hashed and compared through the slots) finds a key's id,
//! and released ids go on a free list, reused last-in first-out so ids are deterministic.
//!
//! A slot carries the key's queue state beside it (see [`Slot`]); it is released, and its key
//! dropped, as soon as the key is neither dirty, processing, waiting nor in the FIFO.

use std::hash::{BuildHasher, Hash};

use rustc_hash::FxBuildHasher;

use super::core::Core;

/// The hash of a key: FxHash, a fixed hasher (deterministic, never iterated).
pub(super) fn hash_of<Q: Hash + ?Sized>(key: &Q) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// One interned key and its queue state, 24 bytes beside a `&str` key (a test in `core.rs`).
#[derive(Debug)]
pub(super) struct Slot<K> {
    /// `None` while the slot is on the free list.
    pub(super) key: Option<K>,
    /// How many times the id is in the FIFO: 1 while the key waits there, 0 otherwise, more only
    /// after `done` for a key that was queued and not processing (see `core.rs`).
    pub(super) queued: u32,
    /// `DIRTY`, `PROCESSING` and `WAITING` bits (see `core.rs`).
    pub(super) state: u8,
}

impl<K> Slot<K> {
    /// Neither dirty, processing, waiting nor in the FIFO: the slot may be released.
    pub(super) fn is_idle(&self) -> bool {
        self.state == 0 && self.queued == 0
    }
}

impl<K: Hash + Eq + Clone> Core<K> {
    /// The id of `key`, allocating a slot (state 0) if it is not interned.
    ///
    /// A lookup first (`find`), an insertion only on a miss: in a storm most adds hit, and a
    /// hit through `find` does less than through `entry`, which also looks for a free bucket.
    #[inline(never)]
    pub(super) fn intern(&mut self, key: K) -> u32 {
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
                assert!(slot.key.is_none() && slot.is_idle(), "invariant: free slot");
                slot.key = Some(key);
                id
            }
            None => {
                let id =
                    u32::try_from(self.slots.len()).expect("invariant: fewer than 2^32 live keys");
                self.slots.push(Slot {
                    key: Some(key),
                    queued: 0,
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

    /// Releases `id` if it is neither dirty, processing, waiting nor in the FIFO.
    pub(super) fn release_if_idle(&mut self, id: u32) {
        let slot = &mut self.slots[id as usize];
        if !slot.is_idle() {
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
}
