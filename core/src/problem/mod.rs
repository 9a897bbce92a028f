//! Problems and known errors: the causes behind recurring incidents.
//!
//! A [`Problem`] (`PRB-000123`) gathers the incidents it explains and the CIs it affects, is
//! investigated by a configured team, and moves through
//!
//! ```text
//! logged ──start_investigation──▶ investigating ──declare_known_error──▶ known_error
//!                                   │       ▲                                 │
//!                                resolve  reopen                           resolve
//!                                   ▼       │                                 │
//!                                  resolved ◀─────────────────────────────────┘
//!                                   │
//!                                 close ──▶ closed
//!
//! logged, investigating or known_error ──cancel──▶ cancelled
//! ```
//!
//! Rules (all kept by [`Aggregate::decide`]):
//! - problem management is desk work: a requester may issue no problem command;
//! - a team is assigned at logging or later and must exist in the configuration; investigation
//!   cannot start without one;
//! - incidents and CIs may be linked and unlinked while the problem is open (logged,
//!   investigating, known error); linking what is linked, or unlinking what is not, is refused;
//! - a root cause and a workaround are recorded during investigation (and may be revised while
//!   it is a known error); a known error needs at least one of them, and neither can be removed,
//!   so a known error always has one;
//! - resolving needs a root cause (what was fixed) and resolution notes; the change that fixed it
//!   is optional;
//! - a resolved problem is closed, or reopened (back to investigating, with the recurring
//!   incident linked) when its incidents come back; closed and cancelled problems accept nothing.
//!
//! A known error's workaround is offered to new incidents that match it: see [`workaround_offers`].
//! Candidate problems are found among incidents by [`recurring()`] (the rule is in [`mod@recurring`]).

pub mod offers;
pub mod recurring;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use self::offers::{Match, Offer, workaround_offers};
pub use self::recurring::{Candidate, IncidentDigest, Occurrence, Shared, recurring};
use crate::id::{
    AssetRef, CategoryId, ChangeRef, IncidentRef, ProblemRef, RecordId, Reference, TeamId,
};
use crate::links::{LinkError, Linkage, NamesCis};
use crate::record::{
    Actor, Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};

/// Where a problem is in its life.
///
/// JSON shape: `"logged"`, `"investigating"`, `"known_error"`, `"resolved"`, `"closed"`,
/// `"cancelled"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Recorded, not yet investigated.
    Logged,
    /// A team is looking for the root cause.
    Investigating,
    /// The cause or a workaround is known and documented; the fix is still to come.
    KnownError,
    /// The cause has been removed.
    Resolved,
    /// Finished; nothing more happens.
    Closed,
    /// Withdrawn (a duplicate, or not a problem after all); nothing more happens.
    Cancelled,
}

impl Status {
    /// Whether the problem is still being worked: logged, investigating or a known error.
    pub const fn is_open(self) -> bool {
        matches!(self, Status::Logged | Status::Investigating | Status::KnownError)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Logged => "logged",
            Status::Investigating => "under investigation",
            Status::KnownError => "a known error",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        })
    }
}

/// How to work around a problem until it is fixed.
///
/// `visibility` says who may be shown it: `public` means it is published to requesters (a
/// self-help step they can take), `internal` means desk staff only.
///
/// JSON shape: `{"text": "Restart the VPN client, then …", "visibility": "public"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workaround {
    /// The steps.
    pub text: String,
    /// Who may be shown it.
    pub visibility: Visibility,
}

/// How a problem was resolved.
///
/// JSON shape: `{"notes": "Firmware 4.2 installed on all core switches", "change": "CHG-000310"}`
/// (`change` is `null` when no change was needed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// What was done.
    pub notes: String,
    /// The change that removed the cause, if one did.
    pub change: Option<ChangeRef>,
}

