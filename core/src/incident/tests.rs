//! Given/when/then tests for the incident rules.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::config::DeskConfig;
use crate::priority::{Impact, Urgency};
use crate::record::{Aggregate, CommandName, Context, EventInfo, Visibility};

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().unwrap() + Duration::minutes(minutes)
}

fn person(id: &str) -> PersonId {
    id.parse().unwrap()
}

fn team(id: &str) -> TeamId {
    id.parse().unwrap()
}

fn agent(id: &str) -> Actor {
    Actor::Agent(person(id))
}

fn inc(n: u32) -> IncidentRef {
    IncidentRef::from_number(n).unwrap()
}

fn new_incident(n: u32) -> NewIncident {
    NewIncident {
        reference: inc(n),
        title: "Laptop will not boot".into(),
        description: "Black screen after the council logo".into(),
        channel: Channel::Phone,
        requester: person("k.lee"),
        requester_vip: None,
        category: Some("hardware/laptop".parse().unwrap()),
        affected_ci: None,
        impact: Impact::level(3).unwrap(),
        urgency: Urgency::level(2).unwrap(),
        assign: None,
        resolve: None,
    }
}

/// An incident under test: commands are run at a time, by an actor, against the example config.
struct Scenario {
    config: DeskConfig,
    state: Option<Incident>,
    now: DateTime<Utc>,
    actor: Actor,
}

impl Scenario {
    fn new() -> Self {
        Scenario { config: DeskConfig::example(), state: None, now: at(0), actor: agent("a.patel") }
    }

    fn logged(new: NewIncident) -> Self {
        let mut scenario = Scenario::new();
        scenario.run(Command::Log(Box::new(new)));
        scenario
    }

    fn by(&mut self, actor: Actor) -> &mut Self {
        self.actor = actor;
        self
    }

    fn after(&mut self, minutes: i64) -> &mut Self {
        self.now += Duration::minutes(minutes);
        self
    }

    /// Runs a command that must succeed; returns the events.
    fn run(&mut self, command: Command) -> Vec<Event> {
        match self.attempt(command.clone()) {
            Ok(events) => events,
            Err(error) => panic!("{} refused: {error}", command.name()),
        }
    }

    /// Runs a command, keeping the state only if it succeeds.
    fn attempt(&mut self, command: Command) -> Result<Vec<Event>, Error> {
        let ctx = Context::new(self.now, &self.actor, &self.config);
        let (state, events) = Incident::execute(self.state.clone(), command, ctx)
            .map_err(|e| e.refused().unwrap())?;
        self.state = Some(state);
        Ok(events)
    }

    fn incident(&self) -> &Incident {
        self.state.as_ref().unwrap()
    }
}

fn assign(team_id: &str, agent_id: Option<&str>) -> Command {
    Command::Assign(AssignTo { team: team(team_id), agent: agent_id.map(person) })
}

fn resolve() -> Command {
    Command::Resolve { code: "fixed".parse().unwrap(), notes: "Reseated the memory".into() }
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(EventInfo::name).collect()
}

#[test]
fn logging_takes_the_priority_from_the_matrix() {
    let s = Scenario::logged(new_incident(1));
    let incident = s.incident();
    assert_eq!(incident.status, Status::New);
    assert_eq!(incident.priority().to_string(), "P4");
    assert_eq!(incident.assessment.uplift, 0);
    assert_eq!(incident.logged_by, agent("a.patel"));
}

#[test]
fn a_vip_requester_lifts_the_priority_and_the_assessment_says_why() {
    let s = Scenario::logged(NewIncident {
        requester_vip: Some(crate::people::VipKind::ElectedMember),
        ..new_incident(1)
    });
    let assessment = s.incident().assessment;
    assert_eq!(
        (assessment.from_matrix.to_string(), assessment.priority.to_string()),
        ("P4".into(), "P3".into())
    );
    assert_eq!(assessment.uplift, 1);
}

