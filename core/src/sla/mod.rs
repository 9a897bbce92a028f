//! Service level agreements: policies, and the clocks they put on an incident.
//!
//! Every SLA input is an event. An incident's clocks are a pure function of its recorded
//! events, a [`Policy`] version, the business [calendars](crate::calendar::Calendars) and the time asked about:
//! [`evaluate`] folds the history once and returns one [`Clock`] per clock of the policy —
//! state, business time elapsed and remaining, due instant, warnings passed, breach — and when
//! the engine next needs waking ([`next_wake`]), so a scheduler sleeps until then instead of
//! polling. [`explain`] shows the intervals behind one clock, each with the event that began
//! it; [`what_if`] re-runs recorded incidents under another policy version.
//!
//! # The policy file
//!
//! ```toml
//! name = "council-standard"         # a slug
//! version = 3                       # a new version for every change to a policy in use
//! business_day = "9h45m"            # what "1d" means in a target (needed only if one uses d)
//!
//! [[clock]]
//! id = "resolution"
//! kind = "resolution"               # response | update | resolution | ola | underpinning
//! calendar = "core-hours"           # a calendar by name
//! calendar_by_priority = { P1 = "24x7" }
//! targets = { P1 = "4h", P2 = "8h", P3 = "3d", P4 = "5d", P5 = "10d" }
//! start_on = ["logged"]
//! stop_on = ["resolved"]
//! resume_on = ["reopened"]
//! cancel_on = ["cancelled", "merged_into"]
//! pause_while = ["on_hold:awaiting_customer", "on_hold:awaiting_supplier"]
//! warn_at = [50, 75, 90]
//! on_priority_change = "keep_elapsed"   # or "restart"
//!
//! [[clock.refinement]]              # first match with a target for the priority wins
//! vip = ["elected_member", "chief_officer"]
//! targets = { P3 = "1d", P4 = "2d" }
//! ```
//!
//! [`Policy::from_toml`] reads it through [`crate::config::TomlSource`], so every mistake is
//! reported with the file, line and key (`council.toml:14:1: clock[1].warn_at[2]: warning
//! thresholds must rise: 75 % then 60 %`).
//!
//! - **Targets** are business time on the clock's calendar: `"15m"`, `"4h"`, `"9h45m"`,
//!   `"3d"`, `"1d4h"` ([`BusinessDuration`]). A **day is the policy's `business_day`**, not 24
//!   hours: on core hours 07:45–17:30 `business_day = "9h45m"` makes `"3d"` three working
//!   days. A target in days on a calendar open around the clock is refused (write `"24h"`), as
//!   is a target in days when the policy has no `business_day`. Every clock gives a target for
//!   every priority from P1 to the least urgent the desk's matrix can give.
//! - **Calendars**: `calendar` for the clock, `calendar_by_priority` for some priorities (P1 on
//!   `24x7`). A refinement's target runs on the calendar of its priority.
//! - **Refinements** (`[[clock.refinement]]`) override some priorities' targets for incidents
//!   whose `category` (a category matches its sub-categories), affected `ci` or requester's
//!   `vip` kind is listed. Conditions given must all hold; the first refinement in file order
//!   that matches and has a target for the incident's priority wins, else the clock's target.
//! - **Conditions** name incident events ([`EVENT_NAMES`]); the events that record SLA marks
//!   cannot be named, so recording a warning never moves a clock. What they do depends on the
//!   clock's phase:
//!
//!   | list | applies when the clock is | and then |
//!   |---|---|---|
//!   | `start_on` | not started | it starts its first cycle |
//!   | `stop_on` | active (running or paused) | it stops: the target is met or missed |
//!   | `resume_on` | stopped | it runs on in the same cycle, its time kept |
//!   | `reset_on` | active or stopped | a new cycle starts: nothing counted, no warnings |
//!   | `cancel_on` | not started or active | it is cancelled and never judged |
//!
//!   An event may be in `start_on` and in `resume_on` or `reset_on` (they apply to different
//!   phases); any other overlap is refused. A stopped clock keeps its result when the incident
//!   is later cancelled.
//! - **Pausing** is a state, not an event: an active clock counts unless the incident is in
//!   one of its `pause_while` states (`"on_hold"`, `"on_hold:awaiting_customer"`, `"resolved"`,
//!   …, see [`StatePattern`]); it resumes by itself when the state ends.
//! - **Kinds**: `response`, `update` and `resolution` clocks need `start_on` and may not have a
//!   `team` or `run_while`. An `ola` clock names its resolver `team`; an `underpinning` clock
//!   names its supplier's `team` or the states the supplier holds the incident in (`run_while =
//!   ["on_hold:awaiting_supplier"]`), or both. These scoped clocks count only while the
//!   incident is with the team and in a `run_while` state (otherwise they are paused), and
//!   start the first time that holds unless they list `start_on` events.
//! - **Warnings**: `warn_at` lists at most eight rising percentages from 1 to 99.
//! - **Priority changes**: `keep_elapsed` keeps the business time counted and measures it
//!   against the new target (on the new priority's calendar from the change on); `restart`
//!   starts a new cycle at the change. A change of category, CI or VIP kind that selects
//!   another target always keeps the elapsed time. Stopped clocks keep the target they stopped
//!   with; a clock resumed after a priority change takes the new one under the same rule.
//!
//! # How a clock is computed
//!
//! The engine folds the history once, keeping a handful of facts (status, hold reason,
//! priority, category, CI, team, VIP kind), and per clock the phase, the cycle, the target in
//! force and the business time counted in closed intervals. Only the clocks an event can
//! concern look at it: those its conditions name, those whose counting it turns on or off and
//! those it lets start, found with a few bit operations on masks compiled with the policy (per
//! incident state, the clocks counting there). The calendar is asked only when a counting interval closes or opens, by
//! one reading of its meter per instant however many clocks change there
//! ([`BusinessCalendar::reading`](crate::calendar::BusinessCalendar::reading)); whether a
//! threshold passed is decided in business time, and turned back into an instant only for the
//! warnings and breaches reported (many pass in keep-in-loop cycles that a reset throws away).
//!
//! - **Elapsed** is the sum of the calendar's business time over the intervals in which the
//!   clock counted. Paused time is never counted, on any calendar: the pause and the deadline
//!   use the same calendar because the deadline is computed from the elapsed time.
//! - **Due** (while running) is the instant the calendar says the remaining target is used up,
//!   counted from the current interval's start: always inside working time or exactly at the
//!   close of a period, never at midnight or on a weekend the calendar is closed.
//! - **Warnings and the breach** pass at the instant their share of the target is used up
//!   *while the clock counts*: a clock stopped or paused exactly at that instant has not passed
//!   it; one still running has. When a target change leaves a threshold already used up, it
//!   passes at the first working instant after the change. Within a cycle they are facts: a
//!   later change of priority never takes back a warning or a breach. A new cycle starts
//!   clean; the breaches of earlier cycles are kept in [`Clock::past_breaches`].
//! - **Next wake** (while running) is the instant the next warning or the breach will pass.
//!   Paused, stopped and cancelled clocks need no waking: only a new event can move them, and
//!   the caller re-evaluates after every event.
//! - **Recording marks**: the desk records a passed warning or breach on the incident with
//!   [`crate::incident::Command::RecordSlaWarning`] and
//!   [`crate::incident::Command::RecordSlaBreach`] (idempotent per clock, cycle and mark);
//!   [`Clock::unrecorded`] lists the commands still to send. Those events never move a clock.
//! - **Incomplete histories are refused**: a history must start with `logged` at seq 1 and
//!   continue without gaps, in time order, for one record, and `now` must not be before its
//!   last event. A clock recomputed from a partial history would be wrong without saying so.

