//! The ticket↔CI link index: which tickets name a configuration item, and which CIs a ticket names.
//!
//! Incidents, problems and changes each name the CIs they concern ([`NamesCis`]). The index is a
//! pure projection of those (ticket, CI set) pairs kept in both directions, so that "what is
//! open against this switch?" ([`LinkIndex::tickets_for`]) and "what does this change touch?"
//! ([`LinkIndex::cis_for`]) are both lookups. It is updated incrementally: when a ticket's CI set
//! changes, [`LinkIndex::set`] replaces that ticket's entry and reports the [`Diff`].
//!
//! Invariant: the two directions always agree — a CI lists a ticket exactly when the ticket
//! lists the CI — and no ticket or CI is kept with an empty set.
//!
//! JSON shape: an object from ticket to its sorted CIs, `{"INC-000123": ["AST-004711"],
//! "CHG-000310": ["AST-000001", "AST-004711"]}`; the CI direction is rebuilt when read.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::id::{AssetRef, RecordKind, Reference};

/// A ticket that names configuration items.
pub trait NamesCis {
    /// The ticket's reference.
    fn ticket(&self) -> Reference;
    /// The CIs it names now.
    fn named_cis(&self) -> BTreeSet<AssetRef>;
}

/// How a ticket's CI set changed.
///
/// JSON shape: `{"added": ["AST-000002"], "removed": []}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// CIs the ticket names now and did not before.
    pub added: BTreeSet<AssetRef>,
    /// CIs the ticket named before and does not now.
    pub removed: BTreeSet<AssetRef>,
}

impl Diff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Tickets by CI and CIs by ticket (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkIndex {
    by_ticket: BTreeMap<Reference, BTreeSet<AssetRef>>,
    by_ci: BTreeMap<AssetRef, BTreeSet<Reference>>,
}

impl LinkIndex {
    /// An empty index.
    pub fn new() -> Self {
        LinkIndex::default()
    }

    /// Makes `cis` the CI set of `ticket` (an empty set removes the ticket) and says what changed.
    pub fn set(&mut self, ticket: Reference, cis: impl IntoIterator<Item = AssetRef>) -> Diff {
        let new: BTreeSet<AssetRef> = cis.into_iter().collect();
        let old = self.by_ticket.remove(&ticket).unwrap_or_default();
        let diff = Diff {
            added: new.difference(&old).copied().collect(),
            removed: old.difference(&new).copied().collect(),
        };
        for ci in &diff.removed {
            if let Some(tickets) = self.by_ci.get_mut(ci) {
                tickets.remove(&ticket);
                if tickets.is_empty() {
                    self.by_ci.remove(ci);
                }
            }
        }
        for ci in &diff.added {
            self.by_ci.entry(*ci).or_default().insert(ticket);
        }
        if !new.is_empty() {
            self.by_ticket.insert(ticket, new);
        }
        diff
    }

    /// Brings `record`'s entry up to date.
    pub fn update(&mut self, record: &impl NamesCis) -> Diff {
        self.set(record.ticket(), record.named_cis())
    }

    /// Forgets `ticket` (it was deleted or anonymised away).
    pub fn remove(&mut self, ticket: Reference) -> Diff {
        self.set(ticket, [])
    }

    /// The tickets naming `ci`, in reference order (incidents, then problems, then changes).
    pub fn tickets_for(&self, ci: AssetRef) -> impl Iterator<Item = Reference> + '_ {
        self.by_ci.get(&ci).into_iter().flatten().copied()
    }

    /// The tickets of `kind` naming `ci`, e.g. the changes touching a CI.
    pub fn tickets_of_kind_for(
        &self,
        ci: AssetRef,
        kind: RecordKind,
    ) -> impl Iterator<Item = Reference> + '_ {
        let range = Reference::new(kind, NonZeroU32::MIN)..=Reference::new(kind, NonZeroU32::MAX);
        self.by_ci
            .get(&ci)
            .into_iter()
            .flat_map(move |tickets| tickets.range(range.clone()))
            .copied()
    }

    /// The CIs `ticket` names, in reference order.
    pub fn cis_for(&self, ticket: Reference) -> impl Iterator<Item = AssetRef> + '_ {
        self.by_ticket.get(&ticket).into_iter().flatten().copied()
    }

    /// Every ticket that names at least one CI.
    pub fn tickets(&self) -> impl Iterator<Item = Reference> + '_ {
        self.by_ticket.keys().copied()
    }

    /// Every CI named by at least one ticket.
    pub fn cis(&self) -> impl Iterator<Item = AssetRef> + '_ {
        self.by_ci.keys().copied()
    }
}

impl<C: IntoIterator<Item = AssetRef>> FromIterator<(Reference, C)> for LinkIndex {
    /// The index of these (ticket, CIs) pairs; a ticket listed twice keeps its last set.
    fn from_iter<I: IntoIterator<Item = (Reference, C)>>(pairs: I) -> Self {
        let mut index = LinkIndex::new();
        for (ticket, cis) in pairs {
            index.set(ticket, cis);
        }
        index
    }
}

impl Serialize for LinkIndex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.by_ticket.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for LinkIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let by_ticket = BTreeMap::<Reference, BTreeSet<AssetRef>>::deserialize(deserializer)?;
        Ok(by_ticket.into_iter().collect())
    }
}

/// A link command that does not fit the links a record has. Every record with link commands
/// (problems, articles, …) refuses with this, wrapped in its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The link exists already.
    #[error("{linked} is already linked to {record}")]
    AlreadyLinked {
        /// The record asked to link.
        record: Reference,
        /// What it was asked to link.
        linked: Reference,
    },
    /// The link does not exist.
    #[error("{linked} is not linked to {record}")]
    NotLinked {
        /// The record asked to unlink.
        record: Reference,
        /// What it was asked to unlink.
        linked: Reference,
    },
}

