//! The SLA bugs other service desks shipped (see DOMAIN.md), one test each, so they stay out.

use chrono::{Datelike, TimeDelta};

use super::rules::targets;
use super::story::{CALENDARS, CONFIG, COUNCIL_POLICY, Story, at, calendar, hours, minutes};
use crate::Timestamp;
use crate::calendar::{BusinessCalendar, Calendars};
use crate::incident::HoldReason;
use crate::sla::{ClockState, IntervalKind, Policy, SlaError, Summary, evaluate, explain};

/// GLPI #10594: time on hold was counted 24×7 while the deadline used the calendar, so the
/// deadline moved by the wall-clock length of the hold. It must move by exactly the business
/// time the hold covered.
#[test]
fn glpi_10594_a_hold_moves_the_deadline_by_business_time_only() {
    // Given a P2 incident (8h) logged on Friday at 15:00: due Monday 13:15 if never held
    let mut story = Story::logged("2026-02-06T15:00:00Z", 2);
    story.assign("service-desk").start();
    let core = calendar("core-hours");
    assert_eq!(
        story.clock("resolution", "2026-02-06T15:30:00Z").due,
        Some(at("2026-02-09T13:15:00Z"))
    );
    // When it waits for the customer from Friday 16:00 to Monday 10:00 (66 wall-clock hours)
    story.at("2026-02-06T16:00:00Z").hold(HoldReason::AwaitingCustomer);
    story.at("2026-02-09T10:00:00Z").resume();
    // Then the deadline moves by the 3h45m of business time the hold covered: Monday 17:00
    let paused = core.elapsed(at("2026-02-06T16:00:00Z"), at("2026-02-09T10:00:00Z"));
    assert_eq!(paused, hours(3) + minutes(45));
    let clock = story.clock("resolution", "2026-02-09T10:30:00Z");
    assert_eq!(clock.due, Some(at("2026-02-09T17:00:00Z")));
    assert_eq!(clock.due, core.due(at("2026-02-06T15:00:00Z"), hours(8) + paused).ok());
    assert_eq!(clock.elapsed, hours(1) + minutes(30));
}

/// GLPI #6902 and #15605: when a priority change swapped the SLA, the time already spent on
/// hold was forgotten and the new deadline was counted from logging as if the incident had
/// never waited, so it breached at once.
#[test]
fn glpi_6902_15605_a_priority_change_keeps_the_time_on_hold_out() {
    // Given a P3 incident on hold for the customer from Monday 10:00 to Wednesday 10:00
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    story.at("2026-02-02T10:00:00Z").hold(HoldReason::AwaitingCustomer);
    story.at("2026-02-04T10:00:00Z").resume();
    // When it is raised to P2 (8h) on Wednesday at 11:00
    story.at("2026-02-04T11:00:00Z").reprioritise(2);
    // Then only the 2h worked count, and 6h remain from the change: due Wednesday 17:00
    let clock = story.clock("resolution", "2026-02-04T11:30:00Z");
    assert_eq!((clock.elapsed, clock.breached_at), (hours(2) + minutes(30), None));
    assert_eq!(clock.due, Some(at("2026-02-04T17:00:00Z")));
}

/// GLPI #6902 again, with the priority changed while the incident is still on hold.
#[test]
fn glpi_6902_a_priority_change_during_a_hold_keeps_the_clock_paused() {
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    story.at("2026-02-02T10:00:00Z").hold(HoldReason::AwaitingCustomer);
    story.at("2026-02-03T12:00:00Z").reprioritise(2);
    let clock = story.clock("resolution", "2026-02-03T15:00:00Z");
    assert_eq!(
        (clock.state, clock.elapsed, clock.target),
        (ClockState::Paused, hours(1), hours(8))
    );
    story.at("2026-02-04T10:00:00Z").resume();
    let clock = story.clock("resolution", "2026-02-04T11:00:00Z");
    assert_eq!((clock.elapsed, clock.due), (hours(2), Some(at("2026-02-04T17:00:00Z"))));
}

/// Whether `instant` is in working time on `calendar`, or exactly at the close of a period.
pub(super) fn in_working_time_or_at_a_close(
    calendar: &BusinessCalendar,
    instant: Timestamp,
) -> bool {
    calendar.is_open(instant)
        || calendar.elapsed(instant - TimeDelta::seconds(1), instant) > TimeDelta::zero()
}

