//! Properties over random calendars (random weekly periods with split shifts, empty days and
//! 00:00–24:00 days, random holidays, three zones with different daylight-saving rules) and
//! random instants, biased towards the months in which clocks change.

use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Tz;
use desk_core::Timestamp;
use desk_core::calendar::{
    BusinessCalendar, CalendarDefinition, CompiledSpan, HolidaySet, Period, WeeklyHours,
};
use proptest::prelude::*;

use crate::reference::Reference;

fn zone() -> impl Strategy<Value = Tz> {
    // London and New York change by an hour on different dates; Lord Howe by half an hour.
    prop_oneof![
        Just(chrono_tz::Europe::London),
        Just(chrono_tz::America::New_York),
        Just(chrono_tz::Australia::Lord_Howe),
    ]
}

/// A minute of the day, often in the small hours where the clocks change.
fn minute_of_day() -> impl Strategy<Value = u16> {
    prop_oneof![2 => 0u16..=1440, 1 => 0u16..=200]
}

fn day() -> impl Strategy<Value = Vec<Period>> {
    prop_oneof![
        1 => Just(Vec::new()),
        1 => Just(vec![Period::ALL_DAY]),
        4 => prop::collection::btree_set(minute_of_day(), 2..=6).prop_map(|cuts| {
            let cuts: Vec<u16> = cuts.into_iter().collect();
            cuts.chunks_exact(2).filter_map(|pair| Period::new(pair[0], pair[1]).ok()).collect()
        }),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0u64..3 * 366)
        .prop_map(|n| NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(n))
}

fn definition() -> impl Strategy<Value = CalendarDefinition> {
    let sets = prop::sample::subsequence(HolidaySet::ALL.to_vec(), 0..=2);
    let holidays = prop::collection::btree_set(date(), 0..12);
    (zone(), prop::array::uniform7(day()), sets, holidays, prop::bool::weighted(0.1)).prop_map(
        |(timezone, [mon, tue, wed, thu, fri, sat, sun], include, holidays, always_open)| {
            let name = "random".parse().unwrap();
            if always_open {
                return CalendarDefinition::always_open(name, timezone);
            }
            let mut hours = WeeklyHours { mon, tue, wed, thu, fri, sat, sun };
            if hours.is_empty() {
                hours.wed = vec!["09:00-17:00".parse().unwrap()];
            }
            CalendarDefinition {
                timezone,
                include,
                holidays,
                ..CalendarDefinition::new(name, hours)
            }
        },
    )
}

/// The default span, or one year only, so that instants fall outside it and use the fallback.
fn span() -> impl Strategy<Value = CompiledSpan> {
    prop_oneof![
        Just(CompiledSpan::default()),
        Just(CompiledSpan { first_year: 2026, last_year: 2026 }),
    ]
}

fn calendar() -> impl Strategy<Value = (CalendarDefinition, BusinessCalendar)> {
    (definition(), span()).prop_map(|(definition, span)| {
        let calendar = BusinessCalendar::with_span(definition.clone(), span).unwrap();
        (definition, calendar)
    })
}

/// A whole minute from 2025 to 2027, often in a month when some zone changes its clocks.
fn instant() -> impl Strategy<Value = Timestamp> {
    let base = "2025-01-01T00:00:00Z".parse::<Timestamp>().unwrap();
    let anywhere = (0i64..3 * 365 * 1440).prop_map(move |m| base + TimeDelta::minutes(m));
    let changing =
        (2025..=2027i32, prop::sample::select(vec![3u32, 4, 10, 11]), 1u32..=28, 0u32..1440)
            .prop_map(|(year, month, day, minute)| {
                NaiveDate::from_ymd_opt(year, month, day)
                    .unwrap()
                    .and_hms_opt(minute / 60, minute % 60, 0)
                    .unwrap()
                    .and_utc()
            });
    prop_oneof![anywhere, changing]
}

/// Open minutes in an ordinary week (ignoring holidays and clock changes): bounds the targets
/// so that sparse calendars do not need centuries.
fn weekly_minutes(definition: &CalendarDefinition) -> i64 {
    if definition.always_open {
        return 7 * 1440;
    }
    let h = &definition.hours;
    [&h.mon, &h.tue, &h.wed, &h.thu, &h.fri, &h.sat, &h.sun]
        .iter()
        .flat_map(|day| day.iter())
        .map(|period| i64::from(period.minutes()))
        .sum()
}

