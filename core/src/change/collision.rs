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
//! Cost: one pass over the scheduled changes to find overlapping windows (two comparisons each);
//! only the changes whose windows overlap are looked at in the graph. For each of their CIs, two
//! searches from both ends at once (ours to theirs, theirs to ours), each visiting little more
//! than the smaller neighbourhood of the two ends: what depends on a core switch is everything,
//! but what a laptop depends on is a handful of CIs. Should those searches together follow more
//! relationships than the graph has, two plain searches from all our CIs at once answer instead,
//! so the worst case stays linear in the size of the graph.

use serde::{Deserialize, Serialize};

use super::window::Window;
use crate::asset::cmdb::{Chain, Direction, Meet, RelationPath, Walk, Walker};
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
    detect(proposed, scheduled, cmdb, cmdb.len() + cmdb.relation_count())
}

/// [`collisions`], with `budget` relationships to follow before the per-target searches give
/// way to two searches over the whole graph.
fn detect(proposed: &Booking, scheduled: &[Booking], cmdb: &Cmdb, budget: usize) -> Vec<Collision> {
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
    let paths = related_paths(cmdb, &sources, &targets, budget);
    let related = |theirs: AssetRef| -> Option<Reason> {
        let index = targets.binary_search(&cmdb.node(theirs)?).ok()?;
        let (affects, affected_by) = paths.get(index)?.clone();
        let path = RelationPath::shorter(affects, affected_by)?;
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

/// For each of `targets` (sorted node numbers): the shortest chain by which one of `sources`
/// affects it, and the shortest by which it affects one of `sources`.
///
/// Each chain is searched from both ends at once ([`Meet::chain`]), which visits little more
/// than the smaller neighbourhood of the two ends. Should those searches together follow more
/// than `budget` relationships (a whole pass over the graph), two searches from all our CIs at
/// once, one each way, answer for every target instead, so the worst case stays linear.
fn related_paths(
    cmdb: &Cmdb,
    sources: &[u32],
    targets: &[u32],
    mut budget: usize,
) -> Vec<(Chain, Chain)> {
    if sources.is_empty() || targets.is_empty() {
        return Vec::new();
    }
    let mut meet = Meet::new(cmdb);
    let mut paths = Vec::with_capacity(targets.len());
    for &target in targets {
        let affects = meet.chain(sources, &[target], &mut budget);
        let affected_by = meet.chain(&[target], sources, &mut budget);
        match (affects, affected_by) {
            (Ok(affects), Ok(affected_by)) => paths.push((affects, affected_by)),
            _ => return related_paths_in_one_pass(cmdb, sources, targets),
        }
    }
    paths
}

/// [`related_paths`] by one search downstream and one upstream from all our CIs at once, each
/// ending when it has reached every target.
fn related_paths_in_one_pass(cmdb: &Cmdb, sources: &[u32], targets: &[u32]) -> Vec<(Chain, Chain)> {
    let mut walker = Walker::new(cmdb);
    let mut search = |walk| -> Vec<Chain> {
        let mut remaining = targets.len();
        walker.run(sources, walk, |node| {
            remaining -= usize::from(targets.binary_search(&node).is_ok());
            remaining == 0
        });
        targets.iter().map(|&target| walker.path(target)).collect()
    };
    let affects = search(Walk::Downstream);
    let affected_by = search(Walk::Upstream);
    affects.into_iter().zip(affected_by).collect()
}

fn sorted(cis: &[AssetRef]) -> Vec<AssetRef> {
    let mut cis = cis.to_vec();
    cis.sort_unstable();
    cis.dedup();
    cis
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration};
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    use super::*;
    use crate::asset::cmdb::brute::{FAR, assert_chain, distances, graphs, index};
    use crate::asset::{Class, Relationship};

    fn ast(n: u32) -> AssetRef {
        AssetRef::from_number(n).unwrap()
    }

    fn hours(start: i64, length: i64) -> Window {
        let zero = DateTime::UNIX_EPOCH;
        Window::new(zero + Duration::hours(start), zero + Duration::hours(start + length)).unwrap()
    }

    fn booking(change: u32, window: Window, cis: &[u32]) -> Booking {
        Booking {
            change: ChangeRef::from_number(change).unwrap(),
            window,
            cis: cis.iter().map(|&n| ast(n)).collect(),
        }
    }

    /// Server 1 hosts application 2, used by service 3; printer 4 is on switch 5.
    fn cmdb() -> Cmdb {
        let relations = [
            Relation { source: ast(2), kind: Relationship::RunsOn, target: ast(1) },
            Relation { source: ast(2), kind: Relationship::UsedBy, target: ast(3) },
            Relation { source: ast(4), kind: Relationship::ConnectedTo, target: ast(5) },
        ];
        Cmdb::from_parts((1..=5).map(|n| (ast(n), Class::Server)), relations)
    }

    #[test]
    fn given_overlapping_changes_on_the_same_or_related_cis_then_each_is_reported_with_why() {
        let ours = booking(1, hours(10, 4), &[1]);
        let scheduled = [
            booking(2, hours(12, 4), &[1, 9]),
            booking(3, hours(13, 1), &[3]),
            booking(4, hours(14, 2), &[1]),
            booking(5, hours(8, 8), &[4, 5]),
            booking(1, hours(10, 4), &[1]),
        ];
        let found = collisions(&ours, &scheduled, &cmdb());
        let changes: Vec<u32> = found.iter().map(|c| c.change.number().get()).collect();
        assert_eq!(changes, [2, 3], "4 starts as ours ends; 5 is unrelated; 1 is ours");
        assert_eq!(found[0].reasons, [Reason::SameCi { ci: ast(1) }]);
        let Reason::Related { ours, theirs, path } = &found[1].reasons[0] else { panic!() };
        assert_eq!((*ours, *theirs, path.direction), (ast(1), ast(3), Direction::Affects));
        assert_eq!(path.relations.len(), 2);
        let json = serde_json::to_value(&found[1]).unwrap();
        assert_eq!(json["reasons"][0]["kind"], "related");
        assert_eq!(json["reasons"][0]["path"]["direction"], "affects");
    }

    #[test]
    fn given_their_ci_upstream_of_ours_then_the_reason_says_it_affects_us() {
        let found =
            collisions(&booking(1, hours(0, 2), &[3]), &[booking(2, hours(1, 2), &[1])], &cmdb());
        let Reason::Related { path, .. } = &found[0].reasons[0] else { panic!() };
        assert_eq!(path.direction, Direction::AffectedBy);
        assert_eq!(path.relations.first().map(Relation::upstream), Some(ast(1)));
    }

    fn bookings(max_ci: u32, cis: std::ops::Range<usize>) -> impl Strategy<Value = Booking> {
        (1..8u32, 0..16i64, 1..6i64, proptest::collection::vec(1..=max_ci, cis))
            .prop_map(|(change, start, length, cis)| booking(change, hours(start, length), &cis))
    }

    /// What a reason says, without the particular chain: the CI of theirs, and for a related
    /// one the direction and length of the chain.
    type Shape = (AssetRef, Option<(Direction, usize)>);

    fn shape(reason: &Reason) -> Shape {
        match reason {
            Reason::SameCi { ci } => (*ci, None),
            Reason::Related { theirs, path, .. } => {
                (*theirs, Some((path.direction, path.relations.len())))
            }
        }
    }

    /// Every pair of overlapping changes, every CI of theirs against every CI of ours, with
    /// Floyd–Warshall distances.
    fn brute_force(
        n: usize,
        relations: &[Relation],
        proposed: &Booking,
        scheduled: &[Booking],
    ) -> Vec<(ChangeRef, Window, Vec<Shape>)> {
        let far = distances(n, relations);
        let distance = |from: AssetRef, to: AssetRef| -> usize {
            let (f, t) = (from.number().get() as usize, to.number().get() as usize);
            if f > n || t > n { FAR } else { far[f][t] }
        };
        let mut expected = Vec::new();
        for theirs in scheduled {
            let overlap = theirs.change != proposed.change
                && theirs.window.start() < proposed.window.end()
                && proposed.window.start() < theirs.window.end();
            let mut cis = theirs.cis.clone();
            cis.sort();
            cis.dedup();
            let mut reasons = Vec::new();
            for &ci in cis.iter().filter(|_| overlap) {
                if proposed.cis.contains(&ci) {
                    reasons.push((ci, None));
                    continue;
                }
                let down = proposed.cis.iter().map(|&ours| distance(ours, ci)).min().unwrap_or(FAR);
                let up = proposed.cis.iter().map(|&ours| distance(ci, ours)).min().unwrap_or(FAR);
                match (down, up) {
                    (FAR, FAR) => {}
                    (down, up) if up < down => {
                        reasons.push((ci, Some((Direction::AffectedBy, up))))
                    }
                    (down, _) => reasons.push((ci, Some((Direction::Affects, down)))),
                }
            }
            if !reasons.is_empty() {
                expected.push((theirs.change, theirs.window, reasons));
            }
        }
        expected
    }

    fn check(
        found: &[Collision],
        expected: &[(ChangeRef, Window, Vec<Shape>)],
        proposed: &Booking,
        relations: &[Relation],
    ) -> Result<(), TestCaseError> {
        let seen: Vec<(ChangeRef, Window, Vec<Shape>)> = found
            .iter()
            .map(|c| (c.change, c.window, c.reasons.iter().map(shape).collect()))
            .collect();
        prop_assert_eq!(seen, expected);
        for reason in found.iter().flat_map(|c| &c.reasons) {
            if let Reason::Related { ours, theirs, path } = reason {
                prop_assert!(proposed.cis.contains(ours));
                match path.direction {
                    Direction::Affects => assert_chain(&path.relations, relations, *ours, *theirs),
                    Direction::AffectedBy => {
                        assert_chain(&path.relations, relations, *theirs, *ours)
                    }
                }
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn collisions_equal_a_brute_force_pairwise_check(
            (n, relations, proposed, scheduled) in graphs().prop_flat_map(|(n, relations)| {
                // Two CIs beyond the graph: they can only collide as the same CI.
                let max_ci = n as u32 + 2;
                let scheduled = proptest::collection::vec(bookings(max_ci, 0..4), 0..10);
                (Just(n), Just(relations), bookings(max_ci, 1..4), scheduled)
            }),
        ) {
            let cmdb = index(n, &relations);
            let expected = brute_force(n, &relations, &proposed, &scheduled);
            check(&collisions(&proposed, &scheduled, &cmdb), &expected, &proposed, &relations)?;
            // With no budget the single downstream search answers instead; it must agree too.
            check(&detect(&proposed, &scheduled, &cmdb, 0), &expected, &proposed, &relations)?;
        }
    }
}
