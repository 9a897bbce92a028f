//! The configuration management database as a graph: impact analysis and relation paths.
//!
//! [`Cmdb`] is an index built once from the assets (their outgoing [`Link`](super::Link)s): every CI is a
//! dense number, and the relationships are stored twice in compressed sparse rows, once by the
//! upstream end and once by the downstream end (see [`super::relationship`] for which end is
//! which). Questions are breadth-first searches over those arrays, so each costs time linear in
//! the part of the graph it visits, terminates on cycles (a CI is visited once), and finds the
//! shortest chain of relationships. A search marks what it has reached in a bitset (one bit per
//! CI, small enough to stay in cache) and clears only its own marks afterwards, so one
//! allocation serves many searches; no hashing is involved.
//!
//! - [`Cmdb::impact`]: every CI (and so every service) a failure of one CI affects, each with the
//!   relationship that reached it; [`Impact::path`] follows those back to the failing CI.
//! - [`Cmdb::relation_path`]: whether a failure of one CI affects another, or the other way
//!   round, and through which relationships. It searches from both ends at once, so it visits
//!   little more than the smaller neighbourhood of the two CIs (change collision detection asks
//!   this question many times per change).
//!
//! Disposed assets are left out; relationships to a CI that is not in the index are kept aside
//! in [`Cmdb::dangling`] so that a register import can report them.

use serde::{Deserialize, Serialize};

use super::relationship::{Propagation, Relation, Relationship};
use super::{Asset, Class, Error, Status};
use crate::id::AssetRef;

/// The CMDB graph index. Build it with [`Cmdb::new`]; it does not change afterwards.
#[derive(Debug, Clone, Default)]
pub struct Cmdb {
    cis: Vec<AssetRef>,
    classes: Vec<Class>,
    edges: Vec<Edge>,
    /// The same relationships as [`Relation`]s, to answer with.
    relations: Vec<Relation>,
    down: Rows,
    up: Rows,
    dangling: Vec<Relation>,
}

/// A relationship between two indexed CIs.
#[derive(Debug, Clone, Copy)]
struct Edge {
    source: u32,
    kind: Relationship,
    target: u32,
}

impl Edge {
    fn upstream(self) -> u32 {
        match self.kind.propagation() {
            Propagation::ToSource => self.target,
            Propagation::ToTarget => self.source,
        }
    }

    fn downstream(self) -> u32 {
        match self.kind.propagation() {
            Propagation::ToSource => self.source,
            Propagation::ToTarget => self.target,
        }
    }
}

/// Compressed sparse rows: the neighbours of node `n` are `items[offsets[n]..offsets[n + 1]]`,
/// each the neighbouring node and the edge that leads there.
#[derive(Debug, Clone, Default)]
struct Rows {
    offsets: Vec<u32>,
    items: Vec<(u32, u32)>,
}

impl Rows {
    /// Rows for `nodes` nodes holding, for each edge, `(key, neighbour)`.
    fn build(nodes: usize, edges: impl Iterator<Item = (u32, u32)> + Clone) -> Rows {
        let mut offsets = vec![0u32; nodes + 1];
        for (key, _) in edges.clone() {
            offsets[key as usize + 1] += 1;
        }
        for n in 0..nodes {
            offsets[n + 1] += offsets[n];
        }
        let mut next: Vec<u32> = offsets[..nodes].to_vec();
        let mut items = vec![(0u32, 0u32); offsets[nodes] as usize];
        for (edge, (key, neighbour)) in edges.enumerate() {
            let slot = &mut next[key as usize];
            items[*slot as usize] = (neighbour, dense(edge));
            *slot += 1;
        }
        Rows { offsets, items }
    }

    fn of(&self, node: u32) -> &[(u32, u32)] {
        let n = node as usize;
        match (self.offsets.get(n), self.offsets.get(n + 1)) {
            (Some(&start), Some(&end)) => &self.items[start as usize..end as usize],
            _ => &[],
        }
    }
}

/// Which way a search follows the relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    /// From a failing CI to what it affects.
    Downstream,
    /// From a CI to what affects it.
    Upstream,
}

