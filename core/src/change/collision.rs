//! Change collision detection: which scheduled changes clash with a proposed one.
//!
//! Two changes collide when their windows overlap (half-open windows: back-to-back is fine) and
//! they touch the same CI, or a CI of one is related to a CI of the other through the CMDB: a
//! failure of one affects the other, directly or through a chain of relationships, in either
//! direction (see [`crate::asset::relationship`]). Changing a server while someone else patches
//! the application running on it is a collision; patching two applications that merely share a
//! server is not (neither affects the other).
//!
//! [`collisions`] reports every colliding change with every reason: each of its CIs that is
//! also ours, and each of its CIs related to ours with the shortest chain between them (when
//! both directions relate them, the shorter chain, and "ours affects theirs" on a tie).
//!
//! Cost: one pass over the scheduled changes to find overlapping windows (two comparisons each),
//! then at most two breadth-first searches of the CMDB that start from all our CIs at once and
//! stop as soon as every CI of the overlapping changes has been reached. Only changes whose
//! windows overlap are looked at in the graph.

use serde::{Deserialize, Serialize};

use super::window::Window;
use crate::asset::cmdb::{Direction, RelationPath, Walk};
use crate::asset::{Cmdb, Relation};
use crate::id::{AssetRef, ChangeRef};

/// A change holding a window, as collision detection sees it.
///
/// JSON shape: `{"change": "CHG-000042", "window": Window, "cis": ["AST-000001", …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The change.
    pub change: ChangeRef,
    /// Its window.
    pub window: Window,
    /// The CIs it touches.
    pub cis: Vec<AssetRef>,
}

/// Why two changes collide.
///
/// JSON shape: `{"kind": "same_ci", "ci": "AST-000007"}` or `{"kind": "related", "ours":
/// "AST-000003", "theirs": "AST-000004", "path": {"direction": "affects", "relations": […]}}`;
/// `direction` says whether a failure of our CI affects theirs (`affects`) or the reverse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Both changes touch this CI.
    SameCi {
        /// The CI.
        ci: AssetRef,
    },
    /// A CI of ours and a CI of theirs are related.
    Related {
        /// Our CI.
        ours: AssetRef,
        /// Their CI.
        theirs: AssetRef,
        /// The shortest chain between them, upstream CI first.
        path: RelationPath,
    },
}

/// A scheduled change that collides with the proposed one.
///
/// JSON shape: `{"change": "CHG-000042", "window": Window, "reasons": [Reason, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collision {
    /// The scheduled change.
    pub change: ChangeRef,
    /// Its window.
    pub window: Window,
    /// One reason per CI of theirs that is ours or related to ours, in CI order.
    pub reasons: Vec<Reason>,
}

/// Every change in `scheduled` that collides with `proposed`, in the order given.
///
/// A booking of the proposed change itself (rescheduling) is ignored. CIs that are not in `cmdb`
/// can still collide as the same CI, but are related to nothing.
pub fn collisions(proposed: &Booking, scheduled: &[Booking], cmdb: &Cmdb) -> Vec<Collision> {
    let overlapping: Vec<&Booking> = scheduled
        .iter()
        .filter(|booking| {
            booking.change != proposed.change && booking.window.overlaps(&proposed.window)
        })
        .collect();
    if overlapping.is_empty() {
        return Vec::new();
    }
    let ours = sorted(&proposed.cis);
    let mut sources: Vec<u32> = ours.iter().filter_map(|&ci| cmdb.node(ci)).collect();
    sources.sort_unstable();
    let mut targets: Vec<u32> = overlapping
        .iter()
        .flat_map(|booking| booking.cis.iter())
        .filter(|ci| ours.binary_search(ci).is_err())
        .filter_map(|&ci| cmdb.node(ci))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let searches = (!sources.is_empty() && !targets.is_empty()).then(|| {
        (
            cmdb.search(&sources, Walk::Downstream, &targets),
            cmdb.search(&sources, Walk::Upstream, &targets),
        )
    });
    let related = |theirs: AssetRef| -> Option<Reason> {
        let (down, up) = searches.as_ref()?;
        let node = cmdb.node(theirs)?;
        let path = RelationPath::shorter(down.path(cmdb, node), up.path(cmdb, node))?;
        let ours = match path.direction {
            Direction::Affects => path.relations.first().map(Relation::upstream),
            Direction::AffectedBy => path.relations.last().map(Relation::downstream),
        }?;
        Some(Reason::Related { ours, theirs, path })
    };
    overlapping
        .into_iter()
        .filter_map(|booking| {
            let reasons: Vec<Reason> = sorted(&booking.cis)
                .into_iter()
                .filter_map(|ci| {
                    if ours.binary_search(&ci).is_ok() {
                        Some(Reason::SameCi { ci })
                    } else {
                        related(ci)
                    }
                })
                .collect();
            (!reasons.is_empty()).then_some(Collision {
                change: booking.change,
                window: booking.window,
                reasons,
            })
        })
        .collect()
}

fn sorted(cis: &[AssetRef]) -> Vec<AssetRef> {
    let mut cis = cis.to_vec();
    cis.sort_unstable();
    cis.dedup();
    cis
}
