//! Service requests: asking for something standard from the catalogue.
//!
//! A request names a [`CatalogueItem`] (new starter, leaver, mailbox permission, …). The item
//! says which approvals are needed, in order, and which fulfilment tasks follow, each with its
//! team and the tasks it waits for. Both are copied into the request when it is submitted, so a
//! later change to the catalogue never changes a request already under way, and a request's
//! history replays without the configuration.
//!
//! Lifecycle ([`Status`]):
//!
//! ```text
//! submitted → awaiting approval → approved → fulfilling → fulfilled → closed
//!                    ↓                ↓           ↓
//!                 rejected         cancelled   cancelled      (cancelled also from awaiting approval)
//! ```
//!
//! - **Submit** records the request and asks for the first approval; an item with no approvals is
//!   approved at once.
//! - **Approve / Reject** name the role and the approver. Approvals are sought one at a time in
//!   catalogue order; the last one approves the request. Any rejection ends it: rejected is
//!   final. Nobody approves or rejects their own request (or one made for them).
//! - **Tasks** ([`TaskState`]): waiting (for approval, or for the tasks named in `after`) →
//!   ready → in progress → done. Approval makes the tasks with nothing to wait for ready;
//!   finishing a task makes ready the tasks that were waiting only for it. A task can be passed
//!   to another configured team until it is done. Starting (or finishing) the first task moves
//!   the request to fulfilling; finishing the last one fulfils it, in the same decision.
//! - **Cancel** (by the requester, the person it is for, or the desk) is possible until the
//!   request is fulfilled. **Close** follows fulfilment. Rejected, cancelled and closed requests
//!   accept nothing more.
//! - **Comment** adds a customer-visible update or an internal work note ([`Visibility`]);
//!   requesters cannot write internal notes, nor comment on requests that are not theirs.
//!
//! JSON shapes: commands and events are objects tagged by `type` (see [`Command`] and
//! [`Event`]); the record is a [`ServiceRequest`] object.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::config::{ApprovalRole, CatalogueItem, TaskTemplate};
use crate::id::{CatalogueItemId, PersonId, RecordId, RequestRef, StepId, TeamId};
use crate::record::{
    Actor, Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};

/// Where a service request is in its life.
///
/// JSON shape: `"submitted"`, `"awaiting_approval"`, `"approved"`, `"rejected"`,
/// `"fulfilling"`, `"fulfilled"`, `"closed"` or `"cancelled"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Recorded; about to be sent for approval.
    Submitted,
    /// Waiting for the approval named by [`ServiceRequest::pending_approval`].
    AwaitingApproval,
    /// Every approval given; no task started yet.
    Approved,
    /// An approver said no. Final.
    Rejected,
    /// At least one task started.
    Fulfilling,
    /// Every task done.
    Fulfilled,
    /// Finished with. Final.
    Closed,
    /// Withdrawn before fulfilment. Final.
    Cancelled,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 8] = [
        Status::Submitted,
        Status::AwaitingApproval,
        Status::Approved,
        Status::Rejected,
        Status::Fulfilling,
        Status::Fulfilled,
        Status::Closed,
        Status::Cancelled,
    ];

    /// Whether the request accepts no more commands.
    pub const fn is_final(self) -> bool {
        matches!(self, Status::Rejected | Status::Closed | Status::Cancelled)
    }

    /// Whether the request is still on its way to fulfilment (and may be cancelled).
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::AwaitingApproval | Status::Approved | Status::Fulfilling
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Submitted => "submitted",
            Status::AwaitingApproval => "awaiting approval",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Fulfilling => "being fulfilled",
            Status::Fulfilled => "fulfilled",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        })
    }
}

/// The person a request is for, when it is not the requester (a new starter, a leaver).
///
/// A new starter may have no identifier yet, so only the name is required.
///
/// JSON shape: `{"name": "Sam Green", "person": "s.green"}` (`person` may be absent or `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    /// Their name.
    pub name: String,
    /// Their identifier, if they have one.
    #[serde(default)]
    pub person: Option<PersonId>,
}

/// One approval a request needs, and what has become of it.
///
/// JSON shape: `{"role": "line_manager", "decision": {"state": "granted", ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Who must approve.
    pub role: ApprovalRole,
    /// What they decided, so far.
    pub decision: Decision,
}

