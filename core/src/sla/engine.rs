//! The fold: an incident's history, once through, into its clocks.
//!
//! Per event the engine updates a few facts, then asks each clock the event can concern
//! whether its phase, its counting or its target changes. Only then does it close the clock's
//! current interval (business time from two readings of the calendar's meter, plus an instant
//! for each threshold that passed inside it) and open the next. Readings are taken once per
//! instant and calendar, however many clocks close or open there. At the end it projects the
//! open intervals to `now`. See the [module docs](super) for the rules.

use chrono::TimeDelta;

use super::clock::{Clock, ClockState, Passed, PastBreach, Upcoming, Warning};
use super::policy::{Compiled, CompiledClock, OnPriorityChange, Policy, Start};
use super::terms::{event_index, situation};
use super::{MAX_WARNINGS, SlaError};
use crate::Timestamp;
use crate::calendar::{BusinessCalendar, Calendars, Reading};
use crate::id::{AssetRef, CategoryId, RecordId};
use crate::incident::{Event, HoldReason, Logged, Status};
use crate::people::VipKind;
use crate::priority::Priority;
use crate::record::{EventInfo, Recorded};

/// Evaluates every clock of `policy` on an incident's `history`, as it stands at `now`.
///
/// The history is every recorded event of one incident, from `logged` at seq 1, in order. An
/// incomplete or disordered history is refused, as is a `now` before its last event.
pub fn evaluate(
    history: &[Recorded<Event>],
    policy: &Policy,
    calendars: &Calendars,
    now: Timestamp,
) -> Result<Vec<Clock>, SlaError> {
    let mut engine = Engine::new(policy, calendars)?;
    engine.fold(history, now, &mut ())?;
    Ok(engine.clocks(now, &mut ()))
}

/// Business time in nanoseconds: plain integer sums in the fold (targets are at most about ten
/// years, far within range).
type Nanos = i64;

/// `delta` in nanoseconds (saturating: beyond 292 years nothing is meaningful anyway).
fn nanos(delta: TimeDelta) -> Nanos {
    delta.num_nanoseconds().unwrap_or(if delta < TimeDelta::zero() { i64::MIN } else { i64::MAX })
}

/// A calendar and its latest reading: the clocks of an incident ask about the same instants.
struct Meter<'c> {
    calendar: &'c BusinessCalendar,
    last: Option<(Timestamp, Option<Reading>)>,
}

impl Meter<'_> {
    /// The reading at `at` (`None` outside the calendar's compiled span).
    fn read(&mut self, at: Timestamp) -> Option<Reading> {
        match self.last {
            Some((when, reading)) if when == at => reading,
            _ => self.take(at),
        }
    }

    /// Takes a new reading. Kept out of line: the conversion it starts with would otherwise be
    /// hoisted into every caller's loop, whether a reading is needed or not.
    #[inline(never)]
    fn take(&mut self, at: Timestamp) -> Option<Reading> {
        let reading = self.calendar.reading(at);
        self.last = Some((at, reading));
        reading
    }

    /// Business time from `from` (whose reading was `reading`) to `to`.
    fn elapsed(&mut self, from: Timestamp, reading: Option<Reading>, to: Timestamp) -> Nanos {
        match (reading, self.read(to)) {
            (Some(from), Some(to)) => to.nanos_since(from),
            _ => None,
        }
        .unwrap_or_else(|| nanos(self.calendar.elapsed(from, to)))
    }

    /// When `amount` (more than zero) of business time from `from` (read `reading`) is used up.
    fn due(&self, from: Timestamp, reading: Option<Reading>, amount: Nanos) -> Option<Timestamp> {
        let amount = TimeDelta::nanoseconds(amount);
        reading
            .and_then(|reading| reading.after(amount))
            .and_then(|goal| self.calendar.instant_at(goal))
            .or_else(|| self.calendar.due(from, amount).ok())
    }
}

/// Whether a clock counts, is paused, or is not running at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Not started, stopped or cancelled.
    Idle,
    /// Active, not counting.
    Paused,
    /// Active and counting.
    Counting,
}

/// A clock's life-cycle phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Active,
    Stopped,
    Cancelled,
}