#[test]
fn the_full_lifecycle_records_each_step() {
    let mut s = Scenario::logged(new_incident(1));
    s.run(assign("desk-side", None));
    s.by(agent("r.evans")).run(Command::Start { agent: None });
    assert_eq!(s.incident().agent(), Some(&person("r.evans")));
    let hold = s.run(Command::PutOnHold {
        reason: HoldReason::AwaitingCustomer,
        note: "Asked when the laptop can be collected".into(),
    });
    assert_eq!(names(&hold), ["put_on_hold"]);
    assert_eq!(
        (s.incident().status, s.incident().hold_reason),
        (Status::OnHold, Some(HoldReason::AwaitingCustomer))
    );
    s.run(Command::Resume { note: "Collected".into() });
    s.run(resolve());
    assert!(!s.incident().resolution.as_ref().unwrap().first_contact);
    s.by(Actor::Requester(person("k.lee"))).after(60).run(Command::Close);
    let incident = s.incident();
    assert_eq!((incident.status, incident.closed_at), (Status::Closed, Some(at(60))));
    assert_eq!(incident.reassignments, 0);
}

#[test]
fn a_refused_transition_names_the_state_and_the_command() {
    let mut s = Scenario::logged(new_incident(7));
    let err = s
        .attempt(Command::PutOnHold { reason: HoldReason::AwaitingSupplier, note: "x".into() })
        .unwrap_err();
    assert_eq!(
        err,
        Error::InvalidTransition { reference: inc(7), state: Status::New, command: "put_on_hold" }
    );
    assert_eq!(err.to_string(), "cannot put_on_hold INC-000007 while it is new");
    let err = Incident::decide(None, Command::Close, Context::new(at(0), &s.actor, &s.config));
    assert_eq!(err, Err(Error::NotLogged { command: "close" }));
}

#[test]
fn resolving_at_logging_by_first_line_is_first_contact_resolution() {
    let s = Scenario::logged(NewIncident {
        assign: Some(AssignTo { team: team("service-desk"), agent: Some(person("a.patel")) }),
        resolve: Some(ResolveAtContact {
            code: "user-advice".parse().unwrap(),
            notes: "Showed how to reconnect the dock".into(),
        }),
        ..new_incident(1)
    });
    let resolution = s.incident().resolution.clone().unwrap();
    assert!(resolution.first_contact);
    assert_eq!(s.incident().status, Status::Resolved);
}

#[test]
fn first_contact_needs_first_line_the_logging_agent_no_detours_and_the_window() {
    let first_line = || NewIncident {
        assign: Some(AssignTo { team: team("service-desk"), agent: None }),
        ..new_incident(1)
    };
    // The logging agent fixes it ten minutes later: still the first contact.
    let mut s = Scenario::logged(first_line());
    s.after(10).run(resolve());
    assert!(s.incident().resolution.as_ref().unwrap().first_contact);

    // Someone else resolves it.
    let mut s = Scenario::logged(first_line());
    s.by(agent("b.jones")).run(resolve());
    assert!(!s.incident().resolution.as_ref().unwrap().first_contact);

    // After the window.
    let mut s = Scenario::logged(first_line());
    s.after(31).run(resolve());
    assert!(!s.incident().resolution.as_ref().unwrap().first_contact);

    // Assigned to 2nd line at logging.
    let mut s = Scenario::logged(NewIncident {
        assign: Some(AssignTo { team: team("desk-side"), agent: None }),
        ..new_incident(1)
    });
    s.run(resolve());
    assert!(!s.incident().resolution.as_ref().unwrap().first_contact);

    // Reassigned away and back.
    let mut s = Scenario::logged(first_line());
    s.run(assign("desk-side", None));
    s.run(assign("service-desk", None));
    s.run(resolve());
    assert!(!s.incident().resolution.as_ref().unwrap().first_contact);
}