/// The state of one approval.
///
/// JSON shape: `{"state": "pending"}`, `{"state": "requested", "at": "..."}`,
/// `{"state": "granted", "approver": {...}, "at": "...", "note": null}`,
/// `{"state": "refused", "approver": {...}, "at": "...", "reason": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Decision {
    /// Not asked yet: an earlier approval comes first.
    Pending,
    /// Asked for; waiting for the approver.
    Requested {
        /// When it was asked for.
        at: Timestamp,
    },
    /// Given.
    Granted {
        /// Who approved.
        approver: Actor,
        /// When.
        at: Timestamp,
        /// What they added, if anything.
        note: Option<String>,
    },
    /// Refused: the request was rejected.
    Refused {
        /// Who refused.
        approver: Actor,
        /// When.
        at: Timestamp,
        /// Why.
        reason: String,
    },
}

/// Where a fulfilment task is.
///
/// JSON shape: `"waiting"`, `"ready"`, `"in_progress"` or `"done"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Waiting for approval of the request, or for the tasks it comes after.
    Waiting,
    /// In its team's queue.
    Ready,
    /// Someone is working on it.
    InProgress,
    /// Finished.
    Done,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Waiting => "waiting",
            TaskState::Ready => "ready",
            TaskState::InProgress => "in progress",
            TaskState::Done => "done",
        })
    }
}

/// One fulfilment task of a request, made from a catalogue [`TaskTemplate`].
///
/// JSON shape: `{"id": "laptop", "name": "...", "team": "desk-side", "after": ["account"],
/// "state": "waiting", "done_at": null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Its identifier within the request.
    pub id: StepId,
    /// What is to be done.
    pub name: String,
    /// The team that does it now.
    pub team: TeamId,
    /// The tasks that must be done first.
    pub after: Vec<StepId>,
    /// Where it is.
    pub state: TaskState,
    /// When it was finished.
    pub done_at: Option<Timestamp>,
}

/// A service request.
///
/// JSON shape: `{"reference": "REQ-000123", "item": "new-starter", "title": "New starter",
/// "requester": "r.shah", "on_behalf_of": {...} | null, "details": "...", "channel": "email",
/// "status": "awaiting_approval", "approvals": [...], "tasks": [...],
/// "submitted_at": "...", "updated_at": "...", "fulfilled_at": null, "ended_at": null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRequest {
    reference: RequestRef,
    item: CatalogueItemId,
    title: String,
    requester: PersonId,
    on_behalf_of: Option<Beneficiary>,
    details: String,
    channel: Channel,
    status: Status,
    approvals: Vec<Approval>,
    tasks: Vec<Task>,
    submitted_at: Timestamp,
    updated_at: Timestamp,
    fulfilled_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
}

impl ServiceRequest {
    /// Its reference.
    pub fn reference(&self) -> RequestRef {
        self.reference
    }

    /// The catalogue item requested.
    pub fn item(&self) -> &CatalogueItemId {
        &self.item
    }

    /// The item's name when the request was submitted.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Who asked.
    pub fn requester(&self) -> &PersonId {
        &self.requester
    }

    /// Who it is for, when that is someone else.
    pub fn on_behalf_of(&self) -> Option<&Beneficiary> {
        self.on_behalf_of.as_ref()
    }

    /// What the requester wrote.
    pub fn details(&self) -> &str {
        &self.details
    }

    /// How it arrived.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// Where it is in its life.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The approvals it needs, in the order they are sought.
    pub fn approvals(&self) -> &[Approval] {
        &self.approvals
    }

    /// The approval being waited for, if any.
    pub fn pending_approval(&self) -> Option<ApprovalRole> {
        self.requested_approval().map(|(_, approval)| approval.role)
    }

    /// Its fulfilment tasks.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The task called `id`.
    pub fn task(&self, id: &StepId) -> Option<&Task> {
        self.tasks.iter().find(|task| &task.id == id)
    }

    /// Whether every task is done.
    pub fn all_tasks_done(&self) -> bool {
        self.tasks.iter().all(|task| task.state == TaskState::Done)
    }

