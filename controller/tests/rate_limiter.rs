//! Rate limiters (`util/workqueue/default_rate_limiters.go`) on simulated time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kubesim_controller::{
    default_controller_rate_limiter, default_item_based_rate_limiter, BucketRateLimiter,
    ItemExponentialRateLimiter, ItemFastSlowRateLimiter, MaxOfRateLimiter, RateLimiter,
    RateLimiterError, WithMaxWaitRateLimiter,
};
use tokio::time::sleep;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn exponential_backoff_doubles_from_5ms_and_caps_at_1000s_past_2_to_the_63() {
    let mut limiter = ItemExponentialRateLimiter::new(ms(5), Duration::from_secs(1000));
    let delays: Vec<_> = (0..20).map(|_| limiter.when(&"k")).collect();
    assert_eq!(&delays[..5], &[ms(5), ms(10), ms(20), ms(40), ms(80)]);
    assert_eq!(delays[17], ms(5 << 17), "655.36 s is still below the cap");
    assert_eq!(delays[18], Duration::from_secs(1000));
    for _ in 20..200 {
        assert_eq!(limiter.when(&"k"), Duration::from_secs(1000));
    }
    assert_eq!(limiter.num_requeues(&"k"), 200);
    assert_eq!(limiter.when(&"other"), ms(5), "failures are per key");
}

#[test]
fn the_default_item_based_limiter_doubles_from_1ms_and_caps_at_1000s() {
    let mut limiter = default_item_based_rate_limiter();
    let delays: Vec<_> = (0..22).map(|_| limiter.when(&"k")).collect();
    assert_eq!(&delays[..4], &[ms(1), ms(2), ms(4), ms(8)]);
    assert_eq!(delays[19], ms(1 << 19), "524.288 s is still below the cap");
    assert_eq!(delays[20], Duration::from_secs(1000));
    assert_eq!(delays[21], Duration::from_secs(1000));
    assert_eq!(limiter.when(&"other"), ms(1), "failures are per key");
}

#[test]
fn exponential_backoff_is_safe_at_the_largest_counts() {
    let mut limiter = ItemExponentialRateLimiter::new(Duration::from_secs(1), Duration::MAX);
    let delays: Vec<_> = (0..70).map(|_| limiter.when(&1u8)).collect();
    assert_eq!(delays[33], Duration::from_secs(1 << 33));
    assert_eq!(
        delays[63],
        Duration::MAX,
        "2^63 s does not fit in u64 nanoseconds"
    );
    assert_eq!(delays[69], Duration::MAX);
}

#[test]
fn forget_resets_the_exponential_backoff() {
    let mut limiter = ItemExponentialRateLimiter::new(ms(5), Duration::from_secs(1000));
    limiter.when(&"k");
    limiter.when(&"k");
    limiter.forget(&"k");
    assert_eq!(limiter.num_requeues(&"k"), 0);
    assert_eq!(limiter.when(&"k"), ms(5));
}

#[test]
fn fast_slow_is_fast_for_the_first_attempts_then_slow_until_forgotten() {
    let mut limiter = ItemFastSlowRateLimiter::new(ms(5), Duration::from_secs(10), 3);
    let delays: Vec<_> = (0..5).map(|_| limiter.when(&"k")).collect();
    assert_eq!(
        delays,
        vec![
            ms(5),
            ms(5),
            ms(5),
            Duration::from_secs(10),
            Duration::from_secs(10)
        ]
    );
    assert_eq!(limiter.num_requeues(&"k"), 5);
    limiter.forget(&"k");
    assert_eq!(limiter.when(&"k"), ms(5));
}

#[tokio::test(start_paused = true)]
async fn the_bucket_starts_full_and_the_101st_reservation_waits_100ms_and_the_102nd_200ms() {
    let mut bucket = BucketRateLimiter::new(10.0, 100).unwrap();
    for i in 0..100 {
        assert_eq!(
            RateLimiter::<u8>::when(&mut bucket, &0),
            Duration::ZERO,
            "call {i}"
        );
    }
    assert_eq!(RateLimiter::<u8>::when(&mut bucket, &0), ms(100));
    assert_eq!(RateLimiter::<u8>::when(&mut bucket, &0), ms(200));
    assert_eq!(RateLimiter::<u8>::num_requeues(&bucket, &0), 0);
}

