//! Incident histories for the tests, made the way the desk makes them: commands decided by the
//! incident record, one after another, at the times the story says.

use std::sync::LazyLock;

use chrono::TimeDelta;

use crate::Timestamp;
use crate::calendar::{BusinessCalendar, Calendars};
use crate::channel::Channel;
use crate::config::DeskConfig;
use crate::id::{ClockId, IncidentRef, RecordId};
use crate::incident::{self, AssignTo, Command, Event, HoldReason, Incident, NewIncident};
use crate::people::VipKind;
use crate::priority::{Impact, Urgency};
use crate::record::{Actor, Aggregate, Context, Recorded, Visibility};
use crate::sla::{Clock, Policy, evaluate};

/// The shipped council policy.
pub(in crate::sla) const COUNCIL: &str =
    include_str!("../../../../examples/sla/council-standard.toml");

/// The shipped calendars: `core-hours` and `24x7`.
pub(in crate::sla) static CALENDARS: LazyLock<Calendars> = LazyLock::new(|| {
    let mut calendars = Calendars::new();
    for (file, text) in [
        ("core-hours.toml", include_str!("../../../../examples/calendars/core-hours.toml")),
        ("24x7.toml", include_str!("../../../../examples/calendars/24x7.toml")),
    ] {
        calendars.insert(BusinessCalendar::from_toml(file, text).unwrap()).unwrap();
    }
    calendars
});

/// The sample council's configuration.
pub(in crate::sla) static CONFIG: LazyLock<DeskConfig> = LazyLock::new(DeskConfig::example);

/// The council policy, read and checked.
pub(super) static COUNCIL_POLICY: LazyLock<Policy> = LazyLock::new(|| policy(COUNCIL));

/// A policy from its TOML text, checked against the shipped calendars and the sample council.
pub(super) fn policy(text: &str) -> Policy {
    Policy::from_toml("test.toml", text, &CALENDARS, &CONFIG).unwrap_or_else(|e| panic!("{e}"))
}

/// An instant, `2026-02-02T09:00:00Z` (London is on GMT in February).
pub(super) fn at(text: &str) -> Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A calendar by name.
pub(super) fn calendar(name: &str) -> &'static BusinessCalendar {
    CALENDARS.get(name).unwrap()
}

pub(super) fn clock_id(id: &str) -> ClockId {
    id.parse().unwrap()
}

pub(super) fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

pub(super) fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

/// Impact and urgency that give `priority` in the sample matrix.
fn levels(priority: u8) -> (u8, u8) {
    match priority {
        1 => (1, 1),
        2 => (1, 2),
        3 => (2, 2),
        4 => (2, 3),
        _ => (3, 3),
    }
}

/// An incident's story: its state and recorded history.
#[derive(Debug, Clone)]
pub(super) struct Story {
    incident: Option<Incident>,
    pub(super) now: Timestamp,
    pub(super) history: Vec<Recorded<Event>>,
    actor: Actor,
}

impl Story {
    /// Logged at `when` with `priority` (no VIP requester, no category).
    pub(super) fn logged(when: &str, priority: u8) -> Story {
        Story::logged_with(when, priority, |_| {})
    }

    /// Logged at `when` with `priority`, the new incident adjusted by `adjust`.
    pub(super) fn logged_with(
        when: &str,
        priority: u8,
        adjust: impl FnOnce(&mut NewIncident),
    ) -> Story {
        let (impact, urgency) = levels(priority);
        let mut new = NewIncident {
            reference: IncidentRef::from_number(42).unwrap(),
            title: "Cannot reach the revenues system".into(),
            description: String::new(),
            channel: Channel::Phone,
            requester: "k.lee".parse().unwrap(),
            requester_vip: None,
            category: None,
            affected_ci: None,
            impact: Impact::level(impact).unwrap(),
            urgency: Urgency::level(urgency).unwrap(),
            assign: None,
            resolve: None,
        };
        adjust(&mut new);
        let mut story = Story {
            incident: None,
            now: at(when),
            history: Vec::new(),
            actor: Actor::Agent("a.patel".parse().unwrap()),
        };
        story.run(Command::Log(Box::new(new)));
        story
    }

