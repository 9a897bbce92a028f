//! Incidents through the `Desk`: open (number, VIP lookup, route, persist), work them,
//! parent/child cascades in one commit, optimistic concurrency.

use std::sync::Arc;

use chrono::TimeDelta;
use desk::routing::CategoryRouter;
use desk::store::{RowKind, Store};
use desk::{Desk, Error};
use desk_core::Actor;
use desk_core::id::{IncidentRef, RecordId};
use desk_core::incident::{self, AssignTo, Command, Status};
use desk_core::record::Visibility;
use desk_core::tier::Tier;
use desk_memory::MemoryStore;

use crate::desk_support::{Fixture, Flaky, agent, event_names, laptop_fault, person};

#[tokio::test]
async fn an_incident_is_allocated_routed_by_category_and_persisted() {
    let f = Fixture::new().await;
    let opened = f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let incident = &opened.record;
    assert_eq!(incident.reference.to_string(), "INC-000001");
    assert_eq!((incident.status, incident.tier()), (Status::Assigned, Some(Tier::SecondLine)));
    assert_eq!(incident.team().map(|t| t.as_str()), Some("desk-side"));
    assert_eq!(opened.version, 2);
    let names: Vec<&str> =
        opened.events.iter().map(|r| desk_core::record::EventInfo::name(&r.event)).collect();
    assert_eq!(names, ["logged", "routed"]);
    assert_eq!(opened.events[0].actor, agent("a.patel"));
    assert_eq!(opened.events[1].actor, Actor::Rule(CategoryRouter::RULE.into()));
    let incident::Event::Routed { explanation, trace, .. } = &opened.events[1].event else {
        panic!("not routed: {:?}", opened.events[1]);
    };
    assert!(explanation.contains("Desk-side Support"), "{explanation}");
    assert_eq!(trace.len(), 2);

    // What was committed is what reads return: the record, its row and its history.
    let id: RecordId = incident.reference.into();
    let read = f.desk.incident(incident.reference).await.unwrap();
    assert_eq!((&read.record, read.version), (incident, 2));
    let row = f.desk.row(&id).await.unwrap();
    assert_eq!((row.kind, row.status.as_str(), row.open), (RowKind::Incident, "assigned", true));
    assert_eq!(row.team.as_ref().map(|t| t.as_str()), Some("desk-side"));
    assert_eq!(row.requester, Some(person("k.lee")));
    assert!(row.people.contains(&person("a.patel")) && row.people.contains(&person("k.lee")));
    assert_eq!(row.state["title"], "Laptop will not boot");
    assert_eq!(event_names(&f.desk, &id).await, ["logged", "routed"]);
}

#[tokio::test]
async fn a_vip_requesters_incident_is_uplifted_from_their_record() {
    let f = Fixture::new().await;
    let opened = f.desk.open_incident(&agent("a.patel"), laptop_fault("cllr.brown")).await.unwrap();
    let assessment = opened.record.assessment;
    assert_eq!(
        (assessment.from_matrix.to_string(), assessment.priority.to_string()),
        ("P4".into(), "P3".into())
    );
    // A requester the desk does not know is logged without an uplift.
    let stranger =
        f.desk.open_incident(&agent("a.patel"), laptop_fault("visitor.1")).await.unwrap();
    assert_eq!(stranger.record.priority().to_string(), "P4");
}

