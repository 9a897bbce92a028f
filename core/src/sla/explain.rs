//! Why a clock says what it says ([`explain`]), and what another policy version would have said
//! about recorded incidents ([`what_if`]).

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::clock::{Clock, ClockState, seconds};
use super::engine::{Choice, Engine, Mode, Segment, Trace};
use super::{BusinessDuration, Policy, SlaError};
use crate::Timestamp;
use crate::calendar::Calendars;
use crate::id::{CalendarId, ClockId, RecordId};
use crate::incident::Event;
use crate::priority::Priority;
use crate::record::Recorded;

/// A policy version.
///
/// JSON shape: `{"name": "council-standard", "version": 3}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The policy's name.
    pub name: String,
    /// Its version.
    pub version: u32,
}

impl PolicyRef {
    /// The name and version of `policy`.
    pub fn of(policy: &Policy) -> PolicyRef {
        PolicyRef { name: policy.name().to_owned(), version: policy.version() }
    }
}

/// What a clock was doing during an [`Interval`].
///
/// JSON shape: `"counted"`, `"paused"`, `"not_running"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalKind {
    /// Counting business time.
    Counted,
    /// Active but not counting.
    Paused,
    /// Not started, stopped or cancelled.
    NotRunning,
}

/// A stretch of a clock's life in one kind, cycle and target, and the event that began it.
///
/// JSON shape: `{"cycle": 1, "from": RFC3339, "to": RFC3339, "kind": "counted",
/// "counted": 5400, "seq": 4, "event": "resumed", "priority": "P2", "target": 28800,
/// "calendar": "core-hours"}` (`counted` and `target` in whole seconds of business time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// The clock's cycle.
    pub cycle: u32,
    /// Its start.
    pub from: Timestamp,
    /// Its end: the next change, or the time asked about.
    pub to: Timestamp,
    /// What the clock was doing.
    pub kind: IntervalKind,
    /// The business time counted in it.
    #[serde(with = "seconds")]
    pub counted: TimeDelta,
    /// The seq of the event that began it.
    pub seq: u64,
    /// That event's name.
    pub event: String,
    /// The priority the target was for.
    pub priority: Priority,
    /// The target in force.
    #[serde(with = "seconds")]
    pub target: TimeDelta,
    /// The calendar it was counted on.
    pub calendar: CalendarId,
}

/// The target a clock has now, and why.
///
/// JSON shape: `{"priority": "P3", "target": 35100, "written": "1d", "refinement": 0,
/// "calendar": "core-hours", "calendar_for_priority": false, "why": "…"}` (`refinement` is the
/// 0-based position of the `[[clock.refinement]]` that set it, or `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetChoice {
    /// The incident's priority.
    pub priority: Priority,
    /// The target, as business time.
    #[serde(with = "seconds")]
    pub target: TimeDelta,
    /// The target as the policy writes it.
    pub written: BusinessDuration,
    /// The refinement that set it, if one did.
    pub refinement: Option<usize>,
    /// The calendar.
    pub calendar: CalendarId,
    /// Whether the calendar comes from `calendar_by_priority` rather than the clock's own.
    pub calendar_for_priority: bool,
    /// The same, in a sentence.
    pub why: String,
}

/// Everything behind one clock's figures.
///
/// JSON shape: `{"policy": PolicyRef, "record": "INC-000123", "now": RFC3339,
/// "clock": Clock, "target": TargetChoice, "intervals": [Interval, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The policy version it was computed under.
    pub policy: PolicyRef,
    /// The incident.
    pub record: RecordId,
    /// The time asked about.
    pub now: Timestamp,
    /// The clock.
    pub clock: Clock,
    /// Its target, and why.
    pub target: TargetChoice,
    /// Its life from the incident's logging to `now`, in order, without empty intervals.
    pub intervals: Vec<Interval>,
}

/// Collects the segments of one clock.
struct Collect {
    clock: usize,
    segments: Vec<Segment>,
}

impl Trace for Collect {
    fn segment(&mut self, clock: usize, segment: &Segment) {
        if clock == self.clock && segment.from < segment.to {
            self.segments.push(*segment);
        }
    }
}

