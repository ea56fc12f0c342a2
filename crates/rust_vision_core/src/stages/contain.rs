//! Containment: a panic in one frame's work (a decoder, an engine, our own code) becomes
//! that frame's failure, so that no stage thread dies and no later stage waits forever
//! for a frame that will not come.
//!
//! The standard panic hook would print every contained panic to stderr, unlimited and
//! outside the node's log; the frame's failure already carries the message (with where it
//! happened) to the front end, which logs it once per cause and then rate-limits. So a
//! hook, installed once and chained to the one before it, stays quiet for panics raised
//! inside [`contained`] and keeps their location for the message. A panic on a rayon
//! worker that the contained work waits for is still printed by the standard hook (from
//! that worker's thread) before it reaches the frame's thread and is contained there.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::error::Error;

thread_local! {
    /// Whether this thread runs contained work now.
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
    /// Where the last contained panic of this thread happened.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `work`; a panic in it is returned as [`Error::Internal`] naming `what` was done,
/// where the panic happened and its message.
///
/// State that `work` borrows may be left half-updated by a panic; callers that keep state
/// across frames reset it when this returns an error.
pub(crate) fn contained<T>(what: &str, work: impl FnOnce() -> T) -> Result<T, Error> {
    install_hook();
    LOCATION.with(|l| l.borrow_mut().take());
    let outer = CONTAINED.with(|c| c.replace(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(work));
    CONTAINED.with(|c| c.set(outer));
    outcome.map_err(|payload| {
        // Unset where the hook did not run: a panic resumed from another thread's.
        let at = LOCATION
            .with(|l| l.borrow_mut().take())
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        Error::Internal(format!("panic in {what}{at}: {}", message(&*payload)))
    })
}

/// The text a panic was raised with.
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // A second panic before the first was caught (one while unwinding) aborts
            // the process: that one is printed.
            let quiet = CONTAINED.with(Cell::get) && LOCATION.with(|l| l.borrow().is_none());
            if quiet {
                let location = info.location().map_or_else(
                    || "an unknown place".to_string(),
                    |l| format!("{}:{}", l.file(), l.line()),
                );
                LOCATION.with(|l| *l.borrow_mut() = Some(location));
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message_and_place() {
        let v: Vec<u8> = Vec::new();
        let error = contained("reading", || v[3]).unwrap_err();
        assert_eq!(error.cause(), "internal");
        let text = error.to_string();
        assert!(
            text.starts_with("internal error: panic in reading at "),
            "{text}"
        );
        assert!(text.contains("contain.rs:"), "{text}");
        assert!(text.contains("index out of bounds"), "{text}");
        assert_eq!(contained("adding", || 1 + 1).unwrap(), 2);
        let formatted = contained::<()>("formatting", || panic!("frame {}", 7)).unwrap_err();
        assert!(formatted.to_string().ends_with(": frame 7"), "{formatted}");
    }
}
