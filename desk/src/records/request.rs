//! Service requests through the desk: submission with reference allocation, approvals checked
//! against the line manager the desk knows, and reads.

use desk_core::DeskConfig;
use desk_core::channel::Channel;
use desk_core::config::ApprovalRole;
use desk_core::id::{CatalogueItemId, PersonId, RecordId, RecordKind, RequestRef};
use desk_core::people::Requester;
use desk_core::record::{Actor, Recorded, Visibility};
use desk_core::request::{self, Beneficiary, Command, Event, ServiceRequest, TaskState};
use serde::{Deserialize, Serialize};

use super::{Projection, RecordType, json_name, tier_of};
use crate::desk::{Desk, Outcome, Versioned};
use crate::error::Error;
use crate::outbox::{Audience, Notice, To, Topic};
use crate::store::RowKind;

/// A new service request, as [`Desk::submit_request`] takes it; the desk numbers the reference.
///
/// JSON shape: `{"item": "new-starter", "requester": "r.shah", "on_behalf_of": {"name": "Sam
/// Green"}, "details": "Starts 1 June", "channel": "self_service"}` (`on_behalf_of` and
/// `details` may be omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    /// The catalogue item.
    pub item: CatalogueItemId,
    /// Who is asking.
    pub requester: PersonId,
    /// Who it is for, when that is someone else.
    #[serde(default)]
    pub on_behalf_of: Option<Beneficiary>,
    /// What the requester wrote.
    #[serde(default)]
    pub details: String,
    /// How it arrived.
    pub channel: Channel,
}

impl Desk {
    /// Submits a service request for a catalogue item and asks for its first approval.
    pub async fn submit_request(
        &self,
        actor: &Actor,
        new: SubmitRequest,
    ) -> Result<Outcome<ServiceRequest>, Error> {
        self.create(actor, RecordKind::ServiceRequest, |reference: RequestRef| Command::Submit {
            reference,
            item: new.item.clone(),
            requester: new.requester.clone(),
            on_behalf_of: new.on_behalf_of.clone(),
            details: new.details.clone(),
            channel: new.channel,
        })
        .await
    }

    /// The service request called `reference`, with its version.
    pub async fn request(&self, reference: RequestRef) -> Result<Versioned<ServiceRequest>, Error> {
        self.read(&reference.into()).await
    }

    /// Runs `command` on a service request. A line-manager approval or rejection must come
    /// from the line manager on record (of the person it is for, else of the requester) when
    /// the desk knows who that is.
    pub async fn execute_request(
        &self,
        actor: &Actor,
        reference: RequestRef,
        command: Command,
        expected: Option<u64>,
    ) -> Result<Outcome<ServiceRequest>, Error> {
        if let Command::Approve { role: ApprovalRole::LineManager, approver, .. }
        | Command::Reject { role: ApprovalRole::LineManager, approver, .. } = &command
            && let Some(approver) = approver.person()
        {
            let request = self.request(reference).await?.record;
            let subject = approval_subject(&request);
            let record = self.load::<Requester>(&RecordId::Requester(subject.clone())).await?;
            if let Some(manager) = record.state.as_ref().and_then(Requester::line_manager)
                && manager != approver
            {
                return Err(Error::NotApprover {
                    reference,
                    role: ApprovalRole::LineManager,
                    expected: manager.clone(),
                    approver: approver.clone(),
                });
            }
        }
        self.perform(actor, &reference.into(), command, expected).await
    }
}

/// Whose line manager approves: the person it is for, else the requester.
fn approval_subject(request: &ServiceRequest) -> &PersonId {
    request.on_behalf_of().and_then(|b| b.person.as_ref()).unwrap_or(request.requester())
}

impl RecordType for ServiceRequest {
    const KIND: RowKind = RowKind::ServiceRequest;

    fn refusal(error: request::Error) -> Error {
        Error::ServiceRequest(error)
    }

    fn project(&self, _history: &[Recorded<Event>], config: &DeskConfig) -> Projection {
        let team = self
            .tasks()
            .iter()
            .find(|task| matches!(task.state, TaskState::Ready | TaskState::InProgress))
            .map(|task| task.team.clone());
        Projection {
            status: json_name(&self.status()),
            open: self.status().is_open(),
            title: self.title().to_owned(),
            body: self.details().to_owned(),
            tier: tier_of(team.as_ref(), config),
            team,
            requester: Some(self.requester().clone()),
            closed_at: self.ended_at(),
            ..Projection::default()
        }
    }

    fn mentions(event: &Event) -> Vec<PersonId> {
        match event {
            Event::Submitted { requester, on_behalf_of, .. } => {
                let mut people = vec![requester.clone()];
                people.extend(on_behalf_of.as_ref().and_then(|b| b.person.clone()));
                people
            }
            Event::ApprovalGranted { approver, .. } | Event::Rejected { approver, .. } => {
                approver.person().into_iter().cloned().collect()
            }
            Event::Cancelled { by, .. } => by.person().into_iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn notices(&self, new: &[Recorded<Event>], _config: &DeskConfig) -> Vec<Notice> {
        let requester = || To::Person(self.requester().clone());
        let mut notices = Vec::new();
        for recorded in new {
            let notice = |topic, to, audience, text: Option<&str>| {
                Notice::about(recorded, topic, to, audience, text)
            };
            match &recorded.event {
                Event::Submitted { .. } => notices.push(notice(
                    Topic::RequestSubmitted,
                    requester(),
                    Audience::Public,
                    None,
                )),
                Event::ApprovalRequested { role } => {
                    let to = match role {
                        ApprovalRole::LineManager => {
                            To::LineManagerOf(approval_subject(self).clone())
                        }
                        other => To::Role(*other),
                    };
                    let details = Some(self.details()).filter(|d| !d.is_empty());
                    notices.push(notice(Topic::ApprovalRequested, to, Audience::Public, details));
                }
                Event::TaskReady { task } => {
                    if let Some(task) = self.task(task) {
                        notices.push(notice(
                            Topic::TaskReady,
                            To::Team(task.team.clone()),
                            Audience::Staff,
                            Some(&task.name),
                        ));
                    }
                }
                Event::Rejected { reason, .. } => notices.push(notice(
                    Topic::RequestRejected,
                    requester(),
                    Audience::Public,
                    Some(reason),
                )),
                Event::Fulfilled => notices.push(notice(
                    Topic::RequestFulfilled,
                    requester(),
                    Audience::Public,
                    None,
                )),
                Event::Commented { body, visibility: Visibility::Public } => notices.push(notice(
                    Topic::RequestUpdated,
                    requester(),
                    Audience::Public,
                    Some(body),
                )),
                _ => {}
            }
        }
        notices
    }
}
