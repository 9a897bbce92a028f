//! The transactional outbox: notifications committed with the events that cause them.
//!
//! Every command's events and the notifications they cause are written in one
//! [`crate::store::Commit`], so a crash can never record a resolution and lose the email that
//! tells the requester, nor send an email about something that was never recorded. A
//! [`Dispatcher`] then delivers the messages **at least once** through a [`Notifier`]: it claims
//! a batch with a lease, delivers, and settles each (delivered, retry later with exponential
//! backoff, or dead letter after too many attempts). Each message has an idempotency key derived
//! from (record, event sequence number, topic, recipient), so the same notification is never
//! enqueued twice and a receiver can recognise a redelivery. Keys begin with the event's time,
//! so that they sort in the order messages are written (see [`idempotency_key`]).
//!
//! ## Topics
//!
//! | topic | when | to | audience |
//! |---|---|---|---|
//! | `incident.logged` | an incident is logged | its requester (acknowledgement) | public |
//! | `incident.assigned` | assigned, routed, escalated or de-escalated to a team | the team (and the agent, if named) | staff |
//! | `incident.updated` | a customer-visible update (also one relayed from a parent) | the requester | public |
//! | `incident.resolved` | resolved (also with its parent) | the requester | public |
//! | `incident.major_declared` | declared a major incident | the service desk manager | staff |
//! | `incident.escalated` | escalated to a team lead or the manager | that person | staff |
//! | `sla.warning` | an SLA clock passed a warning threshold | the team's lead | staff |
//! | `sla.breached` | an SLA clock breached | the team's lead and the manager | staff |
//! | `request.submitted` | a service request is submitted | its requester | public |
//! | `request.approval_requested` | an approval is asked for | the line manager when known, else the role | public |
//! | `request.task_ready` | a fulfilment task can start | the task's team | staff |
//! | `request.rejected` / `request.fulfilled` | the request ends either way | the requester | public |
//! | `request.updated` | a customer-visible comment | the requester | public |
//! | `complaint.lodged` | a complaint is lodged | its handler | staff |
//! | `complaint.assigned` | escalated to stage 2 or reassigned | the new handler | staff |
//! | `complaint.acknowledged` / `complaint.responded` / `complaint.updated` | the complainant hears back | the complainant | public |
//! | `problem.assigned` | a problem is given to a team | the team | staff |
//!
//! A **public** message carries only what the requester may see: the reference, title and
//! status, and the text of a public event (never an internal work note, a priority or a team).
//! A **staff** message adds priority, team and requester.
//!
//! ## Payload
//!
//! [`crate::store::OutboxMessage::payload`] is a [`Notification`] as JSON:
//!
//! ```json
//! {"topic": "incident.resolved", "record": "INC-000042", "seq": 6, "at": "2026-03-02T11:05:00Z",
//!  "audience": "public",
//!  "recipient": {"kind": "person", "id": "k.lee", "name": "Kim Lee", "email": "k.lee@example.gov.uk"},
//!  "subject": {"reference": "INC-000042", "kind": "incident", "title": "Printer jams",
//!              "status": "resolved", "priority": null, "team": null, "requester": "k.lee"},
//!  "text": "Replaced the fuser unit"}
//! ```

mod dispatch;
mod notifiers;

use std::fmt;

use desk_core::Timestamp;
use desk_core::config::ApprovalRole;
use desk_core::id::{PersonId, RecordId, TeamId};
use desk_core::people::{Contact, Email};
use desk_core::priority::Priority;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use self::dispatch::{DispatchReport, Dispatcher, RetryPolicy};
pub use self::notifiers::{DeliveryError, LogNotifier, Notifier, RecordingNotifier};
use crate::store::{OutboxMessage, RowKind};

/// What a notification is about.
///
/// JSON shape: the dotted name, e.g. `"incident.resolved"` (see the module docs for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Topic {
    /// An incident was logged.
    #[serde(rename = "incident.logged")]
    IncidentLogged,
    /// An incident went to a team.
    #[serde(rename = "incident.assigned")]
    IncidentAssigned,
    /// A customer-visible update on an incident.
    #[serde(rename = "incident.updated")]
    IncidentUpdated,
    /// An incident was resolved.
    #[serde(rename = "incident.resolved")]
    IncidentResolved,
    /// An incident was declared major.
    #[serde(rename = "incident.major_declared")]
    MajorDeclared,
    /// An incident was escalated up the management line.
    #[serde(rename = "incident.escalated")]
    IncidentEscalated,
    /// An SLA clock passed a warning threshold.
    #[serde(rename = "sla.warning")]
    SlaWarning,
    /// An SLA clock breached.
    #[serde(rename = "sla.breached")]
    SlaBreached,
    /// A service request was submitted.
    #[serde(rename = "request.submitted")]
    RequestSubmitted,
    /// An approval of a service request is wanted.
    #[serde(rename = "request.approval_requested")]
    ApprovalRequested,
    /// A fulfilment task can start.
    #[serde(rename = "request.task_ready")]
    TaskReady,
    /// A service request was rejected.
    #[serde(rename = "request.rejected")]
    RequestRejected,
    /// A service request was fulfilled.
    #[serde(rename = "request.fulfilled")]
    RequestFulfilled,
    /// A customer-visible comment on a service request.
    #[serde(rename = "request.updated")]
    RequestUpdated,
    /// A complaint was lodged.
    #[serde(rename = "complaint.lodged")]
    ComplaintLodged,
    /// A complaint has a new handler.
    #[serde(rename = "complaint.assigned")]
    ComplaintAssigned,
    /// A complaint was acknowledged.
    #[serde(rename = "complaint.acknowledged")]
    ComplaintAcknowledged,
    /// A complaint was answered.
    #[serde(rename = "complaint.responded")]
    ComplaintResponded,
    /// A customer-visible comment on a complaint.
    #[serde(rename = "complaint.updated")]
    ComplaintUpdated,
    /// A problem went to a team.
    #[serde(rename = "problem.assigned")]
    ProblemAssigned,
}

