//! Incidents against a reference model: several incidents, random commands (many refused),
//! parent/child links, merges and the passing of time.
//!
//! Invariants checked after every step:
//! - every incident's status agrees with the model, and a refused command changes nothing;
//! - a closed incident accepts only a reopen within the window;
//! - resolving a parent (major or not) resolves every child that was open;
//! - parent and child links agree in both directions;
//! - a routing decision is recorded on any open incident and moves it only to another team;
//! - SLA warnings and breaches are recorded once per clock, cycle and mark, never on a finished
//!   incident, and a repeat records nothing;
//! - replaying each incident's history rebuilds exactly its current state;
//! - every state and event survives a JSON round trip.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use desk_core::DeskConfig;
use desk_core::channel::Channel;
use desk_core::id::{ClockId, IncidentRef, PersonId, TeamId};
use desk_core::incident::{
    self, AssignTo, Command, Escalation, HoldReason, Incident, NewIncident, RoutingDecision,
    Status, follow_ups,
};
use desk_core::priority::{Impact, Urgency};
use desk_core::record::{Actor, Context, Visibility};
use desk_core::sla::{Passed, Threshold};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

use crate::harness::Stored;

const INCIDENTS: u32 = 4;
/// (team, tier rank) from the example configuration.
const TEAMS: [(&str, u8); 5] = [
    ("service-desk", 1),
    ("desk-side", 2),
    ("networks", 3),
    ("security", 4),
    ("supplier-telecoms", 5),
];
const REOPEN_WINDOW_DAYS: i64 = 10;

