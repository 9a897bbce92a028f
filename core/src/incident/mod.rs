//! Incidents: something is broken.
//!
//! ## Lifecycle
//!
//! ```text
//!            assign            start             put on hold
//!   new ───────────► assigned ───────► in progress ◄═══════════► on hold (awaiting customer |
//!    │                 ▲  │                 │         resume          supplier | change)
//!    │                 └──┘ reassign,       │
//!    │                      escalate        │ resolve (from any open state)
//!    ▼                                      ▼
//!  cancelled / merged ◄── (any open) ── resolved ──close──► closed
//!                                           ▲                 │
//!                                           └──── reopen ─────┘ (within the reopen window)
//! ```
//!
//! *Open* states are new, assigned, in progress and on hold. From resolved, a reopen is always
//! allowed; from closed only within `[desk] reopen_window_days` of the resolution. A closed,
//! cancelled or merged incident accepts nothing else.
//!
//! ## Rules worth knowing
//! - Priority comes from the impact × urgency matrix plus the VIP uplift
//!   ([`crate::priority::PriorityPolicy`]); every change of it is an event with a reason.
//! - **First-contact resolution** is recorded when the agent who logged the incident resolves it
//!   while it is assigned to a 1st-line team (their own), within
//!   `[desk] first_contact_window_minutes` of logging, without it ever having been reassigned,
//!   escalated or put on hold. Logging with a resolution ([`NewIncident::resolve`]) is the usual case.
//! - **Functional escalation** moves the incident to a team of a higher tier; **hierarchical
//!   escalation** brings in the team lead, then the service desk manager, without moving it.
//!   Both need a reason; both can be undone by de-escalation. Declaring a **major incident**
//!   escalates hierarchically to the manager at once.
//! - **Parent and child incidents**: a child follows its parent. When the parent is resolved its
//!   open children are resolved with it, and the parent's customer-visible updates are relayed
//!   to its children. One level only: a parent has no parent, a child has no children.
//! - **Merging** a duplicate closes it as merged and records it on the surviving incident.
//! - **Routing**: a rule's [`RoutingDecision`] is recorded as a `routed` event carrying the rule,
//!   its explanation and trace, and followed like an assignment (plus a reprioritisation and a
//!   work note when the decision asks for them). It is accepted while the incident is open.
//! - **SLA marks**: the desk's timer records each warning and breach of an SLA clock once per
//!   clock and cycle ([`Command::RecordSlaWarning`], [`Command::RecordSlaBreach`]); a repeat
//!   records nothing. They are accepted in any state but closed, cancelled and merged, and
//!   never move a clock (see [`crate::sla`]).
//!
//! Rules that involve two incidents (linking, merging) are checked by [`check_link`] and
//! [`check_merge`] before the command runs; what must then happen to the other incident is
//! returned by [`follow_ups`] as commands the caller executes (the `Desk` does this for you).

mod apply;
mod command;
mod decide;
mod event;
mod links;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use self::command::{
    AssignTo, Command, Escalation, NewIncident, ResolveAtContact, RoutingDecision,
};
pub use self::event::{Event, Logged};
pub use self::links::{FollowUp, check_link, check_merge, check_unlink, follow_ups};
use crate::channel::Channel;
use crate::id::{AssetRef, CategoryId, ClockId, IncidentRef, PersonId, ResolutionCode, TeamId};
use crate::priority::{Assessment, Priority, PriorityError};
use crate::record::{Actor, Timestamp};
use crate::sla::Mark;
use crate::tier::Tier;

