//! What the engine says about a clock at an instant, and what a desk does with it: the marks
//! to record, the summary for the storage row, when to wake next.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::{ClockKind, Threshold};
use crate::Timestamp;
use crate::id::ClockId;
use crate::incident::Command;
use crate::priority::Priority;

/// Where a clock is.
///
/// JSON shape: `"not_started"`, `"running"`, `"paused"`, `"stopped"`, `"cancelled"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Its start condition has not happened yet.
    NotStarted,
    /// Counting (business time accrues whenever its calendar is open).
    Running,
    /// Active but not counting: the incident is in a `pause_while` state, or a scoped clock's
    /// incident is with another team or outside its `run_while` states.
    Paused,
    /// Stopped: the target was met, or missed if it has a breach.
    Stopped,
    /// Cancelled before it stopped: it will never be judged.
    Cancelled,
}

/// A warning threshold passed in the clock's current cycle.
///
/// JSON shape: `{"threshold": 75, "at": RFC3339, "recorded": false}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The threshold.
    pub threshold: Threshold,
    /// When it passed.
    pub at: Timestamp,
    /// Whether the incident's history has recorded it.
    pub recorded: bool,
}

/// The breach of an earlier cycle of the clock.
///
/// JSON shape: `{"cycle": 1, "at": RFC3339, "recorded": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastBreach {
    /// The cycle.
    pub cycle: u32,
    /// When it breached.
    pub at: Timestamp,
    /// Whether the incident's history has recorded it.
    pub recorded: bool,
}

/// One SLA clock of an incident at an instant.
///
/// Durations are business time; in JSON they are whole seconds. JSON shape:
/// `{"id": "resolution", "kind": "resolution", "state": "running", "cycle": 1, "priority": "P2",
///   "target": 28800, "started_at": RFC3339, "stopped_at": null,
///   "elapsed": 5400, "remaining": 23400, "due": RFC3339,
///   "warnings": [Warning, …], "next_warning": {"threshold": 75, "at": RFC3339} | null,
///   "breached_at": null, "breach_recorded": false, "past_breaches": [PastBreach, …],
///   "next_wake": RFC3339}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// The clock's identifier in the policy.
    pub id: ClockId,
    /// What it measures.
    pub kind: ClockKind,
    /// Where it is.
    pub state: ClockState,
    /// Which cycle it is in: 1 from its start, one more at each reset or restart; 0 before it
    /// starts.
    pub cycle: u32,
    /// The priority its target is for.
    pub priority: Priority,
    /// The target in force (for a clock not started yet: the one it would start with); see
    /// [`super::explain`] for the calendar it runs on and why.
    #[serde(with = "seconds")]
    pub target: TimeDelta,
    /// When the current cycle started.
    pub started_at: Option<Timestamp>,
    /// When it stopped or was cancelled.
    pub stopped_at: Option<Timestamp>,
    /// Business time counted in the current cycle.
    #[serde(with = "seconds")]
    pub elapsed: TimeDelta,
    /// Business time left before the target is used up (zero once it is).
    #[serde(with = "seconds")]
    pub remaining: TimeDelta,
    /// While running: when the target is (or was) used up.
    pub due: Option<Timestamp>,
    /// Warnings passed in the current cycle, lowest first.
    pub warnings: Vec<Warning>,
    /// While running: the next warning to pass, and when.
    pub next_warning: Option<Upcoming>,
    /// When the current cycle breached its target.
    pub breached_at: Option<Timestamp>,
    /// Whether the incident's history has recorded that breach.
    pub breach_recorded: bool,
    /// Breaches of earlier cycles.
    pub past_breaches: Vec<PastBreach>,
    /// While running: the next instant a warning or the breach passes.
    pub next_wake: Option<Timestamp>,
}

/// A warning still to pass.
///
/// JSON shape: `{"threshold": 75, "at": RFC3339}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upcoming {
    /// The threshold.
    pub threshold: Threshold,
    /// When it will pass if nothing happens first.
    pub at: Timestamp,
}

impl Clock {
    /// Whether the current cycle has breached its target.
    pub fn is_breached(&self) -> bool {
        self.breached_at.is_some()
    }

    /// How many of its cycles breached, this one included.
    pub fn breaches(&self) -> usize {
        self.past_breaches.len() + usize::from(self.is_breached())
    }

