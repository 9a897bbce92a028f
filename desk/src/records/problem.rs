//! Problems through the desk: logging with reference allocation, links checked against the
//! incidents they name, and reads.

use std::collections::BTreeSet;

use desk_core::DeskConfig;
use desk_core::id::{AssetRef, CategoryId, IncidentRef, PersonId, ProblemRef, RecordKind, TeamId};
use desk_core::problem::{self, Command, Event, Problem, Status};
use desk_core::record::{Actor, Recorded};
use serde::{Deserialize, Serialize};

use super::{Projection, RecordType, json_name, last_time, tier_of};
use crate::desk::{Desk, Outcome, Versioned};
use crate::error::Error;
use crate::outbox::{Audience, Notice, To, Topic};
use crate::store::RowKind;

/// A new problem, as [`Desk::log_problem`] takes it.
///
/// JSON shape: `{"title": "…", "description": "…", "category": null, "team": "networks",
/// "incidents": ["INC-000012"], "cis": []}`; all but `title` may be omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogProblem {
    /// A one-line summary.
    pub title: String,
    /// What is known so far.
    #[serde(default)]
    pub description: String,
    /// The category of the incidents it explains.
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// The team to investigate it.
    #[serde(default)]
    pub team: Option<TeamId>,
    /// Incidents it already explains; each must exist.
    #[serde(default)]
    pub incidents: BTreeSet<IncidentRef>,
    /// CIs it already affects.
    #[serde(default)]
    pub cis: BTreeSet<AssetRef>,
}

impl Desk {
    /// Logs a problem.
    pub async fn log_problem(
        &self,
        actor: &Actor,
        new: LogProblem,
    ) -> Result<Outcome<Problem>, Error> {
        for incident in &new.incidents {
            self.row(&(*incident).into()).await?;
        }
        self.create(actor, RecordKind::Problem, |reference: ProblemRef| Command::Log {
            reference,
            title: new.title.clone(),
            description: new.description.clone(),
            category: new.category.clone(),
            team: new.team.clone(),
            incidents: new.incidents.clone(),
            cis: new.cis.clone(),
        })
        .await
    }

    /// The problem called `reference`, with its version.
    pub async fn problem(&self, reference: ProblemRef) -> Result<Versioned<Problem>, Error> {
        self.read(&reference.into()).await
    }

    /// Runs `command` on a problem; an incident it links must exist.
    pub async fn execute_problem(
        &self,
        actor: &Actor,
        reference: ProblemRef,
        command: Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Problem>, Error> {
        if let Command::LinkIncident { incident }
        | Command::Reopen { incident: Some(incident), .. } = &command
        {
            self.row(&(*incident).into()).await?;
        }
        self.perform(actor, &reference.into(), command, expected).await
    }
}

impl RecordType for Problem {
    const KIND: RowKind = RowKind::Problem;

    fn refusal(error: problem::Error) -> Error {
        Error::Problem(error)
    }

    fn project(&self, history: &[Recorded<Event>], config: &DeskConfig) -> Projection {
        let mut body = self.description().to_owned();
        for text in
            [self.root_cause(), self.workaround().map(|w| w.text.as_str())].into_iter().flatten()
        {
            body.push('\n');
            body.push_str(text);
        }
        let finished = matches!(self.status(), Status::Closed | Status::Cancelled);
        Projection {
            status: json_name(&self.status()),
            open: self.status().is_open(),
            title: self.title().to_owned(),
            body,
            team: self.team().cloned(),
            tier: tier_of(self.team(), config),
            cis: self.cis().iter().copied().collect(),
            closed_at: finished
                .then(|| {
                    last_time(history, |e| matches!(e, Event::Closed | Event::Cancelled { .. }))
                })
                .flatten(),
            ..Projection::default()
        }
    }

    fn mentions(_event: &Event) -> Vec<PersonId> {
        Vec::new()
    }

    fn notices(&self, new: &[Recorded<Event>], _config: &DeskConfig) -> Vec<Notice> {
        new.iter()
            .filter_map(|recorded| match &recorded.event {
                Event::Logged { team: Some(team), .. } | Event::Assigned { team } => {
                    Some(Notice::about(
                        recorded,
                        Topic::ProblemAssigned,
                        To::Team(team.clone()),
                        Audience::Staff,
                        Some(self.title()),
                    ))
                }
                _ => None,
            })
            .collect()
    }
}
