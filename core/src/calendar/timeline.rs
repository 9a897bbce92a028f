//! The compiled form of a calendar: its open time over a stretch of UTC as sorted, disjoint
//! intervals of whole seconds, each with the running total of business seconds at its close.
//!
//! Two indexes (how many intervals start before each day, and how many close before each day's
//! worth of business time) narrow every search to the intervals of one day, so a query costs
//! the same whatever the length of the target. Building a timeline walks the stretch one local
//! day at a time; the time zone's offset changes are found by probing the offset once a day and
//! bisecting to the second where it changed (the tz database never changes a zone's offset twice
//! within a week, so no change is missed).

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeDelta, TimeZone};
use chrono_tz::Tz;

use super::holidays::HolidaySet;
use crate::Timestamp;

/// Seconds in a day.
pub(super) const DAY: i64 = 86_400;

/// What a timeline is built from: a calendar's definition, resolved for fast building.
#[derive(Debug, Clone)]
pub(super) struct Rules {
    /// Where the wall clock is read.
    pub(super) timezone: Tz,
    /// Working periods per weekday (Monday first), as merged seconds after local midnight.
    pub(super) week: [Vec<(i64, i64)>; 7],
    /// Built-in holiday sets.
    pub(super) sets: Vec<HolidaySet>,
    /// Extra closed dates, sorted.
    pub(super) extra: Vec<NaiveDate>,
}

impl Rules {
    /// The closed dates in local years `first..=last`, as days since 1970-01-01, sorted.
    fn holiday_days(&self, first: i32, last: i32) -> Vec<i64> {
        let mut days: Vec<i64> = (first..=last)
            .flat_map(|year| self.sets.iter().flat_map(move |set| set.dates(year)))
            .chain(self.extra.iter().copied().filter(|d| (first..=last).contains(&d.year())))
            .map(day_number)
            .collect();
        days.sort_unstable();
        days.dedup();
        days
    }

    /// The zone's offset from UTC at `secs`, in seconds.
    fn offset_at(&self, secs: i64) -> i64 {
        DateTime::from_timestamp(secs, 0).map_or(0, |at| {
            i64::from(
                self.timezone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc(),
            )
        })
    }

    /// The stretches of `[from, until)` over which the offset is constant: `(start, end, offset)`.
    fn offset_pieces(&self, from: i64, until: i64) -> Vec<(i64, i64, i64)> {
        let mut pieces = Vec::new();
        let (mut start, mut offset) = (from, self.offset_at(from));
        let mut probe = from;
        while probe < until - 1 {
            let next = (probe + DAY).min(until - 1);
            if self.offset_at(next) == offset {
                probe = next;
                continue;
            }
            // The offset changes in (probe, next]: find the first second it differs.
            let (mut same, mut changed) = (probe, next);
            while changed - same > 1 {
                let middle = same + (changed - same) / 2;
                if self.offset_at(middle) == offset { same = middle } else { changed = middle }
            }
            pieces.push((start, changed, offset));
            (start, offset, probe) = (changed, self.offset_at(changed), changed);
        }
        pieces.push((start, until, offset));
        pieces
    }
}

/// Days since 1970-01-01.
pub(super) fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

/// An instant (time since the epoch) or an amount of business time, exactly: whole seconds and
/// nanoseconds. Queries work on these rather than on chrono types, whose arithmetic goes through
/// the calendar date and would cost more than the searches themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Exact {
    pub(super) secs: i64,
    /// Below one second.
    pub(super) nanos: u32,
}

const NANOS: u32 = 1_000_000_000;

impl Exact {
    /// Whole seconds.
    pub(super) const fn seconds(secs: i64) -> Exact {
        Exact { secs, nanos: 0 }
    }

    /// An instant.
    pub(super) fn instant(at: Timestamp) -> Exact {
        Exact { secs: at.timestamp(), nanos: at.timestamp_subsec_nanos() }
    }

    /// An amount of time; `None` if negative.
    pub(super) fn amount(delta: TimeDelta) -> Option<Exact> {
        (delta >= TimeDelta::zero()).then(|| Exact {
            secs: delta.num_seconds(),
            nanos: delta.subsec_nanos().unsigned_abs(),
        })
    }

    pub(super) fn to_instant(self) -> Option<Timestamp> {
        DateTime::from_timestamp(self.secs, self.nanos)
    }

    pub(super) fn to_delta(self) -> TimeDelta {
        TimeDelta::new(self.secs, self.nanos).unwrap_or(TimeDelta::MAX)
    }

    pub(super) fn plus(self, other: Exact) -> Exact {
        let nanos = self.nanos + other.nanos;
        let carry = nanos >= NANOS;
        Exact {
            secs: self.secs + other.secs + i64::from(carry),
            nanos: if carry { nanos - NANOS } else { nanos },
        }
    }

    pub(super) fn minus(self, other: Exact) -> Exact {
        let borrow = self.nanos < other.nanos;
        Exact {
            secs: self.secs - other.secs - i64::from(borrow),
            nanos: if borrow { self.nanos + NANOS - other.nanos } else { self.nanos - other.nanos },
        }
    }
}

