//! The storage port: what the desk needs from a database.
//!
//! A store keeps, for every record, an **append-only history** of events (with optimistic
//! concurrency: a write names the version it expects, and a stale write is a
//! [`StoreError::Conflict`] that changes nothing), a **row** per record that queries read (the
//! projection, written in the same transaction as the events), a **transactional outbox** of
//! notifications, and the bookkeeping of audit, GDPR and retention.
//!
//! **References** (`INC-000123`) are numbered per kind by the commit that creates the record:
//! the [`Commit`] carries a [`Commit::claim`], and the store records its number as the last of
//! its kind in the same transaction, only if it is greater than the last recorded; otherwise
//! the whole commit is refused with [`StoreError::ReferenceTaken`] and nothing is written. So
//! a number is never claimed twice (not even after its record is deleted), a record exists only
//! if its claim committed, and one write transaction creates a record. The writer learns the
//! last number from [`Store::last_allocated`] or from the refusal, and tries the next one.
//!
//! Every adapter (in-memory, SQLite, PostgreSQL) passes the same contract suite
//! (`tests/integration/storage_contract.rs`), so the desk behaves the same on each. Driver types
//! never appear here: adapters map their errors to [`StoreError`] kinds. The finer rules (what a
//! filter matches, how rows order, what a cursor holds, which commits are well formed) are code
//! in [`crate::contract`], which the in-memory adapter uses directly as the reference.

use std::fmt;

use async_trait::async_trait;
use desk_core::Timestamp;
use desk_core::id::{AssetRef, PersonId, RecordId, RecordKind, Reference, TeamId};
use desk_core::priority::Priority;
use desk_core::record::{Actor, Visibility};
use desk_core::tier::Tier;
use serde::{Deserialize, Serialize};

/// A SHA-256 digest, as lower-case hex in JSON and in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Digest(pub [u8; 32]);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Digest {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(StoreError::Corrupt(format!("`{text}` is not a SHA-256 digest")));
        }
        let mut digest = [0u8; 32];
        for (n, pair) in bytes.chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            digest[n] = hex.ok_or_else(|| StoreError::Corrupt(format!("`{text}` is not hex")))?;
        }
        Ok(Digest(digest))
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One event of a record's history, as written and read.
///
/// The hash chain: `content_digest` is SHA-256 of the actor and payload as canonical JSON;
/// `hash` is SHA-256 over `prev_hash`, `seq`, `at`, the event name and `content_digest`
/// (see [`crate::audit`]). Anonymisation may replace `payload` and `actor` (and then sets
/// `redacted`) but never the digests, so the chain still verifies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The record.
    pub record: RecordId,
    /// Position in the record's history, from 1.
    pub seq: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// Who caused it.
    pub actor: Actor,
    /// The event's name (its JSON `type`).
    pub name: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// The event as JSON.
    pub payload: serde_json::Value,
    /// Digest of the original actor and payload.
    pub content_digest: Digest,
    /// Hash of the previous event of this record (all zeros for the first).
    pub prev_hash: Digest,
    /// Hash of this event.
    pub hash: Digest,
    /// Whether anonymisation rewrote the payload or actor.
    pub redacted: bool,
}

/// An event read back, with its position in the store's global order (the change feed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Global position, strictly increasing in commit order.
    pub position: u64,
    /// The event.
    #[serde(flatten)]
    pub event: EventRecord,
}

/// The kind of a record row.
///
/// JSON shape: `"incident"`, `"service_request"`, …, `"requester"`, `"agent"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// An incident.
    Incident,
    /// A service request.
    ServiceRequest,
    /// A problem.
    Problem,
    /// A change.
    Change,
    /// An asset or CI.
    Asset,
    /// A knowledge article.
    Article,
    /// A complaint.
    Complaint,
    /// A requester.
    Requester,
    /// An agent.
    Agent,
}

impl RowKind {
    /// Every kind.
    pub const ALL: [RowKind; 9] = [
        RowKind::Incident,
        RowKind::ServiceRequest,
        RowKind::Problem,
        RowKind::Change,
        RowKind::Asset,
        RowKind::Article,
        RowKind::Complaint,
        RowKind::Requester,
        RowKind::Agent,
    ];

