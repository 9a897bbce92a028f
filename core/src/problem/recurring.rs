//! Recurring-issue detection: which incidents suggest a problem.
//!
//! Input: one [`IncidentDigest`] per incident (the incident module converts its records into
//! them) and the `[problems]` settings. Output: [`Candidate`]s, each a group of incidents that
//! share a category or a CI and were logged close together.
//!
//! The rule, for one shared attribute with thresholds *N* incidents in *D* days:
//! - a **dense window** is a set of at least *N* incidents sharing the attribute whose
//!   `logged_at` all lie within *D* × 24 hours of each other (latest − earliest < *D* days);
//! - dense windows that share an incident belong to the same candidate, so a run of incidents
//!   that keeps recurring makes one candidate spanning the whole run, not one per window;
//! - the candidate's window is from its first to its last incident.
//!
//! An incident with a category and a CI counts towards both; one with neither counts for
//! nothing. Groups sharing a category use that category's thresholds
//! ([`ProblemSettings::recurrence`]); groups sharing a CI use the desk-wide ones.
//!
//! **Incidents already linked to a problem are counted and flagged**, not excluded: a burst of
//! VPN incidents where most are linked to PRB-000012 and two are not tells the agent to link the
//! two to PRB-000012 (see [`Candidate::problems`] and [`Candidate::unlinked`]). A candidate
//! whose incidents are *all* linked is dropped: there is nothing left to do.
//!
//! Candidates come largest first, then earliest window first, then CI before category, then by
//! the attribute. The same incident listed twice counts once. Cost: one sort of the digests and
//! one of the (attribute, time) pairs, then a single sliding-window pass: O(n log n).

use std::collections::BTreeSet;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::config::{ProblemSettings, Recurrence};
use crate::id::{AssetRef, CategoryId, IncidentRef, ProblemRef};
use crate::record::Timestamp;

/// What problem management needs to know about one incident.
///
/// JSON shape: `{"reference": "INC-000123", "logged_at": "2026-03-02T09:15:00Z", "category":
/// "network/vpn", "ci": "AST-004711", "problem": null}` (`category`, `ci` and `problem` may be
/// `null`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IncidentDigest {
    /// The incident.
    pub reference: IncidentRef,
    /// When it was logged.
    pub logged_at: Timestamp,
    /// Its category.
    pub category: Option<CategoryId>,
    /// The CI it affects.
    pub ci: Option<AssetRef>,
    /// The problem it is linked to.
    pub problem: Option<ProblemRef>,
}

/// What the incidents of a candidate have in common.
///
/// JSON shape: `{"ci": "AST-004711"}` or `{"category": "network/vpn"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shared {
    /// The same configuration item.
    Ci(AssetRef),
    /// The same category.
    Category(CategoryId),
}

/// One incident in a candidate.
///
/// JSON shape: `{"incident": "INC-000123", "logged_at": "…", "problem": "PRB-000012"}`
/// (`problem` is `null` when it is not linked).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Occurrence {
    /// The incident.
    pub incident: IncidentRef,
    /// When it was logged.
    pub logged_at: Timestamp,
    /// The problem it is already linked to.
    pub problem: Option<ProblemRef>,
}

/// A group of incidents that suggests a problem.
///
/// JSON shape: `{"shared": {"ci": "AST-004711"}, "from": "…", "to": "…", "thresholds":
/// {"min_incidents": 3, "window_days": 14}, "incidents": [Occurrence, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// What the incidents share.
    pub shared: Shared,
    /// When the first of them was logged.
    pub from: Timestamp,
    /// When the last of them was logged.
    pub to: Timestamp,
    /// The thresholds that made them a candidate.
    pub thresholds: Recurrence,
    /// The incidents, in the order they were logged (ties by reference).
    pub incidents: Vec<Occurrence>,
}

impl Candidate {
    /// The problems some of the incidents are already linked to.
    pub fn problems(&self) -> BTreeSet<ProblemRef> {
        self.incidents.iter().filter_map(|o| o.problem).collect()
    }

    /// The incidents not linked to any problem yet.
    pub fn unlinked(&self) -> impl Iterator<Item = IncidentRef> + '_ {
        self.incidents.iter().filter(|o| o.problem.is_none()).map(|o| o.incident)
    }
}