#[tokio::test(start_paused = true)]
async fn the_bucket_refills_at_its_rate_on_the_tokio_clock_up_to_its_burst() {
    let mut bucket = BucketRateLimiter::new(10.0, 5).unwrap();
    for _ in 0..7 {
        RateLimiter::<u8>::when(&mut bucket, &0);
    }
    // 5 - 7 = -2 tokens; half a second later 5 more have arrived: 3.
    sleep(ms(500)).await;
    for _ in 0..3 {
        assert_eq!(RateLimiter::<u8>::when(&mut bucket, &0), Duration::ZERO);
    }
    assert_eq!(RateLimiter::<u8>::when(&mut bucket, &0), ms(100));
    // An hour refills only up to the burst.
    sleep(Duration::from_secs(3600)).await;
    for _ in 0..5 {
        assert_eq!(RateLimiter::<u8>::when(&mut bucket, &0), Duration::ZERO);
    }
    assert_eq!(RateLimiter::<u8>::when(&mut bucket, &0), ms(100));
}

#[test]
fn an_invalid_bucket_is_a_typed_error() {
    assert_eq!(
        BucketRateLimiter::new(0.0, 1).unwrap_err(),
        RateLimiterError::InvalidRate { qps: 0.0 }
    );
    assert!(matches!(
        BucketRateLimiter::new(f64::NAN, 1),
        Err(RateLimiterError::InvalidRate { .. })
    ));
    assert_eq!(
        BucketRateLimiter::new(1.0, 0).unwrap_err(),
        RateLimiterError::ZeroBurst
    );
    assert_eq!(
        RateLimiterError::ZeroBurst.to_string(),
        "invalid token bucket burst 0: must hold at least one token"
    );
}

/// Returns a fixed delay and counts every call.
struct Recording {
    delay: Duration,
    calls: Arc<AtomicU32>,
    forgets: Arc<AtomicU32>,
}

impl RateLimiter<&'static str> for Recording {
    fn when(&mut self, _: &&'static str) -> Duration {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.delay
    }
    fn forget(&mut self, _: &&'static str) {
        self.forgets.fetch_add(1, Ordering::SeqCst);
    }
    fn num_requeues(&self, _: &&'static str) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

#[test]
fn max_of_asks_every_limiter_and_returns_the_longest_delay() {
    let calls: Vec<_> = (0..3).map(|_| Arc::new(AtomicU32::new(0))).collect();
    let forgets: Vec<_> = (0..3).map(|_| Arc::new(AtomicU32::new(0))).collect();
    let mut limiter = MaxOfRateLimiter::new(
        [ms(1), ms(30), ms(2)]
            .into_iter()
            .zip(calls.iter().zip(&forgets))
            .map(|(delay, (c, f))| {
                Box::new(Recording {
                    delay,
                    calls: c.clone(),
                    forgets: f.clone(),
                }) as Box<dyn RateLimiter<&'static str> + Send>
            })
            .collect(),
    );
    assert_eq!(limiter.when(&"k"), ms(30));
    assert_eq!(limiter.when(&"k"), ms(30));
    assert!(
        calls.iter().all(|c| c.load(Ordering::SeqCst) == 2),
        "every limiter asked"
    );
    limiter.forget(&"k");
    assert!(
        forgets.iter().all(|f| f.load(Ordering::SeqCst) == 1),
        "every limiter forgets"
    );
}

#[test]
fn max_of_reports_the_largest_requeue_count() {
    let mut limiter: MaxOfRateLimiter<&str> = MaxOfRateLimiter::new(vec![
        Box::new(ItemFastSlowRateLimiter::new(ms(1), ms(2), 1)),
        Box::new(ItemExponentialRateLimiter::new(ms(1), ms(100))),
    ]);
    limiter.when(&"k");
    limiter.when(&"k");
    assert_eq!(limiter.num_requeues(&"k"), 2);
    limiter.forget(&"k");
    assert_eq!(limiter.num_requeues(&"k"), 0);
}

#[test]
fn with_max_wait_caps_the_inner_delay_and_passes_forget_through() {
    let inner = ItemExponentialRateLimiter::new(ms(5), Duration::from_secs(1000));
    let mut limiter = WithMaxWaitRateLimiter::new(inner, ms(12));
    let delays: Vec<_> = (0..4).map(|_| limiter.when(&"k")).collect();
    assert_eq!(delays, vec![ms(5), ms(10), ms(12), ms(12)]);
    assert_eq!(limiter.num_requeues(&"k"), 4);
    limiter.forget(&"k");
    assert_eq!(limiter.when(&"k"), ms(5));
}

#[tokio::test(start_paused = true)]
async fn the_default_controller_limiter_is_the_max_of_exponential_and_bucket() {
    let mut limiter = default_controller_rate_limiter();
    assert_eq!(limiter.when(&0u32), ms(5));
    assert_eq!(limiter.when(&0u32), ms(10), "exponential per key");
    for key in 1..99u32 {
        assert_eq!(limiter.when(&key), ms(5));
    }
    // 100 tokens used; the bucket now dominates for a fresh key.
    assert_eq!(limiter.when(&1000u32), ms(100));
    assert_eq!(limiter.when(&1001u32), ms(200));
    assert_eq!(limiter.num_requeues(&0), 2);
}