    /// When it was submitted.
    pub fn submitted_at(&self) -> Timestamp {
        self.submitted_at
    }

    /// When anything last happened to it.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    /// When its last task was done.
    pub fn fulfilled_at(&self) -> Option<Timestamp> {
        self.fulfilled_at
    }

    /// When it was rejected, cancelled or closed.
    pub fn ended_at(&self) -> Option<Timestamp> {
        self.ended_at
    }

    fn requested_approval(&self) -> Option<(usize, &Approval)> {
        self.approvals
            .iter()
            .enumerate()
            .find(|(_, approval)| matches!(approval.decision, Decision::Requested { .. }))
    }

    fn task_index(&self, id: &StepId) -> Result<usize, Error> {
        self.tasks
            .iter()
            .position(|task| &task.id == id)
            .ok_or_else(|| Error::UnknownTask { reference: self.reference, task: id.clone() })
    }
}

/// What can be asked of a service request.
///
/// JSON shape, by `type`:
/// `{"type": "submit", "reference": "REQ-000123", "item": "new-starter", "requester": "r.shah",
///   "on_behalf_of": {"name": "Sam Green"}, "details": "Starts 1 June", "channel": "self_service"}`,
/// `{"type": "approve", "role": "line_manager", "approver": {"kind": "requester", "id": "r.shah"},
///   "note": null}`, `{"type": "reject", "role": ..., "approver": ..., "reason": "..."}`,
/// `{"type": "start_task", "task": "account"}`, `{"type": "complete_task", "task": ..., "note": null}`,
/// `{"type": "reassign_task", "task": ..., "team": "workstations"}`,
/// `{"type": "comment", "body": "...", "visibility": "public"}`, `{"type": "cancel", "reason": "..."}`,
/// `{"type": "close"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Record a new request for a catalogue item.
    Submit {
        /// The reference allocated for it.
        reference: RequestRef,
        /// The catalogue item.
        item: CatalogueItemId,
        /// Who is asking.
        requester: PersonId,
        /// Who it is for, when that is someone else.
        #[serde(default)]
        on_behalf_of: Option<Beneficiary>,
        /// What the requester wrote (dates, names, anything the fulfillers need).
        #[serde(default)]
        details: String,
        /// How it arrived.
        channel: Channel,
    },
    /// Give the approval being waited for.
    Approve {
        /// The role approving; must be the one being waited for.
        role: ApprovalRole,
        /// Who approved (possibly recorded by the desk on their behalf).
        approver: Actor,
        /// What they added, if anything.
        #[serde(default)]
        note: Option<String>,
    },
    /// Refuse the approval being waited for, which rejects the request.
    Reject {
        /// The role refusing; must be the one being waited for.
        role: ApprovalRole,
        /// Who refused.
        approver: Actor,
        /// Why.
        reason: String,
    },
    /// Start work on a ready task.
    StartTask {
        /// The task.
        task: StepId,
    },
    /// Finish a ready or started task.
    CompleteTask {
        /// The task.
        task: StepId,
        /// What was done, if worth saying.
        #[serde(default)]
        note: Option<String>,
    },
    /// Pass a task that is not done to another team.
    ReassignTask {
        /// The task.
        task: StepId,
        /// The configured team that takes it.
        team: TeamId,
    },
    /// Add an update for the requester, or an internal work note.
    Comment {
        /// The text.
        body: String,
        /// Who may read it.
        visibility: Visibility,
    },
    /// Withdraw the request before it is fulfilled.
    Cancel {
        /// Why.
        reason: String,
    },
    /// Finish with a fulfilled request.
    Close,
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Submit { .. } => "submit",
            Command::Approve { .. } => "approve",
            Command::Reject { .. } => "reject",
            Command::StartTask { .. } => "start_task",
            Command::CompleteTask { .. } => "complete_task",
            Command::ReassignTask { .. } => "reassign_task",
            Command::Comment { .. } => "comment",
            Command::Cancel { .. } => "cancel",
            Command::Close => "close",
        }
    }
}

