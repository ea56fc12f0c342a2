//! The reorder window: a bound on the frames the detect workers have taken and the
//! classify stage has not yet passed on, which with several workers is what waits to be
//! put back in order.
//!
//! A counting semaphore made of a bounded channel of permits: std has none, and
//! crossbeam's channels are already what the stages are built of.

use crossbeam_channel::{bounded, Receiver, Sender};

/// The frames taken from the input queue and not yet past classification: at most a
/// fixed number, so that one slow frame holds the other workers back instead of letting
/// the frames after it pile up, unbounded, while they wait to be put back in order. A
/// worker takes a permit before it takes a frame; classification gives one back as each
/// frame leaves it, in order.
#[derive(Clone)]
pub(super) struct Window {
    give: Sender<()>,
    take: Receiver<()>,
}

impl Window {
    pub(super) fn new(size: usize) -> Self {
        let (give, take) = bounded(size);
        for _ in 0..size {
            let _ = give.send(());
        }
        Window { give, take }
    }

    /// Waits for room for one more frame. Never disconnected: each holder has both ends.
    pub(super) fn enter(&self) {
        let _ = self.take.recv();
    }

    /// One frame has left classification.
    pub(super) fn leave(&self) {
        let _ = self.give.try_send(());
    }
}
