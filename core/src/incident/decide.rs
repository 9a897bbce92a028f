//! Every rule an incident follows.

use chrono::Duration;

use super::{
    AssignTo, Assignment, Command, Error, Escalation, EscalationLevel, Event, Incident, Logged,
    NewIncident, RoutingDecision, Status,
};
use crate::config::DeskConfig;
use crate::id::{CategoryId, PersonId, ResolutionCode};
use crate::record::{Actor, Aggregate, CommandName, Context, Timestamp, Visibility};
use crate::sla::{Mark, Passed};
use crate::tier::Tier;

const TITLE_MAX: usize = 200;
const TEXT_MAX: usize = 20_000;
const RULE_MAX: usize = 64;

pub(super) fn decide(
    state: Option<&Incident>,
    command: Command,
    ctx: Context<'_>,
) -> Result<Vec<Event>, Error> {
    let name = command.name();
    let Some(incident) = state else {
        return match command {
            Command::Log(new) => log(*new, ctx),
            _ => Err(Error::NotLogged { command: name }),
        };
    };
    let reference = incident.reference;
    let status = incident.status;
    let refuse = || Error::InvalidTransition { reference, state: status, command: name };
    let require = |allowed: bool| if allowed { Ok(()) } else { Err(refuse()) };
    // Open, or resolved but not yet closed: the record can still be corrected and commented on.
    let live = status.is_open() || status == Status::Resolved;

    match command {
        Command::Log(_) => Err(Error::AlreadyLogged(reference)),
        Command::Assign(to) => {
            require(status.is_open())?;
            let to = assignment(to, ctx.config)?;
            if incident.assignment.as_ref() == Some(&to) && status == Status::Assigned {
                return Err(Error::Unchanged { reference, what: "assignment" });
            }
            Ok(vec![Event::Assigned { to, from: incident.assignment.clone() }])
        }
        Command::Route(decision) => {
            require(status.is_open())?;
            route(incident, *decision, ctx)
        }
        Command::Start { agent } => {
            require(status == Status::Assigned)?;
            let agent = match (agent, ctx.actor) {
                (Some(agent), _) => agent,
                (None, Actor::Agent(actor)) => actor.clone(),
                (None, _) => return Err(Error::AgentRequired(reference)),
            };
            Ok(vec![Event::WorkStarted { agent }])
        }
        Command::PutOnHold { reason, note } => {
            require(status == Status::InProgress)?;
            Ok(vec![Event::PutOnHold { reason, note: text("note", note)? }])
        }
        Command::Resume { note } => {
            require(status == Status::OnHold)?;
            Ok(vec![Event::Resumed { note: optional_text("note", note)? }])
        }
        Command::Resolve { code, notes } => {
            require(status.is_open())?;
            resolve(incident, code, notes, ctx)
        }
        Command::ResolveWithParent { parent, code, notes } => {
            if incident.parent != Some(parent) {
                return Err(Error::NotChild { child: reference, parent });
            }
            if !status.is_open() {
                // Already resolved (or finished) on its own: nothing to do.
                return Ok(Vec::new());
            }
            let notes = format!("Resolved with parent incident {parent}: {notes}");
            Ok(vec![Event::Resolved { code, notes, first_contact: false, by_parent: Some(parent) }])
        }
        Command::Close => {
            require(status == Status::Resolved)?;
            Ok(vec![Event::Closed])
        }
        Command::Reopen { reason } => {
            require(matches!(status, Status::Resolved | Status::Closed))?;
            if status == Status::Closed {
                let days = ctx.config.desk.reopen_window_days;
                let resolved_at = incident.resolved_at().unwrap_or(incident.updated_at);
                if ctx.now - resolved_at > Duration::days(i64::from(days)) {
                    return Err(Error::ReopenWindowPassed { reference, days });
                }
            }
            Ok(vec![Event::Reopened { reason: text("reason", reason)? }])
        }
        Command::Cancel { reason } => {
            require(status.is_open())?;
            if !incident.children.is_empty() {
                return Err(Error::HasChildren(reference));
            }
            Ok(vec![Event::Cancelled { reason: text("reason", reason)? }])
        }
        Command::Escalate(Escalation::Functional { team, agent, reason }) => {
            require(status.is_open())?;
            functional(incident, AssignTo { team, agent }, reason, Direction::Up, ctx.config)
        }
        Command::DeEscalate(Escalation::Functional { team, agent, reason }) => {
            require(status.is_open())?;
            functional(incident, AssignTo { team, agent }, reason, Direction::Down, ctx.config)
        }
        Command::Escalate(Escalation::Hierarchical { reason }) => {
            require(status.is_open())?;
            let level = incident.escalation.up().ok_or(Error::AtTopOfEscalation(reference))?;
            let contact = escalation_contact(incident, level, ctx.config);
            let reason = text("reason", reason)?;
            Ok(vec![Event::EscalatedHierarchically { level, contact, reason }])
        }
        Command::DeEscalate(Escalation::Hierarchical { reason }) => {
            require(status.is_open())?;
            let level = incident.escalation.down().ok_or(Error::NotEscalated(reference))?;
            Ok(vec![Event::DeEscalatedHierarchically { level, reason: text("reason", reason)? }])
        }
        Command::Reprioritise { impact, urgency, reason } => {
            require(status.is_open())?;
            let from = incident.assessment;
            if (from.impact, from.urgency) == (impact, urgency) {
                return Err(Error::Unchanged { reference, what: "impact and urgency" });
            }
            let to = ctx.config.priority.assess(impact, urgency, from.vip)?;
            Ok(vec![Event::Reprioritised { from, to, reason: text("reason", reason)? }])
        }
        Command::DeclareMajor { reason } => {
            require(status.is_open())?;
            if incident.major {
                return Err(Error::MajorUnchanged { reference, major: true });
            }
            let reason = text("reason", reason)?;
            let mut events = vec![Event::MajorDeclared { reason: reason.clone() }];
            if incident.escalation < EscalationLevel::Manager {
                events.push(Event::EscalatedHierarchically {
                    level: EscalationLevel::Manager,
                    contact: ctx.config.desk.manager.clone(),
                    reason: format!("major incident declared: {reason}"),
                });
            }
            Ok(events)
        }
        Command::StandDownMajor { reason } => {
            require(status.is_open())?;
            if !incident.major {
                return Err(Error::MajorUnchanged { reference, major: false });
            }
            Ok(vec![Event::MajorStoodDown { reason: text("reason", reason)? }])
        }
        Command::Recategorise { category } => {
            require(live)?;
            known_category(&category, ctx.config)?;
            if incident.category.as_ref() == Some(&category) {
                return Err(Error::Unchanged { reference, what: "category" });
            }
            Ok(vec![Event::Recategorised { from: incident.category.clone(), to: category }])
        }
        Command::SetAffectedCi { ci } => {
            require(live)?;
            if incident.affected_ci == ci {
                return Err(Error::Unchanged { reference, what: "affected configuration item" });
            }
            Ok(vec![Event::AffectedCiChanged { from: incident.affected_ci, to: ci }])
        }
        Command::AddUpdate { visibility, text: body } => {
            require(live)?;
            let body = text("update", body)?;
            match visibility {
                Visibility::Public => {
                    Ok(vec![Event::CustomerUpdated { text: body, from_parent: None }])
                }
                Visibility::Internal if matches!(ctx.actor, Actor::Requester(_)) => {
                    Err(Error::RequesterWorkNote)
                }
                Visibility::Internal => Ok(vec![Event::WorkNoteAdded { text: body }]),
            }
        }
        Command::RelayParentUpdate { parent, text: body } => {
            if incident.parent != Some(parent) {
                return Err(Error::NotChild { child: reference, parent });
            }
            if !live {
                return Ok(Vec::new());
            }
            Ok(vec![Event::CustomerUpdated {
                text: text("update", body)?,
                from_parent: Some(parent),
            }])
        }
        Command::LinkParent { parent } => {
            require(status.is_open())?;
            if parent == reference {
                return Err(Error::SelfReference(reference));
            }
            if let Some(current) = incident.parent {
                return Err(Error::AlreadyChild { child: reference, parent: current });
            }
            if !incident.children.is_empty() {
                return Err(Error::Nesting(reference));
            }
            Ok(vec![Event::ParentLinked { parent }])
        }
        Command::UnlinkParent { parent } => {
            require(live)?;
            if incident.parent != Some(parent) {
                return Err(Error::NotChild { child: reference, parent });
            }
            Ok(vec![Event::ParentUnlinked { parent }])
        }
        Command::AdoptChild { child } => {
            require(status.is_open())?;
            if child == reference {
                return Err(Error::SelfReference(reference));
            }
            if incident.parent.is_some() {
                return Err(Error::Nesting(reference));
            }
            if incident.children.contains(&child) {
                return Ok(Vec::new());
            }
            Ok(vec![Event::ChildAdopted { child }])
        }
        Command::ReleaseChild { child } => {
            require(live)?;
            if !incident.children.contains(&child) {
                return Ok(Vec::new());
            }
            Ok(vec![Event::ChildReleased { child }])
        }
        Command::MergeInto { target } => {
            require(status.is_open())?;
            if target == reference {
                return Err(Error::SelfReference(reference));
            }
            if !incident.children.is_empty() {
                return Err(Error::HasChildren(reference));
            }
            Ok(vec![Event::MergedInto { target }])
        }
        Command::AbsorbDuplicate { duplicate } => {
            require(status.is_open())?;
            if duplicate == reference {
                return Err(Error::SelfReference(reference));
            }
            if incident.duplicates.contains(&duplicate) {
                return Ok(Vec::new());
            }
            Ok(vec![Event::DuplicateAbsorbed { duplicate }])
        }
        Command::RecordSlaWarning { clock, cycle, threshold, at } => {
            require(!status.is_terminal())?;
            let mark = Mark { clock, cycle, passed: Passed::Warning(threshold) };
            if !new_sla_mark(incident, &mark, at, ctx)? {
                return Ok(Vec::new());
            }
            Ok(vec![Event::SlaWarningPassed { clock: mark.clock, cycle, threshold, at }])
        }
        Command::RecordSlaBreach { clock, cycle, at } => {
            require(!status.is_terminal())?;
            let mark = Mark { clock, cycle, passed: Passed::Breach };
            if !new_sla_mark(incident, &mark, at, ctx)? {
                return Ok(Vec::new());
            }
            Ok(vec![Event::SlaBreached { clock: mark.clock, cycle, at }])
        }
    }
}