/// The `via` of a search's sources.
const SOURCE: u32 = u32::MAX;

/// A node number for an index that fits (the index never holds more than `u32::MAX - 1` CIs).
fn dense(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(SOURCE)
}

/// How a breadth-first search, or one level of it, ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The stopping condition held for this node.
    Found(u32),
    /// Everything reachable was reached (for one level: the level was expanded).
    Exhausted,
    /// The budget of work ran out first.
    OverBudget,
}

/// The budget of work ran out before a search could answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverBudget;

/// A chain of relationships in the order a failure travels along them, if there is one.
pub(crate) type Chain = Option<Vec<Relation>>;

/// A set of node numbers as one bit per node: 12.5 KB for 100,000 CIs, small enough to stay in
/// the fastest cache while a search checks it for every relationship it follows.
struct Bits(Vec<u64>);

impl Bits {
    /// The empty set of nodes below `nodes`.
    fn new(nodes: usize) -> Self {
        Bits(vec![0; nodes.div_ceil(64)])
    }

    /// Adds `node`; whether it was new.
    fn insert(&mut self, node: u32) -> bool {
        let (word, bit) = (node as usize / 64, 1u64 << (node % 64));
        match self.0.get_mut(word) {
            Some(bits) if *bits & bit == 0 => {
                *bits |= bit;
                true
            }
            _ => false,
        }
    }

    /// Removes `node`.
    fn remove(&mut self, node: u32) {
        if let Some(bits) = self.0.get_mut(node as usize / 64) {
            *bits &= !(1u64 << (node % 64));
        }
    }

    /// Whether `node` is in the set.
    fn contains(&self, node: u32) -> bool {
        self.0.get(node as usize / 64).is_some_and(|bits| bits & (1u64 << (node % 64)) != 0)
    }
}

/// The relationship `edge` between CIs numbered in `cis`.
fn relation_of(cis: &[AssetRef], edge: Edge) -> Relation {
    Relation {
        source: cis[edge.source as usize],
        kind: edge.kind,
        target: cis[edge.target as usize],
    }
}

/// Memory for a series of breadth-first searches over one index, run whole or a level at a time.
///
/// A new search clears only the marks the last one set, so one allocation serves many small
/// searches cheaply; the per-node array starts zeroed, which costs nothing for the parts of the
/// graph a search never touches.
pub(crate) struct Walker<'c> {
    cmdb: &'c Cmdb,
    /// The nodes reached by the current search.
    seen: Bits,
    /// Per reached node: the edge by which it was reached, or [`SOURCE`].
    via: Vec<u32>,
    walk: Walk,
    /// Every node reached, in order: sources, then level by level.
    queue: Vec<u32>,
    /// The next level to expand is `queue[head..level_end]`.
    head: usize,
    level_end: usize,
}

impl<'c> Walker<'c> {
    /// Memory for searching `cmdb`.
    pub(crate) fn new(cmdb: &'c Cmdb) -> Self {
        let n = cmdb.cis.len();
        Walker {
            cmdb,
            seen: Bits::new(n),
            via: vec![0; n],
            walk: Walk::Downstream,
            queue: Vec::new(),
            head: 0,
            level_end: 0,
        }
    }

    /// Starts a new search from `sources` in the direction of `walk`.
    pub(crate) fn start(&mut self, sources: &[u32], walk: Walk) {
        // Forget the last search: clearing only the bits it set costs what it visited.
        for &node in &self.queue {
            self.seen.remove(node);
        }
        self.walk = walk;
        self.queue.clear();
        for &source in sources {
            if (source as usize) < self.via.len() && self.seen.insert(source) {
                self.via[source as usize] = SOURCE;
                self.queue.push(source);
            }
        }
        self.head = 0;
        self.level_end = self.queue.len();
    }

    /// How many nodes the next level expands from.
    pub(crate) fn frontier(&self) -> usize {
        self.level_end - self.head
    }

    /// How many relationships expanding the next level follows.
    fn frontier_work(&self) -> usize {
        let rows = self.rows();
        self.queue[self.head..self.level_end].iter().map(|&node| rows.of(node).len()).sum()
    }