#[derive(Debug, Clone)]
enum Step {
    Log {
        n: u32,
        team: Option<usize>,
    },
    Assign {
        n: u32,
        team: usize,
    },
    Route {
        n: u32,
        team: Option<usize>,
    },
    Start {
        n: u32,
    },
    Hold {
        n: u32,
    },
    Resume {
        n: u32,
    },
    Resolve {
        n: u32,
    },
    Close {
        n: u32,
    },
    Reopen {
        n: u32,
    },
    Cancel {
        n: u32,
    },
    Escalate {
        n: u32,
        team: usize,
    },
    DeclareMajor {
        n: u32,
    },
    Link {
        child: u32,
        parent: u32,
    },
    Unlink {
        child: u32,
    },
    Merge {
        duplicate: u32,
        target: u32,
    },
    Update {
        n: u32,
    },
    /// Record an SLA warning (`breach: false`) or breach of clock `resolution` in `cycle`.
    SlaMark {
        n: u32,
        breach: bool,
        cycle: u32,
    },
    Wait {
        hours: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct ModelIncident {
    status: Status,
    team: Option<usize>,
    agent: bool,
    major: bool,
    parent: Option<u32>,
    children: Vec<u32>,
    resolved_at: Option<i64>,
    /// SLA marks recorded: (breach, cycle).
    sla_marks: BTreeSet<(bool, u32)>,
}

#[derive(Debug, Clone)]
struct Model {
    hours: i64,
    incidents: BTreeMap<u32, ModelIncident>,
    /// Whether the last step was accepted.
    accepted: bool,
}

fn open(status: Status) -> bool {
    matches!(status, Status::New | Status::Assigned | Status::InProgress | Status::OnHold)
}

fn live(status: Status) -> bool {
    open(status) || status == Status::Resolved
}

impl Model {
    fn get(&self, n: u32) -> Option<&ModelIncident> {
        self.incidents.get(&n)
    }

    /// The model's rules: returns whether the step is accepted, changing the model if so.
    fn step(&mut self, step: &Step) -> bool {
        let now = self.hours;
        match *step {
            Step::Wait { hours } => {
                self.hours += hours;
                true
            }
            Step::Log { n, team } => {
                if self.incidents.contains_key(&n) {
                    return false;
                }
                let status = if team.is_some() { Status::Assigned } else { Status::New };
                self.incidents.insert(
                    n,
                    ModelIncident {
                        status,
                        team,
                        agent: false,
                        major: false,
                        parent: None,
                        children: vec![],
                        resolved_at: None,
                        sla_marks: BTreeSet::new(),
                    },
                );
                true
            }
            Step::Link { child, parent } => {
                let (Some(c), Some(p)) = (self.get(child), self.get(parent)) else { return false };
                let ok = child != parent
                    && open(c.status)
                    && open(p.status)
                    && c.parent.is_none()
                    && c.children.is_empty()
                    && p.parent.is_none();
                if ok {
                    if let Some(c) = self.incidents.get_mut(&child) {
                        c.parent = Some(parent);
                    }
                    if let Some(p) = self.incidents.get_mut(&parent) {
                        p.children.push(child);
                    }
                }
                ok
            }
            Step::Unlink { child } => {
                let Some(c) = self.get(child) else { return false };
                let Some(parent) = c.parent else { return false };
                let ok = live(c.status) && !self.incidents[&parent].status.is_terminal();
                if ok {
                    if let Some(c) = self.incidents.get_mut(&child) {
                        c.parent = None;
                    }
                    if let Some(p) = self.incidents.get_mut(&parent) {
                        p.children.retain(|x| *x != child);
                    }
                }
                ok
            }
            Step::Merge { duplicate, target } => {
                let (Some(d), Some(t)) = (self.get(duplicate), self.get(target)) else {
                    return false;
                };
                let ok = duplicate != target
                    && open(d.status)
                    && open(t.status)
                    && d.children.is_empty();
                if ok && let Some(d) = self.incidents.get_mut(&duplicate) {
                    d.status = Status::Merged;
                }
                ok
            }
            Step::Resolve { n } => {
                let Some(i) = self.get(n) else { return false };
                if !open(i.status) {
                    return false;
                }
                let children = i.children.clone();
                for id in std::iter::once(n).chain(children) {
                    if let Some(i) = self.incidents.get_mut(&id).filter(|i| open(i.status)) {
                        i.status = Status::Resolved;
                        i.resolved_at = Some(now);
                    }
                }
                true
            }
            _ => {
                let n = match *step {
                    Step::Assign { n, .. }
                    | Step::Route { n, .. }
                    | Step::Start { n }
                    | Step::Hold { n }
                    | Step::Resume { n }
                    | Step::Close { n }
                    | Step::Reopen { n }
                    | Step::Cancel { n }
                    | Step::Escalate { n, .. }
                    | Step::DeclareMajor { n }
                    | Step::Update { n }
                    | Step::SlaMark { n, .. } => n,
                    _ => unreachable!(),
                };
                let Some(i) = self.incidents.get_mut(&n) else { return false };
                single(i, step, now)
            }
        }
    }
}

/// Rules that involve one incident only.
fn single(i: &mut ModelIncident, step: &Step, now: i64) -> bool {
    let s = i.status;
    match *step {
        Step::Assign { team, .. } => {
            let unchanged = s == Status::Assigned && i.team == Some(team) && !i.agent;
            let ok = open(s) && !unchanged;
            if ok {
                (i.status, i.team, i.agent) = (Status::Assigned, Some(team), false);
            }
            ok
        }
        Step::Route { team, .. } => {
            // A decision that moves it assigns like `assign`; any other is only recorded.
            let ok = open(s);
            if let (true, Some(team)) = (ok, team)
                && i.team != Some(team)
            {
                (i.status, i.team, i.agent) = (Status::Assigned, Some(team), false);
            }
            ok
        }
        Step::Start { .. } => transition(i, Status::Assigned, Status::InProgress),
        Step::Hold { .. } => transition(i, Status::InProgress, Status::OnHold),
        Step::Resume { .. } => transition(i, Status::OnHold, Status::InProgress),
        Step::Close { .. } => transition(i, Status::Resolved, Status::Closed),
        Step::Reopen { .. } => {
            let within = i.resolved_at.is_some_and(|at| now - at <= REOPEN_WINDOW_DAYS * 24);
            let ok = s == Status::Resolved || (s == Status::Closed && within);
            if ok {
                i.status = if i.team.is_some() { Status::Assigned } else { Status::New };
                i.resolved_at = None;
            }
            ok
        }
        Step::Cancel { .. } => {
            let ok = open(s) && i.children.is_empty();
            if ok {
                i.status = Status::Cancelled;
            }
            ok
        }
        Step::Escalate { team, .. } => {
            let higher = i.team.is_some_and(|current| TEAMS[team].1 > TEAMS[current].1);
            let ok = open(s) && higher;
            if ok {
                (i.status, i.team, i.agent) = (Status::Assigned, Some(team), false);
            }
            ok
        }
        Step::DeclareMajor { .. } => {
            let ok = open(s) && !i.major;
            i.major |= ok;
            ok
        }
        Step::Update { .. } => live(s),
        Step::SlaMark { breach, cycle, .. } => {
            let ok = !s.is_terminal();
            if ok {
                i.sla_marks.insert((breach, cycle));
            }
            ok
        }
        _ => false,
    }
}

fn transition(i: &mut ModelIncident, from: Status, to: Status) -> bool {
    let ok = i.status == from;
    if ok {
        i.agent |= to == Status::InProgress;
        i.status = to;
    }
    ok
}

struct IncidentModel;

impl ReferenceStateMachine for IncidentModel {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model { hours: 0, incidents: BTreeMap::new(), accepted: true }).boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Step> {
        let n = || 1..=INCIDENTS;
        let team = || 0..TEAMS.len();
        prop_oneof![
            3 => (n(), proptest::option::of(team())).prop_map(|(n, team)| Step::Log { n, team }),
            2 => (n(), team()).prop_map(|(n, team)| Step::Assign { n, team }),
            1 => (n(), proptest::option::of(team())).prop_map(|(n, team)| Step::Route { n, team }),
            2 => n().prop_map(|n| Step::Start { n }),
            1 => n().prop_map(|n| Step::Hold { n }),
            1 => n().prop_map(|n| Step::Resume { n }),
            2 => n().prop_map(|n| Step::Resolve { n }),
            1 => n().prop_map(|n| Step::Close { n }),
            1 => n().prop_map(|n| Step::Reopen { n }),
            1 => n().prop_map(|n| Step::Cancel { n }),
            1 => (n(), team()).prop_map(|(n, team)| Step::Escalate { n, team }),
            1 => n().prop_map(|n| Step::DeclareMajor { n }),
            2 => (n(), n()).prop_map(|(child, parent)| Step::Link { child, parent }),
            1 => n().prop_map(|child| Step::Unlink { child }),
            1 => (n(), n()).prop_map(|(duplicate, target)| Step::Merge { duplicate, target }),
            1 => n().prop_map(|n| Step::Update { n }),
            1 => (n(), any::<bool>(), 1u32..=2).prop_map(|(n, breach, cycle)| Step::SlaMark { n, breach, cycle }),
            1 => prop_oneof![Just(1i64), Just(24), Just(24 * 11)].prop_map(|hours| Step::Wait { hours }),
        ]
        .boxed()
    }

    fn apply(mut state: Model, step: &Step) -> Model {
        state.accepted = state.step(step);
        state
    }
}

/// The incidents under test, each with its stored history, driven the way the `Desk` drives
/// them.
struct Desk {
    config: DeskConfig,
    now: DateTime<Utc>,
    incidents: BTreeMap<IncidentRef, Stored<Incident>>,
}

fn reference(n: u32) -> IncidentRef {
    IncidentRef::from_number(n).unwrap()
}

fn team_id(team: usize) -> TeamId {
    TEAMS[team].0.parse().unwrap()
}

fn agent() -> Actor {
    Actor::Agent("a.patel".parse::<PersonId>().unwrap())
}

impl Desk {
    /// Incident `reference` as it is now, if logged.
    fn get(&self, reference: &IncidentRef) -> Option<&Incident> {
        self.incidents.get(reference).and_then(|stored| stored.state.as_ref())
    }

