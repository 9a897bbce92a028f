//! The problem lifecycle against a reference model.
//!
//! Invariants checked after every step:
//! - the aggregate accepts exactly the commands the model accepts, and refuses the others for
//!   the model's reason (state and command named);
//! - status, team, category, links, root cause and workaround agree with the model;
//! - a known error always has a workaround or a root cause;
//! - a resolution exists exactly while the problem is resolved or closed;
//! - once closed or cancelled, no command records anything;
//! - replaying the recorded events rebuilds the state, and every event survives JSON.

use std::collections::BTreeSet;

use desk_core::id::{AssetRef, CategoryId, ChangeRef, IncidentRef, PersonId, ProblemRef, TeamId};
use desk_core::problem::{Command, Error, Event, Problem, Status};
use desk_core::record::Recorded;
use desk_core::record::{Actor, Visibility};
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

use crate::harness::{
    Expect, Lifecycle, Link, LinkRefusal, Machine, Model, Refused, blank, relink,
};

/// Teams: two configured ones and one that is not.
const TEAMS: [&str; 3] = ["networks", "applications", "plumbing"];
/// Categories: two configured ones and one that is not.
const CATEGORIES: [&str; 3] = ["network/vpn", "software/email", "catering"];
const TEXTS: [&str; 3] = ["", "   ", "Switch firmware leaks memory"];

fn known(index: usize) -> bool {
    index < 2
}

/// Who issues a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Agent,
    System,
    Requester,
}

impl Who {
    fn actor(self) -> Actor {
        match self {
            Who::Agent => Actor::Agent(PersonId::new("d.okafor").unwrap()),
            Who::System => Actor::System,
            Who::Requester => Actor::Requester(PersonId::new("k.lee").unwrap()),
        }
    }
}

/// A command in model terms: small indices into the pools above.
#[derive(Debug, Clone)]
enum Op {
    Log { title: usize, category: Option<usize>, team: Option<usize>, incidents: BTreeSet<u32> },
    Assign(usize),
    Recategorise(Option<usize>),
    StartInvestigation,
    LinkIncident(u32),
    UnlinkIncident(u32),
    LinkCi(u32),
    UnlinkCi(u32),
    RecordRootCause(usize),
    RecordWorkaround(usize, Visibility),
    DeclareKnownError,
    Resolve(usize, Option<u32>),
    Close,
    Reopen(usize, Option<u32>),
    Cancel(usize),
}

fn category(index: usize) -> CategoryId {
    CategoryId::new(CATEGORIES[index]).unwrap()
}

impl Op {
    fn command(&self) -> Command {
        let text = |i: &usize| TEXTS[*i].to_owned();
        let inc = |n: &u32| IncidentRef::from_number(*n).unwrap();
        let ci = |n: &u32| AssetRef::from_number(*n).unwrap();
        match self {
            Op::Log { title, category: c, team, incidents } => Command::Log {
                reference: ProblemRef::from_number(1).unwrap(),
                title: text(title),
                description: "Seen at the Civic Centre".into(),
                category: c.map(category),
                team: team.map(|t| TeamId::new(TEAMS[t]).unwrap()),
                incidents: incidents.iter().map(inc).collect(),
                cis: BTreeSet::new(),
            },
            Op::Assign(t) => Command::Assign { team: TeamId::new(TEAMS[*t]).unwrap() },
            Op::Recategorise(c) => Command::Recategorise { category: c.map(category) },
            Op::StartInvestigation => Command::StartInvestigation,
            Op::LinkIncident(n) => Command::LinkIncident { incident: inc(n) },
            Op::UnlinkIncident(n) => Command::UnlinkIncident { incident: inc(n) },
            Op::LinkCi(n) => Command::LinkCi { ci: ci(n) },
            Op::UnlinkCi(n) => Command::UnlinkCi { ci: ci(n) },
            Op::RecordRootCause(t) => Command::RecordRootCause { text: text(t) },
            Op::RecordWorkaround(t, visibility) => {
                Command::RecordWorkaround { text: text(t), visibility: *visibility }
            }
            Op::DeclareKnownError => Command::DeclareKnownError,
            Op::Resolve(t, change) => {
                Command::Resolve { notes: text(t), change: change.and_then(ChangeRef::from_number) }
            }
            Op::Close => Command::Close,
            Op::Reopen(t, incident) => {
                Command::Reopen { reason: text(t), incident: incident.as_ref().map(inc) }
            }
            Op::Cancel(t) => Command::Cancel { reason: text(t) },
        }
    }
}

/// Why the model expects a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotLogged,
    AlreadyLogged,
    InvalidTransition(Status),
    NotPermitted,
    Empty,
    UnknownTeam,
    UnknownCategory,
    Unchanged,
    Unassigned,
    Link(LinkRefusal),
    NothingKnown,
    NoRootCause,
}

