//! The small vocabulary a policy is written in: business durations, warning thresholds, the
//! incident events conditions name, and the incident states `pause_while` / `run_while` name.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use chrono::TimeDelta;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::SlaError;
use crate::incident::{Event, HoldReason, Status};

/// A length of business time as a policy writes it: days, hours and minutes, e.g. `"15m"`,
/// `"4h"`, `"9h45m"`, `"3d"`, `"1d4h"`.
///
/// A day is not 24 hours: it is the policy's `business_day` (for core hours 07:45–17:30,
/// `"9h45m"`), so `"3d"` reads as "three working days". A policy that writes a target in days
/// must say how long its business day is. Hours and minutes are business time on the clock's
/// calendar.
///
/// JSON and TOML shape: the text, `"9h45m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct BusinessDuration {
    days: u32,
    minutes: u32,
}

/// The longest duration a policy may write: about ten years of minutes, far past any target.
const MAX_MINUTES: u32 = 10 * 366 * 24 * 60;

impl BusinessDuration {
    /// `days` business days and `minutes` minutes.
    pub const fn new(days: u32, minutes: u32) -> BusinessDuration {
        BusinessDuration { days, minutes }
    }

    /// The whole business days in it.
    pub const fn days(self) -> u32 {
        self.days
    }

    /// The minutes besides the days.
    pub const fn minutes(self) -> u32 {
        self.minutes
    }

    /// Whether it is no time at all.
    pub const fn is_zero(self) -> bool {
        self.days == 0 && self.minutes == 0
    }

    /// The business time it stands for, a day being `business_day` long; `None` when it has
    /// days and there is no business day.
    pub fn to_delta(self, business_day: Option<TimeDelta>) -> Option<TimeDelta> {
        let minutes = TimeDelta::minutes(i64::from(self.minutes));
        if self.days == 0 {
            return Some(minutes);
        }
        let day = business_day?;
        day.checked_mul(i32::try_from(self.days).ok()?)?.checked_add(&minutes)
    }
}

impl fmt::Display for BusinessDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hours, minutes) = (self.minutes / 60, self.minutes % 60);
        if self.days > 0 {
            write!(f, "{}d", self.days)?;
        }
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 || (self.days == 0 && hours == 0) {
            write!(f, "{minutes}m")?;
        }
        Ok(())
    }
}

impl FromStr for BusinessDuration {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || SlaError::MalformedDuration(text.to_owned());
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(malformed());
        }
        let (mut days, mut minutes) = (0u32, 0u32);
        // Units must come in this order, each at most once.
        let mut units = ['d', 'h', 'm'].as_slice();
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let unit = rest[digits..].chars().next().ok_or_else(malformed)?;
            let position = units.iter().position(|u| *u == unit).ok_or_else(malformed)?;
            let number: u32 = rest[..digits].parse().map_err(|_| malformed())?;
            match unit {
                'd' => days = number,
                'h' => minutes = number.checked_mul(60).ok_or_else(malformed)?,
                _ => minutes = minutes.checked_add(number).ok_or_else(malformed)?,
            }
            units = &units[position + 1..];
            rest = &rest[digits + 1..];
        }
        if days > MAX_MINUTES / (24 * 60) || minutes > MAX_MINUTES {
            return Err(malformed());
        }
        Ok(BusinessDuration { days, minutes })
    }
}

impl<'de> Deserialize<'de> for BusinessDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Text::<BusinessDuration>(PhantomData))
    }
}

impl From<BusinessDuration> for String {
    fn from(duration: BusinessDuration) -> String {
        duration.to_string()
    }
}

/// Reads a `FromStr` type from a string, so that a mistake is reported at the string itself
/// (TOML errors then name the list element, not the whole list).
struct Text<T>(PhantomData<T>);

impl<T> Visitor<'_> for Text<T>
where
    T: FromStr<Err = SlaError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

/// A warning threshold: a whole percentage of the target, from 1 to 99.
///
/// JSON and TOML shape: the number, `75`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u8")]
pub struct Threshold(u8);

