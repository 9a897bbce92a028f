//! Explaining a clock, and re-running incidents under another policy version.

use super::story::{CALENDARS, COUNCIL, COUNCIL_POLICY, Story, at, clock_id, hours, policy};
use crate::incident::HoldReason;
use crate::people::VipKind;
use crate::sla::{ClockState, IntervalKind, SlaError, explain, what_if};

#[test]
fn an_explanation_lists_each_interval_with_its_cause() {
    // Given a P2 incident worked from 09:00, on hold for the customer 10:00-11:00, lowered to P3 at 12:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 2);
    story.assign("service-desk").start();
    story.at("2026-02-02T10:00:00Z").hold(HoldReason::AwaitingCustomer);
    story.at("2026-02-02T11:00:00Z").resume();
    story.at("2026-02-02T12:00:00Z").reprioritise(3);
    // When the resolution clock is explained at 14:00
    let explained = explain(
        &story.history,
        &COUNCIL_POLICY,
        &CALENDARS,
        &clock_id("resolution"),
        at("2026-02-02T14:00:00Z"),
    )
    .unwrap();
    // Then its intervals tell the story, each begun by an event
    let intervals: Vec<_> = explained
        .intervals
        .iter()
        .map(|i| (i.from, i.to, i.kind, i.counted, i.seq, i.event.as_str(), i.priority.level()))
        .collect();
    assert_eq!(
        intervals,
        [
            (
                at("2026-02-02T09:00:00Z"),
                at("2026-02-02T10:00:00Z"),
                IntervalKind::Counted,
                hours(1),
                1,
                "logged",
                2
            ),
            (
                at("2026-02-02T10:00:00Z"),
                at("2026-02-02T11:00:00Z"),
                IntervalKind::Paused,
                hours(0),
                4,
                "put_on_hold",
                2
            ),
            (
                at("2026-02-02T11:00:00Z"),
                at("2026-02-02T12:00:00Z"),
                IntervalKind::Counted,
                hours(1),
                5,
                "resumed",
                2
            ),
            (
                at("2026-02-02T12:00:00Z"),
                at("2026-02-02T14:00:00Z"),
                IntervalKind::Counted,
                hours(2),
                6,
                "reprioritised",
                3
            ),
        ]
    );
    // And the counted time adds up to the clock's elapsed time
    let counted = explained.intervals.iter().map(|i| i.counted).fold(hours(0), |a, b| a + b);
    assert_eq!(counted, explained.clock.elapsed);
    // And the target is explained
    let target = &explained.target;
    assert_eq!(
        (target.priority.level(), target.written.to_string(), target.refinement),
        (3, "3d".into(), None)
    );
    assert_eq!(
        target.why,
        "P3: 3d from the clock's target for P3, counted on core-hours (the clock's calendar)"
    );
    assert_eq!((explained.policy.name.as_str(), explained.policy.version), ("council-standard", 1));
    assert_eq!(explained.record.to_string(), "INC-000042");
    // And the whole explanation survives JSON
    let json = serde_json::to_value(&explained).unwrap();
    assert_eq!(json["intervals"][1]["kind"], "paused");
    assert_eq!(json["intervals"][1]["counted"], 0);
    assert_eq!(json["target"]["written"], "3d");
    assert_eq!(serde_json::from_value::<crate::sla::Explanation>(json).unwrap(), explained);
}