    /// The commands that record the warnings and breaches that have passed but are not yet in
    /// the incident's history, oldest first. Each is idempotent: sending one twice records
    /// nothing the second time.
    pub fn unrecorded(&self) -> Vec<Command> {
        let mut commands: Vec<(Timestamp, Command)> = self.pending().collect();
        commands.sort_by_key(|(at, _)| *at);
        commands.into_iter().map(|(_, command)| command).collect()
    }

    /// When the earliest warning or breach passed that the history has not recorded yet: a
    /// scheduler must wake at once for it.
    pub fn first_unrecorded(&self) -> Option<Timestamp> {
        self.pending().map(|(at, _)| at).min()
    }

    /// Each passed and unrecorded warning or breach, with the command that records it.
    fn pending(&self) -> impl Iterator<Item = (Timestamp, Command)> + '_ {
        let clock = || self.id.clone();
        let past = self.past_breaches.iter().filter(|past| !past.recorded).map(move |past| {
            (past.at, Command::RecordSlaBreach { clock: clock(), cycle: past.cycle, at: past.at })
        });
        let warnings = self.warnings.iter().filter(|warning| !warning.recorded).map(move |w| {
            let command = Command::RecordSlaWarning {
                clock: clock(),
                cycle: self.cycle,
                threshold: w.threshold,
                at: w.at,
            };
            (w.at, command)
        });
        let breach = self.breached_at.filter(|_| !self.breach_recorded).map(move |at| {
            (at, Command::RecordSlaBreach { clock: clock(), cycle: self.cycle, at })
        });
        past.chain(warnings).chain(breach)
    }
}

/// The earliest instant any of `clocks` needs waking: when the next warning or breach passes.
/// `None` when no clock is running towards one.
pub fn next_wake(clocks: &[Clock]) -> Option<Timestamp> {
    clocks.iter().filter_map(|clock| clock.next_wake).min()
}

/// What the storage keeps beside an incident to find it fast: lists of incidents due soon,
/// warned or past their SLA.
///
/// JSON shape: `{"earliest_due": RFC3339 | null, "first_warning_at": RFC3339 | null,
/// "warned": false, "first_breach_at": RFC3339 | null}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The earliest due instant among running clocks.
    pub earliest_due: Option<Timestamp>,
    /// Among running clocks with warnings, the earliest instant of a first warning: passed
    /// already, or still to come.
    pub first_warning_at: Option<Timestamp>,
    /// Whether any clock has passed a warning in its current cycle.
    pub warned: bool,
    /// The earliest breach of any clock, in any cycle.
    pub first_breach_at: Option<Timestamp>,
}

impl Summary {
    /// The summary of an incident's clocks.
    pub fn of(clocks: &[Clock]) -> Summary {
        let running = || clocks.iter().filter(|clock| clock.state == ClockState::Running);
        Summary {
            earliest_due: running().filter_map(|clock| clock.due).min(),
            first_warning_at: running()
                .filter_map(|clock| {
                    clock.warnings.first().map(|w| w.at).or(clock.next_warning.map(|w| w.at))
                })
                .min(),
            warned: clocks.iter().any(|clock| !clock.warnings.is_empty()),
            first_breach_at: clocks
                .iter()
                .flat_map(|clock| {
                    clock.past_breaches.iter().map(|past| past.at).chain(clock.breached_at)
                })
                .min(),
        }
    }
}

/// A warning or breach of one cycle of one clock: what the incident records, once.
///
/// JSON shape: `{"clock": "resolution", "cycle": 1, "passed": {"warning": 75}}` or
/// `{"clock": "resolution", "cycle": 1, "passed": "breach"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Mark {
    /// The clock.
    pub clock: ClockId,
    /// The cycle.
    pub cycle: u32,
    /// What passed.
    pub passed: Passed,
}

/// What passed: a warning threshold or the target itself.
///
/// JSON shape: `{"warning": 75}` or `"breach"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Passed {
    /// A warning threshold.
    Warning(Threshold),
    /// The target: a breach.
    Breach,
}

/// Durations as whole seconds in JSON (any fraction of a second is dropped).
pub(super) mod seconds {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(delta: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(delta.num_seconds())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        let secs = i64::deserialize(d)?;
        TimeDelta::try_seconds(secs)
            .ok_or_else(|| serde::de::Error::custom(format!("{secs} seconds is out of range")))
    }
}
