//! [`Wakeups`]: whom a queue wrapper must notify after an operation, outside the lock.

/// Whom the wrapper must notify after an operation, outside the lock. Packed into one word, so
/// that the common answer, nobody, costs one compare after every operation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wakeups {
    pub(super) bits: u32,
}

impl Wakeups {
    /// Wake every waiting getter: client-go's `cond.Broadcast` on shutdown.
    pub(super) const ALL_GETTERS: u32 = 1 << 31;
    /// Wake `shut_down_with_drain` callers to re-check.
    pub(super) const DRAIN_WAITERS: u32 = 1 << 30;
    /// The low bits count the waiting getters to wake (`notify_one` each): client-go's
    /// `cond.Signal`. `Core::register_getter` keeps the count below this mask.
    pub(super) const GETTERS_MASK: u32 = Self::DRAIN_WAITERS - 1;

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
