//! Agent records: onboard, teams, skills, on call, offboard and reinstate, against a reference
//! model.
//!
//! Invariants: an agent only belongs to configured teams; their tiers are their teams' tiers; an
//! agent on call is active and in a team; an offboarded agent accepts nothing but reinstate.

use std::collections::BTreeSet;

use desk_core::Actor;
use desk_core::id::{PersonId, Skill, TeamId};
use desk_core::people::agent::{Command, Event, Status};
use desk_core::people::{Agent, Contact, ContactChanges, Email, Phone};
use desk_core::record::Recorded;
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

use crate::harness::{ErrorOf, Expect, Lifecycle, Machine, Model, Refused, example};

/// Teams the steps pick from: the last is not configured.
const TEAMS: [&str; 4] = ["service-desk", "networks", "supplier-telecoms", "helpdesk"];
const SKILLS: [&str; 2] = ["cisco", "welsh-language"];

fn configured(team: usize) -> bool {
    team < TEAMS.len() - 1
}

#[derive(Debug, Clone, PartialEq)]
struct Known {
    active: bool,
    teams: BTreeSet<usize>,
    skills: BTreeSet<usize>,
    on_call: bool,
    phone: bool,
}

#[derive(Debug, Clone)]
enum Step {
    Onboard { teams: BTreeSet<usize>, phone: bool },
    ClearEmail,
    JoinTeam(usize),
    LeaveTeam(usize),
    AddSkill(usize),
    RemoveSkill(usize),
    GoOnCall,
    GoOffCall,
    Offboard,
    Reinstate,
}

struct Agents;

impl Lifecycle for Agents {
    type Record = Agent;
    type Known = Known;
    type Step = Step;
    type Status = Status;
    type Reason = ();

    fn steps(model: &Model<Self>) -> BoxedStrategy<Step> {
        let team = 0..TEAMS.len();
        let skill = 0..SKILLS.len();
        let onboard = (proptest::collection::btree_set(team.clone(), 0..3), any::<bool>())
            .prop_map(|(teams, phone)| Step::Onboard { teams, phone });
        let others = prop_oneof![
            1 => Just(Step::ClearEmail),
            3 => team.clone().prop_map(Step::JoinTeam),
            2 => team.prop_map(Step::LeaveTeam),
            1 => skill.clone().prop_map(Step::AddSkill),
            1 => skill.prop_map(Step::RemoveSkill),
            2 => Just(Step::GoOnCall),
            1 => Just(Step::GoOffCall),
            1 => Just(Step::Offboard),
            1 => Just(Step::Reinstate),
        ];
        let onboard_weight = if model.record.is_none() { 6 } else { 1 };
        prop_oneof![onboard_weight => onboard, 6 => others].boxed()
    }

    fn expect(model: &Model<Self>, step: &Step) -> Expect<Known, Status> {
        let next = match (model.record.clone(), step) {
            (None, Step::Onboard { teams, phone }) => {
                teams.iter().all(|t| configured(*t)).then(|| Known {
                    active: true,
                    teams: teams.clone(),
                    skills: BTreeSet::new(),
                    on_call: false,
                    phone: *phone,
                })
            }
            (Some(known), Step::Reinstate) if !known.active => {
                Some(Known { active: true, ..known })
            }
            (None, _) | (Some(_), Step::Onboard { .. } | Step::Reinstate) => None,
            (Some(known), _) if !known.active => None,
            (Some(known), Step::ClearEmail) => known.phone.then_some(known),
            (Some(mut known), Step::JoinTeam(team)) => {
                (known.teams.contains(team) || configured(*team)).then(|| {
                    known.teams.insert(*team);
                    known
                })
            }
            (Some(mut known), Step::LeaveTeam(team)) => {
                known.teams.remove(team);
                known.on_call &= !known.teams.is_empty();
                Some(known)
            }
            (Some(mut known), Step::AddSkill(skill)) => {
                known.skills.insert(*skill);
                Some(known)
            }
            (Some(mut known), Step::RemoveSkill(skill)) => {
                known.skills.remove(skill);
                Some(known)
            }
            (Some(known), Step::GoOnCall) => (known.on_call || !known.teams.is_empty())
                .then_some(Known { on_call: true, ..known }),
            (Some(known), Step::GoOffCall) => Some(Known { on_call: false, ..known }),
            (Some(known), Step::Offboard) => Some(Known { active: false, on_call: false, ..known }),
        };
        Expect::accepted(next)
    }

    fn command(step: &Step, _: Option<&Agent>) -> (Command, Actor) {
        (command(step), Actor::Agent(PersonId::new("a.patel").unwrap()))
    }

    fn refusal(_: &ErrorOf<Self>) -> Refused<Status> {
        Refused::Other(())
    }

    fn observe(agent: &Agent) -> Known {
        Known {
            active: agent.status() == Status::Active,
            teams: (0..TEAMS.len()).filter(|t| agent.in_team(&team(*t))).collect(),
            skills: (0..SKILLS.len()).filter(|s| agent.has_skill(&skill(*s))).collect(),
            on_call: agent.is_on_call(),
            phone: agent.phone().is_some(),
        }
    }

    fn check(_: Option<&Agent>, agent: &Agent, _: &[Recorded<Event>]) {
        let config = example();
        assert!(agent.teams().iter().all(|team| config.team(team).is_some()), "{agent:?}");
        let tiers: BTreeSet<_> =
            agent.teams().iter().filter_map(|t| config.team(t)).map(|t| t.tier).collect();
        assert_eq!(agent.tiers(config), tiers);
        if agent.is_on_call() {
            assert_eq!(agent.status(), Status::Active);
            assert!(!agent.teams().is_empty());
        }
        assert!(agent.email().is_some() || agent.phone().is_some());
    }
}

fn team(index: usize) -> TeamId {
    TeamId::new(TEAMS[index]).unwrap()
}

fn skill(index: usize) -> Skill {
    Skill::new(SKILLS[index]).unwrap()
}

fn command(step: &Step) -> Command {
    match step {
        Step::Onboard { teams, phone } => Command::Onboard {
            id: PersonId::new("j.smith").unwrap(),
            contact: Contact {
                name: "Jo Smith".into(),
                email: Some(Email::new("j.smith@example.gov.uk").unwrap()),
                phone: phone.then(|| Phone::new("x4321").unwrap()),
            },
            teams: teams.iter().map(|t| team(*t)).collect(),
            skills: BTreeSet::new(),
        },
        Step::ClearEmail => Command::UpdateDetails {
            changes: ContactChanges { email: Some(None), ..ContactChanges::default() },
        },
        Step::JoinTeam(t) => Command::JoinTeam { team: team(*t) },
        Step::LeaveTeam(t) => Command::LeaveTeam { team: team(*t) },
        Step::AddSkill(s) => Command::AddSkill { skill: skill(*s) },
        Step::RemoveSkill(s) => Command::RemoveSkill { skill: skill(*s) },
        Step::GoOnCall => Command::GoOnCall,
        Step::GoOffCall => Command::GoOffCall,
        Step::Offboard => Command::Offboard,
        Step::Reinstate => Command::Reinstate,
    }
}

prop_state_machine! {
    #[test]
    fn agent_lifecycle_follows_the_model(sequential 1..40 => Machine<Agents>);
}
