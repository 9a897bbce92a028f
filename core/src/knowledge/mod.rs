//! Knowledge articles: how-tos and fixes for agents, and self-help for requesters.
//!
//! An [`Article`] (`KB-000123`) is written as a draft, reviewed, published and eventually retired:
//!
//! ```text
//! draft ──submit_for_review──▶ in_review ──approve──▶ published ──retire──▶ retired
//!   ▲                              │                     │  ▲
//!   └──────request_changes─────────┘          edit (new revision, reviewed the same way)
//! ```
//!
//! **Versions.** Approving publishes the revision as a numbered [`Version`] (1, 2, …). Versions
//! are never changed afterwards: editing a published article starts a new *revision* (a draft
//! beside the published version, which stays visible), and the revision goes through review to
//! become the next version. The whole history of versions is kept.
//!
//! **Review.** Submitting freezes the revision. A reviewer approves it or requests changes.
//! *Four eyes*: nobody who edited a revision may approve it (council knowledge is read by
//! hundreds of staff, and a wrong self-help step costs many calls); anyone may request changes,
//! which for the author amounts to withdrawing the submission. The approver is recorded.
//!
//! **Who may act.** Writing and approving need an agent (a person). Submitting, requesting
//! changes, discarding a revision, linking and retiring may also come from the desk itself or a
//! rule. Requesters may only flag a published article they can see as out of date; flags are
//! cleared when the next version is published.
//!
//! **Visibility.** Each version says who may read it: `public` articles are self-help for
//! requesters, `internal` ones are for agents only (see [`Audience`]). The editorial history
//! (every event) is desk-internal.
//!
//! Articles link to the problems and incidents they help with. Pure helpers over many articles
//! are in [`mod@search`]: ranking for a query, and categories with incidents but no article.

pub mod search;

use std::collections::BTreeSet;
use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

pub use self::search::{Gap, Hit, coverage_gaps, search};
use crate::id::{ArticleRef, CategoryId, IncidentRef, PersonId, ProblemRef, RecordId};
use crate::links::{LinkError, Linkage};
use crate::record::{
    Actor, Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};

/// Who is reading.
///
/// JSON shape: `"requesters"` or `"agents"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Council staff helping themselves (the portal): public content only.
    Requesters,
    /// Desk staff: everything.
    Agents,
}

impl Audience {
    /// Whether this audience may read something of `visibility`.
    pub const fn may_see(self, visibility: Visibility) -> bool {
        matches!(
            (self, visibility),
            (Audience::Agents, _) | (Audience::Requesters, Visibility::Public)
        )
    }
}

/// Where an article is in its life.
///
/// JSON shape: `"draft"`, `"in_review"`, `"published"`, `"retired"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written; never published.
    Draft,
    /// Submitted for its first review.
    InReview,
    /// A version is visible (a new revision may be in progress beside it).
    Published,
    /// Withdrawn from readers; its history is kept.
    Retired,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Draft => "a draft",
            Status::InReview => "in review",
            Status::Published => "published",
            Status::Retired => "retired",
        })
    }
}

/// Where the revision in progress is.
///
/// JSON shape: `"draft"` or `"in_review"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Being edited.
    Draft,
    /// Submitted, waiting for a reviewer.
    InReview,
}

/// What an article says, and to whom.
///
/// Keywords are kept trimmed, lower-case and without duplicates; the title is trimmed and never
/// empty.
///
/// JSON shape: `{"title": "Connect to the VPN from home", "body": "…", "keywords": ["vpn",
/// "remote access"], "category": "network/vpn", "visibility": "public"}` (`category` may be
/// `null`; `keywords` and `category` may be omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The title.
    pub title: String,
    /// The text (Markdown).
    pub body: String,
    /// Search keywords.
    #[serde(default)]
    pub keywords: BTreeSet<String>,
    /// The category of the incidents it helps with.
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// `public`: self-help for requesters; `internal`: agents only.
    pub visibility: Visibility,
}

