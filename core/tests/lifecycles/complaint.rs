//! Complaints: lodge, acknowledge, investigate, respond, escalate, close and withdraw, against a
//! reference model under the example council's configuration.
//!
//! Invariants checked after every step: the complainant never handles their own complaint; at
//! stage 2 the handler is not whoever answered stage 1; there is at most one response per stage,
//! stage 1 first; an outcome exists exactly when a response does; a responded complaint's last
//! response is for its current stage; closed and withdrawn complaints accept nothing and record
//! when they ended.

use desk_core::channel::Channel;
use desk_core::complaint::{Command, Complaint, Event, Outcome, Stage, Status};
use desk_core::id::{ComplaintRef, IncidentRef, PersonId, TeamId};
use desk_core::record::Recorded;
use desk_core::{Actor, Visibility};
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

use crate::harness::{ErrorOf, Expect, Lifecycle, Machine, Model, Refused, blank, example};

/// People a complaint can be handed to; the first two also complain.
const PEOPLE: [&str; 4] = ["k.lee", "r.evans", "h.wright", "s.khan"];
/// Teams a complaint can be about: with a lead, without one, and not configured.
const TEAMS: [&str; 4] = ["desk-side", "networks", "supplier-telecoms", "helpdesk"];
/// The complaints lead and the desk manager of the example configuration.
const MANAGER: &str = "s.khan";

/// Who issues a withdraw or comment.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Complainant,
    Stranger,
    Desk,
}

