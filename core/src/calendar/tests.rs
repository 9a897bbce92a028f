//! The documented semantics of business calendars, one example each.

use chrono::TimeDelta;

use super::*;

fn calendar(body: &str) -> BusinessCalendar {
    BusinessCalendar::from_toml("test.toml", &format!("name = \"test\"\n{body}")).unwrap()
}

fn core_hours() -> BusinessCalendar {
    calendar(
        r#"
        include = ["england-and-wales"]
        [hours]
        mon = ["07:45-17:30"]
        tue = ["07:45-17:30"]
        wed = ["07:45-17:30"]
        thu = ["07:45-17:30"]
        fri = ["07:45-17:30"]
        "#,
    )
}

fn sundays(period: &str) -> BusinessCalendar {
    calendar(&format!("[hours]\nsun = [\"{period}\"]\n"))
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

#[test]
fn a_start_outside_hours_counts_from_the_next_opening() {
    // Given core hours, when a 4-hour target starts on Friday evening
    let due = core_hours().due(at("2026-01-09T18:00:00Z"), hours(4)).unwrap();
    // Then it is due on Monday at 11:45
    assert_eq!(due, at("2026-01-12T11:45:00Z"));
}

#[test]
fn a_target_used_up_at_a_close_is_due_at_that_close() {
    // Given core hours, when 9¾ hours start at Monday's opening
    let due = core_hours().due(at("2026-01-12T07:45:00Z"), TimeDelta::minutes(585)).unwrap();
    // Then it is due at Monday's close, not Tuesday's opening
    assert_eq!(due, at("2026-01-12T17:30:00Z"));
}

#[test]
fn periods_are_wall_clock_times_in_summer_too() {
    // Given core hours, when 9¾ hours start at a summer Monday's opening (BST, UTC+1)
    let due = core_hours().due(at("2026-06-08T06:45:00Z"), TimeDelta::minutes(585)).unwrap();
    // Then it is due at 17:30 BST
    assert_eq!(due, at("2026-06-08T16:30:00Z"));
}

#[test]
fn bank_holidays_are_closed() {
    // Given core hours, when 1 hour starts on the Friday before the 2026 late summer bank holiday
    let due = core_hours().due(at("2026-08-28T16:00:00Z"), hours(1)).unwrap();
    // Then 30 minutes are worked on Friday and the rest on Tuesday, 07:45 BST onwards
    assert_eq!(due, at("2026-09-01T07:15:00Z"));
    assert!(core_hours().is_holiday(NaiveDate::from_ymd_opt(2026, 8, 31).unwrap()));
}

#[test]
fn a_period_opens_at_its_start_and_is_closed_at_its_end() {
    let calendar = core_hours();
    assert!(calendar.is_open(at("2026-01-12T07:45:00Z")));
    assert!(!calendar.is_open(at("2026-01-12T07:44:59.999Z")));
    assert!(!calendar.is_open(at("2026-01-12T17:30:00Z")));
    assert_eq!(calendar.next_opening(at("2026-01-12T17:30:00Z")), Some(at("2026-01-13T07:45:00Z")));
    assert_eq!(calendar.next_opening(at("2026-01-12T12:00:00Z")), Some(at("2026-01-12T12:00:00Z")));
}

#[test]
fn round_the_clock_days_have_23_and_25_hours_when_the_clocks_change() {
    let calendar = calendar("always_open = true\n");
    // Given London's spring-forward Sunday, local midnight to local midnight
    let spring = calendar.elapsed(at("2026-03-29T00:00:00Z"), at("2026-03-29T23:00:00Z"));
    // And its fall-back Sunday
    let autumn = calendar.elapsed(at("2026-10-24T23:00:00Z"), at("2026-10-26T00:00:00Z"));
    assert_eq!((spring, autumn), (hours(23), hours(25)));
    // And a 24-hour target from Saturday noon is due at 13:00 BST on Sunday, not noon
    assert_eq!(calendar.due(at("2026-03-28T12:00:00Z"), hours(24)), Ok(at("2026-03-29T12:00:00Z")));
}

#[test]
fn edges_in_the_skipped_hour_take_effect_when_the_clocks_go_forward() {
    let (day_before, day_after) = (at("2026-03-28T12:00:00Z"), at("2026-03-30T00:00:00Z"));
    // 00:00-01:30 ends at 01:00 GMT, the moment the clocks go forward: one hour
    let early = sundays("00:00-01:30");
    assert_eq!(early.elapsed(day_before, day_after), hours(1));
    assert_eq!(early.due(day_before, hours(1)), Ok(at("2026-03-29T01:00:00Z")));
    // 01:30-03:00 opens at 02:00 BST (01:00 UTC): one hour
    let late = sundays("01:30-03:00");
    assert_eq!(late.next_opening(day_before), Some(at("2026-03-29T01:00:00Z")));
    assert_eq!(late.elapsed(day_before, day_after), hours(1));
    // 01:15-01:45 never happens that day; the next Sunday it opens at 01:15 BST
    let inside = sundays("01:15-01:45");
    assert_eq!(inside.elapsed(day_before, day_after), TimeDelta::zero());
    assert_eq!(inside.next_opening(day_before), Some(at("2026-04-05T00:15:00Z")));
}

#[test]
fn edges_in_the_repeated_hour_count_both_passes() {
    let (day_before, day_after) = (at("2026-10-24T12:00:00Z"), at("2026-10-26T00:00:00Z"));
    // 01:00-02:00 is two real hours
    assert_eq!(sundays("01:00-02:00").elapsed(day_before, day_after), hours(2));
    // 00:00-01:30 is open 00:00-01:30 BST and 01:00-01:30 GMT
    let early = sundays("00:00-01:30");
    assert_eq!(early.elapsed(day_before, day_after), hours(2));
    assert!(early.is_open(at("2026-10-25T00:29:00Z")));
    assert!(!early.is_open(at("2026-10-25T00:30:00Z")));
    assert_eq!(early.next_opening(at("2026-10-25T00:30:00Z")), Some(at("2026-10-25T01:00:00Z")));
    // 01:30-03:00 is open 01:30-02:00 BST and 01:30-03:00 GMT
    let late = sundays("01:30-03:00");
    assert_eq!(late.elapsed(day_before, day_after), hours(2));
    assert_eq!(late.next_opening(day_before), Some(at("2026-10-25T00:30:00Z")));
    assert_eq!(late.due(day_before, TimeDelta::minutes(31)), Ok(at("2026-10-25T01:31:00Z")));
}

#[test]
fn zero_and_negative_targets() {
    let calendar = core_hours();
    let saturday = at("2026-01-10T12:00:00Z");
    assert_eq!(calendar.due(saturday, TimeDelta::zero()), Ok(saturday));
    assert_eq!(calendar.due(saturday, TimeDelta::minutes(-1)), Err(CalendarError::NegativeTarget));
}

#[test]
fn elapsed_is_negative_backwards_and_counts_fractions() {
    let calendar = core_hours();
    let (from, to) = (at("2026-01-12T07:45:00.5Z"), at("2026-01-12T08:45:00Z"));
    assert_eq!(calendar.elapsed(from, to), TimeDelta::milliseconds(3_599_500));
    assert_eq!(calendar.elapsed(to, from), TimeDelta::milliseconds(-3_599_500));
    assert_eq!(calendar.due(from, TimeDelta::milliseconds(3_599_500)), Ok(to));
}

#[test]
fn instants_outside_the_compiled_span_give_the_same_answers() {
    // Given the same calendar compiled for 2026 only, and for the default span
    let wide = core_hours();
    let narrow = BusinessCalendar::with_span(
        wide.definition().clone(),
        CompiledSpan { first_year: 2026, last_year: 2026 },
    )
    .unwrap();
    // When a long target crosses out of 2026, and a start lies before it
    for (start, target) in [
        ("2026-11-02T09:00:00Z", 800),
        ("2025-12-01T09:00:00Z", 400),
        ("1990-06-01T00:00:00Z", 4000),
    ] {
        let start = at(start);
        let due = narrow.due(start, hours(target)).unwrap();
        // Then both agree
        assert_eq!(due, wide.due(start, hours(target)).unwrap());
        assert_eq!(narrow.elapsed(start, due), hours(target));
        assert_eq!(narrow.next_opening(due), wide.next_opening(due));
    }
}

#[test]
fn nothing_is_open_beyond_the_supported_years() {
    let calendar = calendar("always_open = true\n");
    let new_year =
        |year| NaiveDate::from_ymd_opt(year, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let last = new_year(10_000) - hours(1);
    assert_eq!(calendar.due(last, hours(1)), Ok(new_year(10_000)));
    assert_eq!(calendar.due(last, hours(2)), Err(CalendarError::Unreachable));
    assert_eq!(calendar.elapsed(last, new_year(10_001)), hours(1));
    assert_eq!(calendar.next_opening(new_year(10_000)), None);
    assert!(!calendar.is_open(new_year(-1)));
    assert_eq!(calendar.next_opening(new_year(-1)), Some(new_year(1)));
    assert_eq!(calendar.elapsed(new_year(-1), new_year(1) + hours(3)), hours(3));
}

#[test]
fn the_supported_instants_run_from_the_year_1_to_the_year_9999() {
    assert_eq!(new_year(FIRST_YEAR), Some(EARLIEST));
    assert_eq!(new_year(LAST_YEAR + 1), Some(LATEST));
}

#[test]
fn spans_outside_the_supported_years_are_refused() {
    let definition = core_hours().definition().clone();
    for (first, last) in [(2030, 2020), (0, 2000), (2000, 10_000)] {
        let span = CompiledSpan { first_year: first, last_year: last };
        let error = BusinessCalendar::with_span(definition.clone(), span).unwrap_err();
        assert_eq!(error, CalendarError::InvalidSpan { first, last });
    }
}

#[test]
fn calendars_are_found_by_name_and_names_are_unique() {
    let mut calendars = Calendars::new();
    calendars.insert(core_hours()).unwrap();
    calendars.insert(calendar("always_open = true\n").renamed("24x7")).unwrap();
    assert_eq!(calendars.get("test").map(|c| c.name().as_str()), Some("test"));
    assert!(calendars.get("24x7").is_some_and(|c| c.definition().always_open));
    assert_eq!(
        calendars.insert(core_hours()),
        Err(CalendarError::DuplicateCalendar("test".parse().unwrap()))
    );
    let json = serde_json::to_string(&calendars).unwrap();
    let back: Calendars = serde_json::from_str(&json).unwrap();
    assert_eq!(back, calendars);
    assert_eq!(back.iter().map(|c| c.name().as_str()).collect::<Vec<_>>(), ["24x7", "test"]);
}

impl BusinessCalendar {
    fn renamed(&self, name: &str) -> BusinessCalendar {
        let mut definition = self.definition().clone();
        definition.name = name.parse().unwrap();
        BusinessCalendar::new(definition).unwrap()
    }
}

#[test]
fn readings_subtract_to_business_time_and_turn_back_into_instants() {
    // Given core hours, read at Friday 16:30 and Monday 08:45
    let calendar = core_hours();
    let friday = calendar.reading(at("2026-01-16T16:30:00Z")).unwrap();
    let monday = calendar.reading(at("2026-01-19T08:45:00Z")).unwrap();
    // Then they are an hour and an hour of business time apart
    assert_eq!(monday.since(friday), hours(2));
    assert_eq!(friday.since(monday), -hours(2));
    // And two hours on from Friday's reading is reached on Monday at 08:45, like `due`
    let goal = friday.after(hours(2)).unwrap();
    assert_eq!(calendar.instant_at(goal), Some(at("2026-01-19T08:45:00Z")));
    assert_eq!(calendar.due(at("2026-01-16T16:30:00Z"), hours(2)).ok(), calendar.instant_at(goal));
    assert_eq!(friday.after(-hours(1)), None);
    // And a reading survives JSON
    let json = serde_json::to_value(friday).unwrap();
    assert_eq!(serde_json::from_value::<Reading>(json).unwrap(), friday);
    // Outside the compiled span there is no reading
    assert_eq!(calendar.reading(at("2150-01-01T00:00:00Z")), None);
}