/// Whether a record's link command adds or removes a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Linkage {
    /// Adds a link; refused when it exists.
    Link,
    /// Removes a link; refused when it does not exist.
    Unlink,
}

impl Linkage {
    /// Checks that this change fits `record`'s `set`: linking needs `item` absent, unlinking
    /// needs it present.
    pub(crate) fn check<T: Ord + Copy + Into<Reference>>(
        self,
        record: impl Into<Reference>,
        set: &BTreeSet<T>,
        item: T,
    ) -> Result<(), LinkError> {
        let (record, linked) = (record.into(), item.into());
        match (self, set.contains(&item)) {
            (Linkage::Link, true) => Err(LinkError::AlreadyLinked { record, linked }),
            (Linkage::Unlink, false) => Err(LinkError::NotLinked { record, linked }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::id::{ChangeRef, IncidentRef, ProblemRef};

    fn ci(n: u32) -> AssetRef {
        AssetRef::from_number(n).unwrap()
    }

    fn incident(n: u32) -> Reference {
        IncidentRef::from_number(n).unwrap().reference()
    }

    #[test]
    fn a_ticket_found_from_its_ci_and_back() {
        // given an incident and a change naming the core switch
        let mut index = LinkIndex::new();
        let change = ChangeRef::from_number(310).unwrap().reference();
        index.set(incident(1), [ci(7)]);
        index.set(change, [ci(7), ci(8)]);
        // then both directions answer, and a kind filter narrows the tickets
        assert_eq!(index.tickets_for(ci(7)).collect::<Vec<_>>(), [incident(1), change]);
        assert_eq!(
            index.tickets_of_kind_for(ci(7), RecordKind::Change).collect::<Vec<_>>(),
            [change]
        );
        assert_eq!(index.cis_for(change).collect::<Vec<_>>(), [ci(7), ci(8)]);
        assert_eq!(index.tickets_for(ci(99)).count(), 0);
    }

    #[test]
    fn changing_a_ticket_reports_the_difference_and_drops_empty_entries() {
        let mut index = LinkIndex::new();
        index.set(incident(1), [ci(1), ci(2)]);
        // when the incident moves from CI 1 to CI 3
        let diff = index.set(incident(1), [ci(2), ci(3)]);
        // then the difference is reported and CI 1 no longer appears
        assert_eq!(diff.added, BTreeSet::from([ci(3)]));
        assert_eq!(diff.removed, BTreeSet::from([ci(1)]));
        assert_eq!(index.cis().collect::<Vec<_>>(), [ci(2), ci(3)]);
        assert!(index.set(incident(1), [ci(3), ci(2)]).is_empty());
        index.remove(incident(1));
        assert_eq!(index, LinkIndex::new());
    }

    #[test]
    fn the_json_shape_is_ticket_to_cis() {
        let index: LinkIndex = [(incident(123), vec![ci(4711)])].into_iter().collect();
        let json = serde_json::to_value(&index).unwrap();
        assert_eq!(json, serde_json::json!({"INC-000123": ["AST-004711"]}));
    }

    #[derive(Debug, Clone)]
    enum Step {
        Set(Reference, BTreeSet<AssetRef>),
        Remove(Reference),
    }

    fn ticket() -> impl Strategy<Value = Reference> {
        (0u8..3, 1u32..6).prop_map(|(kind, n)| match kind {
            0 => IncidentRef::from_number(n).unwrap().reference(),
            1 => ProblemRef::from_number(n).unwrap().reference(),
            _ => ChangeRef::from_number(n).unwrap().reference(),
        })
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        let cis = prop::collection::btree_set((1u32..8).prop_map(ci), 0..4);
        let step = prop_oneof![
            4 => (ticket(), cis).prop_map(|(t, c)| Step::Set(t, c)),
            1 => ticket().prop_map(Step::Remove),
        ];
        prop::collection::vec(step, 0..40)
    }

    proptest! {
        #[test]
        fn both_directions_agree_with_a_rebuilt_index(steps in steps()) {
            let mut index = LinkIndex::new();
            let mut model: BTreeMap<Reference, BTreeSet<AssetRef>> = BTreeMap::new();
            for step in steps {
                let (ticket, cis) = match step {
                    Step::Set(ticket, cis) => (ticket, cis),
                    Step::Remove(ticket) => (ticket, BTreeSet::new()),
                };
                let before = model.get(&ticket).cloned().unwrap_or_default();
                let diff = index.set(ticket, cis.clone());
                prop_assert_eq!(&diff.added, &cis.difference(&before).copied().collect());
                prop_assert_eq!(&diff.removed, &before.difference(&cis).copied().collect());
                model.insert(ticket, cis);

                // Each direction agrees with the model and with the other direction.
                for (ticket, cis) in &model {
                    prop_assert_eq!(&index.cis_for(*ticket).collect::<BTreeSet<_>>(), cis);
                }
                for ci in index.cis() {
                    let expected: BTreeSet<Reference> =
                        model.iter().filter(|(_, cis)| cis.contains(&ci)).map(|(t, _)| *t).collect();
                    prop_assert!(!expected.is_empty());
                    prop_assert_eq!(index.tickets_for(ci).collect::<BTreeSet<_>>(), expected);
                }
                // Incremental updates equal a rebuild from scratch, and survive JSON.
                let rebuilt: LinkIndex = model.clone().into_iter().collect();
                prop_assert_eq!(&index, &rebuilt);
                let json = serde_json::to_string(&index).unwrap();
                prop_assert_eq!(&serde_json::from_str::<LinkIndex>(&json).unwrap(), &index);
            }
        }
    }
}
