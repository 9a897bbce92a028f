//! Priority from impact × urgency, with the VIP uplift.
//!
//! The matrix has any number of impact and urgency levels (ITIL's example is 3 × 3, GLPI uses
//! 5 × 5). Level 1 is the most severe on every axis, as priority P1 is the most urgent. A VIP
//! requester (an elected member or a chief officer) lifts the matrix result by a configured number
//! of levels, never past P1. The "major incident" flag sits outside the matrix: it does not change
//! the priority, it changes the process (see [`crate::incident`]).
//!
//! JSON shapes: impact and urgency are integers (`1` is the most severe); a priority is a string
//! `"P1"`…`"Pn"`; an [`Assessment`] is an object with all four plus the uplift applied.

use std::fmt;
use std::num::NonZeroU8;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::people::VipKind;

/// How widely a fault is felt, level 1 (most) to n (least).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Impact(pub NonZeroU8);

/// How soon it hurts, level 1 (most) to n (least).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Urgency(pub NonZeroU8);

impl Impact {
    /// Impact at `level`; `None` for zero.
    pub const fn level(level: u8) -> Option<Impact> {
        match NonZeroU8::new(level) {
            Some(l) => Some(Impact(l)),
            None => None,
        }
    }
}

impl Urgency {
    /// Urgency at `level`; `None` for zero.
    pub const fn level(level: u8) -> Option<Urgency> {
        match NonZeroU8::new(level) {
            Some(l) => Some(Urgency(l)),
            None => None,
        }
    }
}

/// A priority, P1 (most urgent) to Pn. Orders with P1 first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(NonZeroU8);

impl Priority {
    /// The most urgent priority.
    pub const P1: Priority = Priority(NonZeroU8::MIN);

    /// Priority `P{level}`; `None` for zero.
    pub const fn new(level: u8) -> Option<Priority> {
        match NonZeroU8::new(level) {
            Some(l) => Some(Priority(l)),
            None => None,
        }
    }

    /// The level: 1 for P1.
    pub const fn level(self) -> u8 {
        self.0.get()
    }

    /// This priority lifted by `levels`, stopping at P1.
    pub fn raised(self, levels: u8) -> Priority {
        Priority::new(self.level().saturating_sub(levels)).unwrap_or(Priority::P1)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

/// `text` is not a priority like `P2`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a priority like P1, P2, P3")]
pub struct ParsePriorityError(pub String);

impl FromStr for Priority {
    type Err = ParsePriorityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix(['P', 'p'])
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u8>().ok())
            .and_then(Priority::new)
            .ok_or_else(|| ParsePriorityError(text.to_owned()))
    }
}

impl Serialize for Priority {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a matrix or an assessment is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PriorityError {
    /// The matrix has no levels on an axis.
    #[error("the matrix needs at least one {0} level")]
    EmptyAxis(&'static str),
    /// The matrix has too many levels on an axis.
    #[error("the matrix has {count} {axis} levels; at most 9 are allowed")]
    TooManyLevels {
        /// `impact` or `urgency`.
        axis: &'static str,
        /// How many were given.
        count: usize,
    },
    /// A row has the wrong number of cells.
    #[error(
        "row {row} of the matrix has {found} cells, expected one per urgency level ({expected})"
    )]
    RowLength {
        /// The 1-based impact level of the row.
        row: usize,
        /// Cells found.
        found: usize,
        /// Urgency levels declared.
        expected: usize,
    },
    /// The matrix has the wrong number of rows.
    #[error("the matrix has {found} rows, expected one per impact level ({expected})")]
    RowCount {
        /// Rows found.
        found: usize,
        /// Impact levels declared.
        expected: usize,
    },
    /// A less severe cell has a more urgent priority than a more severe one.
    #[error(
        "the matrix is not monotonic: impact {impact}, urgency {urgency} gives {priority}, more urgent than a more severe cell"
    )]
    NotMonotonic {
        /// Impact level of the offending cell.
        impact: u8,
        /// Urgency level of the offending cell.
        urgency: u8,
        /// Its priority.
        priority: Priority,
    },
    /// An impact level outside the matrix.
    #[error("impact {level} is outside the matrix (1..={max})")]
    ImpactOutOfRange {
        /// The level given.
        level: u8,
        /// The least severe level.
        max: u8,
    },
    /// An urgency level outside the matrix.
    #[error("urgency {level} is outside the matrix (1..={max})")]
    UrgencyOutOfRange {
        /// The level given.
        level: u8,
        /// The least severe level.
        max: u8,
    },
}