impl Content {
    /// This content tidied (trimmed title and body, normalised keywords), or why it is unusable.
    fn normalised(self, command: &'static str, ctx: &Context<'_>) -> Result<Content, Error> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err(Error::Empty { command, field: "title" });
        }
        if let Some(category) = &self.category
            && ctx.config.category(category).is_none()
        {
            return Err(Error::UnknownCategory { command, category: category.clone() });
        }
        Ok(Content {
            title: title.to_owned(),
            body: self.body.trim().to_owned(),
            keywords: self
                .keywords
                .iter()
                .map(|k| k.trim().to_lowercase())
                .filter(|k| !k.is_empty())
                .collect(),
            category: self.category,
            visibility: self.visibility,
        })
    }
}

/// A revision in progress: the next version, not yet published.
///
/// JSON shape: `{"content": Content, "editors": ["j.smith"], "stage": "draft",
/// "review_note": null, "started_at": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// What it says.
    pub content: Content,
    /// Everyone who wrote part of it (none of them may approve it).
    pub editors: BTreeSet<PersonId>,
    /// Draft or in review.
    pub stage: Stage,
    /// The last reviewer's request for changes, until the next submission.
    pub review_note: Option<String>,
    /// When it was started.
    pub started_at: Timestamp,
}

/// A published version. Never changed once published.
///
/// JSON shape: `{"number": 2, "content": Content, "editors": ["j.smith"], "approved_by":
/// "a.patel", "published_at": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1 for the first version.
    pub number: NonZeroU32,
    /// What it says.
    pub content: Content,
    /// Who wrote it.
    pub editors: BTreeSet<PersonId>,
    /// Who approved it.
    pub approved_by: PersonId,
    /// When it was published.
    pub published_at: Timestamp,
}

/// Feedback that a published article is out of date.
///
/// JSON shape: `{"at": "…", "note": "The VPN client is now called GlobalConnect"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// When it was flagged.
    pub at: Timestamp,
    /// What is wrong (may be empty).
    pub note: String,
}

/// A knowledge article, as its events have made it.
///
/// JSON shape: an object with `reference`, `status`, `revision` ([`Revision`] or `null`),
/// `versions` (array of [`Version`], oldest first), `problems` and `incidents` (sorted arrays of
/// references), `flags` (array of [`Flag`]), `created_at`, `updated_at`, `retired_at` (`null`
/// unless retired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    reference: ArticleRef,
    status: Status,
    revision: Option<Revision>,
    versions: Vec<Version>,
    problems: BTreeSet<ProblemRef>,
    incidents: BTreeSet<IncidentRef>,
    flags: Vec<Flag>,
    created_at: Timestamp,
    updated_at: Timestamp,
    retired_at: Option<Timestamp>,
}

impl Article {
    /// Its reference.
    pub fn reference(&self) -> ArticleRef {
        self.reference
    }
    /// Where it is in its life.
    pub fn status(&self) -> Status {
        self.status
    }
    /// The revision in progress, if any (always one while it is a draft or in review).
    pub fn revision(&self) -> Option<&Revision> {
        self.revision.as_ref()
    }
    /// Every published version, oldest first.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }
    /// The version readers see: the latest, while the article is published.
    pub fn published(&self) -> Option<&Version> {
        match self.status {
            Status::Published => self.versions.last(),
            Status::Draft | Status::InReview | Status::Retired => None,
        }
    }
    /// The problems it helps with.
    pub fn problems(&self) -> &BTreeSet<ProblemRef> {
        &self.problems
    }
    /// The incidents it helped with.
    pub fn incidents(&self) -> &BTreeSet<IncidentRef> {
        &self.incidents
    }
    /// Out-of-date feedback since the latest version was published.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }
    /// When it was created.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// When it was retired.
    pub fn retired_at(&self) -> Option<Timestamp> {
        self.retired_at
    }
}

