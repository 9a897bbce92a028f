//! Delivering the outbox: claim with a lease, deliver, settle.

use std::future::Future;
use std::sync::Arc;

use super::{DeliveryError, Notifier};
use crate::Desk;
use crate::error::Error;
use crate::store::Delivery;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// How the dispatcher paces itself.
///
/// The n-th failed attempt of a message is retried after `first_retry × 2ⁿ⁻¹`, at most
/// `max_retry`; after `max_attempts` attempts (or at once, for a permanent failure) the message
/// becomes a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Messages claimed at once.
    pub batch: u32,
    /// How long a claim lasts: a dispatcher that dies mid-batch leaves its messages to another
    /// after this.
    pub lease: TimeDelta,
    /// The wait after the first failure.
    pub first_retry: TimeDelta,
    /// The longest wait between attempts.
    pub max_retry: TimeDelta,
    /// Attempts before a message is given up on.
    pub max_attempts: u32,
    /// How long [`Dispatcher::run`] sleeps when there is nothing to do (it also wakes when this
    /// process commits).
    pub idle: TimeDelta,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            batch: 50,
            lease: TimeDelta::minutes(5),
            first_retry: TimeDelta::seconds(30),
            max_retry: TimeDelta::hours(1),
            max_attempts: 8,
            idle: TimeDelta::seconds(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt.
    pub fn backoff(&self, attempts: u32) -> TimeDelta {
        let doublings = attempts.saturating_sub(1).min(30);
        let wait = self.first_retry.checked_mul(1 << doublings).unwrap_or(self.max_retry);
        wait.min(self.max_retry)
    }
}

/// What one round of delivery did.
///
/// JSON shape: `{"claimed": 3, "delivered": 2, "retried": 1, "dead": 0}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchReport {
    /// Messages claimed.
    pub claimed: u32,
    /// Delivered.
    pub delivered: u32,
    /// Failed, to be tried again.
    pub retried: u32,
    /// Given up on.
    pub dead: u32,
}

/// Delivers outbox messages through a [`Notifier`], at least once.
///
/// Several dispatchers (in one process or several) may share a store: claims are leased, so a
/// message is with one dispatcher at a time, and one whose dispatcher died is claimed again when
/// the lease runs out.
///
/// ```no_run
/// # async fn example(desk: desk::Desk) {
/// use std::sync::Arc;
/// use desk::outbox::{Dispatcher, LogNotifier};
///
/// let dispatcher = Dispatcher::new(&desk, Arc::new(LogNotifier));
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let running = tokio::spawn(async move {
///     dispatcher.run(async { stopped.await.ok(); }).await
/// });
/// // … later, on shutdown:
/// stop.send(()).ok();
/// running.await.ok();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Dispatcher {
    desk: Desk,
    notifier: Arc<dyn Notifier>,
    policy: RetryPolicy,
}

impl Dispatcher {
    /// A dispatcher for `desk`'s outbox, with the default [`RetryPolicy`].
    pub fn new(desk: &Desk, notifier: Arc<dyn Notifier>) -> Self {
        Dispatcher { desk: desk.clone(), notifier, policy: RetryPolicy::default() }
    }

    /// The same dispatcher with another retry policy.
    pub fn with_policy(self, policy: RetryPolicy) -> Self {
        Dispatcher { policy, ..self }
    }

    /// Claims one batch of ready messages, delivers each and records the outcome.
    pub async fn run_once(&self) -> Result<DispatchReport, Error> {
        let store = self.desk.store();
        let now = self.desk.now();
        let items = store.claim_outbox(now, now + self.policy.lease, self.policy.batch).await?;
        let mut report =
            DispatchReport { claimed: items.len() as u32, ..DispatchReport::default() };
        for item in items {
            let outcome = self.notifier.deliver(&item.message).await;
            let now = self.desk.now();
            let delivery = match outcome {
                Ok(()) => {
                    report.delivered += 1;
                    Delivery::Delivered
                }
                Err(DeliveryError::Transient(error))
                    if item.attempts < self.policy.max_attempts =>
                {
                    report.retried += 1;
                    let retry_at = now + self.policy.backoff(item.attempts);
                    tracing::debug!(key = %item.message.key, attempts = item.attempts, %retry_at, %error, "delivery failed; will retry");
                    Delivery::Retry { error, retry_at }
                }
                Err(error) => {
                    report.dead += 1;
                    tracing::warn!(key = %item.message.key, topic = %item.message.topic, attempts = item.attempts, %error, "notification given up on");
                    Delivery::Dead { error: error.to_string() }
                }
            };
            store.settle_outbox(&item.message.key, delivery, now).await?;
        }
        Ok(report)
    }

    /// Delivers until `shutdown` completes: a batch, then (when the batch was not full) a sleep
    /// of [`RetryPolicy::idle`] cut short by any commit of this process's desk. Store failures
    /// are logged and retried after the idle time; the loop ends only at shutdown.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut commits = self.desk.commits();
        loop {
            commits.mark_unchanged();
            let full = match self.run_once().await {
                Ok(report) => report.claimed >= self.policy.batch,
                Err(error) => {
                    tracing::warn!(%error, "outbox delivery failed; trying again later");
                    false
                }
            };
            if full {
                continue;
            }
            let wake = self.desk.now() + self.policy.idle;
            tokio::select! {
                () = &mut shutdown => return,
                () = self.desk.clock().sleep_until(wake) => {}
                _ = commits.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let waits: Vec<i64> = (1..=9).map(|n| policy.backoff(n).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(policy.backoff(u32::MAX), TimeDelta::hours(1));
    }
}