    fn rows(&self) -> &'c Rows {
        let cmdb = self.cmdb;
        match self.walk {
            Walk::Downstream => &cmdb.down,
            Walk::Upstream => &cmdb.up,
        }
    }

    /// Whether the current search has reached `node`.
    pub(crate) fn holds(&self, node: u32) -> bool {
        self.seen.contains(node)
    }

    /// Expands one level. `stop` sees each node as it is first reached and ends the search by
    /// returning `true`; each relationship followed costs one unit of `budget`.
    pub(crate) fn expand(&mut self, budget: &mut usize, mut stop: impl FnMut(u32) -> bool) -> Stop {
        let rows = self.rows();
        while self.head < self.level_end {
            let row = rows.of(self.queue[self.head]);
            self.head += 1;
            if row.len() > *budget {
                *budget = 0;
                return Stop::OverBudget;
            }
            *budget -= row.len();
            for &(next, edge) in row {
                if !self.seen.insert(next) {
                    continue;
                }
                self.via[next as usize] = edge;
                self.queue.push(next);
                if stop(next) {
                    return Stop::Found(next);
                }
            }
        }
        self.level_end = self.queue.len();
        Stop::Exhausted
    }

    /// Searches breadth-first from `sources` in the direction of `walk`, without a budget, until
    /// `stop` (which sees each node as it is first reached, nearest first) returns `true`.
    pub(crate) fn run(
        &mut self,
        sources: &[u32],
        walk: Walk,
        mut stop: impl FnMut(u32) -> bool,
    ) -> Stop {
        self.start(sources, walk);
        let mut budget = usize::MAX;
        while self.frontier() > 0 {
            if let found @ Stop::Found(_) = self.expand(&mut budget, &mut stop) {
                return found;
            }
        }
        Stop::Exhausted
    }

    /// The relationships from a source of the current search to `node`, in the order a failure
    /// travels along them (source first when walking downstream, `node` first when walking
    /// upstream); `None` if the search has not reached `node`.
    pub(crate) fn path(&self, node: u32) -> Chain {
        let mut relations = Vec::new();
        let mut at = node;
        while self.holds(at) {
            let via = self.via[at as usize];
            if via == SOURCE {
                if self.walk == Walk::Downstream {
                    relations.reverse();
                }
                return Some(relations);
            }
            let edge = self.cmdb.edges[via as usize];
            relations.push(self.cmdb.relation(via));
            at = match self.walk {
                Walk::Downstream => edge.upstream(),
                Walk::Upstream => edge.downstream(),
            };
        }
        None
    }
}

/// Two walkers for searching from both ends of a chain at once.
pub(crate) struct Meet<'c> {
    down: Walker<'c>,
    up: Walker<'c>,
}

impl<'c> Meet<'c> {
    /// Memory for searching `cmdb` from both ends.
    pub(crate) fn new(cmdb: &'c Cmdb) -> Self {
        Meet { down: Walker::new(cmdb), up: Walker::new(cmdb) }
    }

    /// The shortest chain by which a failure of one of `from` reaches one of `to`, in the order
    /// the failure travels; `Ok(None)` when there is none.
    ///
    /// The search runs downstream from `from` and upstream from `to` a level at a time, always
    /// widening the side whose next level follows fewer relationships, and ends at the first CI
    /// both have reached: with whole
    /// levels expanded in turn, that first meeting lies on a shortest chain. So it visits little
    /// more than the smaller side of the graph around the two ends: what depends on a core switch
    /// is everything, but what a given laptop depends on is a handful of CIs.
    pub(crate) fn chain(
        &mut self,
        from: &[u32],
        to: &[u32],
        budget: &mut usize,
    ) -> Result<Chain, OverBudget> {
        let Meet { down, up } = self;
        down.start(from, Walk::Downstream);
        up.start(to, Walk::Upstream);
        if to.iter().any(|&node| down.holds(node)) {
            return Ok(Some(Vec::new()));
        }
        loop {
            if down.frontier() == 0 || up.frontier() == 0 {
                return Ok(None);
            }
            let stop = if down.frontier_work() <= up.frontier_work() {
                down.expand(budget, |node| up.holds(node))
            } else {
                up.expand(budget, |node| down.holds(node))
            };
            match stop {
                Stop::Found(meeting) => {
                    let mut chain = down.path(meeting).unwrap_or_default();
                    chain.extend(up.path(meeting).unwrap_or_default());
                    return Ok(Some(chain));
                }
                Stop::OverBudget => return Err(OverBudget),
                Stop::Exhausted => {}
            }
        }
    }
}

