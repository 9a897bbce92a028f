//! SLA clocks through the desk: evaluated on every change into the row (due, warnings, breach,
//! wake-up), and warnings and breaches recorded by the timers exactly once — also when two
//! desk processes on one database fire the same incident at once.

use std::collections::BTreeSet;

use chrono::TimeDelta;
use desk::queries::PageRequest;
use desk::timers::Scheduler;
use desk_core::Timestamp;
use desk_core::id::{IncidentRef, RecordId};
use desk_core::incident::{Command, HoldReason};
use desk_core::sla::{self, ClockState};
use desk_tests::Harness;

use crate::desk_support::{Fixture, agent, event_names, laptop_fault, monday};

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

/// The marks an incident's history records, as `(clock, cycle, what)`, each as often as it
/// was recorded.
async fn recorded_marks(fixture: &Fixture, reference: IncidentRef) -> Vec<String> {
    let history = fixture.desk.history(&RecordId::from(reference)).await.expect("a history");
    history
        .into_iter()
        .filter(|stored| stored.event.name.starts_with("sla_"))
        .map(|stored| {
            let payload = &stored.event.payload;
            format!(
                "{} {} {} {}",
                stored.event.name, payload["clock"], payload["cycle"], payload["threshold"]
            )
        })
        .collect()
}

/// The marks the clocks say have passed, in the same form.
fn passed_marks(clocks: &[sla::Clock]) -> BTreeSet<String> {
    let mut marks = BTreeSet::new();
    for clock in clocks {
        for warning in &clock.warnings {
            marks.insert(format!(
                "sla_warning_passed \"{}\" {} {}",
                clock.id,
                clock.cycle,
                serde_json::json!(warning.threshold)
            ));
        }
        if clock.breached_at.is_some() {
            marks.insert(format!("sla_breached \"{}\" {} null", clock.id, clock.cycle));
        }
    }
    marks
}

async fn open_laptop_fault(fixture: &Fixture) -> IncidentRef {
    let outcome = fixture
        .desk
        .open_incident(&agent("a.patel"), laptop_fault("k.lee"))
        .await
        .expect("the incident opens");
    outcome.record.reference
}

#[tokio::test]
async fn every_change_writes_the_clocks_into_the_row() {
    // Given a P4 laptop fault logged at 09:00 on a Monday, on core hours
    let fixture = Fixture::new().await;
    let reference = open_laptop_fault(&fixture).await;
    let clocks = fixture.desk.incident_clocks(reference).await.expect("clocks");
    // Then its response clock runs to 13:00 (four business hours), and the row carries the
    // earliest due instant and the next wake-up the engine asks for
    let response = clocks.iter().find(|c| c.id.as_str() == "response").expect("a response clock");
    assert_eq!(response.state, ClockState::Running);
    assert_eq!(response.due, Some(monday() + TimeDelta::hours(4)));
    let row = fixture.desk.row(&reference.into()).await.expect("a row");
    let summary = sla::Summary::of(&clocks);
    assert_eq!(row.sla.due_at, summary.earliest_due);
    assert_eq!(row.sla.due_at, Some(monday() + TimeDelta::hours(4)));
    assert_eq!(row.wake_at, sla::next_wake(&clocks));
    assert_eq!(row.wake_at, Some(monday() + TimeDelta::hours(2)), "response's 50 % warning");
    assert!(!row.sla.warned);
    assert_eq!(row.sla.breached_at, None);

    // When work starts at 09:30, the response clock stops and the row moves on
    fixture.clock.advance(minutes(30));
    fixture
        .desk
        .execute_incident(&agent("r.evans"), reference, Command::Start { agent: None }, None)
        .await
        .expect("work starts");
    let clocks = fixture.desk.incident_clocks(reference).await.expect("clocks");
    let response = clocks.iter().find(|c| c.id.as_str() == "response").expect("a response clock");
    assert_eq!(response.state, ClockState::Stopped);
    let row = fixture.desk.row(&reference.into()).await.expect("a row");
    assert_eq!(row.sla.due_at, sla::Summary::of(&clocks).earliest_due);
    assert_eq!(row.wake_at, sla::next_wake(&clocks));
    assert!(row.sla.due_at > Some(monday() + TimeDelta::hours(4)));
}