/// Open time over `[from, until)` (UTC seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Timeline {
    from: i64,
    until: i64,
    /// Where each open interval starts.
    starts: Vec<i64>,
    /// Where each open interval ends; `starts[i] < ends[i] < starts[i + 1]`.
    ends: Vec<i64>,
    /// Business seconds in `[from, ends[i])`.
    after: Vec<i64>,
    /// `by_day[d]`: how many intervals start at or before `from + d` days. Narrows a search by
    /// instant to the intervals of one day.
    by_day: Vec<u32>,
    /// `by_business[k]`: how many intervals close before `k` days of business time. Narrows a
    /// search by business time to the intervals of one day's worth of it.
    by_business: Vec<u32>,
}

impl Timeline {
    /// Compiles `rules` over `[from, until)`.
    ///
    /// An instant is open when its local wall-clock time, on its local date, lies inside one of
    /// that weekday's periods and the date is not a holiday. Each stretch of constant offset maps
    /// wall-clock time to UTC by a plain subtraction, so the open set is built stretch by stretch.
    pub(super) fn build(rules: &Rules, from: i64, until: i64) -> Timeline {
        let mut timeline = Timeline {
            from,
            until,
            starts: Vec::new(),
            ends: Vec::new(),
            after: Vec::new(),
            by_day: Vec::new(),
            by_business: Vec::new(),
        };
        let year = |secs: i64| DateTime::from_timestamp(secs, 0).map_or(1970, |t| t.year());
        let holidays = rules.holiday_days(year(from - DAY), year(until + DAY));
        for (start, end, offset) in rules.offset_pieces(from, until) {
            let (wall_from, wall_to) = (start + offset, end + offset);
            for day in wall_from.div_euclid(DAY)..=(wall_to - 1).div_euclid(DAY) {
                if holidays.binary_search(&day).is_ok() {
                    continue;
                }
                // 1970-01-01 was a Thursday; index 0 is Monday.
                let weekday = (day + 3).rem_euclid(7) as usize;
                let midnight = day * DAY;
                for &(open, close) in &rules.week[weekday] {
                    let (lo, hi) =
                        ((midnight + open).max(wall_from), (midnight + close).min(wall_to));
                    if lo < hi {
                        timeline.push(lo - offset, hi - offset);
                    }
                }
            }
        }
        timeline.index();
        timeline
    }

    fn push(&mut self, start: i64, end: i64) {
        let total = self.after.last().copied().unwrap_or(0);
        match (self.ends.last_mut(), self.after.last_mut()) {
            (Some(last_end), Some(last_after)) if *last_end == start => {
                *last_end = end;
                *last_after = total + (end - start);
            }
            _ => {
                self.starts.push(start);
                self.ends.push(end);
                self.after.push(total + (end - start));
            }
        }
    }

    /// Fills `by_day` and `by_business`.
    fn index(&mut self) {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let days = (self.until - self.from).div_euclid(DAY) + 1;
        self.by_day = (0..=days)
            .map(|d| count(self.starts.partition_point(|&s| s <= self.from + d * DAY)))
            .collect();
        let total = self.after.last().copied().unwrap_or(0);
        self.by_business = (0..=total / DAY + 1)
            .map(|k| count(self.after.partition_point(|&a| a < k * DAY)))
            .collect();
    }

    /// The first second after it.
    pub(super) fn until(&self) -> i64 {
        self.until
    }

    /// The number of open intervals.
    pub(super) fn intervals(&self) -> usize {
        self.starts.len()
    }

    /// Whether `secs` lies in `[from, until)`.
    pub(super) fn covers(&self, secs: i64) -> bool {
        (self.from..self.until).contains(&secs)
    }

    /// `bounds[k]..bounds[k + 1]` as indices, or the whole of `0..len` if `k` is out of range.
    fn bucket(bounds: &[u32], k: i64, len: usize) -> (usize, usize) {
        let at = |k: i64| usize::try_from(k).ok().and_then(|k| bounds.get(k)).map(|&n| n as usize);
        match (at(k), at(k + 1)) {
            (Some(lo), Some(hi)) => (lo, hi.min(len)),
            (Some(lo), None) => (lo, len),
            _ => (0, len),
        }
    }

    /// The index of the last interval starting at or before `secs`.
    fn last_started(&self, secs: i64) -> Option<usize> {
        let day = (secs - self.from).div_euclid(DAY);
        let (lo, hi) = Self::bucket(&self.by_day, day, self.starts.len());
        let within = self.starts.get(lo..hi).unwrap_or_default();
        (lo + within.partition_point(|&start| start <= secs)).checked_sub(1)
    }

    /// Whether the calendar is open at second `secs`.
    pub(super) fn is_open(&self, secs: i64) -> bool {
        self.last_started(secs).is_some_and(|i| secs < self.ends[i])
    }

