//! The delaying queue (`util/workqueue/delaying_queue.go`) on simulated time.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use kubesim_controller::WorkQueue;
use tokio::time::{sleep, Instant};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn delayed_keys_come_out_in_ready_order_at_their_ready_time() {
    let queue = WorkQueue::new();
    let start = Instant::now();
    queue.add_after("c", secs(3));
    queue.add_after("a", secs(1));
    queue.add_after("b", secs(2));
    assert_eq!(queue.len(), 0);
    for (key, at) in [("a", 1), ("b", 2), ("c", 3)] {
        assert_eq!(queue.get().await, Some(key));
        assert_eq!(start.elapsed(), secs(at));
        queue.done(&key);
    }
}

#[tokio::test(start_paused = true)]
async fn an_earlier_ready_time_wins_for_a_waiting_key() {
    let queue = WorkQueue::new();
    let start = Instant::now();
    queue.add_after("k", secs(10));
    queue.add_after("k", secs(2));
    queue.add_after("k", secs(5));
    assert_eq!(queue.delayed_len(), 1);
    assert_eq!(queue.get().await, Some("k"));
    assert_eq!(start.elapsed(), secs(2));
    queue.done(&"k");
    sleep(secs(20)).await;
    assert_eq!(queue.len(), 0, "the later ready times left nothing behind");
}

#[tokio::test(start_paused = true)]
async fn keys_with_the_same_ready_time_come_out_in_add_order() {
    let queue = WorkQueue::new();
    for key in [5, 3, 9, 1] {
        queue.add_after(key, secs(1));
    }
    sleep(secs(1)).await;
    let order: Vec<_> = std::iter::from_fn(|| queue.try_get()).collect();
    assert_eq!(order, vec![5, 3, 9, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_zero_delay_adds_at_once() {
    let queue = WorkQueue::new();
    queue.add_after("k", Duration::ZERO);
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.metrics().retries, 1);
}

#[tokio::test(start_paused = true)]
async fn a_due_key_that_is_already_queued_is_not_queued_twice() {
    let queue = WorkQueue::new();
    queue.add_after("k", secs(1));
    queue.add("k");
    sleep(secs(2)).await;
    assert_eq!(queue.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_key_delayed_while_processing_is_requeued_after_done_when_due() {
    let queue = WorkQueue::new();
    queue.add("k");
    let key = queue.get().await.unwrap();
    queue.add_after("k", secs(1));
    sleep(secs(2)).await;
    assert_eq!(queue.len(), 0, "still processing");
    queue.done(&key);
    assert_eq!(queue.try_get(), Some("k"));
}

#[tokio::test(start_paused = true)]
async fn an_earlier_delayed_key_rearms_a_waiting_getter() {
    let queue = WorkQueue::new();
    queue.add_after("late", secs(100));
    let getter = tokio::spawn({
        let queue = queue.clone();
        async move { (queue.get().await, Instant::now()) }
    });
    let start = Instant::now();
    sleep(secs(1)).await;
    queue.add_after("early", secs(1));
    let (key, at) = getter.await.unwrap();
    assert_eq!(key, Some("early"));
    assert_eq!(at - start, secs(2));
}

/// Counts how often the wrapped future is polled.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

#[tokio::test(start_paused = true)]
async fn a_waiting_getter_is_not_woken_until_a_key_is_due() {
    let queue = WorkQueue::new();
    queue.add_after("k", secs(3600));
    let polls = Arc::new(AtomicUsize::new(0));
    let getter = tokio::spawn(CountPolls {
        inner: Box::pin({
            let queue = queue.clone();
            async move { queue.get().await }
        }),
        polls: polls.clone(),
    });
    sleep(secs(3599)).await;
    assert_eq!(polls.load(Ordering::SeqCst), 1, "no heartbeat wake-ups");
    assert_eq!(getter.await.unwrap(), Some("k"));
    assert_eq!(polls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn shut_down_drops_waiting_keys_and_ignores_later_delays() {
    let queue = WorkQueue::new();
    queue.add_after("a", secs(1));
    queue.shut_down();
    queue.add_after("b", secs(1));
    assert_eq!(queue.delayed_len(), 0);
    sleep(secs(2)).await;
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn a_huge_delay_does_not_overflow_the_clock() {
    let queue = WorkQueue::new();
    queue.add_after("k", Duration::MAX);
    assert_eq!(queue.delayed_len(), 1);
    assert_eq!(queue.try_get(), None);
}