/// The model of a logged problem.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    status: Status,
    team: Option<usize>,
    category: Option<usize>,
    incidents: BTreeSet<u32>,
    cis: BTreeSet<u32>,
    root_cause: bool,
    workaround: Option<Visibility>,
}

fn text_ok(index: usize) -> Result<(), Refusal> {
    if blank(TEXTS[index]) { Err(Refusal::Empty) } else { Ok(()) }
}

/// The model's decision: the next record, or why the command is refused.
fn step(record: Option<&Record>, who: Who, op: &Op) -> Result<Record, Refusal> {
    use Status::{Cancelled, Closed, Investigating, KnownError, Logged, Resolved};
    if who == Who::Requester {
        return Err(Refusal::NotPermitted);
    }
    let Some(current) = record else {
        let Op::Log { title, category, team, incidents } = op else {
            return Err(Refusal::NotLogged);
        };
        text_ok(*title)?;
        if category.is_some_and(|c| !known(c)) {
            return Err(Refusal::UnknownCategory);
        }
        if team.is_some_and(|t| !known(t)) {
            return Err(Refusal::UnknownTeam);
        }
        return Ok(Record {
            status: Logged,
            team: *team,
            category: *category,
            incidents: incidents.clone(),
            cis: BTreeSet::new(),
            root_cause: false,
            workaround: None,
        });
    };
    let mut next = current.clone();
    let state = |allowed: &[Status]| {
        if allowed.contains(&current.status) {
            Ok(())
        } else {
            Err(Refusal::InvalidTransition(current.status))
        }
    };
    let open = [Logged, Investigating, KnownError];
    let working = [Investigating, KnownError];
    match op {
        Op::Log { .. } => return Err(Refusal::AlreadyLogged),
        Op::Assign(team) => {
            state(&open)?;
            if !known(*team) {
                return Err(Refusal::UnknownTeam);
            }
            if current.team == Some(*team) {
                return Err(Refusal::Unchanged);
            }
            next.team = Some(*team);
        }
        Op::Recategorise(category) => {
            state(&open)?;
            if category.is_some_and(|c| !known(c)) {
                return Err(Refusal::UnknownCategory);
            }
            if current.category == *category {
                return Err(Refusal::Unchanged);
            }
            next.category = *category;
        }
        Op::StartInvestigation => {
            state(&[Logged])?;
            if current.team.is_none() {
                return Err(Refusal::Unassigned);
            }
            next.status = Investigating;
        }
        Op::LinkIncident(n) => {
            state(&open)?;
            relink(&mut next.incidents, *n, Link::Add).map_err(Refusal::Link)?;
        }
        Op::UnlinkIncident(n) => {
            state(&open)?;
            relink(&mut next.incidents, *n, Link::Remove).map_err(Refusal::Link)?;
        }
        Op::LinkCi(n) => {
            state(&open)?;
            relink(&mut next.cis, *n, Link::Add).map_err(Refusal::Link)?;
        }
        Op::UnlinkCi(n) => {
            state(&open)?;
            relink(&mut next.cis, *n, Link::Remove).map_err(Refusal::Link)?;
        }
        Op::RecordRootCause(text) => {
            state(&working)?;
            text_ok(*text)?;
            next.root_cause = true;
        }
        Op::RecordWorkaround(text, visibility) => {
            state(&working)?;
            text_ok(*text)?;
            next.workaround = Some(*visibility);
        }
        Op::DeclareKnownError => {
            state(&[Investigating])?;
            if !current.root_cause && current.workaround.is_none() {
                return Err(Refusal::NothingKnown);
            }
            next.status = KnownError;
        }
        Op::Resolve(notes, _) => {
            state(&working)?;
            if !current.root_cause {
                return Err(Refusal::NoRootCause);
            }
            text_ok(*notes)?;
            next.status = Resolved;
        }
        Op::Close => {
            state(&[Resolved])?;
            next.status = Closed;
        }
        Op::Reopen(reason, incident) => {
            state(&[Resolved])?;
            text_ok(*reason)?;
            if let Some(n) = incident {
                relink(&mut next.incidents, *n, Link::Add).map_err(Refusal::Link)?;
            }
            next.status = Investigating;
        }
        Op::Cancel(reason) => {
            state(&open)?;
            text_ok(*reason)?;
            next.status = Cancelled;
        }
    }
    Ok(next)
}

