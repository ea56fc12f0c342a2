//! Health figures of a running pipeline: rates, latency percentiles, drops, failures,
//! and the end-of-stream account of what became of every frame of a stream.

use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use crate::frame::Origin;
use crate::report::{FailureLog, Verdict};
use crate::stages::Depths;

/// Latencies kept for the percentiles: the most recent ones.
const LATENCY_WINDOW: usize = 1000;

/// Counters since start, and what changed since the last [`Health::report`].
#[derive(Debug)]
pub struct Health {
    pub received: u64,
    pub published: u64,
    pub dropped: u64,
    /// Frames received while processing was paused, and so not processed.
    pub paused: u64,
    /// Whether received frames are counted paused instead of processed.
    pub pausing: bool,
    pub failures: FailureLog,
    latencies: VecDeque<Duration>,
    last: (Instant, u64, u64),
    /// The counters when the current stream started.
    stream: StreamStart,
    /// When the latest frame was taken in.
    last_taken_at: Option<Instant>,
}

#[derive(Debug, Clone, Default)]
struct StreamStart {
    received: u64,
    published: u64,
    dropped: u64,
    paused: u64,
    failed_by_cause: Vec<(&'static str, u64)>,
    first_at: Option<Instant>,
    /// The publisher of its frames and the range of its sequence numbers received.
    origin: Option<(u128, RangeInclusive<u64>)>,
}

/// What became of the frames of one stream: every frame received is processed, failed,
/// dropped or paused, and frames sent but never received are lost.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamReport {
    /// Frames the source says it sent.
    pub sent: u64,
    pub received: u64,
    /// Frames whose result was published.
    pub processed: u64,
    pub failed: u64,
    pub failed_by_cause: Vec<(&'static str, u64)>,
    /// Frames dropped by the overflow policy.
    pub dropped: u64,
    /// Frames received while processing was paused.
    pub paused: u64,
    /// Frames sent and never received.
    pub lost: u64,
    /// Sequence number of the stream's first frame.
    pub first_sequence: u64,
    /// From the stream's first frame received to its end.
    pub duration: Duration,
    /// Whether it ended without its source's end of stream (a new publisher began):
    /// `sent` is then what the publisher's sequence numbers tell, frames it sent after
    /// its last one received are unknown, and the stream is not complete.
    pub abandoned: bool,
}

impl std::fmt::Display for StreamReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} frames sent, {} received, {} processed, {} failed",
            self.sent, self.received, self.processed, self.failed
        )?;
        if !self.failed_by_cause.is_empty() {
            let causes: Vec<String> = self
                .failed_by_cause
                .iter()
                .map(|(cause, n)| format!("{cause}: {n}"))
                .collect();
            write!(f, " ({})", causes.join(", "))?;
        }
        if self.paused > 0 {
            write!(f, ", {} paused", self.paused)?;
        }
        write!(
            f,
            ", {} dropped, {} lost, in {:.2} s",
            self.dropped,
            self.lost,
            self.duration.as_secs_f64()
        )?;
        if self.abandoned {
            write!(f, "; ended without an end of stream")?;
        }
        Ok(())
    }
}

impl StreamReport {
    /// Whether every frame sent was processed, as the source's end of stream says.
    pub fn complete(&self) -> bool {
        !self.abandoned && self.processed == self.sent && self.received == self.sent
    }
}

/// One report: rates over the period since the previous one, totals since start.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// Frames received per second.
    pub input_fps: f64,
    /// Results published per second.
    pub output_fps: f64,
    /// Receive-to-publish latency percentiles over the last results (up to 1000).
    pub latency_p50: Duration,
    pub latency_p99: Duration,
    pub received: u64,
    pub published: u64,
    pub dropped: u64,
    pub paused: u64,
    pub failed: u64,
    pub failed_by_cause: Vec<(&'static str, u64)>,
    pub depths: Depths,
}

impl Health {
    /// Empty counters; failure reports rate-limited to one per cause per `interval`.
    pub fn new(interval: Duration, now: Instant) -> Self {
        Health {
            received: 0,
            published: 0,
            dropped: 0,
            paused: 0,
            pausing: false,
            failures: FailureLog::new(interval),
            latencies: VecDeque::with_capacity(LATENCY_WINDOW),
            last: (now, 0, 0),
            stream: StreamStart::default(),
            last_taken_at: None,
        }
    }

