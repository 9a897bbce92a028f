//! Unit tests for the problem aggregate, the workaround offers and their JSON shapes.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::config::DeskConfig;
use crate::id::PersonId;
use crate::knowledge::Audience;
use crate::record::ExecuteError;

fn t(minutes: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn agent() -> Actor {
    Actor::Agent(PersonId::new("d.okafor").unwrap())
}

fn prb(n: u32) -> ProblemRef {
    ProblemRef::from_number(n).unwrap()
}

fn inc(n: u32) -> IncidentRef {
    IncidentRef::from_number(n).unwrap()
}

fn ast(n: u32) -> AssetRef {
    AssetRef::from_number(n).unwrap()
}

fn team(id: &str) -> TeamId {
    TeamId::new(id).unwrap()
}

fn category(id: &str) -> CategoryId {
    CategoryId::new(id).unwrap()
}

fn log_command(n: u32) -> Command {
    Command::Log {
        reference: prb(n),
        title: " VPN drops after laptop sleep ".into(),
        description: "Several users at the Civic Centre".into(),
        category: Some(category("network/vpn")),
        team: Some(team("networks")),
        incidents: [inc(1), inc(2)].into(),
        cis: [ast(7)].into(),
    }
}

/// Runs `commands` from nothing as an agent, one minute apart; the final state.
fn given(commands: impl IntoIterator<Item = Command>) -> Problem {
    let config = DeskConfig::example();
    let actor = agent();
    let mut state = None;
    for (n, command) in commands.into_iter().enumerate() {
        let ctx = Context::new(t(n as i64), &actor, &config);
        let (next, _) = Problem::execute(state, command, ctx).unwrap();
        state = Some(next);
    }
    state.unwrap()
}

fn when(state: &Problem, command: Command) -> Result<Vec<Event>, Error> {
    let config = DeskConfig::example();
    let actor = agent();
    Problem::decide(Some(state), command, Context::new(t(100), &actor, &config))
}

fn investigating() -> Problem {
    given([log_command(1), Command::StartInvestigation])
}

fn root_cause() -> Command {
    Command::RecordRootCause { text: "Client power-saving drops the tunnel".into() }
}

fn workaround(visibility: Visibility) -> Command {
    Command::RecordWorkaround { text: "Reconnect from the system tray".into(), visibility }
}

fn known_error(visibility: Visibility) -> Problem {
    given([
        log_command(1),
        Command::StartInvestigation,
        workaround(visibility),
        Command::DeclareKnownError,
    ])
}

#[test]
fn logging_trims_the_title_and_keeps_the_links() {
    // given nothing, when a problem is logged
    let problem = given([log_command(1)]);
    // then it is logged with its links, trimmed title and time
    assert_eq!(problem.status(), Status::Logged);
    assert_eq!(problem.title(), "VPN drops after laptop sleep");
    assert_eq!(problem.incidents(), &BTreeSet::from([inc(1), inc(2)]));
    assert_eq!(problem.cis(), &BTreeSet::from([ast(7)]));
    assert_eq!(problem.logged_at(), t(0));
    assert_eq!(problem.id().to_string(), "PRB-000001");
}

#[test]
fn logging_refuses_unknown_teams_categories_and_empty_titles() {
    let config = DeskConfig::example();
    let actor = agent();
    let ctx = Context::new(t(0), &actor, &config);
    let mut command = log_command(1);
    if let Command::Log { team, .. } = &mut command {
        *team = Some(TeamId::new("plumbing").unwrap());
    }
    let err = Problem::decide(None, command, ctx).unwrap_err();
    assert_eq!(err.to_string(), "cannot log: unknown team `plumbing`");

    let mut command = log_command(1);
    if let Command::Log { category, .. } = &mut command {
        *category = Some(CategoryId::new("catering").unwrap());
    }
    assert!(matches!(Problem::decide(None, command, ctx), Err(Error::UnknownCategory { .. })));

    let mut command = log_command(1);
    if let Command::Log { title, .. } = &mut command {
        *title = "  ".into();
    }
    let err = Problem::decide(None, command, ctx).unwrap_err();
    assert_eq!(err, Error::Empty { command: "log", field: "title" });
}

#[test]
fn a_requester_may_not_touch_a_problem() {
    let config = DeskConfig::example();
    let requester = Actor::Requester(PersonId::new("k.lee").unwrap());
    let err =
        Problem::decide(None, log_command(1), Context::new(t(0), &requester, &config)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "requester k.lee may not log a problem: problem management is for desk staff"
    );
}

#[test]
fn investigation_needs_a_team() {
    // given a problem logged without a team
    let mut command = log_command(1);
    if let Command::Log { team, .. } = &mut command {
        *team = None;
    }
    let problem = given([command]);
    // when investigation starts, then it is refused
    let err = when(&problem, Command::StartInvestigation).unwrap_err();
    assert_eq!(err.to_string(), "cannot start_investigation PRB-000001: no team is assigned");
    // and once assigned it may start
    let problem = given([
        Command::Log {
            reference: prb(1),
            title: "x".into(),
            description: String::new(),
            category: None,
            team: None,
            incidents: BTreeSet::new(),
            cis: BTreeSet::new(),
        },
        Command::Assign { team: team("networks") },
        Command::StartInvestigation,
    ]);
    assert_eq!(problem.status(), Status::Investigating);
}

#[test]
fn a_known_error_needs_a_root_cause_or_a_workaround() {
    // given an investigation with nothing found yet
    let problem = investigating();
    // when it is declared a known error, then it is refused
    let err = when(&problem, Command::DeclareKnownError).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot declare_known_error PRB-000001: record a root cause or a workaround first"
    );
    // and with a root cause it is accepted
    let problem = given([
        log_command(1),
        Command::StartInvestigation,
        root_cause(),
        Command::DeclareKnownError,
    ]);
    assert_eq!(problem.status(), Status::KnownError);
    assert_eq!(problem.known_error_at(), Some(t(3)));
}

