//! Business rules of service requests, given/when/then, against the example council's catalogue.

use super::*;
use crate::config::DeskConfig;
use crate::scenario;

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn step(id: &str) -> StepId {
    StepId::new(id).unwrap()
}

fn desk() -> Actor {
    Actor::Agent(person("a.patel"))
}

fn manager() -> Actor {
    Actor::Requester(person("r.shah"))
}

fn submit(item: &str) -> Command {
    Command::Submit {
        reference: RequestRef::from_number(42).unwrap(),
        item: CatalogueItemId::new(item).unwrap(),
        requester: person("k.lee"),
        on_behalf_of: Some(Beneficiary { name: " Sam Green ".into(), person: None }),
        details: "Starts on 1 June in Revenues".into(),
        channel: Channel::SelfService,
    }
}

fn approve(role: ApprovalRole) -> Command {
    Command::Approve { role, approver: manager(), note: None }
}

fn complete(task: &str) -> Command {
    Command::CompleteTask { task: step(task), note: None }
}

fn when_by(
    actor: &Actor,
    given: Option<ServiceRequest>,
    commands: impl IntoIterator<Item = Command>,
) -> Result<(ServiceRequest, Vec<Event>), Error> {
    scenario::when(&DeskConfig::example(), actor, given, commands)
}

fn when(
    given: Option<ServiceRequest>,
    commands: impl IntoIterator<Item = Command>,
) -> Result<(ServiceRequest, Vec<Event>), Error> {
    when_by(&desk(), given, commands)
}

/// A new-starter request with both approvals given: account ready, mailbox and laptop waiting.
fn approved_new_starter() -> ServiceRequest {
    let commands = [
        submit("new-starter"),
        approve(ApprovalRole::LineManager),
        approve(ApprovalRole::BudgetHolder),
    ];
    when(None, commands).unwrap().0
}

fn task_states(request: &ServiceRequest) -> Vec<(&str, TaskState)> {
    request.tasks().iter().map(|t| (t.id.as_str(), t.state)).collect()
}

#[test]
fn a_new_starter_request_waits_for_the_line_manager_first() {
    // Given the catalogue's new-starter item (line manager, then budget holder)
    // When it is requested
    let (request, events) = when(None, [submit("new-starter")]).unwrap();
    // Then the line manager's approval is asked for and nothing can be worked yet
    assert_eq!(
        events.iter().map(EventInfo::name).collect::<Vec<_>>(),
        ["submitted", "approval_requested"]
    );
    assert_eq!(request.status(), Status::AwaitingApproval);
    assert_eq!(request.pending_approval(), Some(ApprovalRole::LineManager));
    assert_eq!(request.title(), "New starter");
    assert_eq!(request.on_behalf_of().map(|b| b.name.as_str()), Some("Sam Green"));
    assert!(request.tasks().iter().all(|t| t.state == TaskState::Waiting));
}

#[test]
fn approvals_are_given_in_catalogue_order() {
    // Given a new-starter request awaiting its line manager
    let (given, _) = when(None, [submit("new-starter")]).unwrap();
    // When the budget holder approves first
    let error = when(Some(given.clone()), [approve(ApprovalRole::BudgetHolder)]).unwrap_err();
    // Then it is refused, naming the approval being waited for
    assert_eq!(
        error.to_string(),
        "REQ-000042 is waiting for line manager approval, not budget holder"
    );
    // And in order, the last approval approves the request and readies the first task
    let (request, events) = when(
        Some(given),
        [approve(ApprovalRole::LineManager), approve(ApprovalRole::BudgetHolder)],
    )
    .unwrap();
    assert_eq!(
        events,
        [
            Event::ApprovalGranted {
                role: ApprovalRole::BudgetHolder,
                approver: manager(),
                note: None
            },
            Event::Approved,
            Event::TaskReady { task: step("account") },
        ]
    );
    assert_eq!(request.status(), Status::Approved);
    assert_eq!(
        task_states(&request),
        [
            ("account", TaskState::Ready),
            ("mailbox", TaskState::Waiting),
            ("laptop", TaskState::Waiting),
        ]
    );
}

