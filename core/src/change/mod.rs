//! Changes: standard, normal and emergency, from draft to closed, with risk, CAB authorisation,
//! freeze windows and collision detection.
//!
//! ```text
//! draft ─submit─► submitted ─assess─► assessed ─approve×quorum─► authorised ─schedule─► scheduled
//!   │               │                   └─reject─► rejected            │                 │  ▲ │
//!   │               └─(standard: pre-authorised from its template)────►┘    (reschedule) └──┘ │
//!   │               └─(emergency: ECAB may approve before assessment)                         │
//!   │                                                                    start_implementation ◄┘
//! implementing ─complete─► implemented ─┐
//!      └─back_out─► backed_out ─────────┴─review─► reviewed ─close─► closed
//! draft | submitted | assessed | authorised | scheduled ─cancel─► cancelled
//! ```
//!
//! Rules, all in [`Aggregate::decide`]:
//! - a **standard** change names a template from configuration; it may touch only the CI classes
//!   the template allows, and on submission it is pre-authorised with the template's risk;
//! - a **normal** change is assessed (impact × likelihood → risk, see [`risk`]) and then voted on
//!   by the CAB: it is authorised once a quorum of distinct members has approved, and any
//!   rejection ends it;
//! - an **emergency** change is voted on by the ECAB, before or after assessment; it may start
//!   implementing as soon as it is authorised, and it cannot close without a retrospective review;
//! - a window that overlaps a freeze is refused unless the change is an emergency;
//! - implementation starts only inside the scheduled window (an emergency change that was never
//!   scheduled may start at once); every change has a post-implementation review before closing.
//!
//! A change records the CIs it touches ([`Target`]); [`collision`] finds scheduled changes on
//! the same or related CIs. JSON shapes: commands and events are objects tagged by `type`; the
//! state is [`Change`].

pub mod collision;
pub mod policy;
pub mod risk;
pub mod window;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use self::collision::{Booking, Collision, Reason, collisions};
pub use self::policy::{Board, Freeze, Policy, Template};
pub use self::risk::{Impact, Likelihood, Risk, RiskMatrix};
pub use self::window::{Moment, Window};
use crate::asset::Class;
use crate::id::{AssetRef, ChangeRef, ChangeTemplateId, PersonId, RecordId};
use crate::record::{
    Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};

/// The kind of change, which decides how it is authorised.
///
/// JSON shape: `"normal"`, `"emergency"` or `{"standard": "printer-driver-update"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Pre-authorised from the named template.
    Standard(ChangeTemplateId),
    /// Assessed and authorised by the CAB.
    Normal,
    /// Expedited: authorised by the ECAB, reviewed retrospectively.
    Emergency,
}

impl Kind {
    /// Whether this is an emergency change.
    pub fn is_emergency(&self) -> bool {
        matches!(self, Kind::Emergency)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Standard(template) => write!(f, "standard change ({template})"),
            Kind::Normal => f.write_str("normal change"),
            Kind::Emergency => f.write_str("emergency change"),
        }
    }
}

/// Where a change is in its life.
///
/// JSON shape: `"draft"`, `"submitted"`, `"assessed"`, `"authorised"`, `"rejected"`,
/// `"scheduled"`, `"implementing"`, `"implemented"`, `"backed_out"`, `"reviewed"`, `"closed"`,
/// `"cancelled"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written.
    Draft,
    /// Submitted for assessment (or for ECAB approval).
    Submitted,
    /// Risk assessed; awaiting the CAB.
    Assessed,
    /// Authorised; awaiting a window.
    Authorised,
    /// Rejected by a board member. Final.
    Rejected,
    /// Booked into a window.
    Scheduled,
    /// Being implemented.
    Implementing,
    /// Implemented; awaiting its review.
    Implemented,
    /// Backed out; awaiting its review.
    BackedOut,
    /// Reviewed after implementation; ready to close.
    Reviewed,
    /// Closed. Final.
    Closed,
    /// Withdrawn before implementation. Final.
    Cancelled,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Assessed => "assessed",
            Status::Authorised => "authorised",
            Status::Rejected => "rejected",
            Status::Scheduled => "scheduled",
            Status::Implementing => "implementing",
            Status::Implemented => "implemented",
            Status::BackedOut => "backed out",
            Status::Reviewed => "reviewed",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        })
    }
}

/// A CI a change touches, with its class (which standard templates restrict).
///
/// JSON shape: `{"ci": "AST-000123", "class": "printer"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Target {
    /// The CI.
    pub ci: AssetRef,
    /// Its class.
    pub class: Class,
}

/// A risk assessment.
///
/// JSON shape: `{"impact": 2, "likelihood": 3, "risk": "medium"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Impact level.
    pub impact: Impact,
    /// Likelihood level.
    pub likelihood: Likelihood,
    /// The matrix's risk for them.
    pub risk: Risk,
}

/// The conclusion of a post-implementation review.
///
/// JSON shape: `"successful"`, `"successful_with_issues"`, `"unsuccessful"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Met its objectives without incident.
    Successful,
    /// Met its objectives, with incidents or deviations.
    SuccessfulWithIssues,
    /// Did not meet its objectives (including backed-out changes).
    Unsuccessful,
}