    /// Every logged incident as it is now.
    fn states(&self) -> BTreeMap<IncidentRef, Incident> {
        self.incidents.keys().filter_map(|r| Some((*r, self.get(r)?.clone()))).collect()
    }

    /// Runs `command` on incident `n` and every follow-up it causes; `Err` if refused.
    fn run(
        &mut self,
        target: IncidentRef,
        command: Command,
        actor: &Actor,
    ) -> Result<(), incident::Error> {
        let mut stored = self.incidents.get(&target).cloned().unwrap_or_default();
        let ctx = Context::new(self.now, actor, &self.config);
        let events = stored.execute(command, ctx)?;
        let next = stored.state.as_ref().expect("an accepted command leaves a record");
        let follow = follow_ups(next, &events);
        self.incidents.insert(target, stored);
        for follow_up in follow {
            self.run(follow_up.target, follow_up.command, &Actor::System)
                .expect("follow-ups of accepted commands are accepted");
        }
        Ok(())
    }

    fn step(&mut self, step: &Step) -> Result<(), incident::Error> {
        let by = agent();
        match *step {
            Step::Wait { hours } => {
                self.now += Duration::hours(hours);
                Ok(())
            }
            Step::Log { n, team } => {
                let new = NewIncident {
                    reference: reference(n),
                    title: format!("Fault {n}"),
                    description: String::new(),
                    channel: Channel::Email,
                    requester: "k.lee".parse().unwrap(),
                    requester_vip: None,
                    category: None,
                    affected_ci: None,
                    impact: Impact::level(2).unwrap(),
                    urgency: Urgency::level(2).unwrap(),
                    assign: team.map(|t| AssignTo { team: team_id(t), agent: None }),
                    resolve: None,
                };
                self.run(reference(n), Command::Log(Box::new(new)), &by)
            }
            Step::Link { child, parent } => {
                let (c, p) = (self.get(&reference(child)), self.get(&reference(parent)));
                let (Some(c), Some(p)) = (c, p) else {
                    return Err(incident::Error::NotLogged { command: "link_parent" });
                };
                incident::check_link(c, p)?;
                self.run(reference(child), Command::LinkParent { parent: reference(parent) }, &by)
            }
            Step::Unlink { child } => {
                let c = self.get(&reference(child)).cloned();
                let Some(c) = c else {
                    return Err(incident::Error::NotLogged { command: "unlink_parent" });
                };
                let Some(parent) = c.parent else {
                    return Err(incident::Error::Nesting(c.reference));
                };
                let p = self.get(&parent).expect("a linked parent is logged");
                incident::check_unlink(&c, p)?;
                self.run(c.reference, Command::UnlinkParent { parent }, &by)
            }
            Step::Merge { duplicate, target } => {
                let (d, t) = (self.get(&reference(duplicate)), self.get(&reference(target)));
                let (Some(d), Some(t)) = (d, t) else {
                    return Err(incident::Error::NotLogged { command: "merge_into" });
                };
                incident::check_merge(d, t)?;
                self.run(
                    reference(duplicate),
                    Command::MergeInto { target: reference(target) },
                    &by,
                )
            }
            Step::Assign { n, team } => self.run(
                reference(n),
                Command::Assign(AssignTo { team: team_id(team), agent: None }),
                &by,
            ),
            Step::Route { n, team } => self.run(
                reference(n),
                Command::Route(Box::new(RoutingDecision {
                    rule: "category-team".into(),
                    team: team.map(team_id),
                    explanation: "the category's team".into(),
                    trace: vec!["matched".into()],
                    ..RoutingDecision::default()
                })),
                &Actor::Rule("category-team".into()),
            ),
            Step::Start { n } => self.run(reference(n), Command::Start { agent: None }, &by),
            Step::Hold { n } => self.run(
                reference(n),
                Command::PutOnHold {
                    reason: HoldReason::AwaitingCustomer,
                    note: "Asked for a photo".into(),
                },
                &by,
            ),
            Step::Resume { n } => {
                self.run(reference(n), Command::Resume { note: String::new() }, &by)
            }
            Step::Resolve { n } => self.run(
                reference(n),
                Command::Resolve { code: "fixed".parse().unwrap(), notes: "Done".into() },
                &by,
            ),
            Step::Close { n } => self.run(reference(n), Command::Close, &by),
            Step::Reopen { n } => {
                self.run(reference(n), Command::Reopen { reason: "Back again".into() }, &by)
            }
            Step::Cancel { n } => {
                self.run(reference(n), Command::Cancel { reason: "Logged twice".into() }, &by)
            }
            Step::Escalate { n, team } => self.run(
                reference(n),
                Command::Escalate(Escalation::Functional {
                    team: team_id(team),
                    agent: None,
                    reason: "Beyond us".into(),
                }),
                &by,
            ),
            Step::DeclareMajor { n } => self.run(
                reference(n),
                Command::DeclareMajor { reason: "Public site down".into() },
                &by,
            ),
            Step::Update { n } => self.run(
                reference(n),
                Command::AddUpdate { visibility: Visibility::Public, text: "Still on it".into() },
                &by,
            ),
            Step::SlaMark { n, breach, cycle } => {
                let clock: ClockId = "resolution".parse().unwrap();
                let command = if breach {
                    Command::RecordSlaBreach { clock, cycle, at: self.now }
                } else {
                    let threshold = Threshold::new(75).unwrap();
                    Command::RecordSlaWarning { clock, cycle, threshold, at: self.now }
                };
                self.run(reference(n), command, &Actor::System)
            }
        }
    }
}

impl StateMachineTest for Desk {
    type SystemUnderTest = Desk;
    type Reference = IncidentModel;

