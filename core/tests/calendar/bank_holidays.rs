//! The rule-based UK holiday sets reproduce the published bank holidays, 2015 to 2035.
//!
//! `tests/data/uk-bank-holidays.json` holds the published dates for the three nations (as
//! recorded by the `holidays` Python package, substitute days included). For every nation and
//! year, the set computed by rule must equal the published set: nothing missing, nothing extra.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use desk_core::calendar::HolidaySet;
use serde::Deserialize;

#[derive(Deserialize)]
struct Published {
    nations: BTreeMap<String, Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    date: NaiveDate,
}

const PUBLISHED: &str = include_str!("../data/uk-bank-holidays.json");

/// Published dates by set and year.
fn published() -> BTreeMap<(HolidaySet, i32), BTreeSet<NaiveDate>> {
    let published: Published = serde_json::from_str(PUBLISHED).unwrap();
    let mut by_year = BTreeMap::new();
    for (nation, entries) in published.nations {
        let set: HolidaySet = nation.parse().unwrap();
        for year in 2015..=2035 {
            by_year.insert((set, year), BTreeSet::new());
        }
        for entry in entries {
            by_year
                .entry((set, entry.date.year()))
                .or_insert_with(BTreeSet::new)
                .insert(entry.date);
        }
    }
    by_year
}

#[test]
fn the_data_covers_three_nations_for_twenty_one_years() {
    let published = published();
    assert_eq!(published.len(), 3 * 21);
    assert!(published.values().all(|dates| dates.len() >= 8));
}

#[test]
fn every_set_matches_the_published_dates_every_year() {
    let mut mismatches = Vec::new();
    for ((set, year), expected) in published() {
        let computed: BTreeSet<NaiveDate> = set.dates(year).into_iter().collect();
        let missing: Vec<_> = expected.difference(&computed).collect();
        let extra: Vec<_> = computed.difference(&expected).collect();
        if !missing.is_empty() || !extra.is_empty() {
            mismatches.push(format!("{set} {year}: missing {missing:?}, extra {extra:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_nations_differ_where_they_should() {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    // Easter Monday is not a bank holiday in Scotland; 2 January and St Andrew's Day are
    assert!(!HolidaySet::Scotland.contains(date(2026, 4, 6)));
    assert!(HolidaySet::EnglandAndWales.contains(date(2026, 4, 6)));
    assert!(HolidaySet::Scotland.contains(date(2026, 1, 2)));
    assert!(HolidaySet::Scotland.contains(date(2026, 11, 30)));
    // Scotland's summer holiday is the first Monday of August, England's the last
    assert!(HolidaySet::Scotland.contains(date(2026, 8, 3)));
    assert!(HolidaySet::EnglandAndWales.contains(date(2026, 8, 31)));
    // St Patrick's Day and the Boyne only in Northern Ireland
    assert!(HolidaySet::NorthernIreland.contains(date(2026, 3, 17)));
    assert!(HolidaySet::NorthernIreland.contains(date(2026, 7, 13)));
    assert!(!HolidaySet::EnglandAndWales.contains(date(2026, 3, 17)));
}