#[test]
fn a_closed_incident_reopens_only_within_the_window() {
    let mut s = Scenario::logged(new_incident(3));
    s.run(resolve());
    s.after(60).run(Command::Close);
    for command in [resolve(), assign("networks", None), Command::Close] {
        let name = command.name();
        assert_eq!(
            s.attempt(command),
            Err(Error::InvalidTransition {
                reference: inc(3),
                state: Status::Closed,
                command: name
            })
        );
    }
    let mut late = Scenario { state: s.state.clone(), ..Scenario::new() };
    late.now = s.now + Duration::days(10) + Duration::minutes(1);
    assert_eq!(
        late.attempt(Command::Reopen { reason: "Still broken".into() }),
        Err(Error::ReopenWindowPassed { reference: inc(3), days: 10 })
    );
    s.after(60 * 24 * 9).run(Command::Reopen { reason: "Still broken".into() });
    let incident = s.incident();
    assert_eq!(
        (incident.status, incident.reopened, incident.resolution.is_none()),
        (Status::New, 1, true)
    );
}

#[test]
fn functional_escalation_climbs_tiers_and_de_escalation_comes_down() {
    let mut s = Scenario::logged(new_incident(1));
    let escalate = |team_id: &str| {
        Command::Escalate(Escalation::Functional {
            team: team(team_id),
            agent: None,
            reason: "Needs a site visit".into(),
        })
    };
    assert_eq!(s.attempt(escalate("desk-side")), Err(Error::NotAssigned(inc(1))));
    s.run(assign("desk-side", None));
    assert!(matches!(
        s.attempt(escalate("identity")),
        Err(Error::NotHigherTier { from: Tier::SecondLine, to: Tier::SecondLine, .. })
    ));
    let events = s.run(escalate("networks"));
    assert_eq!(names(&events), ["escalated_functionally"]);
    assert_eq!(
        (s.incident().tier(), s.incident().status),
        (Some(Tier::ThirdLine), Status::Assigned)
    );
    assert!(matches!(
        s.attempt(Command::DeEscalate(Escalation::Functional {
            team: team("supplier-telecoms"),
            agent: None,
            reason: "x".into()
        })),
        Err(Error::NotLowerTier { .. })
    ));
    s.run(Command::DeEscalate(Escalation::Functional {
        team: team("service-desk"),
        agent: None,
        reason: "User error after all".into(),
    }));
    assert_eq!(s.incident().tier(), Some(Tier::FirstLine));
    assert_eq!(s.incident().reassignments, 2);
}

#[test]
fn hierarchical_escalation_goes_to_the_lead_then_the_manager() {
    let mut s = Scenario::logged(new_incident(1));
    s.run(assign("networks", None));
    let up = || Command::Escalate(Escalation::Hierarchical { reason: "Councillor chasing".into() });
    let events = s.run(up());
    assert_eq!(
        events,
        [Event::EscalatedHierarchically {
            level: EscalationLevel::TeamLead,
            contact: Some(person("d.okafor")),
            reason: "Councillor chasing".into()
        }]
    );
    s.run(up());
    assert_eq!(s.incident().escalation, EscalationLevel::Manager);
    assert_eq!(s.attempt(up()), Err(Error::AtTopOfEscalation(inc(1))));
    s.run(Command::DeEscalate(Escalation::Hierarchical { reason: "Plan agreed".into() }));
    assert_eq!(s.incident().escalation, EscalationLevel::TeamLead);
    let again = s.run(up());
    assert!(matches!(
        again[..],
        [Event::EscalatedHierarchically { level: EscalationLevel::Manager, .. }]
    ));
}

#[test]
fn escalation_needs_a_reason() {
    let mut s = Scenario::logged(new_incident(1));
    assert_eq!(
        s.attempt(Command::Escalate(Escalation::Hierarchical { reason: "  ".into() })),
        Err(Error::EmptyText("reason"))
    );
}

#[test]
fn declaring_a_major_incident_escalates_to_the_manager_at_once() {
    let mut s = Scenario::logged(new_incident(1));
    let events =
        s.run(Command::DeclareMajor { reason: "Council tax site down for the public".into() });
    assert_eq!(names(&events), ["major_declared", "escalated_hierarchically"]);
    assert!(s.incident().major);
    assert_eq!(s.incident().escalation, EscalationLevel::Manager);
    assert_eq!(
        s.attempt(Command::DeclareMajor { reason: "again".into() }),
        Err(Error::MajorUnchanged { reference: inc(1), major: true })
    );
    s.run(Command::StandDownMajor { reason: "Service restored".into() });
    assert!(!s.incident().major);
}

