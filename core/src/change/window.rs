//! Time windows: when a change is scheduled, and when changes are frozen.
//!
//! A [`Window`] is a half-open interval of instants, `[start, end)`: a change booked until 18:00
//! and another from 18:00 do not overlap. Freeze windows are written in configuration as local
//! dates or times in a time zone ([`Moment`]) and resolved to a [`Window`].

use std::fmt;

use chrono::{
    DateTime, Days, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat,
    TimeZone,
};
use chrono_tz::Tz;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Error;
use crate::record::Timestamp;

/// A span of time `[start, end)`, with `start` strictly before `end`.
///
/// JSON shape: `{"start": "2026-03-07T08:00:00Z", "end": "2026-03-07T12:00:00Z"}`; a window
/// whose end is not after its start is refused when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWindow")]
pub struct Window {
    start: Timestamp,
    end: Timestamp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    start: Timestamp,
    end: Timestamp,
}

impl TryFrom<RawWindow> for Window {
    type Error = Error;

    fn try_from(raw: RawWindow) -> Result<Self, Error> {
        Window::new(raw.start, raw.end)
    }
}

impl Window {
    /// The window from `start` until `end`; refused unless `start < end`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, Error> {
        if start < end { Ok(Window { start, end }) } else { Err(Error::EmptyWindow { start, end }) }
    }

    /// When it opens.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// When it closes (the first instant outside it).
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// Whether the two windows share an instant.
    pub fn overlaps(&self, other: &Window) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `at` is inside the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to {}",
            self.start.format("%Y-%m-%d %H:%M UTC"),
            self.end.format("%Y-%m-%d %H:%M UTC")
        )
    }
}

/// A point in time as written in configuration: a whole day or a time of day in the window's
/// time zone, or an instant with its UTC offset.
///
/// TOML shape: a TOML date, local date-time or offset date-time, bare or quoted (`2026-12-18`,
/// `2026-12-18T17:30:00`, `"2026-12-18 17:30"`, `2026-12-18T17:30:00Z`). JSON shape: the same
/// text as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Moment {
    /// A whole day: as a start, its first instant; as an end, the first instant of the next day
    /// (so `end = 2027-01-03` includes the 3rd).
    Date(NaiveDate),
    /// A time of day: as an end, the first instant outside the window.
    DateTime(NaiveDateTime),
    /// An instant, whatever the time zone.
    Instant(DateTime<FixedOffset>),
}

/// Which end of a window a [`Moment`] is.
///
/// JSON shape: `"start"` or `"end"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The first instant inside.
    Start,
    /// The first instant after.
    End,
}

impl Moment {
    /// The instant this moment names in `zone` as the `bound` of a window.
    ///
    /// A time repeated when the clocks go back is taken so that the window is the longer one;
    /// `None` for a time skipped when the clocks go forward.
    pub fn resolve(self, zone: Tz, bound: Bound) -> Option<Timestamp> {
        let local = match (self, bound) {
            (Moment::Instant(at), _) => return Some(at.to_utc()),
            (Moment::DateTime(at), _) => at,
            (Moment::Date(day), Bound::Start) => day.and_time(NaiveTime::MIN),
            (Moment::Date(day), Bound::End) => {
                day.checked_add_days(Days::new(1))?.and_time(NaiveTime::MIN)
            }
        };
        let instant = match zone.from_local_datetime(&local) {
            LocalResult::Single(at) => at,
            LocalResult::Ambiguous(early, late) => match bound {
                Bound::Start => early,
                Bound::End => late,
            },
            LocalResult::None => return None,
        };
        Some(instant.to_utc())
    }
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Moment::Date(day) => write!(f, "{}", day.format("%Y-%m-%d")),
            Moment::DateTime(at) => write!(f, "{}", at.format("%Y-%m-%dT%H:%M:%S")),
            Moment::Instant(at) => f.write_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

/// `text` is not a date, a local time or an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date or time like 2026-12-18, 2026-12-18T17:30:00 or 2026-12-18T17:30:00Z")]
pub struct ParseMomentError(pub String);

impl std::str::FromStr for Moment {
    type Err = ParseMomentError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(Moment::Date(day));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(Moment::Instant(at));
        }
        ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .map(Moment::DateTime)
            .ok_or_else(|| ParseMomentError(text.to_owned()))
    }
}

impl Serialize for Moment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Moment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MomentVisitor;

        impl<'de> Visitor<'de> for MomentVisitor {
            type Value = Moment;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a local date or date-time like 2026-12-18 or 2026-12-18T17:30:00")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Moment, E> {
                text.parse().map_err(E::custom)
            }

            /// A bare TOML date or date-time arrives as a one-entry map holding its text.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Moment, A::Error> {
                let Some((_, text)) = map.next_entry::<String, String>()? else {
                    return Err(de::Error::custom("expected a date"));
                };
                text.parse().map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_any(MomentVisitor)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn utc(text: &str) -> Timestamp {
        text.parse::<DateTime<Utc>>().unwrap()
    }

    #[test]
    fn windows_are_half_open_and_never_empty() {
        let morning =
            Window::new(utc("2026-03-07T08:00:00Z"), utc("2026-03-07T12:00:00Z")).unwrap();
        let afternoon =
            Window::new(utc("2026-03-07T12:00:00Z"), utc("2026-03-07T18:00:00Z")).unwrap();
        assert!(!morning.overlaps(&afternoon) && !afternoon.overlaps(&morning));
        assert!(morning.contains(utc("2026-03-07T08:00:00Z")));
        assert!(!morning.contains(utc("2026-03-07T12:00:00Z")));
        assert!(Window::new(afternoon.end(), afternoon.start()).is_err());
        let json =
            serde_json::json!({"start": "2026-03-07T12:00:00Z", "end": "2026-03-07T12:00:00Z"});
        assert!(serde_json::from_value::<Window>(json).is_err());
    }

    #[test]
    fn local_dates_resolve_in_their_zone_with_inclusive_end_days() {
        let london: Tz = "Europe/London".parse().unwrap();
        let summer: Moment = "2026-06-01".parse().unwrap();
        assert_eq!(summer.resolve(london, Bound::Start), Some(utc("2026-05-31T23:00:00Z")));
        assert_eq!(summer.resolve(london, Bound::End), Some(utc("2026-06-01T23:00:00Z")));
        let evening: Moment = "2026-12-18 17:30".parse().unwrap();
        assert_eq!(evening.resolve(london, Bound::End), Some(utc("2026-12-18T17:30:00Z")));
        let skipped: Moment = "2026-03-29T01:30:00".parse().unwrap();
        assert_eq!(skipped.resolve(london, Bound::Start), None);
        let repeated: Moment = "2026-10-25T01:30:00".parse().unwrap();
        assert_eq!(repeated.resolve(london, Bound::Start), Some(utc("2026-10-25T00:30:00Z")));
        assert_eq!(repeated.resolve(london, Bound::End), Some(utc("2026-10-25T01:30:00Z")));
        assert!("18/12/2026".parse::<Moment>().is_err());
        let instant: Moment = "2026-12-18T17:30:00+01:00".parse().unwrap();
        assert_eq!(instant.resolve(london, Bound::Start), Some(utc("2026-12-18T16:30:00Z")));
        assert_eq!(instant.to_string(), "2026-12-18T17:30:00+01:00");
        assert_eq!(
            "2026-12-18T17:30:00Z".parse::<Moment>().unwrap().to_string(),
            "2026-12-18T17:30:00Z"
        );
    }
}