/// What may be asked of an article.
///
/// JSON shape: an object tagged by `type`, e.g. `{"type": "create", "reference": "KB-000019",
/// "content": Content}`, `{"type": "approve"}`, `{"type": "link_problem", "problem":
/// "PRB-000012"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Starts a new article as a draft; `reference` is allocated by the caller.
    Create {
        /// The new article's reference.
        reference: ArticleRef,
        /// What it says.
        content: Content,
    },
    /// Replaces the content of the draft (or, on a published article, starts a new revision).
    Edit {
        /// The new content.
        content: Content,
    },
    /// Sends the draft revision for review.
    SubmitForReview,
    /// Publishes the revision in review as the next version.
    Approve,
    /// Sends the revision in review back to draft.
    RequestChanges {
        /// What to change.
        note: String,
    },
    /// Drops the revision in progress of a published article.
    DiscardRevision,
    /// Records that the article helps with a problem.
    LinkProblem {
        /// The problem.
        problem: ProblemRef,
    },
    /// Removes a problem link.
    UnlinkProblem {
        /// The problem.
        problem: ProblemRef,
    },
    /// Records that the article helped with an incident.
    LinkIncident {
        /// The incident.
        incident: IncidentRef,
    },
    /// Removes an incident link.
    UnlinkIncident {
        /// The incident.
        incident: IncidentRef,
    },
    /// Reports that the published version is out of date.
    FlagOutOfDate {
        /// What is wrong.
        #[serde(default)]
        note: String,
    },
    /// Withdraws the article from readers.
    Retire {
        /// Why.
        reason: String,
    },
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Create { .. } => "create",
            Command::Edit { .. } => "edit",
            Command::SubmitForReview => "submit_for_review",
            Command::Approve => "approve",
            Command::RequestChanges { .. } => "request_changes",
            Command::DiscardRevision => "discard_revision",
            Command::LinkProblem { .. } => "link_problem",
            Command::UnlinkProblem { .. } => "unlink_problem",
            Command::LinkIncident { .. } => "link_incident",
            Command::UnlinkIncident { .. } => "unlink_incident",
            Command::FlagOutOfDate { .. } => "flag_out_of_date",
            Command::Retire { .. } => "retire",
        }
    }
}

/// What happened to an article.
///
/// JSON shape: an object tagged by `type`, e.g. `{"type": "created", "reference": "KB-000019",
/// "author": "j.smith", "content": Content}`, `{"type": "published", "version": 2,
/// "approved_by": "a.patel"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The article was started.
    Created {
        /// Its reference.
        reference: ArticleRef,
        /// Who wrote the first draft.
        author: PersonId,
        /// What it says.
        content: Content,
    },
    /// The revision in progress was edited.
    Edited {
        /// Who edited it.
        editor: PersonId,
        /// The new content.
        content: Content,
    },
    /// A published article got a new revision.
    RevisionStarted {
        /// Who started it.
        editor: PersonId,
        /// Its content.
        content: Content,
    },
    /// The revision was sent for review.
    SubmittedForReview,
    /// The reviewer sent the revision back.
    ChangesRequested {
        /// What to change.
        note: String,
    },
    /// The revision became a published version.
    Published {
        /// The version's number.
        version: NonZeroU32,
        /// Who approved it.
        approved_by: PersonId,
    },
    /// The revision in progress was dropped.
    RevisionDiscarded,
    /// A problem was linked.
    ProblemLinked {
        /// The problem.
        problem: ProblemRef,
    },
    /// A problem was unlinked.
    ProblemUnlinked {
        /// The problem.
        problem: ProblemRef,
    },
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
    /// Someone reported it out of date.
    FlaggedOutOfDate {
        /// What is wrong.
        note: String,
    },
    /// It was retired.
    Retired {
        /// Why.
        reason: String,
    },
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Created { .. } => "created",
            Event::Edited { .. } => "edited",
            Event::RevisionStarted { .. } => "revision_started",
            Event::SubmittedForReview => "submitted_for_review",
            Event::ChangesRequested { .. } => "changes_requested",
            Event::Published { .. } => "published",
            Event::RevisionDiscarded => "revision_discarded",
            Event::ProblemLinked { .. } => "problem_linked",
            Event::ProblemUnlinked { .. } => "problem_unlinked",
            Event::IncidentLinked { .. } => "incident_linked",
            Event::IncidentUnlinked { .. } => "incident_unlinked",
            Event::FlaggedOutOfDate { .. } => "flagged_out_of_date",
            Event::Retired { .. } => "retired",
        }
    }

    /// The editorial history is desk-internal; readers see the published version itself.
    fn visibility(&self) -> Visibility {
        Visibility::Internal
    }
}