    /// Counts a received frame; returns its sequence number (0 for the first), or `None`
    /// when processing is paused (the frame is counted paused).
    pub fn receive(&mut self, now: Instant) -> Option<u64> {
        self.stream.first_at.get_or_insert(now);
        // When it was taken in, not when it reached the process: a backlog in the
        // transport (overflow `all`) holds frames that arrived long before, and an end of
        // stream waits while frames keep coming.
        self.last_taken_at = Some(Instant::now());
        self.received += 1;
        if self.pausing {
            self.paused += 1;
            return None;
        }
        Some(self.received - 1)
    }

    /// Frames received and not yet processed, failed, dropped or paused.
    pub fn in_flight(&self) -> u64 {
        self.received - self.published - self.failures.total() - self.dropped - self.paused
    }

    /// Frames received since the current stream started.
    pub fn stream_received(&self) -> u64 {
        self.received - self.stream.received
    }

    /// Whether a frame from `origin` begins a new stream: the current one has frames,
    /// from another publisher.
    pub fn begins_stream(&self, origin: Origin) -> bool {
        self.stream_received() > 0
            && matches!(&self.stream.origin, Some((p, _)) if *p != origin.publisher)
    }

    /// Notes the origin of a frame of the current stream.
    pub fn note_origin(&mut self, origin: Origin) {
        let n = origin.sequence;
        self.stream.origin = match self.stream.origin.take() {
            Some((p, seen)) if p == origin.publisher => {
                Some((p, *seen.start().min(&n)..=*seen.end().max(&n)))
            }
            _ => Some((origin.publisher, n..=n)),
        };
    }

    /// Frames the current stream's publisher sent, as far as its sequence numbers
    /// received tell (from its first received to its last); else those received.
    pub fn stream_sent(&self) -> u64 {
        let received = self.stream_received();
        self.stream.origin.as_ref().map_or(received, |(_, seen)| {
            (seen.end() - seen.start() + 1).max(received)
        })
    }

    /// When the latest frame was taken in, if any was.
    pub fn last_taken_at(&self) -> Option<Instant> {
        self.last_taken_at
    }