impl Threshold {
    /// The threshold at `percent`; `None` outside 1..=99.
    pub const fn new(percent: u8) -> Option<Threshold> {
        if percent >= 1 && percent <= 99 { Some(Threshold(percent)) } else { None }
    }

    /// The percentage.
    pub const fn percent(self) -> u8 {
        self.0
    }

    /// This share of `target` nanoseconds, rounded down.
    pub(crate) fn of(self, target: i64) -> i64 {
        let percent = i64::from(self.0);
        target / 100 * percent + target % 100 * percent / 100
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Percent;

        impl Visitor<'_> for Percent {
            type Value = Threshold;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage from 1 to 99")
            }

            fn visit_i64<E: de::Error>(self, percent: i64) -> Result<Threshold, E> {
                u8::try_from(percent)
                    .ok()
                    .and_then(Threshold::new)
                    .ok_or_else(|| E::custom(SlaError::ThresholdOutOfRange(percent)))
            }

            fn visit_u64<E: de::Error>(self, percent: u64) -> Result<Threshold, E> {
                self.visit_i64(i64::try_from(percent).unwrap_or(i64::MAX))
            }
        }

        deserializer.deserialize_u8(Percent)
    }
}

impl From<Threshold> for u8 {
    fn from(threshold: Threshold) -> u8 {
        threshold.0
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.0)
    }
}

/// The incident events a policy's conditions may name, in the order of [`Event`]'s variants.
/// The events that record SLA marks are not among them: they never move a clock.
pub const EVENT_NAMES: [&str; 27] = [
    "logged",
    "assigned",
    "routed",
    "work_started",
    "put_on_hold",
    "resumed",
    "resolved",
    "closed",
    "reopened",
    "cancelled",
    "escalated_functionally",
    "de_escalated_functionally",
    "escalated_hierarchically",
    "de_escalated_hierarchically",
    "reprioritised",
    "major_declared",
    "major_stood_down",
    "recategorised",
    "affected_ci_changed",
    "customer_updated",
    "work_note_added",
    "parent_linked",
    "parent_unlinked",
    "child_adopted",
    "child_released",
    "merged_into",
    "duplicate_absorbed",
];

/// The names of the events that record SLA marks.
const MARK_EVENTS: [&str; 2] = ["sla_warning_passed", "sla_breached"];

/// The position of `event` in [`EVENT_NAMES`]; `None` for the events that record SLA marks.
pub(crate) fn event_index(event: &Event) -> Option<u8> {
    Some(match event {
        Event::Logged(_) => 0,
        Event::Assigned { .. } => 1,
        Event::Routed { .. } => 2,
        Event::WorkStarted { .. } => 3,
        Event::PutOnHold { .. } => 4,
        Event::Resumed { .. } => 5,
        Event::Resolved { .. } => 6,
        Event::Closed => 7,
        Event::Reopened { .. } => 8,
        Event::Cancelled { .. } => 9,
        Event::EscalatedFunctionally { .. } => 10,
        Event::DeEscalatedFunctionally { .. } => 11,
        Event::EscalatedHierarchically { .. } => 12,
        Event::DeEscalatedHierarchically { .. } => 13,
        Event::Reprioritised { .. } => 14,
        Event::MajorDeclared { .. } => 15,
        Event::MajorStoodDown { .. } => 16,
        Event::Recategorised { .. } => 17,
        Event::AffectedCiChanged { .. } => 18,
        Event::CustomerUpdated { .. } => 19,
        Event::WorkNoteAdded { .. } => 20,
        Event::ParentLinked { .. } => 21,
        Event::ParentUnlinked { .. } => 22,
        Event::ChildAdopted { .. } => 23,
        Event::ChildReleased { .. } => 24,
        Event::MergedInto { .. } => 25,
        Event::DuplicateAbsorbed { .. } => 26,
        Event::SlaWarningPassed { .. } | Event::SlaBreached { .. } => return None,
    })
}

/// An incident event named in a start, stop, resume, reset or cancel condition.
///
/// JSON and TOML shape: the event's name, `"work_started"` (see [`EVENT_NAMES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct EventName(u8);