impl Topic {
    /// The dotted name, as stored in [`OutboxMessage::topic`].
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::IncidentLogged => "incident.logged",
            Topic::IncidentAssigned => "incident.assigned",
            Topic::IncidentUpdated => "incident.updated",
            Topic::IncidentResolved => "incident.resolved",
            Topic::MajorDeclared => "incident.major_declared",
            Topic::IncidentEscalated => "incident.escalated",
            Topic::SlaWarning => "sla.warning",
            Topic::SlaBreached => "sla.breached",
            Topic::RequestSubmitted => "request.submitted",
            Topic::ApprovalRequested => "request.approval_requested",
            Topic::TaskReady => "request.task_ready",
            Topic::RequestRejected => "request.rejected",
            Topic::RequestFulfilled => "request.fulfilled",
            Topic::RequestUpdated => "request.updated",
            Topic::ComplaintLodged => "complaint.lodged",
            Topic::ComplaintAssigned => "complaint.assigned",
            Topic::ComplaintAcknowledged => "complaint.acknowledged",
            Topic::ComplaintResponded => "complaint.responded",
            Topic::ComplaintUpdated => "complaint.updated",
            Topic::ProblemAssigned => "problem.assigned",
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may read a notification, and so what it may contain.
///
/// JSON shape: `"public"` or `"staff"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Requesters, approvers, complainants: public facts and public text only.
    Public,
    /// Desk staff: priority, team and requester as well.
    Staff,
}

/// Who a notification is for, with how to reach them when the desk knows.
///
/// JSON shape: `{"kind": "person", "id": "k.lee", "name": "Kim Lee", "email": "k.lee@…"}`,
/// `{"kind": "team", "id": "networks", "name": "Networks", "email": null}` or
/// `{"kind": "role", "role": "budget_holder"}` (an approver the desk cannot name: the
/// integrator's directory decides who holds the role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    /// A person.
    Person {
        /// Their identifier.
        id: PersonId,
        /// Their name, if the desk has a record of them.
        name: Option<String>,
        /// Their email address, if known.
        email: Option<Email>,
    },
    /// A team, through its shared mailbox.
    Team {
        /// The team.
        id: TeamId,
        /// Its name.
        name: Option<String>,
        /// Its mailbox, if configured.
        email: Option<String>,
    },
    /// Whoever holds an approval role.
    Role {
        /// The role.
        role: ApprovalRole,
    },
}

impl Recipient {
    /// A person known only by their identifier.
    pub fn person(id: PersonId) -> Self {
        Recipient::Person { id, name: None, email: None }
    }

    /// A person with their contact details.
    pub fn with_contact(id: PersonId, contact: Option<&Contact>) -> Self {
        Recipient::Person {
            id,
            name: contact.map(|c| c.name.clone()),
            email: contact.and_then(|c| c.email.clone()),
        }
    }

    /// What identifies the recipient in idempotency keys: `person:k.lee`, `team:networks`,
    /// `role:budget_holder`.
    pub fn key(&self) -> String {
        match self {
            Recipient::Person { id, .. } => format!("person:{id}"),
            Recipient::Team { id, .. } => format!("team:{id}"),
            Recipient::Role { role } => format!("role:{}", crate::records::json_name(role)),
        }
    }
}

/// The facts a notification is about.
///
/// JSON shape: `{"reference": "INC-000042", "kind": "incident", "title": "…", "status":
/// "resolved", "priority": "P3", "team": "desk-side", "requester": "k.lee"}` (`priority` and
/// `team` are `null` in public messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The record.
    pub reference: RecordId,
    /// Its kind.
    pub kind: RowKind,
    /// Its title.
    pub title: String,
    /// Its status, as its JSON name.
    pub status: String,
    /// Its priority (staff only).
    pub priority: Option<Priority>,
    /// The team that has it (staff only).
    pub team: Option<TeamId>,
    /// The person it is for.
    pub requester: Option<PersonId>,
}