#[tokio::test]
async fn an_incident_is_assigned_worked_and_resolved() {
    let f = Fixture::new().await;
    let opened = f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let reference = opened.record.reference;
    let run = |command, actor: Actor, version| {
        let desk = f.desk.clone();
        async move { desk.execute_incident(&actor, reference, command, Some(version)).await }
    };
    let assign = Command::Assign(AssignTo {
        team: "desk-side".parse().unwrap(),
        agent: Some(person("r.evans")),
    });
    let assigned = run(assign, agent("a.patel"), 2).await.unwrap();
    assert_eq!(assigned.version, 3);
    f.clock.advance(TimeDelta::minutes(20));
    let started = run(Command::Start { agent: None }, agent("r.evans"), 3).await.unwrap();
    assert_eq!(started.record.status, Status::InProgress);
    let resolve =
        Command::Resolve { code: "replaced".parse().unwrap(), notes: "New SSD fitted".into() };
    let resolved = run(resolve, agent("r.evans"), 4).await.unwrap();
    assert_eq!(resolved.record.status, Status::Resolved);
    assert_eq!(resolved.events[0].at, f.desk.now());
    let row = f.desk.row(&reference.into()).await.unwrap();
    assert_eq!(
        (row.status.as_str(), row.open, row.agent),
        ("resolved", false, Some(person("r.evans")))
    );
    // A refusal is the incident's own typed error, and records nothing.
    let err = run(Command::Start { agent: None }, agent("r.evans"), 5).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Incident(incident::Error::InvalidTransition { state: Status::Resolved, .. })
        ),
        "{err}"
    );
    assert_eq!(f.desk.incident(reference).await.unwrap().version, 5);
}

/// Opens `n` incidents for k.lee.
async fn open_many(desk: &Desk, n: usize) -> Vec<IncidentRef> {
    let mut references = Vec::new();
    for _ in 0..n {
        let opened = desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
        references.push(opened.record.reference);
    }
    references
}

#[tokio::test]
async fn resolving_a_parent_resolves_its_children_in_the_same_commit() {
    let flaky = Flaky::new(Arc::new(MemoryStore::new()));
    let f = Fixture::on(Arc::new(flaky.clone())).await;
    let [parent, first, second] = open_many(&f.desk, 3).await[..] else { unreachable!() };
    for child in [first, second] {
        f.desk
            .execute_incident(&agent("a.patel"), child, Command::LinkParent { parent }, None)
            .await
            .unwrap();
    }
    let parent_state = f.desk.incident(parent).await.unwrap().record;
    assert_eq!(parent_state.children.len(), 2, "each link was adopted by the parent");

    // A commit that fails leaves everything as it was: the parent is not resolved without its
    // children, nor the children without the parent.
    let resolve =
        || Command::Resolve { code: "fixed".parse().unwrap(), notes: "Dock firmware".into() };
    flaky.fail_next_commit();
    let err =
        f.desk.execute_incident(&agent("r.evans"), parent, resolve(), None).await.unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err}");
    for reference in [parent, first, second] {
        assert!(f.desk.incident(reference).await.unwrap().record.status.is_open());
    }

    let before = flaky.commits().len();
    let resolved =
        f.desk.execute_incident(&agent("r.evans"), parent, resolve(), None).await.unwrap();
    assert_eq!(resolved.record.status, Status::Resolved);
    let commits = flaky.commits();
    assert_eq!(commits.len(), before + 1, "one commit for the parent and its children");
    let touched: Vec<RecordId> = commits[before].appends.iter().map(|a| a.record.clone()).collect();
    assert_eq!(touched, [parent.into(), first.into(), second.into()]);
    for child in [first, second] {
        let child = f.desk.incident(child).await.unwrap().record;
        assert_eq!(child.status, Status::Resolved);
        assert_eq!(child.resolution.unwrap().by_parent, Some(parent));
    }
    // The parent's public updates reach its children (they were resolved, so none is open; a
    // reopened child hears again).
    let reopen = Command::Reopen { reason: "Still black".into() };
    f.desk.execute_incident(&agent("a.patel"), first, reopen, None).await.unwrap();
    let update =
        Command::AddUpdate { visibility: Visibility::Public, text: "Engineer on site".into() };
    f.desk.execute_incident(&agent("r.evans"), parent, update, None).await.unwrap();
    assert_eq!(f.desk.incident(first).await.unwrap().record.public_updates, 1);
    assert_eq!(
        f.desk.incident(second).await.unwrap().record.public_updates,
        1,
        "a resolved child still hears"
    );
}

