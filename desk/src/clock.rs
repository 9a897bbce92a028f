//! The clock port: where the desk's "now" comes from, and how it waits.
//!
//! Production code uses [`SystemClock`]. Tests use a [`ManualClock`], which stands still until
//! the test sets or advances it, so every timestamp, SLA deadline and retry is predictable; the
//! timer [`crate::timers::Scheduler`] and the outbox [`crate::outbox::Dispatcher`] wait through the clock, so
//! they too run on manual time in tests, without real sleeps.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use desk_core::Timestamp;
use tokio::sync::watch;

/// Where the time comes from.
#[async_trait]
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;

    /// Returns once the clock reads `deadline` or later.
    async fn sleep_until(&self, deadline: Timestamp);
}

/// The real time, from the operating system; waits with `tokio::time`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }

    async fn sleep_until(&self, deadline: Timestamp) {
        let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// A clock that moves only when told to: for tests and simulations.
///
/// Clones share the same time. Tasks waiting in [`Clock::sleep_until`] wake when the clock is
/// set or advanced past their deadline.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use desk::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
/// clock.advance(TimeDelta::minutes(90));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 3, 2, 10, 30, 0).unwrap());
/// ```
#[derive(Clone)]
pub struct ManualClock {
    time: Arc<Mutex<Timestamp>>,
    changed: Arc<watch::Sender<Timestamp>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> Self {
        let (changed, _) = watch::channel(start);
        ManualClock { time: Arc::new(Mutex::new(start)), changed: Arc::new(changed) }
    }

    /// Sets the time (it may go backwards, as a badly set server clock can).
    pub fn set(&self, at: Timestamp) {
        *self.time.lock().unwrap_or_else(PoisonError::into_inner) = at;
        self.changed.send_replace(at);
    }

    /// Moves the time on by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let at = {
            let mut time = self.time.lock().unwrap_or_else(PoisonError::into_inner);
            *time += by;
            *time
        };
        self.changed.send_replace(at);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.time.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn sleep_until(&self, deadline: Timestamp) {
        let mut changes = self.changed.subscribe();
        // The sender lives as long as this clock, so `wait_for` ends only when the time comes.
        let _ = changes.wait_for(|now| *now >= deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn nine() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_manual_sleeper_wakes_when_the_clock_passes_its_deadline() {
        let clock = ManualClock::new(nine());
        let deadline = nine() + TimeDelta::minutes(10);
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(deadline).await })
        };
        tokio::task::yield_now().await;
        clock.advance(TimeDelta::minutes(5));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "five minutes is not ten");
        clock.advance(TimeDelta::minutes(5));
        assert!(sleeper.await.is_ok());
        assert_eq!(clock.now(), deadline);
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_returns_at_once() {
        let clock = ManualClock::new(nine());
        clock.sleep_until(nine() - TimeDelta::hours(1)).await;
        SystemClock.sleep_until(Utc::now() - TimeDelta::seconds(1)).await;
        clock.set(nine() - TimeDelta::days(1));
        assert_eq!(clock.now(), nine() - TimeDelta::days(1));
    }
}
