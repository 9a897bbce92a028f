//! The calendar file: a [`CalendarDefinition`] written in TOML.
//!
//! ```toml
//! name = "core-hours"
//! timezone = "Europe/London"             # IANA name; Europe/London when left out
//! include = ["england-and-wales"]        # built-in holiday sets
//! holidays = ["2026-12-29"]              # extra closed dates
//! [hours]                                # "HH:MM-HH:MM" periods; a day left out has no hours
//! mon = ["07:45-17:30"]
//! tue = ["07:45-12:00", "13:00-17:30"]
//! sat = []
//! ```
//!
//! A calendar open around the clock is written either `always_open = true` (with no `[hours]`,
//! `include` or `holidays`), or with `"00:00-24:00"` on all seven days; the two are the same
//! calendar. The second form may also close on holidays.
//!
//! [`BusinessCalendar::from_toml`] reads a file through [`TomlSource`], so a mistake gets an
//! error naming the file, line and key: `core-hours.toml:7:7: hours.tue[1]: periods 07:45-12:00
//! and 11:00-17:30 overlap`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{BusinessCalendar, CalendarError, HolidaySet, WeeklyHours};
use crate::config::{ConfigError, KeyPath, TomlSource};
use crate::id::CalendarId;

/// What a calendar file says: the definition a [`BusinessCalendar`] is compiled from.
///
/// JSON shape (the same keys as the TOML file):
/// `{"name": "core-hours", "timezone": "Europe/London", "always_open": false,
///   "include": ["england-and-wales"], "holidays": ["2026-12-29"],
///   "hours": {"mon": ["07:45-17:30"], "tue": [], …, "sun": []}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDefinition {
    /// The calendar's name, by which SLA definitions refer to it.
    pub name: CalendarId,
    /// The zone whose wall clock the periods and holiday dates are read on.
    #[serde(default = "london", with = "zone")]
    pub timezone: Tz,
    /// Open around the clock, every day (then `hours`, `include` and `holidays` stay empty).
    #[serde(default)]
    pub always_open: bool,
    /// Built-in bank holiday sets the calendar closes on.
    #[serde(default)]
    pub include: Vec<HolidaySet>,
    /// Extra dates the calendar closes on.
    #[serde(default)]
    pub holidays: BTreeSet<NaiveDate>,
    /// Working periods per weekday.
    #[serde(default)]
    pub hours: WeeklyHours,
}

fn london() -> Tz {
    chrono_tz::Europe::London
}

/// Time zones as IANA names, with an error that says which name was not known.
mod zone {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::CalendarError;

    pub(super) fn serialize<S: Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(zone.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(|_| serde::de::Error::custom(CalendarError::UnknownTimeZone(name)))
    }
}

impl CalendarDefinition {
    /// A calendar called `name`, on London time, open `hours`, with no holidays.
    pub fn new(name: CalendarId, hours: WeeklyHours) -> Self {
        CalendarDefinition {
            name,
            timezone: london(),
            always_open: false,
            include: Vec::new(),
            holidays: BTreeSet::new(),
            hours,
        }
    }

    /// A calendar called `name`, open around the clock in `timezone`.
    pub fn always_open(name: CalendarId, timezone: Tz) -> Self {
        CalendarDefinition {
            timezone,
            always_open: true,
            ..CalendarDefinition::new(name, WeeklyHours::default())
        }
    }

    /// Checks what serde cannot: overlapping periods, a calendar with no working time, and
    /// `always_open` mixed with hours or holidays. The first problem found, with where it is.
    pub fn check(&self) -> Result<(), (KeyPath, CalendarError)> {
        let root = KeyPath::root();
        if self.always_open {
            if !self.hours.is_empty() {
                return Err((root.key("hours"), CalendarError::AlwaysOpenWithHours));
            }
            if !self.include.is_empty() {
                return Err((root.key("include"), CalendarError::AlwaysOpenWithHolidays));
            }
            if !self.holidays.is_empty() {
                return Err((root.key("holidays"), CalendarError::AlwaysOpenWithHolidays));
            }
        } else if self.hours.is_empty() {
            return Err((root.key("hours"), CalendarError::NoWorkingTime));
        }
        self.hours.check(&root.key("hours"))
    }
}