#[derive(Debug, Clone)]
enum Step {
    Lodge { team: Option<usize>, complainant: usize, summary: &'static str },
    Acknowledge,
    Investigate,
    Respond { outcome: Outcome, response: &'static str },
    Escalate { reason: &'static str },
    Reassign { to: usize },
    Close,
    Withdraw { by: Who },
    Comment { by: Who, visibility: Visibility },
}

#[derive(Debug, Clone, PartialEq)]
struct Known {
    status: Status,
    stage: Stage,
    complainant: &'static str,
    handler: String,
    /// Each response's stage and handler.
    responses: Vec<(Stage, String)>,
}

/// The model's routing: the team's lead, else the complaints lead (who is also the manager).
fn expected_handler(team: Option<usize>, complainant: &str) -> String {
    let lead = team
        .and_then(|t| example().teams.iter().find(|c| c.id.as_str() == TEAMS[t]))
        .and_then(|t| t.lead.as_ref())
        .map(ToString::to_string);
    lead.filter(|lead| lead != complainant).unwrap_or_else(|| MANAGER.to_owned())
}

impl Known {
    fn open(&self) -> bool {
        !matches!(self.status, Status::Closed | Status::Withdrawn)
    }

    fn after(&self, step: &Step) -> Option<Known> {
        let mut next = self.clone();
        match step {
            Step::Lodge { .. } => return None,
            Step::Acknowledge if self.status == Status::Received => {
                next.status = Status::Acknowledged
            }
            Step::Investigate if self.status == Status::Acknowledged => {
                next.status = Status::Investigating
            }
            Step::Respond { response, .. } if self.status == Status::Investigating => {
                if blank(response) {
                    return None;
                }
                next.responses.push((self.stage, self.handler.clone()));
                next.status = Status::Responded;
            }
            Step::Escalate { reason } if self.status == Status::Responded => {
                let manager_answered = self.responses.iter().any(|(_, h)| h == MANAGER);
                if self.stage == Stage::Two
                    || blank(reason)
                    || self.handler == MANAGER
                    || manager_answered
                {
                    return None;
                }
                next.stage = Stage::Two;
                next.handler = MANAGER.to_owned();
                next.status = Status::Investigating;
            }
            Step::Close if self.status == Status::Responded => next.status = Status::Closed,
            Step::Reassign { to } if self.open() => {
                let to = PEOPLE[*to];
                let answered_stage_one =
                    self.responses.iter().any(|(stage, h)| *stage == Stage::One && h == to);
                if to == self.complainant
                    || (self.stage == Stage::Two && answered_stage_one && to != self.handler)
                {
                    return None;
                }
                next.handler = to.to_owned();
            }
            Step::Withdraw { by } if self.open() && *by != Who::Stranger => {
                next.status = Status::Withdrawn
            }
            Step::Comment { by, visibility } if self.open() => {
                if *by == Who::Stranger || (*by != Who::Desk && *visibility == Visibility::Internal)
                {
                    return None;
                }
            }
            _ => return None,
        }
        Some(next)
    }
}

struct Complaints;

impl Lifecycle for Complaints {
    type Record = Complaint;
    type Known = Known;
    type Step = Step;
    type Status = Status;
    type Reason = ();

    fn steps(model: &Model<Self>) -> BoxedStrategy<Step> {
        let who = prop_oneof![Just(Who::Complainant), Just(Who::Stranger), Just(Who::Desk)];
        let text = || prop_oneof![4 => Just("Three weeks without a laptop"), 1 => Just(" ")];
        let outcome = prop_oneof![
            Just(Outcome::Upheld),
            Just(Outcome::PartlyUpheld),
            Just(Outcome::NotUpheld)
        ];
        let lodge = (proptest::option::of(0..TEAMS.len()), 0..2usize, text())
            .prop_map(|(team, complainant, summary)| Step::Lodge { team, complainant, summary });
        let visibility = prop_oneof![Just(Visibility::Public), Just(Visibility::Internal)];
        let others = prop_oneof![
            3 => Just(Step::Acknowledge),
            3 => Just(Step::Investigate),
            3 => (outcome, text()).prop_map(|(outcome, response)| Step::Respond { outcome, response }),
            2 => text().prop_map(|reason| Step::Escalate { reason }),
            1 => (0..PEOPLE.len()).prop_map(|to| Step::Reassign { to }),
            1 => Just(Step::Close),
            1 => who.clone().prop_map(|by| Step::Withdraw { by }),
            1 => (who, visibility).prop_map(|(by, visibility)| Step::Comment { by, visibility }),
        ];
        let lodge_weight = if model.record.is_none() { 8 } else { 1 };
        prop_oneof![lodge_weight => lodge, 8 => others].boxed()
    }

    fn expect(model: &Model<Self>, step: &Step) -> Expect<Known, Status> {
        let next = match (&model.record, step) {
            (None, Step::Lodge { team, complainant, summary }) => (!blank(summary)).then(|| {
                let complainant = PEOPLE[*complainant];
                Known {
                    status: Status::Received,
                    stage: Stage::One,
                    complainant,
                    handler: expected_handler(*team, complainant),
                    responses: Vec::new(),
                }
            }),
            (None, _) => None,
            (Some(known), step) => known.after(step),
        };
        Expect::accepted(next)
    }

    fn command(step: &Step, complaint: Option<&Complaint>) -> (Command, Actor) {
        (command(step), actor(step, complaint))
    }

    fn refusal(_: &ErrorOf<Self>) -> Refused<Status> {
        Refused::Other(())
    }

    fn observe(complaint: &Complaint) -> Known {
        Known {
            status: complaint.status(),
            stage: complaint.stage(),
            complainant: PEOPLE
                .iter()
                .find(|p| **p == complaint.complainant().as_str())
                .copied()
                .unwrap(),
            handler: complaint.handler().to_string(),
            responses: complaint
                .responses()
                .iter()
                .map(|r| (r.stage, r.handler.to_string()))
                .collect(),
        }
    }

    fn is_final(complaint: &Complaint) -> bool {
        complaint.status().is_final()
    }

    fn check(_: Option<&Complaint>, complaint: &Complaint, history: &[Recorded<Event>]) {
        assert_ne!(complaint.handler(), complaint.complainant());
        let stages: Vec<Stage> = complaint.responses().iter().map(|r| r.stage).collect();
        assert!(stages.is_empty() || stages == [Stage::One] || stages == [Stage::One, Stage::Two]);
        if complaint.stage() == Stage::Two {
            let first = &complaint.responses()[0];
            assert_ne!(&first.handler, complaint.handler(), "stage 2 is reviewed independently");
            let escalated = history.iter().find_map(|r| match &r.event {
                Event::Escalated { handler, .. } => Some(handler),
                _ => None,
            });
            assert_ne!(escalated, Some(&first.handler), "the reviewer did not answer stage 1");
        }
        assert_eq!(complaint.outcome().is_some(), !complaint.responses().is_empty());
        if complaint.status() == Status::Responded {
            assert_eq!(stages.last(), Some(&complaint.stage()));
        }
        assert_eq!(complaint.ended_at().is_some(), complaint.status().is_final());
    }
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn command(step: &Step) -> Command {
    match step {
        Step::Lodge { team, complainant, summary } => Command::Lodge {
            reference: ComplaintRef::from_number(3).unwrap(),
            about: IncidentRef::from_number(123).unwrap().reference(),
            complainant: person(PEOPLE[*complainant]),
            channel: Channel::Email,
            summary: (*summary).to_owned(),
            details: String::new(),
            team: team.map(|t| TeamId::new(TEAMS[t]).unwrap()),
        },
        Step::Acknowledge => Command::Acknowledge,
        Step::Investigate => Command::StartInvestigation,
        Step::Respond { outcome, response } => {
            Command::Respond { outcome: *outcome, response: (*response).to_owned() }
        }
        Step::Escalate { reason } => Command::Escalate { reason: (*reason).to_owned() },
        Step::Reassign { to } => Command::Reassign { handler: person(PEOPLE[*to]) },
        Step::Close => Command::Close,
        Step::Withdraw { .. } => Command::Withdraw { reason: None },
        Step::Comment { visibility, .. } => {
            Command::Comment { body: "Called the complainant".into(), visibility: *visibility }
        }
    }
}

fn actor(step: &Step, complaint: Option<&Complaint>) -> Actor {
    let by = match step {
        Step::Withdraw { by } | Step::Comment { by, .. } => *by,
        _ => Who::Desk,
    };
    match (by, complaint) {
        (Who::Complainant, Some(complaint)) => Actor::Requester(complaint.complainant().clone()),
        (Who::Stranger, _) | (Who::Complainant, None) => Actor::Requester(person("m.brown")),
        (Who::Desk, _) => Actor::Agent(person("a.patel")),
    }
}

prop_state_machine! {
    #[test]
    fn complaint_lifecycle_follows_the_model(sequential 1..40 => Machine<Complaints>);
}