/// The conclusion of a retrospective review of an emergency change.
///
/// JSON shape: `"justified"` or `"not_justified"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The emergency route was justified.
    Justified,
    /// It should have been a normal change.
    NotJustified,
}

/// Which board votes on a change.
///
/// JSON shape: `"cab"` or `"ecab"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardKind {
    /// The change advisory board.
    Cab,
    /// The emergency change advisory board.
    Ecab,
}

impl fmt::Display for BoardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BoardKind::Cab => "change advisory board",
            BoardKind::Ecab => "emergency change advisory board",
        })
    }
}

/// A change.
///
/// JSON shape: `{"reference": "CHG-000042", "title": "…", "description": "…",
/// "kind": "normal", "status": "scheduled", "cis": [Target, …], "risk": "medium" | null,
/// "assessment": Assessment | null, "approvals": ["s.khan", …], "rejection": {"member", "reason"} | null,
/// "window": Window | null, "review": {"outcome", "notes"} | null,
/// "retrospective": {"member", "verdict", "notes"} | null, "raised_at": "…", "updated_at": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    reference: ChangeRef,
    title: String,
    description: String,
    kind: Kind,
    status: Status,
    cis: Vec<Target>,
    risk: Option<Risk>,
    assessment: Option<Assessment>,
    approvals: Vec<PersonId>,
    rejection: Option<Rejection>,
    window: Option<Window>,
    review: Option<Review>,
    retrospective: Option<Retrospective>,
    raised_at: Timestamp,
    updated_at: Timestamp,
}

/// Why a change was rejected. JSON shape: `{"member": "s.khan", "reason": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The board member who rejected it.
    pub member: PersonId,
    /// Why.
    pub reason: String,
}

/// A post-implementation review. JSON shape: `{"outcome": "successful", "notes": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The conclusion.
    pub outcome: Outcome,
    /// What was learnt.
    pub notes: String,
}

/// A retrospective review of an emergency change.
///
/// JSON shape: `{"member": "s.khan", "verdict": "justified", "notes": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retrospective {
    /// The CAB member who recorded it.
    pub member: PersonId,
    /// Whether the emergency route was justified.
    pub verdict: Verdict,
    /// Notes.
    pub notes: String,
}

impl Change {
    /// Its reference.
    pub fn reference(&self) -> ChangeRef {
        self.reference
    }

    /// Its title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// What it does and why.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Standard, normal or emergency.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// Where it is in its life.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The CIs it touches.
    pub fn cis(&self) -> &[Target] {
        &self.cis
    }

    /// Its risk, once assessed or pre-authorised.
    pub fn risk(&self) -> Option<Risk> {
        self.risk
    }

    /// Its risk assessment, if assessed.
    pub fn assessment(&self) -> Option<&Assessment> {
        self.assessment.as_ref()
    }

    /// The board members who approved it, in order.
    pub fn approvals(&self) -> &[PersonId] {
        &self.approvals
    }

    /// Why it was rejected, if it was.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.rejection.as_ref()
    }

    /// The window it is scheduled in.
    pub fn window(&self) -> Option<&Window> {
        self.window.as_ref()
    }

    /// Its post-implementation review.
    pub fn review(&self) -> Option<&Review> {
        self.review.as_ref()
    }

    /// Its retrospective review (emergency changes).
    pub fn retrospective(&self) -> Option<&Retrospective> {
        self.retrospective.as_ref()
    }

    /// When it was raised.
    pub fn raised_at(&self) -> Timestamp {
        self.raised_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    /// Whether it has been authorised (it may be past that now).
    pub fn is_authorised(&self) -> bool {
        matches!(
            self.status,
            Status::Authorised
                | Status::Scheduled
                | Status::Implementing
                | Status::Implemented
                | Status::BackedOut
                | Status::Reviewed
                | Status::Closed
        )
    }

    /// Its booking, while it holds a window (scheduled or implementing).
    pub fn booking(&self) -> Option<Booking> {
        let window = self
            .window
            .filter(|_| matches!(self.status, Status::Scheduled | Status::Implementing))?;
        Some(Booking {
            change: self.reference,
            window,
            cis: self.cis.iter().map(|t| t.ci).collect(),
        })
    }

    /// The board that votes on it; `None` for standard changes.
    pub fn board(&self) -> Option<BoardKind> {
        match self.kind {
            Kind::Standard(_) => None,
            Kind::Normal => Some(BoardKind::Cab),
            Kind::Emergency => Some(BoardKind::Ecab),
        }
    }
}

