//! Problem management settings (`[problems]`): when incidents count as recurring.
//!
//! ```toml
//! [problems]
//! recurring_min_incidents = 3     # this many incidents sharing a category or a CI …
//! recurring_window_days = 14      # … within this many days make a candidate problem
//!
//! [[problems.category]]           # a category with its own thresholds
//! id = "access/password"
//! recurring_min_incidents = 20    # lock-outs are routine: flag only a real spike
//! recurring_window_days = 2
//! ```
//!
//! A window of `d` days is `d × 24` hours of wall time, not business days: recurrence is about
//! how often something breaks, not about how long the desk had to fix it. Groups of incidents
//! that share a CI use the desk-wide thresholds; groups that share a category use the category's
//! own thresholds where it has them (an omitted key falls back to the desk-wide value).
//!
//! JSON shape: `{"recurring_min_incidents": 3, "recurring_window_days": 14, "category":
//! [{"id": "access/password", "recurring_min_incidents": 20, "recurring_window_days": 2}]}`
//! (an omitted override is `null`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::KeyPath;
use crate::id::CategoryId;

/// The smallest number of incidents that may make a recurring group (one is not a pattern).
pub const MIN_RECURRING_INCIDENTS: u32 = 2;
/// The longest recurrence window, in days (a year, leap or not).
pub const MAX_RECURRING_WINDOW_DAYS: u32 = 366;

/// Problem management settings (`[problems]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProblemSettings {
    /// How many incidents sharing a category or a CI make a candidate problem (at least 2).
    pub recurring_min_incidents: u32,
    /// Within how many days (of 24 hours) those incidents must be logged (1 to 366).
    pub recurring_window_days: u32,
    /// Categories with their own thresholds (`[[problems.category]]`).
    #[serde(rename = "category")]
    pub categories: Vec<CategoryRecurrence>,
}

/// A category's own recurrence thresholds (`[[problems.category]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRecurrence {
    /// The category, declared in a `[[category]]` table.
    pub id: CategoryId,
    /// Its minimum number of incidents; the desk-wide value when omitted.
    #[serde(default)]
    pub recurring_min_incidents: Option<u32>,
    /// Its window in days; the desk-wide value when omitted.
    #[serde(default)]
    pub recurring_window_days: Option<u32>,
}

/// The thresholds that apply to one group of incidents.
///
/// JSON shape: `{"min_incidents": 3, "window_days": 14}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// How many incidents make a candidate.
    pub min_incidents: u32,
    /// Within how many days of 24 hours.
    pub window_days: u32,
}

impl Default for ProblemSettings {
    fn default() -> Self {
        ProblemSettings {
            recurring_min_incidents: 3,
            recurring_window_days: 14,
            categories: Vec::new(),
        }
    }
}

impl ProblemSettings {
    /// The thresholds for incidents of `category`, or for a group sharing a CI (`None`).
    pub fn recurrence(&self, category: Option<&CategoryId>) -> Recurrence {
        let own = category.and_then(|id| self.categories.iter().find(|c| &c.id == id));
        Recurrence {
            min_incidents: own
                .and_then(|c| c.recurring_min_incidents)
                .unwrap_or(self.recurring_min_incidents),
            window_days: own
                .and_then(|c| c.recurring_window_days)
                .unwrap_or(self.recurring_window_days),
        }
    }

    /// Checks the section at `path`; `known_category` checks a category reference.
    pub(super) fn check(
        &self,
        path: &KeyPath,
        known_category: impl Fn(&CategoryId) -> bool,
    ) -> Result<(), (KeyPath, String)> {
        check_min(&path.key("recurring_min_incidents"), self.recurring_min_incidents)?;
        check_window(&path.key("recurring_window_days"), self.recurring_window_days)?;
        let mut seen = BTreeSet::new();
        for (n, own) in self.categories.iter().enumerate() {
            let own_path = path.key("category").index(n);
            if !known_category(&own.id) {
                return Err((
                    own_path.key("id"),
                    format!("unknown category `{}` (declare it in a [[category]] table)", own.id),
                ));
            }
            if !seen.insert(&own.id) {
                return Err((
                    own_path.key("id"),
                    format!("category `{}` has thresholds twice", own.id),
                ));
            }
            if own.recurring_min_incidents.is_none() && own.recurring_window_days.is_none() {
                return Err((
                    own_path,
                    "give recurring_min_incidents or recurring_window_days (or remove the table)"
                        .into(),
                ));
            }
            if let Some(min) = own.recurring_min_incidents {
                check_min(&own_path.key("recurring_min_incidents"), min)?;
            }
            if let Some(days) = own.recurring_window_days {
                check_window(&own_path.key("recurring_window_days"), days)?;
            }
        }
        Ok(())
    }
}

fn check_min(path: &KeyPath, min: u32) -> Result<(), (KeyPath, String)> {
    if min < MIN_RECURRING_INCIDENTS {
        return Err((
            path.clone(),
            format!(
                "{min} is too few: recurrence needs at least {MIN_RECURRING_INCIDENTS} incidents"
            ),
        ));
    }
    Ok(())
}

fn check_window(path: &KeyPath, days: u32) -> Result<(), (KeyPath, String)> {
    if days == 0 || days > MAX_RECURRING_WINDOW_DAYS {
        return Err((
            path.clone(),
            format!("a window of {days} days is outside 1 to {MAX_RECURRING_WINDOW_DAYS}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(id: &str) -> CategoryId {
        CategoryId::new(id).unwrap()
    }

    #[test]
    fn a_category_override_replaces_only_the_keys_it_gives() {
        // given desk-wide 3 in 14 days and a category that changes only the count
        let settings = ProblemSettings {
            categories: vec![CategoryRecurrence {
                id: category("access/password"),
                recurring_min_incidents: Some(20),
                recurring_window_days: None,
            }],
            ..ProblemSettings::default()
        };
        // when the thresholds are looked up
        let own = settings.recurrence(Some(&category("access/password")));
        let other = settings.recurrence(Some(&category("network/wifi")));
        let ci = settings.recurrence(None);
        // then the category keeps the desk-wide window; the others use the desk-wide values
        assert_eq!(own, Recurrence { min_incidents: 20, window_days: 14 });
        assert_eq!(other, Recurrence { min_incidents: 3, window_days: 14 });
        assert_eq!(ci, other);
    }
}