/// A problem or known error, as its events have made it.
///
/// JSON shape: an object with the keys of the accessors below: `reference`, `title`,
/// `description`, `category`, `status`, `team`, `incidents` and `cis` (sorted arrays of
/// references), `root_cause` (text or `null`), `workaround` ([`Workaround`] or `null`),
/// `resolution` ([`Resolution`] or `null`), `logged_at`, `updated_at`, `known_error_at`,
/// `resolved_at` (timestamps, the last three `null` until they happen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    reference: ProblemRef,
    title: String,
    description: String,
    category: Option<CategoryId>,
    status: Status,
    team: Option<TeamId>,
    incidents: BTreeSet<IncidentRef>,
    cis: BTreeSet<AssetRef>,
    root_cause: Option<String>,
    workaround: Option<Workaround>,
    resolution: Option<Resolution>,
    logged_at: Timestamp,
    updated_at: Timestamp,
    known_error_at: Option<Timestamp>,
    resolved_at: Option<Timestamp>,
}

impl Problem {
    /// Its reference.
    pub fn reference(&self) -> ProblemRef {
        self.reference
    }
    /// A one-line summary.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// What is known about it.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The category of the incidents it explains, if it has one.
    pub fn category(&self) -> Option<&CategoryId> {
        self.category.as_ref()
    }
    /// Where it is in its life.
    pub fn status(&self) -> Status {
        self.status
    }
    /// The team investigating it.
    pub fn team(&self) -> Option<&TeamId> {
        self.team.as_ref()
    }
    /// The incidents it explains.
    pub fn incidents(&self) -> &BTreeSet<IncidentRef> {
        &self.incidents
    }
    /// The configuration items it affects.
    pub fn cis(&self) -> &BTreeSet<AssetRef> {
        &self.cis
    }
    /// The root cause, once found.
    pub fn root_cause(&self) -> Option<&str> {
        self.root_cause.as_deref()
    }
    /// The workaround, once found.
    pub fn workaround(&self) -> Option<&Workaround> {
        self.workaround.as_ref()
    }
    /// The resolution, while it is resolved or closed.
    pub fn resolution(&self) -> Option<&Resolution> {
        self.resolution.as_ref()
    }
    /// When it was logged.
    pub fn logged_at(&self) -> Timestamp {
        self.logged_at
    }
    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// When it was last declared a known error.
    pub fn known_error_at(&self) -> Option<Timestamp> {
        self.known_error_at
    }
    /// When it was last resolved.
    pub fn resolved_at(&self) -> Option<Timestamp> {
        self.resolved_at
    }
}

