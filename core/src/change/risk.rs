//! A change's risk from impact × likelihood.
//!
//! The matrix is configuration (`[change.risk]`), of any size up to 9 × 9. Level 1 is the most
//! severe on both axes, as for incident priority. A cell may not be less risky than a cell that is
//! less severe on both axes (a typo that would make "minor and unlikely" outrank "major and
//! almost certain" is refused).
//!
//! ```toml
//! [change.risk]
//! impact = ["major", "moderate", "minor"]
//! likelihood = ["likely", "possible", "unlikely"]
//! matrix = [
//!     ["very_high", "high",   "medium"],
//!     ["high",      "medium", "low"],
//!     ["medium",    "low",    "low"],
//! ]
//! ```
//!
//! JSON shapes: impact and likelihood are integers (`1` is the most severe); a [`Risk`] is
//! `"low"`, `"medium"`, `"high"` or `"very_high"`.

use std::fmt;
use std::num::NonZeroU8;

use serde::{Deserialize, Serialize};

/// How much harm a change could do if it went wrong, level 1 (most) to n (least).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Impact(pub NonZeroU8);

/// How likely a change is to go wrong, level 1 (most) to n (least).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Likelihood(pub NonZeroU8);

/// A change's risk. Orders from low to very high.
///
/// JSON shape: `"low"`, `"medium"`, `"high"`, `"very_high"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Low risk: the only risk a standard change may carry, with medium.
    Low,
    /// Medium risk.
    Medium,
    /// High risk.
    High,
    /// Very high risk.
    VeryHigh,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::VeryHigh => "very high",
        })
    }
}

/// Why a risk matrix or a lookup in it is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An axis has no levels, or more than nine.
    #[error("the risk matrix needs 1 to 9 {axis} levels, not {count}")]
    AxisSize {
        /// `impact` or `likelihood`.
        axis: &'static str,
        /// How many were given.
        count: usize,
    },
    /// The matrix's rows or cells do not match the axes.
    #[error(
        "the risk matrix needs {expected} rows of {width} cells (one row per impact level, one cell per likelihood level); row {row} does not fit"
    )]
    Shape {
        /// Rows expected.
        expected: usize,
        /// Cells per row expected.
        width: usize,
        /// The first 1-based row that does not fit (one past the last row if rows are missing).
        row: usize,
    },
    /// A less severe cell is riskier than a more severe one.
    #[error(
        "the risk matrix is not monotonic: impact {impact}, likelihood {likelihood} is {risk}, riskier than a more severe cell"
    )]
    NotMonotonic {
        /// Impact level of the offending cell.
        impact: usize,
        /// Likelihood level of the offending cell.
        likelihood: usize,
        /// Its risk.
        risk: Risk,
    },
    /// A level outside the matrix.
    #[error("{axis} {level} is outside the risk matrix (1..={max})")]
    OutOfRange {
        /// `impact` or `likelihood`.
        axis: &'static str,
        /// The level given.
        level: u8,
        /// The least severe level.
        max: usize,
    },
}

/// The impact × likelihood → risk table, with level names for people.
///
/// TOML and JSON shape: `{"impact": [names], "likelihood": [names], "matrix": [[Risk, …], …]}`
/// (see the module docs). Deserialising checks it as [`RiskMatrix::new`] does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMatrix", into = "RawMatrix")]
pub struct RiskMatrix {
    impact: Vec<String>,
    likelihood: Vec<String>,
    cells: Vec<Vec<Risk>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    impact: Vec<String>,
    likelihood: Vec<String>,
    matrix: Vec<Vec<Risk>>,
}

impl TryFrom<RawMatrix> for RiskMatrix {
    type Error = Error;

    fn try_from(raw: RawMatrix) -> Result<Self, Error> {
        RiskMatrix::new(raw.impact, raw.likelihood, raw.matrix)
    }
}

impl From<RiskMatrix> for RawMatrix {
    fn from(matrix: RiskMatrix) -> Self {
        RawMatrix { impact: matrix.impact, likelihood: matrix.likelihood, matrix: matrix.cells }
    }
}

