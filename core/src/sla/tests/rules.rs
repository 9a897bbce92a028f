//! The engine's rules, one at a time, on the shipped council policy (London is on GMT in
//! February 2026; Monday is the 2nd).

use super::story::{COUNCIL_POLICY, Story, at, clock_id, hours, minutes, policy};
use crate::incident::HoldReason;
use crate::people::VipKind;
use crate::sla::{ClockState, Policy, Threshold};

fn threshold(percent: u8) -> Threshold {
    Threshold::new(percent).unwrap()
}

/// A policy with one clock, `body`, and a business day of core hours.
pub(super) fn one_clock(body: &str) -> Policy {
    policy(&format!("name = \"test\"\nversion = 1\nbusiness_day = \"9h45m\"\n[[clock]]\n{body}"))
}

/// Targets for every priority, all `target` except P1.
pub(super) fn targets(target: &str) -> String {
    format!(
        "targets = {{ P1 = \"15m\", P2 = \"{target}\", P3 = \"{target}\", P4 = \"{target}\", P5 = \"{target}\" }}\n"
    )
}

#[test]
fn a_response_clock_runs_from_logging_with_its_warnings_ahead() {
    // Given a P3 incident logged on Monday at 09:00 (response target 2h)
    let story = Story::logged("2026-02-02T09:00:00Z", 3);
    // When asked at 09:30
    let clock = story.clock("response", "2026-02-02T09:30:00Z");
    // Then it runs, due at 11:00, and next wakes for the 50 % warning at 10:00
    assert_eq!(clock.state, ClockState::Running);
    assert_eq!((clock.cycle, clock.target, clock.elapsed), (1, hours(2), minutes(30)));
    assert_eq!(clock.remaining, minutes(90));
    assert_eq!(clock.due, Some(at("2026-02-02T11:00:00Z")));
    assert!(clock.warnings.is_empty());
    let next = clock.next_warning.unwrap();
    assert_eq!((next.threshold, next.at), (threshold(50), at("2026-02-02T10:00:00Z")));
    assert_eq!(clock.next_wake, Some(at("2026-02-02T10:00:00Z")));
    // And later, two warnings have passed at their instants and the third is next
    let clock = story.clock("response", "2026-02-02T10:40:00Z");
    let passed: Vec<_> = clock.warnings.iter().map(|w| (w.threshold.percent(), w.at)).collect();
    assert_eq!(passed, [(50, at("2026-02-02T10:00:00Z")), (75, at("2026-02-02T10:30:00Z"))]);
    assert_eq!(clock.next_wake, Some(at("2026-02-02T10:48:00Z")));
}

#[test]
fn a_start_outside_hours_counts_from_the_next_opening() {
    // Given a P3 incident logged on Saturday morning
    let story = Story::logged("2026-02-07T10:00:00Z", 3);
    // When asked on Sunday
    let clock = story.clock("response", "2026-02-08T12:00:00Z");
    // Then nothing has counted, and the response is due two business hours into Monday
    assert_eq!(clock.elapsed, minutes(0));
    assert_eq!(clock.due, Some(at("2026-02-09T09:45:00Z")));
    assert_eq!(clock.next_wake, Some(at("2026-02-09T08:45:00Z")));
}

#[test]
fn a_clock_stopped_at_a_warnings_instant_has_not_passed_it() {
    // Given a P3 incident whose work starts at 10:30, exactly 75 % into the response target
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.at("2026-02-02T09:10:00Z").assign("service-desk").at("2026-02-02T10:30:00Z").start();
    // When asked later
    let clock = story.clock("response", "2026-02-02T15:00:00Z");
    // Then the response stopped met, with only the 50 % warning passed
    assert_eq!(clock.state, ClockState::Stopped);
    assert_eq!(clock.stopped_at, Some(at("2026-02-02T10:30:00Z")));
    assert_eq!(clock.elapsed, minutes(90));
    assert_eq!(clock.warnings.len(), 1);
    assert_eq!((clock.breached_at, clock.due, clock.next_wake), (None, None, None));
}

#[test]
fn a_running_clock_past_its_target_is_breached_at_the_due_instant() {
    // Given a P3 incident nobody answers
    let story = Story::logged("2026-02-02T09:00:00Z", 3);
    // When asked at 11:30
    let clock = story.clock("response", "2026-02-02T11:30:00Z");
    // Then it breached at 11:00 and needs no more waking
    assert_eq!(clock.breached_at, Some(at("2026-02-02T11:00:00Z")));
    assert_eq!(clock.due, Some(at("2026-02-02T11:00:00Z")));
    assert_eq!((clock.remaining, clock.elapsed), (minutes(0), minutes(150)));
    assert_eq!(clock.warnings.len(), 3);
    assert_eq!(clock.next_wake, None);
    assert_eq!(clock.state, ClockState::Running);
    // And at exactly 11:00 it has already breached (the scheduler wakes then)
    let clock = story.clock("response", "2026-02-02T11:00:00Z");
    assert_eq!(clock.breached_at, Some(at("2026-02-02T11:00:00Z")));
}