impl EventName {
    /// The name.
    pub fn as_str(self) -> &'static str {
        EVENT_NAMES.get(usize::from(self.0)).copied().unwrap_or("")
    }

    /// Its bit in a condition's mask.
    pub(crate) const fn bit(self) -> u32 {
        1 << self.0
    }
}

impl FromStr for EventName {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if MARK_EVENTS.contains(&text) {
            return Err(SlaError::MarkEvent(text.to_owned()));
        }
        EVENT_NAMES
            .iter()
            .position(|name| *name == text)
            .and_then(|index| u8::try_from(index).ok())
            .map(EventName)
            .ok_or_else(|| SlaError::UnknownEvent(text.to_owned()))
    }
}

impl<'de> Deserialize<'de> for EventName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Text::<EventName>(PhantomData))
    }
}

impl From<EventName> for String {
    fn from(name: EventName) -> String {
        name.as_str().to_owned()
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incident state a clock pauses in (`pause_while`) or is confined to (`run_while`): a
/// status, and for `on_hold` optionally what it waits for.
///
/// JSON and TOML shape: `"on_hold"` (any hold), `"on_hold:awaiting_customer"`,
/// `"on_hold:awaiting_supplier"`, `"on_hold:awaiting_change"`, or another status such as
/// `"resolved"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct StatePattern {
    /// The status.
    pub status: Status,
    /// For `on_hold`, the reason; `None` matches any.
    pub hold: Option<HoldReason>,
}

/// The situations a [`StatePattern`] can tell apart, each a bit of a mask.
pub(crate) fn situation(status: Status, hold: Option<HoldReason>) -> u16 {
    let index = match (status, hold) {
        (Status::New, _) => 0,
        (Status::Assigned, _) => 1,
        (Status::InProgress, _) => 2,
        (Status::OnHold, Some(HoldReason::AwaitingCustomer)) => 3,
        (Status::OnHold, Some(HoldReason::AwaitingSupplier)) => 4,
        (Status::OnHold, Some(HoldReason::AwaitingChange)) => 5,
        (Status::OnHold, None) => 6,
        (Status::Resolved, _) => 7,
        (Status::Closed, _) => 8,
        (Status::Cancelled, _) => 9,
        (Status::Merged, _) => 10,
    };
    1 << index
}

const HOLD_REASONS: [(HoldReason, &str); 3] = [
    (HoldReason::AwaitingCustomer, "awaiting_customer"),
    (HoldReason::AwaitingSupplier, "awaiting_supplier"),
    (HoldReason::AwaitingChange, "awaiting_change"),
];

impl StatePattern {
    /// The situations it matches, as a mask of [`situation`] bits.
    pub(crate) fn mask(self) -> u16 {
        match (self.status, self.hold) {
            (Status::OnHold, None) => {
                HOLD_REASONS.iter().fold(situation(Status::OnHold, None), |mask, (reason, _)| {
                    mask | situation(Status::OnHold, Some(*reason))
                })
            }
            (status, hold) => situation(status, hold),
        }
    }
}

impl FromStr for StatePattern {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || SlaError::MalformedState(text.to_owned());
        let (status, reason) = match text.split_once(':') {
            Some((status, reason)) => (status, Some(reason)),
            None => (text, None),
        };
        let status =
            Status::ALL.into_iter().find(|s| s.as_str() == status).ok_or_else(malformed)?;
        let hold = match reason {
            None => None,
            Some(_) if status != Status::OnHold => return Err(malformed()),
            Some(reason) => Some(
                HOLD_REASONS
                    .iter()
                    .find(|(_, name)| *name == reason)
                    .map(|(hold, _)| *hold)
                    .ok_or_else(malformed)?,
            ),
        };
        Ok(StatePattern { status, hold })
    }
}

impl fmt::Display for StatePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.status.as_str())?;
        if let Some(hold) = self.hold {
            let name = HOLD_REASONS.iter().find(|(h, _)| *h == hold).map_or("", |(_, n)| n);
            write!(f, ":{name}")?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for StatePattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Text::<StatePattern>(PhantomData))
    }
}