/// Zammad #4432 and GLPI PR #22678: escalations fired at midnight and at weekends. Every
/// warning, breach and wake-up instant must fall in working time or exactly at a close.
#[test]
fn zammad_4432_glpi_22678_no_warning_at_midnight_or_at_the_weekend() {
    // Given a P3 incident logged late on a Friday afternoon
    let story = Story::logged("2026-02-06T17:00:00Z", 3);
    // When asked at Saturday midnight and on Sunday evening
    for when in ["2026-02-07T00:00:00Z", "2026-02-08T23:59:00Z"] {
        let clock = story.clock("response", when);
        // Then nothing has passed, and the next wake-up is on Monday morning
        assert!(clock.warnings.is_empty(), "{when}");
        assert_eq!(clock.next_wake, Some(at("2026-02-09T08:15:00Z")), "{when}");
    }
    // And across a week of logging times, every instant the engine names is in working time
    let core = calendar("core-hours");
    let mut logged = at("2026-02-05T00:07:00Z");
    while logged < at("2026-02-12T00:00:00Z") {
        let text = logged.to_rfc3339();
        let story = Story::logged(&text, 3);
        for days in [0, 1, 3, 9] {
            let now = logged + TimeDelta::days(days) + TimeDelta::hours(5);
            for clock in story.clocks_at(&COUNCIL_POLICY, now) {
                let instants = clock
                    .warnings
                    .iter()
                    .map(|w| w.at)
                    .chain(clock.breached_at)
                    .chain(clock.next_wake)
                    .chain(clock.due);
                for instant in instants {
                    assert!(
                        in_working_time_or_at_a_close(core, instant),
                        "{} logged {text}: {instant} ({})",
                        clock.id,
                        instant.weekday()
                    );
                }
            }
        }
        logged += TimeDelta::minutes(97);
    }
}

/// Zammad #5177: the keep-in-loop update target overrode the first-response target. Each clock
/// keeps its own target and due instant, whichever is shorter.
#[test]
fn zammad_5177_the_update_target_never_overrides_the_first_response() {
    // Given a policy whose update clock runs from logging with a shorter (1h) and a longer (8h)
    // target than the 2h response
    for (update, update_due) in [("1h", "2026-02-02T10:00:00Z"), ("8h", "2026-02-02T17:00:00Z")] {
        let text = format!(
            "name = \"test\"\nversion = 1\n\
             [[clock]]\nid = \"response\"\nkind = \"response\"\ncalendar = \"core-hours\"\n{}start_on = [\"logged\"]\nstop_on = [\"work_started\", \"customer_updated\"]\n\
             [[clock]]\nid = \"update\"\nkind = \"update\"\ncalendar = \"core-hours\"\n{}start_on = [\"logged\"]\nreset_on = [\"customer_updated\"]\n",
            targets("2h"),
            targets(update)
        );
        let policy = super::story::policy(&text);
        let story = Story::logged("2026-02-02T09:00:00Z", 3);
        let clocks = story.clocks_at(&policy, at("2026-02-02T09:10:00Z"));
        // Then the response is due at 11:00 either way, and the update at its own instant
        assert_eq!(clocks[0].due, Some(at("2026-02-02T11:00:00Z")), "update {update}");
        assert_eq!(clocks[1].due, Some(at(update_due)), "update {update}");
        // And the summary's earliest due is simply the earlier of the two
        assert_eq!(
            Summary::of(&clocks).earliest_due,
            Some(at(update_due).min(at("2026-02-02T11:00:00Z")))
        );
    }
    // And on the council policy the update clock starts only with the first response
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    assert_eq!(story.clock("update", "2026-02-02T09:10:00Z").state, ClockState::NotStarted);
    story.at("2026-02-02T09:40:00Z").update();
    let response = story.clock("response", "2026-02-02T10:00:00Z");
    assert_eq!(
        (response.state, response.elapsed, response.breached_at),
        (ClockState::Stopped, minutes(40), None)
    );
}

