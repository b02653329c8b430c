//! How a queue's state is shared: [`ThreadSafe`] (`Arc<Mutex<_>>`, the default, for production
//! on a multi-threaded runtime) or [`Local`] (`Rc<RefCell<_>>`, `!Send`, for one simulated host
//! or any current-thread runtime). Both run the same core algorithm; only the cell differs.

use std::cell::RefCell;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use parking_lot::Mutex;

mod sealed {
    pub trait Sealed {}
}

/// The sharing mode of a queue: [`ThreadSafe`] or [`Local`]. Sealed.
pub trait Mode: sealed::Sealed + Sized + 'static {
    /// The shared pointer: `Arc` or `Rc`.
    #[doc(hidden)]
    type Ptr<T>: Clone + Deref<Target = T>;
    /// The interior-mutability cell: `Mutex` or `RefCell`.
    #[doc(hidden)]
    type Cell<T>;
    #[doc(hidden)]
    fn new_ptr<T>(value: T) -> Self::Ptr<T>;
    #[doc(hidden)]
    fn new_cell<T>(value: T) -> Self::Cell<T>;
    /// Runs `f` with exclusive access. `f` never awaits and never re-enters the queue.
    #[doc(hidden)]
    fn with<T, R>(cell: &Self::Cell<T>, f: impl FnOnce(&mut T) -> R) -> R;
}

/// `Send + Sync` queues behind an `Arc<Mutex<_>>` (`parking_lot`'s: uncontended, a lock and an
/// unlock are one compare-and-swap each); the lock is held only for a few instructions and never
/// across an `.await`.
///
/// `parking_lot` has no lock poisoning, so the cell keeps its own: a flag set while the state is
/// being changed stays set if that change panics (an invariant failed), and every later access
/// panics instead of running on a half-updated queue, as with a poisoned std `Mutex`.
#[derive(Debug)]
pub enum ThreadSafe {}

/// Single-threaded queues behind an `Rc<RefCell<_>>`: no atomic operations at all.
/// For turmoil hosts (each host is one current-thread runtime) and other `!Send` contexts.
#[derive(Debug)]
pub enum Local {}

impl sealed::Sealed for ThreadSafe {}
impl sealed::Sealed for Local {}

impl Mode for ThreadSafe {
    type Ptr<T> = Arc<T>;
    type Cell<T> = Mutex<Poisonable<T>>;

    fn new_ptr<T>(value: T) -> Arc<T> {
        Arc::new(value)
    }

    fn new_cell<T>(value: T) -> Mutex<Poisonable<T>> {
        Mutex::new(Poisonable {
            changing: false,
            value,
        })
    }

    #[inline]
    fn with<T, R>(cell: &Mutex<Poisonable<T>>, f: impl FnOnce(&mut T) -> R) -> R {
        let mut guard = cell.lock();
        assert!(
            !guard.changing,
            "workqueue lock poisoned: an invariant failed in another thread"
        );
        guard.changing = true;
        let out = f(&mut guard.value);
        guard.changing = false;
        out
    }
}

/// A value with a poison flag: see [`ThreadSafe`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Poisonable<T> {
    /// Set while `with` runs; still set afterwards only if it panicked.
    changing: bool,
    value: T,
}

impl Mode for Local {
    type Ptr<T> = Rc<T>;
    type Cell<T> = RefCell<T>;

    fn new_ptr<T>(value: T) -> Rc<T> {
        Rc::new(value)
    }

    fn new_cell<T>(value: T) -> RefCell<T> {
        RefCell::new(value)
    }

    #[inline]
    fn with<T, R>(cell: &RefCell<T>, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut cell.borrow_mut())
    }
}
