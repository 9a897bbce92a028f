//! The knowledge article lifecycle against a reference model.
//!
//! Invariants checked after every step:
//! - the aggregate accepts exactly the commands the model accepts, and refuses the others for
//!   the model's reason;
//! - status, revision (content, editors, stage), versions, links and flags agree with the model;
//! - a published version is never modified: every version seen stays, unchanged, at its place;
//! - versions are numbered 1, 2, … and nobody approves a version they edited;
//! - the status agrees with the versions: published exactly when a version exists and the
//!   article is not retired; a draft or in-review article has a revision at that stage;
//! - once retired, no command records anything;
//! - replaying the recorded events rebuilds the state, and every event survives JSON.

use std::collections::BTreeSet;

use desk_core::id::{ArticleRef, CategoryId, IncidentRef, PersonId, ProblemRef};
use desk_core::knowledge::{Article, Command, Content, Error, Event, Stage, Status};
use desk_core::record::{Actor, Recorded, Visibility};
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

use crate::harness::{
    Expect, Lifecycle, Link, LinkRefusal, Machine, Model, Refused, blank, relink,
};

const AGENTS: [&str; 2] = ["j.smith", "a.patel"];
const TEXTS: [&str; 2] = [" ", "Please add the e-token step"];
/// Contents 0 to 2 are valid (2 has no body); 3 has no title; 4 has an unknown category.
const CONTENTS: usize = 5;
const WITHOUT_BODY: usize = 2;

fn content(index: usize) -> Content {
    let vpn = |body: &str, visibility| Content {
        title: "Connect to the VPN from home".into(),
        body: body.into(),
        keywords: BTreeSet::from(["vpn".to_owned()]),
        category: Some(CategoryId::new("network/vpn").unwrap()),
        visibility,
    };
    let printer = |title: &str, category: Option<&str>| Content {
        title: title.into(),
        body: String::new(),
        keywords: BTreeSet::new(),
        category: category.map(|c| CategoryId::new(c).unwrap()),
        visibility: Visibility::Public,
    };
    match index {
        0 => vpn("Open GlobalConnect and sign in.", Visibility::Public),
        1 => vpn("Open GlobalConnect 6; agents reset tokens in the portal.", Visibility::Internal),
        WITHOUT_BODY => printer("Printer jams", None),
        3 => printer("   ", None),
        _ => printer("Catering", Some("catering")),
    }
}

/// Who issues a command: an agent (by index), the desk, or a requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Agent(usize),
    System,
    Requester,
}

