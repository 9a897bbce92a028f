//! Customer complaints: a ticket kind of their own, about another ticket.
//!
//! A complaint is lodged about any ticket (an incident handled badly, a request that took too
//! long, even another complaint) and carries its own targets later. UK councils answer complaints
//! in two stages:
//!
//! - **Stage 1**: the lead of the team that handled the ticket investigates and responds;
//! - **Stage 2**: if the complainant is not satisfied, someone independent of stage 1 reviews
//!   it (the service desk manager); the stage 2 response is final.
//!
//! Who handles a complaint is decided by [`handler`] and [`reviewer`] from the configuration.
//!
//! Lifecycle ([`Status`]):
//!
//! ```text
//! received → acknowledged → investigating → responded → closed
//!                                ↑              │
//!                                └── escalate ──┘  (stage 1 only: stage 2, new handler)
//! withdrawn: from any state before closed
//! ```
//!
//! A response records an [`Outcome`] (upheld, partly upheld, not upheld). Handlers can be
//! changed by hand while the complaint is open, but never to the complainant, nor at stage 2 to
//! whoever answered stage 1. Only the complainant (or the desk) may withdraw or comment on it.
//! Closed and withdrawn complaints accept nothing more.
//!
//! JSON shapes: commands and events are objects tagged by `type` (see [`Command`] and
//! [`Event`]); the record is a [`Complaint`] object.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::config::DeskConfig;
use crate::id::{ComplaintRef, PersonId, RecordId, Reference, TeamId};
use crate::record::{
    Actor, Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};

/// Which stage of the complaints process a complaint is at.
///
/// JSON shape: `"one"` or `"two"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Investigated by the lead of the team that handled the ticket.
    One,
    /// Reviewed independently, by the service desk manager. Final.
    Two,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::One => "stage 1",
            Stage::Two => "stage 2",
        })
    }
}

/// Where a complaint is in its life.
///
/// JSON shape: `"received"`, `"acknowledged"`, `"investigating"`, `"responded"`, `"closed"` or
/// `"withdrawn"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Recorded, not yet acknowledged to the complainant.
    Received,
    /// The complainant has been told it is being dealt with.
    Acknowledged,
    /// The handler is looking into it.
    Investigating,
    /// The handler has answered; the complainant may accept or escalate.
    Responded,
    /// Finished with. Final.
    Closed,
    /// The complainant (or the desk for them) withdrew it. Final.
    Withdrawn,
}

impl Status {
    /// Whether the complaint accepts no more commands.
    pub const fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Withdrawn)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Received => "received",
            Status::Acknowledged => "acknowledged",
            Status::Investigating => "under investigation",
            Status::Responded => "responded to",
            Status::Closed => "closed",
            Status::Withdrawn => "withdrawn",
        })
    }
}

/// What the handler found.
///
/// JSON shape: `"upheld"`, `"partly_upheld"` or `"not_upheld"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The complaint was justified.
    Upheld,
    /// Part of it was justified.
    PartlyUpheld,
    /// It was not justified.
    NotUpheld,
}

/// A response given at one stage.
///
/// JSON shape: `{"stage": "one", "outcome": "partly_upheld", "response": "...",
/// "handler": "r.evans", "at": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The stage it answers.
    pub stage: Stage,
    /// What was found.
    pub outcome: Outcome,
    /// What the complainant was told.
    pub response: String,
    /// Who handled the complaint then.
    pub handler: PersonId,
    /// When.
    pub at: Timestamp,
}

/// A customer complaint.
///
/// JSON shape: `{"reference": "CMP-000001", "about": "INC-000123", "complainant": "k.lee",
/// "channel": "email", "summary": "...", "details": "...", "stage": "one",
/// "handler": "r.evans", "status": "investigating", "responses": [...],
/// "lodged_at": "...", "updated_at": "...", "ended_at": null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    reference: ComplaintRef,
    about: Reference,
    complainant: PersonId,
    channel: Channel,
    summary: String,
    details: String,
    stage: Stage,
    handler: PersonId,
    status: Status,
    responses: Vec<Response>,
    lodged_at: Timestamp,
    updated_at: Timestamp,
    ended_at: Option<Timestamp>,
}

