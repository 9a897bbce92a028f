//! Histories the engine refuses rather than guess over.

use super::story::{CALENDARS, COUNCIL_POLICY, Story, at};
use crate::id::IncidentRef;
use crate::sla::{SlaError, evaluate};

fn story() -> Story {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").at("2026-02-02T09:30:00Z").start();
    story
}

fn refusal(history: &[crate::record::Recorded<crate::incident::Event>], now: &str) -> SlaError {
    evaluate(history, &COUNCIL_POLICY, &CALENDARS, at(now)).unwrap_err()
}

#[test]
fn an_empty_history_is_refused() {
    assert_eq!(refusal(&[], "2026-02-02T10:00:00Z"), SlaError::EmptyHistory);
}

#[test]
fn a_history_that_does_not_start_at_seq_1_is_refused() {
    let mut history = story().history;
    for recorded in &mut history {
        recorded.seq += 10;
    }
    let error = refusal(&history, "2026-02-02T10:00:00Z");
    assert!(matches!(error, SlaError::NotFromTheStart { seq: 11, event: "logged", .. }), "{error}");
}

#[test]
fn events_of_another_incident_are_refused() {
    let mut history = story().history;
    history[2].record = IncidentRef::from_number(7).unwrap().into();
    let error = refusal(&history, "2026-02-02T10:00:00Z");
    assert!(matches!(error, SlaError::MixedRecords { seq: 3, .. }), "{error}");
    assert!(error.to_string().contains("INC-000007"), "{error}");
}

#[test]
fn a_second_logging_is_refused() {
    let mut history = story().history;
    let mut again = history[0].clone();
    again.seq = 4;
    again.at = at("2026-02-02T09:45:00Z");
    history.push(again);
    let error = refusal(&history, "2026-02-02T10:00:00Z");
    assert!(matches!(error, SlaError::LoggedTwice { seq: 4, .. }), "{error}");
}

#[test]
fn asking_about_a_time_before_the_last_event_is_refused() {
    let error = refusal(&story().history, "2026-02-02T09:15:00Z");
    assert_eq!(
        error.to_string(),
        "INC-000042: asked about 2026-02-02 09:15:00 UTC, before its last event at 2026-02-02 09:30:00 UTC"
    );
}

#[test]
fn events_at_the_same_instant_are_in_order() {
    // Logging, assigning and starting in the same instant is an ordinary history
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    assert!(
        evaluate(&story.history, &COUNCIL_POLICY, &CALENDARS, at("2026-02-02T09:00:00Z")).is_ok()
    );
}

#[test]
fn a_policy_naming_a_calendar_the_desk_lacks_is_refused_at_evaluation() {
    let definition = COUNCIL_POLICY.definition().clone();
    let mut json = serde_json::to_value(&definition).unwrap();
    json["clock"][0]["calendar"] = "night-shift".into();
    let policy: crate::sla::Policy = serde_json::from_value(json).unwrap();
    let error =
        evaluate(&story().history, &policy, &CALENDARS, at("2026-02-02T10:00:00Z")).unwrap_err();
    assert_eq!(error, SlaError::UnknownCalendar("night-shift".parse().unwrap()));
}
