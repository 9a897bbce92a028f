//! Folding events into an incident. No rules live here: only bookkeeping.

use std::collections::BTreeSet;

use super::{Assignment, Event, Incident, Resolution, Status};
use crate::id::RecordId;
use crate::record::{Aggregate, Context, EventInfo, ReplayError, Timestamp};
use crate::sla::{Mark, Passed};

impl Aggregate for Incident {
    const NOUN: &'static str = "incident";
    type Command = super::Command;
    type Event = Event;
    type Error = super::Error;

    fn id(&self) -> RecordId {
        self.reference.into()
    }

    fn decide(
        state: Option<&Self>,
        command: Self::Command,
        ctx: Context<'_>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        super::decide::decide(state, command, ctx)
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let mut incident = match (state, event) {
            (None, Event::Logged(logged)) => {
                return Ok(Incident {
                    reference: logged.reference,
                    title: logged.title.clone(),
                    description: logged.description.clone(),
                    channel: logged.channel,
                    requester: logged.requester.clone(),
                    logged_by: logged.logged_by.clone(),
                    logged_at: at,
                    category: logged.category.clone(),
                    affected_ci: logged.affected_ci,
                    assessment: logged.assessment,
                    major: false,
                    status: Status::New,
                    hold_reason: None,
                    assignment: None,
                    reassignments: 0,
                    escalation: Default::default(),
                    ever_escalated: false,
                    ever_on_hold: false,
                    resolution: None,
                    closed_at: None,
                    reopened: 0,
                    parent: None,
                    children: BTreeSet::new(),
                    duplicates: BTreeSet::new(),
                    merged_into: None,
                    public_updates: 0,
                    work_notes: 0,
                    tags: BTreeSet::new(),
                    sla_marks: BTreeSet::new(),
                    updated_at: at,
                });
            }
            (None, other) => {
                return Err(ReplayError::NotCreated { noun: Self::NOUN, event: other.name() });
            }
            (Some(incident), Event::Logged(_)) => {
                return Err(ReplayError::AlreadyCreated {
                    reference: incident.reference.to_string(),
                    event: event.name(),
                });
            }
            (Some(incident), _) => incident,
        };
        incident.updated_at = at;
        match event {
            Event::Logged(_) => {}
            Event::Assigned { to, from } => {
                if from.is_some() && moved(from.as_ref(), to) {
                    incident.reassignments += 1;
                }
                assign(&mut incident, to.clone());
            }
            Event::Routed { to, from, tags, .. } => {
                if let Some(to) = to {
                    if from.is_some() && moved(from.as_ref(), to) {
                        incident.reassignments += 1;
                    }
                    assign(&mut incident, to.clone());
                }
                incident.tags.extend(tags.iter().cloned());
            }
            Event::WorkStarted { agent } => {
                let Some(assignment) = incident.assignment.as_mut() else {
                    return Err(inconsistent(
                        &incident,
                        event,
                        "work started on an unassigned incident",
                    ));
                };
                let handed_over = assignment.agent.as_ref().is_some_and(|a| a != agent);
                assignment.agent = Some(agent.clone());
                if handed_over {
                    incident.reassignments += 1;
                }
                incident.status = Status::InProgress;
            }
            Event::PutOnHold { reason, .. } => {
                incident.status = Status::OnHold;
                incident.hold_reason = Some(*reason);
                incident.ever_on_hold = true;
            }
            Event::Resumed { .. } => {
                incident.status = Status::InProgress;
                incident.hold_reason = None;
            }
            Event::Resolved { code, notes, first_contact, by_parent } => {
                incident.status = Status::Resolved;
                incident.hold_reason = None;
                incident.resolution = Some(Resolution {
                    code: code.clone(),
                    notes: notes.clone(),
                    at,
                    first_contact: *first_contact,
                    by_parent: *by_parent,
                });
            }
            Event::Closed => {
                incident.status = Status::Closed;
                incident.closed_at = Some(at);
            }
            Event::Reopened { .. } => {
                incident.status =
                    if incident.assignment.is_some() { Status::Assigned } else { Status::New };
                incident.resolution = None;
                incident.closed_at = None;
                incident.reopened += 1;
            }
            Event::Cancelled { .. } => {
                incident.status = Status::Cancelled;
                incident.hold_reason = None;
            }
            Event::EscalatedFunctionally { to, .. } | Event::DeEscalatedFunctionally { to, .. } => {
                incident.reassignments += 1;
                incident.ever_escalated |= matches!(event, Event::EscalatedFunctionally { .. });
                assign(&mut incident, to.clone());
            }
            Event::EscalatedHierarchically { level, .. } => {
                incident.escalation = *level;
                incident.ever_escalated = true;
            }
            Event::DeEscalatedHierarchically { level, .. } => incident.escalation = *level,
            Event::Reprioritised { to, .. } => incident.assessment = *to,
            Event::MajorDeclared { .. } => incident.major = true,
            Event::MajorStoodDown { .. } => incident.major = false,
            Event::Recategorised { to, .. } => incident.category = Some(to.clone()),
            Event::AffectedCiChanged { to, .. } => incident.affected_ci = *to,
            Event::CustomerUpdated { .. } => incident.public_updates += 1,
            Event::WorkNoteAdded { .. } => incident.work_notes += 1,
            Event::ParentLinked { parent } => incident.parent = Some(*parent),
            Event::ParentUnlinked { .. } => incident.parent = None,
            Event::ChildAdopted { child } => {
                incident.children.insert(*child);
            }
            Event::ChildReleased { child } => {
                incident.children.remove(child);
            }
            Event::MergedInto { target } => {
                incident.status = Status::Merged;
                incident.hold_reason = None;
                incident.merged_into = Some(*target);
            }
            Event::DuplicateAbsorbed { duplicate } => {
                incident.duplicates.insert(*duplicate);
            }
            Event::SlaWarningPassed { clock, cycle, threshold, .. } => {
                incident.sla_marks.insert(Mark {
                    clock: clock.clone(),
                    cycle: *cycle,
                    passed: Passed::Warning(*threshold),
                });
            }
            Event::SlaBreached { clock, cycle, .. } => {
                incident.sla_marks.insert(Mark {
                    clock: clock.clone(),
                    cycle: *cycle,
                    passed: Passed::Breach,
                });
            }
        }
        Ok(incident)
    }
}

/// Whether moving from `from` to `to` hands the incident to someone else.
fn moved(from: Option<&Assignment>, to: &Assignment) -> bool {
    from.is_some_and(|from| {
        from.team != to.team || (from.agent.is_some() && from.agent != to.agent)
    })
}

fn assign(incident: &mut Incident, to: Assignment) {
    incident.assignment = Some(to);
    incident.status = Status::Assigned;
    incident.hold_reason = None;
}

fn inconsistent(incident: &Incident, event: &Event, reason: &str) -> ReplayError {
    ReplayError::Inconsistent {
        reference: incident.reference.to_string(),
        event: event.name(),
        reason: reason.to_owned(),
    }
}