#[tokio::test]
async fn links_and_merges_are_checked_against_the_other_incident() {
    let f = Fixture::new().await;
    let [a, b, c] = open_many(&f.desk, 3).await[..] else { unreachable!() };
    let link = |child, parent| {
        let desk = f.desk.clone();
        async move {
            desk.execute_incident(&agent("a.patel"), child, Command::LinkParent { parent }, None)
                .await
        }
    };
    link(b, a).await.unwrap();
    // a has a child, so it cannot become one; c cannot link under b, which is a child.
    let err = link(a, c).await.unwrap_err();
    assert!(matches!(err, Error::Incident(incident::Error::Nesting(r)) if r == a), "{err}");
    let err = link(c, b).await.unwrap_err();
    assert!(matches!(err, Error::Incident(incident::Error::Nesting(r)) if r == b), "{err}");
    let missing = IncidentRef::from_number(99).unwrap();
    let err = link(c, missing).await.unwrap_err();
    assert!(matches!(&err, Error::NotFound(id) if *id == missing.into()), "{err}");
    // A merge closes the duplicate and records it on the target, in one commit.
    let merged = f
        .desk
        .execute_incident(&agent("a.patel"), c, Command::MergeInto { target: a }, None)
        .await
        .unwrap();
    assert_eq!(merged.record.status, Status::Merged);
    assert!(f.desk.incident(a).await.unwrap().record.duplicates.contains(&c));
}

#[tokio::test]
async fn a_command_on_a_stale_version_is_a_conflict_and_changes_nothing() {
    let f = Fixture::new().await;
    let reference = open_many(&f.desk, 1).await[0];
    let read = f.desk.incident(reference).await.unwrap();
    let note =
        |text: &str| Command::AddUpdate { visibility: Visibility::Internal, text: text.into() };
    f.desk
        .execute_incident(&agent("r.evans"), reference, note("Ordered a disk"), Some(read.version))
        .await
        .unwrap();
    let err = f
        .desk
        .execute_incident(&agent("a.patel"), reference, note("Called the user"), Some(read.version))
        .await
        .unwrap_err();
    match err {
        Error::Conflict { record, expected, actual } => {
            assert_eq!(
                (record, expected, actual),
                (reference.into(), read.version, read.version + 1)
            );
        }
        other => panic!("not a conflict: {other}"),
    }
    assert_eq!(f.desk.incident(reference).await.unwrap().record.work_notes, 1);
    assert!(f.desk.incident(IncidentRef::from_number(7).unwrap()).await.is_err());
}

desk_tests::for_each_backend!(
    concurrent_updates_lose_nothing_and_losers_get_conflict,
    two_desks_opening_at_once_get_distinct_gap_free_references,
);

/// Two desks on two handles of `h`'s store (two processes), the first with its people.
async fn two_desks(h: &desk_tests::Harness) -> [Desk; 2] {
    let first = Fixture::on(h.shared()).await;
    let second: Arc<dyn Store> = h.second().await;
    [first.desk.clone(), Fixture::bare(second).desk]
}

/// Runs `task(desk, n)` for each `n` below `tasks` at once (released together by a barrier),
/// alternating between `desks`; their results, in order.
async fn at_once<T, F>(desks: &[Desk; 2], tasks: usize, task: impl Fn(Desk, usize) -> F) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|n| {
            let work = task(desks[n % 2].clone(), n);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks);
    for handle in handles {
        results.push(handle.await.expect("the task ends"));
    }
    results
}

