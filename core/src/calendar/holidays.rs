//! UK bank holidays, computed by rule for any year, plus a table of one-off proclamations.
//!
//! Three sets are built in, named as in calendar files: `england-and-wales`, `scotland` and
//! `northern-ireland`. A set holds the bank holidays *as published*: weekdays only. A fixed-date
//! holiday (New Year's Day, 2 January in Scotland, St Patrick's Day, the Battle of the Boyne,
//! St Andrew's Day, Christmas Day, Boxing Day) that falls on a Saturday or Sunday is replaced by a
//! substitute day: the next weekday that is not already a bank holiday, taking the weekend
//! holidays in date order (so Christmas on a Saturday moves to Monday 27 and Boxing Day on the
//! Sunday to Tuesday 28). The weekend date itself is not in the set; a desk that works Saturdays
//! and closes on a Saturday Christmas lists that date under `holidays` in its calendar file.
//!
//! The rules:
//!
//! | holiday | E&W | Scotland | NI | rule |
//! |---|---|---|---|---|
//! | New Year's Day | ✓ | ✓ | ✓ | 1 January, substitute |
//! | 2 January | | ✓ | | substitute |
//! | St Patrick's Day | | | ✓ | 17 March, substitute |
//! | Good Friday | ✓ | ✓ | ✓ | two days before Easter Sunday (Gregorian) |
//! | Easter Monday | ✓ | | ✓ | the day after Easter Sunday |
//! | Early May | ✓ | ✓ | ✓ | first Monday in May (from 1978) |
//! | Spring | ✓ | ✓ | ✓ | last Monday in May |
//! | Battle of the Boyne | | | ✓ | 12 July, substitute |
//! | Summer | | ✓ | | first Monday in August |
//! | Late Summer | ✓ | | ✓ | last Monday in August |
//! | St Andrew's Day | | ✓ | | 30 November, substitute (from 2007) |
//! | Christmas Day, Boxing Day | ✓ | ✓ | ✓ | 25 and 26 December, substitute |
//!
//! Moved by proclamation: the early May holiday to 8 May in 1995 and 2020 (VE Day anniversaries);
//! the spring holiday to 4 June in 2002 and 2012 and to 2 June in 2022 (jubilees). One-off
//! holidays: 31 December 1999 (millennium), 3 June 2002 (Golden Jubilee), 29 April 2011 (royal
//! wedding), 5 June 2012 (Diamond Jubilee), 3 June 2022 (Platinum Jubilee), 19 September 2022
//! (state funeral), 8 May 2023 (coronation), all UK-wide, and 15 June 2026 in Scotland (the men's
//! FIFA World Cup finals).
//!
//! The sets are checked against the published dates for 2015–2035 and hold for at least
//! 1995–2100; outside those years the current rules are applied as they stand, and a future
//! proclamation is added to the table when it is made.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::CalendarError;

/// A built-in set of UK bank holidays.
///
/// JSON and TOML shape: `"england-and-wales"`, `"scotland"` or `"northern-ireland"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HolidaySet {
    /// England and Wales.
    EnglandAndWales,
    /// Scotland.
    Scotland,
    /// Northern Ireland.
    NorthernIreland,
}

/// One bank holiday: its date and its name.
///
/// JSON shape: `{"date": "2026-12-28", "name": "Boxing Day (substitute day)"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BankHoliday {
    /// The day the banks close (always a weekday).
    pub date: NaiveDate,
    /// What it is called, e.g. `Easter Monday` or `Christmas Day (substitute day)`.
    pub name: Cow<'static, str>,
}

/// A holiday declared for one year only, and where it applies.
#[derive(Debug, Clone, Copy)]
struct Proclamation {
    /// Year, month and day.
    date: (i32, u32, u32),
    name: &'static str,
    sets: &'static [HolidaySet],
}

const UK: &[HolidaySet] =
    &[HolidaySet::EnglandAndWales, HolidaySet::Scotland, HolidaySet::NorthernIreland];

