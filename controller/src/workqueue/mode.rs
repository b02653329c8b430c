//! How a queue's state is shared: [`ThreadSafe`] (`Arc<Mutex<_>>`, the default, for production
//! on a multi-threaded runtime) or [`Local`] (`Rc<RefCell<_>>`, `!Send`, for one simulated host
//! or any current-thread runtime). Both run the same core algorithm; only the cell differs.

use std::cell::RefCell;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

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

/// `Send + Sync` queues behind an `Arc<Mutex<_>>`; the lock is held only for a few
/// instructions and never across an `.await`.
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
    type Cell<T> = Mutex<T>;

    fn new_ptr<T>(value: T) -> Arc<T> {
        Arc::new(value)
    }

    fn new_cell<T>(value: T) -> Mutex<T> {
        Mutex::new(value)
    }

    fn with<T, R>(cell: &Mutex<T>, f: impl FnOnce(&mut T) -> R) -> R {
        let mut guard = cell
            .lock()
            .expect("workqueue lock poisoned: an invariant failed in another thread");
        f(&mut guard)
    }
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

    fn with<T, R>(cell: &RefCell<T>, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut cell.borrow_mut())
    }
}
