//! Service requests: submit, approvals, fulfilment tasks, cancel and close, against a reference
//! model, over every item of the example council's catalogue.
//!
//! Invariants checked after every step:
//! - a request is fulfilled (or closed) exactly when every task is done, and never after a
//!   rejection: a rejected request has no task beyond waiting and nothing recorded after the
//!   rejection;
//! - approvals happen in catalogue order: the granted roles are a prefix of the item's list,
//!   followed by at most one requested or refused, then pending ones;
//! - no task leaves waiting before every approval is given and every task it comes after is done;
//! - final states (rejected, cancelled, closed) accept no command at all.

use desk_core::channel::Channel;
use desk_core::config::ApprovalRole;
use desk_core::id::{CatalogueItemId, PersonId, RequestRef, StepId, TeamId};
use desk_core::record::{EventInfo, Recorded};
use desk_core::request::{
    Beneficiary, Command, Decision, Event, ServiceRequest, Status, TaskState,
};
use desk_core::{Actor, Visibility};
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

use crate::harness::{ErrorOf, Expect, Lifecycle, Machine, Model, Refused, blank, example};

/// Who issues a step.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    /// The requester, `k.lee`.
    Requester,
    /// The new starter the request is for, `s.green`.
    Beneficiary,
    /// Another requester, `m.brown`.
    Stranger,
    /// The requester's line manager, `r.shah`.
    Manager,
    /// A desk agent.
    Desk,
}

impl Who {
    fn actor(self) -> Actor {
        let id = |text: &str| PersonId::new(text).unwrap();
        match self {
            Who::Requester => Actor::Requester(id("k.lee")),
            Who::Beneficiary => Actor::Requester(id("s.green")),
            Who::Stranger => Actor::Requester(id("m.brown")),
            Who::Manager => Actor::Requester(id("r.shah")),
            Who::Desk => Actor::Agent(id("a.patel")),
        }
    }

    /// Whether this person made the request or it is for them.
    fn concerned(self) -> bool {
        matches!(self, Who::Requester | Who::Beneficiary)
    }

    fn is_requester(self) -> bool {
        !matches!(self, Who::Desk)
    }
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        Just(Who::Requester),
        Just(Who::Beneficiary),
        Just(Who::Stranger),
        Just(Who::Manager),
        Just(Who::Desk)
    ]
}

fn role() -> impl Strategy<Value = ApprovalRole> {
    proptest::sample::select(ApprovalRole::ALL.to_vec())
}

/// The catalogue item ids of the example, then one that does not exist.
fn items() -> Vec<String> {
    let mut ids: Vec<String> = example().catalogue.iter().map(|i| i.id.to_string()).collect();
    ids.push("pony".to_owned());
    ids
}

/// The team ids of the example, then one that does not exist.
fn teams() -> Vec<String> {
    let mut ids: Vec<String> = example().teams.iter().map(|t| t.id.to_string()).collect();
    ids.push("helpdesk".to_owned());
    ids
}

#[derive(Debug, Clone)]
enum Step {
    Submit { item: usize },
    Approve { role: ApprovalRole, by: Who },
    Reject { role: ApprovalRole, by: Who, reason: &'static str },
    Start { task: usize },
    Complete { task: usize },
    Reassign { task: usize, team: usize },
    Comment { by: Who, visibility: Visibility },
    Cancel { by: Who },
    Close,
}

/// What the model knows of a request: the item's plan and how far it got.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    status: Status,
    approvals: Vec<ApprovalRole>,
    granted: usize,
    /// Each task: its state, its team, and the indices of the tasks it comes after.
    tasks: Vec<(TaskState, String, Vec<usize>)>,
}

impl Known {
    fn submitted(item: &str) -> Option<Known> {
        let item = example().catalogue.iter().find(|i| i.id.as_str() == item)?;
        let index = |id: &StepId| item.tasks.iter().position(|t| &t.id == id).unwrap();
        let tasks = item
            .tasks
            .iter()
            .map(|t| (TaskState::Waiting, t.team.to_string(), t.after.iter().map(index).collect()))
            .collect();
        let mut known = Known {
            status: Status::AwaitingApproval,
            approvals: item.approvals.clone(),
            granted: 0,
            tasks,
        };
        if known.approvals.is_empty() {
            known.approve();
        }
        Some(known)
    }

    fn approve(&mut self) {
        self.status = Status::Approved;
        self.release();
    }

    /// Readies every waiting task whose predecessors are all done.
    fn release(&mut self) {
        let done: Vec<bool> = self.tasks.iter().map(|t| t.0 == TaskState::Done).collect();
        for task in &mut self.tasks {
            if task.0 == TaskState::Waiting && task.2.iter().all(|before| done[*before]) {
                task.0 = TaskState::Ready;
            }
        }
    }

    fn working(&self) -> bool {
        matches!(self.status, Status::Approved | Status::Fulfilling)
    }

    fn open(&self) -> bool {
        matches!(
            self.status,
            Status::Submitted | Status::AwaitingApproval | Status::Approved | Status::Fulfilling
        )
    }