fn ops() -> BoxedStrategy<Op> {
    let text = 0..TEXTS.len();
    let incident = 1u32..5;
    let ci = 1u32..4;
    let visibility = prop_oneof![Just(Visibility::Public), Just(Visibility::Internal)];
    prop_oneof![
        1 => (text.clone(), prop::option::of(0..3usize), prop::option::of(0..3usize), prop::collection::btree_set(incident.clone(), 0..3))
            .prop_map(|(title, category, team, incidents)| Op::Log { title, category, team, incidents }),
        2 => (0..3usize).prop_map(Op::Assign),
        1 => prop::option::of(0..3usize).prop_map(Op::Recategorise),
        3 => Just(Op::StartInvestigation),
        2 => incident.clone().prop_map(Op::LinkIncident),
        1 => incident.clone().prop_map(Op::UnlinkIncident),
        2 => ci.clone().prop_map(Op::LinkCi),
        1 => ci.prop_map(Op::UnlinkCi),
        3 => text.clone().prop_map(Op::RecordRootCause),
        3 => (text.clone(), visibility).prop_map(|(t, v)| Op::RecordWorkaround(t, v)),
        3 => Just(Op::DeclareKnownError),
        3 => (text.clone(), prop::option::of(1u32..400)).prop_map(|(t, c)| Op::Resolve(t, c)),
        2 => Just(Op::Close),
        2 => (text.clone(), prop::option::of(incident)).prop_map(|(t, i)| Op::Reopen(t, i)),
        1 => text.prop_map(Op::Cancel),
    ]
    .boxed()
}

fn index(pool: &[&str], name: &str) -> usize {
    pool.iter().position(|n| *n == name).unwrap()
}

struct Problems;

impl Lifecycle for Problems {
    type Record = Problem;
    type Known = Record;
    type Step = (Who, Op);
    type Status = Status;
    type Reason = Refusal;

    fn steps(model: &Model<Self>) -> BoxedStrategy<(Who, Op)> {
        let who =
            prop_oneof![8 => Just(Who::Agent), 1 => Just(Who::System), 1 => Just(Who::Requester)];
        if model.record.is_none() {
            // Mostly try to log, so that sequences reach the interesting states.
            let log = (0..TEXTS.len(), prop::option::of(0..3usize), prop::option::of(0..2usize))
                .prop_map(|(title, category, team)| Op::Log {
                    title,
                    category,
                    team,
                    incidents: BTreeSet::new(),
                });
            (who, prop_oneof![4 => log, 1 => ops()]).boxed()
        } else {
            (who, ops()).boxed()
        }
    }

    fn expect(model: &Model<Self>, (who, op): &(Who, Op)) -> Expect<Record, Status, Refusal> {
        match step(model.record.as_ref(), *who, op) {
            Ok(next) => Expect::Accept(next),
            Err(Refusal::InvalidTransition(state)) => Expect::WrongState(state),
            Err(reason) => Expect::Refuse(reason),
        }
    }

    fn command((who, op): &(Who, Op), _: Option<&Problem>) -> (Command, Actor) {
        (op.command(), who.actor())
    }

    fn refusal(error: &Error) -> Refused<Status, Refusal> {
        Refused::Other(match error {
            Error::InvalidTransition { state, command, .. } => {
                return Refused::State(*state, command);
            }
            Error::NotLogged { .. } => Refusal::NotLogged,
            Error::AlreadyLogged { .. } => Refusal::AlreadyLogged,
            Error::NotPermitted { .. } => Refusal::NotPermitted,
            Error::Empty { .. } => Refusal::Empty,
            Error::UnknownTeam { .. } => Refusal::UnknownTeam,
            Error::UnknownCategory { .. } => Refusal::UnknownCategory,
            Error::Unchanged { .. } => Refusal::Unchanged,
            Error::Unassigned { .. } => Refusal::Unassigned,
            Error::Link(link) => Refusal::Link(LinkRefusal::of(link)),
            Error::NothingKnown { .. } => Refusal::NothingKnown,
            Error::NoRootCause { .. } => Refusal::NoRootCause,
            other => panic!("unexpected error {other:?}"),
        })
    }

    fn observe(problem: &Problem) -> Record {
        Record {
            status: problem.status(),
            team: problem.team().map(|t| index(&TEAMS, t.as_str())),
            category: problem.category().map(|c| index(&CATEGORIES, c.as_str())),
            incidents: problem.incidents().iter().map(|i| i.number().get()).collect(),
            cis: problem.cis().iter().map(|c| c.number().get()).collect(),
            root_cause: problem.root_cause().is_some(),
            workaround: problem.workaround().map(|w| w.visibility),
        }
    }

    fn is_final(problem: &Problem) -> bool {
        matches!(problem.status(), Status::Closed | Status::Cancelled)
    }

    fn check(_: Option<&Problem>, problem: &Problem, _: &[Recorded<Event>]) {
        if problem.status() == Status::KnownError {
            assert!(problem.workaround().is_some() || problem.root_cause().is_some());
        }
        assert_eq!(
            problem.resolution().is_some(),
            matches!(problem.status(), Status::Resolved | Status::Closed)
        );
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn problems_follow_their_lifecycle(sequential 1..40 => Machine<Problems>);
}