/// What happened to a service request.
///
/// JSON shape, by `type`: `submitted` (the [`Command::Submit`] fields plus `title`, `approvals`
/// — a list of roles — and `tasks` — a list of catalogue task templates), `approval_requested`
/// `{role}`, `approval_granted` `{role, approver, note}`, `approved`, `rejected`
/// `{role, approver, reason}`, `task_ready` `{task}`, `fulfilment_started`, `task_started`
/// `{task}`, `task_completed` `{task, note}`, `task_reassigned` `{task, from, to}`, `fulfilled`,
/// `closed`, `cancelled` `{by, reason}`, `commented` `{body, visibility}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The request was recorded, with its item's approvals and tasks as they stood.
    Submitted {
        /// Its reference.
        reference: RequestRef,
        /// The catalogue item.
        item: CatalogueItemId,
        /// The item's name.
        title: String,
        /// Who asked.
        requester: PersonId,
        /// Who it is for.
        on_behalf_of: Option<Beneficiary>,
        /// What the requester wrote.
        details: String,
        /// How it arrived.
        channel: Channel,
        /// The approvals needed, in order.
        approvals: Vec<ApprovalRole>,
        /// The fulfilment tasks.
        tasks: Vec<TaskTemplate>,
    },
    /// An approval was asked for.
    ApprovalRequested {
        /// Who must approve.
        role: ApprovalRole,
    },
    /// An approval was given.
    ApprovalGranted {
        /// The role that approved.
        role: ApprovalRole,
        /// Who approved.
        approver: Actor,
        /// What they added.
        note: Option<String>,
    },
    /// Every approval was given (or none was needed).
    Approved,
    /// An approval was refused, ending the request.
    Rejected {
        /// The role that refused.
        role: ApprovalRole,
        /// Who refused.
        approver: Actor,
        /// Why.
        reason: String,
    },
    /// A task has nothing left to wait for.
    TaskReady {
        /// The task.
        task: StepId,
    },
    /// Work began on the first task.
    FulfilmentStarted,
    /// Work began on a task.
    TaskStarted {
        /// The task.
        task: StepId,
    },
    /// A task was finished.
    TaskCompleted {
        /// The task.
        task: StepId,
        /// What was done.
        note: Option<String>,
    },
    /// A task moved to another team.
    TaskReassigned {
        /// The task.
        task: StepId,
        /// The team that had it.
        from: TeamId,
        /// The team that has it now.
        to: TeamId,
    },
    /// Every task is done.
    Fulfilled,
    /// The request was finished with.
    Closed,
    /// The request was withdrawn.
    Cancelled {
        /// Who withdrew it.
        by: Actor,
        /// Why.
        reason: String,
    },
    /// An update or work note was added.
    Commented {
        /// The text.
        body: String,
        /// Who may read it.
        visibility: Visibility,
    },
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "submitted",
            Event::ApprovalRequested { .. } => "approval_requested",
            Event::ApprovalGranted { .. } => "approval_granted",
            Event::Approved => "approved",
            Event::Rejected { .. } => "rejected",
            Event::TaskReady { .. } => "task_ready",
            Event::FulfilmentStarted => "fulfilment_started",
            Event::TaskStarted { .. } => "task_started",
            Event::TaskCompleted { .. } => "task_completed",
            Event::TaskReassigned { .. } => "task_reassigned",
            Event::Fulfilled => "fulfilled",
            Event::Closed => "closed",
            Event::Cancelled { .. } => "cancelled",
            Event::Commented { .. } => "commented",
        }
    }

    /// Queue movements are internal; everything the requester waits on is public.
    fn visibility(&self) -> Visibility {
        match self {
            Event::Commented { visibility, .. } => *visibility,
            Event::TaskReady { .. } | Event::TaskStarted { .. } | Event::TaskReassigned { .. } => {
                Visibility::Internal
            }
            _ => Visibility::Public,
        }
    }
}

