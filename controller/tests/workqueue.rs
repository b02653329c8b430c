//! The workqueue's client-go semantics (`util/workqueue/queue.go`), on simulated time.

use std::sync::Arc;
use std::time::Duration;

use kubesim_controller::{LocalWorkQueue, WorkQueue};
use tokio::task::LocalSet;
use tokio::time::{sleep, Instant};

#[tokio::test(start_paused = true)]
async fn adding_a_queued_key_again_is_a_no_op() {
    let queue = WorkQueue::new();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.get().await, Some("a"));
    assert_eq!(queue.get().await, Some("b"));
    assert!(queue.is_empty());
    assert_eq!(queue.metrics().adds, 2);
}

#[tokio::test(start_paused = true)]
async fn keys_are_handed_out_in_first_add_order() {
    let queue = WorkQueue::new();
    for key in [3, 1, 2, 1, 3] {
        queue.add(key);
    }
    let mut order = Vec::new();
    while let Some(key) = queue.try_get() {
        order.push(key);
        queue.done(&key);
    }
    assert_eq!(order, vec![3, 1, 2]);
}

#[tokio::test(start_paused = true)]
async fn a_key_added_while_processing_is_requeued_exactly_once_after_done() {
    let queue = WorkQueue::new();
    queue.add("a");
    let key = queue.get().await.unwrap();
    queue.add("a");
    queue.add("a");
    assert_eq!(queue.len(), 0, "a processing key is not queued");
    assert_eq!(queue.try_get(), None, "nor handed to a second worker");
    queue.done(&key);
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("a"));
    queue.done(&"a");
    assert_eq!(queue.len(), 0);
    assert_eq!(queue.processing_len(), 0);
}

#[tokio::test(start_paused = true)]
async fn len_counts_only_queued_keys() {
    let queue = WorkQueue::new();
    queue.add(1);
    queue.add(2);
    queue.add_after(3, Duration::from_secs(1));
    let one = queue.get().await.unwrap();
    assert_eq!(
        (queue.len(), queue.processing_len(), queue.delayed_len()),
        (1, 1, 1)
    );
    queue.done(&one);
}

#[tokio::test(start_paused = true)]
async fn done_for_a_key_never_added_or_only_waiting_changes_nothing() {
    let queue = WorkQueue::new();
    queue.done(&"never-added");
    queue.add_after("waiting", Duration::from_secs(1));
    queue.done(&"waiting");
    assert_eq!(
        (queue.len(), queue.processing_len(), queue.delayed_len()),
        (0, 0, 1)
    );
    sleep(Duration::from_secs(1)).await;
    assert_eq!(queue.get().await, Some("waiting"));
    assert_eq!(queue.try_get(), None);
}

/// client-go's `Done` pushes a dirty key whether or not it was processing
/// (`util/workqueue/queue.go`): a queued key gets a second place in the FIFO.
#[tokio::test(start_paused = true)]
async fn done_for_a_queued_key_not_being_processed_queues_it_a_second_time_as_client_go_does() {
    let queue = WorkQueue::new();
    queue.add("a");
    queue.add("b");
    queue.done(&"a");
    assert_eq!(queue.len(), 3, "a, b, a");
    let first = queue.get().await.unwrap();
    assert_eq!(queue.get().await, Some("b"));
    let second = queue.get().await.unwrap();
    assert_eq!((first, second), ("a", "a"), "handed out twice");
    assert_eq!(queue.processing_len(), 2, "a and b, each counted once");
    queue.done(&first);
    queue.done(&second);
    queue.done(&"b");
    assert_eq!((queue.len(), queue.processing_len()), (0, 0));
    queue.add("a");
    assert_eq!(queue.try_get(), Some("a"), "the key is usable again");
}