    /// Whether an approval or rejection by `by` for `role` is the one being waited for.
    fn decision_fits(&self, role: ApprovalRole, by: Who) -> bool {
        self.status == Status::AwaitingApproval
            && self.approvals.get(self.granted) == Some(&role)
            && !by.concerned()
    }

    /// The model's prediction: the next state, or `None` when the step must be refused.
    fn after(&self, step: &Step) -> Option<Known> {
        let mut next = self.clone();
        match step {
            Step::Submit { .. } => return None,
            Step::Approve { role, by } => {
                if !self.decision_fits(*role, *by) {
                    return None;
                }
                next.granted += 1;
                if next.granted == next.approvals.len() {
                    next.approve();
                }
            }
            Step::Reject { role, by, reason } => {
                if !self.decision_fits(*role, *by) || blank(reason) {
                    return None;
                }
                next.status = Status::Rejected;
            }
            Step::Start { task } => {
                if !self.working() || self.tasks.get(*task)?.0 != TaskState::Ready {
                    return None;
                }
                next.tasks[*task].0 = TaskState::InProgress;
                next.status = Status::Fulfilling;
            }
            Step::Complete { task } => {
                let state = self.tasks.get(*task)?.0;
                if !self.working() || !matches!(state, TaskState::Ready | TaskState::InProgress) {
                    return None;
                }
                next.tasks[*task].0 = TaskState::Done;
                next.status = Status::Fulfilling;
                next.release();
                if next.tasks.iter().all(|t| t.0 == TaskState::Done) {
                    next.status = Status::Fulfilled;
                }
            }
            Step::Reassign { task, team } => {
                let known_team = *team < teams().len() - 1;
                if !self.open() || self.tasks.get(*task)?.0 == TaskState::Done || !known_team {
                    return None;
                }
                next.tasks[*task].1 = teams()[*team].clone();
            }
            Step::Comment { by, visibility } => {
                let allowed = self.open() || self.status == Status::Fulfilled;
                let stranger = by.is_requester() && !by.concerned();
                if !allowed
                    || stranger
                    || (by.is_requester() && *visibility == Visibility::Internal)
                {
                    return None;
                }
            }
            Step::Cancel { by } => {
                if !self.open() || (by.is_requester() && !by.concerned()) {
                    return None;
                }
                next.status = Status::Cancelled;
            }
            Step::Close => {
                if self.status != Status::Fulfilled {
                    return None;
                }
                next.status = Status::Closed;
            }
        }
        Some(next)
    }
}

struct Requests;

impl Lifecycle for Requests {
    type Record = ServiceRequest;
    type Known = Known;
    type Step = Step;
    type Status = Status;
    type Reason = ();

    fn steps(model: &Model<Self>) -> BoxedStrategy<Step> {
        let task = 0..4usize;
        let anything = prop_oneof![
            (0..items().len()).prop_map(|item| Step::Submit { item }),
            (role(), who()).prop_map(|(role, by)| Step::Approve { role, by }),
            (role(), who(), prop_oneof![Just("Not in budget"), Just(" ")])
                .prop_map(|(role, by, reason)| Step::Reject { role, by, reason }),
            task.clone().prop_map(|task| Step::Start { task }),
            task.clone().prop_map(|task| Step::Complete { task }),
            (task, 0..teams().len()).prop_map(|(task, team)| Step::Reassign { task, team }),
            (who(), prop_oneof![Just(Visibility::Public), Just(Visibility::Internal)])
                .prop_map(|(by, visibility)| Step::Comment { by, visibility }),
            who().prop_map(|by| Step::Cancel { by }),
            Just(Step::Close),
        ];
        let Some(known) = &model.record else {
            let submit = (0..items().len() - 1).prop_map(|item| Step::Submit { item });
            return prop_oneof![8 => submit, 1 => anything].boxed();
        };
        // Mostly the steps that move the request on, so that deep states are reached.
        let pending =
            known.approvals.get(known.granted).copied().unwrap_or(ApprovalRole::LineManager);
        let tasks = 0..known.tasks.len();
        let progress = prop_oneof![
            6 => Just(Step::Approve { role: pending, by: Who::Manager }),
            1 => Just(Step::Reject { role: pending, by: Who::Manager, reason: "Not in budget" }),
            3 => tasks.clone().prop_map(|task| Step::Start { task }),
            6 => tasks.prop_map(|task| Step::Complete { task }),
            1 => Just(Step::Close),
        ];
        prop_oneof![3 => progress, 2 => anything].boxed()
    }

    fn expect(model: &Model<Self>, step: &Step) -> Expect<Known, Status> {
        let next = match (&model.record, step) {
            (None, Step::Submit { item }) => Known::submitted(&items()[*item]),
            (None, _) => None,
            (Some(known), step) => known.after(step),
        };
        Expect::accepted(next)
    }

    fn command(step: &Step, request: Option<&ServiceRequest>) -> (Command, Actor) {
        (command(step, request), actor(step))
    }

