//! What happened to an incident.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Assignment, EscalationLevel, HoldReason};
use crate::Timestamp;
use crate::channel::Channel;
use crate::id::{AssetRef, CategoryId, ClockId, IncidentRef, PersonId, ResolutionCode};
use crate::priority::Assessment;
use crate::record::{Actor, EventInfo, Visibility};
use crate::sla::Threshold;

/// The creating event.
///
/// JSON shape: the fields below inside the event object (`{"type": "logged", …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logged {
    /// The incident's reference.
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
    /// Its category.
    pub category: Option<CategoryId>,
    /// The configuration item or service affected.
    pub affected_ci: Option<AssetRef>,
    /// Impact, urgency and the priority they gave.
    pub assessment: Assessment,
}

/// An event in an incident's history.
///
/// JSON shape: `{"type": "<name>", …fields}`, the names being those of [`EventInfo::name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The incident was logged.
    Logged(Box<Logged>),
    /// It was given to a team (and perhaps an agent).
    Assigned {
        /// The new assignment.
        to: Assignment,
        /// The assignment it replaced.
        from: Option<Assignment>,
    },
    /// A routing rule decided where it goes; `to` is the new assignment when the decision
    /// moved it (`null` when it left the assignment as it was).
    Routed {
        /// The rule.
        rule: String,
        /// The new assignment, if the decision changed it.
        to: Option<Assignment>,
        /// The assignment it replaced.
        from: Option<Assignment>,
        /// Tags added.
        tags: BTreeSet<String>,
        /// Why, in a sentence.
        explanation: String,
        /// The steps the rule took.
        trace: Vec<String>,
    },
    /// An agent started working on it.
    WorkStarted {
        /// The agent.
        agent: PersonId,
    },
    /// It was put on hold.
    PutOnHold {
        /// What it waits for.
        reason: HoldReason,
        /// What was asked of whom.
        note: String,
    },
    /// Work resumed after a hold.
    Resumed {
        /// What came back.
        note: String,
    },
    /// It was resolved.
    Resolved {
        /// The resolution code.
        code: ResolutionCode,
        /// What was done.
        notes: String,
        /// Resolved at first contact by 1st line.
        first_contact: bool,
        /// Resolved because this parent was.
        by_parent: Option<IncidentRef>,
    },
    /// It was closed.
    Closed,
    /// It was reopened.
    Reopened {
        /// Why.
        reason: String,
    },
    /// It was cancelled.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// It moved to a team of a higher tier.
    EscalatedFunctionally {
        /// The new assignment.
        to: Assignment,
        /// The previous one.
        from: Assignment,
        /// Why.
        reason: String,
    },
    /// It moved back to a team of a lower tier.
    DeEscalatedFunctionally {
        /// The new assignment.
        to: Assignment,
        /// The previous one.
        from: Assignment,
        /// Why.
        reason: String,
    },
    /// Management was brought in.
    EscalatedHierarchically {
        /// The new level.
        level: EscalationLevel,
        /// The person at that level, from configuration (team lead or manager).
        contact: Option<PersonId>,
        /// Why.
        reason: String,
    },
    /// Management stepped back.
    DeEscalatedHierarchically {
        /// The new level.
        level: EscalationLevel,
        /// Why.
        reason: String,
    },
    /// Impact or urgency changed, and with them perhaps the priority.
    Reprioritised {
        /// The previous assessment.
        from: Assessment,
        /// The new one.
        to: Assessment,
        /// Why.
        reason: String,
    },
    /// It was declared a major incident.
    MajorDeclared {
        /// Why.
        reason: String,
    },
    /// It is no longer a major incident.
    MajorStoodDown {
        /// Why.
        reason: String,
    },
    /// Its category changed.
    Recategorised {
        /// The previous category.
        from: Option<CategoryId>,
        /// The new one.
        to: CategoryId,
    },
    /// The affected configuration item changed.
    AffectedCiChanged {
        /// The previous CI.
        from: Option<AssetRef>,
        /// The new one.
        to: Option<AssetRef>,
    },
    /// A customer-visible update was posted.
    CustomerUpdated {
        /// The update.
        text: String,
        /// The parent it was relayed from, if any.
        from_parent: Option<IncidentRef>,
    },
    /// An internal work note was added.
    WorkNoteAdded {
        /// The note.
        text: String,
    },
    /// It became a child of `parent`.
    ParentLinked {
        /// The parent.
        parent: IncidentRef,
    },
    /// It stopped being a child of `parent`.
    ParentUnlinked {
        /// The parent.
        parent: IncidentRef,
    },
    /// `child` became its child.
    ChildAdopted {
        /// The child.
        child: IncidentRef,
    },
    /// `child` stopped being its child.
    ChildReleased {
        /// The child.
        child: IncidentRef,
    },
    /// It was merged, as a duplicate, into `target`.
    MergedInto {
        /// The surviving incident.
        target: IncidentRef,
    },
    /// `duplicate` was merged into it.
    DuplicateAbsorbed {
        /// The duplicate.
        duplicate: IncidentRef,
    },
    /// An SLA clock passed a warning threshold. Never moves a clock.
    SlaWarningPassed {
        /// The clock.
        clock: ClockId,
        /// The clock's cycle.
        cycle: u32,
        /// The threshold.
        threshold: Threshold,
        /// When it passed.
        at: Timestamp,
    },
    /// An SLA clock breached its target. Never moves a clock.
    SlaBreached {
        /// The clock.
        clock: ClockId,
        /// The clock's cycle.
        cycle: u32,
        /// When it breached.
        at: Timestamp,
    },
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Logged(_) => "logged",
            Event::Assigned { .. } => "assigned",
            Event::Routed { .. } => "routed",
            Event::WorkStarted { .. } => "work_started",
            Event::PutOnHold { .. } => "put_on_hold",
            Event::Resumed { .. } => "resumed",
            Event::Resolved { .. } => "resolved",
            Event::Closed => "closed",
            Event::Reopened { .. } => "reopened",
            Event::Cancelled { .. } => "cancelled",
            Event::EscalatedFunctionally { .. } => "escalated_functionally",
            Event::DeEscalatedFunctionally { .. } => "de_escalated_functionally",
            Event::EscalatedHierarchically { .. } => "escalated_hierarchically",
            Event::DeEscalatedHierarchically { .. } => "de_escalated_hierarchically",
            Event::Reprioritised { .. } => "reprioritised",
            Event::MajorDeclared { .. } => "major_declared",
            Event::MajorStoodDown { .. } => "major_stood_down",
            Event::Recategorised { .. } => "recategorised",
            Event::AffectedCiChanged { .. } => "affected_ci_changed",
            Event::CustomerUpdated { .. } => "customer_updated",
            Event::WorkNoteAdded { .. } => "work_note_added",
            Event::ParentLinked { .. } => "parent_linked",
            Event::ParentUnlinked { .. } => "parent_unlinked",
            Event::ChildAdopted { .. } => "child_adopted",
            Event::ChildReleased { .. } => "child_released",
            Event::MergedInto { .. } => "merged_into",
            Event::DuplicateAbsorbed { .. } => "duplicate_absorbed",
            Event::SlaWarningPassed { .. } => "sla_warning_passed",
            Event::SlaBreached { .. } => "sla_breached",
        }
    }

    fn visibility(&self) -> Visibility {
        match self {
            Event::Logged(_)
            | Event::PutOnHold { .. }
            | Event::Resumed { .. }
            | Event::Resolved { .. }
            | Event::Closed
            | Event::Reopened { .. }
            | Event::Cancelled { .. }
            | Event::CustomerUpdated { .. }
            | Event::MergedInto { .. } => Visibility::Public,
            Event::Assigned { .. }
            | Event::Routed { .. }
            | Event::WorkStarted { .. }
            | Event::EscalatedFunctionally { .. }
            | Event::DeEscalatedFunctionally { .. }
            | Event::EscalatedHierarchically { .. }
            | Event::DeEscalatedHierarchically { .. }
            | Event::Reprioritised { .. }
            | Event::MajorDeclared { .. }
            | Event::MajorStoodDown { .. }
            | Event::Recategorised { .. }
            | Event::AffectedCiChanged { .. }
            | Event::WorkNoteAdded { .. }
            | Event::ParentLinked { .. }
            | Event::ParentUnlinked { .. }
            | Event::ChildAdopted { .. }
            | Event::ChildReleased { .. }
            | Event::DuplicateAbsorbed { .. }
            | Event::SlaWarningPassed { .. }
            | Event::SlaBreached { .. } => Visibility::Internal,
        }
    }
}
