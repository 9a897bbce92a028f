//! `desk-benches`: criterion benchmarks for the desk's performance targets, and the fixtures
//! they share. Run them with `cargo bench -p desk-benches`; each benchmark file in
//! `benches/benches/` opens with the targets it measures.
//!
//! - `calendar`: due instants and elapsed business time on the shipped calendars. Targets: a
//!   due instant for 4 and for 4,000 business hours on core hours with England & Wales holidays
//!   in at most 0.2 µs median each, the long one at most twice the short one.
//! - `cmdb`: impact analysis on a 100k-CI, 300k-relationship graph (target ≤ 20 ms) and a
//!   change's collision check against 10k scheduled changes (target ≤ 1 ms).
//! - `sla`: every clock of the council policy on an incident with 50 events. Target: at most
//!   5 µs median.

/// The shipped core-hours calendar file: Monday to Friday 07:45–17:30 London time, England &
/// Wales bank holidays.
pub const CORE_HOURS: &str = include_str!("../../examples/calendars/core-hours.toml");

/// The shipped round-the-clock calendar file.
pub const ROUND_THE_CLOCK: &str = include_str!("../../examples/calendars/24x7.toml");

/// The shipped council SLA policy.
pub const COUNCIL_POLICY: &str = include_str!("../../examples/sla/council-standard.toml");

use desk_core::DeskConfig;
use desk_core::Timestamp;
use desk_core::calendar::{BusinessCalendar, Calendars};
use desk_core::channel::Channel;
use desk_core::id::{IncidentRef, ResolutionCode};
use desk_core::incident::{
    AssignTo, Command, Escalation, Event, HoldReason, Incident, NewIncident,
};
use desk_core::priority::{Impact, Urgency};
use desk_core::record::{Actor, Aggregate, Context, Recorded, Visibility};
use desk_core::sla::Policy;

/// The shipped calendars and the council policy, read and checked against the sample council.
pub fn council() -> Result<(Calendars, Policy), String> {
    let mut calendars = Calendars::new();
    for (file, text) in [("core-hours.toml", CORE_HOURS), ("24x7.toml", ROUND_THE_CLOCK)] {
        let calendar = BusinessCalendar::from_toml(file, text).map_err(|e| e.to_string())?;
        calendars.insert(calendar).map_err(|e| e.to_string())?;
    }
    let policy = Policy::from_toml(
        "council-standard.toml",
        COUNCIL_POLICY,
        &calendars,
        &DeskConfig::example(),
    )
    .map_err(|e| e.to_string())?;
    Ok((calendars, policy))
}