    fn refusal(_: &ErrorOf<Self>) -> Refused<Status> {
        Refused::Other(())
    }

    /// What the model knows of a request, as the request says it.
    fn observe(request: &ServiceRequest) -> Known {
        let position = |id: &StepId| request.tasks().iter().position(|t| &t.id == id).unwrap();
        Known {
            status: request.status(),
            approvals: request.approvals().iter().map(|a| a.role).collect(),
            granted: granted(request).len(),
            tasks: request
                .tasks()
                .iter()
                .map(|t| (t.state, t.team.to_string(), t.after.iter().map(position).collect()))
                .collect(),
        }
    }

    fn is_final(request: &ServiceRequest) -> bool {
        request.status().is_final()
    }

    fn check(_: Option<&ServiceRequest>, request: &ServiceRequest, history: &[Recorded<Event>]) {
        let status = request.status();
        // Fulfilled exactly when every task is done.
        assert_eq!(
            request.all_tasks_done(),
            matches!(status, Status::Fulfilled | Status::Closed),
            "{request:?}"
        );
        // Never fulfilled after a rejection, and a rejection is the last word.
        let names: Vec<&str> = history.iter().map(|r| r.event.name()).collect();
        if let Some(at) = names.iter().position(|n| *n == "rejected") {
            assert_eq!(at, names.len() - 1, "{names:?}");
            assert!(!names.contains(&"fulfilled"));
            assert!(request.tasks().iter().all(|t| t.state == TaskState::Waiting));
            assert_eq!(request.fulfilled_at(), None);
        }
        // Approvals in catalogue order: granted*, then at most one requested or refused, then pending.
        let granted = granted(request);
        let roles: Vec<ApprovalRole> = request.approvals().iter().map(|a| a.role).collect();
        assert_eq!(granted.as_slice(), &roles[..granted.len()]);
        let rest = &request.approvals()[granted.len()..];
        if let Some((first, later)) = rest.split_first() {
            assert!(!matches!(first.decision, Decision::Granted { .. }));
            assert!(later.iter().all(|a| a.decision == Decision::Pending), "{rest:?}");
        }
        let events_granted: Vec<&str> =
            names.iter().copied().filter(|n| *n == "approval_granted").collect();
        assert_eq!(events_granted.len(), granted.len());
        // No task moves before approval, nor before the tasks it comes after are done.
        let all_approved = granted.len() == roles.len();
        for task in request.tasks() {
            if task.state != TaskState::Waiting {
                assert!(all_approved, "{request:?}");
                for before in &task.after {
                    assert_eq!(request.task(before).map(|t| t.state), Some(TaskState::Done));
                }
            }
        }
    }
}

/// The command of `step` for `request`, whose tasks the step names by position (a position past
/// the item's tasks names a task it does not have).
fn command(step: &Step, request: Option<&ServiceRequest>) -> Command {
    let task_id = |index: usize| match request.and_then(|r| r.tasks().get(index)) {
        Some(task) => task.id.clone(),
        None => StepId::new("no-such-task").unwrap(),
    };
    match step {
        Step::Submit { item } => Command::Submit {
            reference: RequestRef::from_number(7).unwrap(),
            item: CatalogueItemId::new(items()[*item].as_str()).unwrap(),
            requester: PersonId::new("k.lee").unwrap(),
            on_behalf_of: Some(Beneficiary {
                name: "Sam Green".into(),
                person: Some(PersonId::new("s.green").unwrap()),
            }),
            details: "Starts on 1 June".into(),
            channel: Channel::SelfService,
        },
        Step::Approve { role, by } => {
            Command::Approve { role: *role, approver: by.actor(), note: None }
        }
        Step::Reject { role, by, reason } => {
            Command::Reject { role: *role, approver: by.actor(), reason: (*reason).to_owned() }
        }
        Step::Start { task } => Command::StartTask { task: task_id(*task) },
        Step::Complete { task } => Command::CompleteTask { task: task_id(*task), note: None },
        Step::Reassign { task, team } => Command::ReassignTask {
            task: task_id(*task),
            team: TeamId::new(teams()[*team].as_str()).unwrap(),
        },
        Step::Comment { visibility, .. } => {
            Command::Comment { body: "Any news?".into(), visibility: *visibility }
        }
        Step::Cancel { .. } => Command::Cancel { reason: "No longer needed".into() },
        Step::Close => Command::Close,
    }
}

/// Who issues a step's command.
fn actor(step: &Step) -> Actor {
    match step {
        Step::Comment { by, .. } | Step::Cancel { by } => by.actor(),
        _ => Who::Desk.actor(),
    }
}

/// The roles granted so far, in order.
fn granted(request: &ServiceRequest) -> Vec<ApprovalRole> {
    request
        .approvals()
        .iter()
        .take_while(|a| matches!(a.decision, Decision::Granted { .. }))
        .map(|a| a.role)
        .collect()
}

prop_state_machine! {
    #[test]
    fn service_request_lifecycle_follows_the_model(sequential 1..40 => Machine<Requests>);
}