/// Where an incident is in its lifecycle.
///
/// JSON shape: `"new"`, `"assigned"`, `"in_progress"`, `"on_hold"`, `"resolved"`, `"closed"`,
/// `"cancelled"`, `"merged"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Logged, not yet with a team.
    New,
    /// With a team (and perhaps an agent), not yet being worked.
    Assigned,
    /// Being worked by an agent.
    InProgress,
    /// Waiting for someone else; see [`Incident::hold_reason`].
    OnHold,
    /// Fixed; waiting for closure (the requester may still say it is not).
    Resolved,
    /// Finished. Only a reopen within the window is accepted.
    Closed,
    /// Withdrawn or logged in error.
    Cancelled,
    /// A duplicate, merged into another incident.
    Merged,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 8] = [
        Status::New,
        Status::Assigned,
        Status::InProgress,
        Status::OnHold,
        Status::Resolved,
        Status::Closed,
        Status::Cancelled,
        Status::Merged,
    ];

    /// New, assigned, in progress or on hold: someone still has work to do.
    pub const fn is_open(self) -> bool {
        matches!(self, Status::New | Status::Assigned | Status::InProgress | Status::OnHold)
    }

    /// Closed, cancelled or merged: nothing more happens (bar a reopen from closed).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled | Status::Merged)
    }

    /// The name used in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::OnHold => "on_hold",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
            Status::Merged => "merged",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::InProgress => "in progress",
            Status::OnHold => "on hold",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
            Status::Merged => "merged",
        })
    }
}

/// What an incident on hold is waiting for.
///
/// JSON shape: `"awaiting_customer"`, `"awaiting_supplier"`, `"awaiting_change"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// The requester has been asked for information or access.
    AwaitingCustomer,
    /// An external supplier is working on it.
    AwaitingSupplier,
    /// The fix needs a change to be implemented first.
    AwaitingChange,
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HoldReason::AwaitingCustomer => "awaiting customer",
            HoldReason::AwaitingSupplier => "awaiting supplier",
            HoldReason::AwaitingChange => "awaiting change",
        })
    }
}

/// Who has an incident.
///
/// JSON shape: `{"team": "networks", "tier": "third_line", "agent": "j.smith"}` (`agent` may be
/// `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The team.
    pub team: TeamId,
    /// The team's tier when it was assigned.
    pub tier: Tier,
    /// The agent within the team, if one has it.
    pub agent: Option<PersonId>,
}

/// How far up the management line an incident has been escalated.
///
/// JSON shape: `"none"`, `"team_lead"`, `"manager"`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    /// Not escalated.
    #[default]
    None,
    /// The assigned team's lead is involved.
    TeamLead,
    /// The service desk manager is involved.
    Manager,
}

impl EscalationLevel {
    /// One level up, if there is one.
    pub const fn up(self) -> Option<EscalationLevel> {
        match self {
            EscalationLevel::None => Some(EscalationLevel::TeamLead),
            EscalationLevel::TeamLead => Some(EscalationLevel::Manager),
            EscalationLevel::Manager => None,
        }
    }

    /// One level down, if there is one.
    pub const fn down(self) -> Option<EscalationLevel> {
        match self {
            EscalationLevel::None => None,
            EscalationLevel::TeamLead => Some(EscalationLevel::None),
            EscalationLevel::Manager => Some(EscalationLevel::TeamLead),
        }
    }
}

impl fmt::Display for EscalationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EscalationLevel::None => "not escalated",
            EscalationLevel::TeamLead => "team lead",
            EscalationLevel::Manager => "service desk manager",
        })
    }
}

/// How an incident was resolved.
///
/// JSON shape: `{"code": "fixed", "notes": "…", "at": RFC3339, "first_contact": false,
/// "by_parent": null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// The resolution code.
    pub code: ResolutionCode,
    /// What was done, for the requester and for the record.
    pub notes: String,
    /// When it was resolved.
    pub at: Timestamp,
    /// Whether it was resolved at first contact by 1st line.
    pub first_contact: bool,
    /// The parent incident whose resolution resolved this one.
    pub by_parent: Option<IncidentRef>,
}

