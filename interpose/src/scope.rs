//! The per-thread simulation scope the interposed functions consult.

use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};
use std::cell::{Cell, RefCell};
use std::time::Duration;

/// Where `clock_gettime(CLOCK_REALTIME)` reads inside a scope: time since the Unix epoch.
pub type Clock = fn() -> Duration;

thread_local! {
    static RNG: RefCell<Option<ChaCha12Rng>> = const { RefCell::new(None) };
    static CLOCK: Cell<Option<Clock>> = const { Cell::new(None) };
    static DRAWS: Cell<u64> = const { Cell::new(0) };
    static CONNECTS: Cell<u64> = const { Cell::new(0) };
}

/// An active simulation scope on this thread; dropping it restores the previous one.
#[must_use = "the scope ends when this guard is dropped"]
pub struct Scope {
    previous_rng: Option<ChaCha12Rng>,
    previous_clock: Option<Clock>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Scope {
    /// Enters a scope on this thread: entropy from a ChaCha12 stream seeded with `seed`, the
    /// real-time clock read from `clock`.
    pub fn enter(seed: u64, clock: Clock) -> Self {
        let previous_rng = RNG.with(|r| r.replace(Some(ChaCha12Rng::seed_from_u64(seed))));
        let previous_clock = CLOCK.with(|c| c.replace(Some(clock)));
        Self {
            previous_rng,
            previous_clock,
            _not_send: std::marker::PhantomData,
        }
    }

    /// `getrandom`/`getentropy` calls served from a scope on this thread so far.
    pub fn entropy_draws() -> u64 {
        DRAWS.with(Cell::get)
    }

    /// Real-network `connect` calls refused inside a scope on this thread so far.
    pub fn real_connects() -> u64 {
        CONNECTS.with(Cell::get)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let rng = self.previous_rng.take();
        RNG.with(|r| *r.borrow_mut() = rng);
        CLOCK.with(|c| c.set(self.previous_clock));
    }
}

/// Whether this process's dynamic symbol lookup finds this crate's `getrandom` (the way std and
/// the getrandom crate find it): false when the binary does not export it, for example when it
/// was linked without this crate's object or stripped of its dynamic symbols.
pub fn linked() -> bool {
    crate::ffi::exported()
}

/// Fills `buf` from the scope's stream; `false` when no scope is active on this thread (or the
/// thread is being torn down).
pub(crate) fn fill(buf: &mut [u8]) -> bool {
    RNG.try_with(|r| match r.try_borrow_mut() {
        Ok(mut slot) => match slot.as_mut() {
            Some(rng) => {
                rng.fill_bytes(buf);
                DRAWS.with(|d| d.set(d.get() + 1));
                true
            }
            None => false,
        },
        Err(_) => false,
    })
    .unwrap_or(false)
}

/// The scope's real-time clock, if a scope is active.
pub(crate) fn clock() -> Option<Duration> {
    CLOCK.try_with(Cell::get).ok().flatten().map(|f| f())
}

/// Whether a scope is active on this thread.
pub(crate) fn active() -> bool {
    CLOCK.try_with(Cell::get).ok().flatten().is_some()
}

/// Counts a refused real-network connect.
pub(crate) fn count_connect() {
    let _ = CONNECTS.try_with(|c| c.set(c.get() + 1));
}
