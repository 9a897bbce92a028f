//! Incidents through the desk: opening (with reference allocation, the requester's VIP kind,
//! routing and SLA), commands with their parent/child cascades, and reads.

use desk_core::channel::Channel;
use desk_core::id::{AssetRef, CategoryId, ClockId, IncidentRef, PersonId, RecordId, RecordKind};
use desk_core::incident::{
    self, AssignTo, Command, Event, Incident, NewIncident, ResolveAtContact, Status,
};
use desk_core::people::Requester;
use desk_core::priority::{Impact, Urgency};
use desk_core::record::{Actor, Recorded};
use desk_core::sla;
use desk_core::{DeskConfig, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Levels, Projection, RecordType};
use crate::desk::{
    Claim, Desk, Loaded, MAX_CLAIMS, Outcome, Versioned, Work, check_expected, claims_lost, typed,
};
use crate::error::Error;
use crate::outbox::{Audience, Notice, To, Topic};
use crate::routing::RoutingContext;
use crate::store::{RowKind, SlaRow};

/// A new incident, as an agent (or the portal, or monitoring) reports it to [`Desk::open_incident`].
///
/// The desk adds the reference, the requester's VIP kind (from their record) and the routing.
///
/// JSON shape: the fields below; `description`, `category`, `affected_ci`, `assign` and
/// `resolve` may be omitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIncident {
    /// One-line summary.
    pub title: String,
    /// The fault as reported.
    #[serde(default)]
    pub description: String,
    /// How it was reported.
    pub channel: Channel,
    /// Who it is for.
    pub requester: PersonId,
    /// Its category (routing uses it).
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// The configuration item or service affected.
    #[serde(default)]
    pub affected_ci: Option<AssetRef>,
    /// How widely it is felt (1 = most).
    pub impact: Impact,
    /// How soon it hurts (1 = most).
    pub urgency: Urgency,
    /// Assign it straight away instead of routing it.
    #[serde(default)]
    pub assign: Option<AssignTo>,
    /// Resolve it straight away (fixed at first contact).
    #[serde(default)]
    pub resolve: Option<ResolveAtContact>,
}

impl OpenIncident {
    /// An incident with just the required facts; set the other fields with struct update syntax.
    pub fn new(
        title: impl Into<String>,
        requester: PersonId,
        channel: Channel,
        impact: Impact,
        urgency: Urgency,
    ) -> Self {
        OpenIncident {
            title: title.into(),
            description: String::new(),
            channel,
            requester,
            category: None,
            affected_ci: None,
            impact,
            urgency,
            assign: None,
            resolve: None,
        }
    }
}

impl Desk {
    /// Opens an incident: looks up the requester's VIP kind, logs it under the next
    /// reference, asks the router where it goes (unless `new` assigns or resolves it),
    /// evaluates its SLA clocks and commits it with its notifications, claiming the reference
    /// in the same commit (another writer that took it first makes it try the next one).
    ///
    /// A router that fails or decides something the incident refuses is logged as a warning and
    /// the incident is left unassigned: a broken rule never loses a report.
    pub async fn open_incident(
        &self,
        actor: &Actor,
        new: OpenIncident,
    ) -> Result<Outcome<Incident>, Error> {
        // The desk's first reference of a kind asks the store for the last one, a read that
        // does not depend on the requester's record: ask for both at once (later references
        // come from what the desk has seen).
        let requester_id = RecordId::Requester(new.requester.clone());
        let (next, requester) = tokio::join!(
            self.next_reference(RecordKind::Incident),
            self.load::<Requester>(&requester_id)
        );
        let (_, requester) = (next?, requester?);
        let vip = requester.state.as_ref().and_then(Requester::vip);
        let contact = requester.state.as_ref().map(|record| record.profile().contact.clone());
        let kind = RecordKind::Incident;
        for _ in 0..MAX_CLAIMS {
            let reference = self.next_reference(kind).await?;
            let mut work = Work::<Incident>::new(self.now());
            if let Some(contact) = &contact {
                work.contacts.insert(new.requester.clone(), Some(contact.clone()));
            }
            let command = Command::Log(Box::new(NewIncident {
                reference: typed(reference)?,
                title: new.title.clone(),
                description: new.description.clone(),
                channel: new.channel,
                requester: new.requester.clone(),
                requester_vip: vip,
                category: new.category.clone(),
                affected_ci: new.affected_ci,
                impact: new.impact,
                urgency: new.urgency,
                assign: new.assign.clone(),
                resolve: new.resolve.clone(),
            }));
            work.records.push(Loaded::fresh(RecordId::Ref(reference)));
            self.run(&mut work, 0, command, actor)?;
            if work.records[0].state.as_ref().is_some_and(|i| i.status == Status::New) {
                self.route_in(&mut work).await;
            }
            if self.commit_claiming(&mut work, reference).await? == Claim::Won {
                let outcome = work.outcome(0)?;
                tracing::info!(reference = %outcome.record.reference, team = ?outcome.record.team(), "incident opened");
                return Ok(outcome);
            }
        }
        Err(claims_lost(kind))
    }

