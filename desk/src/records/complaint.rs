//! Complaints through the desk: lodged about an existing ticket, whose team's lead handles it.

use desk_core::DeskConfig;
use desk_core::channel::Channel;
use desk_core::complaint::{self, Command, Complaint, Event};
use desk_core::id::{ComplaintRef, PersonId, RecordKind, Reference};
use desk_core::record::{Actor, Recorded, Visibility};
use serde::{Deserialize, Serialize};

use super::{Projection, RecordType, json_name};
use crate::desk::{Desk, Outcome, Versioned};
use crate::error::Error;
use crate::outbox::{Audience, Notice, To, Topic};
use crate::store::RowKind;

/// A new complaint, as [`Desk::lodge_complaint`] takes it.
///
/// JSON shape: `{"about": "INC-000123", "complainant": "k.lee", "channel": "email",
/// "summary": "…", "details": "…"}` (`details` may be omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LodgeComplaint {
    /// The ticket complained about; it must exist.
    pub about: Reference,
    /// Who complains.
    pub complainant: PersonId,
    /// How it arrived.
    pub channel: Channel,
    /// The complaint in a line.
    pub summary: String,
    /// The complaint in full.
    #[serde(default)]
    pub details: String,
}

impl Desk {
    /// Lodges a complaint about an existing ticket. The handler is the lead of the team that
    /// has (or had) the ticket, found from the ticket's record; see
    /// [`desk_core::complaint::handler`].
    pub async fn lodge_complaint(
        &self,
        actor: &Actor,
        new: LodgeComplaint,
    ) -> Result<Outcome<Complaint>, Error> {
        let about = self.row(&new.about.into()).await?;
        self.create(actor, RecordKind::Complaint, |reference: ComplaintRef| Command::Lodge {
            reference,
            about: new.about,
            complainant: new.complainant.clone(),
            channel: new.channel,
            summary: new.summary.clone(),
            details: new.details.clone(),
            team: about.team.clone(),
        })
        .await
    }

    /// The complaint called `reference`, with its version.
    pub async fn complaint(&self, reference: ComplaintRef) -> Result<Versioned<Complaint>, Error> {
        self.read(&reference.into()).await
    }

    /// Runs `command` on a complaint.
    pub async fn execute_complaint(
        &self,
        actor: &Actor,
        reference: ComplaintRef,
        command: Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Complaint>, Error> {
        self.perform(actor, &reference.into(), command, expected).await
    }
}

impl RecordType for Complaint {
    const KIND: RowKind = RowKind::Complaint;

    fn refusal(error: complaint::Error) -> Error {
        Error::Complaint(error)
    }

    fn project(&self, _history: &[Recorded<Event>], _config: &DeskConfig) -> Projection {
        Projection {
            status: json_name(&self.status()),
            open: !self.status().is_final(),
            title: self.summary().to_owned(),
            body: self.details().to_owned(),
            agent: Some(self.handler().clone()),
            requester: Some(self.complainant().clone()),
            closed_at: self.ended_at(),
            ..Projection::default()
        }
    }

    fn mentions(event: &Event) -> Vec<PersonId> {
        match event {
            Event::Lodged { complainant, handler, .. } => {
                vec![complainant.clone(), handler.clone()]
            }
            Event::Escalated { handler, .. } => vec![handler.clone()],
            Event::Reassigned { from, to } => vec![from.clone(), to.clone()],
            Event::Withdrawn { by, .. } => by.person().into_iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn notices(&self, new: &[Recorded<Event>], _config: &DeskConfig) -> Vec<Notice> {
        let complainant = || To::Person(self.complainant().clone());
        let mut notices = Vec::new();
        for recorded in new {
            let notice = |topic, to, audience, text: Option<&str>| {
                Notice::about(recorded, topic, to, audience, text)
            };
            match &recorded.event {
                Event::Lodged { handler, summary, .. } => notices.push(notice(
                    Topic::ComplaintLodged,
                    To::Person(handler.clone()),
                    Audience::Staff,
                    Some(summary),
                )),
                Event::Escalated { handler, reason, .. } => notices.push(notice(
                    Topic::ComplaintAssigned,
                    To::Person(handler.clone()),
                    Audience::Staff,
                    Some(reason),
                )),
                Event::Reassigned { to, .. } => notices.push(notice(
                    Topic::ComplaintAssigned,
                    To::Person(to.clone()),
                    Audience::Staff,
                    None,
                )),
                Event::Acknowledged => notices.push(notice(
                    Topic::ComplaintAcknowledged,
                    complainant(),
                    Audience::Public,
                    None,
                )),
                Event::Responded { response, .. } => notices.push(notice(
                    Topic::ComplaintResponded,
                    complainant(),
                    Audience::Public,
                    Some(response),
                )),
                Event::Commented { body, visibility: Visibility::Public } => notices.push(notice(
                    Topic::ComplaintUpdated,
                    complainant(),
                    Audience::Public,
                    Some(body),
                )),
                _ => {}
            }
        }
        notices
    }
}
