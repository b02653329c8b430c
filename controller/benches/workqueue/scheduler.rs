//! kube-runtime 5.0's `scheduler`, the peer: W1 and W2 adapted to its API, and its heap bytes
//! per queued key.

use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::Stream;
use kube_runtime::scheduler::{scheduler, ScheduleRequest};
use tokio::runtime::Runtime;

use crate::heap::heap_bytes_of;
use crate::setup::Key;

/// W2 adapted to kube-runtime's scheduler: an add is a `ScheduleRequest` due now sent on the
/// scheduler's input channel; a get is one poll of the scheduler stream (it has no `len`, and no
/// `done`: nothing is "processing"). Returns the number of items emitted.
pub(crate) fn w2_scheduler(keys: &[Key], seq: &[u16], every: usize) -> u64 {
    let run_at = tokio::time::Instant::now(); // det-ok: a benchmark outside any simulation, never in a history
    let (tx, rx) = mpsc::unbounded();
    let mut sched = pin!(scheduler(rx));
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut gets = 0;
    for (i, &k) in seq.iter().enumerate() {
        tx.unbounded_send(ScheduleRequest {
            message: keys[k as usize],
            run_at,
        })
        .expect("the scheduler is alive");
        if i % every == every - 1 {
            if let Poll::Ready(Some(key)) = sched.as_mut().poll_next(&mut cx) {
                black_box(key);
                gets += 1;
            }
        }
    }
    while let Poll::Ready(Some(key)) = sched.as_mut().poll_next(&mut cx) {
        black_box(key);
        gets += 1;
    }
    gets
}

/// Live heap bytes per key of a scheduler holding every key of `keys` (none emitted).
pub(crate) fn scheduler_bytes_per_key(rt: &Runtime, keys: &[Key]) -> f64 {
    let _guard = rt.enter();
    let run_at = tokio::time::Instant::now(); // det-ok: a benchmark outside any simulation, never in a history
    let (state, bytes) = heap_bytes_of(|| {
        let (tx, rx) = mpsc::unbounded();
        let mut sched = Box::pin(scheduler(rx));
        for &key in keys {
            tx.unbounded_send(ScheduleRequest {
                message: key,
                run_at,
            })
            .expect("alive");
        }
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        // `hold` takes every request in without emitting any.
        let held = Pin::new(&mut sched.as_mut().hold()).poll_next(&mut cx);
        assert!(held.is_pending());
        (tx, sched)
    });
    drop(state);
    bytes as f64 / keys.len() as f64
}
