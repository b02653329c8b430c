//! Queues and limiters driven by a [`ManualClock`], as client-go tests drive theirs with
//! `clock.FakeClock`: time moves only when the test says so.

use std::time::Duration;

use kubesim_controller::{
    default_controller_rate_limiter_with_clock, BucketRateLimiter, Clock, ManualClock, QueueConfig,
    RateLimiter, RateLimitingQueue, WorkQueue,
};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn a_delayed_key_becomes_due_only_when_the_manual_clock_reaches_its_ready_time() {
    let clock = ManualClock::new();
    let queue = WorkQueue::with_config(QueueConfig::default().with_clock(clock.clone()));
    queue.add_after("k", ms(500));
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!(
        queue.try_get(),
        None,
        "tokio time does not move a manual-clock queue"
    );
    clock.step(ms(499));
    assert_eq!((queue.len(), queue.delayed_len()), (0, 1));
    clock.step(ms(1));
    assert_eq!((queue.len(), queue.delayed_len()), (1, 0));
    assert_eq!(queue.try_get(), Some("k"));
}

#[tokio::test(start_paused = true)]
async fn stepping_the_manual_clock_wakes_a_waiting_getter() {
    let clock = ManualClock::new();
    let queue = WorkQueue::with_config(QueueConfig::default().with_clock(clock.clone()));
    queue.add_after("k", ms(500));
    let getter = tokio::spawn({
        let queue = queue.clone();
        async move { queue.get().await }
    });
    tokio::task::yield_now().await;
    assert!(!getter.is_finished());
    clock.set(clock.now() + ms(500));
    assert_eq!(getter.await.unwrap(), Some("k"));
}

#[tokio::test(start_paused = true)]
async fn a_named_queue_times_its_metrics_on_the_manual_clock() {
    let clock = ManualClock::new();
    let queue = WorkQueue::with_config(QueueConfig::named("q").with_clock(clock.clone()));
    queue.add("k");
    clock.step(ms(300));
    let k = queue.try_get().unwrap();
    clock.step(ms(200));
    assert_eq!(queue.metrics().longest_running_processor, ms(200));
    queue.done(&k);
    let m = queue.metrics();
    assert_eq!(
        (m.queue_duration.sum, m.work_duration.sum),
        (ms(300), ms(200))
    );
}

#[test]
fn the_token_bucket_refills_only_as_the_manual_clock_moves() {
    let clock = ManualClock::new();
    let mut bucket = BucketRateLimiter::with_clock(10.0, 2, clock.clone()).unwrap();
    assert_eq!(bucket.when(&"a"), Duration::ZERO);
    assert_eq!(bucket.when(&"b"), Duration::ZERO);
    assert_eq!(bucket.when(&"c"), ms(100));
    clock.step(ms(300));
    assert_eq!(
        bucket.when(&"d"),
        Duration::ZERO,
        "the debt is repaid and a token is left"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rate_limiting_queue_and_its_limiter_can_share_one_manual_clock() {
    let clock = ManualClock::new();
    let queue = RateLimitingQueue::with_config(
        QueueConfig::default().with_clock(clock.clone()),
        default_controller_rate_limiter_with_clock(clock.clone()),
    );
    queue.add_rate_limited("k");
    queue.add_rate_limited("k");
    assert_eq!(queue.num_requeues(&"k"), 2);
    clock.step(ms(4));
    assert_eq!(queue.try_get(), None);
    clock.step(ms(1));
    assert_eq!(
        queue.try_get(),
        Some("k"),
        "the earlier ready time (5 ms) won"
    );
}
