//! Business calendars: when the desk is open, and business time between instants.
//!
//! A [`BusinessCalendar`] has an IANA time zone (Europe/London unless told otherwise), zero or
//! more working [`Period`]s per weekday at minute precision (`07:45-17:30`, split shifts, periods
//! up to `24:00`), closed dates from built-in UK [`HolidaySet`]s and an extra list, or is open
//! around the clock. It is read from a calendar file (see [`CalendarDefinition`] for the format)
//! and answers four questions, each in the same small time whatever the length of the target:
//!
//! - [`is_open`](BusinessCalendar::is_open): is the desk open at this instant?
//! - [`next_opening`](BusinessCalendar::next_opening): when does it next open (now, if open)?
//! - [`due`](BusinessCalendar::due): when is a target of so much business time used up?
//! - [`elapsed`](BusinessCalendar::elapsed): how much business time lies between two instants?
//!
//! For many questions about the same instants, [`reading`](BusinessCalendar::reading) reads the
//! calendar's meter of business time once per instant; differences of readings are elapsed
//! business time, and [`instant_at`](BusinessCalendar::instant_at) turns a reading back into
//! the instant it is reached.
//!
//! # What counts as open
//!
//! An instant is open when its **local wall-clock time**, on its local date, lies inside one of
//! that weekday's periods (start inclusive, end exclusive) and the date is not a holiday. Business
//! time is the real time (in UTC) spent open. From that one rule:
//!
//! - A start outside working time counts from the next opening: 4 business hours from Friday
//!   18:00 on core hours are due on Monday at 11:45.
//! - A target used up exactly at the close of a period is due at that close, not at the next
//!   opening: 9¾ business hours from Monday 07:45 are due on Monday at 17:30.
//!   ([`due`](BusinessCalendar::due) returns the earliest instant by which the target is used up;
//!   a zero target is due at its start.)
//! - A calendar open around the clock counts real elapsed time across the clocks change: in
//!   London the last Sunday in March has 23 hours and the last Sunday in October 25.
//! - Working periods are wall-clock times: 09:00–17:00 is eight hours on every ordinary day,
//!   summer or winter.
//!
//! # Period edges in a skipped or repeated hour
//!
//! Both follow from reading the wall clock; examples are for London, where the clocks go forward
//! from 01:00 to 02:00 on the last Sunday in March and back from 02:00 to 01:00 on the last
//! Sunday in October.
//!
//! - **Skipped hour**: wall-clock times in the gap never happen, so an edge inside the gap takes
//!   effect at the moment the clocks go forward. A Sunday period `00:00-01:30` ends at 01:00 GMT
//!   (one hour long); `01:30-03:00` opens at 02:00 BST (one hour long); `01:15-01:45` is empty.
//! - **Repeated hour**: wall-clock times from 01:00 to 02:00 happen twice, and both passes count.
//!   A Sunday period `01:00-02:00` is two real hours long; `00:00-01:30` is open from 00:00 BST
//!   to 01:30 BST and again from 01:00 GMT to 01:30 GMT (two hours in all); `01:30-03:00` is
//!   open from 01:30 BST to 02:00 BST and from 01:30 GMT to 03:00 GMT (two hours).
//!
//! # How it is fast
//!
//! A calendar is compiled once, when it is built, into sorted UTC open intervals with running
//! totals of business seconds over the UTC years of a [`CompiledSpan`] (1995–2100 unless told
//! otherwise; about 5 ms for core hours). Two small indexes, by day and by a day's worth of
//! business time, narrow each search to a handful of intervals, so a question costs one or two
//! short searches whatever the target's length. Outside the span the same compilation is done
//! on the fly, one UTC year at a time: exact, only slower. The calendar is closed before the
//! year 1 and from the year 10000 on.

mod file;
pub mod holidays;
mod hours;
mod timeline;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use self::file::CalendarDefinition;
pub use self::holidays::{BankHoliday, HolidaySet};
pub use self::hours::{Period, WeeklyHours};
use self::timeline::{Exact, Rules, Timeline};
use crate::Timestamp;
use crate::id::CalendarId;