/// The impact × urgency → priority table, with level names for people.
///
/// JSON and TOML shape: `{"impact": ["high", …], "urgency": ["high", …], "matrix": [["P1", …], …]}`,
/// one row per impact level, one cell per urgency level. Deserialising checks it as
/// [`PriorityMatrix::new`] does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMatrix", into = "RawMatrix")]
pub struct PriorityMatrix {
    impact: Vec<String>,
    urgency: Vec<String>,
    cells: Vec<Vec<Priority>>,
}

impl PriorityMatrix {
    /// A matrix with level names (most severe first) and `cells[impact - 1][urgency - 1]`.
    ///
    /// Refuses a matrix with empty axes, ragged rows, or a cell more urgent than a cell that is at
    /// least as severe on both axes (a typo that would make "low/low" outrank "high/high").
    pub fn new(
        impact: Vec<String>,
        urgency: Vec<String>,
        cells: Vec<Vec<Priority>>,
    ) -> Result<Self, PriorityError> {
        for (axis, levels) in [("impact", &impact), ("urgency", &urgency)] {
            if levels.is_empty() {
                return Err(PriorityError::EmptyAxis(axis));
            }
            if levels.len() > 9 {
                return Err(PriorityError::TooManyLevels { axis, count: levels.len() });
            }
        }
        if cells.len() != impact.len() {
            return Err(PriorityError::RowCount { found: cells.len(), expected: impact.len() });
        }
        for (row, cells_in_row) in cells.iter().enumerate() {
            if cells_in_row.len() != urgency.len() {
                return Err(PriorityError::RowLength {
                    row: row + 1,
                    found: cells_in_row.len(),
                    expected: urgency.len(),
                });
            }
        }
        for i in 0..cells.len() {
            for u in 0..urgency.len() {
                let here = cells[i][u];
                let above = (i > 0).then(|| cells[i - 1][u]);
                let left = (u > 0).then(|| cells[i][u - 1]);
                if above.into_iter().chain(left).any(|more_severe| here < more_severe) {
                    return Err(PriorityError::NotMonotonic {
                        impact: level_of(i),
                        urgency: level_of(u),
                        priority: here,
                    });
                }
            }
        }
        Ok(PriorityMatrix { impact, urgency, cells })
    }

    /// ITIL's example 3 × 3 matrix (high / medium / low), giving P1..P5.
    pub fn itil_default() -> Self {
        let p = |level| Priority::new(level).unwrap_or(Priority::P1);
        let names = || vec!["high".to_owned(), "medium".to_owned(), "low".to_owned()];
        PriorityMatrix {
            impact: names(),
            urgency: names(),
            cells: vec![vec![p(1), p(2), p(3)], vec![p(2), p(3), p(4)], vec![p(3), p(4), p(5)]],
        }
    }

    /// The matrix cell for `impact` and `urgency`.
    pub fn lookup(&self, impact: Impact, urgency: Urgency) -> Result<Priority, PriorityError> {
        let i = usize::from(impact.0.get()) - 1;
        let u = usize::from(urgency.0.get()) - 1;
        let row = self.cells.get(i).ok_or(PriorityError::ImpactOutOfRange {
            level: impact.0.get(),
            max: level_of(self.impact.len() - 1),
        })?;
        row.get(u).copied().ok_or(PriorityError::UrgencyOutOfRange {
            level: urgency.0.get(),
            max: level_of(self.urgency.len() - 1),
        })
    }

    /// The names of the impact levels, most severe first.
    pub fn impact_levels(&self) -> &[String] {
        &self.impact
    }

    /// The names of the urgency levels, most severe first.
    pub fn urgency_levels(&self) -> &[String] {
        &self.urgency
    }

    /// The least urgent priority the matrix can give.
    pub fn lowest(&self) -> Priority {
        self.cells.iter().flatten().copied().max().unwrap_or(Priority::P1)
    }