/// Why a service-request command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request with this reference exists already.
    #[error("{reference} has already been submitted")]
    AlreadySubmitted {
        /// The request.
        reference: RequestRef,
    },
    /// The request does not exist yet.
    #[error("cannot {command} a service request that has not been submitted")]
    NotSubmitted {
        /// The command refused.
        command: &'static str,
    },
    /// The catalogue has no such item.
    #[error("the catalogue has no item `{item}`")]
    UnknownItem {
        /// The item asked for.
        item: CatalogueItemId,
    },
    /// The catalogue item cannot be fulfilled as configured.
    #[error("catalogue item `{item}` cannot be requested: {reason}")]
    UnusableItem {
        /// The item.
        item: CatalogueItemId,
        /// What is wrong with it.
        reason: String,
    },
    /// The command is not allowed in the request's state.
    #[error("cannot {command} {reference} while it is {state}")]
    InvalidTransition {
        /// The request.
        reference: RequestRef,
        /// Its status.
        state: Status,
        /// The command refused.
        command: &'static str,
    },
    /// An approval was given or refused by a role other than the one being waited for.
    #[error("{reference} is waiting for {expected} approval, not {given}")]
    UnexpectedApproval {
        /// The request.
        reference: RequestRef,
        /// The role being waited for.
        expected: ApprovalRole,
        /// The role named.
        given: ApprovalRole,
    },
    /// Someone tried to approve or reject a request they made or that is for them.
    #[error("{person} cannot approve or reject {reference}: it is their own request")]
    OwnRequest {
        /// The request.
        reference: RequestRef,
        /// The would-be approver.
        person: PersonId,
    },
    /// The request has no such task.
    #[error("{reference} has no task `{task}`")]
    UnknownTask {
        /// The request.
        reference: RequestRef,
        /// The task named.
        task: StepId,
    },
    /// The command is not allowed in the task's state.
    #[error("cannot {command} task `{task}` of {reference} while it is {state}")]
    InvalidTaskTransition {
        /// The request.
        reference: RequestRef,
        /// The task.
        task: StepId,
        /// Its state.
        state: TaskState,
        /// The command refused.
        command: &'static str,
    },
    /// The team is not declared in the configuration.
    #[error("cannot pass a task of {reference} to unknown team `{team}`")]
    UnknownTeam {
        /// The request.
        reference: RequestRef,
        /// The team named.
        team: TeamId,
    },
    /// A required text is empty.
    #[error("{field} is needed")]
    Blank {
        /// Which text, e.g. `reason`.
        field: &'static str,
    },
    /// A requester tried to write an internal work note.
    #[error("a requester cannot add an internal work note to {reference}")]
    InternalNoteByRequester {
        /// The request.
        reference: RequestRef,
    },
    /// A requester tried to cancel or comment on someone else's request.
    #[error("{person} cannot {command} {reference}: it is not their request")]
    NotTheirRequest {
        /// The request.
        reference: RequestRef,
        /// The requester who tried.
        person: PersonId,
        /// The command refused.
        command: &'static str,
    },
}

/// Whether `command` may act on a request in `status`: the state table in one place.
fn permits(status: Status, command: &Command) -> bool {
    match command {
        Command::Submit { .. } => false,
        Command::Approve { .. } | Command::Reject { .. } => status == Status::AwaitingApproval,
        Command::StartTask { .. } | Command::CompleteTask { .. } => {
            matches!(status, Status::Approved | Status::Fulfilling)
        }
        Command::ReassignTask { .. } | Command::Cancel { .. } => status.is_open(),
        Command::Comment { .. } => status.is_open() || status == Status::Fulfilled,
        Command::Close => status == Status::Fulfilled,
    }
}

/// `text` trimmed, refused when blank.
fn required(field: &'static str, text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.is_empty() { Err(Error::Blank { field }) } else { Ok(text.to_owned()) }
}

/// An optional note, trimmed; a blank one is no note.
fn note(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
}

/// The events of a request becoming approved: `Approved`, then every task with nothing to wait for.
fn approval_complete<'a>(
    tasks: impl IntoIterator<Item = (&'a StepId, &'a [StepId])>,
) -> Vec<Event> {
    let ready = tasks.into_iter().filter(|(_, after)| after.is_empty());
    [Event::Approved]
        .into_iter()
        .chain(ready.map(|(id, _)| Event::TaskReady { task: id.clone() }))
        .collect()
}

