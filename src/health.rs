//! Health figures of a running pipeline: rates, latency percentiles, drops, failures.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

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
    pub failures: FailureLog,
    latencies: VecDeque<Duration>,
    last: (Instant, u64, u64),
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
            failures: FailureLog::new(interval),
            latencies: VecDeque::with_capacity(LATENCY_WINDOW),
            last: (now, 0, 0),
        }
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
            ("frames failed".into(), self.failed.to_string()),
        ];
        for (cause, n) in &self.failed_by_cause {
            values.push((format!("failed: {cause}"), n.to_string()));
        }
        let d = self.depths;
        values.push((
            "queue depths (input, detect, classify, output)".into(),
            format!("{}, {}, {}, {}", d.input, d.detect, d.classify, d.output),
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
}