/// What can be asked of a change.
///
/// JSON shape: an object tagged by `type`, e.g.
/// `{"type": "schedule", "window": {"start": "…", "end": "…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Raise a change as a draft.
    Raise {
        /// The reference allocated for it.
        reference: ChangeRef,
        /// A one-line summary.
        title: String,
        /// What it does and why.
        #[serde(default)]
        description: String,
        /// Standard (with its template), normal or emergency.
        kind: Kind,
        /// The CIs it touches.
        #[serde(default)]
        cis: Vec<Target>,
    },
    /// Replace the CIs a draft touches.
    SetCis {
        /// The CIs.
        cis: Vec<Target>,
    },
    /// Submit the draft (a standard change is pre-authorised at once).
    Submit,
    /// Record the risk assessment.
    Assess {
        /// Impact level.
        impact: Impact,
        /// Likelihood level.
        likelihood: Likelihood,
    },
    /// Record a board member's approval.
    Approve {
        /// The member.
        member: PersonId,
    },
    /// Record a board member's rejection; it ends the change.
    Reject {
        /// The member.
        member: PersonId,
        /// Why.
        reason: String,
    },
    /// Book the change into a window (again, to move it).
    Schedule {
        /// The window.
        window: Window,
    },
    /// Start implementing.
    StartImplementation,
    /// Record that the implementation is done.
    Complete {
        /// What was done.
        #[serde(default)]
        notes: String,
    },
    /// Record that the change was backed out.
    BackOut {
        /// Why.
        reason: String,
    },
    /// Record the post-implementation review.
    Review {
        /// The conclusion.
        outcome: Outcome,
        /// What was learnt.
        #[serde(default)]
        notes: String,
    },
    /// Record the retrospective review of an emergency change.
    ReviewRetrospectively {
        /// The CAB member recording it.
        member: PersonId,
        /// Whether the emergency route was justified.
        verdict: Verdict,
        /// Notes.
        #[serde(default)]
        notes: String,
    },
    /// Close a reviewed change.
    Close,
    /// Withdraw the change before implementation.
    Cancel {
        /// Why.
        reason: String,
    },
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Raise { .. } => "raise",
            Command::SetCis { .. } => "set_cis",
            Command::Submit => "submit",
            Command::Assess { .. } => "assess",
            Command::Approve { .. } => "approve",
            Command::Reject { .. } => "reject",
            Command::Schedule { .. } => "schedule",
            Command::StartImplementation => "start_implementation",
            Command::Complete { .. } => "complete",
            Command::BackOut { .. } => "back_out",
            Command::Review { .. } => "review",
            Command::ReviewRetrospectively { .. } => "review_retrospectively",
            Command::Close => "close",
            Command::Cancel { .. } => "cancel",
        }
    }
}

/// What happened to a change.
///
/// JSON shape: an object tagged by `type`, e.g. `{"type": "approved", "member": "s.khan"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// It was raised as a draft.
    Raised {
        /// Its reference.
        reference: ChangeRef,
        /// Its title.
        title: String,
        /// Its description.
        description: String,
        /// Its kind.
        kind: Kind,
        /// The CIs it touches.
        cis: Vec<Target>,
    },
    /// The CIs it touches were replaced.
    CisSet {
        /// The CIs.
        cis: Vec<Target>,
    },
    /// It was submitted.
    Submitted,
    /// A standard change was authorised by its template.
    PreAuthorised {
        /// The template.
        template: ChangeTemplateId,
        /// The template's risk.
        risk: Risk,
    },
    /// Its risk was assessed.
    Assessed {
        /// Impact level.
        impact: Impact,
        /// Likelihood level.
        likelihood: Likelihood,
        /// The resulting risk.
        risk: Risk,
    },
    /// A board member approved it.
    Approved {
        /// The member.
        member: PersonId,
    },
    /// The board's quorum was reached.
    Authorised {
        /// The members whose approvals made the quorum.
        approvals: Vec<PersonId>,
    },
    /// A board member rejected it.
    Rejected {
        /// The member.
        member: PersonId,
        /// Why.
        reason: String,
    },
    /// It was booked into a window.
    Scheduled {
        /// The window.
        window: Window,
    },
    /// Implementation started.
    ImplementationStarted,
    /// Implementation finished.
    Implemented {
        /// What was done.
        notes: String,
    },
    /// It was backed out.
    BackedOut {
        /// Why.
        reason: String,
    },
    /// Its post-implementation review was recorded.
    Reviewed {
        /// The conclusion.
        outcome: Outcome,
        /// What was learnt.
        notes: String,
    },
    /// Its retrospective review was recorded.
    RetrospectivelyReviewed {
        /// The CAB member.
        member: PersonId,
        /// The verdict.
        verdict: Verdict,
        /// Notes.
        notes: String,
    },
    /// It was closed.
    Closed,
    /// It was withdrawn.
    Cancelled {
        /// Why.
        reason: String,
    },
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Raised { .. } => "raised",
            Event::CisSet { .. } => "cis_set",
            Event::Submitted => "submitted",
            Event::PreAuthorised { .. } => "pre_authorised",
            Event::Assessed { .. } => "assessed",
            Event::Approved { .. } => "approved",
            Event::Authorised { .. } => "authorised",
            Event::Rejected { .. } => "rejected",
            Event::Scheduled { .. } => "scheduled",
            Event::ImplementationStarted => "implementation_started",
            Event::Implemented { .. } => "implemented",
            Event::BackedOut { .. } => "backed_out",
            Event::Reviewed { .. } => "reviewed",
            Event::RetrospectivelyReviewed { .. } => "retrospectively_reviewed",
            Event::Closed => "closed",
            Event::Cancelled { .. } => "cancelled",
        }
    }

    /// The forward schedule of change is published to staff: milestones are public; votes,
    /// assessments and reviews are internal.
    fn visibility(&self) -> Visibility {
        match self {
            Event::Raised { .. }
            | Event::Submitted
            | Event::PreAuthorised { .. }
            | Event::Authorised { .. }
            | Event::Scheduled { .. }
            | Event::ImplementationStarted
            | Event::Implemented { .. }
            | Event::BackedOut { .. }
            | Event::Closed
            | Event::Cancelled { .. } => Visibility::Public,
            Event::CisSet { .. }
            | Event::Assessed { .. }
            | Event::Approved { .. }
            | Event::Rejected { .. }
            | Event::Reviewed { .. }
            | Event::RetrospectivelyReviewed { .. } => Visibility::Internal,
        }
    }
}

