//! Property: on any sequence of `add`, `get` and `done` (including `done` for keys that are not
//! being processed), the queue hands out the same keys in the same order, and reports the same
//! `len`, as a transcription of client-go's `Typed[T]` (`util/workqueue/queue.go`: a FIFO slice,
//! a `dirty` set and a `processing` set).

use std::collections::{BTreeSet, VecDeque};

use kubesim_controller::workqueue::{GenericWorkQueue, Local, Mode, ThreadSafe};
use proptest::collection::vec;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Add(u8),
    Get,
    Done(u8),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..6).prop_map(Op::Add),
        3 => Just(Op::Get),
        2 => (0u8..6).prop_map(Op::Done),
    ]
}

/// client-go's `Typed[T]`, line by line.
#[derive(Default)]
struct ClientGo {
    queue: VecDeque<u8>,
    dirty: BTreeSet<u8>,
    processing: BTreeSet<u8>,
}

impl ClientGo {
    fn add(&mut self, item: u8) {
        if self.dirty.contains(&item) {
            return;
        }
        self.dirty.insert(item);
        if self.processing.contains(&item) {
            return;
        }
        self.queue.push_back(item);
    }

    /// `Get` when something is queued (the tests never block).
    fn get(&mut self) -> Option<u8> {
        let item = self.queue.pop_front()?;
        self.processing.insert(item);
        self.dirty.remove(&item);
        Some(item)
    }

    fn done(&mut self, item: u8) {
        self.processing.remove(&item);
        if self.dirty.contains(&item) {
            self.queue.push_back(item);
        }
    }
}

fn check<M: Mode>(ops: &[Op]) {
    let queue: GenericWorkQueue<u8, M> = GenericWorkQueue::new();
    let mut model = ClientGo::default();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Add(k) => {
                queue.add(k);
                model.add(k);
            }
            Op::Get => assert_eq!(queue.try_get(), model.get(), "get at step {step}"),
            Op::Done(k) => {
                queue.done(&k);
                model.done(k);
            }
        }
        assert_eq!(queue.len(), model.queue.len(), "len after step {step}");
        assert_eq!(
            queue.processing_len(),
            model.processing.len(),
            "processing after step {step}"
        );
    }
    let rest: Vec<u8> = std::iter::from_fn(|| queue.try_get()).collect();
    let model_rest: Vec<u8> = std::iter::from_fn(|| model.get()).collect();
    assert_eq!(rest, model_rest, "the keys left");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_queue_matches_client_go_step_by_step_even_when_done_is_misused(
        ops in vec(op_strategy(), 1..200),
    ) {
        check::<ThreadSafe>(&ops);
        check::<Local>(&ops);
    }
}