    /// The kind of row for a record.
    pub fn of(id: &RecordId) -> RowKind {
        match id {
            RecordId::Ref(reference) => match reference.kind() {
                RecordKind::Incident => RowKind::Incident,
                RecordKind::ServiceRequest => RowKind::ServiceRequest,
                RecordKind::Problem => RowKind::Problem,
                RecordKind::Change => RowKind::Change,
                RecordKind::Asset => RowKind::Asset,
                RecordKind::Article => RowKind::Article,
                RecordKind::Complaint => RowKind::Complaint,
            },
            RecordId::Requester(_) => RowKind::Requester,
            RecordId::Agent(_) => RowKind::Agent,
        }
    }

    /// The name used in JSON and in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            RowKind::Incident => "incident",
            RowKind::ServiceRequest => "service_request",
            RowKind::Problem => "problem",
            RowKind::Change => "change",
            RowKind::Asset => "asset",
            RowKind::Article => "article",
            RowKind::Complaint => "complaint",
            RowKind::Requester => "requester",
            RowKind::Agent => "agent",
        }
    }

    /// The kind called `name`.
    pub fn parse(name: &str) -> Option<RowKind> {
        RowKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// Where a record stands against its SLA clocks, for queues and reports.
///
/// JSON shape: `{"due_at": …, "warning_at": …, "warned": false, "breached_at": null}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaRow {
    /// The earliest due instant among running clocks.
    pub due_at: Option<Timestamp>,
    /// The earliest instant a running clock passes its first warning threshold.
    pub warning_at: Option<Timestamp>,
    /// Whether any clock has passed a warning threshold.
    pub warned: bool,
    /// When the first clock breached, if one has.
    pub breached_at: Option<Timestamp>,
}

/// The queryable projection of one record, written with its events.
///
/// JSON shape: an object with the fields below; `state` is the record's full JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    /// The record.
    pub id: RecordId,
    /// Its kind.
    pub kind: RowKind,
    /// Its version: the `seq` of its last event.
    pub version: u64,
    /// Its status, as its JSON name (`"in_progress"`).
    pub status: String,
    /// Whether work on it is still to be done.
    pub open: bool,
    /// Title or name.
    pub title: String,
    /// Free text searched with the title (description, body).
    pub body: String,
    /// The team that has it.
    pub team: Option<TeamId>,
    /// The tier it is at.
    pub tier: Option<Tier>,
    /// The agent who has it.
    pub agent: Option<PersonId>,
    /// Its priority.
    pub priority: Option<Priority>,
    /// The person it is for.
    pub requester: Option<PersonId>,
    /// Everyone it mentions (requester, agents, approvers, actors): GDPR looks here.
    pub people: Vec<PersonId>,
    /// The configuration items it names.
    pub cis: Vec<AssetRef>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When it was closed (or finished), for retention.
    pub closed_at: Option<Timestamp>,
    /// SLA standing.
    pub sla: SlaRow,
    /// When the timer scheduler must next look at it (next warning or breach).
    pub wake_at: Option<Timestamp>,
    /// The record's state as JSON.
    pub state: serde_json::Value,
}

/// Appending events to one record.
///
/// A record's version is the `seq` of its last event, 0 before it has any.
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    /// The record.
    pub record: RecordId,
    /// The version the writer read: 0 for a new record.
    pub expected_version: u64,
    /// The events, with `seq` from `expected_version + 1`.
    pub events: Vec<EventRecord>,
}

/// A notification waiting to be delivered.
///
/// JSON shape: an object with the fields below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Idempotency key: the same message is never enqueued twice, and deliverers pass it on
    /// so that a redelivery is recognised downstream.
    pub key: String,
    /// The record it is about.
    pub record: RecordId,
    /// What happened, e.g. `incident.resolved`, `sla.breached`.
    pub topic: String,
    /// Everything needed to render it (recipients, subject facts, public text).
    pub payload: serde_json::Value,
    /// When it was enqueued.
    pub created_at: Timestamp,
}

/// Everything one command writes, atomically: all or nothing.
///
/// Appends apply in order, so two appends to one record must chain (the second expects the
/// version the first leaves). An append without events only checks the version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    /// Histories to extend (a command may touch several records: a parent and its children).
    pub appends: Vec<Append>,
    /// Rows to insert or replace.
    pub rows: Vec<RecordRow>,
    /// Notifications to enqueue. A key the store has seen before (waiting, delivered or dead)
    /// is skipped, so a message is enqueued at most once.
    pub outbox: Vec<OutboxMessage>,
    /// The reference a new record takes: the commit records its number as the last of its
    /// kind, and is refused with [`StoreError::ReferenceTaken`] unless the number is greater
    /// than the last recorded.
    pub claim: Option<Reference>,
}