impl Complaint {
    /// Its reference.
    pub fn reference(&self) -> ComplaintRef {
        self.reference
    }

    /// The ticket it is about.
    pub fn about(&self) -> Reference {
        self.about
    }

    /// Who complained.
    pub fn complainant(&self) -> &PersonId {
        &self.complainant
    }

    /// How it arrived.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The complaint in a line.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The complaint in full.
    pub fn details(&self) -> &str {
        &self.details
    }

    /// The stage it is at.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Who handles it now.
    pub fn handler(&self) -> &PersonId {
        &self.handler
    }

    /// Where it is in its life.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The responses given, stage 1 first.
    pub fn responses(&self) -> &[Response] {
        &self.responses
    }

    /// The outcome of the latest response, if any.
    pub fn outcome(&self) -> Option<Outcome> {
        self.responses.last().map(|response| response.outcome)
    }

    /// When it was lodged.
    pub fn lodged_at(&self) -> Timestamp {
        self.lodged_at
    }

    /// When anything last happened to it.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    /// When it was closed or withdrawn.
    pub fn ended_at(&self) -> Option<Timestamp> {
        self.ended_at
    }
}

/// Who handles a new complaint at stage 1.
///
/// The lead of `team` (the team that handled the ticket complained about), else the
/// `[complaints] lead`, else the `[desk] manager`; skipping anyone who is the complainant. `None`
/// when the configuration names nobody suitable. A team the configuration no longer declares is
/// passed over, so a complaint is never lost for want of a team.
pub fn handler(
    config: &DeskConfig,
    team: Option<&TeamId>,
    complainant: &PersonId,
) -> Option<PersonId> {
    let lead = team.and_then(|team| config.team(team)).and_then(|team| team.lead.clone());
    [lead, config.complaints.lead.clone(), config.desk.manager.clone()]
        .into_iter()
        .flatten()
        .find(|person| person != complainant)
}

/// Who reviews a complaint at stage 2: the `[desk] manager`, else the `[complaints] lead`;
/// never anyone in `stage_one` (whoever handled or answered stage 1) nor the complainant.
/// `None` when nobody independent is configured.
pub fn reviewer(
    config: &DeskConfig,
    stage_one: &[&PersonId],
    complainant: &PersonId,
) -> Option<PersonId> {
    [config.desk.manager.clone(), config.complaints.lead.clone()]
        .into_iter()
        .flatten()
        .find(|person| !stage_one.contains(&person) && person != complainant)
}

/// What can be asked of a complaint.
///
/// JSON shape, by `type`: `{"type": "lodge", "reference": "CMP-000001", "about": "INC-000123",
/// "complainant": "k.lee", "channel": "email", "summary": "...", "details": "...",
/// "team": "desk-side"}` (`team`: who handled the ticket, optional), `{"type": "acknowledge"}`,
/// `{"type": "start_investigation"}`, `{"type": "respond", "outcome": "upheld", "response": "..."}`,
/// `{"type": "escalate", "reason": "..."}`, `{"type": "reassign", "handler": "h.wright"}`,
/// `{"type": "close"}`, `{"type": "withdraw", "reason": null}`,
/// `{"type": "comment", "body": "...", "visibility": "internal"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Record a complaint and route it to a handler.
    Lodge {
        /// The reference allocated for it.
        reference: ComplaintRef,
        /// The ticket it is about.
        about: Reference,
        /// Who complains.
        complainant: PersonId,
        /// How it arrived.
        channel: Channel,
        /// The complaint in a line.
        summary: String,
        /// The complaint in full.
        #[serde(default)]
        details: String,
        /// The team that handled the ticket, whose lead handles the complaint.
        #[serde(default)]
        team: Option<TeamId>,
    },
    /// Tell the complainant it is being dealt with.
    Acknowledge,
    /// Begin looking into it.
    StartInvestigation,
    /// Answer the complainant.
    Respond {
        /// What was found.
        outcome: Outcome,
        /// What the complainant is told.
        response: String,
    },
    /// The complainant is not satisfied with the stage 1 response: review it at stage 2.
    Escalate {
        /// Why they are not satisfied.
        reason: String,
    },
    /// Give the complaint to another handler.
    Reassign {
        /// The new handler.
        handler: PersonId,
    },
    /// Finish with a responded complaint.
    Close,
    /// The complainant no longer wishes to pursue it.
    Withdraw {
        /// Why, if they said.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Add an update for the complainant, or an internal work note.
    Comment {
        /// The text.
        body: String,
        /// Who may read it.
        visibility: Visibility,
    },
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Lodge { .. } => "lodge",
            Command::Acknowledge => "acknowledge",
            Command::StartInvestigation => "start_investigation",
            Command::Respond { .. } => "respond",
            Command::Escalate { .. } => "escalate",
            Command::Reassign { .. } => "reassign",
            Command::Close => "close",
            Command::Withdraw { .. } => "withdraw",
            Command::Comment { .. } => "comment",
        }
    }
}