/// How a revision's stage reads in a message: `""`, `" with a draft revision"`, ….
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RevisionNote(Status, Option<Stage>);

impl fmt::Display for RevisionNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevisionNote(Status::Published, Some(Stage::Draft)) => {
                f.write_str(" with a draft revision")
            }
            RevisionNote(Status::Published, Some(Stage::InReview)) => {
                f.write_str(" with a revision in review")
            }
            _ => Ok(()),
        }
    }
}

/// Why an article command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command needs an article, and none has been created under this reference.
    #[error("cannot {command}: the knowledge article has not been created")]
    NotCreated {
        /// The refused command.
        command: &'static str,
    },
    /// `create` was given a reference that is already in use.
    #[error("{reference} already exists")]
    AlreadyCreated {
        /// The article.
        reference: ArticleRef,
    },
    /// The command does not apply in the article's current state.
    #[error("cannot {command} {reference} while it is {state}{}", RevisionNote(*.state, *.revision))]
    InvalidTransition {
        /// The article.
        reference: ArticleRef,
        /// Its state.
        state: Status,
        /// The stage of its revision in progress, if it has one.
        revision: Option<Stage>,
        /// The refused command.
        command: &'static str,
    },
    /// This actor may not issue this command.
    #[error("{actor} may not {command} a knowledge article")]
    NotPermitted {
        /// Who asked.
        actor: Actor,
        /// The refused command.
        command: &'static str,
    },
    /// Four eyes: an editor of the revision tried to approve it.
    #[error("{person} edited this revision of {reference} and may not approve it")]
    OwnWork {
        /// The article.
        reference: ArticleRef,
        /// The would-be approver.
        person: PersonId,
    },
    /// A text the command needs is empty.
    #[error("cannot {command}: no {field} given")]
    Empty {
        /// The refused command.
        command: &'static str,
        /// Which text.
        field: &'static str,
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
        /// The article.
        reference: ArticleRef,
        /// The refused command.
        command: &'static str,
    },
    /// The problem or incident is already linked, or is not linked.
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// Which people may issue a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// An agent, who is recorded as editor or approver.
    AgentOnly,
    /// An agent, the desk or a rule.
    Desk,
    /// Anyone who can see the published version.
    Reader,
}

fn who(command: &Command) -> Who {
    match command {
        Command::Create { .. } | Command::Edit { .. } | Command::Approve => Who::AgentOnly,
        Command::FlagOutOfDate { .. } => Who::Reader,
        Command::SubmitForReview
        | Command::RequestChanges { .. }
        | Command::DiscardRevision
        | Command::LinkProblem { .. }
        | Command::UnlinkProblem { .. }
        | Command::LinkIncident { .. }
        | Command::UnlinkIncident { .. }
        | Command::Retire { .. } => Who::Desk,
    }
}

/// The agent behind `ctx`, or a refusal naming `command`.
fn agent<'c>(ctx: &Context<'c>, command: &'static str) -> Result<&'c PersonId, Error> {
    match ctx.actor {
        Actor::Agent(person) => Ok(person),
        other => Err(Error::NotPermitted { actor: other.clone(), command }),
    }
}

fn required(text: &str, command: &'static str, field: &'static str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() { Err(Error::Empty { command, field }) } else { Ok(text.to_owned()) }
}

impl Article {
    fn stage(&self) -> Option<Stage> {
        self.revision.as_ref().map(|r| r.stage)
    }

    fn refuse(&self, command: &'static str) -> Error {
        Error::InvalidTransition {
            reference: self.reference,
            state: self.status,
            revision: self.stage(),
            command,
        }
    }

