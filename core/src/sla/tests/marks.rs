//! Recording warnings and breaches on the incident: once each, never moving a clock.

use super::story::{COUNCIL_POLICY, Story, at, clock_id};
use crate::incident::{self, Command, Status};
use crate::sla::{Clock, Mark, Passed, Threshold};

/// The clocks with what has been recorded forgotten, to compare the rest.
fn unrecorded_view(mut clocks: Vec<Clock>) -> Vec<Clock> {
    for clock in &mut clocks {
        clock.breach_recorded = false;
        clock.warnings.iter_mut().for_each(|w| w.recorded = false);
        clock.past_breaches.iter_mut().for_each(|b| b.recorded = false);
    }
    clocks
}

#[test]
fn the_unrecorded_marks_become_commands_that_record_them_once() {
    // Given a P3 incident nobody answered by 11:30 (response: 3 warnings and a breach)
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.at("2026-02-02T11:30:00Z");
    let now = story.now;
    let before = story.clocks_at(&COUNCIL_POLICY, now);
    let response = &before[0];
    let commands = response.unrecorded();
    let expected = [
        Command::RecordSlaWarning {
            clock: clock_id("response"),
            cycle: 1,
            threshold: Threshold::new(50).unwrap(),
            at: at("2026-02-02T10:00:00Z"),
        },
        Command::RecordSlaWarning {
            clock: clock_id("response"),
            cycle: 1,
            threshold: Threshold::new(75).unwrap(),
            at: at("2026-02-02T10:30:00Z"),
        },
        Command::RecordSlaWarning {
            clock: clock_id("response"),
            cycle: 1,
            threshold: Threshold::new(90).unwrap(),
            at: at("2026-02-02T10:48:00Z"),
        },
        Command::RecordSlaBreach {
            clock: clock_id("response"),
            cycle: 1,
            at: at("2026-02-02T11:00:00Z"),
        },
    ];
    assert_eq!(commands, expected);
    // When the desk records them
    for command in commands.clone() {
        assert_eq!(story.attempt(command), Ok(1));
    }
    // Then the clocks say they are recorded, and nothing else about them changed
    let after = story.clocks_at(&COUNCIL_POLICY, now);
    assert!(after[0].breach_recorded && after[0].warnings.iter().all(|w| w.recorded));
    assert!(after.iter().all(|clock| clock.unrecorded().is_empty()));
    assert_eq!(unrecorded_view(after), unrecorded_view(before));
    // And recording them again records nothing
    let length = story.history.len();
    for command in commands {
        assert_eq!(story.attempt(command), Ok(0));
    }
    assert_eq!(story.history.len(), length);
    assert_eq!(story.incident().sla_marks.len(), 4);
    assert!(story.incident().sla_marks.contains(&Mark {
        clock: clock_id("response"),
        cycle: 1,
        passed: Passed::Breach
    }));
}

#[test]
fn a_past_cycles_breach_is_still_to_be_recorded() {
    // Given an update clock whose second cycle breached unnoticed before the next update
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    story.at("2026-02-02T12:00:00Z").update();
    story.at("2026-02-03T13:00:00Z").update();
    let update = story.clock("update", "2026-02-03T13:30:00Z");
    // Then its breach is listed with the warning of that cycle gone by
    let commands = update.unrecorded();
    assert_eq!(
        commands,
        [Command::RecordSlaBreach {
            clock: clock_id("update"),
            cycle: 2,
            at: at("2026-02-03T12:00:00Z")
        }]
    );
    story.attempt(commands[0].clone()).unwrap();
    assert!(story.clock("update", "2026-02-03T13:30:00Z").past_breaches[0].recorded);
}

#[test]
fn a_finished_incident_refuses_marks() {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.cancel();
    let mark = Command::RecordSlaBreach { clock: clock_id("response"), cycle: 1, at: story.now };
    let error = story.attempt(mark).unwrap_err();
    assert!(
        matches!(
            error,
            incident::Error::InvalidTransition {
                state: Status::Cancelled,
                command: "record_sla_breach",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_resolved_incident_still_takes_a_late_mark() {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.at("2026-02-02T12:00:00Z").resolve();
    let mark = Command::RecordSlaBreach {
        clock: clock_id("response"),
        cycle: 1,
        at: at("2026-02-02T11:00:00Z"),
    };
    assert_eq!(story.attempt(mark), Ok(1));
}

#[test]
fn a_mark_from_the_future_or_cycle_zero_is_refused() {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    let future = Command::RecordSlaBreach {
        clock: clock_id("response"),
        cycle: 1,
        at: at("2026-02-02T11:00:00Z"),
    };
    let error = story.attempt(future).unwrap_err();
    assert_eq!(
        error.to_string(),
        "INC-000042: cannot record an SLA mark for clock `response`: it has not passed yet"
    );
    let zero = Command::RecordSlaWarning {
        clock: clock_id("response"),
        cycle: 0,
        threshold: Threshold::new(50).unwrap(),
        at: story.now,
    };
    assert!(matches!(story.attempt(zero), Err(incident::Error::SlaMark { .. })));
}

#[test]
fn marks_of_clocks_the_policy_does_not_have_are_ignored() {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    let before = story.clocks_at(&COUNCIL_POLICY, at("2026-02-02T09:30:00Z"));
    story.run(Command::RecordSlaBreach {
        clock: clock_id("retired-clock"),
        cycle: 1,
        at: story.now,
    });
    assert_eq!(story.clocks_at(&COUNCIL_POLICY, at("2026-02-02T09:30:00Z")), before);
}

#[test]
fn marks_round_trip_through_json() {
    let warning = Mark {
        clock: clock_id("resolution"),
        cycle: 2,
        passed: Passed::Warning(Threshold::new(75).unwrap()),
    };
    let json = serde_json::to_value(&warning).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"clock": "resolution", "cycle": 2, "passed": {"warning": 75}})
    );
    assert_eq!(serde_json::from_value::<Mark>(json).unwrap(), warning);
    let breach = Mark { clock: clock_id("resolution"), cycle: 1, passed: Passed::Breach };
    assert_eq!(serde_json::to_value(&breach).unwrap()["passed"], "breach");
}
