//! The compiled form of a calendar: its open time over a stretch of UTC as sorted, disjoint
//! intervals of whole seconds, each with the running total of business seconds at its close.
//!
//! Every query is one or two binary searches, whatever the length of the target. Building a
//! timeline walks the stretch one local day at a time; the time zone's offset changes are found
//! by probing the offset once a day and bisecting to the second where it changed (the tz database
//! never changes a zone's offset twice within a week, so no change is missed).

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
}

impl Timeline {
    /// Compiles `rules` over `[from, until)`.
    ///
    /// An instant is open when its local wall-clock time, on its local date, lies inside one of
    /// that weekday's periods and the date is not a holiday. Each stretch of constant offset maps
    /// wall-clock time to UTC by a plain subtraction, so the open set is built stretch by stretch.
    pub(super) fn build(rules: &Rules, from: i64, until: i64) -> Timeline {
        let mut timeline =
            Timeline { from, until, starts: Vec::new(), ends: Vec::new(), after: Vec::new() };
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

    /// The index of the last interval starting at or before `secs`.
    fn last_started(&self, secs: i64) -> Option<usize> {
        self.starts.partition_point(|&start| start <= secs).checked_sub(1)
    }

    /// Whether the calendar is open at second `secs`.
    pub(super) fn is_open(&self, secs: i64) -> bool {
        self.last_started(secs).is_some_and(|i| secs < self.ends[i])
    }

    /// Business time in `[from, at)`; `at` lies in `[from, until]`.
    pub(super) fn business_before(&self, at: Timestamp) -> TimeDelta {
        let secs = at.timestamp();
        match self.last_started(secs) {
            None => TimeDelta::zero(),
            Some(i) if secs < self.ends[i] => {
                seconds(self.after[i] - (self.ends[i] - secs), at.timestamp_subsec_nanos())
            }
            Some(i) => seconds(self.after[i], 0),
        }
    }

    /// All the business time it holds.
    pub(super) fn total(&self) -> TimeDelta {
        seconds(self.after.last().copied().unwrap_or(0), 0)
    }

    /// The earliest instant by which `goal` of business time (counted from `from`) has passed,
    /// or `None` if the timeline holds less. `goal` must be positive.
    ///
    /// A goal used up exactly at an interval's close is due at that close.
    pub(super) fn instant_reaching(&self, goal: TimeDelta) -> Option<Timestamp> {
        let rounded_up = goal.num_seconds() + i64::from(goal.subsec_nanos() > 0);
        let i = self.after.partition_point(|&after| after < rounded_up);
        let (end, after) = (*self.ends.get(i)?, self.after[i]);
        DateTime::from_timestamp(end, 0)?.checked_sub_signed(seconds(after, 0) - goal)
    }

    /// The first instant at or after `at` when it is open, if any before `until`.
    pub(super) fn next_opening(&self, at: Timestamp) -> Option<Timestamp> {
        let secs = at.timestamp();
        let next = match self.last_started(secs) {
            Some(i) if secs < self.ends[i] => return Some(at),
            Some(i) => i + 1,
            None => 0,
        };
        DateTime::from_timestamp(*self.starts.get(next)?, 0)
    }
}

/// `secs` seconds and `nanos` nanoseconds (both well inside chrono's range here).
pub(super) fn seconds(secs: i64, nanos: u32) -> TimeDelta {
    TimeDelta::new(secs, nanos).unwrap_or(TimeDelta::MAX)
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
        assert_eq!(timeline.total(), TimeDelta::hours(40));
        // And a goal of exactly eight hours is due at Monday's close, not Tuesday's opening
        assert_eq!(
            timeline.instant_reaching(TimeDelta::hours(8)),
            Some(at("2026-01-05T17:00:00Z"))
        );
        assert_eq!(timeline.instant_reaching(TimeDelta::hours(41)), None);
    }

    #[test]
    fn business_before_counts_fractions_of_a_second() {
        let mut rules = london_weekdays(&[(0, DAY)]);
        rules.timezone = chrono_tz::UTC;
        let timeline = Timeline::build(&rules, 0, DAY);
        let instant = at("1970-01-01T00:00:01.25Z");
        assert_eq!(timeline.business_before(instant), TimeDelta::milliseconds(1250));
        assert_eq!(timeline.next_opening(instant), Some(instant));
        assert_eq!(timeline.next_opening(at("1970-01-02T00:00:00Z")), None);
    }
}