/// What may be asked of a problem.
///
/// JSON shape: an object tagged by `type`, e.g. `{"type": "link_incident", "incident":
/// "INC-000123"}`, `{"type": "record_workaround", "text": "…", "visibility": "public"}`,
/// `{"type": "resolve", "notes": "…", "change": "CHG-000310"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Records a new problem; `reference` is allocated by the caller.
    Log {
        /// The new problem's reference.
        reference: ProblemRef,
        /// A one-line summary (required).
        title: String,
        /// What is known so far.
        #[serde(default)]
        description: String,
        /// The category of the incidents it explains.
        #[serde(default)]
        category: Option<CategoryId>,
        /// The team to investigate it.
        #[serde(default)]
        team: Option<TeamId>,
        /// Incidents it already explains.
        #[serde(default)]
        incidents: BTreeSet<IncidentRef>,
        /// CIs it already affects.
        #[serde(default)]
        cis: BTreeSet<AssetRef>,
    },
    /// Gives the problem to another team.
    Assign {
        /// The team, from the configuration.
        team: TeamId,
    },
    /// Changes the category (`null` clears it).
    Recategorise {
        /// The new category.
        category: Option<CategoryId>,
    },
    /// Starts looking for the root cause (a team must be assigned).
    StartInvestigation,
    /// Records that the problem explains an incident.
    LinkIncident {
        /// The incident.
        incident: IncidentRef,
    },
    /// Removes an incident linked by mistake.
    UnlinkIncident {
        /// The incident.
        incident: IncidentRef,
    },
    /// Records that the problem affects a CI.
    LinkCi {
        /// The configuration item.
        ci: AssetRef,
    },
    /// Removes a CI linked by mistake.
    UnlinkCi {
        /// The configuration item.
        ci: AssetRef,
    },
    /// Records (or revises) the root cause.
    RecordRootCause {
        /// What causes the incidents.
        text: String,
    },
    /// Records (or revises) the workaround and who may see it.
    RecordWorkaround {
        /// The steps.
        text: String,
        /// `public` to publish it to requesters.
        visibility: Visibility,
    },
    /// Declares the problem a known error (it needs a root cause or a workaround).
    DeclareKnownError,
    /// Records that the cause has been removed (it needs a root cause).
    Resolve {
        /// What was done.
        notes: String,
        /// The change that removed the cause, if one did.
        #[serde(default)]
        change: Option<ChangeRef>,
    },
    /// Finishes a resolved problem.
    Close,
    /// Reopens a resolved problem whose incidents came back.
    Reopen {
        /// Why.
        reason: String,
        /// The incident that recurred, linked as part of reopening.
        #[serde(default)]
        incident: Option<IncidentRef>,
    },
    /// Withdraws an open problem.
    Cancel {
        /// Why.
        reason: String,
    },
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Log { .. } => "log",
            Command::Assign { .. } => "assign",
            Command::Recategorise { .. } => "recategorise",
            Command::StartInvestigation => "start_investigation",
            Command::LinkIncident { .. } => "link_incident",
            Command::UnlinkIncident { .. } => "unlink_incident",
            Command::LinkCi { .. } => "link_ci",
            Command::UnlinkCi { .. } => "unlink_ci",
            Command::RecordRootCause { .. } => "record_root_cause",
            Command::RecordWorkaround { .. } => "record_workaround",
            Command::DeclareKnownError => "declare_known_error",
            Command::Resolve { .. } => "resolve",
            Command::Close => "close",
            Command::Reopen { .. } => "reopen",
            Command::Cancel { .. } => "cancel",
        }
    }
}

/// What happened to a problem.
///
/// JSON shape: an object tagged by `type` with the same payload names as the commands, e.g.
/// `{"type": "known_error_declared"}`, `{"type": "workaround_recorded", "workaround": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The problem was logged.
    Logged {
        /// Its reference.
        reference: ProblemRef,
        /// Its summary.
        title: String,
        /// Its description.
        description: String,
        /// Its category.
        category: Option<CategoryId>,
        /// Its team.
        team: Option<TeamId>,
        /// The incidents it explains.
        incidents: BTreeSet<IncidentRef>,
        /// The CIs it affects.
        cis: BTreeSet<AssetRef>,
    },
    /// It was given to a team.
    Assigned {
        /// The team.
        team: TeamId,
    },
    /// Its category changed.
    Recategorised {
        /// The new category.
        category: Option<CategoryId>,
    },
    /// Investigation started.
    InvestigationStarted,
    /// An incident was linked.
    IncidentLinked {
        /// The incident.
        incident: IncidentRef,
    },
    /// An incident was unlinked.
    IncidentUnlinked {
        /// The incident.
        incident: IncidentRef,
    },
    /// A CI was linked.
    CiLinked {
        /// The CI.
        ci: AssetRef,
    },
    /// A CI was unlinked.
    CiUnlinked {
        /// The CI.
        ci: AssetRef,
    },
    /// The root cause was recorded.
    RootCauseRecorded {
        /// The cause.
        text: String,
    },
    /// The workaround was recorded.
    WorkaroundRecorded {
        /// The workaround.
        workaround: Workaround,
    },
    /// It became a known error.
    KnownErrorDeclared,
    /// The cause was removed.
    Resolved {
        /// How.
        resolution: Resolution,
    },
    /// It was closed.
    Closed,
    /// It was reopened.
    Reopened {
        /// Why.
        reason: String,
        /// The recurring incident, now linked.
        incident: Option<IncidentRef>,
    },
    /// It was withdrawn.
    Cancelled {
        /// Why.
        reason: String,
    },
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Logged { .. } => "logged",
            Event::Assigned { .. } => "assigned",
            Event::Recategorised { .. } => "recategorised",
            Event::InvestigationStarted => "investigation_started",
            Event::IncidentLinked { .. } => "incident_linked",
            Event::IncidentUnlinked { .. } => "incident_unlinked",
            Event::CiLinked { .. } => "ci_linked",
            Event::CiUnlinked { .. } => "ci_unlinked",
            Event::RootCauseRecorded { .. } => "root_cause_recorded",
            Event::WorkaroundRecorded { .. } => "workaround_recorded",
            Event::KnownErrorDeclared => "known_error_declared",
            Event::Resolved { .. } => "resolved",
            Event::Closed => "closed",
            Event::Reopened { .. } => "reopened",
            Event::Cancelled { .. } => "cancelled",
        }
    }

    /// A workaround published to requesters is public; everything else about a problem is
    /// desk-internal.
    fn visibility(&self) -> Visibility {
        match self {
            Event::WorkaroundRecorded { workaround } => workaround.visibility,
            _ => Visibility::Internal,
        }
    }
}

