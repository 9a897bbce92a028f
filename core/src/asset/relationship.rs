//! Typed relationships between configuration items, and which way a failure travels along each.
//!
//! A relationship is recorded on its *source* asset as an outgoing [`Link`] (`kind` and
//! `target`). Read `A runs_on B` as a sentence. For impact analysis each kind says which end is
//! *upstream*: a failure of the upstream end affects the downstream end, never the reverse.
//!
//! | recorded          | example                                   | a failure of … affects … |
//! |-------------------|-------------------------------------------|--------------------------|
//! | A `runs_on` B     | the revenues application runs on a server | B affects A              |
//! | A `depends_on` B  | the email service depends on the firewall | B affects A              |
//! | A `connected_to` B| a printer is patched into a floor switch  | B affects A              |
//! | A `used_by` B     | the revenues application is used by the council-tax service | A affects B |
//!
//! `connected_to` is directional on purpose: record it from the edge of the network towards the
//! core (printer → floor switch → core switch), so that a core switch failing affects everything
//! behind it while one printer failing affects nothing else. A symmetric reading would make every
//! device on a network "affect" every other one, which no one could act on.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::AssetRef;

/// The kind of a relationship.
///
/// JSON shape: `"runs_on"`, `"depends_on"`, `"connected_to"`, `"used_by"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// The source runs on the target (software on a server, a virtual server on a host).
    RunsOn,
    /// The source needs the target to work (a service on a database, a laptop on the VPN).
    DependsOn,
    /// The source reaches the network through the target (a printer on a switch).
    ConnectedTo,
    /// The source is used by the target (an application used by a service).
    UsedBy,
}

/// Which end of a recorded relationship a failure travels to.
///
/// JSON shape: `"to_source"` or `"to_target"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Propagation {
    /// A failure of the target affects the source.
    ToSource,
    /// A failure of the source affects the target.
    ToTarget,
}

impl Relationship {
    /// Every kind.
    pub const ALL: [Relationship; 4] = [
        Relationship::RunsOn,
        Relationship::DependsOn,
        Relationship::ConnectedTo,
        Relationship::UsedBy,
    ];

    /// The name used in JSON and CSV, e.g. `runs_on`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Relationship::RunsOn => "runs_on",
            Relationship::DependsOn => "depends_on",
            Relationship::ConnectedTo => "connected_to",
            Relationship::UsedBy => "used_by",
        }
    }

    /// Which way a failure travels along this kind (see the module docs).
    pub const fn propagation(self) -> Propagation {
        match self {
            Relationship::RunsOn | Relationship::DependsOn | Relationship::ConnectedTo => {
                Propagation::ToSource
            }
            Relationship::UsedBy => Propagation::ToTarget,
        }
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relationship::RunsOn => "runs on",
            Relationship::DependsOn => "depends on",
            Relationship::ConnectedTo => "is connected to",
            Relationship::UsedBy => "is used by",
        })
    }
}

/// Why a relationship or link could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseLinkError {
    /// The kind is not one of the four.
    #[error("`{0}` is not a relationship (runs_on, depends_on, connected_to, used_by)")]
    UnknownKind(String),
    /// The text is not `kind:AST-…`.
    #[error("`{0}` is not a relationship like runs_on:AST-000002")]
    Malformed(String),
    /// The target is not an asset reference.
    #[error("`{text}`: {reason}")]
    Target {
        /// The whole text.
        text: String,
        /// Why the reference is not one.
        reason: String,
    },
}

impl FromStr for Relationship {
    type Err = ParseLinkError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Relationship::ALL
            .into_iter()
            .find(|kind| kind.as_str() == wanted)
            .ok_or_else(|| ParseLinkError::UnknownKind(text.to_owned()))
    }
}

/// A relationship as stored on its source asset: the kind and the other end.
///
/// JSON shape: `{"kind": "runs_on", "target": "AST-000002"}`. Text form (CSV):
/// `runs_on:AST-000002`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Link {
    /// The kind of relationship.
    pub kind: Relationship,
    /// The asset at the other end.
    pub target: AssetRef,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.target)
    }
}

impl FromStr for Link {
    type Err = ParseLinkError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, target) =
            text.split_once(':').ok_or_else(|| ParseLinkError::Malformed(text.to_owned()))?;
        let kind = kind.parse()?;
        let target = target.trim().parse().map_err(|error: crate::id::IdError| {
            ParseLinkError::Target { text: text.to_owned(), reason: error.to_string() }
        })?;
        Ok(Link { kind, target })
    }
}

/// A relationship with both ends: `source` `kind` `target`, as recorded on the source.
///
/// JSON shape: `{"source": "AST-000001", "kind": "runs_on", "target": "AST-000002"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Relation {
    /// The asset the relationship is recorded on.
    pub source: AssetRef,
    /// The kind of relationship.
    pub kind: Relationship,
    /// The asset at the other end.
    pub target: AssetRef,
}

impl Relation {
    /// The relationship `link` recorded on `source`.
    pub const fn new(source: AssetRef, link: Link) -> Self {
        Relation { source, kind: link.kind, target: link.target }
    }

    /// The end whose failure affects the other.
    pub const fn upstream(&self) -> AssetRef {
        match self.kind.propagation() {
            Propagation::ToSource => self.target,
            Propagation::ToTarget => self.source,
        }
    }

    /// The end affected when the other fails.
    pub const fn downstream(&self) -> AssetRef {
        match self.kind.propagation() {
            Propagation::ToSource => self.source,
            Propagation::ToTarget => self.target,
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.source, self.kind, self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ast(n: u32) -> AssetRef {
        AssetRef::from_number(n).unwrap()
    }

    #[test]
    fn failures_travel_from_host_to_guest_and_from_application_to_service() {
        let runs_on = Relation { source: ast(1), kind: Relationship::RunsOn, target: ast(2) };
        assert_eq!((runs_on.upstream(), runs_on.downstream()), (ast(2), ast(1)));
        let used_by = Relation { source: ast(1), kind: Relationship::UsedBy, target: ast(3) };
        assert_eq!((used_by.upstream(), used_by.downstream()), (ast(1), ast(3)));
        assert_eq!(runs_on.to_string(), "AST-000001 runs on AST-000002");
    }

    #[test]
    fn links_read_and_print_as_kind_colon_reference() {
        let link: Link = "depends_on:AST-000009".parse().unwrap();
        assert_eq!(link, Link { kind: Relationship::DependsOn, target: ast(9) });
        assert_eq!(link.to_string(), "depends_on:AST-000009");
        assert_eq!("Runs-On: AST-2".parse::<Link>().unwrap().kind, Relationship::RunsOn);
        assert!(matches!("AST-000009".parse::<Link>(), Err(ParseLinkError::Malformed(_))));
        assert!(matches!("hosts:AST-1".parse::<Link>(), Err(ParseLinkError::UnknownKind(_))));
        assert!(matches!("runs_on:CHG-1".parse::<Link>(), Err(ParseLinkError::Target { .. })));
        let json = serde_json::to_value(link).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "depends_on", "target": "AST-000009"}));
    }
}
