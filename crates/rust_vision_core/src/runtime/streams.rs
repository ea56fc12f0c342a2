//! How a stream of frames ends: the source's end of stream (the frames it sent, waited
//! for until every one is accounted for), or a frame from another publisher, which
//! ends the stream of the previous one (killed, restarted) without its word.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::{lock, Level, Runtime, END_OF_STREAM_POLL};
use crate::frame::{Input, Origin};
use crate::health::{Health, StreamReport};

impl<M: Send + 'static> Runtime<M> {
    /// [`Runtime::receive`] of a frame whose publisher the transport names: a publisher
    /// other than the current stream's begins a new stream, and the current one is
    /// summarised first (its frames in flight accounted for), with `meta` as its end's,
    /// as sent by its publisher as far as its sequence numbers tell, without an end of
    /// stream.
    pub fn receive_from(&self, meta: M, input: Input, received_at: Instant, origin: Origin)
    where
        M: Clone,
    {
        // One lock at a time: `control` is never taken while `health` is held.
        let ending = lock(&self.control).ending;
        if !ending && lock(&self.health).begins_stream(origin) {
            // The sink's account of the stream says what became of its frames.
            let message = "a new publisher began a stream: the previous one ends without its \
                           end of stream";
            self.sink.notice(Level::Info, message);
            self.sink.stream_ended(meta.clone(), &self.end_abandoned());
        }
        lock(&self.health).note_origin(origin);
        self.receive(meta, input, received_at);
    }

    /// An end of stream of `frames` frames: once every frame received is accounted for,
    /// and every frame sent has arrived (or none came for `end_of_stream_timeout`), the
    /// sink gets the stream's account, after the results of its frames.
    pub fn end_of_stream(self: &Arc<Self>, meta: M, frames: u64) {
        if std::mem::replace(&mut lock(&self.control).ending, true) {
            let message = "end of stream while the previous one is being summarised: ignored";
            self.sink.notice(Level::Warn, message);
            return;
        }
        let message = format!("end of stream: {frames} frames sent; waiting for those in flight");
        self.sink.notice(Level::Info, &message);
        let runtime = Arc::clone(self);
        self.in_background(move || {
            let report = runtime.wait_for_stream(frames, Instant::now());
            runtime.sink.stream_ended(meta, &report);
            lock(&runtime.control).ending = false;
        });
    }

    fn wait_for_stream(&self, frames: u64, arrived: Instant) -> StreamReport {
        self.end_stream_when(|health, closing, timeout| {
            let last = health.last_taken_at().map_or(arrived, |t| t.max(arrived));
            let arrived_all = health.stream_received() >= frames;
            let waited = arrived_all || closing || last.elapsed() >= timeout;
            (health.in_flight() == 0 && waited).then_some(frames)
        })
    }

    /// The account of the current stream once its frames in flight are, as sent by its
    /// publisher as far as its sequence numbers tell.
    fn end_abandoned(&self) -> StreamReport {
        let report = self.end_stream_when(|health, closing, _| {
            (health.in_flight() == 0 || closing).then(|| health.stream_sent())
        });
        StreamReport {
            abandoned: true,
            ..report
        }
    }

    /// Ends the current stream as of `sent` frames sent, polled with whether the runtime
    /// is closing and the end-of-stream timeout, once it says how many that is.
    fn end_stream_when(
        &self,
        sent: impl Fn(&Health, bool, Duration) -> Option<u64>,
    ) -> StreamReport {
        loop {
            let (timeout, closing) = {
                let control = lock(&self.control);
                (control.running.end_of_stream_timeout, control.closing)
            };
            {
                let mut health = lock(&self.health);
                if let Some(frames) = sent(&health, closing, timeout) {
                    return health.end_stream(frames, Instant::now());
                }
            }
            thread::sleep(END_OF_STREAM_POLL);
        }
    }
}