/// Explains clock `clock` of `policy` on an incident's `history` at `now`: its intervals, each
/// with the event that began it and the business time it counted, and how its target was
/// chosen. Refuses what [`super::evaluate`] refuses, and a clock the policy does not have.
pub fn explain(
    history: &[Recorded<Event>],
    policy: &Policy,
    calendars: &Calendars,
    clock: &ClockId,
    now: Timestamp,
) -> Result<Explanation, SlaError> {
    let index = policy.clocks().iter().position(|c| c.id == *clock).ok_or_else(|| {
        SlaError::UnknownClock { policy: policy.name().to_owned(), clock: clock.clone() }
    })?;
    let mut engine = Engine::new(policy, calendars)?;
    let mut collect = Collect { clock: index, segments: Vec::new() };
    engine.fold(history, now, &mut collect)?;
    let record = engine.record().cloned().ok_or(SlaError::EmptyHistory)?;
    let mut clocks = engine.clocks(now, &mut collect);
    let clock = clocks.swap_remove(index);
    let calendar_names = &policy.compiled().calendars;
    let intervals = collect
        .segments
        .iter()
        .map(|segment| Interval {
            cycle: segment.cycle,
            from: segment.from,
            to: segment.to,
            kind: match segment.mode {
                Mode::Counting => IntervalKind::Counted,
                Mode::Paused => IntervalKind::Paused,
                Mode::Idle => IntervalKind::NotRunning,
            },
            counted: segment.counted(),
            seq: segment.seq,
            event: segment.event.to_owned(),
            priority: segment.choice.priority(),
            target: segment.choice.target(),
            calendar: calendar_names[segment.choice.calendar()].clone(),
        })
        .collect();
    let target = choice(policy, index, engine.choice(index));
    Ok(Explanation { policy: PolicyRef::of(policy), record, now, clock, target, intervals })
}

/// How clock `index` came to its current target, `chosen`.
fn choice(policy: &Policy, index: usize, chosen: Choice) -> TargetChoice {
    let definition = &policy.clocks()[index];
    let priority = chosen.priority();
    let refinement =
        chosen.refinement().and_then(|r| definition.refinements.get(r).map(|d| (r, d)));
    let written = refinement
        .and_then(|(_, refinement)| refinement.targets.get(&priority))
        .or_else(|| definition.targets.get(&priority))
        .copied()
        .unwrap_or(BusinessDuration::new(0, 0));
    let calendar_for_priority = definition.calendar_by_priority.contains_key(&priority);
    let source = match refinement {
        Some((r, refinement)) => format!("refinement {r} ({})", conditions(refinement)),
        None => format!("the clock's target for {priority}"),
    };
    let calendar_source = if calendar_for_priority {
        format!("its calendar for {priority}")
    } else {
        "the clock's calendar".to_owned()
    };
    let calendar = policy.compiled().calendars[chosen.calendar()].clone();
    let why =
        format!("{priority}: {written} from {source}, counted on {calendar} ({calendar_source})");
    TargetChoice {
        priority,
        target: chosen.target(),
        written,
        refinement: refinement.map(|(r, _)| r),
        calendar,
        calendar_for_priority,
        why,
    }
}

/// A refinement's conditions, for people: `category network; vip elected_member`.
fn conditions(refinement: &super::Refinement) -> String {
    let list = |items: Vec<String>| items.join(", ");
    let mut parts = Vec::new();
    if !refinement.category.is_empty() {
        parts.push(format!(
            "category {}",
            list(refinement.category.iter().map(ToString::to_string).collect())
        ));
    }
    if !refinement.ci.is_empty() {
        parts.push(format!("ci {}", list(refinement.ci.iter().map(ToString::to_string).collect())));
    }
    if !refinement.vip.is_empty() {
        parts.push(format!(
            "vip {}",
            list(refinement.vip.iter().map(ToString::to_string).collect())
        ));
    }
    parts.join("; ")
}

/// One clock's result under one policy, for a comparison.
///
/// JSON shape: `{"state": "stopped", "target": 28800, "elapsed": 30600, "due": null,
/// "breached_at": RFC3339, "breaches": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Where the clock is.
    pub state: ClockState,
    /// Its target.
    #[serde(with = "seconds")]
    pub target: TimeDelta,
    /// Business time counted in its current cycle.
    #[serde(with = "seconds")]
    pub elapsed: TimeDelta,
    /// While running, when the target is used up.
    pub due: Option<Timestamp>,
    /// When its current cycle breached.
    pub breached_at: Option<Timestamp>,
    /// How many of its cycles breached.
    pub breaches: usize,
}

impl From<&Clock> for Outcome {
    fn from(clock: &Clock) -> Outcome {
        Outcome {
            state: clock.state,
            target: clock.target,
            elapsed: clock.elapsed,
            due: clock.due,
            breached_at: clock.breached_at,
            breaches: clock.breaches(),
        }
    }
}