/// What happened to a complaint.
///
/// JSON shape, by `type`: `lodged` (the [`Command::Lodge`] fields plus `handler`),
/// `acknowledged`, `investigation_started`, `responded` `{stage, outcome, response}`,
/// `escalated` `{stage, handler, reason}`, `reassigned` `{from, to}`, `closed`,
/// `withdrawn` `{by, reason}`, `commented` `{body, visibility}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The complaint was recorded and routed.
    Lodged {
        /// Its reference.
        reference: ComplaintRef,
        /// The ticket it is about.
        about: Reference,
        /// Who complains.
        complainant: PersonId,
        /// How it arrived.
        channel: Channel,
        /// The complaint in a line.
        summary: String,
        /// The complaint in full.
        details: String,
        /// The team that handled the ticket, if known.
        team: Option<TeamId>,
        /// Who handles it at stage 1.
        handler: PersonId,
    },
    /// The complainant was told it is being dealt with.
    Acknowledged,
    /// The handler began looking into it.
    InvestigationStarted,
    /// The handler answered.
    Responded {
        /// The stage answered.
        stage: Stage,
        /// What was found.
        outcome: Outcome,
        /// What the complainant was told.
        response: String,
    },
    /// The complaint went to the next stage, with a new handler.
    Escalated {
        /// The stage it is now at.
        stage: Stage,
        /// Who handles it now.
        handler: PersonId,
        /// Why the complainant was not satisfied.
        reason: String,
    },
    /// The complaint was given to another handler.
    Reassigned {
        /// Who had it.
        from: PersonId,
        /// Who has it now.
        to: PersonId,
    },
    /// The complaint was finished with.
    Closed,
    /// The complaint was withdrawn.
    Withdrawn {
        /// Who withdrew it.
        by: Actor,
        /// Why, if said.
        reason: Option<String>,
    },
    /// An update or work note was added.
    Commented {
        /// The text.
        body: String,
        /// Who may read it.
        visibility: Visibility,
    },
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Lodged { .. } => "lodged",
            Event::Acknowledged => "acknowledged",
            Event::InvestigationStarted => "investigation_started",
            Event::Responded { .. } => "responded",
            Event::Escalated { .. } => "escalated",
            Event::Reassigned { .. } => "reassigned",
            Event::Closed => "closed",
            Event::Withdrawn { .. } => "withdrawn",
            Event::Commented { .. } => "commented",
        }
    }

    /// Changes of handler are internal; everything else concerns the complainant.
    fn visibility(&self) -> Visibility {
        match self {
            Event::Commented { visibility, .. } => *visibility,
            Event::Reassigned { .. } => Visibility::Internal,
            _ => Visibility::Public,
        }
    }
}

