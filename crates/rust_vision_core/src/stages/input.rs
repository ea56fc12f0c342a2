//! The input queue's end that front ends hold: how a frame is queued, and what the
//! [`Overflow`] policy does when the queue is full.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::Job;

crate::choice! {
    /// What to do with a new frame when the input queue is full.
    pub enum Overflow for "overflow" {
        /// Keep the newest frames: the oldest queued frame is dropped (and counted). For live
        /// cameras, where latency matters more than completeness.
        Latest = "latest",
        /// Never drop: the submitter waits for room. Behind a reliable KEEP_ALL subscription,
        /// frames then wait in its history and, once that is full (capped by a Fast DDS
        /// profile), in the publisher's. For recorded data and batch work.
        All = "all",
    }
}

/// The input end of running stages; the stages finish once every one is dropped.
pub struct Submitter<M> {
    pub(super) input: Sender<Job<M>>,
    /// A second receiving end of the input queue, for evicting its oldest frame.
    pub(super) evict: Receiver<Job<M>>,
    pub(super) latest: Arc<AtomicBool>,
}

impl<M> Clone for Submitter<M> {
    fn clone(&self) -> Self {
        Submitter {
            input: self.input.clone(),
            evict: self.evict.clone(),
            latest: Arc::clone(&self.latest),
        }
    }
}

impl<M> Submitter<M> {
    /// Queues a frame. Under [`Overflow::Latest`] a full queue gives up its oldest frames,
    /// which are returned; under [`Overflow::All`] this waits for room.
    pub fn submit(&self, job: Job<M>) -> Vec<Job<M>> {
        let mut dropped = Vec::new();
        if !self.latest.load(Ordering::Relaxed) {
            // Only fails once the stages are gone, when there is nothing left to do.
            let _ = self.input.send(job);
            return dropped;
        }
        let mut job = job;
        loop {
            match self.input.try_send(job) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => return dropped,
                Err(TrySendError::Full(back)) => {
                    job = back;
                    // A worker may have taken one meanwhile; then just retry.
                    if let Ok(oldest) = self.evict.try_recv() {
                        dropped.push(oldest);
                    }
                }
            }
        }
    }
}