#[test]
fn a_target_used_up_at_a_close_is_due_at_that_close() {
    // Given a P3 incident logged at Monday's opening (resolution 3d = 3 × 9h45m)
    let story = Story::logged("2026-02-02T07:45:00Z", 3);
    // Then it is due at Wednesday's close, not Thursday morning
    let clock = story.clock("resolution", "2026-02-02T08:00:00Z");
    assert_eq!(clock.due, Some(at("2026-02-04T17:30:00Z")));
    // And asked on Thursday, it breached at that close
    let clock = story.clock("resolution", "2026-02-05T09:00:00Z");
    assert_eq!(clock.breached_at, Some(at("2026-02-04T17:30:00Z")));
}

#[test]
fn a_warning_used_up_at_a_close_passes_at_that_close() {
    // Given a P3 incident logged at 16:30 on a Friday: 50 % of 2h is used up at 17:30
    let story = Story::logged("2026-02-06T16:30:00Z", 3);
    // When asked on Saturday
    let clock = story.clock("response", "2026-02-07T12:00:00Z");
    // Then the 50 % warning passed at Friday's close, and the next wakes on Monday
    assert_eq!(clock.warnings[0].at, at("2026-02-06T17:30:00Z"));
    assert_eq!(clock.next_wake, Some(at("2026-02-09T08:15:00Z")));
}

#[test]
fn a_hold_awaiting_the_customer_pauses_resolution() {
    // Given a P2 incident (8h) worked from 09:00, on hold for the customer from 10:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 2);
    story.assign("service-desk").start();
    story.at("2026-02-02T10:00:00Z").hold(HoldReason::AwaitingCustomer);
    // Then while on hold the clock is paused, with no due instant and nothing to wake for
    let clock = story.clock("resolution", "2026-02-02T15:00:00Z");
    assert_eq!(clock.state, ClockState::Paused);
    assert_eq!((clock.elapsed, clock.due, clock.next_wake), (hours(1), None, None));
    // When the customer answers on Tuesday at 10:00
    story.at("2026-02-03T10:00:00Z").resume();
    // Then counting resumes from there: 1h + 1h by 11:00, the other 7h due at 17:00
    let clock = story.clock("resolution", "2026-02-03T11:00:00Z");
    assert_eq!(clock.state, ClockState::Running);
    assert_eq!(clock.elapsed, hours(2));
    assert_eq!(clock.due, Some(at("2026-02-03T17:00:00Z")));
}

