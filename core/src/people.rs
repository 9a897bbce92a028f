//! People: requesters and agents.
//!
//! People are records, not configuration: joiners and leavers change them daily.

use serde::{Deserialize, Serialize};

/// Why a requester is a VIP. Their tickets get the configured priority uplift and are watched.
///
/// JSON shape: `"elected_member"` or `"chief_officer"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VipKind {
    /// A councillor.
    ElectedMember,
    /// A chief officer (chief executive, director, head of service).
    ChiefOfficer,
}