    fn init_test(_: &Model) -> Desk {
        Desk {
            config: DeskConfig::example(),
            now: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().unwrap(),
            incidents: BTreeMap::new(),
        }
    }

    fn apply(mut desk: Desk, model: &Model, step: Step) -> Desk {
        let stored = desk.incidents.clone();
        let before = desk.states();
        let was_closed: Vec<IncidentRef> =
            before.values().filter(|i| i.status == Status::Closed).map(|i| i.reference).collect();
        let open_children: Vec<IncidentRef> = match step {
            Step::Resolve { n } => before
                .get(&reference(n))
                .filter(|p| p.status.is_open())
                .map(|p| {
                    p.children.iter().filter(|c| before[c].status.is_open()).copied().collect()
                })
                .unwrap_or_default(),
            _ => vec![],
        };
        let outcome = desk.step(&step);
        assert_eq!(outcome.is_ok(), model.accepted, "{step:?}: desk said {outcome:?}");
        if outcome.is_err() {
            assert_eq!(desk.incidents, stored, "a refused {step:?} changed something");
        }
        let after = desk.states();
        // A closed incident accepts only the permitted reopen.
        for closed in was_closed {
            let after = &after[&closed];
            if after != &before[&closed] {
                assert!(
                    matches!(step, Step::Reopen { n } if reference(n) == closed),
                    "{step:?} changed closed {closed}"
                );
            }
        }
        // Resolving a parent resolves its open children.
        for child in open_children {
            assert_eq!(
                after[&child].status,
                Status::Resolved,
                "child {child} of a resolved parent"
            );
        }
        desk
    }

    fn check_invariants(desk: &Desk, model: &Model) {
        let incidents = desk.states();
        assert_eq!(incidents.len(), model.incidents.len());
        for (n, expected) in &model.incidents {
            let actual = &incidents[&reference(*n)];
            assert_eq!(actual.status, expected.status, "status of {}", actual.reference);
            assert_eq!(actual.major, expected.major);
            assert_eq!(actual.parent, expected.parent.map(reference));
            assert_eq!(actual.team(), expected.team.map(team_id).as_ref());
            let marks: BTreeSet<(bool, u32)> = actual
                .sla_marks
                .iter()
                .map(|mark| (mark.passed == Passed::Breach, mark.cycle))
                .collect();
            assert_eq!(marks, expected.sla_marks, "SLA marks of {}", actual.reference);
            for child in &actual.children {
                assert_eq!(incidents[child].parent, Some(actual.reference), "links agree");
            }
            // The stored history (every event survived JSON when stored) replays to the
            // incident, which survives JSON.
            desk.incidents[&actual.reference].history();
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn incidents_follow_the_reference_model(sequential 1..60 => Desk);
}