/// Why a problem command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command needs a problem, and none has been logged under this reference.
    #[error("cannot {command}: the problem has not been logged")]
    NotLogged {
        /// The refused command.
        command: &'static str,
    },
    /// `log` was given a reference that is already in use.
    #[error("{reference} is already logged")]
    AlreadyLogged {
        /// The problem.
        reference: ProblemRef,
    },
    /// The command does not apply in the problem's current state.
    #[error("cannot {command} {reference} while it is {state}")]
    InvalidTransition {
        /// The problem.
        reference: ProblemRef,
        /// Its state.
        state: Status,
        /// The refused command.
        command: &'static str,
    },
    /// Requesters do not work on problems.
    #[error("{actor} may not {command} a problem: problem management is for desk staff")]
    NotPermitted {
        /// Who asked.
        actor: Actor,
        /// The refused command.
        command: &'static str,
    },
    /// A text the command needs is empty.
    #[error("cannot {command}: no {field} given")]
    Empty {
        /// The refused command.
        command: &'static str,
        /// Which text.
        field: &'static str,
    },
    /// The team is not in the configuration.
    #[error("cannot {command}: unknown team `{team}`")]
    UnknownTeam {
        /// The refused command.
        command: &'static str,
        /// The team named.
        team: TeamId,
    },
    /// The category is not in the configuration.
    #[error("cannot {command}: unknown category `{category}`")]
    UnknownCategory {
        /// The refused command.
        command: &'static str,
        /// The category named.
        category: CategoryId,
    },
    /// The command would change nothing.
    #[error("{command} would not change {reference}")]
    Unchanged {
        /// The problem.
        reference: ProblemRef,
        /// The refused command.
        command: &'static str,
    },
    /// Investigation needs a team.
    #[error("cannot start_investigation {reference}: no team is assigned")]
    Unassigned {
        /// The problem.
        reference: ProblemRef,
    },
    /// The incident or CI is already linked, or is not linked.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// A known error needs a root cause or a workaround.
    #[error("cannot declare_known_error {reference}: record a root cause or a workaround first")]
    NothingKnown {
        /// The problem.
        reference: ProblemRef,
    },
    /// Resolving needs a root cause.
    #[error("cannot resolve {reference}: record its root cause first")]
    NoRootCause {
        /// The problem.
        reference: ProblemRef,
    },
}

/// The trimmed `text`, refused when empty.
fn required(text: &str, command: &'static str, field: &'static str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() { Err(Error::Empty { command, field }) } else { Ok(text.to_owned()) }
}

fn known_team(ctx: &Context<'_>, team: &TeamId, command: &'static str) -> Result<(), Error> {
    match ctx.config.team(team) {
        Some(_) => Ok(()),
        None => Err(Error::UnknownTeam { command, team: team.clone() }),
    }
}