#[test]
fn an_item_without_approvals_is_approved_on_submission() {
    let (request, events) = when(None, [submit("password-reset-token")]).unwrap();
    assert_eq!(request.status(), Status::Approved);
    assert!(events.contains(&Event::Approved));
    assert_eq!(task_states(&request), [("issue-token", TaskState::Ready)]);
}

#[test]
fn a_rejection_ends_the_request() {
    // Given a leaver request awaiting the line manager
    let (given, _) = when(None, [submit("leaver")]).unwrap();
    // When the line manager rejects it
    let reject = Command::Reject {
        role: ApprovalRole::LineManager,
        approver: manager(),
        reason: "They are staying on".into(),
    };
    let (rejected, _) = when(Some(given), [reject]).unwrap();
    // Then it is rejected for good: no task can start and it cannot be cancelled
    assert_eq!(rejected.status(), Status::Rejected);
    assert!(rejected.ended_at().is_some());
    let error =
        when(Some(rejected.clone()), [Command::StartTask { task: step("disable-account") }])
            .unwrap_err();
    assert_eq!(error.to_string(), "cannot start_task REQ-000042 while it is rejected");
    let cancel = Command::Cancel { reason: "duplicate".into() };
    assert!(matches!(
        when(Some(rejected), [cancel]),
        Err(Error::InvalidTransition { state: Status::Rejected, command: "cancel", .. })
    ));
}

#[test]
fn nobody_approves_their_own_request() {
    let (given, _) = when(None, [submit("leaver")]).unwrap();
    let own = Command::Approve {
        role: ApprovalRole::LineManager,
        approver: Actor::Requester(person("k.lee")),
        note: None,
    };
    assert_eq!(
        when(Some(given), [own]).unwrap_err().to_string(),
        "k.lee cannot approve or reject REQ-000042: it is their own request"
    );
}

#[test]
fn finishing_a_task_readies_those_waiting_for_it_and_the_last_fulfils() {
    // Given an approved new-starter request
    let given = approved_new_starter();
    // When the account is done
    let (request, events) = when(Some(given), [complete("account")]).unwrap();
    // Then fulfilment starts and mailbox and laptop become ready
    assert_eq!(
        events,
        [
            Event::FulfilmentStarted,
            Event::TaskStarted { task: step("account") },
            Event::TaskCompleted { task: step("account"), note: None },
            Event::TaskReady { task: step("mailbox") },
            Event::TaskReady { task: step("laptop") },
        ]
    );
    assert_eq!(request.status(), Status::Fulfilling);
    // When the mailbox is done, the request is not yet fulfilled
    let (request, events) =
        when(Some(request), [Command::StartTask { task: step("laptop") }, complete("mailbox")])
            .unwrap();
    assert!(!events.contains(&Event::Fulfilled));
    // When the laptop is done too, the same decision fulfils the request
    let (request, events) = when(Some(request), [complete("laptop")]).unwrap();
    assert_eq!(events.last(), Some(&Event::Fulfilled));
    assert!(request.all_tasks_done() && request.fulfilled_at().is_some());
    // And then it can be closed, after which nothing more is accepted
    let (closed, _) = when(Some(request), [Command::Close]).unwrap();
    assert_eq!(closed.status(), Status::Closed);
    let comment = Command::Comment { body: "thanks".into(), visibility: Visibility::Public };
    assert!(when(Some(closed), [comment]).is_err());
}

#[test]
fn a_waiting_task_cannot_be_started() {
    let error = when(Some(approved_new_starter()), [Command::StartTask { task: step("laptop") }])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot start_task task `laptop` of REQ-000042 while it is waiting"
    );
    let error = when(Some(approved_new_starter()), [complete("printer")]).unwrap_err();
    assert_eq!(
        error,
        Error::UnknownTask {
            reference: RequestRef::from_number(42).unwrap(),
            task: step("printer")
        }
    );
}

#[test]
fn tasks_move_only_to_configured_teams_and_not_once_done() {
    let given = approved_new_starter();
    let to = |team: &str| Command::ReassignTask {
        task: step("laptop"),
        team: TeamId::new(team).unwrap(),
    };
    assert!(matches!(when(Some(given.clone()), [to("helpdesk")]), Err(Error::UnknownTeam { .. })));
    let (request, events) = when(Some(given), [to("workstations")]).unwrap();
    assert_eq!(request.task(&step("laptop")).map(|t| t.team.as_str()), Some("workstations"));
    assert_eq!(events[0].visibility(), Visibility::Internal);
    let (request, _) = when(Some(request), [complete("account")]).unwrap();
    let reassign =
        Command::ReassignTask { task: step("account"), team: TeamId::new("desk-side").unwrap() };
    assert!(matches!(
        when(Some(request), [reassign]),
        Err(Error::InvalidTaskTransition { state: TaskState::Done, .. })
    ));
}