#[test]
fn resolving_needs_a_root_cause_and_notes() {
    let problem = known_error(Visibility::Public);
    let resolve = Command::Resolve {
        notes: "Client 5.1 deployed".into(),
        change: ChangeRef::from_number(310),
    };
    assert_eq!(
        when(&problem, resolve.clone()).unwrap_err(),
        Error::NoRootCause { reference: prb(1) }
    );

    let problem = given([
        log_command(1),
        Command::StartInvestigation,
        root_cause(),
        Command::DeclareKnownError,
    ]);
    let err = when(&problem, Command::Resolve { notes: " ".into(), change: None }).unwrap_err();
    assert_eq!(err.to_string(), "cannot resolve: no resolution notes given");
    assert!(when(&problem, resolve).is_ok());
}

#[test]
fn resolved_problems_close_or_reopen_with_the_recurring_incident() {
    // given a resolved problem
    let resolved = given([
        log_command(1),
        Command::StartInvestigation,
        root_cause(),
        Command::Resolve {
            notes: "Client 5.1 deployed".into(),
            change: ChangeRef::from_number(310),
        },
    ]);
    assert_eq!(resolved.resolution().unwrap().change, ChangeRef::from_number(310));
    // when an incident recurs, then it reopens with that incident linked and no resolution
    let events = when(
        &resolved,
        Command::Reopen { reason: "Back after the update".into(), incident: Some(inc(9)) },
    )
    .unwrap();
    let reopened = Problem::apply(Some(resolved.clone()), t(200), &events[0]).unwrap();
    assert_eq!(reopened.status(), Status::Investigating);
    assert!(reopened.incidents().contains(&inc(9)));
    assert_eq!(reopened.resolution(), None);
    assert_eq!(reopened.root_cause(), resolved.root_cause());
    // and a closed problem accepts nothing
    let closed = Problem::apply(Some(resolved), t(300), &Event::Closed).unwrap();
    let err =
        when(&closed, Command::Reopen { reason: "again".into(), incident: None }).unwrap_err();
    assert_eq!(err.to_string(), "cannot reopen PRB-000001 while it is closed");
}