fn known_category(
    ctx: &Context<'_>,
    category: Option<&CategoryId>,
    command: &'static str,
) -> Result<(), Error> {
    match category {
        Some(id) if ctx.config.category(id).is_none() => {
            Err(Error::UnknownCategory { command, category: id.clone() })
        }
        _ => Ok(()),
    }
}

impl Problem {
    fn refuse(&self, command: &'static str) -> Error {
        Error::InvalidTransition { reference: self.reference, state: self.status, command }
    }

    /// Refuses `command` unless the problem is in one of `allowed`.
    fn require(&self, allowed: &[Status], command: &'static str) -> Result<(), Error> {
        if allowed.contains(&self.status) { Ok(()) } else { Err(self.refuse(command)) }
    }

    fn decide_existing(&self, command: Command, ctx: &Context<'_>) -> Result<Vec<Event>, Error> {
        use Status::{Investigating, KnownError, Logged, Resolved};
        const OPEN: &[Status] = &[Logged, Investigating, KnownError];
        const WORKING: &[Status] = &[Investigating, KnownError];
        let name = command.name();
        let event = match command {
            Command::Log { .. } => return Err(Error::AlreadyLogged { reference: self.reference }),
            Command::Assign { team } => {
                self.require(OPEN, name)?;
                known_team(ctx, &team, name)?;
                if self.team.as_ref() == Some(&team) {
                    return Err(Error::Unchanged { reference: self.reference, command: name });
                }
                Event::Assigned { team }
            }
            Command::Recategorise { category } => {
                self.require(OPEN, name)?;
                known_category(ctx, category.as_ref(), name)?;
                if self.category == category {
                    return Err(Error::Unchanged { reference: self.reference, command: name });
                }
                Event::Recategorised { category }
            }
            Command::StartInvestigation => {
                self.require(&[Logged], name)?;
                if self.team.is_none() {
                    return Err(Error::Unassigned { reference: self.reference });
                }
                Event::InvestigationStarted
            }
            Command::LinkIncident { incident } => {
                self.require(OPEN, name)?;
                Linkage::Link.check(self.reference, &self.incidents, incident)?;
                Event::IncidentLinked { incident }
            }
            Command::UnlinkIncident { incident } => {
                self.require(OPEN, name)?;
                Linkage::Unlink.check(self.reference, &self.incidents, incident)?;
                Event::IncidentUnlinked { incident }
            }
            Command::LinkCi { ci } => {
                self.require(OPEN, name)?;
                Linkage::Link.check(self.reference, &self.cis, ci)?;
                Event::CiLinked { ci }
            }
            Command::UnlinkCi { ci } => {
                self.require(OPEN, name)?;
                Linkage::Unlink.check(self.reference, &self.cis, ci)?;
                Event::CiUnlinked { ci }
            }
            Command::RecordRootCause { text } => {
                self.require(WORKING, name)?;
                Event::RootCauseRecorded { text: required(&text, name, "root cause")? }
            }
            Command::RecordWorkaround { text, visibility } => {
                self.require(WORKING, name)?;
                let text = required(&text, name, "workaround")?;
                Event::WorkaroundRecorded { workaround: Workaround { text, visibility } }
            }
            Command::DeclareKnownError => {
                self.require(&[Investigating], name)?;
                if self.root_cause.is_none() && self.workaround.is_none() {
                    return Err(Error::NothingKnown { reference: self.reference });
                }
                Event::KnownErrorDeclared
            }
            Command::Resolve { notes, change } => {
                self.require(WORKING, name)?;
                if self.root_cause.is_none() {
                    return Err(Error::NoRootCause { reference: self.reference });
                }
                let notes = required(&notes, name, "resolution notes")?;
                Event::Resolved { resolution: Resolution { notes, change } }
            }
            Command::Close => {
                self.require(&[Resolved], name)?;
                Event::Closed
            }
            Command::Reopen { reason, incident } => {
                self.require(&[Resolved], name)?;
                let reason = required(&reason, name, "reason")?;
                if let Some(incident) = incident {
                    Linkage::Link.check(self.reference, &self.incidents, incident)?;
                }
                Event::Reopened { reason, incident }
            }
            Command::Cancel { reason } => {
                self.require(OPEN, name)?;
                Event::Cancelled { reason: required(&reason, name, "reason")? }
            }
        };
        Ok(vec![event])
    }
}