#[test]
fn a_hold_outside_the_pause_list_keeps_counting() {
    // Given a P2 incident on hold awaiting a change, which the resolution clock does not pause for
    let mut story = Story::logged("2026-02-02T09:00:00Z", 2);
    story
        .assign("service-desk")
        .start()
        .at("2026-02-02T10:00:00Z")
        .hold(HoldReason::AwaitingChange);
    let clock = story.clock("resolution", "2026-02-02T12:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Running, hours(3)));
}

#[test]
fn keep_elapsed_measures_the_time_counted_against_the_new_target() {
    // Given a P3 incident, raised to P2 at 11:00 (resolution keeps elapsed time)
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.at("2026-02-02T11:00:00Z").reprioritise(2);
    // Then the 2h counted stay, measured against 8h: due at 17:00, same cycle
    let clock = story.clock("resolution", "2026-02-02T12:00:00Z");
    assert_eq!((clock.cycle, clock.priority.level()), (1, 2));
    assert_eq!((clock.target, clock.elapsed), (hours(8), hours(3)));
    assert_eq!(clock.due, Some(at("2026-02-02T17:00:00Z")));
}

#[test]
fn an_upgrade_past_the_new_target_breaches_at_the_change() {
    // Given a P4 incident (5d) raised to P2 (8h) after 10h45 of business time
    let mut story = Story::logged("2026-02-02T09:00:00Z", 4);
    story.at("2026-02-03T10:00:00Z").reprioritise(2);
    // Then every threshold and the breach pass at the change, not at some earlier instant
    let clock = story.clock("resolution", "2026-02-03T10:30:00Z");
    let change = at("2026-02-03T10:00:00Z");
    assert_eq!(clock.breached_at, Some(change));
    assert!(clock.warnings.iter().all(|w| w.at == change), "{:?}", clock.warnings);
    assert_eq!(clock.warnings.len(), 3);
}

#[test]
fn an_upgrade_at_the_weekend_breaches_at_the_next_opening() {
    // Given a P4 incident raised to P2 on Saturday after more than 8 business hours
    let mut story = Story::logged("2026-02-05T09:00:00Z", 4);
    story.at("2026-02-07T11:00:00Z").reprioritise(2);
    // Then the breach passes on Monday's opening, when the clock next counts
    let clock = story.clock("resolution", "2026-02-09T12:00:00Z");
    assert_eq!(clock.breached_at, Some(at("2026-02-09T07:45:00Z")));
    // And asked on Sunday, it has not passed yet but is what the engine wakes for
    let clock = story.clock("resolution", "2026-02-08T12:00:00Z");
    assert_eq!(clock.breached_at, None);
    assert_eq!(clock.next_wake, Some(at("2026-02-09T07:45:00Z")));
}

#[test]
fn a_downgrade_never_takes_back_a_breach() {
    // Given a P2 incident that breached its 8h at 17:00, then was lowered to P4 next morning
    let mut story = Story::logged("2026-02-02T09:00:00Z", 2);
    story.at("2026-02-03T09:00:00Z").reprioritise(4);
    let clock = story.clock("resolution", "2026-02-03T10:00:00Z");
    // Then the breach stays, and the new target's due instant lies ahead
    assert_eq!(clock.breached_at, Some(at("2026-02-02T17:00:00Z")));
    assert_eq!(clock.target, hours(5 * 9) + minutes(5 * 45));
    assert_eq!(clock.elapsed, hours(8) + minutes(30 + 135));
    assert!(clock.due.unwrap() > at("2026-02-03T10:00:00Z"));
}

#[test]
fn restart_starts_a_new_cycle_at_the_change() {
    // Given a P4 incident (response 4h, restarting on priority changes) raised to P2 at 10:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 4);
    story.at("2026-02-02T10:00:00Z").reprioritise(2);
    // Then the response starts again from 10:00 against 30m
    let clock = story.clock("response", "2026-02-02T10:10:00Z");
    assert_eq!((clock.cycle, clock.started_at), (2, Some(at("2026-02-02T10:00:00Z"))));
    assert_eq!((clock.elapsed, clock.target), (minutes(10), minutes(30)));
    assert_eq!(clock.due, Some(at("2026-02-02T10:30:00Z")));
    // Whereas a clock keeping elapsed time would have breached at the change
    let keep = one_clock(&format!(
        "id = \"response\"\nkind = \"response\"\ncalendar = \"core-hours\"\n{}start_on = [\"logged\"]\n",
        targets("4h").replace("P2 = \"4h\"", "P2 = \"30m\"")
    ));
    let clock = story.clock_of(&keep, "response", "2026-02-02T10:10:00Z");
    assert_eq!((clock.cycle, clock.breached_at), (1, Some(at("2026-02-02T10:00:00Z"))));
}

#[test]
fn a_reopened_incident_carries_on_against_its_resolution_target() {
    // Given a P3 incident resolved after an hour, then reopened the next morning at 09:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.at("2026-02-02T10:00:00Z").resolve();
    let clock = story.clock("resolution", "2026-02-02T12:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Stopped, hours(1)));
    story.at("2026-02-03T09:00:00Z").reopen();
    // Then the time while resolved is not counted, and the same cycle runs on
    let clock = story.clock("resolution", "2026-02-03T10:00:00Z");
    assert_eq!((clock.state, clock.cycle, clock.elapsed), (ClockState::Running, 1, hours(2)));
    assert_eq!(clock.stopped_at, None);
}

#[test]
fn customer_updates_reset_the_keep_in_loop_clock_and_keep_past_breaches() {
    // Given a P3 incident worked from Monday 09:00 (update every 1d = 9h45m)
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    let clock = story.clock("update", "2026-02-02T09:30:00Z");
    assert_eq!((clock.cycle, clock.started_at), (1, Some(at("2026-02-02T09:00:00Z"))));
    // When the customer is updated at 12:00, then not again until Tuesday 13:00
    story.at("2026-02-02T12:00:00Z").update();
    story.at("2026-02-03T13:00:00Z").update();
    // Then the second cycle breached at Tuesday 12:00 and a third runs from 13:00
    let clock = story.clock("update", "2026-02-03T14:00:00Z");
    assert_eq!((clock.cycle, clock.elapsed, clock.breached_at), (3, hours(1), None));
    assert_eq!(clock.past_breaches.len(), 1);
    assert_eq!(
        (clock.past_breaches[0].cycle, clock.past_breaches[0].at),
        (2, at("2026-02-03T12:00:00Z"))
    );
    assert_eq!(clock.breaches(), 1);
    // And the first response was unaffected by any of it
    let response = story.clock("response", "2026-02-03T14:00:00Z");
    assert_eq!(
        (response.state, response.stopped_at),
        (ClockState::Stopped, Some(at("2026-02-02T09:00:00Z")))
    );
}

#[test]
fn the_keep_in_loop_clock_pauses_while_resolved_and_stops_at_closure() {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start().at("2026-02-02T10:00:00Z").resolve();
    assert_eq!(story.clock("update", "2026-02-02T12:00:00Z").state, ClockState::Paused);
    story.at("2026-02-03T10:00:00Z").close();
    assert_eq!(story.clock("update", "2026-02-03T12:00:00Z").state, ClockState::Stopped);
    // A reopen from closed starts a fresh cycle
    story.at("2026-02-04T09:00:00Z").reopen();
    let clock = story.clock("update", "2026-02-04T10:00:00Z");
    assert_eq!((clock.state, clock.cycle, clock.elapsed), (ClockState::Running, 2, hours(1)));
}

#[test]
fn an_ola_counts_only_while_its_team_has_the_incident() {
    // Given a P3 incident with the service desk, then networks, desk-side, networks again
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk");
    assert_eq!(story.clock("ola-networks", "2026-02-02T09:30:00Z").state, ClockState::NotStarted);
    story.at("2026-02-02T10:00:00Z").assign("networks");
    story.at("2026-02-02T12:00:00Z").assign("desk-side");
    let clock = story.clock("ola-networks", "2026-02-02T13:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Paused, hours(2)));
    story.at("2026-02-02T14:00:00Z").assign("networks").start();
    // Then it counts the two stretches with networks
    let clock = story.clock("ola-networks", "2026-02-02T15:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Running, hours(3)));
    assert_eq!(clock.started_at, Some(at("2026-02-02T10:00:00Z")));
    // And a hold awaiting the supplier pauses it
    story.at("2026-02-02T15:00:00Z").hold(HoldReason::AwaitingSupplier);
    let clock = story.clock("ola-networks", "2026-02-02T17:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Paused, hours(3)));
}

#[test]
fn an_underpinning_contract_counts_while_the_supplier_has_it() {
    // Given a desk-phone fault passed to the telecoms supplier at 10:00 and back at 12:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").at("2026-02-02T10:00:00Z").assign("supplier-telecoms");
    story.at("2026-02-02T12:00:00Z").assign("networks");
    let clock = story.clock("uc-harbour-telecom", "2026-02-02T13:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Paused, hours(2)));
    // And a contract measured by holds counts only while awaiting the supplier
    let by_hold = one_clock(&format!(
        "id = \"uc\"\nkind = \"underpinning\"\ncalendar = \"core-hours\"\n{}run_while = [\"on_hold:awaiting_supplier\"]\nstop_on = [\"resolved\"]\n",
        targets("2d")
    ));
    assert_eq!(
        story.clock_of(&by_hold, "uc", "2026-02-02T13:00:00Z").state,
        ClockState::NotStarted
    );
    story.start().at("2026-02-02T13:00:00Z").hold(HoldReason::AwaitingSupplier);
    story.at("2026-02-02T16:00:00Z").resume();
    let clock = story.clock_of(&by_hold, "uc", "2026-02-02T17:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Paused, hours(3)));
    assert_eq!(clock.started_at, Some(at("2026-02-02T13:00:00Z")));
}

#[test]
fn cancelling_cancels_what_has_not_stopped() {
    // Given a P3 incident answered at 09:30 and cancelled at 10:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story
        .assign("service-desk")
        .at("2026-02-02T09:30:00Z")
        .start()
        .at("2026-02-02T10:00:00Z")
        .cancel();
    let clocks = story.clocks_at(&COUNCIL_POLICY, at("2026-02-03T10:00:00Z"));
    let state = |id: &str| clocks.iter().find(|c| c.id.as_str() == id).unwrap().state;
    // Then the response keeps its result; the others are cancelled, started or not
    assert_eq!(state("response"), ClockState::Stopped);
    assert_eq!(state("resolution"), ClockState::Cancelled);
    assert_eq!(state("update"), ClockState::Cancelled);
    assert_eq!(state("ola-networks"), ClockState::Cancelled);
    let resolution = clocks.iter().find(|c| c.id.as_str() == "resolution").unwrap();
    assert_eq!(
        (resolution.elapsed, resolution.stopped_at),
        (hours(1), Some(at("2026-02-02T10:00:00Z")))
    );
}

#[test]
fn a_vip_refinement_sets_the_keep_in_loop_target() {
    // Given a councillor's incident: P4 in the matrix, lifted to P3
    let mut story = Story::logged_for_vip("2026-02-02T09:00:00Z", 4, VipKind::ElectedMember);
    story.assign("service-desk").start();
    let clock = story.clock("update", "2026-02-02T09:30:00Z");
    // Then the VIP refinement's 4h applies instead of the clock's 1d
    assert_eq!((clock.priority.level(), clock.target), (3, hours(4)));
}

#[test]
fn recategorising_into_a_refined_category_keeps_the_elapsed_time() {
    // Given a P3 laptop fault, recategorised to the social care system after 2h
    let mut story = Story::logged_with("2026-02-02T09:00:00Z", 3, |new| {
        new.category = Some("hardware/laptop".parse().unwrap());
    });
    assert_eq!(story.clock("resolution", "2026-02-02T10:00:00Z").target, hours(29) + minutes(15));
    story.at("2026-02-02T11:00:00Z").recategorise("applications/social-care");
    // Then the 1d target applies to the 2h already counted: 7h45m more, due Tuesday 09:00
    let clock = story.clock("resolution", "2026-02-02T12:00:00Z");
    assert_eq!((clock.target, clock.elapsed, clock.cycle), (hours(9) + minutes(45), hours(3), 1));
    assert_eq!(clock.due, Some(at("2026-02-03T09:00:00Z")));
}

#[test]
fn p1_runs_around_the_clock() {
    // Given a P1 incident logged late on a Saturday
    let story = Story::logged("2026-02-07T23:00:00Z", 1);
    let response = story.clock("response", "2026-02-07T23:05:00Z");
    let resolution = story.clock("resolution", "2026-02-07T23:05:00Z");
    // Then it is answered within 15 real minutes and resolved within 4 real hours
    assert_eq!(response.due, Some(at("2026-02-07T23:15:00Z")));
    assert_eq!(resolution.due, Some(at("2026-02-08T03:00:00Z")));
}

#[test]
fn a_clock_not_started_shows_the_target_it_would_start_with() {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.reprioritise(2);
    let clock = story.clock("ola-networks", "2026-02-02T10:00:00Z");
    assert_eq!((clock.state, clock.cycle, clock.priority.level()), (ClockState::NotStarted, 0, 2));
    assert_eq!((clock.target, clock.started_at, clock.due), (hours(6), None, None));
    assert_eq!(clock_id("ola-networks"), clock.id);
}

#[test]
fn the_summary_takes_the_earliest_instants() {
    // Given a P3 incident worked at 09:00 (response met), updated never, at 11:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    let clocks = story.clocks_at(&COUNCIL_POLICY, at("2026-02-02T16:00:00Z"));
    let summary = crate::sla::Summary::of(&clocks);
    // The update clock (9h45m from 09:00) is due first: Tuesday 09:00; its 75 % warning is at
    // 16:18:45, still ahead, while the resolution's 50 % (14h37m30s) is further
    assert_eq!(summary.earliest_due, Some(at("2026-02-03T09:00:00Z")));
    assert_eq!(summary.first_warning_at, Some(at("2026-02-02T16:18:45Z")));
    assert!(!summary.warned);
    assert_eq!(summary.first_breach_at, None);
    assert_eq!(crate::sla::next_wake(&clocks), Some(at("2026-02-02T16:18:45Z")));
}

#[test]
fn a_routing_rules_assignment_moves_the_team_like_an_assignment() {
    // Given a P3 incident that a routing rule sends to networks at 10:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    let route = |team: &str| {
        crate::incident::Command::Route(Box::new(crate::incident::RoutingDecision {
            rule: "category-team".into(),
            team: Some(team.parse().unwrap()),
            ..Default::default()
        }))
    };
    story.at("2026-02-02T10:00:00Z").run(route("networks"));
    // Then networks' OLA counts from then, and a decision that moves nothing changes nothing
    story.at("2026-02-02T11:00:00Z").run(route("networks"));
    let clock = story.clock("ola-networks", "2026-02-02T12:00:00Z");
    assert_eq!((clock.state, clock.elapsed), (ClockState::Running, hours(2)));
    assert_eq!(clock.started_at, Some(at("2026-02-02T10:00:00Z")));
}