    /// Ends the current stream, of `sent` frames by its source, and starts the next one:
    /// the account of the frames received since the previous end.
    pub fn end_stream(&mut self, sent: u64, now: Instant) -> StreamReport {
        let start = std::mem::take(&mut self.stream);
        let failed_by_cause: Vec<(&'static str, u64)> = self
            .failures
            .totals()
            .filter_map(|(cause, n)| {
                let before = start
                    .failed_by_cause
                    .iter()
                    .find(|(c, _)| *c == cause)
                    .map_or(0, |(_, n)| *n);
                (n > before).then_some((cause, n - before))
            })
            .collect();
        let received = self.received - start.received;
        let report = StreamReport {
            sent,
            received,
            processed: self.published - start.published,
            failed: failed_by_cause.iter().map(|(_, n)| n).sum(),
            failed_by_cause,
            dropped: self.dropped - start.dropped,
            paused: self.paused - start.paused,
            lost: sent.saturating_sub(received),
            first_sequence: start.received,
            duration: start
                .first_at
                .map_or(Duration::ZERO, |t| now.duration_since(t)),
            abandoned: false,
        };
        self.stream = StreamStart {
            received: self.received,
            published: self.published,
            dropped: self.dropped,
            paused: self.paused,
            failed_by_cause: self.failures.totals().collect(),
            first_at: None,
            origin: None,
        };
        report
    }

    /// Counts a published result and its latency.
    pub fn published(&mut self, latency: Duration) {
        self.published += 1;
        if self.latencies.len() == LATENCY_WINDOW {
            self.latencies.pop_front();
        }
        self.latencies.push_back(latency);
    }

    /// Counts a failed frame; says whether to report it now.
    pub fn failed(&mut self, cause: &'static str, now: Instant) -> Verdict {
        self.failures.record(cause, now)
    }

    /// The figures now; the rates cover the time since the previous call.
    pub fn report(&mut self, depths: Depths, now: Instant) -> HealthReport {
        let (since, received, published) = self.last;
        let seconds = now.duration_since(since).as_secs_f64().max(1e-9);
        self.last = (now, self.received, self.published);
        let mut sorted: Vec<Duration> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        HealthReport {
            input_fps: (self.received - received) as f64 / seconds,
            output_fps: (self.published - published) as f64 / seconds,
            latency_p50: percentile(&sorted, 50),
            latency_p99: percentile(&sorted, 99),
            received: self.received,
            published: self.published,
            dropped: self.dropped,
            paused: self.paused,
            failed: self.failures.total(),
            failed_by_cause: self.failures.totals().collect(),
            depths,
        }
    }
}

/// Nearest-rank percentile of sorted values; zero when there are none.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

impl HealthReport {
    /// The figures as (key, value) pairs, for diagnostics and the log.
    pub fn values(&self) -> Vec<(String, String)> {
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1e3);
        let mut values = vec![
            ("input fps".into(), format!("{:.1}", self.input_fps)),
            ("output fps".into(), format!("{:.1}", self.output_fps)),
            ("latency p50 (ms)".into(), ms(self.latency_p50)),
            ("latency p99 (ms)".into(), ms(self.latency_p99)),
            ("frames received".into(), self.received.to_string()),
            ("results published".into(), self.published.to_string()),
            ("frames dropped".into(), self.dropped.to_string()),
            ("frames paused".into(), self.paused.to_string()),
            ("frames failed".into(), self.failed.to_string()),
        ];
        for (cause, n) in &self.failed_by_cause {
            values.push((format!("failed: {cause}"), n.to_string()));
        }
        let d = self.depths;
        values.push((
            "queue depths (input, classify, output)".into(),
            format!("{}, {}, {}", d.input, d.classify, d.output),
        ));
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_rates() {
        let t0 = Instant::now();
        let mut health = Health::new(Duration::from_secs(5), t0);
        for ms in 1..=100 {
            health.received += 1;
            health.published(Duration::from_millis(ms));
        }
        let report = health.report(Depths::default(), t0 + Duration::from_secs(2));
        assert_eq!(report.latency_p50, Duration::from_millis(50));
        assert_eq!(report.latency_p99, Duration::from_millis(99));
        assert_eq!((report.input_fps, report.output_fps), (50.0, 50.0));
        let next = health.report(Depths::default(), t0 + Duration::from_secs(3));
        assert_eq!(next.input_fps, 0.0);
    }

    #[test]
    fn each_stream_accounts_for_its_own_frames() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut health = Health::new(Duration::from_secs(5), t0);
        for ms in 0..5 {
            assert_eq!(health.receive(at(ms)), Some(ms));
        }
        health.published(Duration::ZERO);
        health.published(Duration::ZERO);
        health.failed("bad input", at(10));
        health.dropped += 1;
        assert_eq!(health.in_flight(), 1);
        health.published(Duration::ZERO);
        assert_eq!(health.in_flight(), 0);
        let first = health.end_stream(6, at(100));
        assert_eq!(
            first,
            StreamReport {
                sent: 6,
                received: 5,
                processed: 3,
                failed: 1,
                failed_by_cause: vec![("bad input", 1)],
                dropped: 1,
                paused: 0,
                lost: 1,
                first_sequence: 0,
                duration: Duration::from_millis(100),
                abandoned: false,
            }
        );
        assert!(!first.complete());
        // The next stream counts from here.
        assert_eq!(health.receive(at(200)), Some(5));
        health.failed("decode", at(201));
        assert_eq!(health.receive(at(202)), Some(6));
        health.published(Duration::ZERO);
        // Frames received while paused are counted, and numbered as received.
        health.pausing = true;
        assert_eq!(health.receive(at(203)), None);
        assert_eq!(health.in_flight(), 0);
        health.pausing = false;
        assert_eq!(health.receive(at(204)), Some(8));
        health.published(Duration::ZERO);
        assert_eq!(health.stream_received(), 4);
        let second = health.end_stream(4, at(300));
        assert_eq!(second.first_sequence, 5);
        assert_eq!((second.processed, second.failed, second.lost), (2, 1, 0));
        assert_eq!(second.paused, 1);
        assert!(second.to_string().contains(", 1 paused,"), "{second}");
        assert_eq!(second.failed_by_cause, vec![("decode", 1)]);
        assert_eq!(second.duration, Duration::from_millis(100));
        let third = health.end_stream(0, at(400));
        assert!(third.complete() && third.received == 0);
    }
}
