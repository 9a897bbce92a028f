//! What the desk knows about each kind of record beyond the core's rules: how it projects to a
//! queryable [`RecordRow`], which people its events name (for GDPR), which notifications its
//! events cause, and which commands must follow on other records.
//!
//! Each kind has a module with its [`RecordType`] implementation and its typed `Desk` methods
//! (`open_incident`, `execute_incident`, …).

mod article;
mod asset;
mod change;
mod complaint;
mod incident;
mod person;
mod problem;
mod request;

use std::collections::BTreeSet;

use desk_core::calendar::Calendars;
use desk_core::id::{AssetRef, PersonId, RecordId, TeamId};
use desk_core::priority::Priority;
use desk_core::record::{Aggregate, Recorded};
use desk_core::sla::Policy;
use desk_core::tier::Tier;
use desk_core::{DeskConfig, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use self::asset::AddAsset;
pub use self::change::RaiseChange;
pub use self::complaint::LodgeComplaint;
pub use self::incident::OpenIncident;
pub use self::problem::LogProblem;
pub use self::request::SubmitRequest;
use crate::error::Error;
use crate::outbox::Notice;
use crate::store::{RowKind, SlaRow};

/// A kind of record the desk keeps: an [`Aggregate`] plus its projection, the people it names,
/// the notifications it causes and the follow-ups it needs.
pub(crate) trait RecordType:
    Aggregate<Event: Send + Sync + 'static, Command: Send>
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The kind of row.
    const KIND: RowKind;

    /// Wraps a refusal in the desk's error.
    fn refusal(error: Self::Error) -> Error;

    /// The row fields this kind decides.
    fn project(&self, history: &[Recorded<Self::Event>], config: &DeskConfig) -> Projection;

    /// The people an event names (its actor is counted separately).
    fn mentions(event: &Self::Event) -> Vec<PersonId>;

    /// The notifications `new` events (just recorded on `self`) cause.
    fn notices(&self, new: &[Recorded<Self::Event>], config: &DeskConfig) -> Vec<Notice>;

    /// Other records of this kind that `command` (or its follow-ups) may need: loaded before
    /// it runs.
    fn related(_state: Option<&Self>, _command: &Self::Command) -> Vec<RecordId> {
        Vec::new()
    }

    /// Checks `command` against the related records (`other` finds them; `None` if missing).
    fn check_related<'a>(
        _state: Option<&Self>,
        _command: &Self::Command,
        _other: impl Fn(&RecordId) -> Option<&'a Self>,
    ) -> Result<(), Error>
    where
        Self: 'a,
    {
        Ok(())
    }

    /// Commands that must follow on other records of this kind, in the same commit.
    fn follow_ups(&self, _events: &[Self::Event]) -> Vec<(RecordId, Self::Command)> {
        Vec::new()
    }

    /// The commands that record what timers found due at `now` (SLA warnings and breaches not
    /// yet in the history). Each must be idempotent: another process may have recorded it.
    fn timer_commands(
        &self,
        _history: &[Recorded<Self::Event>],
        _levels: Levels<'_>,
        _now: Timestamp,
    ) -> Result<Vec<Self::Command>, Error> {
        Ok(Vec::new())
    }

    /// SLA standing and when the timers must next look at it, evaluated at `now`.
    fn sla(
        &self,
        _history: &[Recorded<Self::Event>],
        _levels: Levels<'_>,
        _now: Timestamp,
    ) -> Result<(SlaRow, Option<Timestamp>), Error> {
        Ok((SlaRow::default(), None))
    }
}

/// The service levels a desk measures records against: its SLA policy (none: no clocks) and
/// the calendars the policy's clocks count in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Levels<'d> {
    pub(crate) policy: Option<&'d Policy>,
    pub(crate) calendars: &'d Calendars,
}

/// The fields of a [`crate::store::RecordRow`] that depend on the kind of record.
#[derive(Debug, Clone, Default)]
pub(crate) struct Projection {
    pub(crate) status: String,
    pub(crate) open: bool,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) team: Option<TeamId>,
    pub(crate) tier: Option<Tier>,
    pub(crate) agent: Option<PersonId>,
    pub(crate) priority: Option<Priority>,
    pub(crate) requester: Option<PersonId>,
    pub(crate) cis: Vec<AssetRef>,
    pub(crate) closed_at: Option<Timestamp>,
}

/// The JSON name of a unit enum value (`"in_progress"`), as rows store statuses.
pub(crate) fn json_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    }
}

/// The tier the configuration gives `team`.
pub(crate) fn tier_of(team: Option<&TeamId>, config: &DeskConfig) -> Option<Tier> {
    team.and_then(|team| config.team(team)).map(|team| team.tier)
}

/// When a record reached the state it is in: the time of the last event matching `reached`.
pub(crate) fn last_time<E>(
    history: &[Recorded<E>],
    reached: impl Fn(&E) -> bool,
) -> Option<Timestamp> {
    history.iter().rev().find(|recorded| reached(&recorded.event)).map(|recorded| recorded.at)
}

/// Everyone a history names: its actors and what its events mention.
pub(crate) fn people_of<A: RecordType>(history: &[Recorded<A::Event>]) -> BTreeSet<PersonId> {
    let mut people = BTreeSet::new();
    for recorded in history {
        if let Some(person) = recorded.actor.person() {
            people.insert(person.clone());
        }
        people.extend(A::mentions(&recorded.event));
    }
    people
}