/// A claimed outbox message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// The message.
    pub message: OutboxMessage,
    /// Delivery attempts so far, including this one.
    pub attempts: u32,
}

/// What happened to a delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Delivery {
    /// Delivered: remove it from the outbox.
    Delivered,
    /// Failed; try again at `retry_at`.
    Retry {
        /// Why it failed.
        error: String,
        /// When to try again.
        retry_at: Timestamp,
    },
    /// Failed for good: move it to the dead letters.
    Dead {
        /// Why it failed.
        error: String,
    },
}

/// A dead letter: a message given up on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The message.
    pub message: OutboxMessage,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it was given up on.
    pub dead_at: Timestamp,
}

/// Which rows a query wants. Every field narrows the result; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// Only this kind.
    pub kind: Option<RowKind>,
    /// Only open (or only not open) records.
    pub open: Option<bool>,
    /// Only these statuses.
    pub statuses: Vec<String>,
    /// Only this team's.
    pub team: Option<TeamId>,
    /// Only this tier's.
    pub tier: Option<Tier>,
    /// Only this agent's.
    pub agent: Option<PersonId>,
    /// Only this requester's.
    pub requester: Option<PersonId>,
    /// Only records naming this CI.
    pub ci: Option<AssetRef>,
    /// Only records whose title or body contains every word of this text.
    pub text: Option<String>,
    /// Only open records at risk: a warning passed, or due before this instant.
    pub at_risk_before: Option<Timestamp>,
    /// `Some(true)`: only open records that breached an SLA (the "open past SLA" report);
    /// `Some(false)`: only records that have not breached.
    pub breached: Option<bool>,
}

/// The order of a query's rows. Every order ends with the record id, so it is total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Work queue: priority (P1 first, none last), then SLA due (soonest first, none last).
    #[default]
    Queue,
    /// Soonest SLA due first (none last).
    Due,
    /// Most recently created first.
    Newest,
    /// Most recently updated first.
    Updated,
}

/// A page request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// Which rows.
    pub filter: Filter,
    /// In which order.
    pub order: Order,
    /// At most this many (adapters cap it at 1,000).
    pub limit: u32,
    /// Continue after this cursor (from a previous [`Page::next`]).
    pub after: Option<Cursor>,
}

/// An opaque position in a query's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

/// One page of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The rows.
    pub rows: Vec<RecordRow>,
    /// Where the next page starts, if there may be one.
    pub next: Option<Cursor>,
}

/// A legal hold on a record: retention and anonymisation leave it alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// The record.
    pub record: RecordId,
    /// Why (a case reference).
    pub reason: String,
    /// Who placed it.
    pub placed_by: Actor,
    /// When.
    pub placed_at: Timestamp,
}

/// Why a store operation failed. Drivers' errors are mapped to these kinds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A write expected a version the record no longer has; nothing was written.
    #[error("{record} changed since it was read: expected version {expected}, found {actual}")]
    Conflict {
        /// The record.
        record: RecordId,
        /// The version the writer expected.
        expected: u64,
        /// The version it has.
        actual: u64,
    },
    /// A commit claimed a reference whose number is not above the last of its kind; nothing
    /// was written.
    #[error("{reference} is taken: the last {} reference is number {last}", reference.kind().noun())]
    ReferenceTaken {
        /// The reference claimed.
        reference: Reference,
        /// The last number of its kind when the claim was refused.
        last: u32,
    },
    /// No such record.
    #[error("{0} does not exist")]
    NotFound(RecordId),
    /// The record is under a legal hold.
    #[error("{0} is under a legal hold")]
    OnHold(RecordId),
    /// The database was written by a newer version of the desk.
    #[error(
        "the database schema is version {found}, newer than this desk understands ({supported}): upgrade the desk"
    )]
    NewerSchema {
        /// The schema version found.
        found: u32,
        /// The newest this build supports.
        supported: u32,
    },
    /// Stored data does not make sense (bad JSON, broken invariants).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The request itself is malformed (events out of sequence, a cursor of another order).
    #[error("invalid storage request: {0}")]
    Invalid(String),
    /// The database could not be reached or refused the operation.
    #[error("storage backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a driver error.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(error))
    }
}