#[test]
fn the_requester_may_cancel_but_not_someone_else() {
    // Given an approved request
    let given = approved_new_starter();
    let cancel = || Command::Cancel { reason: "The start date moved to next year".into() };
    // When another requester tries to cancel it, it is refused
    let stranger = Actor::Requester(person("m.brown"));
    assert!(matches!(
        when_by(&stranger, Some(given.clone()), [cancel()]),
        Err(Error::NotTheirRequest { .. })
    ));
    // When the requester cancels it, it is cancelled and records who did it
    let requester = Actor::Requester(person("k.lee"));
    let (request, events) = when_by(&requester, Some(given), [cancel()]).unwrap();
    assert_eq!(request.status(), Status::Cancelled);
    assert!(matches!(&events[0], Event::Cancelled { by, .. } if *by == requester));
}

#[test]
fn a_fulfilled_request_cannot_be_cancelled() {
    let (fulfilled, _) =
        when(None, [submit("password-reset-token"), complete("issue-token")]).unwrap();
    assert_eq!(fulfilled.status(), Status::Fulfilled);
    let error = when(Some(fulfilled), [Command::Cancel { reason: "late".into() }]).unwrap_err();
    assert_eq!(error.to_string(), "cannot cancel REQ-000042 while it is fulfilled");
}

#[test]
fn requesters_write_updates_not_work_notes() {
    let requester = Actor::Requester(person("k.lee"));
    let (given, _) = when(None, [submit("leaver")]).unwrap();
    let note = Command::Comment { body: "Called HR".into(), visibility: Visibility::Internal };
    assert!(matches!(
        when_by(&requester, Some(given.clone()), [note.clone()]),
        Err(Error::InternalNoteByRequester { .. })
    ));
    let (_, events) = when(Some(given), [note]).unwrap();
    assert_eq!(events[0].visibility(), Visibility::Internal);
}

#[test]
fn unknown_items_and_blank_reasons_are_refused() {
    assert!(matches!(when(None, [submit("pony")]), Err(Error::UnknownItem { .. })));
    let (given, _) = when(None, [submit("leaver")]).unwrap();
    let reject = Command::Reject {
        role: ApprovalRole::LineManager,
        approver: manager(),
        reason: " ".into(),
    };
    assert_eq!(when(Some(given), [reject]).unwrap_err(), Error::Blank { field: "reason" });
    assert_eq!(when(None, [Command::Close]).unwrap_err(), Error::NotSubmitted { command: "close" });
}

#[test]
fn an_item_with_a_task_waiting_on_a_later_one_cannot_be_requested() {
    let mut config = DeskConfig::example();
    let item = config.catalogue.iter_mut().find(|i| i.id.as_str() == "laptop").unwrap();
    item.tasks.reverse();
    let error =
        scenario::when::<ServiceRequest>(&config, &desk(), None, [submit("laptop")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "catalogue item `laptop` cannot be requested: task `build` waits for `order`, which does not come before it"
    );
}

#[test]
fn the_submit_command_has_a_stable_json_shape() {
    let json = serde_json::json!({
        "type": "submit",
        "reference": "REQ-000042",
        "item": "new-starter",
        "requester": "k.lee",
        "on_behalf_of": {"name": " Sam Green "},
        "details": "Starts on 1 June in Revenues",
        "channel": "self_service"
    });
    assert_eq!(serde_json::from_value::<Command>(json).unwrap(), submit("new-starter"));
    let request = approved_new_starter();
    let value = serde_json::to_value(&request).unwrap();
    assert_eq!(value["status"], "approved");
    assert_eq!(value["approvals"][0]["decision"]["state"], "granted");
    assert_eq!(value["tasks"][0]["state"], "ready");
    assert_eq!(serde_json::from_value::<ServiceRequest>(value).unwrap(), request);
}