/// The one-off bank holidays declared by royal proclamation since 1995.
const PROCLAMATIONS: &[Proclamation] = &[
    Proclamation { date: (1999, 12, 31), name: "Millennium Celebrations", sets: UK },
    Proclamation { date: (2002, 6, 3), name: "Golden Jubilee of Elizabeth II", sets: UK },
    Proclamation { date: (2011, 4, 29), name: "Wedding of Prince William", sets: UK },
    Proclamation { date: (2012, 6, 5), name: "Diamond Jubilee of Elizabeth II", sets: UK },
    Proclamation { date: (2022, 6, 3), name: "Platinum Jubilee of Elizabeth II", sets: UK },
    Proclamation { date: (2022, 9, 19), name: "State Funeral of Queen Elizabeth II", sets: UK },
    Proclamation { date: (2023, 5, 8), name: "Coronation of King Charles III", sets: UK },
    Proclamation {
        date: (2026, 6, 15),
        name: "Scotland at the FIFA World Cup finals",
        sets: &[HolidaySet::Scotland],
    },
];

/// How a recurring holiday finds its date in a year.
#[derive(Debug, Clone, Copy)]
enum When {
    /// A fixed month and day; a substitute weekday when it falls at a weekend.
    Fixed(u32, u32),
    /// Days after Easter Sunday (negative for before).
    Easter(i64),
    /// The first Monday of a month.
    FirstMonday(u32),
    /// The last Monday of a month.
    LastMonday(u32),
}

/// A recurring holiday.
#[derive(Debug, Clone, Copy)]
struct Rule {
    name: &'static str,
    when: When,
    /// The first year it was a bank holiday.
    since: i32,
    /// Years in which it was moved by proclamation, to (year, month, day).
    moved: &'static [(i32, u32, u32)],
}

const fn rule(name: &'static str, when: When) -> Rule {
    Rule { name, when, since: i32::MIN, moved: &[] }
}

const NEW_YEAR: Rule = rule("New Year's Day", When::Fixed(1, 1));
const GOOD_FRIDAY: Rule = rule("Good Friday", When::Easter(-2));
const EASTER_MONDAY: Rule = rule("Easter Monday", When::Easter(1));
const EARLY_MAY: Rule = Rule {
    name: "Early May Bank Holiday",
    when: When::FirstMonday(5),
    since: 1978,
    moved: &[(1995, 5, 8), (2020, 5, 8)],
};
const SPRING: Rule = Rule {
    name: "Spring Bank Holiday",
    when: When::LastMonday(5),
    since: i32::MIN,
    moved: &[(2002, 6, 4), (2012, 6, 4), (2022, 6, 2)],
};
const CHRISTMAS: Rule = rule("Christmas Day", When::Fixed(12, 25));
const BOXING_DAY: Rule = rule("Boxing Day", When::Fixed(12, 26));

const ENGLAND_AND_WALES: &[Rule] = &[
    NEW_YEAR,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    EARLY_MAY,
    SPRING,
    rule("Late Summer Bank Holiday", When::LastMonday(8)),
    CHRISTMAS,
    BOXING_DAY,
];

const SCOTLAND: &[Rule] = &[
    NEW_YEAR,
    rule("2nd January", When::Fixed(1, 2)),
    GOOD_FRIDAY,
    EARLY_MAY,
    SPRING,
    rule("Summer Bank Holiday", When::FirstMonday(8)),
    Rule { name: "St Andrew's Day", when: When::Fixed(11, 30), since: 2007, moved: &[] },
    CHRISTMAS,
    BOXING_DAY,
];

const NORTHERN_IRELAND: &[Rule] = &[
    NEW_YEAR,
    rule("St Patrick's Day", When::Fixed(3, 17)),
    GOOD_FRIDAY,
    EASTER_MONDAY,
    EARLY_MAY,
    SPRING,
    rule("Battle of the Boyne", When::Fixed(7, 12)),
    rule("Late Summer Bank Holiday", When::LastMonday(8)),
    CHRISTMAS,
    BOXING_DAY,
];