/// The target in force and where it came from, small enough to compare at every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Choice {
    target: Nanos,
    priority: Priority,
    /// Index into [`Compiled::calendars`] (at most 64 clocks × 255 priorities of them).
    calendar: u16,
    /// Index of the clock's refinement that set the target (at most 64 of them).
    refinement: Option<u8>,
}

impl Choice {
    /// The target.
    pub(super) fn target(self) -> TimeDelta {
        TimeDelta::nanoseconds(self.target)
    }

    /// The priority it is for.
    pub(super) fn priority(self) -> Priority {
        self.priority
    }

    /// Index into the policy's calendars.
    pub(super) fn calendar(self) -> usize {
        usize::from(self.calendar)
    }

    /// Index of the clock's refinement that set it, if one did.
    pub(super) fn refinement(self) -> Option<usize> {
        self.refinement.map(usize::from)
    }
}

/// A stretch of one clock's life in one mode, closed at `to`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) from: Timestamp,
    pub(super) to: Timestamp,
    pub(super) mode: Mode,
    counted: Nanos,
    pub(super) cycle: u32,
    pub(super) choice: Choice,
    /// The event that began it.
    pub(super) seq: u64,
    pub(super) event: &'static str,
}

impl Segment {
    /// The business time it counted.
    pub(super) fn counted(&self) -> TimeDelta {
        TimeDelta::nanoseconds(self.counted)
    }
}

/// Watches segments close (for [`super::explain`]); `()` watches nothing.
pub(super) trait Trace {
    /// Clock number `clock` finished `segment`.
    fn segment(&mut self, clock: usize, segment: &Segment);
}

impl Trace for () {
    #[inline]
    fn segment(&mut self, _: usize, _: &Segment) {}
}

/// The facts about the incident the clocks depend on, as of the event just folded.
struct Facts<'h> {
    status: Status,
    hold: Option<HoldReason>,
    priority: Priority,
    assigned: bool,
    /// Index into [`Compiled::teams`] of the team that has it, if a clock names that team.
    team: Option<usize>,
    category: Option<&'h CategoryId>,
    ci: Option<AssetRef>,
    vip: Option<VipKind>,
    /// Bit `n` set when refinement `n` of the policy matches.
    refined: u64,
}

/// One clock as the fold goes.
#[derive(Debug, Clone)]
struct Run {
    phase: Phase,
    mode: Mode,
    cycle: u32,
    choice: Choice,
    started_at: Option<Timestamp>,
    stopped_at: Option<Timestamp>,
    /// Business time counted in the closed intervals of this cycle.
    elapsed: Nanos,
    /// Start of the current segment.
    since: Timestamp,
    /// The calendar's reading there, while counting.
    reading: Option<Reading>,
    /// The event that began it.
    seq: u64,
    event: &'static str,
    /// The first threshold not yet passed in this cycle: a warning's slot, the number of
    /// warnings for the breach, one more when all have passed.
    next: usize,
    /// The business time at which threshold `next` passes (kept by [`Run::aim`]), or
    /// `Nanos::MAX` once all have.
    next_at: Nanos,
    /// When each warning threshold below `next` passed in this cycle.
    warned: [Passage; MAX_WARNINGS],
    breached_at: Option<Passage>,
    past_breaches: Vec<(u32, Passage)>,
}

/// When a threshold passed, worked out only when asked: many pass in cycles that a reset then
/// throws away, and turning business time back into an instant is the dearest step there is.
#[derive(Debug, Clone, Copy)]
enum Passage {
    /// Known.
    At(Timestamp),
    /// When `amount` of business time from `from` (read `reading`) is used up on calendar
    /// number `calendar`.
    Due { calendar: u16, from: Timestamp, reading: Option<Reading>, amount: Nanos },
    /// The first working instant at or after `from` on calendar number `calendar`.
    Opening { calendar: u16, from: Timestamp },
}