/// Why a complaint command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A complaint with this reference exists already.
    #[error("{reference} has already been lodged")]
    AlreadyLodged {
        /// The complaint.
        reference: ComplaintRef,
    },
    /// The complaint does not exist yet.
    #[error("cannot {command} a complaint that has not been lodged")]
    NotLodged {
        /// The command refused.
        command: &'static str,
    },
    /// A complaint was lodged about itself.
    #[error("{reference} cannot be a complaint about itself")]
    AboutItself {
        /// The complaint.
        reference: ComplaintRef,
    },
    /// The configuration names nobody to handle the complaint.
    #[error(
        "nobody can handle {reference}: configure a team lead, a [complaints] lead or a [desk] manager"
    )]
    NoHandler {
        /// The complaint.
        reference: ComplaintRef,
    },
    /// The configuration names nobody independent to review the complaint at stage 2.
    #[error(
        "nobody independent of stage 1 can review {reference} (handled by {handler}) at stage 2: configure a [desk] manager or a [complaints] lead"
    )]
    NoReviewer {
        /// The complaint.
        reference: ComplaintRef,
        /// The stage 1 handler.
        handler: PersonId,
    },
    /// The command is not allowed in the complaint's state.
    #[error("cannot {command} {reference} while it is {state}")]
    InvalidTransition {
        /// The complaint.
        reference: ComplaintRef,
        /// Its status.
        state: Status,
        /// The command refused.
        command: &'static str,
    },
    /// The stage 2 response is final: there is no stage 3.
    #[error("{reference} has had its stage 2 response, which is final")]
    FinalStage {
        /// The complaint.
        reference: ComplaintRef,
    },
    /// The complainant cannot handle their own complaint.
    #[error("{person} cannot handle {reference}: it is their own complaint")]
    HandlerIsComplainant {
        /// The complaint.
        reference: ComplaintRef,
        /// The complainant.
        person: PersonId,
    },
    /// At stage 2, the complaint was given back to whoever answered it at stage 1.
    #[error("{person} answered {reference} at stage 1 and cannot review it at stage 2")]
    NotIndependent {
        /// The complaint.
        reference: ComplaintRef,
        /// The stage 1 handler.
        person: PersonId,
    },
    /// A requester tried to withdraw or comment on someone else's complaint.
    #[error("{person} cannot {command} {reference}: it is not their complaint")]
    NotTheirComplaint {
        /// The complaint.
        reference: ComplaintRef,
        /// The requester who tried.
        person: PersonId,
        /// The command refused.
        command: &'static str,
    },
    /// A requester tried to write an internal work note.
    #[error("a requester cannot add an internal work note to {reference}")]
    InternalNoteByRequester {
        /// The complaint.
        reference: ComplaintRef,
    },
    /// A required text is empty.
    #[error("{field} is needed")]
    Blank {
        /// Which text, e.g. `summary`.
        field: &'static str,
    },
}

/// Whether `command` may act on a complaint in `status`: the state table in one place.
fn permits(status: Status, command: &Command) -> bool {
    match command {
        Command::Lodge { .. } => false,
        Command::Acknowledge => status == Status::Received,
        Command::StartInvestigation => status == Status::Acknowledged,
        Command::Respond { .. } => status == Status::Investigating,
        Command::Escalate { .. } | Command::Close => status == Status::Responded,
        Command::Reassign { .. } | Command::Withdraw { .. } | Command::Comment { .. } => {
            !status.is_final()
        }
    }
}

/// `text` trimmed, refused when blank.
fn required(field: &'static str, text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() { Err(Error::Blank { field }) } else { Ok(text.to_owned()) }
}

impl Complaint {
    fn lodge(command: Command, ctx: Context<'_>) -> Result<Vec<Event>, Error> {
        let Command::Lodge { reference, about, complainant, channel, summary, details, team } =
            command
        else {
            return Err(Error::NotLodged { command: command.name() });
        };
        if about == reference.reference() {
            return Err(Error::AboutItself { reference });
        }
        let summary = required("summary", &summary)?;
        let handler = handler(ctx.config, team.as_ref(), &complainant)
            .ok_or(Error::NoHandler { reference })?;
        let details = details.trim().to_owned();
        Ok(vec![Event::Lodged {
            reference,
            about,
            complainant,
            channel,
            summary,
            details,
            team,
            handler,
        }])
    }