#[test]
fn a_priority_change_is_an_event_with_a_reason() {
    let mut s = Scenario::logged(new_incident(1));
    let events = s.run(Command::Reprioritise {
        impact: Impact::level(1).unwrap(),
        urgency: Urgency::level(1).unwrap(),
        reason: "Whole floor affected".into(),
    });
    let [Event::Reprioritised { from, to, reason }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!((from.priority.to_string(), to.priority.to_string()), ("P4".into(), "P1".into()));
    assert_eq!(reason, "Whole floor affected");
    assert_eq!(s.incident().priority().to_string(), "P1");
    assert_eq!(
        s.attempt(Command::Reprioritise {
            impact: Impact::level(1).unwrap(),
            urgency: Urgency::level(1).unwrap(),
            reason: "again".into()
        }),
        Err(Error::Unchanged { reference: inc(1), what: "impact and urgency" })
    );
    assert!(matches!(
        s.attempt(Command::Reprioritise {
            impact: Impact::level(4).unwrap(),
            urgency: Urgency::level(1).unwrap(),
            reason: "x".into()
        }),
        Err(Error::Priority(_))
    ));
}

#[test]
fn updates_are_public_or_internal_and_requesters_cannot_write_work_notes() {
    let mut s = Scenario::logged(new_incident(1));
    let public = s.run(Command::AddUpdate {
        visibility: Visibility::Public,
        text: "Engineer booked for 2pm".into(),
    });
    let internal = s.run(Command::AddUpdate {
        visibility: Visibility::Internal,
        text: "BIOS reset tried".into(),
    });
    assert_eq!(public[0].visibility(), Visibility::Public);
    assert_eq!(internal[0].visibility(), Visibility::Internal);
    assert_eq!((s.incident().public_updates, s.incident().work_notes), (1, 1));
    s.by(Actor::Requester(person("k.lee")));
    assert_eq!(
        s.attempt(Command::AddUpdate { visibility: Visibility::Internal, text: "sneaky".into() }),
        Err(Error::RequesterWorkNote)
    );
}

#[test]
fn configuration_references_are_checked() {
    let mut s = Scenario::logged(new_incident(1));
    assert_eq!(s.attempt(assign("nobody", None)), Err(Error::UnknownTeam(team("nobody"))));
    assert_eq!(
        s.attempt(Command::Recategorise { category: "made/up".parse().unwrap() }),
        Err(Error::UnknownCategory("made/up".parse().unwrap()))
    );
    assert_eq!(
        s.attempt(Command::Resolve { code: "magic".parse().unwrap(), notes: "x".into() }),
        Err(Error::UnknownResolutionCode("magic".parse().unwrap()))
    );
    let mut fresh = Scenario::new();
    assert_eq!(
        fresh.attempt(Command::Log(Box::new(NewIncident { title: " ".into(), ..new_incident(2) }))),
        Err(Error::EmptyText("title"))
    );
    assert_eq!(
        fresh.attempt(Command::Log(Box::new(NewIncident {
            title: "x".repeat(201),
            ..new_incident(2)
        }))),
        Err(Error::TooLong { field: "title", max: 200 })
    );
}

#[test]
fn a_resolved_parent_resolves_its_open_children_and_relays_its_updates() {
    let mut parent = Scenario::logged(new_incident(1));
    let mut child = Scenario::logged(new_incident(2));
    check_link(child.incident(), parent.incident()).unwrap();
    let linked = child.run(Command::LinkParent { parent: inc(1) });
    let follow = follow_ups(child.incident(), &linked);
    assert_eq!(
        follow,
        [FollowUp { target: inc(1), command: Command::AdoptChild { child: inc(2) } }]
    );
    parent.by(Actor::System).run(follow[0].command.clone());
    assert_eq!(parent.incident().children.iter().copied().collect::<Vec<_>>(), [inc(2)]);

    parent.by(agent("a.patel"));
    let update = parent.run(Command::AddUpdate {
        visibility: Visibility::Public,
        text: "Supplier on site".into(),
    });
    let relays = follow_ups(parent.incident(), &update);
    assert_eq!(relays.len(), 1);
    let relayed = child.by(Actor::System).run(relays[0].command.clone());
    assert_eq!(
        relayed,
        [Event::CustomerUpdated { text: "Supplier on site".into(), from_parent: Some(inc(1)) }]
    );

    let resolved = parent.run(resolve());
    let cascade = follow_ups(parent.incident(), &resolved);
    assert_eq!(cascade.len(), 1);
    child.run(cascade[0].command.clone());
    let resolution = child.incident().resolution.clone().unwrap();
    assert_eq!((child.incident().status, resolution.by_parent), (Status::Resolved, Some(inc(1))));
    // Idempotent: running the cascade again records nothing.
    assert_eq!(child.attempt(cascade[0].command.clone()), Ok(vec![]));
}

#[test]
fn links_are_one_level_deep_and_between_open_incidents() {
    let mut a = Scenario::logged(new_incident(1));
    let mut b = Scenario::logged(new_incident(2));
    let c = Scenario::logged(new_incident(3));
    assert_eq!(check_link(a.incident(), a.incident()), Err(Error::SelfReference(inc(1))));
    b.run(Command::LinkParent { parent: inc(3) });
    assert_eq!(check_link(a.incident(), b.incident()), Err(Error::Nesting(inc(2))));
    assert_eq!(
        check_link(b.incident(), a.incident()),
        Err(Error::AlreadyChild { child: inc(2), parent: inc(3) })
    );
    a.run(resolve());
    assert!(matches!(check_link(c.incident(), a.incident()), Err(Error::OtherNotOpen { .. })));
    assert_eq!(
        check_unlink(b.incident(), a.incident()),
        Err(Error::NotChild { child: inc(2), parent: inc(1) })
    );
}

#[test]
fn merging_a_duplicate_closes_it_and_records_it_on_the_survivor() {
    let mut duplicate = Scenario::logged(new_incident(2));
    let mut survivor = Scenario::logged(new_incident(1));
    check_merge(duplicate.incident(), survivor.incident()).unwrap();
    let events = duplicate.run(Command::MergeInto { target: inc(1) });
    assert_eq!(duplicate.incident().status, Status::Merged);
    let follow = follow_ups(duplicate.incident(), &events);
    survivor.by(Actor::System).run(follow[0].command.clone());
    assert!(survivor.incident().duplicates.contains(&inc(2)));
    assert!(matches!(
        duplicate.attempt(Command::AddUpdate { visibility: Visibility::Public, text: "x".into() }),
        Err(Error::InvalidTransition { state: Status::Merged, .. })
    ));
}

#[test]
fn a_parent_with_children_cannot_be_cancelled_or_merged() {
    let mut parent = Scenario::logged(new_incident(1));
    parent.run(Command::AdoptChild { child: inc(2) });
    assert_eq!(
        parent.attempt(Command::Cancel { reason: "x".into() }),
        Err(Error::HasChildren(inc(1)))
    );
    assert_eq!(
        parent.attempt(Command::MergeInto { target: inc(5) }),
        Err(Error::HasChildren(inc(1)))
    );
}

#[test]
fn starting_work_needs_an_agent() {
    let mut s = Scenario::logged(new_incident(1));
    s.run(assign("desk-side", Some("r.evans")));
    s.by(Actor::System);
    assert_eq!(s.attempt(Command::Start { agent: None }), Err(Error::AgentRequired(inc(1))));
    s.run(Command::Start { agent: Some(person("t.ng")) });
    assert_eq!((s.incident().agent(), s.incident().reassignments), (Some(&person("t.ng")), 1));
}

#[test]
fn the_state_is_rebuilt_exactly_from_the_history() {
    let mut history: Vec<(DateTime<Utc>, Event)> = Vec::new();
    let mut record = |s: &mut Scenario, command: Command| {
        let now = s.now;
        for event in s.run(command) {
            history.push((now, event));
        }
    };
    let mut fresh = Scenario::new();
    record(&mut fresh, Command::Log(Box::new(new_incident(1))));
    record(fresh.after(5), assign("networks", None));
    record(fresh.by(agent("d.okafor")).after(5), Command::Start { agent: None });
    record(fresh.after(30), resolve());
    let replayed = Incident::replay(history.iter().map(|(at, e)| (*at, e))).unwrap().unwrap();
    assert_eq!(Some(replayed), fresh.state);
    assert_eq!(
        Incident::apply(None, at(0), &Event::Closed),
        Err(crate::record::ReplayError::NotCreated { noun: "incident", event: "closed" })
    );
}

#[test]
fn json_shapes_are_stable() {
    let command =
        Command::Resolve { code: "fixed".parse().unwrap(), notes: "Replaced toner".into() };
    assert_eq!(
        serde_json::to_value(&command).unwrap(),
        serde_json::json!({"type": "resolve", "code": "fixed", "notes": "Replaced toner"})
    );
    let event = Event::PutOnHold {
        reason: HoldReason::AwaitingSupplier,
        note: "Ticket 991 with supplier".into(),
    };
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        serde_json::json!({"type": "put_on_hold", "reason": "awaiting_supplier", "note": "Ticket 991 with supplier"})
    );
    let s = Scenario::logged(new_incident(12));
    insta::assert_json_snapshot!("incident_resource", s.incident());
    let log = Command::Log(Box::new(new_incident(12)));
    insta::assert_json_snapshot!("log_command", log);
}