/// An incident's current state, rebuilt from its events.
///
/// JSON shape: an object with the fields below (the server's incident resource).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Its reference.
    pub reference: IncidentRef,
    /// One-line summary.
    pub title: String,
    /// The fault as reported.
    pub description: String,
    /// How it was reported.
    pub channel: Channel,
    /// Who it is for.
    pub requester: PersonId,
    /// Who logged it.
    pub logged_by: Actor,
    /// When it was logged.
    pub logged_at: Timestamp,
    /// Its category.
    pub category: Option<CategoryId>,
    /// The configuration item (or service) affected.
    pub affected_ci: Option<AssetRef>,
    /// Impact, urgency and how they made the priority.
    pub assessment: Assessment,
    /// Whether it is a major incident.
    pub major: bool,
    /// Where it is in its lifecycle.
    pub status: Status,
    /// What it is waiting for, when on hold.
    pub hold_reason: Option<HoldReason>,
    /// Who has it.
    pub assignment: Option<Assignment>,
    /// How many times it moved to another team or agent after the first assignment.
    pub reassignments: u32,
    /// Management escalation.
    pub escalation: EscalationLevel,
    /// Whether it has ever been escalated, functionally or hierarchically.
    pub ever_escalated: bool,
    /// Whether it has ever been on hold.
    pub ever_on_hold: bool,
    /// How it was resolved (cleared by a reopen; the history keeps every resolution).
    pub resolution: Option<Resolution>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// How many times it was reopened.
    pub reopened: u32,
    /// The parent incident, for a child.
    pub parent: Option<IncidentRef>,
    /// Child incidents, for a parent.
    pub children: BTreeSet<IncidentRef>,
    /// Duplicates merged into this incident.
    pub duplicates: BTreeSet<IncidentRef>,
    /// The incident this one was merged into.
    pub merged_into: Option<IncidentRef>,
    /// Customer-visible updates posted (including relayed parent updates).
    pub public_updates: u32,
    /// Internal work notes added.
    pub work_notes: u32,
    /// Tags added by routing rules.
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// The SLA warnings and breaches recorded, each once (see [`crate::sla`]).
    #[serde(default)]
    pub sla_marks: BTreeSet<Mark>,
    /// When anything last happened.
    pub updated_at: Timestamp,
}

impl Incident {
    /// Its priority.
    pub fn priority(&self) -> Priority {
        self.assessment.priority
    }

    /// The tier it is at, if assigned.
    pub fn tier(&self) -> Option<Tier> {
        self.assignment.as_ref().map(|a| a.tier)
    }

    /// The team that has it, if assigned.
    pub fn team(&self) -> Option<&TeamId> {
        self.assignment.as_ref().map(|a| &a.team)
    }

    /// The agent who has it, if any.
    pub fn agent(&self) -> Option<&PersonId> {
        self.assignment.as_ref().and_then(|a| a.agent.as_ref())
    }

    /// When it was (last) resolved.
    pub fn resolved_at(&self) -> Option<Timestamp> {
        self.resolution.as_ref().map(|r| r.at)
    }
}