    fn decide_existing(&self, command: Command, ctx: &Context<'_>) -> Result<Vec<Event>, Error> {
        let name = command.name();
        if self.status == Status::Retired {
            return Err(self.refuse(name));
        }
        let stage = self.stage();
        let event = match command {
            Command::Create { .. } => {
                return Err(Error::AlreadyCreated { reference: self.reference });
            }
            Command::Edit { content } => {
                let editor = agent(ctx, name)?.clone();
                if stage == Some(Stage::InReview) {
                    return Err(self.refuse(name));
                }
                let content = content.normalised(name, ctx)?;
                let current = match &self.revision {
                    Some(revision) => Some(&revision.content),
                    None => self.versions.last().map(|v| &v.content),
                };
                if current == Some(&content) {
                    return Err(Error::Unchanged { reference: self.reference, command: name });
                }
                match stage {
                    Some(_) => Event::Edited { editor, content },
                    None => Event::RevisionStarted { editor, content },
                }
            }
            Command::SubmitForReview => {
                if stage != Some(Stage::Draft) {
                    return Err(self.refuse(name));
                }
                if self.revision.as_ref().is_some_and(|r| r.content.body.is_empty()) {
                    return Err(Error::Empty { command: name, field: "body" });
                }
                Event::SubmittedForReview
            }
            Command::Approve => {
                let person = agent(ctx, name)?;
                let Some(revision) = self.revision.as_ref().filter(|r| r.stage == Stage::InReview)
                else {
                    return Err(self.refuse(name));
                };
                if revision.editors.contains(person) {
                    return Err(Error::OwnWork {
                        reference: self.reference,
                        person: person.clone(),
                    });
                }
                let number = u32::try_from(self.versions.len() + 1).ok().and_then(NonZeroU32::new);
                let Some(version) = number else { return Err(self.refuse(name)) };
                Event::Published { version, approved_by: person.clone() }
            }
            Command::RequestChanges { note } => {
                if stage != Some(Stage::InReview) {
                    return Err(self.refuse(name));
                }
                Event::ChangesRequested { note: required(&note, name, "note")? }
            }
            Command::DiscardRevision => {
                if self.status != Status::Published || stage.is_none() {
                    return Err(self.refuse(name));
                }
                Event::RevisionDiscarded
            }
            Command::LinkProblem { problem } => {
                Linkage::Link.check(self.reference, &self.problems, problem)?;
                Event::ProblemLinked { problem }
            }
            Command::UnlinkProblem { problem } => {
                Linkage::Unlink.check(self.reference, &self.problems, problem)?;
                Event::ProblemUnlinked { problem }
            }
            Command::LinkIncident { incident } => {
                Linkage::Link.check(self.reference, &self.incidents, incident)?;
                Event::IncidentLinked { incident }
            }
            Command::UnlinkIncident { incident } => {
                Linkage::Unlink.check(self.reference, &self.incidents, incident)?;
                Event::IncidentUnlinked { incident }
            }
            Command::FlagOutOfDate { note } => {
                let Some(version) = self.published() else { return Err(self.refuse(name)) };
                if let Actor::Requester(_) = ctx.actor
                    && !Audience::Requesters.may_see(version.content.visibility)
                {
                    return Err(Error::NotPermitted { actor: ctx.actor.clone(), command: name });
                }
                Event::FlaggedOutOfDate { note: note.trim().to_owned() }
            }
            Command::Retire { reason } => {
                Event::Retired { reason: required(&reason, name, "reason")? }
            }
        };
        Ok(vec![event])
    }
}

fn create(command: Command, ctx: &Context<'_>) -> Result<Vec<Event>, Error> {
    let Command::Create { reference, content } = command else {
        return Err(Error::NotCreated { command: command.name() });
    };
    let author = agent(ctx, "create")?.clone();
    let content = content.normalised("create", ctx)?;
    Ok(vec![Event::Created { reference, author, content }])
}

fn inconsistent(article: &Article, event: &Event, reason: &str) -> ReplayError {
    ReplayError::Inconsistent {
        reference: article.reference.to_string(),
        event: event.name(),
        reason: reason.to_owned(),
    }
}

