//! The calendar bugs other service desks shipped (see DOMAIN.md), as tests.

use chrono::{Datelike, NaiveTime, TimeDelta, Weekday};
use desk_core::Timestamp;
use desk_core::calendar::BusinessCalendar;

fn calendar(body: &str) -> BusinessCalendar {
    BusinessCalendar::from_toml("regression.toml", &format!("name = \"regression\"\n{body}"))
        .unwrap()
}

fn core_hours() -> BusinessCalendar {
    let day = "[\"07:45-17:30\"]";
    calendar(&format!(
        "include = [\"england-and-wales\"]\n[hours]\nmon = {day}\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\n"
    ))
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

/// osTicket #6739: schedules miscalculated unless certain weekdays existed.
#[test]
fn a_calendar_with_only_tuesday_hours() {
    let tuesdays = calendar("[hours]\ntue = [\"09:00-17:00\"]\n");
    // Given a Monday start, when 10 hours are due
    let due = tuesdays.due(at("2026-01-12T10:00:00Z"), hours(10)).unwrap();
    // Then 8 are worked on Tuesday the 13th and 2 on Tuesday the 20th
    assert_eq!(due, at("2026-01-20T11:00:00Z"));
    assert_eq!(tuesdays.elapsed(at("2026-01-12T00:00:00Z"), at("2026-01-19T00:00:00Z")), hours(8));
    assert_eq!(tuesdays.next_opening(at("2026-01-14T12:00:00Z")), Some(at("2026-01-20T09:00:00Z")));
}

/// osTicket #6739, the other way round: a week that does not start on a Monday.
#[test]
fn a_calendar_with_no_monday() {
    let day = "[\"08:00-16:00\"]";
    let tue_to_fri =
        calendar(&format!("[hours]\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\n"));
    // A start on Monday counts from Tuesday's opening
    assert_eq!(
        tue_to_fri.due(at("2026-01-12T10:00:00Z"), hours(1)),
        Ok(at("2026-01-13T09:00:00Z"))
    );
    // Friday afternoon runs on to Tuesday, skipping the weekend and Monday
    assert_eq!(
        tue_to_fri.due(at("2026-01-16T15:00:00Z"), hours(2)),
        Ok(at("2026-01-20T09:00:00Z"))
    );
    // A week is 32 hours whichever day it is counted from
    for start in ["2026-01-12T00:00:00Z", "2026-01-14T12:34:00Z", "2026-01-17T08:00:00Z"] {
        let start = at(start);
        assert_eq!(tue_to_fri.elapsed(start, start + TimeDelta::days(7)), hours(32));
    }
}

/// A desk that opens only at the weekend.
#[test]
fn a_calendar_with_only_weekend_hours() {
    let weekend = calendar("[hours]\nsat = [\"10:00-16:00\"]\nsun = [\"10:00-14:00\"]\n");
    assert_eq!(weekend.due(at("2026-01-12T10:00:00Z"), hours(8)), Ok(at("2026-01-18T12:00:00Z")));
}

/// Zammad #4432, GLPI PR #22678: escalations firing at midnight or at weekends. A due instant is
/// always inside working time or exactly at a period's close.
#[test]
fn due_instants_fall_in_working_time_or_at_a_close() {
    let calendar = core_hours();
    let opening = NaiveTime::from_hms_opt(7, 45, 0).unwrap();
    let close = NaiveTime::from_hms_opt(17, 30, 0).unwrap();
    // Starts every 97 minutes over six weeks (including the Easter bank holidays), targets from
    // a quarter of an hour to two weeks
    let first = at("2026-03-23T00:00:00Z");
    for n in 0..(42 * 24 * 60 / 97) {
        let start = first + TimeDelta::minutes(97 * n);
        for minutes in [15, 60, 4 * 60, 585, 8 * 60, 24 * 60, 5 * 585, 10 * 585] {
            let due = calendar.due(start, TimeDelta::minutes(minutes)).unwrap();
            let local = calendar.local(due);
            assert!(
                !matches!(local.weekday(), Weekday::Sat | Weekday::Sun)
                    && !calendar.is_holiday(local.date_naive())
                    && local.time() > opening
                    && local.time() <= close,
                "{minutes} minutes from {start} due at {local}"
            );
            assert!(calendar.is_open(due - TimeDelta::seconds(1)));
        }
    }
}

/// A target used up exactly at a close is due at that close, not at the next opening (a
/// Friday close must not become Saturday midnight or Monday morning).
#[test]
fn a_target_used_up_at_a_close_is_due_then() {
    let core = core_hours();
    // Friday 09:30 GMT plus 8 hours is exactly Friday's close
    assert_eq!(core.due(at("2026-01-16T09:30:00Z"), hours(8)), Ok(at("2026-01-16T17:30:00Z")));
    // A split shift closes for lunch: 4¼ hours from 07:45 are due at 12:00, not 13:00
    let split = calendar("[hours]\ntue = [\"07:45-12:00\", \"13:00-17:30\"]\n");
    assert_eq!(
        split.due(at("2026-01-13T07:45:00Z"), TimeDelta::minutes(255)),
        Ok(at("2026-01-13T12:00:00Z"))
    );
    // And a second more runs on from the afternoon opening
    assert_eq!(
        split.due(at("2026-01-13T07:45:00Z"), TimeDelta::minutes(255) + TimeDelta::seconds(1)),
        Ok(at("2026-01-13T13:00:01Z"))
    );
}

/// A start outside hours (night, weekend, bank holiday) counts from the next opening.
#[test]
fn a_start_outside_hours_counts_from_the_next_opening() {
    let calendar = core_hours();
    for start in [
        "2026-01-13T03:00:00Z", // night
        "2026-01-17T12:00:00Z", // Saturday
        "2026-04-06T10:00:00Z", // Easter Monday
        "2026-12-25T09:00:00Z", // Christmas Day, then the Boxing Day substitute on the 28th
    ] {
        let start = at(start);
        let opening = calendar.next_opening(start).unwrap();
        assert!(opening > start && calendar.is_open(opening));
        assert_eq!(calendar.elapsed(start, opening), TimeDelta::zero());
        for target in [hours(1), hours(30)] {
            assert_eq!(calendar.due(start, target), calendar.due(opening, target));
        }
    }
    assert_eq!(calendar.next_opening(at("2026-12-25T09:00:00Z")), Some(at("2026-12-29T07:45:00Z")));
}

/// 24×7 calendars count real elapsed time: 23-hour and 25-hour days when the clocks change.
#[test]
fn round_the_clock_days_when_the_clocks_change() {
    for (zone, spring, autumn) in [
        ("Europe/London", "2026-03-29", "2026-10-25"),
        ("America/New_York", "2026-03-08", "2026-11-01"),
    ] {
        let calendar = calendar(&format!("timezone = \"{zone}\"\nalways_open = true\n"));
        let day = |date: &str| {
            let date: chrono::NaiveDate = date.parse().unwrap();
            let midnight = |d: chrono::NaiveDate| {
                d.and_hms_opt(0, 0, 0).unwrap().and_local_timezone(calendar.timezone()).unwrap()
            };
            let (from, to) = (midnight(date), midnight(date.succ_opt().unwrap()));
            calendar.elapsed(from.to_utc(), to.to_utc())
        };
        assert_eq!((day(spring), day(autumn)), (hours(23), hours(25)), "{zone}");
        assert_eq!(day("2026-06-01"), hours(24));
    }
}