/// Many tasks update the same incidents from stale reads, through two desks on two store
/// handles (two processes): per round and incident exactly one wins, every other gets
/// `Conflict`, and the histories hold exactly the winners' events.
async fn concurrent_updates_lose_nothing_and_losers_get_conflict(
    h: desk_tests::Harness,
) -> desk_tests::Harness {
    const TASKS: usize = 8;
    const ROUNDS: usize = 4;
    let desks = two_desks(&h).await;
    let incidents = open_many(&desks[0], 2).await;
    let mut wins = 0;
    for round in 0..ROUNDS {
        for &reference in &incidents {
            let version = desks[0].incident(reference).await.unwrap().version;
            let results = at_once(&desks, TASKS, |desk, n| async move {
                let command = Command::AddUpdate {
                    visibility: Visibility::Internal,
                    text: format!("round {round}, task {n}"),
                };
                desk.execute_incident(&agent("r.evans"), reference, command, Some(version)).await
            })
            .await;
            let mut round_wins = 0;
            for result in results {
                match result {
                    Ok(outcome) => {
                        assert_eq!(outcome.version, version + 1);
                        round_wins += 1;
                    }
                    Err(Error::Conflict { expected, actual, .. }) => {
                        assert_eq!(expected, version);
                        assert!(actual > version);
                    }
                    Err(other) => panic!("a loser got {other}, not a conflict"),
                }
            }
            assert_eq!(round_wins, 1, "exactly one writer wins round {round} of {reference}");
            wins += round_wins;
        }
    }
    let mut notes = 0;
    for &reference in &incidents {
        let history = desks[1].history(&reference.into()).await.unwrap();
        notes += history.iter().filter(|s| s.event.name == "work_note_added").count();
        assert_eq!(desks[1].incident(reference).await.unwrap().record.work_notes as usize, ROUNDS);
    }
    assert_eq!(notes, wins, "every win is in a history, and nothing else");
    assert!(desks[0].verify_all().await.unwrap().is_ok());
    h
}

#[tokio::test]
async fn a_failed_open_leaves_no_gap_in_the_references() {
    let flaky = Flaky::new(Arc::new(MemoryStore::new()));
    let f = Fixture::on(Arc::new(flaky.clone())).await;
    let [first] = open_many(&f.desk, 1).await[..] else { unreachable!() };
    flaky.fail_next_commit();
    let err = f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err}");
    let [second] = open_many(&f.desk, 1).await[..] else { unreachable!() };
    assert_eq!((first.to_string(), second.to_string()), ("INC-000001".into(), "INC-000002".into()));
    // The reference was claimed in the commit that created the incident: one write each.
    let claims: Vec<_> = flaky.commits().iter().filter_map(|commit| commit.claim).collect();
    assert_eq!(claims, [first.reference(), second.reference()]);
}

/// Tasks open incidents at once through two desks on two store handles (two processes), so
/// each desk's idea of the last reference is often stale: every incident gets its own
/// reference, together they run from INC-000001 without a gap, and each was logged once.
async fn two_desks_opening_at_once_get_distinct_gap_free_references(
    h: desk_tests::Harness,
) -> desk_tests::Harness {
    const TASKS: usize = 6;
    const EACH: usize = 4;
    let desks = two_desks(&h).await;
    let opened =
        at_once(&desks, TASKS, |desk, _| async move { open_many(&desk, EACH).await }).await;
    let mut numbers: Vec<u32> =
        opened.into_iter().flatten().map(|r| r.reference().number().get()).collect();
    numbers.sort_unstable();
    let total = u32::try_from(TASKS * EACH).unwrap();
    assert_eq!(numbers, (1..=total).collect::<Vec<_>>(), "distinct and gap-free");
    for number in 1..=total {
        let id: RecordId = IncidentRef::from_number(number).unwrap().into();
        assert_eq!(event_names(&desks[1], &id).await.first().map(String::as_str), Some("logged"));
    }
    // Each desk goes on from the last reference either of them opened.
    for (n, desk) in desks.iter().enumerate() {
        let [next] = open_many(desk, 1).await[..] else { unreachable!() };
        assert_eq!(next.reference().number().get(), total + 1 + n as u32);
    }
    assert!(desks[0].verify_all().await.unwrap().is_ok());
    h
}
