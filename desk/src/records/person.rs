//! People's records through the desk: requesters and agents, keyed by their identifier.

use desk_core::DeskConfig;
use desk_core::id::{PersonId, RecordId};
use desk_core::people::{Agent, Requester, agent, requester};
use desk_core::record::{Actor, Recorded};

use super::{Projection, RecordType, json_name, last_time};
use crate::desk::{Desk, Outcome, Versioned};
use crate::error::Error;
use crate::outbox::Notice;
use crate::store::RowKind;

impl Desk {
    /// The requester record of `person`, with its version.
    pub async fn requester(&self, person: &PersonId) -> Result<Versioned<Requester>, Error> {
        self.read(&RecordId::Requester(person.clone())).await
    }

    /// Runs `command` on the requester record of `person` (`register` creates it).
    pub async fn execute_requester(
        &self,
        actor: &Actor,
        person: &PersonId,
        command: requester::Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Requester>, Error> {
        self.perform(actor, &RecordId::Requester(person.clone()), command, expected).await
    }

    /// The agent record of `person`, with its version.
    pub async fn agent(&self, person: &PersonId) -> Result<Versioned<Agent>, Error> {
        self.read(&RecordId::Agent(person.clone())).await
    }

    /// Runs `command` on the agent record of `person` (`onboard` creates it).
    pub async fn execute_agent(
        &self,
        actor: &Actor,
        person: &PersonId,
        command: agent::Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Agent>, Error> {
        self.perform(actor, &RecordId::Agent(person.clone()), command, expected).await
    }
}

impl RecordType for Requester {
    const KIND: RowKind = RowKind::Requester;

    fn refusal(error: requester::Error) -> Error {
        Error::Requester(error)
    }

    fn project(&self, _history: &[Recorded<requester::Event>], _config: &DeskConfig) -> Projection {
        let profile = self.profile();
        let body = [&profile.department, &profile.location, &profile.job_title]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        Projection {
            status: json_name(&self.status()),
            open: self.status() == requester::Status::Active,
            title: self.name().to_owned(),
            body,
            closed_at: self.left_at(),
            ..Projection::default()
        }
    }

    fn mentions(event: &requester::Event) -> Vec<PersonId> {
        match event {
            requester::Event::Registered { id, profile, .. } => {
                let mut people = vec![id.clone()];
                people.extend(profile.line_manager.clone());
                people
            }
            requester::Event::DetailsUpdated { changes } => {
                changes.line_manager.clone().flatten().into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    fn notices(&self, _new: &[Recorded<requester::Event>], _config: &DeskConfig) -> Vec<Notice> {
        Vec::new()
    }
}

impl RecordType for Agent {
    const KIND: RowKind = RowKind::Agent;

    fn refusal(error: agent::Error) -> Error {
        Error::Agent(error)
    }

    fn project(&self, history: &[Recorded<agent::Event>], _config: &DeskConfig) -> Projection {
        let active = self.status() == agent::Status::Active;
        Projection {
            status: json_name(&self.status()),
            open: active,
            title: self.name().to_owned(),
            body: self.teams().iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" "),
            closed_at: if active {
                None
            } else {
                last_time(history, |e| matches!(e, agent::Event::Offboarded))
            },
            ..Projection::default()
        }
    }

    fn mentions(event: &agent::Event) -> Vec<PersonId> {
        match event {
            agent::Event::Onboarded { id, .. } => vec![id.clone()],
            _ => Vec::new(),
        }
    }

    fn notices(&self, _new: &[Recorded<agent::Event>], _config: &DeskConfig) -> Vec<Notice> {
        Vec::new()
    }
}