/// Why `item` cannot be requested, if it cannot: no tasks, or a task waiting for one not before it.
fn unusable(item: &CatalogueItem) -> Option<String> {
    if item.tasks.is_empty() {
        return Some("it has no fulfilment tasks".to_owned());
    }
    item.tasks.iter().enumerate().find_map(|(n, task)| {
        let missing = task.after.iter().find(|id| !item.tasks[..n].iter().any(|t| &t.id == *id))?;
        Some(format!("task `{}` waits for `{missing}`, which does not come before it", task.id))
    })
}

impl ServiceRequest {
    fn submit(command: Command, ctx: Context<'_>) -> Result<Vec<Event>, Error> {
        let Command::Submit { reference, item, requester, on_behalf_of, details, channel } =
            command
        else {
            return Err(Error::NotSubmitted { command: command.name() });
        };
        let catalogue_item = ctx
            .config
            .catalogue_item(&item)
            .ok_or_else(|| Error::UnknownItem { item: item.clone() })?;
        if let Some(reason) = unusable(catalogue_item) {
            return Err(Error::UnusableItem { item, reason });
        }
        let on_behalf_of = on_behalf_of
            .map(|b| {
                Ok::<_, Error>(Beneficiary { name: required("on_behalf_of.name", &b.name)?, ..b })
            })
            .transpose()?;
        let mut events = vec![Event::Submitted {
            reference,
            item,
            title: catalogue_item.name.clone(),
            requester,
            on_behalf_of,
            details: details.trim().to_owned(),
            channel,
            approvals: catalogue_item.approvals.clone(),
            tasks: catalogue_item.tasks.clone(),
        }];
        match catalogue_item.approvals.first() {
            Some(role) => events.push(Event::ApprovalRequested { role: *role }),
            None => events.extend(approval_complete(
                catalogue_item.tasks.iter().map(|t| (&t.id, t.after.as_slice())),
            )),
        }
        Ok(events)
    }

    fn refuse(&self, command: &'static str) -> Error {
        Error::InvalidTransition { reference: self.reference, state: self.status, command }
    }

    /// The approval being waited for, checked against the role and approver a command names.
    fn deciding(
        &self,
        role: ApprovalRole,
        approver: &Actor,
        command: &'static str,
    ) -> Result<usize, Error> {
        let (index, approval) = self.requested_approval().ok_or_else(|| self.refuse(command))?;
        if approval.role != role {
            return Err(Error::UnexpectedApproval {
                reference: self.reference,
                expected: approval.role,
                given: role,
            });
        }
        if let Some(person) = approver.person().filter(|person| self.concerns(person)) {
            return Err(Error::OwnRequest { reference: self.reference, person: person.clone() });
        }
        Ok(index)
    }

    /// Refuses a requester acting on a request that is neither theirs nor for them.
    fn check_requester(&self, actor: &Actor, command: &'static str) -> Result<(), Error> {
        match actor {
            Actor::Requester(person) if !self.concerns(person) => Err(Error::NotTheirRequest {
                reference: self.reference,
                person: person.clone(),
                command,
            }),
            _ => Ok(()),
        }
    }

    /// Whether `person` made this request or it is for them.
    fn concerns(&self, person: &PersonId) -> bool {
        &self.requester == person
            || self.on_behalf_of.as_ref().and_then(|b| b.person.as_ref()) == Some(person)
    }

    fn approve(
        &self,
        role: ApprovalRole,
        approver: Actor,
        text: Option<String>,
    ) -> Result<Vec<Event>, Error> {
        let index = self.deciding(role, &approver, "approve")?;
        let mut events = vec![Event::ApprovalGranted { role, approver, note: note(text) }];
        match self.approvals.get(index + 1) {
            Some(next) => events.push(Event::ApprovalRequested { role: next.role }),
            None => events
                .extend(approval_complete(self.tasks.iter().map(|t| (&t.id, t.after.as_slice())))),
        }
        Ok(events)
    }

    /// `FulfilmentStarted` if no task has been started yet.
    fn fulfilment_starts(&self) -> Option<Event> {
        (self.status == Status::Approved).then_some(Event::FulfilmentStarted)
    }