impl Cmdb {
    /// Indexes `assets` (disposed ones are left out).
    pub fn new<'a>(assets: impl IntoIterator<Item = &'a Asset>) -> Self {
        let live: Vec<&Asset> =
            assets.into_iter().filter(|asset| asset.status() != Status::Disposed).collect();
        let cis = live.iter().map(|asset| (asset.reference(), asset.class()));
        let relations = live
            .iter()
            .flat_map(|asset| asset.links().map(|link| Relation::new(asset.reference(), *link)));
        Cmdb::from_parts(cis, relations)
    }

    /// Indexes CIs given as reference and class, and relationships between them.
    ///
    /// A CI given twice is indexed once (with its first class); a relationship given twice is
    /// indexed once; a relationship with an end that is not among `cis` goes to [`Cmdb::dangling`].
    pub fn from_parts(
        cis: impl IntoIterator<Item = (AssetRef, Class)>,
        relations: impl IntoIterator<Item = Relation>,
    ) -> Self {
        let mut nodes: Vec<(AssetRef, Class)> = cis.into_iter().collect();
        nodes.sort_by_key(|(reference, _)| *reference);
        nodes.dedup_by_key(|(reference, _)| *reference);
        nodes.truncate(SOURCE as usize - 1);
        let (cis, classes): (Vec<AssetRef>, Vec<Class>) = nodes.into_iter().unzip();
        let mut relations: Vec<Relation> = relations.into_iter().collect();
        relations.sort();
        relations.dedup();
        relations.truncate(SOURCE as usize - 1);
        let mut edges = Vec::with_capacity(relations.len());
        let mut dangling = Vec::new();
        for relation in relations {
            let ends = (cis.binary_search(&relation.source), cis.binary_search(&relation.target));
            match ends {
                (Ok(source), Ok(target)) => edges.push(Edge {
                    source: dense(source),
                    kind: relation.kind,
                    target: dense(target),
                }),
                _ => dangling.push(relation),
            }
        }
        let down = Rows::build(cis.len(), edges.iter().map(|e| (e.upstream(), e.downstream())));
        let up = Rows::build(cis.len(), edges.iter().map(|e| (e.downstream(), e.upstream())));
        let relations = edges.iter().map(|&e| relation_of(&cis, e)).collect();
        Cmdb { cis, classes, edges, relations, down, up, dangling }
    }

    /// How many CIs are indexed.
    pub fn len(&self) -> usize {
        self.cis.len()
    }

    /// Whether no CI is indexed.
    pub fn is_empty(&self) -> bool {
        self.cis.is_empty()
    }

    /// How many relationships are indexed.
    pub fn relation_count(&self) -> usize {
        self.edges.len()
    }

    /// Whether `ci` is indexed.
    pub fn contains(&self, ci: AssetRef) -> bool {
        self.node(ci).is_some()
    }

    /// The class of `ci`, if indexed.
    pub fn class(&self, ci: AssetRef) -> Option<Class> {
        self.node(ci).map(|node| self.classes[node as usize])
    }

    /// Relationships that name a CI not in the index (unknown or disposed).
    pub fn dangling(&self) -> &[Relation] {
        &self.dangling
    }

    /// Every CI a failure of `origin` affects, directly or through others.
    ///
    /// Each is listed once, nearest first, with the relationship through which the failure
    /// reached it on a shortest chain. `origin` itself is not listed, even on a cycle. Time and
    /// memory are linear in the number of CIs and relationships.
    pub fn impact(&self, origin: AssetRef) -> Result<Impact, Error> {
        let start = self.node(origin).ok_or(Error::NotInCmdb { ci: origin })?;
        let mut seen = Bits::new(self.cis.len());
        seen.insert(start);
        // The search's queue: the origin, then `affected[i]`'s node at `order[i + 1]`.
        let mut order = vec![start];
        let mut affected: Vec<Affected> = Vec::new();
        let mut head = 0;
        while let Some(&node) = order.get(head) {
            let parent = head.checked_sub(1);
            let depth = parent.and_then(|p| affected.get(p)).map_or(0, |p| p.depth) + 1;
            for &(next, edge) in self.down.of(node) {
                if seen.insert(next) {
                    order.push(next);
                    affected.push(Affected {
                        ci: self.cis[next as usize],
                        class: self.classes[next as usize],
                        depth,
                        via: self.relation(edge),
                        parent,
                    });
                }
            }
            head += 1;
        }
        Ok(Impact { origin, affected })
    }

    /// The shortest chain of relationships by which a failure of `a` affects `b`, or a failure
    /// of `b` affects `a`; `None` when neither affects the other.
    ///
    /// When both hold, the shorter chain wins, and `a` affecting `b` on a tie. For `a == b` the
    /// chain is empty. Unknown CIs are related to nothing.
    pub fn relation_path(&self, a: AssetRef, b: AssetRef) -> Option<RelationPath> {
        let (from, to) = (self.node(a)?, self.node(b)?);
        if from == to {
            return Some(RelationPath { direction: Direction::Affects, relations: Vec::new() });
        }
        let mut meet = Meet::new(self);
        let mut budget = usize::MAX;
        let affects = meet.chain(&[from], &[to], &mut budget).ok().flatten();
        let affected_by = meet.chain(&[to], &[from], &mut budget).ok().flatten();
        RelationPath::shorter(affects, affected_by)
    }

    /// The node number of `ci`.
    pub(crate) fn node(&self, ci: AssetRef) -> Option<u32> {
        self.cis.binary_search(&ci).ok().map(dense)
    }

    fn relation(&self, edge: u32) -> Relation {
        self.relations[edge as usize]
    }
}

