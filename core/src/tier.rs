//! Escalation tiers: who handles a ticket, in the order a ticket climbs.
//!
//! Teams belong to tiers (see [`crate::config::Team`]). *Functional* escalation moves a ticket to a
//! team of a higher tier; *hierarchical* escalation brings in a team lead or manager without
//! moving it (see [`crate::incident`]).
//!
//! JSON shape: `"first_line"`, `"second_line"`, `"third_line"`, `"specialist"`, `"supplier"`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An escalation tier. Orders from 1st line up to external suppliers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The service desk: takes every contact, logs, fixes at first contact where it can.
    FirstLine,
    /// Desk-side support: hardware, installs, site visits.
    SecondLine,
    /// Third-line teams: applications, data centre, networks, workstations.
    ThirdLine,
    /// Specialists beyond the third line (security, architecture, a system's own experts).
    Specialist,
    /// An external supplier working under an underpinning contract.
    Supplier,
}

impl Tier {
    /// Every tier, lowest first.
    pub const ALL: [Tier; 5] =
        [Tier::FirstLine, Tier::SecondLine, Tier::ThirdLine, Tier::Specialist, Tier::Supplier];

    /// The name used in JSON and configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::FirstLine => "first_line",
            Tier::SecondLine => "second_line",
            Tier::ThirdLine => "third_line",
            Tier::Specialist => "specialist",
            Tier::Supplier => "supplier",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::FirstLine => "1st line",
            Tier::SecondLine => "2nd line",
            Tier::ThirdLine => "3rd line",
            Tier::Specialist => "specialist",
            Tier::Supplier => "supplier",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_climb_from_first_line_to_supplier() {
        let mut shuffled =
            [Tier::Supplier, Tier::FirstLine, Tier::Specialist, Tier::ThirdLine, Tier::SecondLine];
        shuffled.sort();
        assert_eq!(shuffled, Tier::ALL);
        for tier in Tier::ALL {
            assert_eq!(serde_json::to_value(tier).unwrap(), serde_json::json!(tier.as_str()));
        }
        assert_eq!(Tier::SecondLine.to_string(), "2nd line");
    }
}