fn route(
    incident: &Incident,
    decision: RoutingDecision,
    ctx: Context<'_>,
) -> Result<Vec<Event>, Error> {
    let RoutingDecision { rule, team, agent, impact, urgency, tags, note, explanation, trace } =
        decision;
    let reference = incident.reference;
    let rule = text("rule name", rule)?;
    if rule.chars().count() > RULE_MAX {
        return Err(Error::TooLong { field: "rule name", max: RULE_MAX });
    }
    let to = match (team, agent) {
        (None, Some(_)) => return Err(Error::AgentWithoutTeam(reference)),
        (None, None) => None,
        (Some(team), agent) => {
            let current = incident.assignment.as_ref();
            let moved = current.is_none_or(|current| {
                current.team != team || (agent.is_some() && current.agent != agent)
            });
            if moved { Some(assignment(AssignTo { team, agent }, ctx.config)?) } else { None }
        }
    };
    let mut added = std::collections::BTreeSet::new();
    for tag in tags {
        let tag = text("tag", tag)?.to_lowercase();
        if tag.chars().count() > RULE_MAX {
            return Err(Error::TooLong { field: "tag", max: RULE_MAX });
        }
        if !incident.tags.contains(&tag) {
            added.insert(tag);
        }
    }
    let explanation = optional_text("explanation", explanation)?;
    if trace.iter().map(|line| line.chars().count()).sum::<usize>() > TEXT_MAX {
        return Err(Error::TooLong { field: "trace", max: TEXT_MAX });
    }
    let from = incident.assignment.clone().filter(|_| to.is_some());
    let mut events = vec![Event::Routed {
        rule: rule.clone(),
        to,
        from,
        tags: added,
        explanation: explanation.clone(),
        trace,
    }];
    let current = incident.assessment;
    let (impact, urgency) = (impact.unwrap_or(current.impact), urgency.unwrap_or(current.urgency));
    if (impact, urgency) != (current.impact, current.urgency) {
        let to = ctx.config.priority.assess(impact, urgency, current.vip)?;
        let reason = if explanation.is_empty() {
            format!("routing rule {rule}")
        } else {
            format!("routing rule {rule}: {explanation}")
        };
        events.push(Event::Reprioritised { from: current, to, reason });
    }
    if let Some(note) = note.map(|note| optional_text("note", note)).transpose()?
        && !note.is_empty()
    {
        events.push(Event::WorkNoteAdded { text: note });
    }
    Ok(events)
}