fn decision(rule: &str, team_id: Option<&str>) -> RoutingDecision {
    RoutingDecision {
        rule: rule.into(),
        team: team_id.map(team),
        explanation: "hardware/laptop is handled by desk-side".into(),
        trace: vec!["category hardware/laptop".into(), "team desk-side".into()],
        ..RoutingDecision::default()
    }
}

#[test]
fn a_routing_decision_is_recorded_with_its_trace_and_assigns_like_an_assignment() {
    let mut s = Scenario::logged(new_incident(1));
    let events = s
        .by(Actor::Rule("category-team".into()))
        .run(Command::Route(Box::new(decision("category-team", Some("desk-side")))));
    assert_eq!(names(&events), ["routed"]);
    let Event::Routed { rule, to, from, trace, .. } = &events[0] else { unreachable!() };
    assert_eq!((rule.as_str(), from), ("category-team", &None));
    assert_eq!(to.as_ref().map(|to| to.team.as_str()), Some("desk-side"));
    assert_eq!(trace.len(), 2);
    assert_eq!(events[0].visibility(), Visibility::Internal);
    let incident = s.incident();
    assert_eq!((incident.status, incident.tier()), (Status::Assigned, Some(Tier::SecondLine)));
    assert_eq!(incident.reassignments, 0);
}

