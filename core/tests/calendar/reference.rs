//! A brute-force model of a business calendar: step real minutes in UTC and ask, for each, whether
//! its local wall-clock time lies in a working period of a working day.
//!
//! Every period edge of the calendars under test falls on a whole UTC minute (the zones used have
//! whole-minute offsets, and an edge in a skipped hour takes effect at the change, which is on a
//! whole minute), so a minute is open throughout exactly when its first second is.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, TimeDelta, Timelike};
use chrono_tz::Tz;
use desk_core::Timestamp;
use desk_core::calendar::CalendarDefinition;

/// The model: what the definition says, read minute by minute.
pub(crate) struct Reference {
    timezone: Tz,
    always_open: bool,
    /// Periods per weekday (Monday first) in minutes after midnight.
    week: [Vec<(u32, u32)>; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl Reference {
    /// The model of `definition`, with holidays from 2020 to 2032.
    pub(crate) fn new(definition: &CalendarDefinition) -> Self {
        let day = |periods: &[desk_core::calendar::Period]| {
            periods.iter().map(|p| (u32::from(p.start()), u32::from(p.end()))).collect()
        };
        let h = &definition.hours;
        let mut holidays = definition.holidays.clone();
        for set in &definition.include {
            holidays.extend((2020..=2032).flat_map(|year| set.dates(year)));
        }
        Reference {
            timezone: definition.timezone,
            always_open: definition.always_open,
            week: [
                day(&h.mon),
                day(&h.tue),
                day(&h.wed),
                day(&h.thu),
                day(&h.fri),
                day(&h.sat),
                day(&h.sun),
            ],
            holidays,
        }
    }

    /// Whether the minute starting at `at` is open.
    pub(crate) fn is_open(&self, at: Timestamp) -> bool {
        if self.always_open {
            return true;
        }
        let local = at.with_timezone(&self.timezone);
        let date = local.date_naive();
        if self.holidays.contains(&date) {
            return false;
        }
        let minute = local.hour() * 60 + local.minute();
        self.week[date.weekday().num_days_from_monday() as usize]
            .iter()
            .any(|&(start, end)| start <= minute && minute < end)
    }

    /// The open minutes in `[from, from + minutes)`, by their start.
    pub(crate) fn open_minutes(&self, from: Timestamp, minutes: i64) -> Vec<Timestamp> {
        (0..minutes)
            .map(|n| from + TimeDelta::minutes(n))
            .filter(|minute| self.is_open(*minute))
            .collect()
    }
}