impl From<StatePattern> for String {
    fn from(pattern: StatePattern) -> String {
        pattern.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_days_hours_and_minutes_in_order() {
        let cases = [
            ("15m", 0, 15),
            ("4h", 0, 240),
            ("9h45m", 0, 585),
            ("3d", 3, 0),
            ("1d4h", 1, 240),
            ("0m", 0, 0),
        ];
        for (text, days, minutes) in cases {
            let duration: BusinessDuration = text.parse().unwrap();
            assert_eq!((duration.days(), duration.minutes()), (days, minutes), "{text}");
            assert_eq!(duration.to_string(), text, "written back the same way");
        }
        // 90 minutes are written back as hours and minutes
        assert_eq!("90m".parse::<BusinessDuration>().unwrap().to_string(), "1h30m");
    }

    #[test]
    fn malformed_durations_are_refused() {
        for text in ["", "4", "h", "4x", "4h3d", "4h4h", "1.5h", "-4h", "4 h", "99999999999m"] {
            let error = text.parse::<BusinessDuration>().unwrap_err();
            assert_eq!(error, SlaError::MalformedDuration(text.to_owned()), "{text}");
        }
    }

    #[test]
    fn days_need_a_business_day() {
        let three_days: BusinessDuration = "3d".parse().unwrap();
        assert_eq!(three_days.to_delta(None), None);
        let core_day = TimeDelta::minutes(585);
        assert_eq!(three_days.to_delta(Some(core_day)), Some(TimeDelta::minutes(3 * 585)));
        let hours: BusinessDuration = "4h".parse().unwrap();
        assert_eq!(hours.to_delta(None), Some(TimeDelta::hours(4)));
    }

    #[test]
    fn thresholds_are_percentages_below_a_hundred() {
        assert_eq!(Threshold::new(0), None);
        assert_eq!(Threshold::new(100), None);
        let three_quarters = Threshold::new(75).unwrap();
        let hour = 3_600_000_000_000;
        assert_eq!(three_quarters.of(4 * hour), 3 * hour);
        // Shares are in nanoseconds, rounded down: 33 % of 10 s, half of 1 s and 1 ns
        let third = Threshold::new(33).unwrap();
        assert_eq!(third.of(10_000_000_000), 3_300_000_000);
        assert_eq!(Threshold::new(50).unwrap().of(1_000_000_001), 500_000_000);
        // Ten years of nanoseconds do not overflow
        let decade = 10 * 366 * 24 * hour;
        assert_eq!(Threshold::new(99).unwrap().of(decade), decade / 100 * 99);
        assert!(serde_json::from_str::<Threshold>("100").is_err());
        assert!(serde_json::from_str::<Threshold>("-5").is_err());
        assert_eq!(serde_json::from_str::<Threshold>("75").unwrap(), three_quarters);
    }

    #[test]
    fn event_names_are_the_incident_events_names() {
        for name in EVENT_NAMES {
            assert_eq!(name.parse::<EventName>().unwrap().as_str(), name);
        }
        assert_eq!(
            "sla_breached".parse::<EventName>(),
            Err(SlaError::MarkEvent("sla_breached".into()))
        );
        assert_eq!("solved".parse::<EventName>(), Err(SlaError::UnknownEvent("solved".into())));
    }

    #[test]
    fn state_patterns_read_statuses_and_hold_reasons() {
        let any_hold: StatePattern = "on_hold".parse().unwrap();
        let customer: StatePattern = "on_hold:awaiting_customer".parse().unwrap();
        assert_eq!(customer.to_string(), "on_hold:awaiting_customer");
        let customer_bit = situation(Status::OnHold, Some(HoldReason::AwaitingCustomer));
        assert_eq!(customer.mask(), customer_bit);
        assert_ne!(any_hold.mask() & customer_bit, 0);
        assert_ne!(
            any_hold.mask() & situation(Status::OnHold, Some(HoldReason::AwaitingChange)),
            0
        );
        assert_eq!(any_hold.mask() & situation(Status::InProgress, None), 0);
        for text in ["resolved:awaiting_customer", "on_hold:awaiting_godot", "paused", ""] {
            assert_eq!(text.parse::<StatePattern>(), Err(SlaError::MalformedState(text.into())));
        }
    }
}
