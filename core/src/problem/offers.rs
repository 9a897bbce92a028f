//! Known-error workaround offers: what to show on a new incident that looks like a known error.
//!
//! A problem is offered when it is a known error with a workaround, and it affects the
//! incident's CI, or has the incident's category, or both. Categories match exactly
//! (`network/vpn` does not match `network`). A requester (in the portal) is offered only
//! workarounds published to requesters; an agent is offered all of them.
//!
//! Best first: a match on both the CI and the category, then on the CI alone (a CI is the more
//! specific evidence), then on the category alone; within a rank, the problem explaining more
//! incidents first, then the lower reference.

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};

use super::{Problem, Status, Workaround};
use crate::id::{AssetRef, CategoryId, ProblemRef};
use crate::knowledge::Audience;

/// What a known error has in common with the incident.
///
/// JSON shape: `"ci_and_category"`, `"ci"` or `"category"`. Orders best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// The same CI and the same category.
    CiAndCategory,
    /// The same CI.
    Ci,
    /// The same category.
    Category,
}

/// A workaround offered for a new incident.
///
/// JSON shape: `{"problem": "PRB-000012", "title": "VPN drops after sleep", "workaround":
/// {"text": "…", "visibility": "public"}, "matched": "ci"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// The known error.
    pub problem: ProblemRef,
    /// Its title.
    pub title: String,
    /// Its workaround.
    pub workaround: Workaround,
    /// Why it was offered.
    pub matched: Match,
}

/// The workarounds to offer for an incident of `category` on `ci`, best first, among
/// `problems` (any problems: those that are not known errors are passed over).
pub fn workaround_offers<'a>(
    category: Option<&CategoryId>,
    ci: Option<&AssetRef>,
    audience: Audience,
    problems: impl IntoIterator<Item = &'a Problem>,
) -> Vec<Offer> {
    let mut ranked: Vec<(Match, Reverse<usize>, ProblemRef, &Workaround, &str)> = problems
        .into_iter()
        .filter(|problem| problem.status() == Status::KnownError)
        .filter_map(|problem| {
            let workaround = problem.workaround()?;
            if !audience.may_see(workaround.visibility) {
                return None;
            }
            let on_ci = ci.is_some_and(|ci| problem.cis().contains(ci));
            let in_category = category.is_some() && problem.category() == category;
            let matched = match (on_ci, in_category) {
                (true, true) => Match::CiAndCategory,
                (true, false) => Match::Ci,
                (false, true) => Match::Category,
                (false, false) => return None,
            };
            let weight = Reverse(problem.incidents().len());
            Some((matched, weight, problem.reference(), workaround, problem.title()))
        })
        .collect();
    ranked.sort_by_key(|&(matched, weight, reference, _, _)| (matched, weight, reference));
    ranked.dedup_by_key(|entry| entry.2);
    ranked
        .into_iter()
        .map(|(matched, _, problem, workaround, title)| Offer {
            problem,
            title: title.to_owned(),
            workaround: workaround.clone(),
            matched,
        })
        .collect()
}