/// Why a change command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A command other than `raise` for a change that does not exist.
    #[error("cannot {command} a change that has not been raised")]
    NotRaised {
        /// The command.
        command: &'static str,
    },
    /// `raise` for a change that exists.
    #[error("{reference} has already been raised")]
    AlreadyRaised {
        /// The change.
        reference: ChangeRef,
    },
    /// The command does not apply in the change's status (or to its kind).
    #[error("cannot {command} {reference} while it is {state}")]
    InvalidTransition {
        /// The change.
        reference: ChangeRef,
        /// Its status.
        state: Status,
        /// The command.
        command: &'static str,
    },
    /// A title or reason is blank.
    #[error("{what} must not be blank")]
    Blank {
        /// What was blank.
        what: &'static str,
    },
    /// The standard-change template is not in the configuration.
    #[error("there is no standard change template `{template}`")]
    UnknownTemplate {
        /// The template named.
        template: ChangeTemplateId,
    },
    /// A standard change touches a CI of a class its template does not allow.
    #[error("template `{template}` does not cover {ci}, {}", .class.with_article())]
    ClassNotAllowed {
        /// The template.
        template: ChangeTemplateId,
        /// The CI.
        ci: AssetRef,
        /// Its class.
        class: Class,
    },
    /// The same CI is listed twice.
    #[error("{ci} is listed twice")]
    DuplicateCi {
        /// The CI.
        ci: AssetRef,
    },
    /// The assessment's levels are outside the risk matrix.
    #[error(transparent)]
    Risk(#[from] risk::Error),
    /// The person voting is not on the board that votes on this change.
    #[error("{member} is not on the {board}")]
    NotOnBoard {
        /// The person.
        member: PersonId,
        /// The board.
        board: BoardKind,
    },
    /// The member has already approved.
    #[error("{member} has already approved {reference}")]
    AlreadyApproved {
        /// The change.
        reference: ChangeRef,
        /// The member.
        member: PersonId,
    },
    /// A window whose end is not after its start.
    #[error("a window must end after it starts ({start} is not before {end})")]
    EmptyWindow {
        /// The start given.
        start: Timestamp,
        /// The end given.
        end: Timestamp,
    },
    /// The window is already over.
    #[error("the window {window} is already over")]
    WindowPassed {
        /// The window.
        window: Window,
    },
    /// The window overlaps a freeze and the change is not an emergency.
    #[error(
        "the window {window} overlaps the {freeze} ({frozen}); only emergency changes may be scheduled then"
    )]
    Frozen {
        /// The window asked for.
        window: Window,
        /// The freeze's name.
        freeze: String,
        /// The frozen period.
        frozen: Window,
    },
    /// Implementation may start only inside the scheduled window.
    #[error("{reference} may start only inside its window, {window}")]
    OutsideWindow {
        /// The change.
        reference: ChangeRef,
        /// Its window.
        window: Window,
    },
    /// Only emergency changes have a retrospective review.
    #[error("{reference} is not an emergency change, so it has no retrospective review")]
    NotEmergency {
        /// The change.
        reference: ChangeRef,
    },
    /// The retrospective review has already been recorded.
    #[error("{reference} has already been reviewed retrospectively")]
    AlreadyReviewedRetrospectively {
        /// The change.
        reference: ChangeRef,
    },
    /// An emergency change cannot close before its retrospective review.
    #[error("{reference} is an emergency change and needs its retrospective review before closing")]
    RetrospectiveReviewMissing {
        /// The change.
        reference: ChangeRef,
    },
}