impl HolidaySet {
    /// Every built-in set.
    pub const ALL: [HolidaySet; 3] =
        [HolidaySet::EnglandAndWales, HolidaySet::Scotland, HolidaySet::NorthernIreland];

    /// The name used in calendar files and JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            HolidaySet::EnglandAndWales => "england-and-wales",
            HolidaySet::Scotland => "scotland",
            HolidaySet::NorthernIreland => "northern-ireland",
        }
    }

    fn rules(self) -> &'static [Rule] {
        match self {
            HolidaySet::EnglandAndWales => ENGLAND_AND_WALES,
            HolidaySet::Scotland => SCOTLAND,
            HolidaySet::NorthernIreland => NORTHERN_IRELAND,
        }
    }

    /// The bank holidays of `year`, in date order. Empty for a year chrono cannot represent.
    pub fn holidays(self, year: i32) -> Vec<BankHoliday> {
        let mut days: Vec<BankHoliday> = Vec::new();
        let mut at_weekend: Vec<(NaiveDate, &'static str)> = Vec::new();
        for rule in self.rules().iter().filter(|rule| year >= rule.since) {
            let Some(date) = rule.date_in(year) else { continue };
            if matches!(rule.when, When::Fixed(..)) && is_weekend(date) {
                at_weekend.push((date, rule.name));
            } else {
                days.push(BankHoliday { date, name: Cow::Borrowed(rule.name) });
            }
        }
        for proclamation in PROCLAMATIONS.iter().filter(|p| p.date.0 == year) {
            let (y, m, d) = proclamation.date;
            if let (true, Some(date)) =
                (proclamation.sets.contains(&self), NaiveDate::from_ymd_opt(y, m, d))
            {
                days.push(BankHoliday { date, name: Cow::Borrowed(proclamation.name) });
            }
        }
        at_weekend.sort_unstable();
        for (date, name) in at_weekend {
            let mut substitute = date;
            while is_weekend(substitute) || days.iter().any(|day| day.date == substitute) {
                match substitute.succ_opt() {
                    Some(next) => substitute = next,
                    None => break,
                }
            }
            days.push(BankHoliday {
                date: substitute,
                name: Cow::Owned(format!("{name} (substitute day)")),
            });
        }
        days.sort();
        days
    }

    /// The dates of [`HolidaySet::holidays`] alone.
    pub fn dates(self, year: i32) -> Vec<NaiveDate> {
        self.holidays(year).into_iter().map(|day| day.date).collect()
    }

    /// Whether `date` is a bank holiday in this set.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.holidays(date.year()).iter().any(|day| day.date == date)
    }
}