    /// Business time in `[from, at)`; `at` lies in `[from, until]`.
    pub(super) fn business_before(&self, at: Exact) -> Exact {
        match self.last_started(at.secs) {
            None => Exact::seconds(0),
            Some(i) if at.secs < self.ends[i] => {
                Exact { secs: at.secs + (self.after[i] - self.ends[i]), nanos: at.nanos }
            }
            Some(i) => Exact::seconds(self.after[i]),
        }
    }

    /// All the business time it holds.
    pub(super) fn total(&self) -> Exact {
        Exact::seconds(self.after.last().copied().unwrap_or(0))
    }

    /// The earliest instant by which `goal` of business time (counted from `from`) has passed,
    /// or `None` if the timeline holds less. `goal` must be positive.
    ///
    /// A goal used up exactly at an interval's close is due at that close.
    pub(super) fn instant_reaching(&self, goal: Exact) -> Option<Exact> {
        // The first interval whose running total reaches the goal.
        let rounded_up = goal.secs + i64::from(goal.nanos > 0);
        let (lo, hi) = Self::bucket(&self.by_business, rounded_up / DAY, self.after.len());
        let within = self.after.get(lo..hi).unwrap_or_default();
        let i = lo + within.partition_point(|&after| after < rounded_up);
        // Inside interval i, instant and business time advance together.
        let shift = self.ends.get(i)? - self.after[i];
        Some(Exact { secs: goal.secs + shift, nanos: goal.nanos })
    }

    /// The first instant at or after `at` when it is open, if any before `until`.
    pub(super) fn next_opening(&self, at: Exact) -> Option<Exact> {
        let next = match self.last_started(at.secs) {
            Some(i) if at.secs < self.ends[i] => return Some(at),
            Some(i) => i + 1,
            None => 0,
        };
        self.starts.get(next).map(|&start| Exact::seconds(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london_weekdays(periods: &[(i64, i64)]) -> Rules {
        let day = periods.to_vec();
        Rules {
            timezone: chrono_tz::Europe::London,
            week: [day.clone(), day.clone(), day.clone(), day.clone(), day, Vec::new(), Vec::new()],
            sets: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn offset_changes_are_found_to_the_second() {
        // Given London across 2026 (clocks forward 29 March, back 25 October, both at 01:00 UTC)
        let rules = london_weekdays(&[]);
        let (from, until) =
            (at("2026-01-01T00:00:00Z").timestamp(), at("2027-01-01T00:00:00Z").timestamp());
        // When its offsets are split into stretches
        let pieces = rules.offset_pieces(from, until);
        // Then there are three, changing exactly at the published instants
        let forward = at("2026-03-29T01:00:00Z").timestamp();
        let back = at("2026-10-25T01:00:00Z").timestamp();
        assert_eq!(pieces, vec![(from, forward, 0), (forward, back, 3600), (back, until, 0)]);
    }

    #[test]
    fn adjacent_days_merge_and_totals_run_on() {
        // Given 09:00-17:00 on weekdays over one week in winter
        let rules = london_weekdays(&[(9 * 3600, 17 * 3600)]);
        let monday = at("2026-01-05T00:00:00Z").timestamp();
        let timeline = Timeline::build(&rules, monday, monday + 7 * DAY);
        // Then five intervals of eight hours each, totalling forty
        assert_eq!(timeline.intervals(), 5);
        assert_eq!(timeline.total(), Exact::seconds(40 * 3600));
        // And a goal of exactly eight hours is due at Monday's close, not Tuesday's opening
        let eight = timeline.instant_reaching(Exact::seconds(8 * 3600));
        assert_eq!(eight, Some(Exact::instant(at("2026-01-05T17:00:00Z"))));
        assert_eq!(timeline.instant_reaching(Exact::seconds(41 * 3600)), None);
    }

    #[test]
    fn business_before_counts_fractions_of_a_second() {
        let mut rules = london_weekdays(&[(0, DAY)]);
        rules.timezone = chrono_tz::UTC;
        let timeline = Timeline::build(&rules, 0, DAY);
        let instant = Exact::instant(at("1970-01-01T00:00:01.25Z"));
        assert_eq!(timeline.business_before(instant), Exact { secs: 1, nanos: 250_000_000 });
        assert_eq!(timeline.next_opening(instant), Some(instant));
        assert_eq!(timeline.next_opening(Exact::seconds(DAY)), None);
    }

    #[test]
    fn exact_arithmetic_carries_and_borrows() {
        let (a, b) = (Exact { secs: 1, nanos: 700_000_000 }, Exact { secs: 2, nanos: 400_000_000 });
        assert_eq!(a.plus(b), Exact { secs: 4, nanos: 100_000_000 });
        assert_eq!(b.minus(a), Exact { secs: 0, nanos: 700_000_000 });
        assert_eq!(Exact::amount(TimeDelta::milliseconds(-1)), None);
        assert_eq!(
            Exact::amount(TimeDelta::milliseconds(1500)).map(Exact::to_delta),
            Some(TimeDelta::milliseconds(1500))
        );
    }
}