/// Something about a calendar is wrong, or a question cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// A period is not written `HH:MM-HH:MM` with times from 00:00 to 24:00.
    #[error("`{0}` is not a period like 07:45-17:30")]
    MalformedPeriod(String),
    /// A period ends before it starts.
    #[error("period `{0}` ends before it starts")]
    EndsBeforeStart(String),
    /// A period ends when it starts.
    #[error("period `{0}` is empty")]
    EmptyPeriod(String),
    /// Two periods of the same day overlap.
    #[error("periods {first} and {second} overlap")]
    Overlap {
        /// The one that starts first.
        first: Period,
        /// The one that starts inside it.
        second: Period,
    },
    /// The name is not one of the built-in holiday sets.
    #[error("unknown holiday set `{0}` (expected england-and-wales, scotland or northern-ireland)")]
    UnknownHolidaySet(String),
    /// The time zone is not in the IANA database.
    #[error("unknown time zone `{0}` (use an IANA name such as Europe/London)")]
    UnknownTimeZone(String),
    /// No day has any working period.
    #[error("a calendar needs at least one working period, or always_open = true")]
    NoWorkingTime,
    /// `always_open` is set and hours are listed too.
    #[error("an always-open calendar lists no hours (use one or the other)")]
    AlwaysOpenWithHours,
    /// `always_open` is set and holidays are listed too.
    #[error(
        "an always-open calendar has no holidays (to close on holidays, give every day 00:00-24:00)"
    )]
    AlwaysOpenWithHolidays,
    /// The years to compile are not a range within 1..=9999.
    #[error("cannot compile the years {first}..={last} (use a range within 1..=9999)")]
    InvalidSpan {
        /// The first year asked for.
        first: i32,
        /// The last year asked for.
        last: i32,
    },
    /// A target of business time is negative.
    #[error("a business-time target cannot be negative")]
    NegativeTarget,
    /// The target is not used up before the year 10000.
    #[error("the target is not reached before the year 10000")]
    Unreachable,
    /// Two calendars have the same name.
    #[error("calendar `{0}` is defined twice")]
    DuplicateCalendar(CalendarId),
}

/// The UTC years a calendar is compiled for when it is built; questions about instants outside
/// them are answered more slowly. Default: 1995 to 2100.
///
/// JSON shape: `{"first_year": 1995, "last_year": 2100}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompiledSpan {
    /// The first year, from 1 January 00:00 UTC.
    pub first_year: i32,
    /// The last year, to 31 December 24:00 UTC.
    pub last_year: i32,
}

impl Default for CompiledSpan {
    fn default() -> Self {
        CompiledSpan { first_year: 1995, last_year: 2100 }
    }
}

/// The first supported year: before it, every calendar is closed.
const FIRST_YEAR: i32 = 1;
/// The last supported year: after it, every calendar is closed.
const LAST_YEAR: i32 = 9999;
/// 0001-01-01T00:00:00Z in seconds since the epoch: the earliest supported instant.
const EARLIEST: i64 = -62_135_596_800;
/// 10000-01-01T00:00:00Z in seconds since the epoch: the end of the supported instants.
const LATEST: i64 = 253_402_300_800;

/// Seconds since the epoch at 1 January of `year`, 00:00 UTC.
fn new_year(year: i32) -> Option<i64> {
    Some(NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// A compiled business calendar. Cheap to clone (the compiled intervals are shared).
///
/// JSON shape: that of its [`CalendarDefinition`]; reading one compiles it for the default
/// [`CompiledSpan`].
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "CalendarDefinition", into = "CalendarDefinition")]
pub struct BusinessCalendar {
    definition: CalendarDefinition,
    span: CompiledSpan,
    compiled: Arc<Compiled>,
}

struct Compiled {
    rules: Rules,
    /// The span compiled ahead.
    main: Timeline,
}

impl BusinessCalendar {
    /// Checks and compiles `definition` for the default [`CompiledSpan`].
    pub fn new(definition: CalendarDefinition) -> Result<Self, CalendarError> {
        BusinessCalendar::with_span(definition, CompiledSpan::default())
    }

    /// Checks and compiles `definition` for the years of `span`.
    pub fn with_span(
        definition: CalendarDefinition,
        span: CompiledSpan,
    ) -> Result<Self, CalendarError> {
        definition.check().map_err(|(_, error)| error)?;
        let invalid = CalendarError::InvalidSpan { first: span.first_year, last: span.last_year };
        let years = FIRST_YEAR..=LAST_YEAR;
        if span.first_year > span.last_year
            || !years.contains(&span.first_year)
            || !years.contains(&span.last_year)
        {
            return Err(invalid);
        }
        let (Some(from), Some(until)) = (new_year(span.first_year), new_year(span.last_year + 1))
        else {
            return Err(invalid);
        };
        let week = if definition.always_open {
            WeeklyHours::every_day(&[Period::ALL_DAY])
        } else {
            definition.hours.clone()
        };
        let rules = Rules {
            timezone: definition.timezone,
            week: week.seconds_by_weekday(),
            sets: definition.include.clone(),
            extra: definition.holidays.iter().copied().collect(),
        };
        let main = Timeline::build(&rules, from, until);
        let compiled = Arc::new(Compiled { rules, main });
        Ok(BusinessCalendar { definition, span, compiled })
    }

    /// Its name.
    pub fn name(&self) -> &CalendarId {
        &self.definition.name
    }