impl Default for RiskMatrix {
    /// A 3 × 3 matrix: high / medium / low on both axes.
    fn default() -> Self {
        use Risk::*;
        let names = || vec!["high".to_owned(), "medium".to_owned(), "low".to_owned()];
        RiskMatrix {
            impact: names(),
            likelihood: names(),
            cells: vec![
                vec![VeryHigh, High, Medium],
                vec![High, Medium, Low],
                vec![Medium, Low, Low],
            ],
        }
    }
}

impl RiskMatrix {
    /// A matrix with level names (most severe first) and `cells[impact - 1][likelihood - 1]`.
    pub fn new(
        impact: Vec<String>,
        likelihood: Vec<String>,
        cells: Vec<Vec<Risk>>,
    ) -> Result<Self, Error> {
        for (axis, levels) in [("impact", &impact), ("likelihood", &likelihood)] {
            if !(1..=9).contains(&levels.len()) {
                return Err(Error::AxisSize { axis, count: levels.len() });
            }
        }
        let (expected, width) = (impact.len(), likelihood.len());
        let misfit = cells.iter().position(|row| row.len() != width);
        if let Some(row) = misfit.or((cells.len() != expected).then_some(cells.len().min(expected)))
        {
            return Err(Error::Shape { expected, width, row: row + 1 });
        }
        for (i, row) in cells.iter().enumerate() {
            for (l, &risk) in row.iter().enumerate() {
                let above = i.checked_sub(1).map(|up| cells[up][l]);
                let left = l.checked_sub(1).map(|back| row[back]);
                if above.into_iter().chain(left).any(|more_severe| risk > more_severe) {
                    return Err(Error::NotMonotonic { impact: i + 1, likelihood: l + 1, risk });
                }
            }
        }
        Ok(RiskMatrix { impact, likelihood, cells })
    }

    /// The risk for `impact` and `likelihood`.
    pub fn risk(&self, impact: Impact, likelihood: Likelihood) -> Result<Risk, Error> {
        let out_of_range =
            |axis, level: NonZeroU8, max| Error::OutOfRange { axis, level: level.get(), max };
        let row = self
            .cells
            .get(usize::from(impact.0.get()) - 1)
            .ok_or_else(|| out_of_range("impact", impact.0, self.impact.len()))?;
        row.get(usize::from(likelihood.0.get()) - 1)
            .copied()
            .ok_or_else(|| out_of_range("likelihood", likelihood.0, self.likelihood.len()))
    }

    /// The names of the impact levels, most severe first.
    pub fn impact_levels(&self) -> &[String] {
        &self.impact
    }

    /// The names of the likelihood levels, most likely first.
    pub fn likelihood_levels(&self) -> &[String] {
        &self.likelihood
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(n: u8) -> NonZeroU8 {
        NonZeroU8::new(n).unwrap()
    }

    #[test]
    fn the_default_matrix_gives_very_high_for_major_and_likely() {
        let matrix = RiskMatrix::default();
        assert_eq!(matrix.risk(Impact(level(1)), Likelihood(level(1))), Ok(Risk::VeryHigh));
        assert_eq!(matrix.risk(Impact(level(3)), Likelihood(level(2))), Ok(Risk::Low));
        assert_eq!(
            matrix.risk(Impact(level(4)), Likelihood(level(1))),
            Err(Error::OutOfRange { axis: "impact", level: 4, max: 3 })
        );
        assert!(Risk::Low < Risk::VeryHigh);
    }

    #[test]
    fn malformed_matrices_are_refused_with_the_reason() {
        let names = || vec!["a".to_owned(), "b".to_owned()];
        use Risk::*;
        let ragged = RiskMatrix::new(names(), names(), vec![vec![High, Low], vec![Low]]);
        assert_eq!(ragged, Err(Error::Shape { expected: 2, width: 2, row: 2 }));
        let short = RiskMatrix::new(names(), names(), vec![vec![High, Low]]);
        assert_eq!(short, Err(Error::Shape { expected: 2, width: 2, row: 2 }));
        let inverted = RiskMatrix::new(names(), names(), vec![vec![Low, High], vec![Low, Low]]);
        assert_eq!(inverted, Err(Error::NotMonotonic { impact: 1, likelihood: 2, risk: High }));
        assert_eq!(
            RiskMatrix::new(vec![], names(), vec![]),
            Err(Error::AxisSize { axis: "impact", count: 0 })
        );
    }
}