impl Aggregate for Change {
    const NOUN: &'static str = "change";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn id(&self) -> RecordId {
        self.reference.into()
    }

    fn decide(
        state: Option<&Self>,
        command: Command,
        ctx: Context<'_>,
    ) -> Result<Vec<Event>, Error> {
        let Some(change) = state else { return raise(command, &ctx.config.change) };
        let policy = &ctx.config.change;
        let name = command.name();
        let refuse = || Error::InvalidTransition {
            reference: change.reference,
            state: change.status,
            command: name,
        };
        let expect = |allowed: &[Status]| {
            if allowed.contains(&change.status) { Ok(()) } else { Err(refuse()) }
        };
        use Status::*;
        let events = match command {
            Command::Raise { .. } => {
                return Err(Error::AlreadyRaised { reference: change.reference });
            }
            Command::SetCis { cis } => {
                expect(&[Draft])?;
                check_cis(&change.kind, &cis, policy)?;
                vec![Event::CisSet { cis }]
            }
            Command::Submit => {
                expect(&[Draft])?;
                match &change.kind {
                    Kind::Standard(id) => {
                        let template = policy
                            .template(id)
                            .ok_or_else(|| Error::UnknownTemplate { template: id.clone() })?;
                        check_cis(&change.kind, &change.cis, policy)?;
                        let pre =
                            Event::PreAuthorised { template: id.clone(), risk: template.risk };
                        vec![Event::Submitted, pre]
                    }
                    Kind::Normal | Kind::Emergency => vec![Event::Submitted],
                }
            }
            Command::Assess { impact, likelihood } => {
                expect(&[Submitted])?;
                let risk = policy.risk.risk(impact, likelihood)?;
                vec![Event::Assessed { impact, likelihood, risk }]
            }
            Command::Approve { member } => {
                let board = change.voting_board(policy).ok_or_else(refuse)?;
                if !board.admits(&member) {
                    return Err(Error::NotOnBoard {
                        member,
                        board: change.board().unwrap_or(BoardKind::Cab),
                    });
                }
                if change.approvals.contains(&member) {
                    return Err(Error::AlreadyApproved { reference: change.reference, member });
                }
                let mut approvals = change.approvals.clone();
                approvals.push(member.clone());
                let mut events = vec![Event::Approved { member }];
                if approvals.len() >= usize::from(board.quorum) {
                    events.push(Event::Authorised { approvals });
                }
                events
            }
            Command::Reject { member, reason } => {
                let board = change.voting_board(policy).ok_or_else(refuse)?;
                if !board.admits(&member) {
                    return Err(Error::NotOnBoard {
                        member,
                        board: change.board().unwrap_or(BoardKind::Cab),
                    });
                }
                not_blank(&reason, "the reason")?;
                vec![Event::Rejected { member, reason }]
            }
            Command::Schedule { window } => {
                expect(&[Authorised, Scheduled])?;
                if window.end() <= ctx.now {
                    return Err(Error::WindowPassed { window });
                }
                if !change.kind.is_emergency()
                    && let Some((freeze, frozen)) = policy.freeze_overlapping(&window)
                {
                    return Err(Error::Frozen { window, freeze: freeze.name.clone(), frozen });
                }
                vec![Event::Scheduled { window }]
            }
            Command::StartImplementation => {
                match (change.status, change.window) {
                    (Scheduled, Some(window)) if !window.contains(ctx.now) => {
                        return Err(Error::OutsideWindow { reference: change.reference, window });
                    }
                    (Scheduled, _) => {}
                    (Authorised, _) if change.kind.is_emergency() => {}
                    _ => return Err(refuse()),
                }
                vec![Event::ImplementationStarted]
            }
            Command::Complete { notes } => {
                expect(&[Implementing])?;
                vec![Event::Implemented { notes }]
            }
            Command::BackOut { reason } => {
                expect(&[Implementing])?;
                not_blank(&reason, "the reason")?;
                vec![Event::BackedOut { reason }]
            }
            Command::Review { outcome, notes } => {
                expect(&[Implemented, BackedOut])?;
                vec![Event::Reviewed { outcome, notes }]
            }
            Command::ReviewRetrospectively { member, verdict, notes } => {
                if !change.kind.is_emergency() {
                    return Err(Error::NotEmergency { reference: change.reference });
                }
                expect(&[Authorised, Scheduled, Implementing, Implemented, BackedOut, Reviewed])?;
                if change.retrospective.is_some() {
                    return Err(Error::AlreadyReviewedRetrospectively {
                        reference: change.reference,
                    });
                }
                if !policy.cab.admits(&member) {
                    return Err(Error::NotOnBoard { member, board: BoardKind::Cab });
                }
                vec![Event::RetrospectivelyReviewed { member, verdict, notes }]
            }
            Command::Close => {
                expect(&[Reviewed])?;
                if change.kind.is_emergency() && change.retrospective.is_none() {
                    return Err(Error::RetrospectiveReviewMissing { reference: change.reference });
                }
                vec![Event::Closed]
            }
            Command::Cancel { reason } => {
                expect(&[Draft, Submitted, Assessed, Authorised, Scheduled])?;
                not_blank(&reason, "the reason")?;
                vec![Event::Cancelled { reason }]
            }
        };
        Ok(events)
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let Some(mut change) = state else { return raised(at, event) };
        match event {
            Event::Raised { .. } => {
                return Err(ReplayError::AlreadyCreated {
                    reference: change.reference.to_string(),
                    event: event.name(),
                });
            }
            Event::CisSet { cis } => change.cis.clone_from(cis),
            Event::Submitted => change.status = Status::Submitted,
            Event::PreAuthorised { risk, .. } => {
                change.risk = Some(*risk);
                change.status = Status::Authorised;
            }
            Event::Assessed { impact, likelihood, risk } => {
                change.assessment =
                    Some(Assessment { impact: *impact, likelihood: *likelihood, risk: *risk });
                change.risk = Some(*risk);
                change.status = Status::Assessed;
            }
            Event::Approved { member } => change.approvals.push(member.clone()),
            Event::Authorised { .. } => change.status = Status::Authorised,
            Event::Rejected { member, reason } => {
                change.rejection =
                    Some(Rejection { member: member.clone(), reason: reason.clone() });
                change.status = Status::Rejected;
            }
            Event::Scheduled { window } => {
                change.window = Some(*window);
                change.status = Status::Scheduled;
            }
            Event::ImplementationStarted => change.status = Status::Implementing,
            Event::Implemented { .. } => change.status = Status::Implemented,
            Event::BackedOut { .. } => change.status = Status::BackedOut,
            Event::Reviewed { outcome, notes } => {
                change.review = Some(Review { outcome: *outcome, notes: notes.clone() });
                change.status = Status::Reviewed;
            }
            Event::RetrospectivelyReviewed { member, verdict, notes } => {
                change.retrospective = Some(Retrospective {
                    member: member.clone(),
                    verdict: *verdict,
                    notes: notes.clone(),
                });
            }
            Event::Closed => change.status = Status::Closed,
            Event::Cancelled { .. } => change.status = Status::Cancelled,
        }
        change.updated_at = at;
        Ok(change)
    }
}