mod clock;
mod engine;
mod example;
mod explain;
mod policy;
mod terms;

pub use self::clock::{
    Clock, ClockState, Mark, Passed, PastBreach, Summary, Upcoming, Warning, next_wake,
};
pub use self::engine::evaluate;
pub use self::explain::{
    Comparison, Explanation, Interval, IntervalKind, Outcome, PolicyRef, Refusal, TargetChoice,
    Totals, WhatIf, explain, what_if,
};
pub use self::policy::{
    ClockDefinition, ClockKind, MAX_CLOCKS, MAX_REFINEMENTS, MAX_WARNINGS, OnPriorityChange,
    Policy, PolicyDefinition, Refinement,
};
pub use self::terms::{BusinessDuration, EVENT_NAMES, EventName, StatePattern, Threshold};

use crate::Timestamp;
use crate::id::{CalendarId, CategoryId, ClockId, RecordId, TeamId};
use crate::priority::Priority;

/// A policy is invalid, or a history cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlaError {
    /// A duration is not written like `15m`, `4h`, `9h45m` or `3d`.
    #[error("`{0}` is not a duration like 15m, 4h, 9h45m or 3d")]
    MalformedDuration(String),
    /// A warning threshold is not a percentage from 1 to 99.
    #[error("a warning threshold is a percentage from 1 to 99, not {0}")]
    ThresholdOutOfRange(i64),
    /// Warning thresholds do not rise.
    #[error("warning thresholds must rise: {previous} then {next}")]
    ThresholdsNotRising {
        /// The earlier threshold.
        previous: Threshold,
        /// The one after it.
        next: Threshold,
    },
    /// A policy has too many clocks.
    #[error("a policy has at most {max} clocks")]
    TooManyClocks {
        /// The limit.
        max: usize,
    },
    /// A clock has too many warning thresholds.
    #[error("a clock has at most {max} warning thresholds")]
    TooManyThresholds {
        /// The limit.
        max: usize,
    },
    /// A condition names something that is not an incident event.
    #[error("`{0}` is not an incident event (e.g. logged, work_started, put_on_hold, resolved)")]
    UnknownEvent(String),
    /// A condition names an event that records an SLA mark.
    #[error("`{0}` records an SLA mark and never moves a clock")]
    MarkEvent(String),
    /// A state pattern is not a status, or a hold reason is given for another status.
    #[error("`{0}` is not an incident state like on_hold, on_hold:awaiting_customer or resolved")]
    MalformedState(String),
    /// The policy's name is not a slug.
    #[error("`{0}` is not a policy name (letters, digits, . _ @ / -)")]
    InvalidName(String),
    /// The policy's version is zero.
    #[error("a policy version is a whole number from 1")]
    InvalidVersion,
    /// The business day is not between a minute and 24 hours, in hours and minutes.
    #[error("business_day must be written in hours and minutes, from 1m to 24h, not `{0}`")]
    InvalidBusinessDay(BusinessDuration),
    /// The policy has no clock.
    #[error("a policy needs at least one [[clock]]")]
    NoClocks,
    /// Two clocks share an identifier.
    #[error("clock `{0}` is defined twice")]
    DuplicateClock(ClockId),
    /// A target is zero.
    #[error("a target must be more than zero")]
    ZeroTarget,
    /// A target is in days but the policy does not say how long its business day is.
    #[error("`{0}` is in days: set business_day at the top of the policy")]
    DaysWithoutBusinessDay(BusinessDuration),
    /// A target in days runs on a calendar open around the clock.
    #[error("`{target}` runs on `{calendar}`, which never closes: write the target in hours")]
    DaysOnRoundTheClock {
        /// The target.
        target: BusinessDuration,
        /// The calendar.
        calendar: CalendarId,
    },
    /// A clock or refinement lists no targets.
    #[error("no targets are given")]
    NoTargets,
    /// A priority between P1 and the least urgent one has no target.
    #[error("no target for {0}: give one for every priority from P1 down")]
    MissingPriority(Priority),
    /// A calendar or refinement is given for a priority the clock has no target for.
    #[error("{0} has no target in this clock")]
    NoTargetFor(Priority),
    /// A refinement has no condition.
    #[error("a refinement needs at least one of category, ci or vip")]
    EmptyRefinement,
    /// The policy has too many refinements.
    #[error("a policy has at most {max} refinements in all")]
    TooManyRefinements {
        /// The limit.
        max: usize,
    },
    /// An event is in two condition lists that would contradict each other.
    #[error("`{event}` is in both {first} and {second}")]
    ConflictingConditions {
        /// The event.
        event: EventName,
        /// The first list.
        first: &'static str,
        /// The second list.
        second: &'static str,
    },
    /// A clock of this kind lacks something it needs.
    #[error("a {kind} clock needs {what}")]
    KindNeeds {
        /// The kind.
        kind: ClockKind,
        /// What it needs.
        what: &'static str,
    },
    /// A clock of this kind has something it may not.
    #[error("a {kind} clock cannot have {what}")]
    KindRefuses {
        /// The kind.
        kind: ClockKind,
        /// What it may not have.
        what: &'static str,
    },
    /// A calendar is not among the desk's calendars.
    #[error("unknown calendar `{0}`")]
    UnknownCalendar(CalendarId),
    /// A team is not in the desk's configuration.
    #[error("unknown team `{0}`")]
    UnknownTeam(TeamId),
    /// A category is neither configured nor the parent of a configured one.
    #[error("unknown category `{0}`")]
    UnknownCategory(CategoryId),
    /// The policy has no clock with this identifier.
    #[error("policy `{policy}` has no clock `{clock}`")]
    UnknownClock {
        /// The policy.
        policy: String,
        /// The clock asked for.
        clock: ClockId,
    },
    /// The incident's priority has no target in a clock (a policy not checked against the desk).
    #[error("clock `{clock}` has no target for {priority}")]
    NoTarget {
        /// The clock.
        clock: ClockId,
        /// The priority.
        priority: Priority,
    },
    /// The history is empty.
    #[error("the history is empty: an incident's history starts with `logged`")]
    EmptyHistory,
    /// The history does not start with the incident being logged at seq 1.
    #[error("{record}: the history starts with `{event}` at seq {seq}, not `logged` at seq 1")]
    NotFromTheStart {
        /// The record.
        record: RecordId,
        /// The first event's seq.
        seq: u64,
        /// The first event.
        event: &'static str,
    },
    /// An event's seq does not follow the one before it.
    #[error("{record}: seq {found} follows seq {previous}: the history is incomplete")]
    SeqGap {
        /// The record.
        record: RecordId,
        /// The seq before.
        previous: u64,
        /// The seq found.
        found: u64,
    },
    /// An event is earlier than the one before it.
    #[error("{record}: seq {seq} at {at} is earlier than the event before it, at {previous}")]
    TimeWentBack {
        /// The record.
        record: RecordId,
        /// The offending event's seq.
        seq: u64,
        /// Its time.
        at: Timestamp,
        /// The previous event's time.
        previous: Timestamp,
    },
    /// The history holds events of two records.
    #[error("the history of {record} holds an event of {other} at seq {seq}")]
    MixedRecords {
        /// The record the history starts with.
        record: RecordId,
        /// The other record.
        other: RecordId,
        /// The offending event's seq.
        seq: u64,
    },
    /// The incident is logged a second time.
    #[error("{record}: logged again at seq {seq}")]
    LoggedTwice {
        /// The record.
        record: RecordId,
        /// The offending event's seq.
        seq: u64,
    },
    /// The time asked about is before the history's last event.
    #[error("{record}: asked about {now}, before its last event at {last}")]
    NowBeforeHistory {
        /// The record.
        record: RecordId,
        /// The time asked about.
        now: Timestamp,
        /// The last event's time.
        last: Timestamp,
    },
}

#[cfg(test)]
mod tests;