#[test]
fn a_routing_decision_that_changes_nothing_is_still_recorded() {
    let mut s = Scenario::logged(NewIncident {
        assign: Some(AssignTo { team: team("desk-side"), agent: Some(person("r.evans")) }),
        ..new_incident(1)
    });
    let events = s.run(Command::Route(Box::new(decision("category-team", Some("desk-side")))));
    assert!(matches!(&events[..], [Event::Routed { to: None, from: None, .. }]));
    assert_eq!(s.incident().agent(), Some(&person("r.evans")));
    let events = s.run(Command::Route(Box::new(decision("no-match", None))));
    assert_eq!(names(&events), ["routed"]);
}

#[test]
fn routing_may_reprioritise_tag_and_note() {
    let mut s = Scenario::logged(new_incident(1));
    let events = s.run(Command::Route(Box::new(RoutingDecision {
        urgency: Some(Urgency::level(1).unwrap()),
        tags: ["Hardware".to_owned(), " vip-watch ".to_owned()].into(),
        note: Some("Check the loan pool".into()),
        ..decision("vip-watch", None)
    })));
    assert_eq!(names(&events), ["routed", "reprioritised", "work_note_added"]);
    let Event::Reprioritised { reason, .. } = &events[1] else { unreachable!() };
    assert!(reason.starts_with("routing rule vip-watch"), "{reason}");
    let incident = s.incident();
    assert_eq!(incident.priority().to_string(), "P3");
    let tags: Vec<&str> = incident.tags.iter().map(String::as_str).collect();
    assert_eq!(tags, ["hardware", "vip-watch"]);
    assert_eq!(incident.work_notes, 1);
    // Tags already there are not recorded again.
    let events = s.run(Command::Route(Box::new(RoutingDecision {
        tags: ["hardware".to_owned()].into(),
        ..decision("vip-watch", None)
    })));
    assert!(matches!(&events[..], [Event::Routed { tags, .. }] if tags.is_empty()));
}

