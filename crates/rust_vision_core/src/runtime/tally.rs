//! The one line that says what became of every frame a runtime received, for its finish
//! and for a front end that must say it without waiting.

use std::sync::{Arc, Mutex};

use crate::health::Health;

/// The counts of a runtime, as they stand when displayed: `frames received R, results
/// published P, failed F (cause: n, ...), dropped D, paused Z`.
#[derive(Clone)]
pub struct Tally(pub(super) Arc<Mutex<Health>>);

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let health = super::lock(&self.0);
        write!(
            f,
            "frames received {}, results published {}, failed {}",
            health.received,
            health.published,
            health.failures.total()
        )?;
        let causes: Vec<String> = health
            .failures
            .totals()
            .map(|(cause, n)| format!("{cause}: {n}"))
            .collect();
        if !causes.is_empty() {
            write!(f, " ({})", causes.join(", "))?;
        }
        write!(f, ", dropped {}, paused {}", health.dropped, health.paused)
    }
}