#[test]
fn links_are_refused_twice_and_after_resolution() {
    let problem = investigating();
    let err = when(&problem, Command::LinkIncident { incident: inc(1) }).unwrap_err();
    assert_eq!(err.to_string(), "INC-000001 is already linked to PRB-000001");
    let err = when(&problem, Command::UnlinkCi { ci: ast(8) }).unwrap_err();
    assert_eq!(err.to_string(), "AST-000008 is not linked to PRB-000001");
    let cancelled =
        given([log_command(1), Command::Cancel { reason: "Duplicate of PRB-000002".into() }]);
    assert!(matches!(
        when(&cancelled, Command::LinkCi { ci: ast(8) }),
        Err(Error::InvalidTransition { state: Status::Cancelled, command: "link_ci", .. })
    ));
}

#[test]
fn assigning_or_recategorising_to_the_same_value_changes_nothing() {
    let problem = investigating();
    assert_eq!(
        when(&problem, Command::Assign { team: team("networks") }).unwrap_err().to_string(),
        "assign would not change PRB-000001"
    );
    assert!(matches!(
        when(&problem, Command::Recategorise { category: Some(category("network/vpn")) }),
        Err(Error::Unchanged { .. })
    ));
    assert!(when(&problem, Command::Recategorise { category: None }).is_ok());
}

#[test]
fn a_published_workaround_is_a_public_event() {
    let problem = investigating();
    let events = when(&problem, workaround(Visibility::Public)).unwrap();
    assert_eq!(events[0].visibility(), Visibility::Public);
    assert_eq!(
        when(&problem, workaround(Visibility::Internal)).unwrap()[0].visibility(),
        Visibility::Internal
    );
    assert_eq!(when(&problem, root_cause()).unwrap()[0].visibility(), Visibility::Internal);
}

#[test]
fn replay_refuses_a_history_without_its_creation() {
    let err = Problem::replay([(t(0), &Event::Closed)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the history of a problem starts with `closed`, not with its creating event"
    );
    let logged = given([log_command(1)]);
    let events =
        Problem::decide(None, log_command(1), Context::new(t(0), &agent(), &DeskConfig::example()))
            .unwrap();
    assert!(matches!(
        Problem::apply(Some(logged), t(1), &events[0]),
        Err(ReplayError::AlreadyCreated { .. })
    ));
}

#[test]
fn commands_and_events_have_documented_json_shapes() {
    let command: Command = serde_json::from_value(serde_json::json!({
        "type": "record_workaround", "text": "Reconnect", "visibility": "public"
    }))
    .unwrap();
    assert_eq!(command.name(), "record_workaround");
    let event = Event::Resolved {
        resolution: Resolution { notes: "fixed".into(), change: ChangeRef::from_number(310) },
    };
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        serde_json::json!({"type": "resolved", "resolution": {"notes": "fixed", "change": "CHG-000310"}})
    );
    let logged: Command = serde_json::from_value(serde_json::json!({
        "type": "log", "reference": "PRB-000004", "title": "Printers offline"
    }))
    .unwrap();
    assert_eq!(logged.name(), "log");
    let problem = known_error(Visibility::Public);
    let json = serde_json::to_value(&problem).unwrap();
    assert_eq!(json["status"], "known_error");
    assert_eq!(json["workaround"]["visibility"], "public");
    assert_eq!(serde_json::from_value::<Problem>(json).unwrap(), problem);
}