/// One CI affected by a failure.
///
/// JSON shape: `{"ci": "AST-000031", "class": "service", "depth": 2,
/// "via": {"source": "AST-000020", "kind": "used_by", "target": "AST-000031"}, "parent": 0}`.
/// `via` is the last relationship on a shortest chain from the failing CI; `parent` is the index
/// in [`Impact::affected`] of the CI upstream of `via`, or `null` when that is the failing CI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// The affected CI.
    pub ci: AssetRef,
    /// Its class.
    pub class: Class,
    /// How many relationships away from the failing CI it is (1: directly).
    pub depth: u32,
    /// The relationship through which the failure reaches it.
    pub via: Relation,
    /// The index of the CI upstream of `via` in the same list, or `None` for the failing CI.
    pub parent: Option<usize>,
}

/// The result of an impact analysis: everything a failing CI affects, nearest first.
///
/// JSON shape: `{"origin": "AST-000010", "affected": [Affected, …]}`. The list is a tree: follow
/// `parent` from any entry to rebuild its chain ([`Impact::path`] does this).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// The failing CI.
    pub origin: AssetRef,
    /// Every affected CI, nearest first.
    pub affected: Vec<Affected>,
}

impl Impact {
    /// The chain of relationships from the failing CI to `affected[index]`, in the order the
    /// failure travels (empty for an index out of range).
    pub fn path(&self, index: usize) -> Vec<Relation> {
        let mut relations = Vec::new();
        let mut at = self.affected.get(index);
        while let Some(entry) = at {
            relations.push(entry.via);
            at = entry.parent.and_then(|parent| self.affected.get(parent));
            if relations.len() > self.affected.len() {
                break;
            }
        }
        relations.reverse();
        relations
    }

    /// The chain to `ci`, if it is affected.
    pub fn path_to(&self, ci: AssetRef) -> Option<Vec<Relation>> {
        self.affected.iter().position(|entry| entry.ci == ci).map(|index| self.path(index))
    }

    /// The affected services.
    pub fn services(&self) -> impl Iterator<Item = &Affected> {
        self.affected.iter().filter(|entry| entry.class == Class::Service)
    }
}

