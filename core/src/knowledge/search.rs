//! Pure helpers over many articles: search for a query, and knowledge coverage gaps.
//!
//! **Search** looks only at the version readers see ([`Article::published`]), and only at
//! versions the [`Audience`] may read. The query is split into words (letters and digits,
//! lower-cased; one-letter words are ignored). Each word scores its best match in an article:
//! 3 for a keyword (a keyword equal to the word, or containing it as a word), 2 for a word of the
//! title, 1 for a word of the body. An article's score is the sum over the query's distinct
//! words; articles scoring nothing are left out. Hits come highest score first, then by
//! reference (older articles first), so the order is deterministic.
//!
//! **Coverage gaps** ("deficiencies in knowledge", a desk KPI) are the categories that have
//! incidents but no published article of that category, most incidents first.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::{Article, Audience};
use crate::id::{ArticleRef, CategoryId, IncidentRef};
use crate::problem::IncidentDigest;

/// One search result.
///
/// JSON shape: `{"article": "KB-000019", "version": 2, "title": "Connect to the VPN from
/// home", "score": 5}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// The article.
    pub article: ArticleRef,
    /// The version matched (the published one).
    pub version: NonZeroU32,
    /// Its title.
    pub title: String,
    /// How well it matched (higher is better).
    pub score: u32,
}

/// A category with incidents and no published article.
///
/// JSON shape: `{"category": "network/vpn", "incidents": 12}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The category.
    pub category: CategoryId,
    /// How many distinct incidents it has.
    pub incidents: usize,
}

const KEYWORD_SCORE: u32 = 3;
const TITLE_SCORE: u32 = 2;
const BODY_SCORE: u32 = 1;

/// The distinct lower-case words of `text` (runs of letters and digits, two or more long).
fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().nth(1).is_some())
        .map(str::to_lowercase)
        .collect()
}

/// The articles matching `query` that `audience` may read, best first (see the module docs).
pub fn search<'a>(
    articles: impl IntoIterator<Item = &'a Article>,
    query: &str,
    audience: Audience,
) -> Vec<Hit> {
    let terms = words(query);
    if terms.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = articles
        .into_iter()
        .filter_map(|article| {
            let version = article.published()?;
            let content = &version.content;
            if !audience.may_see(content.visibility) {
                return None;
            }
            let keywords: BTreeSet<String> =
                content.keywords.iter().flat_map(|k| words(k)).collect();
            let title = words(&content.title);
            let body = words(&content.body);
            let score: u32 = terms
                .iter()
                .map(|term| {
                    if keywords.contains(term) {
                        KEYWORD_SCORE
                    } else if title.contains(term) {
                        TITLE_SCORE
                    } else if body.contains(term) {
                        BODY_SCORE
                    } else {
                        0
                    }
                })
                .sum();
            (score > 0).then(|| Hit {
                article: article.reference(),
                version: version.number,
                title: content.title.clone(),
                score,
            })
        })
        .collect();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then(a.article.cmp(&b.article)));
    hits
}

/// The categories of `incidents` that no published article among `articles` covers, most
/// incidents first, then by category. Each incident counts once however often it is listed.
pub fn coverage_gaps<'a>(
    incidents: &[IncidentDigest],
    articles: impl IntoIterator<Item = &'a Article>,
) -> Vec<Gap> {
    let covered: BTreeSet<&CategoryId> = articles
        .into_iter()
        .filter_map(|article| article.published()?.content.category.as_ref())
        .collect();
    let mut by_category: BTreeMap<&CategoryId, BTreeSet<IncidentRef>> = BTreeMap::new();
    for digest in incidents {
        if let Some(category) = digest.category.as_ref().filter(|c| !covered.contains(c)) {
            by_category.entry(category).or_default().insert(digest.reference);
        }
    }
    let mut gaps: Vec<Gap> = by_category
        .into_iter()
        .map(|(category, incidents)| Gap { category: category.clone(), incidents: incidents.len() })
        .collect();
    gaps.sort_by(|a, b| b.incidents.cmp(&a.incidents).then_with(|| a.category.cmp(&b.category)));
    gaps
}