impl Change {
    /// The board that may vote now, if the change is open to votes.
    fn voting_board<'p>(&self, policy: &'p Policy) -> Option<&'p Board> {
        match (&self.kind, self.status) {
            (Kind::Normal, Status::Assessed) => Some(&policy.cab),
            (Kind::Emergency, Status::Submitted | Status::Assessed) => Some(&policy.ecab),
            _ => None,
        }
    }
}

/// Decides the creating command.
fn raise(command: Command, policy: &Policy) -> Result<Vec<Event>, Error> {
    match command {
        Command::Raise { reference, title, description, kind, cis } => {
            not_blank(&title, "the title")?;
            check_cis(&kind, &cis, policy)?;
            Ok(vec![Event::Raised { reference, title, description, kind, cis }])
        }
        other => Err(Error::NotRaised { command: other.name() }),
    }
}

/// Refuses CIs listed twice and, for a standard change, CIs its template does not cover.
fn check_cis(kind: &Kind, cis: &[Target], policy: &Policy) -> Result<(), Error> {
    for (n, target) in cis.iter().enumerate() {
        if cis[..n].iter().any(|earlier| earlier.ci == target.ci) {
            return Err(Error::DuplicateCi { ci: target.ci });
        }
    }
    if let Kind::Standard(id) = kind {
        let template =
            policy.template(id).ok_or_else(|| Error::UnknownTemplate { template: id.clone() })?;
        if let Some(target) = cis.iter().find(|target| !template.allows(target.class)) {
            return Err(Error::ClassNotAllowed {
                template: id.clone(),
                ci: target.ci,
                class: target.class,
            });
        }
    }
    Ok(())
}

/// Folds the creating event.
fn raised(at: Timestamp, event: &Event) -> Result<Change, ReplayError> {
    match event {
        Event::Raised { reference, title, description, kind, cis } => Ok(Change {
            reference: *reference,
            title: title.clone(),
            description: description.clone(),
            kind: kind.clone(),
            status: Status::Draft,
            cis: cis.clone(),
            risk: None,
            assessment: None,
            approvals: Vec::new(),
            rejection: None,
            window: None,
            review: None,
            retrospective: None,
            raised_at: at,
            updated_at: at,
        }),
        other => Err(ReplayError::NotCreated { noun: Change::NOUN, event: other.name() }),
    }
}

fn not_blank(text: &str, what: &'static str) -> Result<(), Error> {
    if text.trim().is_empty() { Err(Error::Blank { what }) } else { Ok(()) }
}

impl crate::links::NamesCis for Change {
    fn ticket(&self) -> crate::id::Reference {
        self.reference.reference()
    }