    /// Refuses a requester other than the complainant.
    fn check_requester(&self, actor: &Actor, command: &'static str) -> Result<(), Error> {
        match actor {
            Actor::Requester(person) if person != &self.complainant => {
                Err(Error::NotTheirComplaint {
                    reference: self.reference,
                    person: person.clone(),
                    command,
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether the complaint is at stage 2 and `person` answered it at stage 1.
    fn handled_stage_one(&self, person: &PersonId) -> bool {
        self.stage == Stage::Two
            && self.responses.iter().any(|r| r.stage == Stage::One && &r.handler == person)
    }

    fn escalate(&self, reason: &str, ctx: Context<'_>) -> Result<Vec<Event>, Error> {
        let reference = self.reference;
        if self.stage == Stage::Two {
            return Err(Error::FinalStage { reference });
        }
        let reason = required("reason", reason)?;
        let answered = self.responses.iter().map(|response| &response.handler);
        let stage_one: Vec<&PersonId> = answered.chain([&self.handler]).collect();
        let handler = reviewer(ctx.config, &stage_one, &self.complainant)
            .ok_or_else(|| Error::NoReviewer { reference, handler: self.handler.clone() })?;
        Ok(vec![Event::Escalated { stage: Stage::Two, handler, reason }])
    }
}

impl Aggregate for Complaint {
    const NOUN: &'static str = "complaint";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn id(&self) -> RecordId {
        RecordId::Ref(self.reference.reference())
    }

    fn decide(
        state: Option<&Self>,
        command: Command,
        ctx: Context<'_>,
    ) -> Result<Vec<Event>, Error> {
        let name = command.name();
        let Some(complaint) = state else { return Complaint::lodge(command, ctx) };
        let reference = complaint.reference;
        if let Command::Lodge { .. } = command {
            return Err(Error::AlreadyLodged { reference });
        }
        if !permits(complaint.status, &command) {
            return Err(Error::InvalidTransition {
                reference,
                state: complaint.status,
                command: name,
            });
        }
        match command {
            Command::Lodge { .. } => Err(Error::AlreadyLodged { reference }),
            Command::Acknowledge => Ok(vec![Event::Acknowledged]),
            Command::StartInvestigation => Ok(vec![Event::InvestigationStarted]),
            Command::Respond { outcome, response } => {
                let response = required("response", &response)?;
                Ok(vec![Event::Responded { stage: complaint.stage, outcome, response }])
            }
            Command::Escalate { reason } => complaint.escalate(&reason, ctx),
            Command::Reassign { handler } if handler == complaint.complainant => {
                Err(Error::HandlerIsComplainant { reference, person: handler })
            }
            Command::Reassign { handler } if handler == complaint.handler => Ok(vec![]),
            Command::Reassign { handler } if complaint.handled_stage_one(&handler) => {
                Err(Error::NotIndependent { reference, person: handler })
            }
            Command::Reassign { handler } => {
                Ok(vec![Event::Reassigned { from: complaint.handler.clone(), to: handler }])
            }
            Command::Close => Ok(vec![Event::Closed]),
            Command::Withdraw { reason } => {
                complaint.check_requester(ctx.actor, name)?;
                let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
                Ok(vec![Event::Withdrawn { by: ctx.actor.clone(), reason }])
            }
            Command::Comment { body, visibility } => {
                complaint.check_requester(ctx.actor, name)?;
                if let (Actor::Requester(_), Visibility::Internal) = (ctx.actor, visibility) {
                    return Err(Error::InternalNoteByRequester { reference });
                }
                Ok(vec![Event::Commented { body: required("body", &body)?, visibility }])
            }
        }
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let Some(mut complaint) = state else {
            return match event {
                Event::Lodged {
                    reference,
                    about,
                    complainant,
                    channel,
                    summary,
                    details,
                    team: _,
                    handler,
                } => Ok(Complaint {
                    reference: *reference,
                    about: *about,
                    complainant: complainant.clone(),
                    channel: *channel,
                    summary: summary.clone(),
                    details: details.clone(),
                    stage: Stage::One,
                    handler: handler.clone(),
                    status: Status::Received,
                    responses: Vec::new(),
                    lodged_at: at,
                    updated_at: at,
                    ended_at: None,
                }),
                _ => Err(ReplayError::NotCreated { noun: Self::NOUN, event: event.name() }),
            };
        };
        complaint.updated_at = at;
        match event {
            Event::Lodged { .. } => {
                return Err(ReplayError::AlreadyCreated {
                    reference: complaint.reference.to_string(),
                    event: event.name(),
                });
            }
            Event::Acknowledged => complaint.status = Status::Acknowledged,
            Event::InvestigationStarted => complaint.status = Status::Investigating,
            Event::Responded { stage, outcome, response } => {
                complaint.responses.push(Response {
                    stage: *stage,
                    outcome: *outcome,
                    response: response.clone(),
                    handler: complaint.handler.clone(),
                    at,
                });
                complaint.status = Status::Responded;
            }
            Event::Escalated { stage, handler, .. } => {
                complaint.stage = *stage;
                complaint.handler = handler.clone();
                complaint.status = Status::Investigating;
            }
            Event::Reassigned { to, .. } => complaint.handler = to.clone(),
            Event::Closed => {
                complaint.status = Status::Closed;
                complaint.ended_at = Some(at);
            }
            Event::Withdrawn { .. } => {
                complaint.status = Status::Withdrawn;
                complaint.ended_at = Some(at);
            }
            Event::Commented { .. } => {}
        }
        Ok(complaint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::IncidentRef;
    use crate::scenario;

    fn person(id: &str) -> PersonId {
        PersonId::new(id).unwrap()
    }

    fn team(id: &str) -> TeamId {
        TeamId::new(id).unwrap()
    }

    fn lodge(team: Option<&str>) -> Command {
        Command::Lodge {
            reference: ComplaintRef::from_number(1).unwrap(),
            about: IncidentRef::from_number(123).unwrap().reference(),
            complainant: person("k.lee"),
            channel: Channel::Email,
            summary: " Laptop repair took three weeks ".into(),
            details: "I could not work from home for three weeks.".into(),
            team: team.map(self::team),
        }
    }

    fn when_by(
        actor: &Actor,
        given: Option<Complaint>,
        commands: impl IntoIterator<Item = Command>,
    ) -> Result<(Complaint, Vec<Event>), Error> {
        scenario::when(&DeskConfig::example(), actor, given, commands)
    }

    fn when(
        given: Option<Complaint>,
        commands: impl IntoIterator<Item = Command>,
    ) -> Result<(Complaint, Vec<Event>), Error> {
        when_by(&Actor::Agent(person("a.patel")), given, commands)
    }

    fn respond(outcome: Outcome) -> Command {
        Command::Respond { outcome, response: "We are sorry; a loan laptop is now kept.".into() }
    }

    /// A complaint about desk-side support's work, responded to at stage 1.
    fn responded() -> Complaint {
        let commands = [
            lodge(Some("desk-side")),
            Command::Acknowledge,
            Command::StartInvestigation,
            respond(Outcome::PartlyUpheld),
        ];
        when(None, commands).unwrap().0
    }

    #[test]
    fn a_complaint_goes_to_the_lead_of_the_team_that_handled_the_ticket() {
        let config = DeskConfig::example();
        let k = person("k.lee");
        // The team's lead first
        assert_eq!(handler(&config, Some(&team("desk-side")), &k), Some(person("r.evans")));
        // A team without a lead (the supplier) falls to the complaints lead
        assert_eq!(handler(&config, Some(&team("supplier-telecoms")), &k), Some(person("s.khan")));
        // Without a complaints lead, the desk manager
        let mut config = config;
        config.complaints.lead = None;
        config.desk.manager = Some(person("m.ward"));
        assert_eq!(handler(&config, None, &k), Some(person("m.ward")));
        // Nobody configured: nobody
        assert_eq!(handler(&DeskConfig::empty(), None, &k), None);
        // The complainant never handles their own complaint
        assert_eq!(
            handler(&config, Some(&team("desk-side")), &person("r.evans")),
            Some(person("m.ward"))
        );
    }

    #[test]
    fn lodging_routes_and_records_a_received_complaint() {
        let (complaint, events) = when(None, [lodge(Some("desk-side"))]).unwrap();
        assert_eq!(complaint.status(), Status::Received);
        assert_eq!(complaint.stage(), Stage::One);
        assert_eq!(complaint.handler(), &person("r.evans"));
        assert_eq!(complaint.summary(), "Laptop repair took three weeks");
        assert_eq!(events[0].visibility(), Visibility::Public);
        let error =
            scenario::when::<Complaint>(&DeskConfig::empty(), &Actor::System, None, [lodge(None)])
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "nobody can handle CMP-000001: configure a team lead, a [complaints] lead or a [desk] manager"
        );
    }

    #[test]
    fn the_stages_run_in_order() {
        // Given a received complaint
        let (given, _) = when(None, [lodge(Some("desk-side"))]).unwrap();
        // When it is responded to before being acknowledged
        let error = when(Some(given.clone()), [respond(Outcome::Upheld)]).unwrap_err();
        // Then it is refused, naming state and command
        assert_eq!(error.to_string(), "cannot respond CMP-000001 while it is received");
        // And acknowledged, investigated and answered in turn it reaches responded
        let complaint = responded();
        assert_eq!(complaint.status(), Status::Responded);
        assert_eq!(complaint.outcome(), Some(Outcome::PartlyUpheld));
        assert_eq!(complaint.responses()[0].handler, person("r.evans"));
    }

    #[test]
    fn escalation_brings_an_independent_reviewer_and_stage_two_is_final() {
        // Given a complaint answered at stage 1 by the desk-side lead
        let given = responded();
        // When the complainant is not satisfied
        let escalate = || Command::Escalate { reason: "Still no loan laptop".into() };
        let (complaint, events) = when(Some(given), [escalate()]).unwrap();
        // Then the service desk manager reviews it at stage 2
        assert_eq!(
            events,
            [Event::Escalated {
                stage: Stage::Two,
                handler: person("s.khan"),
                reason: "Still no loan laptop".into()
            }]
        );
        assert_eq!(complaint.status(), Status::Investigating);
        // And it cannot be handed back to the stage 1 handler
        let back = Command::Reassign { handler: person("r.evans") };
        assert!(matches!(when(Some(complaint.clone()), [back]), Err(Error::NotIndependent { .. })));
        // And once answered at stage 2, it cannot be escalated again
        let (complaint, _) = when(Some(complaint), [respond(Outcome::Upheld)]).unwrap();
        assert_eq!(complaint.responses().len(), 2);
        assert_eq!(
            when(Some(complaint.clone()), [escalate()]).unwrap_err(),
            Error::FinalStage { reference: complaint.reference() }
        );
        // But it can be closed
        let (closed, _) = when(Some(complaint), [Command::Close]).unwrap();
        assert_eq!(closed.status(), Status::Closed);
        assert!(closed.ended_at().is_some());
    }

    #[test]
    fn stage_two_needs_someone_other_than_the_stage_one_handler() {
        let mut config = DeskConfig::example();
        config.complaints.lead = None;
        let actor = Actor::System;
        // Given a complaint handled at stage 1 by the desk manager themself
        let commands = [
            lodge(None),
            Command::Acknowledge,
            Command::StartInvestigation,
            respond(Outcome::NotUpheld),
        ];
        let (given, _) = scenario::when::<Complaint>(&config, &actor, None, commands).unwrap();
        assert_eq!(given.handler(), &person("s.khan"));
        // When it is escalated, nobody independent is configured
        let escalate = Command::Escalate { reason: "Not satisfied".into() };
        let error = scenario::when(&config, &actor, Some(given), [escalate]).unwrap_err();
        assert!(matches!(error, Error::NoReviewer { .. }), "{error}");
    }

    #[test]
    fn whoever_answered_stage_one_never_reviews_it_even_after_handing_it_on() {
        // Given a complaint about a supplier's ticket, answered at stage 1 by the complaints lead
        let commands = [
            lodge(Some("supplier-telecoms")),
            Command::Acknowledge,
            Command::StartInvestigation,
            respond(Outcome::NotUpheld),
        ];
        let (given, _) = when(None, commands).unwrap();
        assert_eq!(given.responses()[0].handler, person("s.khan"));
        // When it is handed to someone else and then escalated
        let commands = [
            Command::Reassign { handler: person("h.wright") },
            Command::Escalate { reason: "Not satisfied".into() },
        ];
        // Then nobody independent is left to review it
        let error = when(Some(given), commands).unwrap_err();
        assert!(matches!(error, Error::NoReviewer { .. }), "{error}");
    }

    #[test]
    fn only_the_complainant_or_the_desk_may_withdraw() {
        let (given, _) = when(None, [lodge(Some("networks"))]).unwrap();
        let withdraw = || Command::Withdraw { reason: Some("Sorted now".into()) };
        let other = Actor::Requester(person("m.brown"));
        assert!(matches!(
            when_by(&other, Some(given.clone()), [withdraw()]),
            Err(Error::NotTheirComplaint { .. })
        ));
        let complainant = Actor::Requester(person("k.lee"));
        let (withdrawn, _) = when_by(&complainant, Some(given), [withdraw()]).unwrap();
        assert_eq!(withdrawn.status(), Status::Withdrawn);
        // A withdrawn complaint accepts nothing more
        let error = when(Some(withdrawn), [Command::Acknowledge]).unwrap_err();
        assert_eq!(error.to_string(), "cannot acknowledge CMP-000001 while it is withdrawn");
    }

    #[test]
    fn handlers_change_but_never_to_the_complainant() {
        let (given, _) = when(None, [lodge(Some("networks"))]).unwrap();
        let to = |id: &str| Command::Reassign { handler: person(id) };
        assert!(matches!(
            when(Some(given.clone()), [to("k.lee")]),
            Err(Error::HandlerIsComplainant { .. })
        ));
        let (complaint, events) = when(Some(given), [to("h.wright")]).unwrap();
        assert_eq!(complaint.handler(), &person("h.wright"));
        assert_eq!(events[0].visibility(), Visibility::Internal);
        let (_, events) = when(Some(complaint), [to("h.wright")]).unwrap();
        assert!(events.is_empty());
    }

    #[test]
    fn a_complaint_about_itself_is_refused() {
        let Command::Lodge { reference, complainant, channel, summary, details, team, .. } =
            lodge(None)
        else {
            unreachable!()
        };
        let about = reference.reference();
        let command =
            Command::Lodge { reference, about, complainant, channel, summary, details, team };
        assert!(matches!(when(None, [command]), Err(Error::AboutItself { .. })));
    }

    #[test]
    fn commands_and_the_record_have_stable_json() {
        let json = serde_json::json!({
            "type": "lodge",
            "reference": "CMP-000001",
            "about": "INC-000123",
            "complainant": "k.lee",
            "channel": "email",
            "summary": " Laptop repair took three weeks ",
            "details": "I could not work from home for three weeks.",
            "team": "desk-side"
        });
        assert_eq!(serde_json::from_value::<Command>(json).unwrap(), lodge(Some("desk-side")));
        let complaint = responded();
        let value = serde_json::to_value(&complaint).unwrap();
        assert_eq!(value["responses"][0]["outcome"], "partly_upheld");
        assert_eq!(value["stage"], "one");
        assert_eq!(serde_json::from_value::<Complaint>(value).unwrap(), complaint);
    }
}
