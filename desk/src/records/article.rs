//! Knowledge articles through the desk: creation with reference allocation, links checked
//! against the records they name, and reads.

use desk_core::DeskConfig;
use desk_core::id::{ArticleRef, PersonId, RecordKind};
use desk_core::knowledge::{self, Article, Command, Content, Event, Status};
use desk_core::record::{Actor, Recorded};

use super::{Projection, RecordType, json_name};
use crate::desk::{Desk, Outcome, Versioned};
use crate::error::Error;
use crate::outbox::Notice;
use crate::store::RowKind;

impl Desk {
    /// Starts a knowledge article as a draft.
    pub async fn create_article(
        &self,
        actor: &Actor,
        content: Content,
    ) -> Result<Outcome<Article>, Error> {
        self.create(actor, RecordKind::Article, |reference: ArticleRef| Command::Create {
            reference,
            content: content.clone(),
        })
        .await
    }

    /// The article called `reference`, with its version.
    pub async fn article(&self, reference: ArticleRef) -> Result<Versioned<Article>, Error> {
        self.read(&reference.into()).await
    }

    /// Runs `command` on an article; a problem or incident it links must exist.
    pub async fn execute_article(
        &self,
        actor: &Actor,
        reference: ArticleRef,
        command: Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Article>, Error> {
        match &command {
            Command::LinkProblem { problem } => {
                self.row(&(*problem).into()).await?;
            }
            Command::LinkIncident { incident } => {
                self.row(&(*incident).into()).await?;
            }
            _ => {}
        }
        self.perform(actor, &reference.into(), command, expected).await
    }
}

impl RecordType for Article {
    const KIND: RowKind = RowKind::Article;

    fn refusal(error: knowledge::Error) -> Error {
        Error::Article(error)
    }

    fn project(&self, _history: &[Recorded<Event>], _config: &DeskConfig) -> Projection {
        let content = self
            .published()
            .map(|version| &version.content)
            .or(self.revision().map(|revision| &revision.content))
            .or(self.versions().last().map(|version| &version.content));
        Projection {
            status: json_name(&self.status()),
            open: self.status() != Status::Retired,
            title: content.map(|c| c.title.clone()).unwrap_or_default(),
            body: content.map(|c| c.body.clone()).unwrap_or_default(),
            closed_at: self.retired_at(),
            ..Projection::default()
        }
    }

    fn mentions(event: &Event) -> Vec<PersonId> {
        match event {
            Event::Created { author, .. } => vec![author.clone()],
            Event::Edited { editor, .. } | Event::RevisionStarted { editor, .. } => {
                vec![editor.clone()]
            }
            Event::Published { approved_by, .. } => vec![approved_by.clone()],
            _ => Vec::new(),
        }
    }

    fn notices(&self, _new: &[Recorded<Event>], _config: &DeskConfig) -> Vec<Notice> {
        Vec::new()
    }
}
