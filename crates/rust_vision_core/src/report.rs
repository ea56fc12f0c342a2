//! Failed frames: counted per cause, and reported without flooding the log.
//!
//! A broken publisher sends the same bad frame many times a second. The first failure of
//! each cause is reported at once; after that, at most one report per cause per interval,
//! saying how many failures it stands for.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Whether a failure should be reported now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Report it; `suppressed` earlier failures of the same cause went unreported.
    Report { suppressed: u64 },
    /// Count it only.
    Suppress,
}

#[derive(Debug, Clone, Copy)]
struct Cause {
    total: u64,
    suppressed: u64,
    reported_at: Instant,
}

/// Per-cause failure counts and report rate limiting.
#[derive(Debug, Clone)]
pub struct FailureLog {
    interval: Duration,
    causes: BTreeMap<&'static str, Cause>,
}

impl FailureLog {
    /// At most one report per cause every `interval` after the first.
    pub fn new(interval: Duration) -> Self {
        FailureLog {
            interval,
            causes: BTreeMap::new(),
        }
    }

    /// Counts one failure of `cause` at `now`.
    pub fn record(&mut self, cause: &'static str, now: Instant) -> Verdict {
        match self.causes.get_mut(cause) {
            None => {
                self.causes.insert(
                    cause,
                    Cause {
                        total: 1,
                        suppressed: 0,
                        reported_at: now,
                    },
                );
                Verdict::Report { suppressed: 0 }
            }
            Some(c) => {
                c.total += 1;
                if now.duration_since(c.reported_at) >= self.interval {
                    let suppressed = c.suppressed;
                    c.suppressed = 0;
                    c.reported_at = now;
                    Verdict::Report { suppressed }
                } else {
                    c.suppressed += 1;
                    Verdict::Suppress
                }
            }
        }
    }

    /// Failures so far, per cause, in name order.
    pub fn totals(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.causes.iter().map(|(&name, c)| (name, c.total))
    }

    /// All failures so far.
    pub fn total(&self) -> u64 {
        self.causes.values().map(|c| c.total).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_of_each_cause_then_one_per_interval() {
        let mut log = FailureLog::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_millis(s);
        assert_eq!(log.record("a", at(0)), Verdict::Report { suppressed: 0 });
        assert_eq!(log.record("b", at(1)), Verdict::Report { suppressed: 0 });
        for ms in 2..100 {
            assert_eq!(log.record("a", at(ms)), Verdict::Suppress);
        }
        assert_eq!(
            log.record("a", at(5000)),
            Verdict::Report { suppressed: 98 }
        );
        assert_eq!(log.record("a", at(5001)), Verdict::Suppress);
        assert_eq!(log.totals().collect::<Vec<_>>(), [("a", 101), ("b", 1)]);
        assert_eq!(log.total(), 102);
    }
}