impl BusinessCalendar {
    /// Reads a calendar file. `file` names it in errors, which give its line and key.
    pub fn from_toml(file: &str, text: &str) -> Result<BusinessCalendar, ConfigError> {
        let source = TomlSource::parse(file, text)?;
        let definition: CalendarDefinition = source.deserialize()?;
        definition.check().map_err(|(path, error)| source.error(&path, error))?;
        BusinessCalendar::new(definition).map_err(|error| source.error(&KeyPath::root(), error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ConfigError {
        BusinessCalendar::from_toml("cal.toml", text).unwrap_err()
    }

    const HEADER: &str = "name = \"core-hours\"\n";

    #[test]
    fn the_example_in_the_docs_reads() {
        // Given the documented file, when read
        let text = r#"
            name = "core-hours"
            timezone = "Europe/London"
            include = ["england-and-wales"]
            holidays = ["2026-12-29"]
            [hours]
            mon = ["07:45-17:30"]
            tue = ["07:45-12:00", "13:00-17:30"]
            sat = []
        "#;
        let calendar = BusinessCalendar::from_toml("core-hours.toml", text).unwrap();
        // Then every part of it is kept
        let definition = calendar.definition();
        assert_eq!(definition.name.as_str(), "core-hours");
        assert_eq!(definition.include, vec![HolidaySet::EnglandAndWales]);
        assert_eq!(definition.hours.tue.len(), 2);
        assert!(definition.hours.wed.is_empty());
    }

    #[test]
    fn the_zone_defaults_to_london() {
        let calendar = BusinessCalendar::from_toml(
            "c.toml",
            &format!("{HEADER}[hours]\nmon = [\"09:00-17:00\"]\n"),
        )
        .unwrap();
        assert_eq!(calendar.timezone(), chrono_tz::Europe::London);
    }

    #[test]
    fn a_period_that_ends_before_it_starts_names_line_and_key() {
        let err =
            error(&format!("{HEADER}[hours]\nmon = [\"07:45-17:30\"]\ntue = [\"17:30-07:45\"]\n"));
        assert_eq!((err.line, err.key.as_str()), (4, "hours.tue[0]"), "{err}");
        assert!(err.message.contains("period `17:30-07:45` ends before it starts"), "{err}");
    }

    #[test]
    fn an_unknown_time_zone_names_line_and_key() {
        let err = error(&format!(
            "{HEADER}timezone = \"Europe/Lundon\"\n[hours]\nmon = [\"09:00-17:00\"]\n"
        ));
        assert_eq!((err.line, err.key.as_str()), (2, "timezone"), "{err}");
        assert!(err.message.contains("unknown time zone `Europe/Lundon`"), "{err}");
    }

    #[test]
    fn an_unknown_holiday_set_names_line_and_key() {
        let err = error(&format!(
            "{HEADER}include = [\"scotland\", \"wales\"]\n[hours]\nmon = [\"09:00-17:00\"]\n"
        ));
        assert_eq!((err.line, err.key.as_str()), (2, "include[1]"), "{err}");
        assert!(err.message.contains("wales"), "{err}");
    }

    #[test]
    fn overlapping_periods_name_line_and_key() {
        let err = error(&format!(
            "{HEADER}[hours]\nmon = [\"09:00-17:00\"]\ntue = [\"07:45-12:00\",\n  \"11:00-17:30\"]\n"
        ));
        assert_eq!((err.line, err.key.as_str()), (5, "hours.tue[1]"), "{err}");
        assert_eq!(err.message, "periods 07:45-12:00 and 11:00-17:30 overlap");
    }

    #[test]
    fn misspelt_days_and_keys_are_refused() {
        let err = error(&format!("{HEADER}[hours]\nmonday = [\"09:00-17:00\"]\n"));
        assert_eq!((err.line, err.key.as_str()), (3, "hours.monday"), "{err}");
        let err = error(&format!("{HEADER}holiday = [\"2026-12-29\"]\n"));
        assert_eq!((err.line, err.key.as_str()), (2, "holiday"), "{err}");
    }

    #[test]
    fn a_bad_holiday_date_names_its_key() {
        let err = error(&format!(
            "{HEADER}holidays = [\"2026-02-30\"]\n[hours]\nmon = [\"09:00-17:00\"]\n"
        ));
        assert_eq!((err.line, err.key.as_str()), (2, "holidays[0]"), "{err}");
    }

    #[test]
    fn a_calendar_without_hours_is_refused() {
        let err = error(&format!("{HEADER}[hours]\nsat = []\n"));
        assert_eq!((err.line, err.key.as_str()), (2, "hours"), "{err}");
        assert!(err.message.contains("always_open = true"), "{err}");
    }

    #[test]
    fn always_open_refuses_hours_and_holidays() {
        let err = error(&format!("{HEADER}always_open = true\n[hours]\nmon = [\"09:00-17:00\"]\n"));
        assert_eq!(err.key, "hours", "{err}");
        let err = error(&format!("{HEADER}always_open = true\ninclude = [\"scotland\"]\n"));
        assert_eq!((err.line, err.key.as_str()), (3, "include"), "{err}");
    }

    #[test]
    fn both_ways_of_writing_round_the_clock_are_the_same_calendar() {
        let flag =
            BusinessCalendar::from_toml("a.toml", "name = \"24x7\"\nalways_open = true\n").unwrap();
        let days: String = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|day| format!("{day} = [\"00:00-24:00\"]\n"))
            .collect();
        let periods =
            BusinessCalendar::from_toml("b.toml", &format!("name = \"24x7\"\n[hours]\n{days}"))
                .unwrap();
        let start: crate::Timestamp = "2026-03-28T12:00:00Z".parse().unwrap();
        let week = chrono::TimeDelta::days(7);
        assert_eq!(flag.due(start, week), periods.due(start, week));
        assert_eq!(flag.due(start, week).unwrap(), start + week);
    }

    #[test]
    fn definitions_round_trip_through_json() {
        let text = r#"
            name = "core-hours"
            include = ["england-and-wales"]
            holidays = ["2026-12-29"]
            hours.mon = ["07:45-17:30"]
        "#;
        let calendar = BusinessCalendar::from_toml("c.toml", text).unwrap();
        let json = serde_json::to_value(&calendar).unwrap();
        assert_eq!(json["timezone"], "Europe/London");
        assert_eq!(json["holidays"], serde_json::json!(["2026-12-29"]));
        let back: BusinessCalendar = serde_json::from_value(json).unwrap();
        assert_eq!(back, calendar);
    }
}
