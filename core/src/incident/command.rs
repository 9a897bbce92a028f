//! What can be asked of an incident.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::HoldReason;
use crate::Timestamp;
use crate::channel::Channel;
use crate::id::{AssetRef, CategoryId, ClockId, IncidentRef, PersonId, ResolutionCode, TeamId};
use crate::people::VipKind;
use crate::priority::{Impact, Urgency};
use crate::record::{CommandName, Visibility};
use crate::sla::Threshold;

/// A new incident, as logged.
///
/// JSON shape: an object with these fields; `requester_vip`, `category`, `affected_ci`,
/// `assign` and `resolve` may be omitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIncident {
    /// The reference allocated for it (by the storage, outside the core).
    pub reference: IncidentRef,
    /// One-line summary.
    pub title: String,
    /// The fault as reported.
    #[serde(default)]
    pub description: String,
    /// How it was reported.
    pub channel: Channel,
    /// Who it is for.
    pub requester: PersonId,
    /// The requester's VIP kind, from their record (drives the priority uplift).
    #[serde(default)]
    pub requester_vip: Option<VipKind>,
    /// Its category.
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// The configuration item or service affected.
    #[serde(default)]
    pub affected_ci: Option<AssetRef>,
    /// How widely it is felt (1 = most).
    pub impact: Impact,
    /// How soon it hurts (1 = most).
    pub urgency: Urgency,
    /// Assign it straight away (usually to the logging agent's own team).
    #[serde(default)]
    pub assign: Option<AssignTo>,
    /// Resolve it straight away: fixed while the requester was still in contact.
    #[serde(default)]
    pub resolve: Option<ResolveAtContact>,
}

/// A team and, optionally, an agent in it.
///
/// JSON shape: `{"team": "networks", "agent": "j.smith"}` (`agent` may be omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignTo {
    /// The team.
    pub team: TeamId,
    /// The agent, if one is chosen.
    #[serde(default)]
    pub agent: Option<PersonId>,
}

/// A resolution given while logging.
///
/// JSON shape: `{"code": "user-advice", "notes": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveAtContact {
    /// The resolution code.
    pub code: ResolutionCode,
    /// What was done.
    pub notes: String,
}

/// A routing rule's decision about an incident: where it goes, and why.
///
/// A router (the desk's native category router, or a WebAssembly rule) returns one; the desk
/// records it with [`Command::Route`] as the rule ([`crate::record::Actor::Rule`]), so the
/// decision and its trace stay on the incident ("why did this go to Networks?").
///
/// JSON shape: `{"rule": "category-team", "team": "networks", "agent": null, "impact": null,
/// "urgency": 2, "tags": ["wifi"], "note": null, "explanation": "network/wifi is handled by
/// networks", "trace": ["category network/wifi", "team networks"]}`; every field but `rule` may
/// be omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingDecision {
    /// The rule that decided (1 to 64 characters).
    pub rule: String,
    /// The team to assign it to, if the rule chose one.
    #[serde(default)]
    pub team: Option<TeamId>,
    /// An agent in that team, if the rule chose one (needs `team`).
    #[serde(default)]
    pub agent: Option<PersonId>,
    /// A new impact, if the rule changes it.
    #[serde(default)]
    pub impact: Option<Impact>,
    /// A new urgency, if the rule changes it.
    #[serde(default)]
    pub urgency: Option<Urgency>,
    /// Tags to add (trimmed, lower-cased, 1 to 64 characters each).
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// An internal work note to add.
    #[serde(default)]
    pub note: Option<String>,
    /// Why, in a sentence.
    #[serde(default)]
    pub explanation: String,
    /// The steps the rule took, in order.
    #[serde(default)]
    pub trace: Vec<String>,
}

/// An escalation or a de-escalation: where to, and why.
///
/// JSON shape: `{"kind": "functional", "team": "networks", "agent": null, "reason": "…"}` or
/// `{"kind": "hierarchical", "reason": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Escalation {
    /// To a team of a higher tier (escalation) or a lower one (de-escalation).
    Functional {
        /// The team.
        team: TeamId,
        /// An agent in it, if chosen.
        #[serde(default)]
        agent: Option<PersonId>,
        /// Why.
        reason: String,
    },
    /// One step up (or down) the management line: team lead, then service desk manager.
    Hierarchical {
        /// Why.
        reason: String,
    },
}