    fn start_task(&self, task: StepId, command: &'static str) -> Result<Vec<Event>, Error> {
        let index = self.task_index(&task)?;
        match self.tasks[index].state {
            TaskState::Ready => Ok(self
                .fulfilment_starts()
                .into_iter()
                .chain([Event::TaskStarted { task }])
                .collect()),
            state => Err(Error::InvalidTaskTransition {
                reference: self.reference,
                task,
                state,
                command,
            }),
        }
    }

    fn complete_task(
        &self,
        task: StepId,
        text: Option<String>,
        command: &'static str,
    ) -> Result<Vec<Event>, Error> {
        let index = self.task_index(&task)?;
        let mut events = match self.tasks[index].state {
            TaskState::Ready => self.start_task(task.clone(), command)?,
            TaskState::InProgress => vec![],
            state => {
                return Err(Error::InvalidTaskTransition {
                    reference: self.reference,
                    task,
                    state,
                    command,
                });
            }
        };
        let done = |t: &Task| t.state == TaskState::Done || t.id == task;
        let released = self.tasks.iter().filter(|t| {
            t.state == TaskState::Waiting
                && t.after.iter().all(|before| self.task(before).is_some_and(done))
        });
        let released: Vec<Event> =
            released.map(|t| Event::TaskReady { task: t.id.clone() }).collect();
        let fulfilled = self.tasks.iter().all(done);
        events.push(Event::TaskCompleted { task, note: note(text) });
        events.extend(released);
        if fulfilled {
            events.push(Event::Fulfilled);
        }
        Ok(events)
    }

    fn reassign_task(
        &self,
        task: StepId,
        team: TeamId,
        ctx: Context<'_>,
    ) -> Result<Vec<Event>, Error> {
        let current = &self.tasks[self.task_index(&task)?];
        if current.state == TaskState::Done {
            return Err(Error::InvalidTaskTransition {
                reference: self.reference,
                task,
                state: TaskState::Done,
                command: "reassign_task",
            });
        }
        if ctx.config.team(&team).is_none() {
            return Err(Error::UnknownTeam { reference: self.reference, team });
        }
        if current.team == team {
            return Ok(vec![]);
        }
        Ok(vec![Event::TaskReassigned { task, from: current.team.clone(), to: team }])
    }
}