impl Who {
    fn actor(self) -> Actor {
        match self {
            Who::Agent(n) => Actor::Agent(PersonId::new(AGENTS[n]).unwrap()),
            Who::System => Actor::System,
            Who::Requester => Actor::Requester(PersonId::new("k.lee").unwrap()),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create(usize),
    Edit(usize),
    Submit,
    Approve,
    RequestChanges(usize),
    Discard,
    LinkProblem(u32),
    UnlinkProblem(u32),
    LinkIncident(u32),
    UnlinkIncident(u32),
    Flag,
    Retire(usize),
}

impl Op {
    fn command(&self) -> Command {
        let problem = |n: &u32| ProblemRef::from_number(*n).unwrap();
        let incident = |n: &u32| IncidentRef::from_number(*n).unwrap();
        match self {
            Op::Create(c) => Command::Create {
                reference: ArticleRef::from_number(1).unwrap(),
                content: content(*c),
            },
            Op::Edit(c) => Command::Edit { content: content(*c) },
            Op::Submit => Command::SubmitForReview,
            Op::Approve => Command::Approve,
            Op::RequestChanges(t) => Command::RequestChanges { note: TEXTS[*t].into() },
            Op::Discard => Command::DiscardRevision,
            Op::LinkProblem(n) => Command::LinkProblem { problem: problem(n) },
            Op::UnlinkProblem(n) => Command::UnlinkProblem { problem: problem(n) },
            Op::LinkIncident(n) => Command::LinkIncident { incident: incident(n) },
            Op::UnlinkIncident(n) => Command::UnlinkIncident { incident: incident(n) },
            Op::Flag => Command::FlagOutOfDate { note: "Out of date".into() },
            Op::Retire(t) => Command::Retire { reason: TEXTS[*t].into() },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotCreated,
    AlreadyCreated,
    InvalidTransition(Status, Option<Stage>),
    NotPermitted,
    OwnWork,
    Empty,
    UnknownCategory,
    Unchanged,
    Link(LinkRefusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Revision {
    content: usize,
    editors: BTreeSet<usize>,
    stage: Stage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Published {
    content: usize,
    editors: BTreeSet<usize>,
    approver: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    status: Status,
    revision: Option<Revision>,
    versions: Vec<Published>,
    problems: BTreeSet<u32>,
    incidents: BTreeSet<u32>,
    flags: usize,
}

fn valid(content: usize) -> Result<(), Refusal> {
    match content {
        3 => Err(Refusal::Empty),
        4 => Err(Refusal::UnknownCategory),
        _ => Ok(()),
    }
}

fn agent(who: Who) -> Result<usize, Refusal> {
    match who {
        Who::Agent(n) => Ok(n),
        Who::System | Who::Requester => Err(Refusal::NotPermitted),
    }
}

fn text_ok(index: usize) -> Result<(), Refusal> {
    if blank(TEXTS[index]) { Err(Refusal::Empty) } else { Ok(()) }
}

/// The model's decision: the next record, or why the command is refused.
fn step(record: Option<&Record>, who: Who, op: &Op) -> Result<Record, Refusal> {
    let desk_work = !matches!(op, Op::Create(_) | Op::Edit(_) | Op::Approve | Op::Flag);
    if desk_work && who == Who::Requester {
        return Err(Refusal::NotPermitted);
    }
    let Some(current) = record else {
        let Op::Create(content) = op else { return Err(Refusal::NotCreated) };
        let author = agent(who)?;
        valid(*content)?;
        return Ok(Record {
            status: Status::Draft,
            revision: Some(Revision {
                content: *content,
                editors: BTreeSet::from([author]),
                stage: Stage::Draft,
            }),
            versions: Vec::new(),
            problems: BTreeSet::new(),
            incidents: BTreeSet::new(),
            flags: 0,
        });
    };
    let stage = current.revision.as_ref().map(|r| r.stage);
    let invalid = Refusal::InvalidTransition(current.status, stage);
    if current.status == Status::Retired {
        return Err(invalid);
    }
    let mut next = current.clone();
    match op {
        Op::Create(_) => return Err(Refusal::AlreadyCreated),
        Op::Edit(content) => {
            let editor = agent(who)?;
            if stage == Some(Stage::InReview) {
                return Err(invalid);
            }
            valid(*content)?;
            let shown = match &current.revision {
                Some(revision) => Some(revision.content),
                None => current.versions.last().map(|v| v.content),
            };
            if shown == Some(*content) {
                return Err(Refusal::Unchanged);
            }
            let revision = next.revision.get_or_insert(Revision {
                content: *content,
                editors: BTreeSet::new(),
                stage: Stage::Draft,
            });
            revision.content = *content;
            revision.editors.insert(editor);
        }
        Op::Submit => {
            let Some(revision) = next.revision.as_mut().filter(|r| r.stage == Stage::Draft) else {
                return Err(invalid);
            };
            if revision.content == WITHOUT_BODY {
                return Err(Refusal::Empty);
            }
            revision.stage = Stage::InReview;
            if next.status != Status::Published {
                next.status = Status::InReview;
            }
        }
        Op::Approve => {
            let approver = agent(who)?;
            let Some(revision) = next.revision.take().filter(|r| r.stage == Stage::InReview) else {
                return Err(invalid);
            };
            if revision.editors.contains(&approver) {
                return Err(Refusal::OwnWork);
            }
            next.versions.push(Published {
                content: revision.content,
                editors: revision.editors,
                approver,
            });
            next.status = Status::Published;
            next.flags = 0;
        }
        Op::RequestChanges(note) => {
            let Some(revision) = next.revision.as_mut().filter(|r| r.stage == Stage::InReview)
            else {
                return Err(invalid);
            };
            text_ok(*note)?;
            revision.stage = Stage::Draft;
            if next.status != Status::Published {
                next.status = Status::Draft;
            }
        }
        Op::Discard => {
            if current.status != Status::Published || stage.is_none() {
                return Err(invalid);
            }
            next.revision = None;
        }
        Op::LinkProblem(n) => relink(&mut next.problems, *n, Link::Add).map_err(Refusal::Link)?,
        Op::UnlinkProblem(n) => {
            relink(&mut next.problems, *n, Link::Remove).map_err(Refusal::Link)?
        }
        Op::LinkIncident(n) => relink(&mut next.incidents, *n, Link::Add).map_err(Refusal::Link)?,
        Op::UnlinkIncident(n) => {
            relink(&mut next.incidents, *n, Link::Remove).map_err(Refusal::Link)?
        }
        Op::Flag => {
            if current.status != Status::Published {
                return Err(invalid);
            }
            let shown = current.versions.last().map(|v| content(v.content).visibility);
            if who == Who::Requester && shown != Some(Visibility::Public) {
                return Err(Refusal::NotPermitted);
            }
            next.flags += 1;
        }
        Op::Retire(reason) => {
            text_ok(*reason)?;
            next.status = Status::Retired;
            next.revision = None;
        }
    }
    Ok(next)
}

fn ops() -> BoxedStrategy<Op> {
    let link = 1u32..4;
    prop_oneof![
        1 => (0..CONTENTS).prop_map(Op::Create),
        4 => (0..CONTENTS).prop_map(Op::Edit),
        4 => Just(Op::Submit),
        4 => Just(Op::Approve),
        2 => (0..TEXTS.len()).prop_map(Op::RequestChanges),
        2 => Just(Op::Discard),
        1 => link.clone().prop_map(Op::LinkProblem),
        1 => link.clone().prop_map(Op::UnlinkProblem),
        1 => link.clone().prop_map(Op::LinkIncident),
        1 => link.prop_map(Op::UnlinkIncident),
        2 => Just(Op::Flag),
        1 => (0..TEXTS.len()).prop_map(Op::Retire),
    ]
    .boxed()
}

/// The index of `content` among the contents the steps use.
fn content_index(shown: &Content) -> usize {
    (0..CONTENTS).find(|n| content(*n) == *shown).unwrap()
}

/// The index of `person` among [`AGENTS`].
fn agent_index(person: &PersonId) -> usize {
    AGENTS.iter().position(|a| *a == person.as_str()).unwrap()
}

struct Articles;

impl Lifecycle for Articles {
    type Record = Article;
    type Known = Record;
    type Step = (Who, Op);
    type Status = (Status, Option<Stage>);
    type Reason = Refusal;

    fn steps(model: &Model<Self>) -> BoxedStrategy<(Who, Op)> {
        let who = prop_oneof![
            4 => Just(Who::Agent(0)),
            4 => Just(Who::Agent(1)),
            1 => Just(Who::System),
            2 => Just(Who::Requester),
        ];
        let op = if model.record.is_none() {
            prop_oneof![4 => (0..CONTENTS).prop_map(Op::Create), 1 => ops()].boxed()
        } else {
            ops()
        };
        (who, op).boxed()
    }

    fn expect(
        model: &Model<Self>,
        (who, op): &(Who, Op),
    ) -> Expect<Record, (Status, Option<Stage>), Refusal> {
        match step(model.record.as_ref(), *who, op) {
            Ok(next) => Expect::Accept(next),
            Err(Refusal::InvalidTransition(state, stage)) => Expect::WrongState((state, stage)),
            Err(reason) => Expect::Refuse(reason),
        }
    }

    fn command((who, op): &(Who, Op), _: Option<&Article>) -> (Command, Actor) {
        (op.command(), who.actor())
    }

    fn refusal(error: &Error) -> Refused<(Status, Option<Stage>), Refusal> {
        Refused::Other(match error {
            Error::InvalidTransition { state, revision, command, .. } => {
                return Refused::State((*state, *revision), command);
            }
            Error::NotCreated { .. } => Refusal::NotCreated,
            Error::AlreadyCreated { .. } => Refusal::AlreadyCreated,
            Error::NotPermitted { .. } => Refusal::NotPermitted,
            Error::OwnWork { .. } => Refusal::OwnWork,
            Error::Empty { .. } => Refusal::Empty,
            Error::UnknownCategory { .. } => Refusal::UnknownCategory,
            Error::Unchanged { .. } => Refusal::Unchanged,
            Error::Link(link) => Refusal::Link(LinkRefusal::of(link)),
            other => panic!("unexpected error {other:?}"),
        })
    }

    fn observe(article: &Article) -> Record {
        Record {
            status: article.status(),
            revision: article.revision().map(|r| Revision {
                content: content_index(&r.content),
                editors: r.editors.iter().map(agent_index).collect(),
                stage: r.stage,
            }),
            versions: article
                .versions()
                .iter()
                .map(|v| Published {
                    content: content_index(&v.content),
                    editors: v.editors.iter().map(agent_index).collect(),
                    approver: agent_index(&v.approved_by),
                })
                .collect(),
            problems: article.problems().iter().map(|p| p.number().get()).collect(),
            incidents: article.incidents().iter().map(|i| i.number().get()).collect(),
            flags: article.flags().len(),
        }
    }

    fn is_final(article: &Article) -> bool {
        article.status() == Status::Retired
    }

    fn check(before: Option<&Article>, article: &Article, _: &[Recorded<Event>]) {
        // A published version is never modified: what was published stays as it was.
        let published = before.map(Article::versions).unwrap_or_default();
        assert!(article.versions().starts_with(published), "a published version changed");
        // Versions are numbered in order; nobody approves their own work.
        for (n, version) in article.versions().iter().enumerate() {
            assert_eq!(version.number.get() as usize, n + 1);
            assert!(!version.editors.contains(&version.approved_by), "four eyes broken");
        }
        // The status agrees with the versions and the revision.
        match article.status() {
            Status::Published => assert!(article.published().is_some()),
            Status::Retired => {
                assert!(article.revision().is_none() && article.published().is_none())
            }
            Status::Draft | Status::InReview => {
                assert!(article.versions().is_empty());
                let stage =
                    if article.status() == Status::Draft { Stage::Draft } else { Stage::InReview };
                assert_eq!(article.revision().map(|r| r.stage), Some(stage));
            }
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn articles_follow_their_lifecycle(sequential 1..40 => Machine<Articles>);
}