    /// The impact level called `name` (case-insensitive), or given as its number.
    pub fn impact_named(&self, name: &str) -> Option<Impact> {
        level_named(&self.impact, name).and_then(Impact::level)
    }

    /// The urgency level called `name` (case-insensitive), or given as its number.
    pub fn urgency_named(&self, name: &str) -> Option<Urgency> {
        level_named(&self.urgency, name).and_then(Urgency::level)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    impact: Vec<String>,
    urgency: Vec<String>,
    matrix: Vec<Vec<Priority>>,
}

impl TryFrom<RawMatrix> for PriorityMatrix {
    type Error = PriorityError;

    fn try_from(raw: RawMatrix) -> Result<Self, Self::Error> {
        PriorityMatrix::new(raw.impact, raw.urgency, raw.matrix)
    }
}

impl From<PriorityMatrix> for RawMatrix {
    fn from(matrix: PriorityMatrix) -> Self {
        RawMatrix { impact: matrix.impact, urgency: matrix.urgency, matrix: matrix.cells }
    }
}

fn level_of(index: usize) -> u8 {
    u8::try_from(index + 1).unwrap_or(u8::MAX)
}

fn level_named(levels: &[String], name: &str) -> Option<u8> {
    if let Ok(number) = name.parse::<u8>() {
        return (1..=levels.len()).contains(&usize::from(number)).then_some(number);
    }
    levels.iter().position(|level| level.eq_ignore_ascii_case(name)).map(level_of)
}

/// The matrix plus the VIP rule: what the configuration says about priority.
///
/// TOML and JSON shape: the matrix's keys plus `vip_uplift` (default 1):
///
/// ```toml
/// [priority]
/// impact = ["high", "medium", "low"]
/// urgency = ["high", "medium", "low"]
/// matrix = [["P1", "P2", "P3"], ["P2", "P3", "P4"], ["P3", "P4", "P5"]]
/// vip_uplift = 1
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPolicy", into = "RawPolicy")]
pub struct PriorityPolicy {
    /// The impact × urgency table.
    pub matrix: PriorityMatrix,
    /// How many levels a VIP requester's tickets are lifted by (never past P1).
    pub vip_uplift: u8,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    impact: Vec<String>,
    urgency: Vec<String>,
    matrix: Vec<Vec<Priority>>,
    #[serde(default = "one")]
    vip_uplift: u8,
}

fn one() -> u8 {
    1
}

impl TryFrom<RawPolicy> for PriorityPolicy {
    type Error = PriorityError;

    fn try_from(raw: RawPolicy) -> Result<Self, Self::Error> {
        Ok(PriorityPolicy {
            matrix: PriorityMatrix::new(raw.impact, raw.urgency, raw.matrix)?,
            vip_uplift: raw.vip_uplift,
        })
    }
}

impl From<PriorityPolicy> for RawPolicy {
    fn from(policy: PriorityPolicy) -> Self {
        let RawMatrix { impact, urgency, matrix } = policy.matrix.into();
        RawPolicy { impact, urgency, matrix, vip_uplift: policy.vip_uplift }
    }
}

impl Default for PriorityPolicy {
    fn default() -> Self {
        PriorityPolicy { matrix: PriorityMatrix::itil_default(), vip_uplift: 1 }
    }
}

impl PriorityPolicy {
    /// Works out a ticket's priority, keeping every input so the result can be explained.
    pub fn assess(
        &self,
        impact: Impact,
        urgency: Urgency,
        vip: Option<VipKind>,
    ) -> Result<Assessment, PriorityError> {
        let from_matrix = self.matrix.lookup(impact, urgency)?;
        let priority = match vip {
            Some(_) => from_matrix.raised(self.vip_uplift),
            None => from_matrix,
        };
        Ok(Assessment {
            impact,
            urgency,
            from_matrix,
            vip,
            uplift: from_matrix.level() - priority.level(),
            priority,
        })
    }
}

/// A priority together with how it was reached.
///
/// JSON shape:
/// `{"impact": 2, "urgency": 1, "from_matrix": "P2", "vip": "elected_member", "uplift": 1, "priority": "P1"}`
/// (`vip` is `null` for other requesters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Impact level given.
    pub impact: Impact,
    /// Urgency level given.
    pub urgency: Urgency,
    /// What the matrix said.
    pub from_matrix: Priority,
    /// The requester's VIP kind, if any.
    pub vip: Option<VipKind>,
    /// Levels actually lifted (0 when the matrix already said P1, or for non-VIPs).
    pub uplift: u8,
    /// The resulting priority.
    pub priority: Priority,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(level: u8) -> Priority {
        Priority::new(level).unwrap()
    }

