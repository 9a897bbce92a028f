//! The delivery port, and two notifiers that ship with the desk.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use super::Notification;
use crate::store::OutboxMessage;

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Worth trying again later (a server down, a timeout, a rate limit).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Trying again will not help (no such mailbox, a message the receiver rejects).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Delivers notifications: email, webhooks, chat cards (later issues), or a log line.
///
/// A notifier must tolerate the same message twice (delivery is at least once): pass
/// [`OutboxMessage::key`] on as an idempotency key where the receiver supports one.
#[async_trait]
pub trait Notifier: Send + Sync + fmt::Debug {
    /// Delivers one message.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError>;
}

/// A notifier that writes each message as a `tracing` event (target `desk::outbox`) and
/// succeeds: for development, and for desks whose notifications are read from the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let recipient = Notification::of(message).map(|n| n.recipient.key()).unwrap_or_default();
        tracing::info!(
            target: "desk::outbox",
            key = %message.key,
            record = %message.record,
            topic = %message.topic,
            recipient = %recipient,
            "notification"
        );
        Ok(())
    }
}

/// A notifier that remembers what it delivered, and fails when told to: for tests.
///
/// Clones share what they remember.
#[derive(Debug, Clone, Default)]
pub struct RecordingNotifier {
    inner: Arc<Mutex<Recording>>,
}

#[derive(Debug, Default)]
struct Recording {
    delivered: Vec<OutboxMessage>,
    attempts: usize,
    failures: VecDeque<DeliveryError>,
}

impl RecordingNotifier {
    /// A notifier that delivers everything.
    pub fn new() -> Self {
        RecordingNotifier::default()
    }

    /// Makes the next `count` deliveries fail with `error`.
    pub fn fail_next(&self, count: usize, error: DeliveryError) {
        let mut recording = self.lock();
        recording.failures.extend(std::iter::repeat_n(error, count));
    }

    /// Every message delivered, in order (a message delivered twice appears twice).
    pub fn delivered(&self) -> Vec<OutboxMessage> {
        self.lock().delivered.clone()
    }

    /// The notifications delivered, decoded.
    pub fn notifications(&self) -> Vec<Notification> {
        self.lock().delivered.iter().filter_map(|m| Notification::of(m).ok()).collect()
    }

    /// How many deliveries were attempted, failed ones included.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recording> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let mut recording = self.lock();
        recording.attempts += 1;
        match recording.failures.pop_front() {
            Some(error) => Err(error),
            None => {
                recording.delivered.push(message.clone());
                Ok(())
            }
        }
    }
}