/// osTicket #6739: schedules gave wrong deadlines unless certain weekdays had hours. A calendar
/// open only on Tuesdays and Thursdays must work like any other.
#[test]
fn os_ticket_6739_a_calendar_without_mondays_or_weekends() {
    // Given a calendar open 09:00-17:00 on Tuesdays and Thursdays only, and a clock on it
    let mut calendars = Calendars::new();
    for calendar in CALENDARS.iter() {
        calendars.insert(calendar.clone()).unwrap();
    }
    let text = "name = \"tue-thu\"\n[hours]\ntue = [\"09:00-17:00\"]\nthu = [\"09:00-17:00\"]\n";
    calendars.insert(BusinessCalendar::from_toml("tue-thu.toml", text).unwrap()).unwrap();
    let policy = Policy::from_toml(
        "p.toml",
        &format!(
            "name = \"p\"\nversion = 1\n[[clock]]\nid = \"resolution\"\nkind = \"resolution\"\ncalendar = \"tue-thu\"\n{}start_on = [\"logged\"]\npause_while = [\"on_hold\"]\n",
            targets("2h")
        ),
        &calendars,
        &CONFIG,
    )
    .unwrap();
    // When a P3 incident is logged on Monday, worked, held on Tuesday 10:00 and resumed on Wednesday
    let mut story = Story::logged("2026-02-02T10:00:00Z", 3);
    story.assign("service-desk").start();
    story.at("2026-02-03T10:00:00Z").hold(HoldReason::AwaitingCustomer);
    story.at("2026-02-04T12:00:00Z").resume();
    let clocks = evaluate(&story.history, &policy, &calendars, at("2026-02-05T09:30:00Z")).unwrap();
    // Then Tuesday's hour and Thursday's half hour count, and the last half hour is due at 10:00
    assert_eq!(clocks[0].elapsed, minutes(90));
    assert_eq!(clocks[0].due, Some(at("2026-02-05T10:00:00Z")));
}

/// osTicket #3034: SLA clocks could not be paused at all. A hold the policy names pauses the
/// clock, for as long as it lasts, and the explanation says which event paused it.
#[test]
fn os_ticket_3034_a_clock_pauses_while_the_customer_is_awaited() {
    // Given a P3 incident held for the customer for a whole week
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    story.at("2026-02-02T10:00:00Z").hold(HoldReason::AwaitingCustomer);
    // Then nothing counts while it waits
    for when in ["2026-02-02T12:00:00Z", "2026-02-05T12:00:00Z", "2026-02-09T09:59:00Z"] {
        let clock = story.clock("resolution", when);
        assert_eq!(
            (clock.state, clock.elapsed, clock.breached_at),
            (ClockState::Paused, hours(1), None)
        );
    }
    // And the explanation shows the pause, begun by the hold
    let resolution = "resolution".parse().unwrap();
    let explained = explain(
        &story.history,
        &COUNCIL_POLICY,
        &CALENDARS,
        &resolution,
        at("2026-02-09T09:59:00Z"),
    )
    .unwrap();
    let last = explained.intervals.last().unwrap();
    assert_eq!((last.kind, last.event.as_str()), (IntervalKind::Paused, "put_on_hold"));
    assert_eq!(last.from, at("2026-02-02T10:00:00Z"));
}

/// ServiceNow and Jira Service Management "repair" SLAs by replaying whatever history they
/// have, guessing over the gaps. A history with a gap, a missing start or time running
/// backwards is refused with a typed error instead.
#[test]
fn servicenow_jsm_an_incomplete_history_is_refused_not_repaired() {
    // Given a P3 incident held for the customer on Monday and resumed on Tuesday
    let mut story = Story::logged("2026-02-02T09:00:00Z", 3);
    story.assign("service-desk").start();
    story.at("2026-02-02T10:00:00Z").hold(HoldReason::AwaitingCustomer);
    story.at("2026-02-03T10:00:00Z").resume();
    story.at("2026-02-03T11:00:00Z").note();
    let now = at("2026-02-03T12:00:00Z");
    let calendars = &*CALENDARS;
    // When the resume is missing (a guess would count the pause as still running)
    let mut gap = story.history.clone();
    gap.remove(4);
    let error = evaluate(&gap, &COUNCIL_POLICY, calendars, now).unwrap_err();
    assert!(matches!(error, SlaError::SeqGap { previous: 4, found: 6, .. }), "{error}");
    // When the start of the history is missing
    let error = evaluate(&story.history[2..], &COUNCIL_POLICY, calendars, now).unwrap_err();
    assert!(matches!(error, SlaError::NotFromTheStart { seq: 3, .. }), "{error}");
    // When time runs backwards
    let mut backwards = story.history.clone();
    backwards[4].at = at("2026-02-02T09:30:00Z");
    let error = evaluate(&backwards, &COUNCIL_POLICY, calendars, now).unwrap_err();
    assert!(matches!(error, SlaError::TimeWentBack { seq: 5, .. }), "{error}");
    // And the complete history evaluates
    assert!(evaluate(&story.history, &COUNCIL_POLICY, calendars, now).is_ok());
}