#[test]
fn an_explanation_names_the_refinement_and_calendar_that_applied() {
    let mut story = Story::logged_for_vip("2026-02-07T09:00:00Z", 2, VipKind::ChiefOfficer);
    story.assign("service-desk").start();
    let now = at("2026-02-07T09:30:00Z");
    // A chief officer's P2 is lifted to P1: its response runs on 24x7
    let response =
        explain(&story.history, &COUNCIL_POLICY, &CALENDARS, &clock_id("response"), now).unwrap();
    assert!(response.target.calendar_for_priority);
    assert_eq!(
        response.target.why,
        "P1: 15m from the clock's target for P1, counted on 24x7 (its calendar for P1)"
    );
    // A councillor's keep-in-loop target: P3 in the matrix is lifted to P2, which the VIP
    // refinement does not cover; P4 is lifted to P3, which it does
    let update = |priority| {
        let mut story =
            Story::logged_for_vip("2026-02-02T09:00:00Z", priority, VipKind::ElectedMember);
        story.assign("service-desk").start();
        let when = at("2026-02-02T09:30:00Z");
        explain(&story.history, &COUNCIL_POLICY, &CALENDARS, &clock_id("update"), when)
            .unwrap()
            .target
    };
    let lifted_to_p2 = update(3);
    assert_eq!(lifted_to_p2.refinement, None);
    assert_eq!(
        lifted_to_p2.why,
        "P2: 2h from the clock's target for P2, counted on core-hours (the clock's calendar)"
    );
    let lifted_to_p3 = update(4);
    assert_eq!(lifted_to_p3.refinement, Some(0));
    assert_eq!(
        lifted_to_p3.why,
        "P3: 4h from refinement 0 (vip elected_member, chief_officer), counted on core-hours (the clock's calendar)"
    );
}

#[test]
fn explaining_a_clock_the_policy_lacks_is_refused() {
    let story = Story::logged("2026-02-02T09:00:00Z", 3);
    let error = explain(&story.history, &COUNCIL_POLICY, &CALENDARS, &clock_id("nope"), story.now)
        .unwrap_err();
    assert_eq!(error.to_string(), "policy `council-standard` has no clock `nope`");
    assert!(matches!(error, SlaError::UnknownClock { .. }));
}

#[test]
fn what_if_compares_two_policy_versions_incident_by_incident() {
    // Given version 2 of the council policy, with P3 resolution cut from 3d to 2d
    let stricter = policy(
        &COUNCIL
            .replace("version = 1", "version = 2")
            .replace("P3 = \"3d\", P4 = \"5d\"", "P3 = \"2d\", P4 = \"5d\""),
    );
    // And a P3 incident resolved after 22h30m of business time, one resolved in an hour, and a
    // history with a gap
    let mut slow = Story::logged("2026-02-02T09:00:00Z", 3);
    slow.assign("service-desk").start().at("2026-02-04T12:00:00Z").resolve();
    let mut quick = Story::logged("2026-02-02T09:00:00Z", 3);
    quick.assign("service-desk").start().at("2026-02-02T10:00:00Z").resolve();
    let mut broken = quick.history.clone();
    broken.remove(1);
    let histories = [slow.history.as_slice(), quick.history.as_slice(), broken.as_slice()];
    // When both versions are run
    let run =
        what_if(histories, &COUNCIL_POLICY, &stricter, &CALENDARS, at("2026-02-05T09:00:00Z"))
            .unwrap();
    // Then the slow incident's resolution breaches only under version 2
    let slow_resolution = run
        .comparisons
        .iter()
        .find(|c| c.clock.as_str() == "resolution" && c.record.to_string() == "INC-000042")
        .unwrap();
    let (current, other) =
        (slow_resolution.current.as_ref().unwrap(), slow_resolution.other.as_ref().unwrap());
    assert_eq!(
        (current.state, current.breaches, current.breached_at),
        (ClockState::Stopped, 0, None)
    );
    assert_eq!((other.breaches, other.breached_at), (1, Some(at("2026-02-04T09:00:00Z"))));
    // And the totals count clocks: the slow incident's keep-in-loop breached under both
    assert_eq!((run.totals.incidents, run.totals.refused), (2, 1));
    assert_eq!((run.totals.breached_current, run.totals.breached_other), (1, 2));
    assert_eq!((run.totals.newly_breached, run.totals.no_longer_breached), (1, 0));
    assert_eq!(run.comparisons.len(), 10);
    assert!(run.refused[0].error.contains("seq 3 follows seq 1"), "{:?}", run.refused);
    assert_eq!((run.other.version, run.current.version), (2, 1));
    // And the whole run survives JSON
    let json = serde_json::to_string(&run).unwrap();
    assert_eq!(serde_json::from_str::<crate::sla::WhatIf>(&json).unwrap(), run);
}