#[tokio::test]
async fn timers_record_each_warning_and_breach_once() {
    // Given a P4 laptop fault nobody picks up
    let fixture = Fixture::new().await;
    let reference = open_laptop_fault(&fixture).await;

    // When the timers run at 12:10 (after response's 50 % and 75 % warnings), twice
    fixture.clock.set(monday() + minutes(190));
    let first = fixture.desk.fire_due_timers().await.expect("timers fire");
    let second = fixture.desk.fire_due_timers().await.expect("timers fire again");

    // Then every warning that passed is recorded, once, and the second round records nothing
    let clocks = fixture.desk.incident_clocks(reference).await.expect("clocks");
    let passed = passed_marks(&clocks);
    assert!(passed.contains("sla_warning_passed \"response\" 1 75"), "{passed:?}");
    let recorded = recorded_marks(&fixture, reference).await;
    assert_eq!(recorded.iter().cloned().collect::<BTreeSet<_>>(), passed);
    assert_eq!(recorded.len(), passed.len(), "no mark twice: {recorded:?}");
    assert_eq!(first.events as usize, passed.len());
    assert_eq!(second.events, 0);
    assert!(clocks.iter().flat_map(|c| &c.warnings).all(|w| w.recorded));

    // And the incident is at risk, but not yet past its SLA
    let row = fixture.desk.row(&reference.into()).await.expect("a row");
    assert!(row.sla.warned);
    assert!(row.wake_at > Some(fixture.desk.now()), "the next wake-up is still to come");
    let at_risk = fixture.desk.at_risk(minutes(30), PageRequest::first(10)).await.expect("at risk");
    assert_eq!(at_risk.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), [reference.into()]);
    let past = fixture.desk.past_sla(PageRequest::first(10)).await.expect("past SLA");
    assert!(past.rows.is_empty());

    // When 13:00 passes, the response breach is recorded and the incident is past its SLA
    fixture.clock.set(monday() + minutes(245));
    fixture.desk.fire_due_timers().await.expect("timers fire");
    let names = event_names(&fixture.desk, &reference.into()).await;
    assert_eq!(names.iter().filter(|n| *n == "sla_breached").count(), 1, "{names:?}");
    let row = fixture.desk.row(&reference.into()).await.expect("a row");
    assert_eq!(row.sla.breached_at, Some(monday() + TimeDelta::hours(4)));
    let past = fixture.desk.past_sla(PageRequest::first(10)).await.expect("past SLA");
    assert_eq!(past.rows.len(), 1);
}

#[tokio::test]
async fn a_mark_that_passed_between_commands_wakes_the_timers_at_once() {
    // Given a laptop fault whose response 50 % warning passes at 11:00 unrecorded
    let fixture = Fixture::new().await;
    let reference = open_laptop_fault(&fixture).await;
    // When an agent starts work at 11:30 and puts it on hold, before any timer ran
    fixture.clock.set(monday() + minutes(150));
    let start = Command::Start { agent: None };
    fixture
        .desk
        .execute_incident(&agent("r.evans"), reference, start, None)
        .await
        .expect("started");
    let hold = Command::PutOnHold {
        reason: HoldReason::AwaitingCustomer,
        note: "Asked Kim to try another charger".into(),
    };
    fixture.desk.execute_incident(&agent("r.evans"), reference, hold, None).await.expect("held");
    // Then the row asks to be woken at the warning's instant, which is already due
    let row = fixture.desk.row(&reference.into()).await.expect("a row");
    assert_eq!(row.wake_at, Some(monday() + minutes(120)));
    let report = fixture.desk.fire_due_timers().await.expect("timers fire");
    assert!(report.events >= 1);
    let recorded = recorded_marks(&fixture, reference).await;
    assert!(recorded.contains(&"sla_warning_passed \"response\" 1 50".to_owned()), "{recorded:?}");
}