#[test]
fn routing_decisions_are_checked() {
    let mut s = Scenario::logged(new_incident(4));
    let agent_only = RoutingDecision { agent: Some(person("r.evans")), ..decision("x", None) };
    assert_eq!(
        s.attempt(Command::Route(Box::new(agent_only))),
        Err(Error::AgentWithoutTeam(inc(4)))
    );
    assert_eq!(
        s.attempt(Command::Route(Box::new(decision("x", Some("nowhere"))))),
        Err(Error::UnknownTeam(team("nowhere")))
    );
    assert_eq!(
        s.attempt(Command::Route(Box::new(decision("  ", None)))),
        Err(Error::EmptyText("rule name"))
    );
    s.run(Command::Cancel { reason: "logged twice".into() });
    assert_eq!(
        s.attempt(Command::Route(Box::new(decision("x", Some("desk-side"))))),
        Err(Error::InvalidTransition {
            reference: inc(4),
            state: Status::Cancelled,
            command: "route"
        })
    );
}

#[test]
fn routing_decisions_have_a_stable_json_shape() {
    let json = serde_json::json!({"rule": "category-team", "team": "networks"});
    let decision: RoutingDecision = serde_json::from_value(json).unwrap();
    assert_eq!(decision.team, Some(team("networks")));
    let command = Command::Route(Box::new(decision));
    let value = serde_json::to_value(&command).unwrap();
    assert_eq!(value["type"], "route");
    assert_eq!(value["rule"], "category-team");
    assert_eq!(serde_json::from_value::<Command>(value).unwrap(), command);
}

#[test]
fn sla_marks_are_recorded_once_and_never_on_a_finished_incident() {
    // Given an incident an hour old
    let mut s = Scenario::logged(new_incident(13));
    s.after(60);
    let breach =
        Command::RecordSlaBreach { clock: "response".parse().unwrap(), cycle: 1, at: at(30) };
    // When the timer records the breach twice, as the desk's system actor
    s.by(Actor::System);
    let first = s.run(breach.clone());
    let second = s.run(breach.clone());
    // Then it is recorded once, as an internal event
    assert_eq!(names(&first), ["sla_breached"]);
    assert_eq!(first[0].visibility(), Visibility::Internal);
    assert!(second.is_empty());
    assert_eq!(s.incident().sla_marks.len(), 1);
    // And its JSON shape is stable
    assert_eq!(
        serde_json::to_value(&breach).unwrap(),
        serde_json::json!({"type": "record_sla_breach", "clock": "response", "cycle": 1, "at": "2026-03-02T09:30:00Z"})
    );
    // And once cancelled, the incident takes no more marks
    s.run(Command::Cancel { reason: "Duplicate call".into() });
    let warning = Command::RecordSlaWarning {
        clock: "resolution".parse().unwrap(),
        cycle: 1,
        threshold: crate::sla::Threshold::new(50).unwrap(),
        at: at(45),
    };
    assert!(matches!(
        s.attempt(warning),
        Err(Error::InvalidTransition {
            state: Status::Cancelled,
            command: "record_sla_warning",
            ..
        })
    ));
}