    /// Asks the router again about an open incident (after it was recategorised, say) and
    /// records its decision. Unlike at opening, a failing router is an error here.
    pub async fn route_incident(
        &self,
        reference: IncidentRef,
        expected: Option<u64>,
    ) -> Result<Outcome<Incident>, Error> {
        let mut work = Work::<Incident>::new(self.now());
        let loaded = self.load::<Incident>(&reference.into()).await?;
        check_expected(&loaded, expected)?;
        let Some(incident) = loaded.state.clone() else {
            return Err(Error::NotFound(reference.into()));
        };
        work.records.push(loaded);
        let context = RoutingContext::new(work.now, self.config());
        if let Some(decision) = self.router().route(&incident, &context).await? {
            let rule = Actor::Rule(decision.rule.clone());
            self.run(&mut work, 0, Command::Route(Box::new(decision)), &rule)?;
        }
        self.commit(&mut work).await?;
        work.outcome(0)
    }

    /// Routes the incident just logged in `work`; failures are warnings.
    async fn route_in(&self, work: &mut Work<Incident>) {
        let Some(incident) = work.records[0].state.clone() else { return };
        let context = RoutingContext::new(work.now, self.config());
        let decision = match self.router().route(&incident, &context).await {
            Ok(Some(decision)) => decision,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(reference = %incident.reference, %error, "routing failed; the incident stays unassigned");
                return;
            }
        };
        let rule = Actor::Rule(decision.rule.clone());
        let before = work.records[0].clone();
        if let Err(error) = self.run(work, 0, Command::Route(Box::new(decision)), &rule) {
            work.records[0] = before;
            tracing::warn!(reference = %incident.reference, %error, "routing decision refused; the incident stays unassigned");
        }
    }

    /// The incident called `reference`, with its version.
    pub async fn incident(&self, reference: IncidentRef) -> Result<Versioned<Incident>, Error> {
        self.read(&reference.into()).await
    }

    /// The incident's SLA clocks as they stand now: state, elapsed, remaining, due, warnings
    /// passed and breaches. Empty when the desk has no SLA policy.
    pub async fn incident_clocks(&self, reference: IncidentRef) -> Result<Vec<sla::Clock>, Error> {
        let Some(policy) = self.sla_policy() else { return Ok(Vec::new()) };
        let history = self.incident_history(reference).await?;
        Ok(sla::evaluate(&history, policy, self.calendars(), self.now())?)
    }

    /// Why one of the incident's clocks stands where it does: its counted and paused intervals,
    /// each with the event that began it. Refused when the desk has no SLA policy or the policy
    /// has no clock called `clock`.
    pub async fn explain_incident_clock(
        &self,
        reference: IncidentRef,
        clock: &ClockId,
    ) -> Result<sla::Explanation, Error> {
        let policy = self
            .sla_policy()
            .ok_or_else(|| Error::Invalid("this desk has no SLA policy".to_owned()))?;
        let history = self.incident_history(reference).await?;
        Ok(sla::explain(&history, policy, self.calendars(), clock, self.now())?)
    }

    /// The recorded events of an incident, refused as not found when there are none.
    async fn incident_history(
        &self,
        reference: IncidentRef,
    ) -> Result<Vec<Recorded<Event>>, Error> {
        let id = RecordId::from(reference);
        let loaded = self.load::<Incident>(&id).await?;
        if loaded.state.is_none() {
            return Err(Error::NotFound(id));
        }
        Ok(loaded.history)
    }

    /// Runs `command` on an incident. Links and merges are checked against the other incident;
    /// the cascades the core asks for (a parent's resolution and public updates reaching its
    /// children, a child adopted by its parent, a duplicate absorbed by its target) are
    /// recorded in the same commit.
    pub async fn execute_incident(
        &self,
        actor: &Actor,
        reference: IncidentRef,
        command: Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Incident>, Error> {
        self.perform(actor, &reference.into(), command, expected).await
    }
}