    /// Its time zone.
    pub fn timezone(&self) -> Tz {
        self.definition.timezone
    }

    /// What it was built from.
    pub fn definition(&self) -> &CalendarDefinition {
        &self.definition
    }

    /// The years compiled ahead.
    pub fn span(&self) -> CompiledSpan {
        self.span
    }

    /// Whether `date` (a local date) is closed as a holiday.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.definition.holidays.contains(&date)
            || self.definition.include.iter().any(|set| set.contains(date))
    }

    /// The compiled timeline covering second `secs`: the precompiled span, or the UTC year
    /// around `secs` compiled now. `None` outside the supported years.
    fn segment(&self, secs: i64) -> Option<Cow<'_, Timeline>> {
        let compiled = &*self.compiled;
        if compiled.main.covers(secs) {
            return Some(Cow::Borrowed(&compiled.main));
        }
        if !(EARLIEST..LATEST).contains(&secs) {
            return None;
        }
        let year = DateTime::from_timestamp(secs, 0)?.year();
        let (from, until) = (new_year(year)?, new_year(year + 1)?);
        Some(Cow::Owned(Timeline::build(&compiled.rules, from, until)))
    }

    /// Whether the desk is open at `at`. A period's start is open, its end is not.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let secs = at.timestamp();
        self.segment(secs).is_some_and(|segment| segment.is_open(secs))
    }

    /// The first instant at or after `at` when the desk is open: `at` itself if open now.
    /// `None` if it never opens again before the year 10000.
    pub fn next_opening(&self, at: Timestamp) -> Option<Timestamp> {
        let mut at = Exact::instant(at).max(Exact::seconds(EARLIEST));
        loop {
            let segment = self.segment(at.secs)?;
            if let Some(opening) = segment.next_opening(at) {
                return opening.to_instant();
            }
            at = Exact::seconds(segment.until());
        }
    }

    /// When `target` of business time, counted from `start`, is used up: the earliest instant
    /// `t` with `elapsed(start, t) == target`.
    ///
    /// A start outside working time counts from the next opening; a target used up exactly at a
    /// period's close is due at that close; a zero target is due at `start`.
    pub fn due(&self, start: Timestamp, target: TimeDelta) -> Result<Timestamp, CalendarError> {
        let mut remaining = Exact::amount(target).ok_or(CalendarError::NegativeTarget)?;
        if remaining == Exact::seconds(0) {
            return Ok(start);
        }
        let mut at = Exact::instant(start).max(Exact::seconds(EARLIEST));
        // Business time cannot outrun real time: a target longer than what is left before the
        // year 10000 is refused at once instead of compiling every year up to it.
        if at.secs >= LATEST || remaining > Exact::seconds(LATEST).minus(at) {
            return Err(CalendarError::Unreachable);
        }
        loop {
            let segment = self.segment(at.secs).ok_or(CalendarError::Unreachable)?;
            let goal = segment.business_before(at).plus(remaining);
            if let Some(due) = segment.instant_reaching(goal) {
                return due.to_instant().ok_or(CalendarError::Unreachable);
            }
            remaining = goal.minus(segment.total());
            at = Exact::seconds(segment.until());
        }
    }

    /// Business time from `from` to `to`: the real time between them during which the desk is
    /// open. Negative when `to` is before `from`.
    pub fn elapsed(&self, from: Timestamp, to: Timestamp) -> TimeDelta {
        if to < from {
            return -self.elapsed(to, from);
        }
        let clamp = |at: Timestamp| {
            Exact::instant(at).clamp(Exact::seconds(EARLIEST), Exact::seconds(LATEST))
        };
        let (mut at, to) = (clamp(from), clamp(to));
        let mut total = Exact::seconds(0);
        while at < to {
            let Some(segment) = self.segment(at.secs) else { break };
            let end = Exact::seconds(segment.until()).min(to);
            total = total.plus(segment.business_before(end).minus(segment.business_before(at)));
            at = end;
        }
        total.to_delta()
    }

    /// The calendar's meter of business time at `at`: the business time since the start of the
    /// compiled span. `None` outside the span (ask [`elapsed`](BusinessCalendar::elapsed) and
    /// [`due`](BusinessCalendar::due) there).
    ///
    /// Taking a reading costs one short search, and the business time between two instants is
    /// the difference of their readings, so an engine asking many questions about the same
    /// instants (the SLA clocks of one incident) takes each reading once.
    pub fn reading(&self, at: Timestamp) -> Option<Reading> {
        let at = Exact::instant(at);
        let main = &self.compiled.main;
        main.covers(at.secs).then(|| Reading(main.business_before(at)))
    }

    /// The earliest instant by which the meter shows `reading`: the same instant as
    /// [`due`](BusinessCalendar::due) from an instant read `earlier` with a target of
    /// `reading − earlier`, when that target is more than zero. `None` when the compiled span
    /// ends first.
    pub fn instant_at(&self, reading: Reading) -> Option<Timestamp> {
        self.compiled.main.instant_reaching(reading.0)?.to_instant()
    }

    /// The local time of `at` on this calendar's wall clock.
    pub fn local(&self, at: Timestamp) -> DateTime<Tz> {
        self.definition.timezone.from_utc_datetime(&at.naive_utc())
    }
}