/// A busy week of a P3 network fault, 50 events long: logged on a Monday morning, worked by
/// the service desk, passed to Networks and to the telecoms supplier and back, held for the
/// customer and for the supplier (across a weekend), raised to P2, customers kept informed,
/// resolved, reopened and resolved again. Returns the history and the time after its last event.
pub fn busy_incident() -> Result<(Vec<Recorded<Event>>, Timestamp), String> {
    let config = DeskConfig::example();
    let actor = Actor::Agent("a.patel".parse().map_err(|e| format!("{e}"))?);
    let team = |id: &str| id.parse().map_err(|e| format!("{e}"));
    let assign = |id: &str| -> Result<Command, String> {
        Ok(Command::Assign(AssignTo { team: team(id)?, agent: None }))
    };
    let update = || Command::AddUpdate { visibility: Visibility::Public, text: "Progress".into() };
    let note = || Command::AddUpdate { visibility: Visibility::Internal, text: "Checked".into() };
    let hold = |reason| Command::PutOnHold { reason, note: "Waiting".into() };
    let resume = || Command::Resume { note: String::new() };
    let start = || Command::Start { agent: None };
    let fixed: ResolutionCode = "fixed".parse().map_err(|e| format!("{e}"))?;
    let resolve = || Command::Resolve { code: fixed.clone(), notes: "Replaced the port".into() };
    let new = NewIncident {
        reference: IncidentRef::from_number(1234).ok_or("reference")?,
        title: "No network on the third floor".into(),
        description: String::new(),
        channel: Channel::Phone,
        requester: "k.lee".parse().map_err(|e| format!("{e}"))?,
        requester_vip: None,
        category: Some("network/wifi".parse().map_err(|e| format!("{e}"))?),
        affected_ci: None,
        impact: Impact::level(2).ok_or("impact")?,
        urgency: Urgency::level(2).ok_or("urgency")?,
        assign: None,
        resolve: None,
    };
    // (minutes after Monday 2 February 2026 08:30 UTC, command)
    let steps: Vec<(i64, Command)> = vec![
        (0, Command::Log(Box::new(new))),
        (2, assign("service-desk")?),
        (5, start()),
        (6, note()),
        (10, update()),
        (25, note()),
        (40, hold(HoldReason::AwaitingCustomer)),
        (95, resume()),
        (100, note()),
        (
            120,
            Command::Escalate(Escalation::Functional {
                team: team("networks")?,
                agent: None,
                reason: "Switch fault".into(),
            }),
        ),
        (130, start()),
        (140, update()),
        (180, note()),
        (
            200,
            Command::Reprioritise {
                impact: Impact::level(1).ok_or("impact")?,
                urgency: Urgency::level(2).ok_or("urgency")?,
                reason: "Whole floor affected".into(),
            },
        ),
        (210, update()),
        (260, hold(HoldReason::AwaitingSupplier)),
        (330, note()),
        (400, resume()),
        (420, update()),
        (480, assign("supplier-telecoms")?),
        (500, start()),
        (520, note()),
        (560, update()),
        (600, hold(HoldReason::AwaitingSupplier)),
        (900, note()),
        (1_500, resume()),
        (1_520, update()),
        (
            1_600,
            Command::DeEscalate(Escalation::Functional {
                team: team("networks")?,
                agent: None,
                reason: "Line repaired".into(),
            }),
        ),
        (1_610, start()),
        (1_700, note()),
        (1_800, update()),
        (2_000, hold(HoldReason::AwaitingCustomer)),
        (5_800, resume()),
        (5_810, update()),
        (5_900, note()),
        (6_000, note()),
        (6_100, update()),
        (6_200, resolve()),
        (6_300, update()),
        (7_200, Command::Reopen { reason: "Dropped again".into() }),
        (7_210, assign("networks")?),
        (7_220, start()),
        (7_300, note()),
        (7_400, update()),
        (7_500, hold(HoldReason::AwaitingChange)),
        (7_900, resume()),
        (8_000, update()),
        (8_100, note()),
        (8_150, update()),
        (8_200, resolve()),
    ];
    let start_at: Timestamp = "2026-02-02T08:30:00Z".parse().map_err(|e| format!("{e}"))?;
    let mut incident: Option<Incident> = None;
    let mut history = Vec::new();
    let mut now = start_at;
    for (minutes, command) in steps {
        now = start_at + chrono::TimeDelta::minutes(minutes);
        let name = format!("{command:?}");
        let ctx = Context::new(now, &actor, &config);
        let (next, events) =
            Incident::execute(incident.take(), command, ctx).map_err(|e| format!("{name}: {e}"))?;
        for event in events {
            let seq = history.len() as u64 + 1;
            history.push(Recorded {
                record: next.reference.into(),
                seq,
                at: now,
                actor: actor.clone(),
                event,
            });
        }
        incident = Some(next);
    }
    Ok((history, now + chrono::TimeDelta::hours(1)))
}

#[cfg(test)]
mod tests {
    use desk_core::record::EventInfo;

    use super::*;

    #[test]
    fn the_busy_incident_has_fifty_events_of_many_kinds() {
        let (history, now) = busy_incident().unwrap();
        assert_eq!(history.len(), 50);
        assert!(now > history[49].at);
        let kinds: std::collections::BTreeSet<&str> =
            history.iter().map(|r| r.event.name()).collect();
        assert!(kinds.len() >= 12, "{kinds:?}");
        let (calendars, policy) = council().unwrap();
        let clocks = desk_core::sla::evaluate(&history, &policy, &calendars, now).unwrap();
        assert_eq!(clocks.len(), 5);
    }
}