impl RecordType for Incident {
    const KIND: RowKind = RowKind::Incident;

    fn refusal(error: incident::Error) -> Error {
        Error::Incident(error)
    }

    fn related(state: Option<&Self>, command: &Command) -> Vec<RecordId> {
        let mut related: Vec<RecordId> = state
            .map(|incident| incident.children.iter().map(|child| (*child).into()).collect())
            .unwrap_or_default();
        match command {
            Command::LinkParent { parent } | Command::UnlinkParent { parent } => {
                related.push((*parent).into())
            }
            Command::MergeInto { target } => related.push((*target).into()),
            _ => {}
        }
        related
    }

    fn check_related<'a>(
        state: Option<&Self>,
        command: &Command,
        other: impl Fn(&RecordId) -> Option<&'a Self>,
    ) -> Result<(), Error>
    where
        Self: 'a,
    {
        let Some(incident) = state else { return Ok(()) };
        let find = |reference: IncidentRef| {
            other(&reference.into()).ok_or_else(|| Error::NotFound(reference.into()))
        };
        match command {
            Command::LinkParent { parent } => incident::check_link(incident, find(*parent)?)?,
            Command::UnlinkParent { parent } => incident::check_unlink(incident, find(*parent)?)?,
            Command::MergeInto { target } => incident::check_merge(incident, find(*target)?)?,
            _ => {}
        }
        Ok(())
    }

    fn project(&self, _history: &[Recorded<Event>], _config: &DeskConfig) -> Projection {
        let finished =
            self.status.is_terminal().then_some(self.closed_at.unwrap_or(self.updated_at));
        Projection {
            status: self.status.as_str().to_owned(),
            open: self.status.is_open(),
            title: self.title.clone(),
            body: self.description.clone(),
            team: self.team().cloned(),
            tier: self.tier(),
            agent: self.agent().cloned(),
            priority: Some(self.priority()),
            requester: Some(self.requester.clone()),
            cis: self.affected_ci.into_iter().collect(),
            closed_at: finished,
        }
    }

    fn mentions(event: &Event) -> Vec<PersonId> {
        let agents = |assignments: &[Option<&incident::Assignment>]| {
            assignments.iter().flatten().filter_map(|a| a.agent.clone()).collect()
        };
        match event {
            Event::Logged(logged) => {
                let mut people = vec![logged.requester.clone()];
                people.extend(logged.logged_by.person().cloned());
                people
            }
            Event::Assigned { to, from } | Event::Routed { to: Some(to), from, .. } => {
                agents(&[Some(to), from.as_ref()])
            }
            Event::EscalatedFunctionally { to, from, .. }
            | Event::DeEscalatedFunctionally { to, from, .. } => agents(&[Some(to), Some(from)]),
            Event::WorkStarted { agent } => vec![agent.clone()],
            Event::EscalatedHierarchically { contact, .. } => contact.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn notices(&self, new: &[Recorded<Event>], config: &DeskConfig) -> Vec<Notice> {
        let requester = || To::Person(self.requester.clone());
        let mut notices = Vec::new();
        for recorded in new {
            let notice = |topic, to, audience, text: Option<&str>| {
                Notice::about(recorded, topic, to, audience, text)
            };
            match &recorded.event {
                Event::Logged(_) => {
                    notices.push(notice(Topic::IncidentLogged, requester(), Audience::Public, None))
                }
                Event::Assigned { to, .. } | Event::Routed { to: Some(to), .. } => {
                    let text = match &recorded.event {
                        Event::Routed { explanation, .. } => Some(explanation.as_str()),
                        _ => None,
                    };
                    notices.extend(assignment_notices(&notice, to, text));
                }
                Event::EscalatedFunctionally { to, reason, .. }
                | Event::DeEscalatedFunctionally { to, reason, .. } => {
                    notices.extend(assignment_notices(&notice, to, Some(reason)));
                }
                Event::CustomerUpdated { text, .. } => notices.push(notice(
                    Topic::IncidentUpdated,
                    requester(),
                    Audience::Public,
                    Some(text),
                )),
                Event::Resolved { notes, .. } => notices.push(notice(
                    Topic::IncidentResolved,
                    requester(),
                    Audience::Public,
                    Some(notes),
                )),
                Event::MajorDeclared { reason } => {
                    if let Some(manager) = &config.desk.manager {
                        notices.push(notice(
                            Topic::MajorDeclared,
                            To::Person(manager.clone()),
                            Audience::Staff,
                            Some(reason),
                        ));
                    }
                }
                Event::EscalatedHierarchically { contact: Some(contact), reason, .. } => notices
                    .push(notice(
                        Topic::IncidentEscalated,
                        To::Person(contact.clone()),
                        Audience::Staff,
                        Some(reason),
                    )),
                _ => {}
            }
        }
        notices
    }

    fn follow_ups(&self, events: &[Event]) -> Vec<(RecordId, Command)> {
        incident::follow_ups(self, events)
            .into_iter()
            .map(|follow_up| (follow_up.target.into(), follow_up.command))
            .collect()
    }

    fn timer_commands(
        &self,
        history: &[Recorded<Event>],
        levels: Levels<'_>,
        now: Timestamp,
    ) -> Result<Vec<Command>, Error> {
        let Some(policy) = levels.policy.filter(|_| !self.status.is_terminal()) else {
            return Ok(Vec::new());
        };
        let clocks = sla::evaluate(history, policy, levels.calendars, now)?;
        Ok(clocks.iter().flat_map(sla::Clock::unrecorded).collect())
    }

    fn sla(
        &self,
        history: &[Recorded<Event>],
        levels: Levels<'_>,
        now: Timestamp,
    ) -> Result<(SlaRow, Option<Timestamp>), Error> {
        let Some(policy) = levels.policy else { return Ok((SlaRow::default(), None)) };
        let clocks = sla::evaluate(history, policy, levels.calendars, now)?;
        let summary = sla::Summary::of(&clocks);
        let row = SlaRow {
            due_at: summary.earliest_due,
            warning_at: summary.first_warning_at,
            warned: summary.warned,
            breached_at: summary.first_breach_at,
        };
        // A finished incident takes no marks: its timers are off.
        let wake_at = if self.status.is_terminal() { None } else { wake_at(&clocks) };
        Ok((row, wake_at))
    }
}

/// When the timers must next look at an incident: at once when a warning or breach has passed
/// and is not yet recorded (it passed between two commands), else when the next one passes.
fn wake_at(clocks: &[sla::Clock]) -> Option<Timestamp> {
    let unrecorded = clocks.iter().filter_map(sla::Clock::first_unrecorded).min();
    unrecorded.or_else(|| sla::next_wake(clocks))
}

/// The notices of an assignment: the team, and the agent when one is named.
fn assignment_notices(
    notice: &impl Fn(Topic, To, Audience, Option<&str>) -> Notice,
    to: &incident::Assignment,
    text: Option<&str>,
) -> Vec<Notice> {
    let mut notices =
        vec![notice(Topic::IncidentAssigned, To::Team(to.team.clone()), Audience::Staff, text)];
    if let Some(agent) = &to.agent {
        notices.push(notice(
            Topic::IncidentAssigned,
            To::Person(agent.clone()),
            Audience::Staff,
            text,
        ));
    }
    notices
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn logged() -> Incident {
        let config = DeskConfig::example();
        let actor = Actor::Agent("a.patel".parse().unwrap_or_else(|_| unreachable!()));
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().unwrap_or_default();
        let new = NewIncident {
            reference: IncidentRef::from_number(1).unwrap_or_else(|| unreachable!()),
            title: "Printer jams".into(),
            description: String::new(),
            channel: Channel::Phone,
            requester: "k.lee".parse().unwrap_or_else(|_| unreachable!()),
            requester_vip: None,
            category: None,
            affected_ci: None,
            impact: Impact::level(3).unwrap_or_else(|| unreachable!()),
            urgency: Urgency::level(3).unwrap_or_else(|| unreachable!()),
            assign: None,
            resolve: None,
        };
        let ctx = desk_core::Context::new(now, &actor, &config);
        match <Incident as desk_core::Aggregate>::execute(None, Command::Log(Box::new(new)), ctx) {
            Ok((incident, _)) => incident,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn internal_events_never_notify_the_requester() {
        let incident = logged();
        let recorded = |seq, event| Recorded {
            record: incident.reference.into(),
            seq,
            at: incident.logged_at,
            actor: Actor::System,
            event,
        };
        let events = vec![
            recorded(2, Event::WorkNoteAdded { text: "password is hunter2".into() }),
            recorded(3, Event::CustomerUpdated { text: "On our way".into(), from_parent: None }),
        ];
        let notices = incident.notices(&events, &DeskConfig::example());
        assert_eq!(notices.len(), 1);
        assert_eq!((notices[0].seq, notices[0].topic), (3, Topic::IncidentUpdated));
        assert!(notices.iter().all(|n| n.text.as_deref() != Some("password is hunter2")));
    }
}