/// Whether `mark`, passed `at`, is yet to be recorded; refuses a mark from the future or from a
/// cycle that cannot exist.
fn new_sla_mark(
    incident: &Incident,
    mark: &Mark,
    at: Timestamp,
    ctx: Context<'_>,
) -> Result<bool, Error> {
    let refuse = |reason| Error::SlaMark {
        reference: incident.reference,
        clock: mark.clock.clone(),
        reason,
    };
    if mark.cycle == 0 {
        return Err(refuse("cycles count from 1"));
    }
    if at > ctx.now {
        return Err(refuse("it has not passed yet"));
    }
    Ok(!incident.sla_marks.contains(mark))
}

fn log(new: NewIncident, ctx: Context<'_>) -> Result<Vec<Event>, Error> {
    let NewIncident {
        reference,
        title,
        description,
        channel,
        requester,
        requester_vip,
        category,
        affected_ci,
        impact,
        urgency,
        assign,
        resolve: resolution,
    } = new;
    let title = text("title", title)?;
    if title.chars().count() > TITLE_MAX {
        return Err(Error::TooLong { field: "title", max: TITLE_MAX });
    }
    let description = optional_text("description", description)?;
    if let Some(category) = &category {
        known_category(category, ctx.config)?;
    }
    let assessment = ctx.config.priority.assess(impact, urgency, requester_vip)?;
    let mut events = vec![Event::Logged(Box::new(Logged {
        reference,
        title,
        description,
        channel,
        requester,
        logged_by: ctx.actor.clone(),
        category,
        affected_ci,
        assessment,
    }))];
    if let Some(to) = assign {
        events.push(Event::Assigned { to: assignment(to, ctx.config)?, from: None });
    }
    if let Some(resolution) = resolution {
        let logged = Incident::replay(events.iter().map(|event| (ctx.now, event)))
            .map_err(|_| Error::NotLogged { command: "log" })?
            .ok_or(Error::NotLogged { command: "log" })?;
        events.extend(resolve(&logged, resolution.code, resolution.notes, ctx)?);
    }
    Ok(events)
}

