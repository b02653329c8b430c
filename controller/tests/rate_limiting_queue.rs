//! The rate-limiting queue (`util/workqueue/rate_limiting_queue.go`) on simulated time.

use std::time::Duration;

use kubesim_controller::{
    default_controller_rate_limiter, ItemExponentialRateLimiter, LocalRateLimitingQueue,
    RateLimitingQueue,
};
use tokio::task::LocalSet;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn add_rate_limited_delays_by_the_limiter_and_forget_resets_it() {
    let queue = RateLimitingQueue::new(ItemExponentialRateLimiter::new(
        Duration::from_millis(5),
        Duration::from_secs(1000),
    ));
    let start = Instant::now();
    let mut retried_at = Vec::new();
    queue.add_rate_limited("k");
    for _ in 0..4 {
        let key = queue.get().await.unwrap();
        retried_at.push(start.elapsed());
        queue.add_rate_limited(key);
        queue.done(&key);
    }
    let ms = Duration::from_millis;
    assert_eq!(
        retried_at,
        vec![ms(5), ms(5 + 10), ms(15 + 20), ms(35 + 40)]
    );
    assert_eq!(queue.num_requeues(&"k"), 5);
    queue.forget(&"k");
    assert_eq!(queue.num_requeues(&"k"), 0);
    assert_eq!(queue.metrics().retries, 5);
}

#[tokio::test(start_paused = true)]
async fn the_local_rate_limiting_queue_behaves_the_same() {
    LocalSet::new()
        .run_until(async {
            let queue = LocalRateLimitingQueue::new(default_controller_rate_limiter());
            let start = Instant::now();
            queue.add_rate_limited("k");
            assert_eq!(queue.get().await, Some("k"));
            assert_eq!(start.elapsed(), Duration::from_millis(5));
            queue.done(&"k");
            queue.forget(&"k");
            queue.shut_down();
            assert_eq!(queue.get().await, None);
        })
        .await;
}