impl Aggregate for ServiceRequest {
    const NOUN: &'static str = "service request";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn id(&self) -> RecordId {
        RecordId::Ref(self.reference.reference())
    }

    fn decide(
        state: Option<&Self>,
        command: Command,
        ctx: Context<'_>,
    ) -> Result<Vec<Event>, Error> {
        let name = command.name();
        let Some(request) = state else { return ServiceRequest::submit(command, ctx) };
        if let Command::Submit { .. } = command {
            return Err(Error::AlreadySubmitted { reference: request.reference });
        }
        if !permits(request.status, &command) {
            return Err(request.refuse(name));
        }
        let reference = request.reference;
        match command {
            Command::Submit { .. } => Err(Error::AlreadySubmitted { reference }),
            Command::Approve { role, approver, note } => request.approve(role, approver, note),
            Command::Reject { role, approver, reason } => {
                request.deciding(role, &approver, name)?;
                let reason = required("reason", &reason)?;
                Ok(vec![Event::Rejected { role, approver, reason }])
            }
            Command::StartTask { task } => request.start_task(task, name),
            Command::CompleteTask { task, note } => request.complete_task(task, note, name),
            Command::ReassignTask { task, team } => request.reassign_task(task, team, ctx),
            Command::Comment { body, visibility } => {
                request.check_requester(ctx.actor, name)?;
                if let (Actor::Requester(_), Visibility::Internal) = (ctx.actor, visibility) {
                    return Err(Error::InternalNoteByRequester { reference });
                }
                Ok(vec![Event::Commented { body: required("body", &body)?, visibility }])
            }
            Command::Cancel { reason } => {
                request.check_requester(ctx.actor, name)?;
                let reason = required("reason", &reason)?;
                Ok(vec![Event::Cancelled { by: ctx.actor.clone(), reason }])
            }
            Command::Close => Ok(vec![Event::Closed]),
        }
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let Some(mut request) = state else {
            return match event {
                Event::Submitted {
                    reference,
                    item,
                    title,
                    requester,
                    on_behalf_of,
                    details,
                    channel,
                    approvals,
                    tasks,
                } => Ok(ServiceRequest {
                    reference: *reference,
                    item: item.clone(),
                    title: title.clone(),
                    requester: requester.clone(),
                    on_behalf_of: on_behalf_of.clone(),
                    details: details.clone(),
                    channel: *channel,
                    status: Status::Submitted,
                    approvals: approvals
                        .iter()
                        .map(|role| Approval { role: *role, decision: Decision::Pending })
                        .collect(),
                    tasks: tasks
                        .iter()
                        .map(|t| Task {
                            id: t.id.clone(),
                            name: t.name.clone(),
                            team: t.team.clone(),
                            after: t.after.clone(),
                            state: TaskState::Waiting,
                            done_at: None,
                        })
                        .collect(),
                    submitted_at: at,
                    updated_at: at,
                    fulfilled_at: None,
                    ended_at: None,
                }),
                _ => Err(ReplayError::NotCreated { noun: Self::NOUN, event: event.name() }),
            };
        };
        request.updated_at = at;
        match event {
            Event::Submitted { .. } => {
                return Err(ReplayError::AlreadyCreated {
                    reference: request.reference.to_string(),
                    event: event.name(),
                });
            }
            Event::ApprovalRequested { role } => {
                request.approval(event, *role, |d| *d == Decision::Pending)?.decision =
                    Decision::Requested { at };
                request.status = Status::AwaitingApproval;
            }
            Event::ApprovalGranted { role, approver, note } => {
                request.approval(event, *role, is_requested)?.decision =
                    Decision::Granted { approver: approver.clone(), at, note: note.clone() };
            }
            Event::Approved => request.status = Status::Approved,
            Event::Rejected { role, approver, reason } => {
                request.approval(event, *role, is_requested)?.decision =
                    Decision::Refused { approver: approver.clone(), at, reason: reason.clone() };
                request.status = Status::Rejected;
                request.ended_at = Some(at);
            }
            Event::TaskReady { task } => request.task_mut(event, task)?.state = TaskState::Ready,
            Event::FulfilmentStarted => request.status = Status::Fulfilling,
            Event::TaskStarted { task } => {
                request.task_mut(event, task)?.state = TaskState::InProgress
            }
            Event::TaskCompleted { task, .. } => {
                let task = request.task_mut(event, task)?;
                task.state = TaskState::Done;
                task.done_at = Some(at);
            }
            Event::TaskReassigned { task, to, .. } => {
                request.task_mut(event, task)?.team = to.clone()
            }
            Event::Fulfilled => {
                request.status = Status::Fulfilled;
                request.fulfilled_at = Some(at);
            }
            Event::Closed | Event::Cancelled { .. } => {
                request.status =
                    if matches!(event, Event::Closed) { Status::Closed } else { Status::Cancelled };
                request.ended_at = Some(at);
            }
            Event::Commented { .. } => {}
        }
        Ok(request)
    }
}

fn is_requested(decision: &Decision) -> bool {
    matches!(decision, Decision::Requested { .. })
}

impl ServiceRequest {
    fn inconsistent(&self, event: &Event, reason: String) -> ReplayError {
        ReplayError::Inconsistent {
            reference: self.reference.to_string(),
            event: event.name(),
            reason,
        }
    }

    /// The approval for `role` in the state `matching` accepts, for replay.
    fn approval(
        &mut self,
        event: &Event,
        role: ApprovalRole,
        matching: impl Fn(&Decision) -> bool,
    ) -> Result<&mut Approval, ReplayError> {
        let found = self.approvals.iter().position(|a| a.role == role && matching(&a.decision));
        match found {
            Some(index) => Ok(&mut self.approvals[index]),
            None => Err(self.inconsistent(event, format!("no {role} approval in the right state"))),
        }
    }

    /// The task called `id`, for replay.
    fn task_mut(&mut self, event: &Event, id: &StepId) -> Result<&mut Task, ReplayError> {
        match self.tasks.iter().position(|task| &task.id == id) {
            Some(index) => Ok(&mut self.tasks[index]),
            None => Err(self.inconsistent(event, format!("there is no task `{id}`"))),
        }
    }
}

#[cfg(test)]
mod tests;