    /// Logged for a VIP requester.
    pub(super) fn logged_for_vip(when: &str, priority: u8, vip: VipKind) -> Story {
        Story::logged_with(when, priority, |new| new.requester_vip = Some(vip))
    }

    /// Moves the story's clock to `when`.
    pub(super) fn at(&mut self, when: &str) -> &mut Self {
        self.now = at(when);
        self
    }

    /// Moves the story's clock on by `delta`.
    pub(super) fn after(&mut self, delta: TimeDelta) -> &mut Self {
        self.now += delta;
        self
    }

    /// Runs `command` now; it must be accepted.
    pub(super) fn run(&mut self, command: Command) -> &mut Self {
        if let Err(error) = self.attempt(command.clone()) {
            panic!("{command:?} refused: {error}");
        }
        self
    }

    /// Runs `command` now: how many events it recorded, or why it was refused.
    pub(super) fn attempt(&mut self, command: Command) -> Result<usize, incident::Error> {
        let ctx = Context::new(self.now, &self.actor, &CONFIG);
        let events = Incident::decide(self.incident.as_ref(), command, ctx)?;
        let count = events.len();
        for event in events {
            let incident = Incident::apply(self.incident.take(), self.now, &event).unwrap();
            let record: RecordId = incident.reference.into();
            self.incident = Some(incident);
            let seq = self.history.len() as u64 + 1;
            let actor = self.actor.clone();
            self.history.push(Recorded { record, seq, at: self.now, actor, event });
        }
        Ok(count)
    }

    pub(super) fn assign(&mut self, team: &str) -> &mut Self {
        self.run(Command::Assign(AssignTo { team: team.parse().unwrap(), agent: None }))
    }

    pub(super) fn start(&mut self) -> &mut Self {
        self.run(Command::Start { agent: None })
    }

    pub(super) fn hold(&mut self, reason: HoldReason) -> &mut Self {
        self.run(Command::PutOnHold { reason, note: "Waiting".into() })
    }

    pub(super) fn resume(&mut self) -> &mut Self {
        self.run(Command::Resume { note: String::new() })
    }

    pub(super) fn update(&mut self) -> &mut Self {
        self.run(Command::AddUpdate { visibility: Visibility::Public, text: "On it".into() })
    }

    pub(super) fn note(&mut self) -> &mut Self {
        self.run(Command::AddUpdate { visibility: Visibility::Internal, text: "Checked".into() })
    }

    pub(super) fn resolve(&mut self) -> &mut Self {
        self.run(Command::Resolve { code: "fixed".parse().unwrap(), notes: "Fixed".into() })
    }

    pub(super) fn reopen(&mut self) -> &mut Self {
        self.run(Command::Reopen { reason: "Still broken".into() })
    }

    pub(super) fn close(&mut self) -> &mut Self {
        self.run(Command::Close)
    }

    pub(super) fn cancel(&mut self) -> &mut Self {
        self.run(Command::Cancel { reason: "Logged twice".into() })
    }

    pub(super) fn reprioritise(&mut self, priority: u8) -> &mut Self {
        let (impact, urgency) = levels(priority);
        self.run(Command::Reprioritise {
            impact: Impact::level(impact).unwrap(),
            urgency: Urgency::level(urgency).unwrap(),
            reason: "Reassessed".into(),
        })
    }

    pub(super) fn recategorise(&mut self, category: &str) -> &mut Self {
        self.run(Command::Recategorise { category: category.parse().unwrap() })
    }

    /// The incident as it stands.
    pub(super) fn incident(&self) -> &Incident {
        self.incident.as_ref().unwrap()
    }

    /// Every clock of `policy` at `when`.
    pub(super) fn clocks_at(&self, policy: &Policy, when: Timestamp) -> Vec<Clock> {
        evaluate(&self.history, policy, &CALENDARS, when).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The council policy's clock `id` at `when`.
    pub(super) fn clock(&self, id: &str, when: &str) -> Clock {
        self.clock_of(&COUNCIL_POLICY, id, when)
    }

    /// Clock `id` of `policy` at `when`.
    pub(super) fn clock_of(&self, policy: &Policy, id: &str, when: &str) -> Clock {
        self.clocks_at(policy, at(when)).into_iter().find(|c| c.id.as_str() == id).unwrap()
    }
}