/// A database for the desk. See the module docs for the contract.
#[async_trait]
pub trait Store: Send + Sync {
    /// The last reference number of `kind` a commit claimed (0 before any): the next record
    /// of that kind claims a greater one (see [`Commit::claim`]).
    async fn last_allocated(&self, kind: RecordKind) -> Result<u32, StoreError>;

    /// The whole history of `record`, in order; empty if it does not exist.
    async fn history(&self, record: &RecordId) -> Result<Vec<StoredEvent>, StoreError>;

    /// Writes a commit atomically. Fails with [`StoreError::Conflict`] if any append's
    /// `expected_version` is not the record's current version, and with
    /// [`StoreError::ReferenceTaken`] if its claim's number is not above the last of its kind;
    /// then nothing is written. Of several commits claiming one number, exactly one wins.
    /// Concurrent commits to one record are serialisable: exactly one of several writers
    /// expecting the same version wins. A malformed commit (see
    /// [`crate::contract::check_commit`]) is [`StoreError::Invalid`].
    async fn commit(&self, commit: Commit) -> Result<(), StoreError>;

    /// The row of `record`, if it exists.
    async fn row(&self, record: &RecordId) -> Result<Option<RecordRow>, StoreError>;

    /// A page of rows.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// Events after global `position`, in order, at most `limit` (the change feed).
    async fn events_after(&self, position: u64, limit: u32)
    -> Result<Vec<StoredEvent>, StoreError>;

    /// The earliest `wake_at` of any row.
    async fn next_wake(&self) -> Result<Option<Timestamp>, StoreError>;

    /// Records whose `wake_at` is at or before `now`, earliest first, at most `limit`.
    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<RecordId>, StoreError>;

    /// Claims up to `limit` outbox messages ready at `now` for `lease` (unclaimed or whose
    /// lease ran out), counting an attempt on each. Two claimers never get the same message
    /// while its lease lasts.
    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    /// Records the outcome of delivering the message with `key`. Settling a message that is
    /// already delivered or dead, or that does not exist, changes nothing.
    async fn settle_outbox(
        &self,
        key: &str,
        delivery: Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Messages given up on, oldest first.
    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError>;

    /// Rows mentioning `person` (in [`RecordRow::people`]).
    async fn mentioning(&self, person: &PersonId) -> Result<Vec<RecordId>, StoreError>;

    /// Rewrites events of one record and its row for anonymisation: each given event keeps its
    /// seq and digests and gets the new payload and actor, marked redacted; the row is replaced;
    /// `rename` moves the whole record to a new id (a person record keyed by the person's id).
    /// Refused with [`StoreError::OnHold`] for a record under a legal hold, with
    /// [`StoreError::NotFound`] for a record with neither history nor row, and with
    /// [`StoreError::Conflict`] if the record's version is no longer the new row's version
    /// (it changed while the redaction was prepared).
    async fn redact(&self, redaction: Redaction) -> Result<(), StoreError>;

    /// Closed records of `kind` whose `closed_at` is before `cutoff`, not under hold.
    async fn closed_before(
        &self,
        kind: RowKind,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<RecordId>, StoreError>;

    /// Deletes a record's history, row and outbox messages (retention). Refused with
    /// [`StoreError::OnHold`] for a record under hold, [`StoreError::NotFound`] for an unknown one.
    async fn delete(&self, record: &RecordId) -> Result<(), StoreError>;

    /// Places or replaces a legal hold on an existing record ([`StoreError::NotFound`] if none).
    async fn place_hold(&self, hold: LegalHold) -> Result<(), StoreError>;

    /// Releases the hold on `record`, if any.
    async fn release_hold(&self, record: &RecordId) -> Result<(), StoreError>;

    /// The hold on `record`, if any.
    async fn hold(&self, record: &RecordId) -> Result<Option<LegalHold>, StoreError>;
}

/// An anonymisation of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Redaction {
    /// The record.
    pub record: RecordId,
    /// The events to rewrite (seq, payload, actor are taken from each).
    pub events: Vec<EventRecord>,
    /// The record's new row (with the new id if renamed).
    pub row: RecordRow,
    /// A new id for the record, when the id itself is personal data.
    pub rename: Option<RecordId>,
}