impl Passage {
    /// The instant (`None` only if the calendar never gets there, which a passed threshold
    /// cannot be).
    fn instant(self, meters: &[Meter<'_>]) -> Option<Timestamp> {
        match self {
            Passage::At(at) => Some(at),
            Passage::Due { calendar, from, reading, amount } => {
                meters.get(usize::from(calendar))?.due(from, reading, amount)
            }
            Passage::Opening { calendar, from } => {
                meters.get(usize::from(calendar))?.calendar.next_opening(from)
            }
        }
    }
}

/// Where a counting interval ends: at an event (exclusive) or at `now` (inclusive, the clock
/// still running).
#[derive(Debug, Clone, Copy)]
enum End {
    Closed(Timestamp),
    Now(Timestamp),
}

pub(super) struct Engine<'p> {
    policy: &'p Policy,
    compiled: &'p Compiled,
    meters: Vec<Meter<'p>>,
    runs: Vec<Run>,
    /// The clocks (as bits) not started yet, those active, and those counting.
    not_started: u64,
    active: u64,
    counting: u64,
    /// The marks recorded in the history, by clock index.
    marks: Vec<(usize, u32, Passed)>,
    record: Option<RecordId>,
}

impl<'p> Engine<'p> {
    pub(super) fn new(policy: &'p Policy, calendars: &'p Calendars) -> Result<Self, SlaError> {
        let compiled = policy.compiled();
        let meters = compiled
            .calendars
            .iter()
            .map(|name| match calendars.get(name.as_str()) {
                Some(calendar) => Ok(Meter { calendar, last: None }),
                None => Err(SlaError::UnknownCalendar(name.clone())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Engine {
            policy,
            compiled,
            meters,
            runs: Vec::with_capacity(compiled.clocks.len()),
            not_started: 0,
            active: 0,
            counting: 0,
            marks: Vec::new(),
            record: None,
        })
    }

    /// Folds `history`, checking it is complete and ordered, and that `now` is not before it.
    pub(super) fn fold(
        &mut self,
        history: &[Recorded<Event>],
        now: Timestamp,
        trace: &mut impl Trace,
    ) -> Result<(), SlaError> {
        let first = history.first().ok_or(SlaError::EmptyHistory)?;
        let record = first.record.clone();
        let Event::Logged(logged) = &first.event else {
            return Err(SlaError::NotFromTheStart {
                record,
                seq: first.seq,
                event: first.event.name(),
            });
        };
        if first.seq != 1 {
            return Err(SlaError::NotFromTheStart { record, seq: first.seq, event: "logged" });
        }
        let mut facts = Facts::logged(logged);
        facts.refined = self.refinements(&facts);
        self.marks.clear();
        self.runs.clear();
        self.active = 0;
        self.counting = 0;
        self.not_started = (1u64 << self.compiled.clocks.len()).wrapping_sub(1);
        if self.compiled.clocks.len() >= 64 {
            self.not_started = u64::MAX;
        }
        for (index, clock) in self.compiled.clocks.iter().enumerate() {
            self.runs.push(Run {
                phase: Phase::NotStarted,
                mode: Mode::Idle,
                cycle: 0,
                choice: choose(self.policy, index, clock, &facts)?,
                started_at: None,
                stopped_at: None,
                elapsed: 0,
                since: first.at,
                reading: None,
                seq: first.seq,
                event: "logged",
                next: 0,
                next_at: Nanos::MAX,
                warned: [Passage::At(first.at); MAX_WARNINGS],
                breached_at: None,
                past_breaches: Vec::new(),
            });
        }
        for (run, clock) in self.runs.iter_mut().zip(&self.compiled.clocks) {
            run.aim(clock);
        }
        let candidates = self.candidates(1, Changed::ALL, &facts);
        self.step(candidates, 1, Changed::ALL, &facts, first, trace)?;
        for pair in history.windows(2) {
            let (before, recorded) = (&pair[0], &pair[1]);
            check_order(&record, before, recorded)?;
            if matches!(recorded.event, Event::Logged(_)) {
                return Err(SlaError::LoggedTwice { record, seq: recorded.seq });
            }
            let Some(index) = event_index(&recorded.event) else {
                self.note_mark(&recorded.event);
                continue;
            };
            let mut changed = facts.fold(&recorded.event, &self.compiled.teams);
            if changed.refinement {
                let refined = self.refinements(&facts);
                changed.target |= refined != facts.refined;
                facts.refined = refined;
            }
            // Most events concern no clock: those are told apart before any call.
            let candidates = self.candidates(1 << index, changed, &facts);
            if candidates != 0 {
                self.step(candidates, 1 << index, changed, &facts, recorded, trace)?;
            }
        }
        if let Some(last) = history.last()
            && now < last.at
        {
            return Err(SlaError::NowBeforeHistory { record, now, last: last.at });
        }
        self.record = Some(record);
        Ok(())
    }

    /// Remembers a mark the history recorded.
    fn note_mark(&mut self, event: &Event) {
        let (clock, cycle, passed) = match event {
            Event::SlaWarningPassed { clock, cycle, threshold, .. } => {
                (clock, *cycle, Passed::Warning(*threshold))
            }
            Event::SlaBreached { clock, cycle, .. } => (clock, *cycle, Passed::Breach),
            _ => return,
        };
        if let Some(index) = self.policy.clocks().iter().position(|c| c.id == *clock) {
            self.marks.push((index, cycle, passed));
        }
    }

    /// The refinements that match the incident, as a mask.
    fn refinements(&self, facts: &Facts<'_>) -> u64 {
        let clocks = self.policy.clocks();
        self.compiled.refinements.iter().enumerate().fold(0, |mask, (n, (clock, refinement))| {
            let matches = clocks[*clock].refinements[*refinement].matches(
                facts.category,
                facts.ci,
                facts.vip,
            );
            if matches { mask | 1 << n } else { mask }
        })
    }

    /// The clocks an event (its bit in the condition masks) can concern: those whose
    /// conditions name it; if the status, hold or team changed, those active that start or
    /// stop counting and those that start by themselves and now may; if the target may have
    /// changed, those not stopped.
    #[inline]
    fn candidates(&self, bit: u32, changed: Changed, facts: &Facts<'_>) -> u64 {
        let compiled = self.compiled;
        let mut candidates =
            compiled.listeners.get(bit.trailing_zeros() as usize).copied().unwrap_or(0);
        if changed.state {
            let situation = situation(facts.status, facts.hold).trailing_zeros() as usize;
            let allowed = compiled.team_allows(facts.team);
            let counts = compiled.counting.get(situation).copied().unwrap_or(0) & allowed;
            let in_scope = compiled.in_scope.get(situation).copied().unwrap_or(0) & allowed;
            candidates |= ((counts ^ self.counting) & self.active)
                | (self.not_started & compiled.start_in_scope & in_scope);
        }
        if changed.target {
            candidates |= self.active | self.not_started;
        }
        candidates
    }

    /// Applies one event (its bit in the condition masks) to the clocks `candidates` (a mask,
    /// from [`Engine::candidates`]).
    fn step(
        &mut self,
        mut candidates: u64,
        bit: u32,
        changed: Changed,
        facts: &Facts<'_>,
        recorded: &Recorded<Event>,
        trace: &mut impl Trace,
    ) -> Result<(), SlaError> {
        let compiled: &'p Compiled = self.compiled;
        let at = recorded.at;
        let now_in = situation(facts.status, facts.hold);
        while candidates != 0 {
            let index = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            let clock = &compiled.clocks[index];
            let run = &mut self.runs[index];
            let in_scope =
                clock.team.is_none_or(|team| facts.team == Some(team)) && clock.run & now_in != 0;
            // An event no condition names and that changes no target can only start a scoped
            // clock or change whether an active one counts; often it does neither.
            if clock.listens & bit == 0 && !changed.target {
                let unmoved = match run.phase {
                    Phase::Stopped | Phase::Cancelled => true,
                    Phase::NotStarted => clock.start != Start::InScope || !in_scope,
                    Phase::Active => {
                        let counts = in_scope && clock.pause & now_in == 0;
                        counts == (run.mode == Mode::Counting)
                    }
                };
                if unmoved {
                    continue;
                }
            }
            let starts = match clock.start {
                Start::On(mask) => mask & bit != 0,
                Start::InScope => in_scope,
            };
            let mut new_cycle = false;
            let phase = match run.phase {
                Phase::NotStarted | Phase::Active if clock.cancel & bit != 0 => Phase::Cancelled,
                Phase::NotStarted if starts => {
                    new_cycle = true;
                    Phase::Active
                }
                Phase::Active if clock.stop & bit != 0 => Phase::Stopped,
                Phase::Stopped if clock.resume & bit != 0 => Phase::Active,
                Phase::Active | Phase::Stopped if clock.reset & bit != 0 => {
                    new_cycle = true;
                    Phase::Active
                }
                phase => phase,
            };
            // Active clocks follow the incident's target; a clock not started yet shows the
            // one it would start with; stopped and cancelled clocks keep theirs. So the target
            // is looked up again only when it may have changed, or a stopped clock goes on.
            let mut choice = run.choice;
            let mut retarget = false;
            if matches!(phase, Phase::Active | Phase::NotStarted)
                && (changed.target || run.phase == Phase::Stopped)
            {
                choice = choose(self.policy, index, clock, facts)?;
                if phase == Phase::NotStarted {
                    run.choice = choice;
                    run.aim(clock);
                } else if !new_cycle && choice != run.choice {
                    let restart = clock.on_priority_change == OnPriorityChange::Restart;
                    if restart && choice.priority != run.choice.priority {
                        new_cycle = true;
                    } else {
                        retarget = true;
                    }
                }
            }
            let mode = match phase {
                Phase::Active if in_scope && clock.pause & now_in == 0 => Mode::Counting,
                Phase::Active => Mode::Paused,
                Phase::NotStarted | Phase::Stopped | Phase::Cancelled => Mode::Idle,
            };
            if mode == run.mode && phase == run.phase && !new_cycle && !retarget {
                continue;
            }
            run.close(clock, &mut self.meters, at, index, trace);
            if new_cycle {
                run.new_cycle(at);
            }
            match (run.phase, phase) {
                (Phase::Active, Phase::Stopped | Phase::Cancelled)
                | (Phase::NotStarted, Phase::Cancelled) => run.stopped_at = Some(at),
                (Phase::Stopped, Phase::Active) => run.stopped_at = None,
                _ => {}
            }
            let bit_of = 1u64 << index;
            self.not_started &= !bit_of;
            self.active &= !bit_of;
            self.counting &= !bit_of;
            match phase {
                Phase::NotStarted => self.not_started |= bit_of,
                Phase::Active => self.active |= bit_of,
                Phase::Stopped | Phase::Cancelled => {}
            }
            if mode == Mode::Counting {
                self.counting |= bit_of;
            }
            if new_cycle || choice != run.choice {
                run.choice = choice;
                run.aim(clock);
            }
            run.phase = phase;
            run.mode = mode;
            run.since = at;
            run.reading = match mode {
                Mode::Counting => self.meters[choice.calendar()].read(at),
                Mode::Idle | Mode::Paused => None,
            };
            run.seq = recorded.seq;
            run.event = recorded.event.name();
        }
        Ok(())
    }

    /// The clocks at `now`, after [`Engine::fold`]; the still-open segments go to `trace`.
    pub(super) fn clocks(&mut self, now: Timestamp, trace: &mut impl Trace) -> Vec<Clock> {
        let policy = self.policy.clocks();
        let mut clocks = Vec::with_capacity(self.runs.len());
        for (index, run) in self.runs.iter_mut().enumerate() {
            let clock = &self.compiled.clocks[index];
            let meters = &mut self.meters;
            let (mut due, mut next) = (None, None);
            let counted = match (run.mode, meters.get_mut(run.choice.calendar())) {
                (Mode::Counting, Some(meter)) => meter.elapsed(run.since, run.reading, now),
                _ => 0,
            };
            trace.segment(index, &run.segment(now, counted));
            if run.mode == Mode::Counting {
                next = run.pass(clock, meters, counted, End::Now(now));
                let before = run.elapsed;
                run.elapsed = run.elapsed.saturating_add(counted);
                let calendar = run.choice.calendar;
                due = if run.choice.target > run.elapsed {
                    let amount = run.choice.target - before;
                    Passage::Due { calendar, from: run.since, reading: run.reading, amount }
                        .instant(meters)
                } else {
                    let opening = Passage::Opening { calendar, from: run.since };
                    run.breached_at.unwrap_or(opening).instant(meters)
                };
            }
            let meters = &self.meters;
            let state = match (run.phase, run.mode) {
                (Phase::NotStarted, _) => ClockState::NotStarted,
                (Phase::Active, Mode::Counting) => ClockState::Running,
                (Phase::Active, _) => ClockState::Paused,
                (Phase::Stopped, _) => ClockState::Stopped,
                (Phase::Cancelled, _) => ClockState::Cancelled,
            };
            let marks = &self.marks;
            let recorded = |cycle: u32, passed: Passed| marks.contains(&(index, cycle, passed));
            let warnings = clock
                .warn
                .iter()
                .zip(&run.warned)
                .take(run.next)
                .filter_map(|(threshold, passage)| {
                    let at = passage.instant(meters)?;
                    let recorded = recorded(run.cycle, Passed::Warning(*threshold));
                    Some(Warning { threshold: *threshold, at, recorded })
                })
                .collect();
            let next_warning = next.and_then(|(slot, at)| {
                clock.warn.get(slot).map(|threshold| Upcoming { threshold: *threshold, at })
            });
            let breached_at = run.breached_at.and_then(|passage| passage.instant(meters));
            let choice = run.choice;
            clocks.push(Clock {
                id: policy[index].id.clone(),
                kind: policy[index].kind,
                state,
                cycle: run.cycle,
                priority: choice.priority,
                target: choice.target(),
                started_at: run.started_at,
                stopped_at: run.stopped_at,
                elapsed: TimeDelta::nanoseconds(run.elapsed),
                remaining: TimeDelta::nanoseconds((choice.target - run.elapsed).max(0)),
                due,
                warnings,
                next_warning,
                breached_at,
                breach_recorded: breached_at.is_some() && recorded(run.cycle, Passed::Breach),
                past_breaches: run
                    .past_breaches
                    .iter()
                    .filter_map(|(cycle, passage)| {
                        let at = passage.instant(meters)?;
                        Some(PastBreach {
                            cycle: *cycle,
                            at,
                            recorded: recorded(*cycle, Passed::Breach),
                        })
                    })
                    .collect(),
                next_wake: next.map(|(_, at)| at),
            });
        }
        clocks
    }

    /// The target clock `index` has, after [`Engine::fold`].
    pub(super) fn choice(&self, index: usize) -> Choice {
        self.runs[index].choice
    }

    /// The record folded, after [`Engine::fold`].
    pub(super) fn record(&self) -> Option<&RecordId> {
        self.record.as_ref()
    }
}

/// Refuses a history whose next event is of another record, out of sequence or earlier.
#[inline(always)]
fn check_order(
    record: &RecordId,
    before: &Recorded<Event>,
    recorded: &Recorded<Event>,
) -> Result<(), SlaError> {
    let in_order = before.seq.checked_add(1) == Some(recorded.seq) && recorded.at >= before.at;
    if in_order && recorded.record == *record {
        Ok(())
    } else {
        Err(disorder(record, before, recorded))
    }
}

/// What is wrong with a history whose next event [`check_order`] refused. Kept out of line:
/// the fold's loop should carry only the comparisons.
#[cold]
#[inline(never)]
fn disorder(record: &RecordId, before: &Recorded<Event>, recorded: &Recorded<Event>) -> SlaError {
    if recorded.record != *record {
        return SlaError::MixedRecords {
            record: record.clone(),
            other: recorded.record.clone(),
            seq: recorded.seq,
        };
    }
    if before.seq.checked_add(1) != Some(recorded.seq) {
        return SlaError::SeqGap {
            record: record.clone(),
            previous: before.seq,
            found: recorded.seq,
        };
    }
    SlaError::TimeWentBack {
        record: record.clone(),
        seq: recorded.seq,
        at: recorded.at,
        previous: before.at,
    }
}

/// The target clock `index` gets for the incident as it is.
fn choose(
    policy: &Policy,
    index: usize,
    clock: &CompiledClock,
    facts: &Facts<'_>,
) -> Result<Choice, SlaError> {
    let level = usize::from(facts.priority.level()) - 1;
    let goal = clock.goals.get(level).ok_or_else(|| SlaError::NoTarget {
        clock: policy.clocks()[index].id.clone(),
        priority: facts.priority,
    })?;
    let refined = clock.refinements.iter().enumerate().find_map(|(local, (global, targets))| {
        let target = targets.get(level).copied().flatten()?;
        (facts.refined & (1 << global) != 0).then_some((local, target))
    });
    let (refinement, target) = match refined {
        Some((local, target)) => (u8::try_from(local).ok(), target),
        None => (None, goal.target),
    };
    Ok(Choice {
        target: nanos(target),
        priority: facts.priority,
        calendar: u16::try_from(goal.calendar).unwrap_or(u16::MAX),
        refinement,
    })
}

impl Run {
    /// The current segment, closed at `to` with `counted` business time.
    fn segment(&self, to: Timestamp, counted: Nanos) -> Segment {
        Segment {
            from: self.since,
            to,
            mode: self.mode,
            counted,
            cycle: self.cycle,
            choice: self.choice,
            seq: self.seq,
            event: self.event,
        }
    }

    /// Closes the current segment at `to`: counts its business time and passes the thresholds
    /// used up inside it.
    fn close(
        &mut self,
        clock: &CompiledClock,
        meters: &mut [Meter<'_>],
        to: Timestamp,
        index: usize,
        trace: &mut impl Trace,
    ) {
        let counted = match (self.mode, meters.get_mut(self.choice.calendar())) {
            (Mode::Counting, Some(meter)) => meter.elapsed(self.since, self.reading, to),
            _ => 0,
        };
        trace.segment(index, &self.segment(to, counted));
        if self.mode == Mode::Counting {
            // Mostly no threshold comes due inside an interval: said without the full pass.
            let before = self.elapsed;
            if counted < 0 || self.next_at <= before.saturating_add(counted) {
                self.pass(clock, meters, counted, End::Closed(to));
            }
            self.elapsed = before.saturating_add(counted);
        }
    }

    /// Keeps `next_at` in step with `next` and the target.
    #[inline]
    fn aim(&mut self, clock: &CompiledClock) {
        self.next_at = self.next_amount(clock).unwrap_or(Nanos::MAX);
    }

    /// The business time at which the next threshold of this cycle passes; `None` once the
    /// target has.
    #[inline]
    fn next_amount(&self, clock: &CompiledClock) -> Option<Nanos> {
        let target = self.choice.target;
        match clock.warn.get(self.next) {
            Some(threshold) => Some(threshold.of(target)),
            None => (self.next == clock.warn.len()).then_some(target),
        }
    }

    /// Passes the thresholds (warnings, then the target) used up in the counting interval from
    /// `self.since` with `counted` business time, ending at `end`. At `now`, returns the first
    /// one still to pass, with when it would (its warning slot; the number of warnings for the
    /// breach).
    ///
    /// Whether a threshold passed is decided in business time; its instant is worked out only
    /// in the rare tie (used up exactly when the interval closes) and when asked for.
    fn pass(
        &mut self,
        clock: &CompiledClock,
        meters: &[Meter<'_>],
        counted: Nanos,
        end: End,
    ) -> Option<(usize, Timestamp)> {
        let before = self.elapsed;
        let calendar = self.choice.calendar;
        let slots = clock.warn.len();
        while let Some(amount) = self.next_amount(clock) {
            let slot = self.next;
            let (passage, passed) = if amount <= before {
                // Already used up when this interval began (a target change, or a pause at
                // the very instant): it passes at the interval's first working instant.
                let passage = Passage::Opening { calendar, from: self.since };
                let passed = counted > 0
                    || matches!(end, End::Now(now) if passage.instant(meters) == Some(now));
                (passage, passed)
            } else {
                let need = amount - before;
                let passage = Passage::Due {
                    calendar,
                    from: self.since,
                    reading: self.reading,
                    amount: need,
                };
                let passed = match end {
                    End::Now(_) => need <= counted,
                    End::Closed(to) => {
                        need < counted
                            || (need == counted
                                && passage.instant(meters).is_some_and(|instant| instant < to))
                    }
                };
                (passage, passed)
            };
            if !passed {
                return match end {
                    End::Now(_) => passage.instant(meters).map(|at| (slot, at)),
                    End::Closed(_) => None,
                };
            }
            match self.warned.get_mut(slot).filter(|_| slot < slots) {
                Some(warned) => *warned = passage,
                None => self.breached_at = Some(passage),
            }
            self.next += 1;
            self.aim(clock);
        }
        None
    }

    /// Starts a new cycle at `at`, keeping the breach of the one ending.
    fn new_cycle(&mut self, at: Timestamp) {
        if let Some(breached) = self.breached_at.take() {
            self.past_breaches.push((self.cycle, breached));
        }
        self.cycle += 1;
        self.elapsed = 0;
        self.next = 0;
        self.started_at = Some(at);
        self.stopped_at = None;
    }
}

/// The facts the engine holds, for tests: status, hold reason, priority, whether assigned,
/// category, CI and VIP kind.
#[cfg(test)]
pub(super) type FactsView = (
    Status,
    Option<HoldReason>,
    Priority,
    bool,
    Option<CategoryId>,
    Option<AssetRef>,
    Option<VipKind>,
);

/// The facts the engine holds after folding `history` (which must start with `logged`):
/// status, hold reason, priority, whether assigned, category, CI and VIP kind.
#[cfg(test)]
pub(super) fn final_facts(history: &[Recorded<Event>]) -> Option<FactsView> {
    let Event::Logged(logged) = &history.first()?.event else { return None };
    let mut facts = Facts::logged(logged);
    for recorded in &history[1..] {
        facts.fold(&recorded.event, &[]);
    }
    let Facts { status, hold, priority, assigned, category, ci, vip, .. } = facts;
    Some((status, hold, priority, assigned, category.cloned(), ci, vip))
}

/// What folding an event changed, as far as the clocks care.
#[derive(Debug, Clone, Copy, Default)]
struct Changed {
    /// The status, hold reason or team: what pausing and scopes read.
    state: bool,
    /// The priority, or (once refinements are matched again) the refinements that match.
    target: bool,
    /// The category, CI or VIP kind: refinements must be matched again.
    refinement: bool,
}

impl Changed {
    const ALL: Changed = Changed { state: true, target: true, refinement: true };
}

impl<'h> Facts<'h> {
    /// The facts of an incident just logged (refinements not matched yet).
    fn logged(logged: &'h Logged) -> Facts<'h> {
        Facts {
            status: Status::New,
            hold: None,
            priority: logged.assessment.priority,
            assigned: false,
            team: None,
            category: logged.category.as_ref(),
            ci: logged.affected_ci,
            vip: logged.assessment.vip,
            refined: 0,
        }
    }

    /// Folds `event` in and says what changed.
    #[inline(always)]
    fn fold(&mut self, event: &'h Event, teams: &[crate::id::TeamId]) -> Changed {
        let before = (self.status, self.hold, self.team);
        let mut changed = Changed::default();
        match event {
            Event::Assigned { to, .. }
            | Event::Routed { to: Some(to), .. }
            | Event::EscalatedFunctionally { to, .. }
            | Event::DeEscalatedFunctionally { to, .. } => {
                self.assigned = true;
                self.team = teams.iter().position(|team| *team == to.team);
                self.status = Status::Assigned;
                self.hold = None;
            }
            Event::WorkStarted { .. } | Event::Resumed { .. } => {
                self.status = Status::InProgress;
                self.hold = None;
            }
            Event::PutOnHold { reason, .. } => {
                self.status = Status::OnHold;
                self.hold = Some(*reason);
            }
            Event::Resolved { .. } => {
                self.status = Status::Resolved;
                self.hold = None;
            }
            Event::Closed => self.status = Status::Closed,
            Event::Reopened { .. } => {
                self.status = if self.assigned { Status::Assigned } else { Status::New };
            }
            Event::Cancelled { .. } => {
                self.status = Status::Cancelled;
                self.hold = None;
            }
            Event::MergedInto { .. } => {
                self.status = Status::Merged;
                self.hold = None;
            }
            Event::Reprioritised { to, .. } => {
                changed.target = self.priority != to.priority;
                changed.refinement = self.vip != to.vip;
                self.priority = to.priority;
                self.vip = to.vip;
            }
            Event::Recategorised { to, .. } => {
                self.category = Some(to);
                changed.refinement = true;
            }
            Event::AffectedCiChanged { to, .. } => {
                self.ci = *to;
                changed.refinement = true;
            }
            Event::Logged(_)
            | Event::Routed { to: None, .. }
            | Event::EscalatedHierarchically { .. }
            | Event::DeEscalatedHierarchically { .. }
            | Event::MajorDeclared { .. }
            | Event::MajorStoodDown { .. }
            | Event::CustomerUpdated { .. }
            | Event::WorkNoteAdded { .. }
            | Event::ParentLinked { .. }
            | Event::ParentUnlinked { .. }
            | Event::ChildAdopted { .. }
            | Event::ChildReleased { .. }
            | Event::DuplicateAbsorbed { .. }
            | Event::SlaWarningPassed { .. }
            | Event::SlaBreached { .. } => {}
        }
        changed.state = before != (self.status, self.hold, self.team);
        changed
    }
}
