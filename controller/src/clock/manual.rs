//! [`ManualClock`]: a clock that moves only when told to, as client-go's `clock.FakeClock`
//! (`k8s.io/utils/clock/testing`).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::jiff::Timestamp;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{wall_after, Clock};

/// A clock that stands still until [`step`](Self::step) or [`set`](Self::set) moves it
/// (client-go's `FakeClock.Step` and `SetTime`). Cloning gives another handle to the same clock.
///
/// Sleeps end when the clock is moved to or past their deadline, never on their own, so a test
/// decides exactly when delayed keys become due and how much a token bucket has refilled:
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use kubesim_controller::{ManualClock, QueueConfig, WorkQueue};
/// let clock = ManualClock::new();
/// let queue = WorkQueue::with_config(QueueConfig::default().with_clock(clock.clone()));
/// queue.add_after("default/web", Duration::from_secs(5));
/// assert_eq!(queue.try_get(), None);
/// clock.step(Duration::from_secs(5));
/// assert_eq!(queue.try_get(), Some("default/web"));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The current time; sleepers watch it.
    now: watch::Sender<Instant>,
    start: Instant,
    start_wall: Timestamp,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock reading tokio's current instant, with wall time counted from the Unix epoch.
    pub fn new() -> Self {
        Self::starting_at(Instant::now(), Timestamp::UNIX_EPOCH) // det-ok: tokio::time::Instant (simulated under turmoil, paused in tests)
    }

    /// A clock reading `start`, whose wall time reads `start_wall` at that moment.
    pub fn starting_at(start: Instant, start_wall: Timestamp) -> Self {
        Self {
            inner: Arc::new(Inner {
                now: watch::Sender::new(start),
                start,
                start_wall,
            }),
        }
    }

    /// Moves the clock forward by `d` (client-go `FakeClock.Step`), ending the sleeps that are
    /// then due.
    pub fn step(&self, d: Duration) {
        self.inner.now.send_modify(|now| *now += d);
    }

    /// Sets the clock to `t` (client-go `FakeClock.SetTime`), ending the sleeps that are then
    /// due. Setting it back is allowed, as in client-go: nothing waiting becomes due early.
    pub fn set(&self, t: Instant) {
        self.inner.now.send_replace(t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.inner.now.borrow()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        self.sleep_until(self.now() + d)
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let mut now = self.inner.now.subscribe();
        Box::pin(async move {
            loop {
                if *now.borrow_and_update() >= deadline {
                    return;
                }
                if now.changed().await.is_err() {
                    // The clock is gone, so it never moves again.
                    std::future::pending::<()>().await;
                }
            }
        })
    }

    fn timestamp(&self) -> Timestamp {
        wall_after(
            self.inner.start_wall,
            self.now().saturating_duration_since(self.inner.start),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn a_sleep_ends_only_once_the_clock_is_moved_to_its_deadline() {
        let clock = ManualClock::new();
        let mut sleep = clock.sleep(Duration::from_secs(2));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(sleep.as_mut().poll(&mut cx), Poll::Pending);
        clock.step(Duration::from_secs(1));
        assert_eq!(sleep.as_mut().poll(&mut cx), Poll::Pending);
        clock.set(clock.now() + Duration::from_secs(1));
        assert_eq!(sleep.as_mut().poll(&mut cx), Poll::Ready(()));
    }

    #[test]
    fn wall_time_follows_the_manual_clock() {
        let clock = ManualClock::new();
        let before = clock.timestamp();
        clock.step(Duration::from_secs(90));
        assert_eq!(clock.timestamp().duration_since(before).as_secs(), 90);
    }
}