/// The candidate problems among `incidents` (see the module docs for the rule and the order).
pub fn recurring(incidents: &[IncidentDigest], settings: &ProblemSettings) -> Vec<Candidate> {
    let mut digests: Vec<&IncidentDigest> = incidents.iter().collect();
    digests.sort();
    digests.dedup_by_key(|digest| digest.reference);

    // One entry per (attribute, incident); sorted, each attribute's incidents are a run in time order.
    let mut entries: Vec<(Shared, Timestamp, IncidentRef, usize)> = Vec::new();
    for (n, digest) in digests.iter().enumerate() {
        if let Some(ci) = digest.ci {
            entries.push((Shared::Ci(ci), digest.logged_at, digest.reference, n));
        }
        if let Some(category) = &digest.category {
            entries.push((
                Shared::Category(category.clone()),
                digest.logged_at,
                digest.reference,
                n,
            ));
        }
    }
    entries.sort();

    let mut candidates = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let shared = &entries[start].0;
        let end = start + entries[start..].iter().take_while(|e| &e.0 == shared).count();
        let group: Vec<&IncidentDigest> =
            entries[start..end].iter().map(|e| digests[e.3]).collect();
        let thresholds = settings.recurrence(match shared {
            Shared::Category(category) => Some(category),
            Shared::Ci(_) => None,
        });
        for (first, last) in clusters(&group, thresholds) {
            let incidents: Vec<Occurrence> = group[first..=last]
                .iter()
                .map(|d| Occurrence {
                    incident: d.reference,
                    logged_at: d.logged_at,
                    problem: d.problem,
                })
                .collect();
            if incidents.iter().all(|o| o.problem.is_some()) {
                continue;
            }
            candidates.push(Candidate {
                shared: shared.clone(),
                from: group[first].logged_at,
                to: group[last].logged_at,
                thresholds,
                incidents,
            });
        }
        start = end;
    }
    candidates.sort_by(|a, b| {
        (b.incidents.len(), a.from, &a.shared).cmp(&(a.incidents.len(), b.from, &b.shared))
    });
    candidates
}