impl TryFrom<CalendarDefinition> for BusinessCalendar {
    type Error = CalendarError;

    fn try_from(definition: CalendarDefinition) -> Result<Self, Self::Error> {
        BusinessCalendar::new(definition)
    }
}

impl From<BusinessCalendar> for CalendarDefinition {
    fn from(calendar: BusinessCalendar) -> Self {
        calendar.definition
    }
}

impl PartialEq for BusinessCalendar {
    fn eq(&self, other: &Self) -> bool {
        self.definition == other.definition && self.span == other.span
    }
}

impl Eq for BusinessCalendar {}

impl fmt::Debug for BusinessCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessCalendar")
            .field("definition", &self.definition)
            .field("span", &self.span)
            .field("intervals", &self.compiled.main.intervals())
            .finish()
    }
}

/// A reading of a calendar's meter of business time (see [`BusinessCalendar::reading`]).
/// Readings of one calendar compare and subtract; readings of different calendars mean nothing
/// to each other.
///
/// JSON shape: `{"secs": 1234567, "nanos": 0}`, business time since the compiled span began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "ReadingParts", into = "ReadingParts")]
pub struct Reading(Exact);

/// [`Reading`]'s JSON form.
#[derive(Serialize, Deserialize)]
struct ReadingParts {
    secs: i64,
    nanos: u32,
}

impl From<ReadingParts> for Reading {
    fn from(parts: ReadingParts) -> Self {
        let extra = i64::from(parts.nanos / 1_000_000_000);
        let nanos = parts.nanos % 1_000_000_000;
        Reading(Exact::seconds(parts.secs.saturating_add(extra)).plus(Exact { secs: 0, nanos }))
    }
}

impl From<Reading> for ReadingParts {
    fn from(reading: Reading) -> Self {
        ReadingParts { secs: reading.0.secs, nanos: reading.0.nanos }
    }
}

impl Reading {
    /// The business time from `earlier` to this reading (negative if `earlier` is later).
    pub fn since(self, earlier: Reading) -> TimeDelta {
        if self >= earlier { self.0.minus(earlier.0).to_delta() } else { -earlier.since(self) }
    }

    /// The business time from `earlier` to this reading in nanoseconds, the same as
    /// [`since`](Reading::since) but without going through [`TimeDelta`]; `None` if it does
    /// not fit.
    pub(crate) fn nanos_since(self, earlier: Reading) -> Option<i64> {
        let secs = self.0.secs.checked_sub(earlier.0.secs)?;
        let nanos = i64::from(self.0.nanos) - i64::from(earlier.0.nanos);
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)
    }

    /// The reading `delta` of business time later; `None` for a negative `delta`.
    pub fn after(self, delta: TimeDelta) -> Option<Reading> {
        Exact::amount(delta).map(|delta| Reading(self.0.plus(delta)))
    }
}

/// Calendars by name, as SLA definitions refer to them.
///
/// JSON shape: an array of calendars (see [`BusinessCalendar`]), in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<BusinessCalendar>", into = "Vec<BusinessCalendar>")]
pub struct Calendars(BTreeMap<CalendarId, BusinessCalendar>);

impl Calendars {
    /// No calendars.
    pub fn new() -> Self {
        Calendars::default()
    }

    /// Adds `calendar`, refusing a second calendar of the same name.
    pub fn insert(&mut self, calendar: BusinessCalendar) -> Result<(), CalendarError> {
        let name = calendar.name().clone();
        if self.0.contains_key(&name) {
            return Err(CalendarError::DuplicateCalendar(name));
        }
        self.0.insert(name, calendar);
        Ok(())
    }

    /// The calendar called `name`.
    pub fn get(&self, name: &str) -> Option<&BusinessCalendar> {
        self.0.get(name)
    }

    /// Every calendar, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &BusinessCalendar> {
        self.0.values()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<BusinessCalendar>> for Calendars {
    type Error = CalendarError;

    fn try_from(list: Vec<BusinessCalendar>) -> Result<Self, Self::Error> {
        let mut calendars = Calendars::new();
        for calendar in list {
            calendars.insert(calendar)?;
        }
        Ok(calendars)
    }
}

impl From<Calendars> for Vec<BusinessCalendar> {
    fn from(calendars: Calendars) -> Self {
        calendars.0.into_values().collect()
    }
}

#[cfg(test)]
mod tests;