/// A target of up to `weeks` ordinary weeks of business time, to the nanosecond.
fn target(definition: &CalendarDefinition, weeks: i64, fraction: f64, nanos: u32) -> TimeDelta {
    let cap = weekly_minutes(definition) * 60 * weeks;
    TimeDelta::seconds((cap as f64 * fraction) as i64) + TimeDelta::nanoseconds(i64::from(nanos))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn due_elapsed_and_openings_agree_with_minute_stepping(
        (definition, calendar) in calendar(),
        start in instant(),
        window in 1i64..=4 * 1440,
        picks in prop::collection::vec(0.0f64..1.0, 3),
    ) {
        let reference = Reference::new(&definition);
        let open = reference.open_minutes(start, window);
        let end = start + TimeDelta::minutes(window);
        prop_assert_eq!(calendar.elapsed(start, end), TimeDelta::minutes(open.len() as i64));
        prop_assert_eq!(calendar.is_open(start), reference.is_open(start));
        if let Some(first) = open.first() {
            prop_assert_eq!(calendar.next_opening(start), Some(*first));
        }
        for pick in picks {
            let minute = start + TimeDelta::minutes((pick * window as f64) as i64);
            prop_assert_eq!(calendar.is_open(minute), reference.is_open(minute), "at {}", minute);
            if !open.is_empty() {
                // The k-th open minute ends exactly when k minutes of business time are used up.
                let k = 1 + (pick * open.len() as f64) as usize;
                let k = k.min(open.len());
                let due = calendar.due(start, TimeDelta::minutes(k as i64)).unwrap();
                prop_assert_eq!(due, open[k - 1] + TimeDelta::minutes(1), "k = {}", k);
            }
        }
    }

    #[test]
    fn elapsed_from_start_to_due_is_the_target(
        (definition, calendar) in calendar(),
        start in instant(),
        start_nanos in 0u32..1_000_000_000,
        fraction in 0.0f64..1.0,
        nanos in 0u32..1_000_000_000,
    ) {
        let start = start + TimeDelta::nanoseconds(i64::from(start_nanos));
        let target = target(&definition, 60, fraction, nanos);
        let due = calendar.due(start, target).unwrap();
        prop_assert!(due >= start);
        prop_assert_eq!(calendar.elapsed(start, due), target);
        prop_assert_eq!(calendar.elapsed(due, start), -target);
        if target > TimeDelta::zero() {
            // Due inside working time or exactly at a close: the instant before it is open.
            prop_assert!(calendar.is_open(due - TimeDelta::nanoseconds(1)), "due {}", due);
        }
    }

    #[test]
    fn readings_agree_with_elapsed_and_due(
        (definition, calendar) in calendar(),
        start in instant(),
        window in 0i64..=30 * 1440,
        fraction in 0.0f64..1.0,
        nanos in 1u32..1_000_000_000,
    ) {
        let end = start + TimeDelta::minutes(window);
        let (Some(from), Some(to)) = (calendar.reading(start), calendar.reading(end)) else {
            // Outside the compiled span there are no readings
            prop_assert!(calendar.span().first_year == calendar.span().last_year);
            return Ok(());
        };
        prop_assert_eq!(to.since(from), calendar.elapsed(start, end));
        prop_assert_eq!(from.since(to), calendar.elapsed(end, start));
        let target = target(&definition, 10, fraction, nanos);
        let reached = from.after(target).and_then(|goal| calendar.instant_at(goal));
        if let Some(instant) = reached {
            prop_assert_eq!(Ok(instant), calendar.due(start, target));
        }
        prop_assert_eq!(from.after(-TimeDelta::seconds(1)), None);
    }

    #[test]
    fn due_is_monotonic_in_the_target(
        (definition, calendar) in calendar(),
        start in instant(),
        fractions in (0.0f64..1.0, 0.0f64..1.0),
    ) {
        let (shorter, longer) = if fractions.0 <= fractions.1 { fractions } else { (fractions.1, fractions.0) };
        let (shorter, longer) = (target(&definition, 30, shorter, 0), target(&definition, 30, longer, 0));
        prop_assert!(calendar.due(start, shorter).unwrap() <= calendar.due(start, longer).unwrap());
    }

    #[test]
    fn the_compiled_span_changes_speed_not_answers(
        definition in definition(),
        start in instant(),
        fraction in 0.0f64..1.0,
        window in 0i64..400 * 24 * 60,
    ) {
        let wide = BusinessCalendar::new(definition.clone()).unwrap();
        let narrow = BusinessCalendar::with_span(
            definition.clone(),
            CompiledSpan { first_year: 2026, last_year: 2026 },
        )
        .unwrap();
        let target = target(&definition, 80, fraction, 0);
        prop_assert_eq!(wide.due(start, target), narrow.due(start, target));
        let end = start + TimeDelta::minutes(window);
        prop_assert_eq!(wide.elapsed(start, end), narrow.elapsed(start, end));
        prop_assert_eq!(wide.next_opening(end), narrow.next_opening(end));
    }
}