    fn assess(policy: &PriorityPolicy, i: u8, u: u8, vip: Option<VipKind>) -> Priority {
        policy.assess(Impact::level(i).unwrap(), Urgency::level(u).unwrap(), vip).unwrap().priority
    }

    #[test]
    fn the_default_matrix_is_itils_example() {
        let policy = PriorityPolicy::default();
        let expected = [[1, 2, 3], [2, 3, 4], [3, 4, 5]];
        for (i, row) in expected.iter().enumerate() {
            for (u, level) in row.iter().enumerate() {
                assert_eq!(assess(&policy, level_of(i), level_of(u), None), p(*level));
            }
        }
    }

    #[test]
    fn vip_uplift_never_passes_p1() {
        let policy = PriorityPolicy { vip_uplift: 2, ..PriorityPolicy::default() };
        let vip = Some(VipKind::ElectedMember);
        assert_eq!(assess(&policy, 3, 3, vip), p(3));
        assert_eq!(assess(&policy, 2, 1, vip), p(1));
        assert_eq!(assess(&policy, 1, 1, vip), p(1));
        let a = policy
            .assess(
                Impact::level(1).unwrap(),
                Urgency::level(2).unwrap(),
                Some(VipKind::ChiefOfficer),
            )
            .unwrap();
        assert_eq!((a.from_matrix, a.uplift, a.priority), (p(2), 1, p(1)));
    }

    #[test]
    fn levels_outside_the_matrix_are_refused() {
        let policy = PriorityPolicy::default();
        let err =
            policy.assess(Impact::level(4).unwrap(), Urgency::level(1).unwrap(), None).unwrap_err();
        assert_eq!(err, PriorityError::ImpactOutOfRange { level: 4, max: 3 });
    }

    #[test]
    fn a_five_by_five_matrix_is_accepted() {
        let names: Vec<String> = (1..=5).map(|n| format!("level-{n}")).collect();
        let cells: Vec<Vec<Priority>> =
            (0..5u8).map(|i| (0..5u8).map(|u| p(((i + u) / 2 + 1).min(5))).collect()).collect();
        let matrix = PriorityMatrix::new(names.clone(), names, cells).unwrap();
        assert_eq!(matrix.lowest(), p(5));
        assert_eq!(matrix.impact_named("LEVEL-2"), Impact::level(2));
        assert_eq!(matrix.urgency_named("5"), Urgency::level(5));
        assert_eq!(matrix.urgency_named("6"), None);
    }

    #[test]
    fn malformed_matrices_are_refused_with_the_reason() {
        let names = || vec!["high".to_owned(), "low".to_owned()];
        let ragged = PriorityMatrix::new(names(), names(), vec![vec![p(1), p(2)], vec![p(2)]]);
        assert_eq!(ragged, Err(PriorityError::RowLength { row: 2, found: 1, expected: 2 }));
        let inverted =
            PriorityMatrix::new(names(), names(), vec![vec![p(2), p(1)], vec![p(2), p(3)]]);
        assert!(matches!(inverted, Err(PriorityError::NotMonotonic { impact: 1, urgency: 2, .. })));
        let empty = PriorityMatrix::new(vec![], names(), vec![]);
        assert_eq!(empty, Err(PriorityError::EmptyAxis("impact")));
    }

    #[test]
    fn priorities_are_p_strings_in_json_and_text() {
        assert_eq!(serde_json::to_string(&p(3)).unwrap(), "\"P3\"");
        assert_eq!("p2".parse::<Priority>().unwrap(), p(2));
        assert!("P0".parse::<Priority>().is_err());
        assert!("2".parse::<Priority>().is_err());
        assert!(p(1) < p(2), "P1 sorts first");
    }
}