/// Why a command on an incident was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command is not allowed in the incident's current state.
    #[error("cannot {command} {reference} while it is {state}")]
    InvalidTransition {
        /// The incident.
        reference: IncidentRef,
        /// Its state.
        state: Status,
        /// The command refused.
        command: &'static str,
    },
    /// A command other than `log` was sent to an incident that does not exist.
    #[error("cannot {command} an incident that has not been logged")]
    NotLogged {
        /// The command refused.
        command: &'static str,
    },
    /// `log` was sent to an incident that already exists.
    #[error("{0} is already logged")]
    AlreadyLogged(IncidentRef),
    /// A required text is empty.
    #[error("the {0} must not be empty")]
    EmptyText(&'static str),
    /// A text is longer than allowed.
    #[error("the {field} is longer than {max} characters")]
    TooLong {
        /// Which text.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// The team is not in the configuration.
    #[error("unknown team `{0}`")]
    UnknownTeam(TeamId),
    /// The category is not in the configuration.
    #[error("unknown category `{0}`")]
    UnknownCategory(CategoryId),
    /// The resolution code is not in the configuration.
    #[error("unknown resolution code `{0}`")]
    UnknownResolutionCode(ResolutionCode),
    /// Impact or urgency outside the matrix.
    #[error(transparent)]
    Priority(#[from] PriorityError),
    /// A functional escalation to a team that is not at a higher tier.
    #[error("{reference}: escalation must go to a higher tier than {from}, but `{team}` is {to}")]
    NotHigherTier {
        /// The incident.
        reference: IncidentRef,
        /// The current tier.
        from: Tier,
        /// The team asked for.
        team: TeamId,
        /// Its tier.
        to: Tier,
    },
    /// A functional de-escalation to a team that is not at a lower tier.
    #[error("{reference}: de-escalation must go to a lower tier than {from}, but `{team}` is {to}")]
    NotLowerTier {
        /// The incident.
        reference: IncidentRef,
        /// The current tier.
        from: Tier,
        /// The team asked for.
        team: TeamId,
        /// Its tier.
        to: Tier,
    },
    /// Functional escalation or de-escalation of an unassigned incident.
    #[error("{0} is not assigned to a team yet: assign it first")]
    NotAssigned(IncidentRef),
    /// Hierarchical escalation past the manager.
    #[error("{0} is already escalated to the service desk manager")]
    AtTopOfEscalation(IncidentRef),
    /// Hierarchical de-escalation of an incident that is not escalated.
    #[error("{0} is not escalated")]
    NotEscalated(IncidentRef),
    /// Starting work without naming an agent, by an actor who is not one.
    #[error("{0}: name the agent who starts work on it")]
    AgentRequired(IncidentRef),
    /// A reopen after the reopen window.
    #[error("{reference} was resolved more than {days} days ago: log a new incident instead")]
    ReopenWindowPassed {
        /// The incident.
        reference: IncidentRef,
        /// The configured window.
        days: u32,
    },
    /// The command would change nothing.
    #[error("{reference}: the {what} is already as asked")]
    Unchanged {
        /// The incident.
        reference: IncidentRef,
        /// What was to change.
        what: &'static str,
    },
    /// Declaring a major incident twice, or standing down one that is not major.
    #[error("{reference} is {}a major incident", if *.major { "already " } else { "not " })]
    MajorUnchanged {
        /// The incident.
        reference: IncidentRef,
        /// Whether it is major now.
        major: bool,
    },
    /// A routing decision named an agent but no team.
    #[error("{0}: a routing decision that names an agent must also name the agent's team")]
    AgentWithoutTeam(IncidentRef),
    /// A requester tried to add an internal work note.
    #[error("requesters cannot add internal work notes")]
    RequesterWorkNote,
    /// A link or merge between an incident and itself.
    #[error("{0} cannot be linked to or merged into itself")]
    SelfReference(IncidentRef),
    /// The child already has a parent.
    #[error("{child} is already a child of {parent}")]
    AlreadyChild {
        /// The child.
        child: IncidentRef,
        /// Its parent.
        parent: IncidentRef,
    },
    /// Unlinking a parent from an incident that has none (or another one).
    #[error("{child} is not a child of {parent}")]
    NotChild {
        /// The incident.
        child: IncidentRef,
        /// The parent named.
        parent: IncidentRef,
    },
    /// Parent/child links are one level deep.
    #[error("{0}: parent and child links are one level deep")]
    Nesting(IncidentRef),
    /// Cancelling or merging a parent: its children would be left behind.
    #[error("{0} has child incidents: resolve or unlink them first")]
    HasChildren(IncidentRef),
    /// An SLA mark that cannot be recorded.
    #[error("{reference}: cannot record an SLA mark for clock `{clock}`: {reason}")]
    SlaMark {
        /// The incident.
        reference: IncidentRef,
        /// The clock.
        clock: ClockId,
        /// Why.
        reason: &'static str,
    },
    /// The other incident of a link or merge is not open.
    #[error("{reference} is {state}: it can no longer take links or merges")]
    OtherNotOpen {
        /// The other incident.
        reference: IncidentRef,
        /// Its state.
        state: Status,
    },
}

#[cfg(test)]
mod tests;