impl Rule {
    fn date_in(&self, year: i32) -> Option<NaiveDate> {
        if let Some(&(y, m, d)) = self.moved.iter().find(|(y, _, _)| *y == year) {
            return NaiveDate::from_ymd_opt(y, m, d);
        }
        match self.when {
            When::Fixed(month, day) => NaiveDate::from_ymd_opt(year, month, day),
            When::Easter(offset) => {
                let sunday = easter_sunday(year)?;
                if offset >= 0 {
                    sunday.checked_add_days(Days::new(offset.unsigned_abs()))
                } else {
                    sunday.checked_sub_days(Days::new(offset.unsigned_abs()))
                }
            }
            When::FirstMonday(month) => {
                NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 1)
            }
            When::LastMonday(month) => {
                let (next_year, next_month) =
                    if month == 12 { (year + 1, 1) } else { (year, month + 1) };
                let last = NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()?;
                let back = last.weekday().num_days_from_monday();
                last.checked_sub_days(Days::new(u64::from(back)))
            }
        }
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Easter Sunday in the Gregorian calendar (the anonymous Gregorian computus).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

impl fmt::Display for HolidaySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HolidaySet {
    type Err = CalendarError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        HolidaySet::ALL
            .into_iter()
            .find(|set| set.as_str() == text)
            .ok_or_else(|| CalendarError::UnknownHolidaySet(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn easter_matches_known_years() {
        // Given published Easter Sundays, including both extremes of the range
        for (y, m, d) in [
            (1995, 4, 16),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2038, 4, 25),
            (2100, 3, 28),
        ] {
            // Then the computus agrees
            assert_eq!(easter_sunday(y), Some(date(y, m, d)), "{y}");
        }
    }

    #[test]
    fn christmas_at_a_weekend_moves_to_the_next_free_weekdays() {
        // Given 2021, when Christmas Day is a Saturday and Boxing Day a Sunday
        let dates = HolidaySet::EnglandAndWales.dates(2021);
        // Then Monday 27 and Tuesday 28 are the bank holidays, and the weekend days are not
        assert!(dates.contains(&date(2021, 12, 27)) && dates.contains(&date(2021, 12, 28)));
        assert!(!dates.contains(&date(2021, 12, 25)) && !dates.contains(&date(2021, 12, 26)));
    }

    #[test]
    fn scottish_new_year_on_a_sunday_pushes_the_second_holiday_to_tuesday() {
        // Given 2017, when 1 January is a Sunday and 2 January a Monday
        let dates = HolidaySet::Scotland.dates(2017);
        // Then 2 and 3 January are holidays
        assert_eq!(&dates[..2], &[date(2017, 1, 2), date(2017, 1, 3)]);
    }

    #[test]
    fn historic_proclamations_and_moves_are_known() {
        let ew = |y| HolidaySet::EnglandAndWales.dates(y);
        assert!(ew(1995).contains(&date(1995, 5, 8)) && !ew(1995).contains(&date(1995, 5, 1)));
        assert!(ew(1999).contains(&date(1999, 12, 31)));
        assert!(ew(2000).contains(&date(2000, 1, 3)));
        assert!(ew(2002).contains(&date(2002, 6, 3)) && ew(2002).contains(&date(2002, 6, 4)));
        assert!(!ew(2002).contains(&date(2002, 5, 27)));
        assert!(ew(2011).contains(&date(2011, 4, 29)));
        assert!(ew(2012).contains(&date(2012, 6, 4)) && ew(2012).contains(&date(2012, 6, 5)));
        // St Andrew's Day became a bank holiday in 2007
        assert!(!HolidaySet::Scotland.contains(date(2006, 11, 30)));
        assert!(HolidaySet::Scotland.contains(date(2007, 11, 30)));
    }

    #[test]
    fn substitute_days_are_named() {
        let names: Vec<String> = HolidaySet::NorthernIreland
            .holidays(2026)
            .into_iter()
            .map(|day| day.name.into_owned())
            .collect();
        assert!(names.contains(&"Battle of the Boyne (substitute day)".to_owned()));
        assert!(names.contains(&"Boxing Day (substitute day)".to_owned()));
    }

    #[test]
    fn every_holiday_is_a_weekday_for_a_century() {
        for set in HolidaySet::ALL {
            for year in 1995..=2100 {
                let days = set.holidays(year);
                assert!(days.iter().all(|day| !is_weekend(day.date) && day.date.year() == year));
                assert!(days.windows(2).all(|w| w[0].date < w[1].date), "{set} {year}");
            }
        }
    }

    #[test]
    fn names_parse_and_print() {
        for set in HolidaySet::ALL {
            assert_eq!(set.as_str().parse::<HolidaySet>(), Ok(set));
            assert_eq!(serde_json::to_string(&set).unwrap(), format!("\"{set}\""));
        }
        assert!("wales".parse::<HolidaySet>().unwrap_err().to_string().contains("`wales`"));
    }
}
