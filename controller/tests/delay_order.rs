//! Where a delayed key lands in the FIFO: client-go's waiting loop
//! (`util/workqueue/delaying_queue.go`) adds it at its ready time, so it comes before anything
//! added, re-queued or taken after that time. These tests run with every worker busy (nobody
//! waits in `get`), the case where a lazily moved key could otherwise jump the queue.

use std::time::Duration;

use kubesim_controller::{LocalWorkQueue, QueueConfig, WorkQueue};
use tokio::time::sleep;

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Takes every queued key without waiting.
fn drain<K: std::hash::Hash + Eq + Clone>(queue: &WorkQueue<K>) -> Vec<K> {
    std::iter::from_fn(|| queue.try_get()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_key_added_after_a_delayed_key_became_due_comes_after_it() {
    let queue = WorkQueue::new();
    queue.add_after("delayed", secs(1));
    sleep(secs(2)).await;
    queue.add("later");
    assert_eq!(drain(&queue), vec!["delayed", "later"]);
}

#[tokio::test(start_paused = true)]
async fn a_key_added_before_a_delayed_key_became_due_comes_before_it() {
    let queue = WorkQueue::new();
    queue.add_after("delayed", secs(1));
    queue.add("earlier");
    sleep(secs(2)).await;
    assert_eq!(drain(&queue), vec!["earlier", "delayed"]);
}

#[tokio::test(start_paused = true)]
async fn a_key_whose_ready_time_is_now_is_due() {
    let queue = WorkQueue::new();
    queue.add_after("delayed", secs(1));
    sleep(secs(1)).await;
    queue.add("now");
    assert_eq!(drain(&queue), vec!["delayed", "now"]);
}

#[tokio::test(start_paused = true)]
async fn a_zero_delay_add_after_comes_after_a_key_that_is_already_due() {
    let queue = WorkQueue::new();
    queue.add_after("delayed", secs(1));
    sleep(secs(3)).await;
    queue.add_after("immediate", Duration::ZERO);
    assert_eq!(drain(&queue), vec!["delayed", "immediate"]);
}

#[tokio::test(start_paused = true)]
async fn due_keys_are_queued_in_ready_time_order_before_a_later_add() {
    let queue = WorkQueue::new();
    queue.add_after("third", secs(3));
    queue.add_after("first", secs(1));
    queue.add_after("second", secs(2));
    queue.add_after("not-yet", secs(10));
    sleep(secs(5)).await;
    queue.add("later");
    assert_eq!(drain(&queue), vec!["first", "second", "third", "later"]);
    sleep(secs(5)).await;
    assert_eq!(drain(&queue), vec!["not-yet"]);
}

#[tokio::test(start_paused = true)]
async fn equal_ready_times_are_queued_in_the_order_of_the_add_after_calls() {
    let queue = WorkQueue::new();
    for key in ["d", "b", "a", "c"] {
        queue.add_after(key, secs(1));
    }
    sleep(secs(2)).await;
    queue.add("later");
    assert_eq!(drain(&queue), vec!["d", "b", "a", "c", "later"]);
}

#[tokio::test(start_paused = true)]
async fn a_ready_time_moved_earlier_to_a_tie_counts_as_the_later_call() {
    let queue = WorkQueue::new();
    queue.add_after("moved", secs(5));
    queue.add_after("fixed", secs(2));
    sleep(secs(1)).await;
    queue.add_after("moved", secs(1)); // now due at 2 s too, set by the later call
    sleep(secs(1)).await;
    queue.add("later");
    assert_eq!(drain(&queue), vec!["fixed", "moved", "later"]);
}

#[tokio::test(start_paused = true)]
async fn done_of_a_dirty_key_requeues_it_after_a_key_that_became_due_while_it_was_processed() {
    let queue = WorkQueue::new();
    queue.add("busy");
    let busy = queue.try_get().unwrap();
    queue.add("busy"); // dirty while processing: `done` re-queues it
    queue.add_after("delayed", secs(1));
    sleep(secs(2)).await;
    queue.done(&busy);
    assert_eq!(drain(&queue), vec!["delayed", "busy"]);
}

#[tokio::test(start_paused = true)]
async fn a_key_delayed_while_processing_and_due_before_done_is_requeued_by_done() {
    let queue = WorkQueue::new();
    queue.add("k");
    let k = queue.try_get().unwrap();
    queue.add_after("k", secs(1));
    queue.add_after("other", secs(2));
    sleep(secs(3)).await;
    queue.done(&k);
    // client-go: at 1 s the loop's `Add(k)` only marks it dirty (processing); at 2 s `other` is
    // queued; `done` then queues `k` behind it.
    assert_eq!(drain(&queue), vec!["other", "k"]);
}

#[tokio::test(start_paused = true)]
async fn re_delaying_a_due_key_queues_it_now_and_starts_a_new_wait() {
    let queue = WorkQueue::new();
    queue.add_after("k", secs(1));
    sleep(secs(2)).await;
    queue.add_after("k", secs(10));
    assert_eq!((queue.len(), queue.delayed_len()), (1, 1));
    let k = queue.try_get().unwrap();
    queue.done(&k);
    sleep(secs(10)).await;
    assert_eq!(drain(&queue), vec!["k"], "the second wait is kept");
}

#[tokio::test(start_paused = true)]
async fn len_counts_due_keys_as_queued_and_moves_nothing() {
    let queue = WorkQueue::new();
    queue.add_after("a", secs(1));
    queue.add_after("b", secs(1));
    queue.add_after("c", secs(9));
    sleep(secs(2)).await;
    assert_eq!((queue.len(), queue.delayed_len()), (2, 1));
    assert_eq!((queue.len(), queue.delayed_len()), (2, 1), "asking twice");
    queue.add("d");
    assert_eq!(queue.len(), 3);
    assert_eq!(drain(&queue), vec!["a", "b", "d"]);
}

#[tokio::test(start_paused = true)]
async fn len_does_not_count_a_due_key_that_is_already_queued_or_processing() {
    let queue = WorkQueue::new();
    queue.add("processing");
    let processing = queue.try_get().unwrap();
    queue.add("queued");
    for key in ["queued", "processing", "fresh"] {
        queue.add_after(key, secs(1));
    }
    sleep(secs(1)).await;
    // `queued` is already in the FIFO; `processing` only becomes dirty (`done` re-queues it);
    // `fresh` is the one due key that takes a place.
    assert_eq!(queue.len(), 2);
    assert_eq!(drain(&queue), vec!["queued", "fresh"]);
    queue.done(&processing);
    assert_eq!(drain(&queue), vec!["processing"]);
}

#[tokio::test(start_paused = true)]
async fn a_due_key_is_queued_before_shut_down_and_handed_out_after_it() {
    let queue = WorkQueue::new();
    queue.add_after("due", secs(1));
    queue.add_after("not-due", secs(5));
    sleep(secs(1)).await;
    queue.shut_down();
    assert_eq!(queue.get().await, Some("due"));
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn a_named_queue_times_a_late_moved_key_from_its_ready_time() {
    let queue = WorkQueue::with_config(QueueConfig::named("q"));
    queue.add_after("k", secs(1));
    sleep(secs(4)).await;
    let k = queue.try_get().unwrap();
    queue.done(&k);
    let m = queue.metrics();
    assert_eq!((m.adds, m.depth), (1, 0));
    assert_eq!(m.queue_duration.sum, secs(3), "queued at 1 s, taken at 4 s");
}

#[tokio::test(start_paused = true)]
async fn the_local_queue_orders_delayed_keys_the_same_way() {
    let queue = LocalWorkQueue::new();
    queue.add("busy");
    let busy = queue.try_get().unwrap();
    queue.add("busy");
    queue.add_after("b", secs(2));
    queue.add_after("a", secs(1));
    sleep(secs(3)).await;
    queue.add("c");
    queue.done(&busy);
    let order: Vec<_> = std::iter::from_fn(|| queue.try_get()).collect();
    assert_eq!(order, vec!["a", "b", "c", "busy"]);
}
