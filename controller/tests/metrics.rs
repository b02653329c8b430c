//! Queue metrics with client-go's names and meaning (`util/workqueue/metrics.go`).

use std::time::Duration;

use kubesim_controller::{QueueConfig, WorkQueue};
use tokio::time::sleep;

#[tokio::test(start_paused = true)]
async fn counters_follow_client_go_depth_adds_and_retries() {
    let queue = WorkQueue::new();
    queue.add("a");
    queue.add("a"); // deduplicated: not an add
    queue.add("b");
    let a = queue.get().await.unwrap();
    queue.add("a"); // dirty while processing: an add, and depth counts it
    queue.add_after("c", Duration::from_secs(1));
    queue.add_after("c", Duration::from_secs(2));
    let m = queue.metrics();
    assert_eq!((m.adds, m.depth, m.retries), (3, 2, 2));
    queue.done(&a);
    assert_eq!(queue.metrics().depth, 2);
    assert_eq!(m.name, None);
    assert_eq!(
        m.queue_duration.count, 0,
        "an unnamed queue keeps no timing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_named_queue_measures_queue_and_work_durations_on_the_tokio_clock() {
    let queue = WorkQueue::with_config(QueueConfig::named("pods"));
    queue.add("a");
    queue.add("b");
    sleep(Duration::from_millis(300)).await;
    let a = queue.get().await.unwrap();
    sleep(Duration::from_secs(2)).await;
    let b = queue.get().await.unwrap();
    sleep(Duration::from_secs(1)).await;
    let m = queue.metrics();
    assert_eq!(m.name.as_deref(), Some("pods"));
    assert_eq!(m.queue_duration.count, 2);
    assert_eq!(m.queue_duration.sum, Duration::from_millis(300 + 2300));
    assert_eq!(
        m.queue_duration.buckets[8], 1,
        "300 ms is in the (100 ms, 1 s] bucket"
    );
    assert_eq!(
        m.queue_duration.buckets[9], 1,
        "2.3 s is in the (1 s, 10 s] bucket"
    );
    assert_eq!(m.unfinished_work, Duration::from_secs(3 + 1));
    assert_eq!(m.longest_running_processor, Duration::from_secs(3));
    queue.done(&a);
    queue.done(&b);
    let m = queue.metrics();
    assert_eq!(m.work_duration.count, 2);
    assert_eq!(m.work_duration.sum, Duration::from_secs(4));
    assert_eq!(m.unfinished_work, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn queue_duration_starts_at_the_first_add_of_a_processing_key() {
    let queue = WorkQueue::with_config(QueueConfig::named("q"));
    queue.add("a");
    let a = queue.get().await.unwrap();
    queue.add("a");
    sleep(Duration::from_secs(1)).await;
    queue.done(&a);
    sleep(Duration::from_secs(1)).await;
    let _ = queue.get().await.unwrap();
    assert_eq!(queue.metrics().queue_duration.sum, Duration::from_secs(2));
}