    fn named_cis(&self) -> std::collections::BTreeSet<AssetRef> {
        self.cis().iter().map(|target| target.ci).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU8;

    use super::*;
    use crate::config::DeskConfig;
    use crate::record::Actor;

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn person(id: &str) -> PersonId {
        PersonId::new(id).unwrap()
    }

    fn window(start: &str, end: &str) -> Window {
        Window::new(utc(start), utc(end)).unwrap()
    }

    fn printer(n: u32) -> Target {
        Target { ci: AssetRef::from_number(n).unwrap(), class: Class::Printer }
    }

    /// A change and the desk it lives in, driven one command at a time.
    struct Desk {
        config: DeskConfig,
        now: Timestamp,
        change: Option<Change>,
    }

    impl Desk {
        fn new() -> Self {
            Desk { config: DeskConfig::example(), now: utc("2026-11-02T09:00:00Z"), change: None }
        }

        fn ok(&mut self, command: Command) -> Vec<&'static str> {
            let actor = Actor::Agent(person("s.khan"));
            let ctx = Context::new(self.now, &actor, &self.config);
            let (change, events) = Change::execute(self.change.clone(), command, ctx)
                .unwrap_or_else(|e| panic!("{e}"));
            self.change = Some(change);
            events.iter().map(EventInfo::name).collect()
        }

        fn refused(&self, command: Command) -> Error {
            let actor = Actor::Agent(person("s.khan"));
            let ctx = Context::new(self.now, &actor, &self.config);
            Change::decide(self.change.as_ref(), command, ctx).unwrap_err()
        }

        fn status(&self) -> Status {
            self.change.as_ref().unwrap().status()
        }
    }

    fn raise(kind: Kind, cis: Vec<Target>) -> Command {
        Command::Raise {
            reference: ChangeRef::from_number(42).unwrap(),
            title: "Replace floor 2 print server".into(),
            description: String::new(),
            kind,
            cis,
        }
    }

    fn assess(impact: u8, likelihood: u8) -> Command {
        Command::Assess {
            impact: Impact(NonZeroU8::new(impact).unwrap()),
            likelihood: Likelihood(NonZeroU8::new(likelihood).unwrap()),
        }
    }

    fn approve(member: &str) -> Command {
        Command::Approve { member: person(member) }
    }

    #[test]
    fn given_an_assessed_normal_change_when_the_quorum_approves_then_it_is_authorised() {
        let mut desk = Desk::new();
        desk.ok(raise(Kind::Normal, vec![printer(7)]));
        desk.ok(Command::Submit);
        desk.ok(assess(2, 3));
        assert_eq!(desk.change.as_ref().unwrap().risk(), Some(Risk::High));
        assert_eq!(desk.ok(approve("d.okafor")), ["approved"]);
        assert_eq!(desk.ok(approve("h.wright")), ["approved"]);
        assert_eq!(desk.status(), Status::Assessed);
        assert_eq!(desk.ok(approve("l.murphy")), ["approved", "authorised"]);
        assert_eq!(desk.status(), Status::Authorised);
    }

    #[test]
    fn given_a_normal_change_when_one_member_rejects_then_it_ends() {
        let mut desk = Desk::new();
        desk.ok(raise(Kind::Normal, vec![]));
        desk.ok(Command::Submit);
        assert!(matches!(
            desk.refused(approve("d.okafor")),
            Error::InvalidTransition { state: Status::Submitted, .. }
        ));
        desk.ok(assess(4, 4));
        desk.ok(approve("d.okafor"));
        assert_eq!(
            desk.refused(approve("d.okafor")).to_string(),
            "d.okafor has already approved CHG-000042"
        );
        assert_eq!(
            desk.refused(approve("k.lee")).to_string(),
            "k.lee is not on the change advisory board"
        );
        desk.ok(Command::Reject { member: person("l.murphy"), reason: "no back-out plan".into() });
        assert_eq!(desk.status(), Status::Rejected);
        assert_eq!(
            desk.refused(approve("h.wright")).to_string(),
            "cannot approve CHG-000042 while it is rejected"
        );
    }

    #[test]
    fn given_a_standard_template_then_the_change_is_pre_authorised_for_the_classes_it_covers() {
        let template = ChangeTemplateId::new("printer-driver-update").unwrap();
        let mut desk = Desk::new();
        let laptop = Target { ci: AssetRef::from_number(8).unwrap(), class: Class::Laptop };
        assert_eq!(
            desk.refused(raise(Kind::Standard(template.clone()), vec![printer(7), laptop]))
                .to_string(),
            "template `printer-driver-update` does not cover AST-000008, a laptop"
        );
        let unknown = Kind::Standard(ChangeTemplateId::new("reboot-everything").unwrap());
        assert!(matches!(desk.refused(raise(unknown, vec![])), Error::UnknownTemplate { .. }));
        desk.ok(raise(Kind::Standard(template), vec![printer(7)]));
        assert_eq!(desk.ok(Command::Submit), ["submitted", "pre_authorised"]);
        assert_eq!(
            (desk.status(), desk.change.as_ref().unwrap().risk()),
            (Status::Authorised, Some(Risk::Low))
        );
    }

    fn authorised(kind: Kind) -> Desk {
        let mut desk = Desk::new();
        desk.ok(raise(kind.clone(), vec![printer(7)]));
        desk.ok(Command::Submit);
        desk.ok(assess(3, 3));
        let members: &[&str] = if kind.is_emergency() {
            &["s.khan", "d.okafor"]
        } else {
            &["s.khan", "d.okafor", "h.wright"]
        };
        for member in members {
            desk.ok(approve(member));
        }
        assert_eq!(desk.status(), Status::Authorised);
        desk
    }