#[tokio::test]
async fn a_cancelled_incident_has_no_timers() {
    let fixture = Fixture::new().await;
    let reference = open_laptop_fault(&fixture).await;
    fixture.clock.set(monday() + minutes(300));
    let cancel = Command::Cancel { reason: "Logged twice".into() };
    fixture
        .desk
        .execute_incident(&agent("a.patel"), reference, cancel, None)
        .await
        .expect("cancelled");
    let row = fixture.desk.row(&reference.into()).await.expect("a row");
    assert_eq!(row.wake_at, None);
    let report = fixture.desk.fire_due_timers().await.expect("timers fire");
    assert_eq!(report.events, 0);
}

#[tokio::test]
async fn the_scheduler_sleeps_until_the_next_wake_up() {
    // Given a running scheduler and a fresh laptop fault
    let fixture = Fixture::new().await;
    let reference = open_laptop_fault(&fixture).await;
    let scheduler = Scheduler::new(&fixture.desk);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        scheduler
            .run(async {
                stopped.await.ok();
            })
            .await;
    });
    let mut commits = fixture.desk.commits();
    commits.mark_unchanged();
    // When the clock passes the first warning
    fixture.clock.set(monday() + minutes(121));
    // Then the scheduler wakes and records it without being asked
    commits.changed().await.expect("the scheduler commits");
    let recorded = recorded_marks(&fixture, reference).await;
    assert!(recorded.contains(&"sla_warning_passed \"response\" 1 50".to_owned()), "{recorded:?}");
    stop.send(()).ok();
    running.await.expect("the scheduler stops");
}

#[tokio::test]
async fn the_clocks_explain_themselves() {
    let fixture = Fixture::new().await;
    let reference = open_laptop_fault(&fixture).await;
    fixture.clock.advance(minutes(45));
    let clock = "response".parse().expect("a clock id");
    let explanation =
        fixture.desk.explain_incident_clock(reference, &clock).await.expect("an explanation");
    assert_eq!(explanation.clock.elapsed, minutes(45));
    let unknown = "no-such-clock".parse().expect("a clock id");
    let error =
        fixture.desk.explain_incident_clock(reference, &unknown).await.expect_err("unknown");
    assert!(error.to_string().contains("no-such-clock"), "{error}");
}

desk_tests::for_each_backend!(two_desks_firing_together_record_each_mark_once);

/// Two desk processes on one database fire the same overdue incidents at the same instant.
async fn two_desks_firing_together_record_each_mark_once(h: Harness) -> Harness {
    let first = Fixture::on(h.shared()).await;
    let second = Fixture::bare(h.second().await);
    let mut references = Vec::new();
    for _ in 0..4 {
        references.push(open_laptop_fault(&first).await);
    }
    let late: Timestamp = monday() + minutes(245);
    first.clock.set(late);
    second.clock.set(late);
    let (a, b) = tokio::join!(first.desk.fire_due_timers(), second.desk.fire_due_timers());
    let (a, b) = (a.expect("the first desk fires"), b.expect("the second desk fires"));
    let mut total = 0;
    for reference in references {
        let clocks = first.desk.incident_clocks(reference).await.expect("clocks");
        let passed = passed_marks(&clocks);
        let recorded = recorded_marks(&first, reference).await;
        assert_eq!(recorded.len(), passed.len(), "each mark once: {recorded:?}");
        assert_eq!(recorded.into_iter().collect::<BTreeSet<_>>(), passed);
        total += passed.len();
        assert!(first.desk.verify(&reference.into()).await.expect("verify").is_ok());
    }
    assert_eq!((a.events + b.events) as usize, total, "{a:?} {b:?}");
    h
}