#[test]
fn execute_reports_refusals() {
    let config = DeskConfig::example();
    let actor = agent();
    let result = Problem::execute(None, Command::Close, Context::new(t(0), &actor, &config));
    assert!(matches!(result, Err(ExecuteError::Refused(Error::NotLogged { command: "close" }))));
}

// --- workaround offers -------------------------------------------------------------------------

/// A known error `n` in `category` on `cis`, explaining `incidents` incidents.
fn offerable(
    n: u32,
    category: Option<&str>,
    cis: &[u32],
    incidents: u32,
    visibility: Visibility,
) -> Problem {
    given([
        Command::Log {
            reference: prb(n),
            title: format!("Problem {n}"),
            description: String::new(),
            category: category.map(self::category),
            team: Some(team("networks")),
            incidents: (1..=incidents).map(inc).collect(),
            cis: cis.iter().copied().map(ast).collect(),
        },
        Command::StartInvestigation,
        workaround(visibility),
        Command::DeclareKnownError,
    ])
}

#[test]
fn offers_rank_ci_and_category_then_ci_then_category() {
    // given known errors matching on category only, CI only, both, and neither
    let problems = [
        offerable(1, Some("network/vpn"), &[], 5, Visibility::Public),
        offerable(2, Some("network/wifi"), &[7], 1, Visibility::Public),
        offerable(3, Some("network/vpn"), &[7], 1, Visibility::Public),
        offerable(4, Some("network/wifi"), &[8], 9, Visibility::Public),
        offerable(5, Some("network/vpn"), &[], 9, Visibility::Public),
    ];
    // when an incident on AST-000007 in network/vpn arrives
    let offers = workaround_offers(
        Some(&category("network/vpn")),
        Some(&ast(7)),
        Audience::Agents,
        &problems,
    );
    // then both-match, CI-match, then category matches with the most incidents first
    let ranked: Vec<(u32, Match)> =
        offers.iter().map(|o| (o.problem.number().get(), o.matched)).collect();
    assert_eq!(
        ranked,
        [(3, Match::CiAndCategory), (2, Match::Ci), (5, Match::Category), (1, Match::Category)]
    );
    assert_eq!(offers[0].workaround.text, "Reconnect from the system tray");
}

#[test]
fn requesters_are_offered_only_published_workarounds_of_known_errors() {
    let internal = offerable(1, Some("network/vpn"), &[], 1, Visibility::Internal);
    let public = offerable(2, Some("network/vpn"), &[], 1, Visibility::Public);
    let investigating =
        given([log_command(3), Command::StartInvestigation, workaround(Visibility::Public)]);
    let problems = [internal, public, investigating];
    let vpn = category("network/vpn");
    let for_requesters = workaround_offers(Some(&vpn), None, Audience::Requesters, &problems);
    assert_eq!(for_requesters.iter().map(|o| o.problem).collect::<Vec<_>>(), [prb(2)]);
    let for_agents = workaround_offers(Some(&vpn), None, Audience::Agents, &problems);
    assert_eq!(for_agents.len(), 2);
    assert!(workaround_offers(None, None, Audience::Agents, &problems).is_empty());
}

#[test]
fn an_offer_has_a_json_shape() {
    let problems = [offerable(12, Some("network/vpn"), &[7], 1, Visibility::Public)];
    let offers = workaround_offers(None, Some(&ast(7)), Audience::Agents, &problems);
    assert_eq!(
        serde_json::to_value(&offers[0]).unwrap(),
        serde_json::json!({
            "problem": "PRB-000012",
            "title": "Problem 12",
            "workaround": {"text": "Reconnect from the system tray", "visibility": "public"},
            "matched": "ci"
        })
    );
}

#[test]
fn a_problem_names_its_cis_for_the_link_index() {
    let problem = given([log_command(1)]);
    let mut index = crate::links::LinkIndex::new();
    index.update(&problem);
    assert_eq!(index.tickets_for(ast(7)).collect::<Vec<_>>(), [prb(1).reference()]);
}