    #[test]
    fn given_the_christmas_freeze_then_only_an_emergency_may_be_scheduled_across_it() {
        let mut desk = authorised(Kind::Normal);
        let across = window("2026-12-18T16:00:00Z", "2026-12-18T18:00:00Z");
        let err = desk.refused(Command::Schedule { window: across });
        assert!(
            matches!(&err, Error::Frozen { freeze, .. } if freeze == "Christmas change freeze"),
            "{err}"
        );
        let before = window("2026-12-18T15:00:00Z", "2026-12-18T17:30:00Z");
        assert_eq!(desk.ok(Command::Schedule { window: before }), ["scheduled"]);
        let mut emergency = authorised(Kind::Emergency);
        emergency.ok(Command::Schedule { window: across });
        assert_eq!(emergency.status(), Status::Scheduled);
    }

    #[test]
    fn given_a_scheduled_change_then_it_starts_only_inside_its_window_and_closes_after_review() {
        let mut desk = authorised(Kind::Normal);
        let slot = window("2026-11-07T08:00:00Z", "2026-11-07T12:00:00Z");
        let passed = window("2026-11-01T08:00:00Z", "2026-11-01T12:00:00Z");
        assert!(matches!(
            desk.refused(Command::Schedule { window: passed }),
            Error::WindowPassed { .. }
        ));
        desk.ok(Command::Schedule { window: slot });
        assert!(matches!(desk.refused(Command::StartImplementation), Error::OutsideWindow { .. }));
        desk.now = utc("2026-11-07T08:00:00Z");
        desk.ok(Command::StartImplementation);
        assert!(matches!(desk.refused(Command::Close), Error::InvalidTransition { .. }));
        desk.ok(Command::Complete { notes: "new server in service".into() });
        desk.ok(Command::Review { outcome: Outcome::Successful, notes: String::new() });
        assert_eq!(desk.ok(Command::Close), ["closed"]);
        assert!(matches!(
            desk.refused(Command::ReviewRetrospectively {
                member: person("s.khan"),
                verdict: Verdict::Justified,
                notes: String::new()
            }),
            Error::NotEmergency { .. }
        ));
    }

    #[test]
    fn given_an_emergency_change_then_it_may_start_at_once_but_closes_only_after_retrospective_review()
     {
        let mut desk = Desk::new();
        desk.ok(raise(Kind::Emergency, vec![printer(7)]));
        desk.ok(Command::Submit);
        desk.ok(approve("d.okafor"));
        assert_eq!(desk.ok(approve("l.murphy")), ["approved", "authorised"]);
        desk.ok(Command::StartImplementation);
        desk.ok(Command::BackOut { reason: "firmware bricked the test unit".into() });
        desk.ok(Command::Review {
            outcome: Outcome::Unsuccessful,
            notes: "test firmware first".into(),
        });
        assert_eq!(
            desk.refused(Command::Close).to_string(),
            "CHG-000042 is an emergency change and needs its retrospective review before closing"
        );
        let retrospective = |member: &str| Command::ReviewRetrospectively {
            member: person(member),
            verdict: Verdict::Justified,
            notes: "payments outage".into(),
        };
        assert!(matches!(
            desk.refused(retrospective("k.lee")),
            Error::NotOnBoard { board: BoardKind::Cab, .. }
        ));
        desk.ok(retrospective("h.wright"));
        assert!(matches!(
            desk.refused(retrospective("s.khan")),
            Error::AlreadyReviewedRetrospectively { .. }
        ));
        desk.ok(Command::Close);
        assert_eq!(desk.status(), Status::Closed);
    }

    #[test]
    fn commands_before_raising_and_blank_titles_are_refused() {
        let desk = Desk::new();
        assert_eq!(
            desk.refused(Command::Submit).to_string(),
            "cannot submit a change that has not been raised"
        );
        let blank = Command::Raise {
            reference: ChangeRef::from_number(1).unwrap(),
            title: " ".into(),
            description: String::new(),
            kind: Kind::Normal,
            cis: vec![],
        };
        assert_eq!(desk.refused(blank).to_string(), "the title must not be blank");
        assert!(matches!(
            desk.refused(raise(Kind::Normal, vec![printer(7), printer(7)])),
            Error::DuplicateCi { .. }
        ));
    }

    #[test]
    fn kinds_commands_and_events_have_stable_json() {
        let standard = Kind::Standard(ChangeTemplateId::new("password-policy-push").unwrap());
        assert_eq!(
            serde_json::to_value(&standard).unwrap(),
            serde_json::json!({"standard": "password-policy-push"})
        );
        assert_eq!(serde_json::to_value(Kind::Emergency).unwrap(), serde_json::json!("emergency"));
        let command =
            Command::Schedule { window: window("2026-11-07T08:00:00Z", "2026-11-07T12:00:00Z") };
        let json = serde_json::to_value(&command).unwrap();
        assert_eq!(json["type"], command.name());
        assert_eq!(json["window"]["start"], "2026-11-07T08:00:00Z");
        let event = Event::Authorised { approvals: vec![person("s.khan")] };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.name());
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
