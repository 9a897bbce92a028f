//! Working periods: `"HH:MM-HH:MM"` on the local wall clock, zero or more per weekday.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;
use serde::{Deserialize, Deserializer, Serialize, de};

use super::CalendarError;
use crate::config::KeyPath;

/// Minutes in a day: the latest a period may end (`24:00`).
const DAY_MINUTES: u16 = 24 * 60;

/// One working period of a day, from `start` (inclusive) to `end` (exclusive), in minutes after
/// local midnight. `end` may be 24:00.
///
/// JSON and TOML shape: a string, `"07:45-17:30"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Period {
    start: u16,
    end: u16,
}

impl Period {
    /// The whole day, `00:00-24:00`.
    pub const ALL_DAY: Period = Period { start: 0, end: DAY_MINUTES };

    /// A period from `start` to `end`, in minutes after midnight (`end` at most 1440).
    pub fn new(start: u16, end: u16) -> Result<Self, CalendarError> {
        let period = Period { start, end };
        if end > DAY_MINUTES {
            Err(CalendarError::MalformedPeriod(period.to_string()))
        } else if end < start {
            Err(CalendarError::EndsBeforeStart(period.to_string()))
        } else if end == start {
            Err(CalendarError::EmptyPeriod(period.to_string()))
        } else {
            Ok(period)
        }
    }

    /// Minutes after midnight at which it opens.
    pub const fn start(self) -> u16 {
        self.start
    }

    /// Minutes after midnight at which it closes (1440 for 24:00).
    pub const fn end(self) -> u16 {
        self.end
    }

    /// How many minutes it lasts on the wall clock.
    pub const fn minutes(self) -> u16 {
        self.end - self.start
    }
}

/// Parses `HH:MM`, hours 00 to 24 (24 only as `24:00`).
fn parse_clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= DAY_MINUTES).then_some(total)
}

impl FromStr for Period {
    type Err = CalendarError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || CalendarError::MalformedPeriod(text.to_owned());
        let (start, end) = text.split_once('-').ok_or_else(malformed)?;
        let start = parse_clock(start).filter(|s| *s < DAY_MINUTES).ok_or_else(malformed)?;
        let end = parse_clock(end).ok_or_else(malformed)?;
        Period::new(start, end)
    }
}

// Parsed inside `visit_str` (not through `try_from`) so that a TOML error points at the period
// itself rather than at the list holding it.
impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;

        impl de::Visitor<'_> for Text {
            type Value = Period;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a period like \"07:45-17:30\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Period, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Text)
    }
}

impl From<Period> for String {
    fn from(period: Period) -> String {
        period.to_string()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", clock(self.start), clock(self.end))
    }
}

/// The working periods of each weekday (`[hours]` in a calendar file). A day with no periods is
/// closed all day.
///
/// JSON and TOML shape: `{"mon": ["07:45-17:30"], "tue": ["07:45-12:00", "13:00-17:30"], …}`
/// with keys `mon` `tue` `wed` `thu` `fri` `sat` `sun`; a missing key is an empty list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeeklyHours {
    /// Monday.
    pub mon: Vec<Period>,
    /// Tuesday.
    pub tue: Vec<Period>,
    /// Wednesday.
    pub wed: Vec<Period>,
    /// Thursday.
    pub thu: Vec<Period>,
    /// Friday.
    pub fri: Vec<Period>,
    /// Saturday.
    pub sat: Vec<Period>,
    /// Sunday.
    pub sun: Vec<Period>,
}

/// The weekdays in file order, with their keys.
const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

impl WeeklyHours {
    /// The same periods on every day of the week.
    pub fn every_day(periods: &[Period]) -> Self {
        let day = periods.to_vec();
        WeeklyHours {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day.clone(),
            sat: day.clone(),
            sun: day,
        }
    }

    /// The same periods Monday to Friday, nothing at the weekend.
    pub fn weekdays(periods: &[Period]) -> Self {
        WeeklyHours { sat: Vec::new(), sun: Vec::new(), ..WeeklyHours::every_day(periods) }
    }

