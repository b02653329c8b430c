//! Property: with many workers and random adds on simulated time, a key is never handed to two
//! workers at once, and no add is lost (every key is processed after its last add).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use kubesim_controller::workqueue::{GenericWorkQueue, Local, Mode, ThreadSafe};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::task::LocalSet;
use tokio::time::sleep;

/// One scripted producer step: wait `gap_ms`, then add `key` (after 3 ms if `delayed`).
#[derive(Debug, Clone)]
struct Add {
    key: u8,
    gap_ms: u64,
    delayed: bool,
}

fn add_strategy() -> impl Strategy<Value = Add> {
    (0u8..12, 0u64..4, any::<bool>()).prop_map(|(key, gap_ms, delayed)| Add {
        key,
        gap_ms,
        delayed,
    })
}

#[derive(Default)]
struct Log {
    seq: u64,
    busy: BTreeSet<u8>,
    last_request: BTreeMap<u8, u64>,
    last_start: BTreeMap<u8, u64>,
    requests: u64,
    starts: u64,
}

fn run<M: Mode>(workers: usize, adds: &[Add], work_ms: &[u64]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
    let log = Rc::new(RefCell::new(Log::default()));
    LocalSet::new().block_on(&runtime, async {
        let queue: GenericWorkQueue<u8, M> = GenericWorkQueue::new();
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (queue, log, work_ms) = (queue.clone(), log.clone(), work_ms.to_vec());
                tokio::task::spawn_local(async move {
                    let mut n = worker;
                    while let Some(key) = queue.get().await {
                        {
                            let mut log = log.borrow_mut();
                            assert!(log.busy.insert(key), "key {key} handed to two workers");
                            log.seq += 1;
                            let seq = log.seq;
                            log.last_start.insert(key, seq);
                            log.starts += 1;
                        }
                        sleep(Duration::from_millis(work_ms[n % work_ms.len()])).await;
                        n += 1;
                        assert!(log.borrow_mut().busy.remove(&key));
                        queue.done(&key);
                    }
                })
            })
            .collect();
        for add in adds {
            sleep(Duration::from_millis(add.gap_ms)).await;
            {
                let mut log = log.borrow_mut();
                log.seq += 1;
                let seq = log.seq;
                log.last_request.insert(add.key, seq);
                log.requests += 1;
            }
            if add.delayed {
                queue.add_after(add.key, Duration::from_millis(3));
            } else {
                queue.add(add.key);
            }
        }
        sleep(Duration::from_secs(3600)).await;
        queue.shut_down_with_drain().await;
        for handle in handles {
            handle.await.expect("worker panicked");
        }
    });
    let log = log.borrow();
    for (key, request) in &log.last_request {
        let start = log.last_start.get(key).copied().unwrap_or(0);
        assert!(start > *request, "the last add of key {key} was lost");
    }
    assert!(
        log.starts <= log.requests,
        "a key was processed more often than requested"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_key_is_never_handed_to_two_workers_at_once_and_no_add_is_lost(
        workers in 1usize..9,
        adds in vec(add_strategy(), 1..300),
        work_ms in vec(0u64..6, 1..40),
    ) {
        run::<ThreadSafe>(workers, &adds, &work_ms);
        run::<Local>(workers, &adds, &work_ms);
    }
}