/// Which way a failure travels between two related CIs `a` and `b`.
///
/// JSON shape: `"affects"` (a failure of `a` affects `b`) or `"affected_by"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A failure of the first CI affects the second.
    Affects,
    /// A failure of the second CI affects the first.
    AffectedBy,
}

/// How two CIs are related: the direction and the shortest chain of relationships.
///
/// JSON shape: `{"direction": "affects", "relations": [Relation, …]}`; the relations are in the
/// order the failure travels, from the upstream CI to the downstream one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationPath {
    /// Which way the failure travels.
    pub direction: Direction,
    /// The chain, upstream CI first.
    pub relations: Vec<Relation>,
}

impl RelationPath {
    /// The shorter of two chains found walking downstream and upstream; downstream on a tie.
    pub(crate) fn shorter(
        affects: Option<Vec<Relation>>,
        affected_by: Option<Vec<Relation>>,
    ) -> Option<RelationPath> {
        match (affects, affected_by) {
            (Some(down), Some(up)) if up.len() < down.len() => {
                Some(RelationPath { direction: Direction::AffectedBy, relations: up })
            }
            (Some(down), _) => {
                Some(RelationPath { direction: Direction::Affects, relations: down })
            }
            (None, Some(up)) => {
                Some(RelationPath { direction: Direction::AffectedBy, relations: up })
            }
            (None, None) => None,
        }
    }
}

/// Random graphs and a brute-force reachability, shared by the property tests of impact
/// analysis and change collision detection.
#[cfg(test)]
pub(crate) mod brute {
    use proptest::prelude::*;

    use super::*;

    /// Where a distance is infinite.
    pub(crate) const FAR: usize = usize::MAX;

    /// A random CMDB on CIs `AST-1..=n` (cycles and self-relations included) and its relations.
    pub(crate) fn graphs() -> impl Strategy<Value = (usize, Vec<Relation>)> {
        (1..12usize).prop_flat_map(|n| {
            let relation = (1..=n as u32, 0..4usize, 1..=n as u32).prop_map(|(s, k, t)| Relation {
                source: AssetRef::from_number(s).unwrap(),
                kind: Relationship::ALL[k],
                target: AssetRef::from_number(t).unwrap(),
            });
            (Just(n), proptest::collection::vec(relation, 0..4 * n))
        })
    }

    /// The index of those CIs and relations; every CI is a server.
    pub(crate) fn index(n: usize, relations: &[Relation]) -> Cmdb {
        let cis = (1..=n as u32).map(|i| (AssetRef::from_number(i).unwrap(), Class::Server));
        Cmdb::from_parts(cis, relations.iter().copied())
    }

    /// `far[a][b]`: the fewest relations by which a failure of `AST-a` reaches `AST-b` (1-based,
    /// by Floyd–Warshall, with the direction table written out again independently).
    pub(crate) fn distances(n: usize, relations: &[Relation]) -> Vec<Vec<usize>> {
        let mut far = vec![vec![FAR; n + 1]; n + 1];
        for (i, row) in far.iter_mut().enumerate() {
            row[i] = 0;
        }
        for relation in relations {
            let (s, t) =
                (relation.source.number().get() as usize, relation.target.number().get() as usize);
            let (from, to) = if relation.kind == Relationship::UsedBy { (s, t) } else { (t, s) };
            far[from][to] = far[from][to].min(1);
        }
        for k in 1..=n {
            for i in 1..=n {
                for j in 1..=n {
                    if far[i][k] != FAR && far[k][j] != FAR {
                        far[i][j] = far[i][j].min(far[i][k] + far[k][j]);
                    }
                }
            }
        }
        far
    }

