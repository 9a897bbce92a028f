//! Rules between two incidents: parent/child links, merges, and what one incident's events
//! require of another.

use serde::{Deserialize, Serialize};

use super::{Command, Error, Event, Incident};
use crate::id::IncidentRef;

/// A command that must follow on another incident because of events on this one.
///
/// JSON shape: `{"target": "INC-000123", "command": {"type": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// The incident to act on.
    pub target: IncidentRef,
    /// What to do to it (run as the desk, [`crate::record::Actor::System`]).
    pub command: Command,
}

/// What the events just recorded on `incident` require of other incidents.
///
/// `incident` is the state *after* the events. A linked child is adopted by its parent; an
/// unlinked one released; a merged duplicate is absorbed by its target; a parent's resolution
/// resolves its open children; a parent's customer-visible update reaches its children.
/// Follow-up commands are idempotent: running one twice records nothing the second time.
pub fn follow_ups(incident: &Incident, events: &[Event]) -> Vec<FollowUp> {
    let this = incident.reference;
    let mut out = Vec::new();
    for event in events {
        match event {
            Event::ParentLinked { parent } => {
                out.push(FollowUp { target: *parent, command: Command::AdoptChild { child: this } })
            }
            Event::ParentUnlinked { parent } => out
                .push(FollowUp { target: *parent, command: Command::ReleaseChild { child: this } }),
            Event::MergedInto { target } => out.push(FollowUp {
                target: *target,
                command: Command::AbsorbDuplicate { duplicate: this },
            }),
            Event::Resolved { code, notes, by_parent: None, .. } => {
                out.extend(incident.children.iter().map(|child| FollowUp {
                    target: *child,
                    command: Command::ResolveWithParent {
                        parent: this,
                        code: code.clone(),
                        notes: notes.clone(),
                    },
                }));
            }
            Event::CustomerUpdated { text, from_parent: None } => {
                out.extend(incident.children.iter().map(|child| FollowUp {
                    target: *child,
                    command: Command::RelayParentUpdate { parent: this, text: text.clone() },
                }));
            }
            _ => {}
        }
    }
    out
}

/// Checks that `child` may become a child of `parent`, looking at both.
///
/// Both must be open; links are one level deep (a parent has no parent, a child no children);
/// a child has one parent.
pub fn check_link(child: &Incident, parent: &Incident) -> Result<(), Error> {
    if child.reference == parent.reference {
        return Err(Error::SelfReference(child.reference));
    }
    if !parent.status.is_open() {
        return Err(Error::OtherNotOpen { reference: parent.reference, state: parent.status });
    }
    if let Some(current) = child.parent {
        return Err(Error::AlreadyChild { child: child.reference, parent: current });
    }
    if !child.children.is_empty() {
        return Err(Error::Nesting(child.reference));
    }
    if parent.parent.is_some() {
        return Err(Error::Nesting(parent.reference));
    }
    Ok(())
}

/// Checks that `child` may stop being a child of `parent`: the parent must still take changes.
pub fn check_unlink(child: &Incident, parent: &Incident) -> Result<(), Error> {
    if child.parent != Some(parent.reference) {
        return Err(Error::NotChild { child: child.reference, parent: parent.reference });
    }
    if parent.status.is_terminal() {
        return Err(Error::OtherNotOpen { reference: parent.reference, state: parent.status });
    }
    Ok(())
}

/// Checks that `duplicate` may be merged into `target`.
///
/// The target must be open and not itself merged; a duplicate with children cannot be merged.
pub fn check_merge(duplicate: &Incident, target: &Incident) -> Result<(), Error> {
    if duplicate.reference == target.reference {
        return Err(Error::SelfReference(duplicate.reference));
    }
    if !target.status.is_open() {
        return Err(Error::OtherNotOpen { reference: target.reference, state: target.status });
    }
    if !duplicate.children.is_empty() {
        return Err(Error::HasChildren(duplicate.reference));
    }
    Ok(())
}

impl crate::links::NamesCis for Incident {
    fn ticket(&self) -> crate::id::Reference {
        self.reference.reference()
    }

    fn named_cis(&self) -> std::collections::BTreeSet<crate::id::AssetRef> {
        self.affected_ci.into_iter().collect()
    }
}

impl Incident {
    /// A digest for recurring-issue detection and knowledge coverage; `problem` is the problem
    /// it is linked to, which the problem records (see [`crate::problem::Problem`]).
    pub fn digest(&self, problem: Option<crate::id::ProblemRef>) -> crate::problem::IncidentDigest {
        crate::problem::IncidentDigest {
            reference: self.reference,
            logged_at: self.logged_at,
            category: self.category.clone(),
            ci: self.affected_ci,
            problem,
        }
    }
}
