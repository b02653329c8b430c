//! [`GenericRateLimitingQueue`] ([`RateLimitingQueue`], [`LocalRateLimitingQueue`]): a workqueue plus a [`RateLimiter`] (client-go
//! `util/workqueue/rate_limiting_queue.go`).

use std::fmt;
use std::hash::Hash;
use std::ops::Deref;

use super::metrics::QueueConfig;
use super::mode::{Local, Mode, ThreadSafe};
use super::queue::GenericWorkQueue;
use crate::rate_limiter::RateLimiter;

/// A [`GenericWorkQueue`] whose `add_rate_limited` delays each key by what the rate limiter says.
///
/// It dereferences to its [`GenericWorkQueue`], so `add`, `get`, `done`, `add_after`, `shut_down` and
/// the rest are available directly. The limiter sits behind its own cell (as in client-go, where
/// the limiter has its own mutex), so the queue's lock is never held while the limiter runs.
///
/// The reconcile loop of a controller uses it like this: on error `add_rate_limited(key)`; on
/// `requeue_after(d)` `forget(&key)` then `add_after(key, d)`; on success `forget(&key)`; in every
/// case `done(&key)`.
pub struct GenericRateLimitingQueue<K, L, M: Mode> {
    queue: GenericWorkQueue<K, M>,
    limiter: M::Ptr<M::Cell<L>>,
}

/// The thread-safe rate-limiting queue ([`ThreadSafe`] mode): see [`GenericRateLimitingQueue`].
pub type RateLimitingQueue<K, L> = GenericRateLimitingQueue<K, L, ThreadSafe>;

/// The single-threaded rate-limiting queue ([`Local`] mode): see [`GenericRateLimitingQueue`].
pub type LocalRateLimitingQueue<K, L> = GenericRateLimitingQueue<K, L, Local>;

impl<K, L, M: Mode> Clone for GenericRateLimitingQueue<K, L, M> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            limiter: self.limiter.clone(),
        }
    }
}

impl<K, L, M: Mode> fmt::Debug for GenericRateLimitingQueue<K, L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericRateLimitingQueue")
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone, L: RateLimiter<K>, M: Mode> GenericRateLimitingQueue<K, L, M> {
    /// An unnamed rate-limiting queue (client-go `NewTypedRateLimitingQueue`).
    pub fn new(limiter: L) -> Self {
        Self::build(QueueConfig::default(), limiter)
    }

    /// A rate-limiting queue with a configuration.
    pub fn with_config(config: QueueConfig, limiter: L) -> Self {
        Self::build(config, limiter)
    }

    fn build(config: QueueConfig, limiter: L) -> Self {
        Self {
            queue: GenericWorkQueue::build(config),
            limiter: M::new_ptr(M::new_cell(limiter)),
        }
    }

    /// Adds `key` after the delay the limiter gives for it (client-go `AddRateLimited`). The
    /// limiter is asked even after shutdown, as in client-go, so its state stays comparable.
    pub fn add_rate_limited(&self, key: K) {
        let delay = M::with(&self.limiter, |limiter| limiter.when(&key));
        self.queue.add_after(key, delay);
    }

    /// Clears the limiter's memory of `key` (its failure count); it does not remove the key
    /// from the queue.
    pub fn forget(&self, key: &K) {
        M::with(&self.limiter, |limiter| limiter.forget(key));
    }

    /// How many times the limiter has delayed `key` since it was last forgotten.
    pub fn num_requeues(&self, key: &K) -> u32 {
        M::with(&self.limiter, |limiter| limiter.num_requeues(key))
    }

    /// The underlying queue.
    pub fn queue(&self) -> &GenericWorkQueue<K, M> {
        &self.queue
    }
}

impl<K, L, M: Mode> Deref for GenericRateLimitingQueue<K, L, M> {
    type Target = GenericWorkQueue<K, M>;

    fn deref(&self) -> &GenericWorkQueue<K, M> {
        &self.queue
    }
}