fn resolve(
    incident: &Incident,
    code: ResolutionCode,
    notes: String,
    ctx: Context<'_>,
) -> Result<Vec<Event>, Error> {
    if !ctx.config.is_resolution_code(&code) {
        return Err(Error::UnknownResolutionCode(code));
    }
    let notes = text("resolution notes", notes)?;
    let first_contact = is_first_contact(incident, ctx);
    Ok(vec![Event::Resolved { code, notes, first_contact, by_parent: None }])
}

/// Resolved by the agent who logged it, at 1st line, within the contact, with no detours.
fn is_first_contact(incident: &Incident, ctx: Context<'_>) -> bool {
    let Actor::Agent(agent) = ctx.actor else { return false };
    let window = Duration::minutes(i64::from(ctx.config.desk.first_contact_window_minutes));
    incident.logged_by == *ctx.actor
        && incident.reassignments == 0
        && incident.reopened == 0
        && !incident.ever_escalated
        && !incident.ever_on_hold
        && incident.assignment.as_ref().is_some_and(|a| {
            a.tier == Tier::FirstLine && a.agent.as_ref().is_none_or(|assigned| assigned == agent)
        })
        && ctx.now - incident.logged_at <= window
}

/// Which way a functional move goes.
#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

/// Moves an assigned incident to a team of a higher (up) or lower (down) tier.
fn functional(
    incident: &Incident,
    to: AssignTo,
    reason: String,
    direction: Direction,
    config: &DeskConfig,
) -> Result<Vec<Event>, Error> {
    let reference = incident.reference;
    let from = incident.assignment.clone().ok_or(Error::NotAssigned(reference))?;
    let to = assignment(to, config)?;
    let reason = text("reason", reason)?;
    match direction {
        Direction::Up if to.tier > from.tier => {
            Ok(vec![Event::EscalatedFunctionally { to, from, reason }])
        }
        Direction::Down if to.tier < from.tier => {
            Ok(vec![Event::DeEscalatedFunctionally { to, from, reason }])
        }
        Direction::Up => {
            Err(Error::NotHigherTier { reference, from: from.tier, team: to.team, to: to.tier })
        }
        Direction::Down => {
            Err(Error::NotLowerTier { reference, from: from.tier, team: to.team, to: to.tier })
        }
    }
}

fn assignment(to: AssignTo, config: &DeskConfig) -> Result<Assignment, Error> {
    let team = config.team(&to.team).ok_or_else(|| Error::UnknownTeam(to.team.clone()))?;
    Ok(Assignment { tier: team.tier, team: to.team, agent: to.agent })
}

fn known_category(category: &CategoryId, config: &DeskConfig) -> Result<(), Error> {
    match config.category(category) {
        Some(_) => Ok(()),
        None => Err(Error::UnknownCategory(category.clone())),
    }
}

fn escalation_contact(
    incident: &Incident,
    level: EscalationLevel,
    config: &DeskConfig,
) -> Option<PersonId> {
    let lead = || incident.team().and_then(|team| config.team(team)).and_then(|t| t.lead.clone());
    match level {
        EscalationLevel::None => None,
        EscalationLevel::TeamLead => lead().or_else(|| config.desk.manager.clone()),
        EscalationLevel::Manager => config.desk.manager.clone(),
    }
}

/// A required text: trimmed, not empty, not huge.
fn text(field: &'static str, value: String) -> Result<String, Error> {
    let value = optional_text(field, value)?;
    if value.is_empty() { Err(Error::EmptyText(field)) } else { Ok(value) }
}

/// An optional text: trimmed, not huge.
fn optional_text(field: &'static str, value: String) -> Result<String, Error> {
    let trimmed = value.trim();
    if trimmed.chars().count() > TEXT_MAX {
        return Err(Error::TooLong { field, max: TEXT_MAX });
    }
    Ok(if trimmed.len() == value.len() { value } else { trimmed.to_owned() })
}