/// One clock of one incident under both policies (`None` where a policy has no such clock).
///
/// JSON shape: `{"record": "INC-000123", "clock": "resolution", "current": Outcome | null,
/// "other": Outcome | null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// The incident.
    pub record: RecordId,
    /// The clock.
    pub clock: ClockId,
    /// Under the current policy.
    pub current: Option<Outcome>,
    /// Under the other policy.
    pub other: Option<Outcome>,
}

/// A history that could not be evaluated.
///
/// JSON shape: `{"record": "INC-000123" | null, "error": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The incident, if the history names one.
    pub record: Option<RecordId>,
    /// Why.
    pub error: String,
}

/// Counts over every comparison: clocks (one incident's clock is one) that breached in any
/// cycle under each policy.
///
/// JSON shape: `{"incidents": 120, "refused": 0, "breached_current": 9, "breached_other": 14,
/// "newly_breached": 6, "no_longer_breached": 1}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Incidents evaluated.
    pub incidents: usize,
    /// Histories refused.
    pub refused: usize,
    /// Clocks breached under the current policy.
    pub breached_current: usize,
    /// Clocks breached under the other policy.
    pub breached_other: usize,
    /// Clocks breached under the other policy but not the current one.
    pub newly_breached: usize,
    /// Clocks breached under the current policy but not the other one.
    pub no_longer_breached: usize,
}

/// The result of a what-if run.
///
/// JSON shape: `{"current": PolicyRef, "other": PolicyRef, "now": RFC3339,
/// "comparisons": [Comparison, …], "refused": [Refusal, …], "totals": Totals}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIf {
    /// The policy in use.
    pub current: PolicyRef,
    /// The policy tried.
    pub other: PolicyRef,
    /// The time asked about.
    pub now: Timestamp,
    /// Per incident and clock, in the order given; clocks in the current policy's order, then
    /// those only the other has.
    pub comparisons: Vec<Comparison>,
    /// Histories that could not be evaluated (incomplete, disordered, …).
    pub refused: Vec<Refusal>,
    /// Breach counts.
    pub totals: Totals,
}

/// Evaluates recorded incidents under the `current` policy and an `other` version of it,
/// clock by clock. A history either policy refuses is listed in [`WhatIf::refused`]; a
/// calendar either policy names and `calendars` lacks refuses the whole run.
pub fn what_if<'h>(
    histories: impl IntoIterator<Item = &'h [Recorded<Event>]>,
    current: &Policy,
    other: &Policy,
    calendars: &Calendars,
    now: Timestamp,
) -> Result<WhatIf, SlaError> {
    let mut engines = (Engine::new(current, calendars)?, Engine::new(other, calendars)?);
    let mut result = WhatIf {
        current: PolicyRef::of(current),
        other: PolicyRef::of(other),
        now,
        comparisons: Vec::new(),
        refused: Vec::new(),
        totals: Totals::default(),
    };
    for history in histories {
        let evaluated = engines
            .0
            .fold(history, now, &mut ())
            .and_then(|()| engines.1.fold(history, now, &mut ()))
            .map(|()| (engines.0.clocks(now, &mut ()), engines.1.clocks(now, &mut ())));
        let (mine, theirs) = match evaluated {
            Ok(both) => both,
            Err(error) => {
                let record = history.first().map(|first| first.record.clone());
                result.refused.push(Refusal { record, error: error.to_string() });
                result.totals.refused += 1;
                continue;
            }
        };
        let Some(record) = history.first().map(|first| first.record.clone()) else { continue };
        result.totals.incidents += 1;
        let only_theirs = theirs.iter().filter(|t| !mine.iter().any(|m| m.id == t.id));
        let ids: Vec<&ClockId> =
            mine.iter().map(|m| &m.id).chain(only_theirs.map(|t| &t.id)).collect();
        for id in ids {
            let find = |clocks: &[Clock]| clocks.iter().find(|c| c.id == *id).map(Outcome::from);
            let comparison = Comparison {
                record: record.clone(),
                clock: id.clone(),
                current: find(&mine),
                other: find(&theirs),
            };
            let breached =
                |outcome: &Option<Outcome>| outcome.as_ref().is_some_and(|o| o.breaches > 0);
            let (before, after) = (breached(&comparison.current), breached(&comparison.other));
            let totals = &mut result.totals;
            totals.breached_current += usize::from(before);
            totals.breached_other += usize::from(after);
            totals.newly_breached += usize::from(after && !before);
            totals.no_longer_breached += usize::from(before && !after);
            result.comparisons.push(comparison);
        }
    }
    Ok(result)
}