impl Aggregate for Article {
    const NOUN: &'static str = "knowledge article";
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
        if who(&command) == Who::Desk
            && let Actor::Requester(_) = ctx.actor
        {
            return Err(Error::NotPermitted { actor: ctx.actor.clone(), command: command.name() });
        }
        match state {
            None => create(command, &ctx),
            Some(article) => article.decide_existing(command, &ctx),
        }
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let mut article = match (state, event) {
            (None, Event::Created { reference, author, content }) => {
                return Ok(Article {
                    reference: *reference,
                    status: Status::Draft,
                    revision: Some(Revision {
                        content: content.clone(),
                        editors: BTreeSet::from([author.clone()]),
                        stage: Stage::Draft,
                        review_note: None,
                        started_at: at,
                    }),
                    versions: Vec::new(),
                    problems: BTreeSet::new(),
                    incidents: BTreeSet::new(),
                    flags: Vec::new(),
                    created_at: at,
                    updated_at: at,
                    retired_at: None,
                });
            }
            (None, _) => {
                return Err(ReplayError::NotCreated { noun: Self::NOUN, event: event.name() });
            }
            (Some(article), Event::Created { .. }) => {
                return Err(ReplayError::AlreadyCreated {
                    reference: article.reference.to_string(),
                    event: event.name(),
                });
            }
            (Some(article), _) => article,
        };
        article.updated_at = at;
        match event {
            Event::Created { .. } => {}
            Event::Edited { editor, content } => {
                let Some(revision) = article.revision.as_mut() else {
                    return Err(inconsistent(&article, event, "there is no revision to edit"));
                };
                revision.content = content.clone();
                revision.editors.insert(editor.clone());
            }
            Event::RevisionStarted { editor, content } => {
                article.revision = Some(Revision {
                    content: content.clone(),
                    editors: BTreeSet::from([editor.clone()]),
                    stage: Stage::Draft,
                    review_note: None,
                    started_at: at,
                });
            }
            Event::SubmittedForReview | Event::ChangesRequested { .. } => {
                let Some(revision) = article.revision.as_mut() else {
                    return Err(inconsistent(&article, event, "there is no revision"));
                };
                match event {
                    Event::ChangesRequested { note } => {
                        revision.stage = Stage::Draft;
                        revision.review_note = Some(note.clone());
                    }
                    _ => {
                        revision.stage = Stage::InReview;
                        revision.review_note = None;
                    }
                }
                if article.status != Status::Published {
                    article.status = match revision.stage {
                        Stage::Draft => Status::Draft,
                        Stage::InReview => Status::InReview,
                    };
                }
            }
            Event::Published { version, approved_by } => {
                let expected = article.versions.len() + 1;
                if usize::try_from(version.get()).ok() != Some(expected) {
                    return Err(inconsistent(
                        &article,
                        event,
                        "versions must be numbered in order",
                    ));
                }
                let Some(revision) = article.revision.take() else {
                    return Err(inconsistent(&article, event, "there is no revision to publish"));
                };
                article.versions.push(Version {
                    number: *version,
                    content: revision.content,
                    editors: revision.editors,
                    approved_by: approved_by.clone(),
                    published_at: at,
                });
                article.status = Status::Published;
                article.flags.clear();
            }
            Event::RevisionDiscarded => article.revision = None,
            Event::ProblemLinked { problem } => {
                article.problems.insert(*problem);
            }
            Event::ProblemUnlinked { problem } => {
                article.problems.remove(problem);
            }
            Event::IncidentLinked { incident } => {
                article.incidents.insert(*incident);
            }
            Event::IncidentUnlinked { incident } => {
                article.incidents.remove(incident);
            }
            Event::FlaggedOutOfDate { note } => article.flags.push(Flag { at, note: note.clone() }),
            Event::Retired { .. } => {
                article.status = Status::Retired;
                article.revision = None;
                article.retired_at = Some(at);
            }
        }
        Ok(article)
    }
}

#[cfg(test)]
mod tests;