/// A command to an incident.
///
/// JSON shape: `{"type": "<name>", …fields}`, e.g. `{"type": "resolve", "code": "fixed",
/// "notes": "Replaced the toner"}`. The names are those of [`CommandName::name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Log a new incident.
    Log(Box<NewIncident>),
    /// Give it to a team (and perhaps an agent), at any tier.
    Assign(AssignTo),
    /// Record a routing rule's decision and follow it (issued by the desk as the rule).
    Route(Box<RoutingDecision>),
    /// An agent starts working on it (the acting agent when `agent` is omitted).
    Start {
        /// The agent.
        #[serde(default)]
        agent: Option<PersonId>,
    },
    /// Wait for someone else.
    PutOnHold {
        /// What for.
        reason: HoldReason,
        /// What was asked of whom.
        note: String,
    },
    /// Stop waiting and carry on.
    Resume {
        /// What came back.
        #[serde(default)]
        note: String,
    },
    /// Record the fix.
    Resolve {
        /// The resolution code.
        code: ResolutionCode,
        /// What was done.
        notes: String,
    },
    /// Resolve this child because its parent was resolved (issued by the desk).
    ResolveWithParent {
        /// The parent.
        parent: IncidentRef,
        /// The parent's resolution code.
        code: ResolutionCode,
        /// The parent's notes.
        notes: String,
    },
    /// Close a resolved incident (the requester confirmed, or the confirmation period ran out).
    Close,
    /// It is not fixed after all.
    Reopen {
        /// Why.
        reason: String,
    },
    /// Withdraw it, or it was logged in error.
    Cancel {
        /// Why.
        reason: String,
    },
    /// Escalate it.
    Escalate(Escalation),
    /// De-escalate it.
    DeEscalate(Escalation),
    /// Change impact and urgency; the priority follows the matrix.
    Reprioritise {
        /// New impact.
        impact: Impact,
        /// New urgency.
        urgency: Urgency,
        /// Why.
        reason: String,
    },
    /// Declare it a major incident.
    DeclareMajor {
        /// Why.
        reason: String,
    },
    /// It is no longer a major incident.
    StandDownMajor {
        /// Why.
        reason: String,
    },
    /// Change its category.
    Recategorise {
        /// The new category.
        category: CategoryId,
    },
    /// Change the configuration item affected.
    SetAffectedCi {
        /// The CI, or none.
        ci: Option<AssetRef>,
    },
    /// Post a customer-visible update or an internal work note.
    AddUpdate {
        /// Who may see it.
        visibility: Visibility,
        /// The text.
        text: String,
    },
    /// Pass on a parent's customer-visible update to this child (issued by the desk).
    RelayParentUpdate {
        /// The parent.
        parent: IncidentRef,
        /// The parent's update.
        text: String,
    },
    /// Make this incident a child of `parent` (check with [`super::check_link`] first).
    LinkParent {
        /// The parent.
        parent: IncidentRef,
    },
    /// Stop this incident being a child of `parent`.
    UnlinkParent {
        /// The parent.
        parent: IncidentRef,
    },
    /// Record `child` as a child of this incident (issued by the desk after `link_parent`).
    AdoptChild {
        /// The child.
        child: IncidentRef,
    },
    /// Forget `child` (issued by the desk after `unlink_parent`).
    ReleaseChild {
        /// The child.
        child: IncidentRef,
    },
    /// This incident duplicates `target` (check with [`super::check_merge`] first).
    MergeInto {
        /// The surviving incident.
        target: IncidentRef,
    },
    /// Record `duplicate` as merged into this incident (issued by the desk after `merge_into`).
    AbsorbDuplicate {
        /// The duplicate.
        duplicate: IncidentRef,
    },
    /// Record that an SLA clock passed a warning threshold (issued by the desk's timer, from
    /// [`crate::sla::Clock::unrecorded`]). Recording the same mark again records nothing.
    RecordSlaWarning {
        /// The clock.
        clock: ClockId,
        /// The clock's cycle.
        cycle: u32,
        /// The threshold passed.
        threshold: Threshold,
        /// When it passed; not after the command's own time.
        at: Timestamp,
    },
    /// Record that an SLA clock breached its target (issued by the desk's timer, from
    /// [`crate::sla::Clock::unrecorded`]). Recording the same breach again records nothing.
    RecordSlaBreach {
        /// The clock.
        clock: ClockId,
        /// The clock's cycle.
        cycle: u32,
        /// When it breached; not after the command's own time.
        at: Timestamp,
    },
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Log(_) => "log",
            Command::Assign(_) => "assign",
            Command::Route(_) => "route",
            Command::Start { .. } => "start",
            Command::PutOnHold { .. } => "put_on_hold",
            Command::Resume { .. } => "resume",
            Command::Resolve { .. } => "resolve",
            Command::ResolveWithParent { .. } => "resolve_with_parent",
            Command::Close => "close",
            Command::Reopen { .. } => "reopen",
            Command::Cancel { .. } => "cancel",
            Command::Escalate(_) => "escalate",
            Command::DeEscalate(_) => "de_escalate",
            Command::Reprioritise { .. } => "reprioritise",
            Command::DeclareMajor { .. } => "declare_major",
            Command::StandDownMajor { .. } => "stand_down_major",
            Command::Recategorise { .. } => "recategorise",
            Command::SetAffectedCi { .. } => "set_affected_ci",
            Command::AddUpdate { .. } => "add_update",
            Command::RelayParentUpdate { .. } => "relay_parent_update",
            Command::LinkParent { .. } => "link_parent",
            Command::UnlinkParent { .. } => "unlink_parent",
            Command::AdoptChild { .. } => "adopt_child",
            Command::ReleaseChild { .. } => "release_child",
            Command::MergeInto { .. } => "merge_into",
            Command::AbsorbDuplicate { .. } => "absorb_duplicate",
            Command::RecordSlaWarning { .. } => "record_sla_warning",
            Command::RecordSlaBreach { .. } => "record_sla_breach",
        }
    }
}
