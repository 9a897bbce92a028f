//! The shape every record shares: commands → [`Aggregate::decide`] → events → [`Aggregate::apply`].
//!
//! `decide` holds every business rule. It reads the current state (or `None` before the record
//! exists), a command, and a [`Context`] (the time, who is acting, the configuration), and either
//! refuses with a typed error or returns the events that record what happened. `apply` only folds
//! an event into the state; it never refuses a valid history, so replaying a record's stored
//! events always rebuilds the state the record had.
//!
//! Events are stored inside a [`Recorded`] envelope that adds the record's reference, its position
//! in the record's history, the time and the actor. The envelope is the unit of storage, audit and
//! SLA evaluation.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::config::DeskConfig;
use crate::id::{PersonId, RecordId};

/// An instant, always in UTC. Local time is a calendar's business (see the SLA engine).
pub type Timestamp = DateTime<Utc>;

/// Who issued a command.
///
/// JSON shape: `{"kind": "agent", "id": "j.smith"}`, `{"kind": "requester", "id": "k.lee"}`,
/// `{"kind": "system"}` or `{"kind": "rule", "id": "vip-watch"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A member of desk staff (any tier, a team lead or a manager).
    Agent(PersonId),
    /// The person the ticket is for, acting through the portal or email.
    Requester(PersonId),
    /// The desk itself: timers, cascades from a parent incident, automatic closure.
    System,
    /// A routing rule, by name.
    Rule(String),
}

impl Actor {
    /// The person behind this actor, if it is a person.
    pub fn person(&self) -> Option<&PersonId> {
        match self {
            Actor::Agent(id) | Actor::Requester(id) => Some(id),
            Actor::System | Actor::Rule(_) => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Agent(id) => write!(f, "agent {id}"),
            Actor::Requester(id) => write!(f, "requester {id}"),
            Actor::System => f.write_str("the desk"),
            Actor::Rule(name) => write!(f, "rule {name}"),
        }
    }
}

/// Who may see an event.
///
/// JSON shape: `"public"` or `"internal"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// The requester may see it (status changes, customer-visible updates, the resolution).
    Public,
    /// Desk staff only (work notes, escalations, assignment detail).
    Internal,
}

/// What `decide` may read besides the state and the command.
#[derive(Debug)]
pub struct Context<'a> {
    /// The time of the decision; becomes the time of the events.
    pub now: Timestamp,
    /// Who is asking.
    pub actor: &'a Actor,
    /// The desk's configuration.
    pub config: &'a DeskConfig,
}

impl<'a> Context<'a> {
    /// A context at `now` for `actor` under `config`.
    pub fn new(now: Timestamp, actor: &'a Actor, config: &'a DeskConfig) -> Self {
        Context { now, actor, config }
    }
}

impl Clone for Context<'_> {
    fn clone(&self) -> Self {
        *self
    }
}

impl Copy for Context<'_> {}

/// A command's name, for errors and logs: the same snake-case name as its JSON `type` tag.
pub trait CommandName {
    /// The name, e.g. `"resolve"`.
    fn name(&self) -> &'static str;
}

/// What every event can say about itself.
pub trait EventInfo {
    /// The name, e.g. `"resolved"`: the same as its JSON `type` tag.
    fn name(&self) -> &'static str;
    /// Who may see it.
    fn visibility(&self) -> Visibility;
}

/// A record whose life is a state machine: commands decided into events, events folded into state.
pub trait Aggregate: Sized + Clone {
    /// A lower-case noun for the kind of record, for messages ("incident").
    const NOUN: &'static str;
    /// The commands it accepts.
    type Command: CommandName;
    /// The events it records.
    type Event: EventInfo + Clone + PartialEq + fmt::Debug + Serialize + DeserializeOwned;
    /// Why a command was refused.
    type Error: std::error::Error;

    /// The record's identity.
    fn id(&self) -> RecordId;

    /// Checks `command` against the current state and returns the events it causes.
    ///
    /// `state` is `None` before the record exists; only a creating command is accepted then.
    fn decide(
        state: Option<&Self>,
        command: Self::Command,
        ctx: Context<'_>,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event, recorded at `at`, into the state.
    ///
    /// Fails only for a history `decide` could not have produced (a corrupt or foreign log).
    fn apply(state: Option<Self>, at: Timestamp, event: &Self::Event) -> Result<Self, ReplayError>;

    /// Rebuilds a record from its history.
    fn replay<'e>(
        events: impl IntoIterator<Item = (Timestamp, &'e Self::Event)>,
    ) -> Result<Option<Self>, ReplayError>
    where
        Self::Event: 'e,
    {
        let mut state = None;
        for (at, event) in events {
            state = Some(Self::apply(state, at, event)?);
        }
        Ok(state)
    }

    /// Decides `command` and applies the resulting events: the new state and the events.
    fn execute(
        state: Option<Self>,
        command: Self::Command,
        ctx: Context<'_>,
    ) -> Result<Executed<Self>, ExecuteError<Self::Error>> {
        let events = Self::decide(state.as_ref(), command, ctx).map_err(ExecuteError::Refused)?;
        let mut next = state;
        for event in &events {
            next = Some(Self::apply(next, ctx.now, event).map_err(ExecuteError::Replay)?);
        }
        next.map(|state| (state, events)).ok_or(ExecuteError::NothingHappened)
    }
}

/// A record after a command, with the events the command caused.
pub type Executed<A> = (A, Vec<<A as Aggregate>::Event>);

/// A history that `decide` could not have produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The first event of a history does not create the record.
    #[error("the history of a {noun} starts with `{event}`, not with its creating event")]
    NotCreated {
        /// The kind of record being replayed.
        noun: &'static str,
        /// The offending event.
        event: &'static str,
    },
    /// A creating event appears in the middle of a history.
    #[error("{reference} is created twice (event `{event}`)")]
    AlreadyCreated {
        /// The record being replayed.
        reference: String,
        /// The offending event.
        event: &'static str,
    },
    /// An event refers to something the state does not have (a task, an approval step, …).
    #[error("{reference}: event `{event}` does not fit the record: {reason}")]
    Inconsistent {
        /// The record being replayed.
        reference: String,
        /// The offending event.
        event: &'static str,
        /// What does not fit.
        reason: String,
    },
}

/// Why [`Aggregate::execute`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecuteError<E> {
    /// `decide` refused the command.
    #[error(transparent)]
    Refused(E),
    /// The events `decide` returned could not be applied (a bug in the record type).
    #[error(transparent)]
    Replay(ReplayError),
    /// `decide` accepted a creating command but returned no event.
    #[error("the command was accepted but recorded nothing")]
    NothingHappened,
}

impl<E> ExecuteError<E> {
    /// The refusal, if this is one.
    pub fn refused(self) -> Option<E> {
        match self {
            ExecuteError::Refused(error) => Some(error),
            ExecuteError::Replay(_) | ExecuteError::NothingHappened => None,
        }
    }
}

/// An event as stored: the record it belongs to, its position, when, and who.
///
/// JSON shape:
/// `{"record": "INC-000123", "seq": 4, "at": "2026-03-02T09:15:00Z", "actor": {...}, "event": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded<E> {
    /// The record the event belongs to.
    pub record: RecordId,
    /// Position in the record's history, from 1.
    pub seq: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    pub event: E,
}