/// A notification: the payload of an [`OutboxMessage`], everything needed to render it.
///
/// JSON shape: see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// What it is about.
    pub topic: Topic,
    /// The record.
    pub record: RecordId,
    /// The sequence number of the event that caused it.
    pub seq: u64,
    /// When that event happened.
    pub at: Timestamp,
    /// Who may read it.
    pub audience: Audience,
    /// Who it is for.
    pub recipient: Recipient,
    /// The facts of the record.
    pub subject: Subject,
    /// The text to pass on (an update, a resolution note, a reason), if any.
    pub text: Option<String>,
}

impl Notification {
    /// The notification carried by `message`.
    pub fn of(message: &OutboxMessage) -> Result<Notification, serde_json::Error> {
        serde_json::from_value(message.payload.clone())
    }

    /// The idempotency key (see [`idempotency_key`]). It holds no personal data, so it may
    /// stay in the store after anonymisation.
    pub fn key(&self) -> String {
        idempotency_key(&self.record, self.seq, self.at, self.topic, &self.recipient)
    }
}

/// The idempotency key of a notification about event `seq` of `record`, which happened `at`:
/// 32 hex digits, the event's time in milliseconds since 1970 (12 digits) and then a digest of
/// (record, seq, topic, recipient) (20 digits).
///
/// The time comes first so that keys sort in the order messages are written: a store's unique
/// index of keys then grows at its end, where a key that sorted at random would change a page
/// anywhere in the index with every message (and each such page is written to the database's
/// log again, then copied back at the next checkpoint).
pub fn idempotency_key(
    record: &RecordId,
    seq: u64,
    at: Timestamp,
    topic: Topic,
    recipient: &Recipient,
) -> String {
    let mut hasher = Sha256::new();
    for part in [record.to_string(), seq.to_string(), topic.as_str().to_owned(), recipient.key()] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    // Twelve hex digits hold every millisecond until the year 10889; none is before 1970.
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0).min(KEY_TIME_MAX);
    let digest: String =
        hasher.finalize().iter().take(10).map(|byte| format!("{byte:02x}")).collect();
    format!("{millis:012x}{digest}")
}

/// The largest time, in milliseconds, that an idempotency key's twelve hex digits hold.
const KEY_TIME_MAX: u64 = (1 << 48) - 1;

/// A notification a record type asks for, before recipients are looked up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Notice {
    pub(crate) seq: u64,
    pub(crate) at: Timestamp,
    pub(crate) topic: Topic,
    pub(crate) to: To,
    pub(crate) audience: Audience,
    pub(crate) text: Option<String>,
}

/// Who a [`Notice`] is for, before the desk looks them up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum To {
    /// A person.
    Person(PersonId),
    /// A team.
    Team(TeamId),
    /// The line manager of a person (an approver), or the role when the desk does not know.
    LineManagerOf(PersonId),
    /// An approval role.
    Role(ApprovalRole),
}

impl Notice {
    /// A notice about the event `recorded`.
    pub(crate) fn about<E>(
        recorded: &desk_core::record::Recorded<E>,
        topic: Topic,
        to: To,
        audience: Audience,
        text: Option<&str>,
    ) -> Notice {
        Notice {
            seq: recorded.seq,
            at: recorded.at,
            topic,
            to,
            audience,
            text: text.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn key_at(at: Timestamp, seq: u64) -> String {
        let record: RecordId = "INC-000042".parse().unwrap();
        let team = Recipient::Team { id: "networks".parse().unwrap(), name: None, email: None };
        idempotency_key(&record, seq, at, Topic::IncidentAssigned, &team)
    }

    #[test]
    fn keys_sort_in_the_order_their_events_happened() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 15, 0).unwrap();
        let keys: Vec<String> =
            (0..50).map(|n| key_at(at + Duration::milliseconds(n * 7), 50 - n as u64)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
        assert!(
            keys.iter().all(|key| key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        assert_eq!(&keys[0][..12], format!("{:012x}", at.timestamp_millis()));
    }

    #[test]
    fn keys_of_one_instant_still_differ_by_event_topic_and_recipient() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 15, 0).unwrap();
        assert_ne!(key_at(at, 1), key_at(at, 2));
        let record: RecordId = "INC-000042".parse().unwrap();
        let person = Recipient::person("k.lee".parse().unwrap());
        let logged = idempotency_key(&record, 1, at, Topic::IncidentLogged, &person);
        let updated = idempotency_key(&record, 1, at, Topic::IncidentUpdated, &person);
        assert_ne!(logged, updated);
        assert_eq!(&logged[..12], &updated[..12]);
    }

    #[test]
    fn times_outside_the_keys_range_are_clamped() {
        let before_1970 = Utc.with_ymd_and_hms(1969, 12, 31, 23, 0, 0).unwrap();
        assert!(key_at(before_1970, 1).starts_with("000000000000"));
        let far = Utc.with_ymd_and_hms(262_000, 1, 1, 0, 0, 0).unwrap();
        assert!(key_at(far, 1).starts_with("ffffffffffff"));
    }
}