/// The index ranges (inclusive) of the merged dense windows of one time-ordered group.
fn clusters(group: &[&IncidentDigest], thresholds: Recurrence) -> Vec<(usize, usize)> {
    let min = usize::try_from(thresholds.min_incidents).unwrap_or(usize::MAX).max(1);
    let window = TimeDelta::try_days(i64::from(thresholds.window_days)).unwrap_or(TimeDelta::MAX);
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut low = 0;
    for (high, digest) in group.iter().enumerate() {
        while digest.logged_at.signed_duration_since(group[low].logged_at) >= window {
            low += 1;
        }
        if high + 1 - low < min {
            continue;
        }
        match found.last_mut() {
            Some((_, last)) if low <= *last => *last = high,
            _ => found.push((low, high)),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;
    use crate::config::CategoryRecurrence;

    fn at(day: i64, hour: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
            + Duration::days(day)
            + Duration::hours(hour)
    }

    fn digest(number: u32, day: i64, category: Option<&str>, ci: Option<u32>) -> IncidentDigest {
        IncidentDigest {
            reference: IncidentRef::from_number(number).unwrap(),
            logged_at: at(day, 0),
            category: category.map(|c| CategoryId::new(c).unwrap()),
            ci: ci.and_then(AssetRef::from_number),
            problem: None,
        }
    }

    fn numbers(candidate: &Candidate) -> Vec<u32> {
        candidate.incidents.iter().map(|o| o.incident.number().get()).collect()
    }

    #[test]
    fn three_incidents_on_one_ci_within_the_window_make_a_candidate() {
        // given three incidents on AST-000007 over ten days, and one a month later
        let incidents = [
            digest(1, 0, None, Some(7)),
            digest(2, 4, None, Some(7)),
            digest(3, 10, None, Some(7)),
            digest(4, 40, None, Some(7)),
        ];
        // when recurrence is checked with 3 in 14 days
        let found = recurring(&incidents, &ProblemSettings::default());
        // then the first three are one candidate from day 0 to day 10
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].shared, Shared::Ci(AssetRef::from_number(7).unwrap()));
        assert_eq!(numbers(&found[0]), [1, 2, 3]);
        assert_eq!((found[0].from, found[0].to), (at(0, 0), at(10, 0)));
    }

    #[test]
    fn the_window_is_half_open_to_the_hour() {
        // given three incidents spanning exactly fourteen days
        let incidents = [
            digest(1, 0, Some("network/vpn"), None),
            digest(2, 7, Some("network/vpn"), None),
            digest(3, 14, Some("network/vpn"), None),
        ];
        // then they do not fit a fourteen-day window, but do fit fifteen
        assert!(recurring(&incidents, &ProblemSettings::default()).is_empty());
        let wider = ProblemSettings { recurring_window_days: 15, ..ProblemSettings::default() };
        assert_eq!(recurring(&incidents, &wider).len(), 1);
    }

    #[test]
    fn overlapping_windows_make_one_candidate() {
        // given a steady trickle: one incident every five days for a month
        let incidents: Vec<_> = (0..7)
            .map(|n| digest(n + 1, i64::from(n) * 5, Some("hardware/printer"), None))
            .collect();
        // then every fourteen-day window holds three of them, and they are one candidate
        let found = recurring(&incidents, &ProblemSettings::default());
        assert_eq!(found.len(), 1);
        assert_eq!(numbers(&found[0]), [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn separate_bursts_make_separate_candidates_largest_first() {
        let mut incidents: Vec<_> =
            (0..3).map(|n| digest(n + 1, i64::from(n), None, Some(1))).collect();
        incidents.extend((0..4).map(|n| digest(n + 10, 60 + i64::from(n), None, Some(1))));
        let found = recurring(&incidents, &ProblemSettings::default());
        assert_eq!(
            found.iter().map(numbers).collect::<Vec<_>>(),
            [vec![10, 11, 12, 13], vec![1, 2, 3]]
        );
    }

    #[test]
    fn an_incident_counts_for_its_category_and_its_ci() {
        let incidents = [
            digest(1, 0, Some("network/wifi"), Some(3)),
            digest(2, 1, Some("network/wifi"), Some(3)),
            digest(3, 2, Some("network/wifi"), Some(3)),
        ];
        let found = recurring(&incidents, &ProblemSettings::default());
        let shared: Vec<_> = found.iter().map(|c| c.shared.clone()).collect();
        assert_eq!(
            shared,
            [
                Shared::Ci(AssetRef::from_number(3).unwrap()),
                Shared::Category(CategoryId::new("network/wifi").unwrap())
            ]
        );
    }

    #[test]
    fn a_category_uses_its_own_thresholds() {
        // given password lock-outs need 5 in 2 days
        let settings = ProblemSettings {
            categories: vec![CategoryRecurrence {
                id: CategoryId::new("access/password").unwrap(),
                recurring_min_incidents: Some(5),
                recurring_window_days: Some(2),
            }],
            ..ProblemSettings::default()
        };
        // when four lock-outs arrive in a day
        let incidents: Vec<_> =
            (0..4).map(|n| digest(n + 1, 0, Some("access/password"), None)).collect();
        // then that is routine
        assert!(recurring(&incidents, &settings).is_empty());
        let mut more = incidents.clone();
        more.push(digest(5, 1, Some("access/password"), None));
        let found = recurring(&more, &settings);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].thresholds, Recurrence { min_incidents: 5, window_days: 2 });
    }

    #[test]
    fn linked_incidents_are_flagged_and_all_linked_groups_dropped() {
        let problem = ProblemRef::from_number(12).unwrap();
        let mut incidents: Vec<_> =
            (0..4).map(|n| digest(n + 1, i64::from(n), None, Some(9))).collect();
        incidents[0].problem = Some(problem);
        incidents[1].problem = Some(problem);
        let found = recurring(&incidents, &ProblemSettings::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].problems(), BTreeSet::from([problem]));
        assert_eq!(found[0].unlinked().map(|i| i.number().get()).collect::<Vec<_>>(), [3, 4]);

        for incident in &mut incidents {
            incident.problem = Some(problem);
        }
        assert!(recurring(&incidents, &ProblemSettings::default()).is_empty());
    }

    #[test]
    fn a_duplicated_digest_counts_once() {
        let one = digest(1, 0, None, Some(2));
        let incidents = [one.clone(), one, digest(2, 1, None, Some(2))];
        assert!(recurring(&incidents, &ProblemSettings::default()).is_empty());
    }

    /// Independent definition: connected components of the dense windows anchored at each
    /// incident's time, found by brute force.
    fn brute_force(incidents: &[IncidentDigest], settings: &ProblemSettings) -> Vec<Candidate> {
        let mut unique: Vec<IncidentDigest> = Vec::new();
        let mut sorted = incidents.to_vec();
        sorted.sort();
        for d in sorted {
            if !unique.iter().any(|u| u.reference == d.reference) {
                unique.push(d);
            }
        }
        let mut keys: Vec<Shared> = Vec::new();
        for d in &unique {
            keys.extend(d.ci.map(Shared::Ci));
            keys.extend(d.category.clone().map(Shared::Category));
        }
        keys.sort();
        keys.dedup();
        let mut out = Vec::new();
        for key in keys {
            let members: Vec<&IncidentDigest> = unique
                .iter()
                .filter(|d| match &key {
                    Shared::Ci(ci) => d.ci == Some(*ci),
                    Shared::Category(c) => d.category.as_ref() == Some(c),
                })
                .collect();
            let thresholds = settings.recurrence(match &key {
                Shared::Category(c) => Some(c),
                Shared::Ci(_) => None,
            });
            let window = Duration::days(i64::from(thresholds.window_days));
            // Dense windows as sets of member indices.
            let mut windows: Vec<BTreeSet<usize>> = Vec::new();
            for anchor in &members {
                let set: BTreeSet<usize> = (0..members.len())
                    .filter(|&k| {
                        members[k].logged_at >= anchor.logged_at
                            && members[k].logged_at < anchor.logged_at + window
                    })
                    .collect();
                if set.len() >= thresholds.min_incidents as usize {
                    windows.push(set);
                }
            }
            // Merge windows that share an incident until nothing changes.
            let mut merged = true;
            while merged {
                merged = false;
                'outer: for a in 0..windows.len() {
                    for b in a + 1..windows.len() {
                        if !windows[a].is_disjoint(&windows[b]) {
                            let other = windows.remove(b);
                            windows[a].extend(other);
                            merged = true;
                            break 'outer;
                        }
                    }
                }
            }
            for set in windows {
                let mut group: Vec<&IncidentDigest> = set.iter().map(|&k| members[k]).collect();
                group.sort_by_key(|d| (d.logged_at, d.reference));
                if group.iter().all(|d| d.problem.is_some()) {
                    continue;
                }
                out.push(Candidate {
                    shared: key.clone(),
                    from: group[0].logged_at,
                    to: group[group.len() - 1].logged_at,
                    thresholds,
                    incidents: group
                        .iter()
                        .map(|d| Occurrence {
                            incident: d.reference,
                            logged_at: d.logged_at,
                            problem: d.problem,
                        })
                        .collect(),
                });
            }
        }
        out.sort_by(|a, b| {
            (b.incidents.len(), a.from, &a.shared).cmp(&(a.incidents.len(), b.from, &b.shared))
        });
        out
    }

    fn digests() -> impl Strategy<Value = Vec<IncidentDigest>> {
        let one = (
            1u32..40,
            0i64..30,
            0i64..24,
            prop::option::of(0usize..3),
            prop::option::of(1u32..4),
            prop::option::weighted(0.2, 1u32..3),
        );
        prop::collection::vec(one, 0..40).prop_map(|rows| {
            let categories = ["network/vpn", "access/password", "hardware/printer"];
            rows.into_iter()
                .map(|(number, day, hour, category, ci, problem)| IncidentDigest {
                    reference: IncidentRef::from_number(number).unwrap(),
                    logged_at: at(day, hour),
                    category: category.map(|c| CategoryId::new(categories[c]).unwrap()),
                    ci: ci.and_then(AssetRef::from_number),
                    problem: problem.and_then(ProblemRef::from_number),
                })
                .collect()
        })
    }

    fn settings() -> impl Strategy<Value = ProblemSettings> {
        (2u32..5, 1u32..10, prop::option::of((2u32..5, 1u32..5))).prop_map(|(min, days, own)| {
            ProblemSettings {
                recurring_min_incidents: min,
                recurring_window_days: days,
                categories: own
                    .map(|(min, days)| CategoryRecurrence {
                        id: CategoryId::new("access/password").unwrap(),
                        recurring_min_incidents: Some(min),
                        recurring_window_days: Some(days),
                    })
                    .into_iter()
                    .collect(),
            }
        })
    }

    proptest! {
        #[test]
        fn detection_equals_the_brute_force_definition(incidents in digests(), settings in settings()) {
            prop_assert_eq!(recurring(&incidents, &settings), brute_force(&incidents, &settings));
        }

        #[test]
        fn detection_ignores_input_order(incidents in digests(), settings in settings()) {
            let mut reversed = incidents.clone();
            reversed.reverse();
            prop_assert_eq!(recurring(&incidents, &settings), recurring(&reversed, &settings));
        }

        #[test]
        fn candidates_round_trip_through_json(incidents in digests()) {
            let found = recurring(&incidents, &ProblemSettings::default());
            let json = serde_json::to_string(&found).unwrap();
            let back: Vec<Candidate> = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, found);
        }
    }
}
