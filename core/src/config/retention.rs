//! Retention settings (`[retention]`): how long finished records keep personal data.
//!
//! Each kind of record may have a rule: when a record of that kind has been closed (resolved
//! and closed, fulfilled and closed, withdrawn, retired; a requester who left, an agent who was
//! offboarded) for more than `months` calendar months, the desk either **anonymises** it
//! (replaces every person in it with a pseudonym, keeping the record for statistics) or
//! **deletes** it. A kind without a rule is kept for ever. Records under a legal hold are left
//! alone whatever the rule says.
//!
//! ```toml
//! [retention.incident]
//! months = 72            # six years after closure …
//! action = "anonymise"   # … the people go, the record stays for reporting
//!
//! [retention.service_request]
//! months = 24
//! action = "delete"
//! ```
//!
//! The keys are the record kinds: `incident`, `service_request`, `problem`, `change`, `asset`,
//! `article`, `complaint`, `requester`, `agent`.
//!
//! JSON shape: `{"incident": {"months": 72, "action": "anonymise"}, "service_request": null, …}`.

use serde::{Deserialize, Serialize};

use super::KeyPath;

/// The longest retention period: a hundred years.
pub const MAX_RETENTION_MONTHS: u32 = 1_200;

/// What happens to a record when its retention period is over.
///
/// JSON and TOML shape: `"anonymise"` or `"delete"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// Replace every person named in it with a pseudonym; keep the record.
    Anonymise,
    /// Remove the record and its history.
    Delete,
}

/// How long one kind of record is kept after it is closed (`[retention.<kind>]`).
///
/// JSON shape: `{"months": 72, "action": "anonymise"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// Calendar months after closure (1 to 1,200).
    pub months: u32,
    /// What then happens to it.
    pub action: RetentionAction,
}

/// Retention rules per kind of record (`[retention]`); a kind without a rule is kept for ever.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Incidents.
    pub incident: Option<RetentionRule>,
    /// Service requests.
    pub service_request: Option<RetentionRule>,
    /// Problems.
    pub problem: Option<RetentionRule>,
    /// Changes.
    pub change: Option<RetentionRule>,
    /// Assets and configuration items.
    pub asset: Option<RetentionRule>,
    /// Knowledge articles.
    pub article: Option<RetentionRule>,
    /// Complaints.
    pub complaint: Option<RetentionRule>,
    /// Requesters, counted from when they left.
    pub requester: Option<RetentionRule>,
    /// Agents, counted from when they were offboarded.
    pub agent: Option<RetentionRule>,
}

impl RetentionSettings {
    /// Every rule, with the name of the kind it is for (the key in `[retention]`).
    pub fn rules(&self) -> impl Iterator<Item = (&'static str, RetentionRule)> + '_ {
        [
            ("incident", self.incident),
            ("service_request", self.service_request),
            ("problem", self.problem),
            ("change", self.change),
            ("asset", self.asset),
            ("article", self.article),
            ("complaint", self.complaint),
            ("requester", self.requester),
            ("agent", self.agent),
        ]
        .into_iter()
        .filter_map(|(kind, rule)| rule.map(|rule| (kind, rule)))
    }

    /// Checks the section at `path`.
    pub(super) fn check(&self, path: &KeyPath) -> Result<(), (KeyPath, String)> {
        for (kind, rule) in self.rules() {
            if !(1..=MAX_RETENTION_MONTHS).contains(&rule.months) {
                return Err((
                    path.key(kind).key("months"),
                    format!(
                        "{} months is outside 1 to {MAX_RETENTION_MONTHS} (leave the kind out to keep its records for ever)",
                        rule.months
                    ),
                ));
            }
        }
        Ok(())
    }
}