    /// The periods of `day`, as written.
    pub fn day(&self, day: Weekday) -> &[Period] {
        match day {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// Whether no day has any period.
    pub fn is_empty(&self) -> bool {
        DAYS.iter().all(|(day, _)| self.day(*day).is_empty())
    }

    /// Refuses overlapping periods on a day, naming the later of the two (`hours.tue[1]`).
    pub fn check(&self, path: &KeyPath) -> Result<(), (KeyPath, CalendarError)> {
        for (day, key) in DAYS {
            let mut order: Vec<(usize, Period)> =
                self.day(day).iter().copied().enumerate().collect();
            order.sort_by_key(|(_, period)| *period);
            for pair in order.windows(2) {
                let [(_, first), (index, second)] = pair else { continue };
                if second.start < first.end {
                    let error = CalendarError::Overlap { first: *first, second: *second };
                    return Err((path.key(key).index(*index), error));
                }
            }
        }
        Ok(())
    }

    /// Each weekday's periods (Monday first) as sorted, merged `(start, end)` in seconds after
    /// midnight.
    pub(super) fn seconds_by_weekday(&self) -> [Vec<(i64, i64)>; 7] {
        DAYS.map(|(day, _)| {
            let mut periods: Vec<Period> = self.day(day).to_vec();
            periods.sort();
            let mut merged: Vec<(i64, i64)> = Vec::new();
            for period in periods {
                let (start, end) = (i64::from(period.start) * 60, i64::from(period.end) * 60);
                match merged.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            merged
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(text: &str) -> Period {
        text.parse().unwrap()
    }

    #[test]
    fn periods_parse_and_print() {
        // Given well-formed periods, when parsed, then they print back the same
        for text in ["07:45-17:30", "00:00-24:00", "23:59-24:00", "13:00-13:01"] {
            assert_eq!(period(text).to_string(), text);
        }
        assert_eq!(period(" 07:45 - 17:30 ").minutes(), 585);
    }

    #[test]
    fn bad_periods_are_explained() {
        let check = |text: &str, expected: &str| {
            let error = text.parse::<Period>().unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        };
        check("17:30-07:45", "ends before it starts");
        check("09:00-09:00", "is empty");
        for malformed in ["9:00-17:00", "09:00", "24:00-24:00", "09:60-10:00", "09:00-24:01", "x"] {
            check(malformed, "is not a period like 07:45-17:30");
        }
    }

    #[test]
    fn overlapping_periods_name_the_later_one() {
        // Given Tuesday written out of order, with the first period overlapping the second
        let hours = WeeklyHours {
            tue: vec![period("11:30-17:30"), period("07:45-12:00")],
            ..WeeklyHours::default()
        };
        // When checked
        let (path, error) = hours.check(&KeyPath::root().key("hours")).unwrap_err();
        // Then the later-starting period is named, whatever its place in the list
        assert_eq!(path.to_string(), "hours.tue[0]");
        assert_eq!(error.to_string(), "periods 07:45-12:00 and 11:30-17:30 overlap");
    }

    #[test]
    fn adjacent_periods_merge_into_one() {
        let hours = WeeklyHours {
            mon: vec![period("12:00-17:30"), period("07:45-12:00")],
            ..WeeklyHours::default()
        };
        assert!(hours.check(&KeyPath::root()).is_ok());
        assert_eq!(hours.seconds_by_weekday()[0], vec![(27_900, 63_000)]);
    }

    #[test]
    fn hours_serialise_as_strings_by_day() {
        let hours = WeeklyHours::weekdays(&[period("07:45-17:30")]);
        let json = serde_json::to_value(&hours).unwrap();
        assert_eq!(json["mon"], serde_json::json!(["07:45-17:30"]));
        assert_eq!(json["sun"], serde_json::json!([]));
        let back: WeeklyHours = serde_json::from_value(json).unwrap();
        assert_eq!(back, hours);
    }
}