fn log(command: Command, ctx: &Context<'_>) -> Result<Vec<Event>, Error> {
    let Command::Log { reference, title, description, category, team, incidents, cis } = command
    else {
        return Err(Error::NotLogged { command: command.name() });
    };
    let title = required(&title, "log", "title")?;
    known_category(ctx, category.as_ref(), "log")?;
    if let Some(team) = &team {
        known_team(ctx, team, "log")?;
    }
    let description = description.trim().to_owned();
    Ok(vec![Event::Logged { reference, title, description, category, team, incidents, cis }])
}

impl Aggregate for Problem {
    const NOUN: &'static str = "problem";
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
        if let Actor::Requester(_) = ctx.actor {
            return Err(Error::NotPermitted { actor: ctx.actor.clone(), command: command.name() });
        }
        match state {
            None => log(command, &ctx),
            Some(problem) => problem.decide_existing(command, &ctx),
        }
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let mut problem = match (state, event) {
            (
                None,
                Event::Logged { reference, title, description, category, team, incidents, cis },
            ) => {
                return Ok(Problem {
                    reference: *reference,
                    title: title.clone(),
                    description: description.clone(),
                    category: category.clone(),
                    status: Status::Logged,
                    team: team.clone(),
                    incidents: incidents.clone(),
                    cis: cis.clone(),
                    root_cause: None,
                    workaround: None,
                    resolution: None,
                    logged_at: at,
                    updated_at: at,
                    known_error_at: None,
                    resolved_at: None,
                });
            }
            (None, _) => {
                return Err(ReplayError::NotCreated { noun: Self::NOUN, event: event.name() });
            }
            (Some(problem), Event::Logged { .. }) => {
                return Err(ReplayError::AlreadyCreated {
                    reference: problem.reference.to_string(),
                    event: event.name(),
                });
            }
            (Some(problem), _) => problem,
        };
        problem.updated_at = at;
        match event {
            Event::Logged { .. } => {}
            Event::Assigned { team } => problem.team = Some(team.clone()),
            Event::Recategorised { category } => problem.category = category.clone(),
            Event::InvestigationStarted => problem.status = Status::Investigating,
            Event::IncidentLinked { incident } => {
                problem.incidents.insert(*incident);
            }
            Event::IncidentUnlinked { incident } => {
                problem.incidents.remove(incident);
            }
            Event::CiLinked { ci } => {
                problem.cis.insert(*ci);
            }
            Event::CiUnlinked { ci } => {
                problem.cis.remove(ci);
            }
            Event::RootCauseRecorded { text } => problem.root_cause = Some(text.clone()),
            Event::WorkaroundRecorded { workaround } => {
                problem.workaround = Some(workaround.clone());
            }
            Event::KnownErrorDeclared => {
                problem.status = Status::KnownError;
                problem.known_error_at = Some(at);
            }
            Event::Resolved { resolution } => {
                problem.status = Status::Resolved;
                problem.resolution = Some(resolution.clone());
                problem.resolved_at = Some(at);
            }
            Event::Closed => problem.status = Status::Closed,
            Event::Reopened { incident, .. } => {
                problem.status = Status::Investigating;
                problem.resolution = None;
                problem.incidents.extend(*incident);
            }
            Event::Cancelled { .. } => problem.status = Status::Cancelled,
        }
        Ok(problem)
    }
}

impl NamesCis for Problem {
    fn ticket(&self) -> Reference {
        self.reference.reference()
    }

    fn named_cis(&self) -> BTreeSet<AssetRef> {
        self.cis.clone()
    }
}

#[cfg(test)]
mod tests;