    /// Asserts that `chain` is made of `relations`, each link's downstream end being the next
    /// one's upstream end, from `from` to `to`.
    pub(crate) fn assert_chain(
        chain: &[Relation],
        relations: &[Relation],
        from: AssetRef,
        to: AssetRef,
    ) {
        assert!(
            chain.iter().all(|link| relations.contains(link)),
            "{chain:?} uses unknown relations"
        );
        assert_eq!(chain.first().map(Relation::upstream), Some(from), "{chain:?}");
        assert_eq!(chain.last().map(Relation::downstream), Some(to), "{chain:?}");
        for pair in chain.windows(2) {
            assert_eq!(pair[0].downstream(), pair[1].upstream(), "{chain:?} is broken");
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::brute::{FAR, assert_chain, distances, graphs, index};
    use super::*;

    fn ast(n: u32) -> AssetRef {
        AssetRef::from_number(n).unwrap()
    }

    fn rel(source: u32, kind: Relationship, target: u32) -> Relation {
        Relation { source: ast(source), kind, target: ast(target) }
    }

    /// Core switch 1; floor switch 2 connected to it; server 3 connected to 2; application 4
    /// runs on 3 and is used by service 5; service 6 depends on service 5; 6 used_by 4 closes a
    /// cycle; printer 7 connected to 2.
    fn council() -> Cmdb {
        use Relationship::*;
        let cis = [
            (1, Class::NetworkDevice),
            (2, Class::NetworkDevice),
            (3, Class::Server),
            (4, Class::Software),
            (5, Class::Service),
            (6, Class::Service),
            (7, Class::Printer),
        ];
        Cmdb::from_parts(
            cis.map(|(n, class)| (ast(n), class)),
            [
                rel(2, ConnectedTo, 1),
                rel(3, ConnectedTo, 2),
                rel(4, RunsOn, 3),
                rel(4, UsedBy, 5),
                rel(6, DependsOn, 5),
                rel(6, UsedBy, 4),
                rel(7, ConnectedTo, 2),
                rel(7, ConnectedTo, 99),
            ],
        )
    }

    #[test]
    fn given_a_server_failing_then_its_application_and_services_are_affected_with_the_chain() {
        let impact = council().impact(ast(3)).unwrap();
        let affected: Vec<(AssetRef, u32)> =
            impact.affected.iter().map(|a| (a.ci, a.depth)).collect();
        assert_eq!(affected, [(ast(4), 1), (ast(5), 2), (ast(6), 3)]);
        assert_eq!(
            impact.path_to(ast(6)).unwrap(),
            [
                rel(4, Relationship::RunsOn, 3),
                rel(4, Relationship::UsedBy, 5),
                rel(6, Relationship::DependsOn, 5)
            ]
        );
        assert_eq!(impact.services().count(), 2);
    }

    #[test]
    fn given_a_cycle_then_the_search_ends_and_lists_each_ci_once() {
        let impact = council().impact(ast(4)).unwrap();
        let cis: Vec<AssetRef> = impact.affected.iter().map(|a| a.ci).collect();
        assert_eq!(cis, [ast(5), ast(6)], "4 → 5 → 6 → 4 is a cycle; 4 itself is not listed");
    }

    #[test]
    fn given_the_core_switch_failing_then_everything_behind_it_is_affected() {
        let impact = council().impact(ast(1)).unwrap();
        assert_eq!(impact.affected.len(), 6);
        assert!(council().impact(ast(7)).unwrap().affected.is_empty(), "a printer affects nothing");
        assert_eq!(council().impact(ast(50)), Err(Error::NotInCmdb { ci: ast(50) }));
    }

    #[test]
    fn relation_paths_go_either_way_and_prefer_the_shorter() {
        let cmdb = council();
        let path = cmdb.relation_path(ast(2), ast(4)).unwrap();
        assert_eq!(path.direction, Direction::Affects);
        assert_eq!(path.relations.len(), 2);
        let back = cmdb.relation_path(ast(5), ast(1)).unwrap();
        assert_eq!(back.direction, Direction::AffectedBy);
        assert_eq!(back.relations.first().map(Relation::upstream), Some(ast(1)));
        assert_eq!(back.relations.last().map(Relation::downstream), Some(ast(5)));
        assert_eq!(
            cmdb.relation_path(ast(7), ast(3)),
            None,
            "siblings on a switch are not related"
        );
    }

    #[test]
    fn given_assets_then_the_index_leaves_disposed_ones_out() {
        use crate::asset::{Command, Link, Status};
        use crate::config::DeskConfig;
        use crate::record::{Actor, Aggregate, Context};
        let config = DeskConfig::empty();
        let ctx = Context::new(chrono::DateTime::UNIX_EPOCH, &Actor::System, &config);
        let register = |n: u32, status, links: Vec<Link>| {
            let command = Command::Register {
                reference: ast(n),
                name: format!("CI {n}"),
                attributes: Class::Server.blank(),
                status,
                deployment: None,
                links,
            };
            Asset::execute(None, command, ctx).unwrap().0
        };
        let runs_on = |n| vec![Link { kind: Relationship::RunsOn, target: ast(n) }];
        let assets = [
            register(1, Status::InStock, vec![]),
            register(2, Status::Retired, runs_on(1)),
            register(3, Status::Disposed, runs_on(1)),
        ];
        let cmdb = Cmdb::new(&assets);
        assert!(cmdb.contains(ast(2)) && !cmdb.contains(ast(3)));
        assert_eq!(cmdb.class(ast(1)), Some(Class::Server));
        let affected: Vec<AssetRef> =
            cmdb.impact(ast(1)).unwrap().affected.iter().map(|a| a.ci).collect();
        assert_eq!(affected, [ast(2)]);
    }

    #[test]
    fn dangling_relationships_are_kept_aside() {
        let cmdb = council();
        assert_eq!(cmdb.dangling(), [rel(7, Relationship::ConnectedTo, 99)]);
        assert_eq!((cmdb.len(), cmdb.relation_count()), (7, 7));
    }

    #[test]
    fn impact_serialises_as_a_tree() {
        let impact = council().impact(ast(3)).unwrap();
        let json = serde_json::to_value(&impact).unwrap();
        assert_eq!(json["origin"], "AST-000003");
        assert_eq!(json["affected"][1]["via"]["kind"], "used_by");
        assert_eq!(json["affected"][1]["parent"], 0);
        assert_eq!(serde_json::from_value::<Impact>(json).unwrap(), impact);
    }

    proptest! {
        #[test]
        fn impact_equals_brute_force_reachability_with_shortest_valid_chains(
            (n, relations) in graphs(),
            origin in 1..12u32,
        ) {
            let origin = origin.min(n as u32);
            let cmdb = index(n, &relations);
            let far = distances(n, &relations);
            let impact = cmdb.impact(AssetRef::from_number(origin).unwrap()).unwrap();
            let mut found: Vec<u32> = impact.affected.iter().map(|a| a.ci.number().get()).collect();
            found.sort_unstable();
            let expected: Vec<u32> = (1..=n as u32)
                .filter(|&v| v != origin && far[origin as usize][v as usize] != FAR)
                .collect();
            prop_assert_eq!(found, expected);
            for (i, affected) in impact.affected.iter().enumerate() {
                let path = impact.path(i);
                let distance = far[origin as usize][affected.ci.number().get() as usize];
                prop_assert_eq!(path.len(), distance);
                prop_assert_eq!(affected.depth as usize, distance);
                assert_chain(&path, &relations, impact.origin, affected.ci);
            }
        }

        #[test]
        fn relation_paths_equal_brute_force_in_both_directions(
            (n, relations) in graphs(),
            a in 1..12u32,
            b in 1..12u32,
        ) {
            let (a, b) = (a.min(n as u32), b.min(n as u32));
            let (ra, rb) = (AssetRef::from_number(a).unwrap(), AssetRef::from_number(b).unwrap());
            let far = distances(n, &relations);
            let (down, up) = (far[a as usize][b as usize], far[b as usize][a as usize]);
            match index(n, &relations).relation_path(ra, rb) {
                None => prop_assert!(down == FAR && up == FAR),
                Some(path) if path.direction == Direction::AffectedBy => {
                    prop_assert!(up < down);
                    prop_assert_eq!(path.relations.len(), up);
                    assert_chain(&path.relations, &relations, rb, ra);
                }
                Some(path) if a == b => prop_assert!(path.relations.is_empty()),
                Some(path) => {
                    prop_assert!(down <= up);
                    prop_assert_eq!(path.relations.len(), down);
                    assert_chain(&path.relations, &relations, ra, rb);
                }
            }
        }
    }
}