#[tokio::test(start_paused = true)]
async fn a_second_copy_consumes_an_add_made_while_the_first_was_processed() {
    let queue = WorkQueue::new();
    queue.add("a");
    queue.done(&"a");
    let first = queue.try_get().unwrap();
    queue.add("a"); // dirty while processing
    assert_eq!(
        queue.try_get(),
        Some("a"),
        "the copy, handed out while `first` runs"
    );
    queue.done(&first);
    assert_eq!(
        queue.len(),
        0,
        "client-go: the copy's get cleared the dirty mark"
    );
    queue.done(&"a");
    assert_eq!((queue.len(), queue.processing_len()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_waiting_get_is_woken_by_an_add() {
    let queue = WorkQueue::new();
    let getter = tokio::spawn({
        let queue = queue.clone();
        async move { (queue.get().await, Instant::now()) }
    });
    let start = Instant::now(); // det-ok: tokio::time::Instant under start_paused, simulated
    sleep(Duration::from_secs(5)).await;
    queue.add("late");
    let (key, at) = getter.await.unwrap();
    assert_eq!(key, Some("late"));
    assert_eq!(at - start, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn every_waiting_getter_gets_a_different_key() {
    let queue = WorkQueue::new();
    let getters: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.get().await })
        })
        .collect();
    tokio::task::yield_now().await;
    for key in 0..4 {
        queue.add(key);
    }
    let mut got = Vec::new();
    for getter in getters {
        got.push(getter.await.unwrap().unwrap());
    }
    got.sort();
    assert_eq!(got, vec![0, 1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn shut_down_hands_out_queued_keys_then_none_and_ignores_adds() {
    let queue = WorkQueue::new();
    queue.add("a");
    queue.shut_down();
    queue.add("b");
    assert!(queue.is_shutting_down());
    assert_eq!(queue.get().await, Some("a"));
    assert_eq!(queue.get().await, None);
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn shut_down_wakes_every_waiting_getter_with_none() {
    let queue: WorkQueue<u32> = WorkQueue::new();
    let getters: Vec<_> = (0..3)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.get().await })
        })
        .collect();
    sleep(Duration::from_secs(1)).await;
    queue.shut_down();
    for getter in getters {
        assert_eq!(getter.await.unwrap(), None);
    }
}

#[tokio::test(start_paused = true)]
async fn shut_down_does_not_wait_for_keys_being_processed() {
    let queue = WorkQueue::new();
    queue.add("a");
    let _key = queue.get().await.unwrap();
    queue.shut_down();
    assert_eq!(queue.processing_len(), 1);
}

#[tokio::test(start_paused = true)]
async fn shut_down_with_drain_waits_until_processing_keys_are_done() {
    let queue = WorkQueue::new();
    queue.add("a");
    let key = queue.get().await.unwrap();
    let worker = tokio::spawn({
        let queue = queue.clone();
        async move {
            sleep(Duration::from_secs(3)).await;
            queue.done(&key);
        }
    });
    let start = Instant::now(); // det-ok: tokio::time::Instant under start_paused, simulated
    queue.shut_down_with_drain().await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(queue.processing_len(), 0);
    worker.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shut_down_with_drain_returns_at_once_when_nothing_is_processing() {
    let queue: WorkQueue<u8> = WorkQueue::new();
    let start = Instant::now(); // det-ok: tokio::time::Instant under start_paused, simulated
    queue.shut_down_with_drain().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_plain_shut_down_ends_a_drain_wait_early() {
    let queue = WorkQueue::new();
    queue.add("a");
    let _stuck = queue.get().await.unwrap();
    let drain = tokio::spawn({
        let queue = queue.clone();
        async move { queue.shut_down_with_drain().await }
    });
    sleep(Duration::from_secs(1)).await;
    assert!(!drain.is_finished());
    queue.shut_down();
    drain.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn dropping_a_waiting_get_loses_no_key() {
    let queue = WorkQueue::new();
    let cancelled = tokio::time::timeout(Duration::from_secs(1), queue.get()).await;
    assert!(cancelled.is_err());
    queue.add("a");
    assert_eq!(queue.get().await, Some("a"));
}

#[tokio::test(start_paused = true)]
async fn the_local_queue_has_the_same_semantics() {
    LocalSet::new()
        .run_until(async {
            let queue = LocalWorkQueue::new();
            queue.add("a");
            queue.add("a");
            let key = queue.get().await.unwrap();
            queue.add("a");
            assert_eq!(queue.len(), 0);
            let getter = tokio::task::spawn_local({
                let queue = queue.clone();
                async move { queue.get().await }
            });
            sleep(Duration::from_secs(1)).await;
            queue.done(&key);
            assert_eq!(getter.await.unwrap(), Some("a"));
            queue.shut_down();
            assert_eq!(queue.get().await, None);
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn shut_down_with_drain_can_be_spawned_while_workers_finish_their_keys() {
    let queue = WorkQueue::new();
    for key in ["a", "b", "c"] {
        queue.add(key);
    }
    let workers: Vec<_> = (1..=2u64)
        .map(|n| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut handled = Vec::new();
                while let Some(key) = queue.get().await {
                    sleep(Duration::from_secs(n)).await;
                    handled.push(key);
                    queue.done(&key);
                }
                handled
            })
        })
        .collect();
    tokio::task::yield_now().await;
    assert_eq!(queue.processing_len(), 2);
    let start = Instant::now(); // det-ok: tokio::time::Instant under start_paused, simulated
    let drain = tokio::spawn(queue.shut_down_with_drain());
    assert!(
        queue.is_shutting_down(),
        "shut down on the call, not on the first poll"
    );
    queue.add("ignored");
    drain.await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "a at 1 s, b at 2 s, c at 2 s"
    );
    assert_eq!(queue.processing_len(), 0);
    let mut handled = Vec::new();
    for worker in workers {
        handled.extend(worker.await.unwrap());
    }
    handled.sort_unstable();
    assert_eq!(
        handled,
        vec!["a", "b", "c"],
        "queued keys are still handed out"
    );
}

#[test]
fn the_thread_safe_queue_is_send_sync_and_its_get_and_drain_futures_are_send() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: T) {}
    fn assert_static<T: 'static>(_: T) {}
    let queue: WorkQueue<String> = WorkQueue::new();
    assert_send_sync(&queue);
    assert_send(queue.get());
    assert_send(queue.shut_down_with_drain());
    assert_static(queue.shut_down_with_drain());
}

/// Real threads, no timing: every key added is processed, and never by two workers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_on_a_multi_threaded_runtime_process_every_key_one_at_a_time() {
    let queue: WorkQueue<u32> = WorkQueue::new();
    let busy = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let processed = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (queue, busy, processed) = (queue.clone(), busy.clone(), processed.clone());
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    assert!(busy.lock().unwrap().insert(key), "{key} handed out twice");
                    tokio::task::yield_now().await;
                    processed.lock().unwrap().insert(key);
                    assert!(busy.lock().unwrap().remove(&key));
                    queue.done(&key);
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..4u32)
        .map(|p| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for i in 0..5_000u32 {
                    queue.add((i * 7 + p) % 500);
                    if i % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await.unwrap();
    }
    queue.shut_down_with_drain().await;
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(processed.lock().unwrap().len(), 500);
    assert_eq!(queue.processing_len(), 0);
}
