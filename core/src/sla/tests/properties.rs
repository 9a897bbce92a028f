//! Properties of the clocks over random incident histories: random commands (refused ones
//! dropped, as the desk would), at random times through 2026 (both clock changes included).

use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::regressions::in_working_time_or_at_a_close;
use super::story::{CALENDARS, COUNCIL_POLICY, Story, calendar, policy};
use crate::Timestamp;
use crate::incident::{Command, HoldReason};
use crate::record::EventInfo;
use crate::sla::{Clock, ClockState, IntervalKind, Policy, evaluate, explain};

#[derive(Debug, Clone)]
enum Action {
    Assign(usize),
    Start,
    Hold(usize),
    Resume,
    Update,
    Note,
    Resolve,
    Reopen,
    Close,
    Cancel,
    Reprioritise(u8),
    Recategorise(usize),
}

const TEAMS: [&str; 4] = ["service-desk", "networks", "desk-side", "supplier-telecoms"];
const HOLDS: [HoldReason; 3] =
    [HoldReason::AwaitingCustomer, HoldReason::AwaitingSupplier, HoldReason::AwaitingChange];
const CATEGORIES: [&str; 3] = ["hardware/laptop", "applications/social-care", "network/wifi"];

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..TEAMS.len()).prop_map(Action::Assign),
        3 => Just(Action::Start),
        2 => (0..HOLDS.len()).prop_map(Action::Hold),
        2 => Just(Action::Resume),
        2 => Just(Action::Update),
        1 => Just(Action::Note),
        2 => Just(Action::Resolve),
        1 => Just(Action::Reopen),
        1 => Just(Action::Close),
        1 => Just(Action::Cancel),
        2 => (1u8..=5).prop_map(Action::Reprioritise),
        1 => (0..CATEGORIES.len()).prop_map(Action::Recategorise),
    ]
}

/// Minutes to wait before an action: often none, often a little, now and then days.
fn wait() -> impl Strategy<Value = i64> {
    prop_oneof![2 => Just(0i64), 5 => 1i64..=240, 2 => 240i64..=3_000, 1 => 3_000i64..=12_000]
}

/// A random incident: logged at a random minute of 2026 with a random priority, then steps.
fn story() -> impl Strategy<Value = Story> {
    (0i64..365 * 24 * 60, 1u8..=5, prop::collection::vec((wait(), action()), 0..30)).prop_map(
        |(offset, priority, steps)| {
            let start =
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::minutes(offset);
            let mut story = Story::logged(&start.to_rfc3339(), priority);
            for (minutes, action) in steps {
                story.after(TimeDelta::minutes(minutes));
                let _refused_or_not = story.attempt(command(&action));
            }
            story
        },
    )
}

fn command(action: &Action) -> Command {
    use crate::incident::AssignTo;
    use crate::priority::{Impact, Urgency};
    use crate::record::Visibility;
    match action {
        Action::Assign(team) => {
            Command::Assign(AssignTo { team: TEAMS[*team].parse().unwrap(), agent: None })
        }
        Action::Start => Command::Start { agent: None },
        Action::Hold(reason) => {
            Command::PutOnHold { reason: HOLDS[*reason], note: "Waiting".into() }
        }
        Action::Resume => Command::Resume { note: String::new() },
        Action::Update => {
            Command::AddUpdate { visibility: Visibility::Public, text: "News".into() }
        }
        Action::Note => {
            Command::AddUpdate { visibility: Visibility::Internal, text: "Note".into() }
        }
        Action::Resolve => {
            Command::Resolve { code: "fixed".parse().unwrap(), notes: "Fixed".into() }
        }
        Action::Reopen => Command::Reopen { reason: "Back".into() },
        Action::Close => Command::Close,
        Action::Cancel => Command::Cancel { reason: "Duplicate".into() },
        Action::Reprioritise(p) => {
            let (impact, urgency) = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3)][usize::from(*p) - 1];
            Command::Reprioritise {
                impact: Impact::level(impact).unwrap(),
                urgency: Urgency::level(urgency).unwrap(),
                reason: "Reassessed".into(),
            }
        }
        Action::Recategorise(c) => {
            Command::Recategorise { category: CATEGORIES[*c].parse().unwrap() }
        }
    }
}

/// A policy of hour targets on `calendar`, with the resolution clock reacting to priority
/// changes as `on_priority_change` says, its targets per priority or `flat`.
fn variant(calendar: &str, on_priority_change: &str, flat: bool) -> Policy {
    let resolution = if flat {
        "{ P1 = \"8h\", P2 = \"8h\", P3 = \"8h\", P4 = \"8h\", P5 = \"8h\" }"
    } else {
        "{ P1 = \"4h\", P2 = \"8h\", P3 = \"20h\", P4 = \"40h\", P5 = \"80h\" }"
    };
    policy(&format!(
        r#"name = "hours"
version = 1

[[clock]]
id = "response"
kind = "response"
calendar = "{calendar}"
targets = {{ P1 = "15m", P2 = "30m", P3 = "2h", P4 = "4h", P5 = "8h" }}
start_on = ["logged"]
stop_on = ["work_started", "customer_updated", "resolved"]
cancel_on = ["cancelled", "merged_into"]
warn_at = [50, 75, 90]
on_priority_change = "restart"

[[clock]]
id = "resolution"
kind = "resolution"
calendar = "{calendar}"
targets = {resolution}
start_on = ["logged"]
stop_on = ["resolved"]
resume_on = ["reopened"]
cancel_on = ["cancelled", "merged_into"]
pause_while = ["on_hold:awaiting_customer", "on_hold:awaiting_supplier"]
warn_at = [25, 50, 90]
on_priority_change = "{on_priority_change}"

[[clock]]
id = "update"
kind = "update"
calendar = "{calendar}"
targets = {{ P1 = "1h", P2 = "2h", P3 = "8h", P4 = "16h", P5 = "40h" }}
start_on = ["work_started", "customer_updated"]
reset_on = ["customer_updated", "reopened"]
stop_on = ["closed"]
pause_while = ["on_hold:awaiting_customer", "resolved"]
warn_at = [75]

[[clock]]
id = "ola"
kind = "ola"
team = "networks"
calendar = "{calendar}"
targets = {{ P1 = "2h", P2 = "6h", P3 = "16h", P4 = "32h", P5 = "64h" }}
stop_on = ["resolved"]
resume_on = ["reopened"]
pause_while = ["on_hold"]
warn_at = [50]
"#
    ))
}

fn clocks(story: &Story, policy: &Policy, now: Timestamp) -> Vec<Clock> {
    evaluate(&story.history, policy, &CALENDARS, now).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn clocks_keep_their_invariants(story in story(), later in 0i64..20_000, more in 1i64..20_000) {
        let now = story.now + TimeDelta::minutes(later);
        let logged = story.history[0].at;
        let council = clocks(&story, &COUNCIL_POLICY, now);
        for clock in &council {
            // Business time never exceeds wall time
            let since = clock.started_at.unwrap_or(logged);
            prop_assert!(clock.elapsed <= now - since, "{}: {:?} > wall", clock.id, clock.elapsed);
            prop_assert!(clock.remaining >= TimeDelta::zero());
            // Every instant the engine names is in working time or at a close, on the calendar
            // in force then (a priority change may have moved the clock to another calendar)
            let explained = explain(&story.history, &COUNCIL_POLICY, &CALENDARS, &clock.id, now).unwrap();
            let calendars_at = |instant: Timestamp| {
                explained
                    .intervals
                    .iter()
                    .filter(move |i| i.from <= instant && instant <= i.to)
                    .map(|i| i.calendar.clone())
                    .chain(std::iter::once(explained.target.calendar.clone()))
            };
            let named = clock.warnings.iter().map(|w| w.at).chain(clock.breached_at).chain(clock.next_wake).chain(clock.due);
            for instant in named {
                let ok = calendars_at(instant).any(|name| in_working_time_or_at_a_close(calendar(name.as_str()), instant));
                prop_assert!(ok, "{} at {instant}: {clock:?}", clock.id);
            }
            // Only running clocks have a due instant or a wake-up
            if clock.state != ClockState::Running {
                prop_assert_eq!((clock.due, clock.next_wake), (None, None));
            }
            // Explained: paused time never counts, counted time is the calendar's, and the
            // current cycle's intervals add up to the elapsed time
            let mut cycle_total = TimeDelta::zero();
            for interval in &explained.intervals {
                let expected = match interval.kind {
                    IntervalKind::Counted => calendar(interval.calendar.as_str()).elapsed(interval.from, interval.to),
                    IntervalKind::Paused | IntervalKind::NotRunning => TimeDelta::zero(),
                };
                prop_assert_eq!(interval.counted, expected);
                if interval.cycle == clock.cycle {
                    cycle_total += interval.counted;
                }
            }
            prop_assert_eq!(cycle_total, clock.elapsed, "{}", clock.id);
            prop_assert_eq!(&explained.clock, clock);
            // JSON round trip (the histories use whole seconds)
            let json = serde_json::to_string(clock).unwrap();
            prop_assert_eq!(&serde_json::from_str::<Clock>(&json).unwrap(), clock);
        }
        // Asked again later with nothing new: what has passed stays passed, at the same instant,
        // and what was due to wake has passed at that very instant
        let then = now + TimeDelta::minutes(more);
        for (early, late) in council.iter().zip(clocks(&story, &COUNCIL_POLICY, then)) {
            prop_assert_eq!(early.cycle, late.cycle);
            prop_assert!(late.elapsed >= early.elapsed);
            if early.breached_at.is_some() {
                prop_assert_eq!(early.breached_at, late.breached_at);
            }
            prop_assert!(late.warnings.starts_with(&early.warnings), "{:?} then {:?}", early.warnings, late.warnings);
            if let Some(wake) = early.next_wake.filter(|wake| *wake <= then) {
                let passed = late.warnings.iter().map(|w| w.at).chain(late.breached_at);
                prop_assert!(passed.into_iter().any(|at| at == wake), "{}: woke at {wake} for nothing", early.id);
            }
            // A running clock with time left reaches its target exactly at its due instant
            let time_left = early.breached_at.is_none() && early.remaining > TimeDelta::zero();
            if let (Some(due), true) = (early.due, time_left) {
                let at_due = clocks(&story, &COUNCIL_POLICY, due);
                let at_due = at_due.iter().find(|c| c.id == early.id).unwrap();
                prop_assert_eq!(at_due.elapsed, early.target, "{}", early.id);
                prop_assert_eq!(at_due.breached_at, Some(due));
            }
        }
        // Recording every mark the engine asks for changes nothing else (a finished incident
        // takes none)
        if story.incident().status.is_terminal() {
            return Ok(());
        }
        let mut recorded = story.clone();
        recorded.now = now;
        for command in council.iter().flat_map(Clock::unrecorded) {
            prop_assert_eq!(recorded.attempt(command), Ok(1));
        }
        let again = clocks(&recorded, &COUNCIL_POLICY, now);
        for (before, after) in council.iter().zip(&again) {
            prop_assert!(after.unrecorded().is_empty());
            prop_assert_eq!((&before.warnings.len(), before.breached_at, before.elapsed), (&after.warnings.len(), after.breached_at, after.elapsed));
        }
    }

    #[test]
    fn the_engine_folds_the_facts_as_the_incident_does(story in story()) {
        let incident = story.incident();
        let expected = (
            incident.status,
            incident.hold_reason,
            incident.priority(),
            incident.assignment.is_some(),
            incident.category.clone(),
            incident.affected_ci,
            incident.assessment.vip,
        );
        prop_assert_eq!(crate::sla::engine::final_facts(&story.history), Some(expected));
    }

    #[test]
    fn business_time_is_within_round_the_clock_time(story in story(), later in 0i64..20_000) {
        let now = story.now + TimeDelta::minutes(later);
        let core = clocks(&story, &variant("core-hours", "keep_elapsed", false), now);
        let always = clocks(&story, &variant("24x7", "keep_elapsed", false), now);
        for (core, always) in core.iter().zip(&always) {
            // The same events drive both; only the calendar differs
            prop_assert_eq!((core.state, core.cycle), (always.state, always.cycle));
            prop_assert!(core.elapsed <= always.elapsed, "{}", core.id);
            let since = always.started_at.unwrap_or(story.history[0].at);
            prop_assert!(always.elapsed <= now - since);
        }
        // On 24×7 a resolution clock never paused or stopped counts the whole wall time
        let resolution = &always[1];
        let paused = story.history.iter().any(|r| matches!(r.event.name(), "put_on_hold" | "resolved" | "cancelled"));
        if !paused {
            prop_assert_eq!(resolution.elapsed, now - story.history[0].at);
        }
    }

    #[test]
    fn keep_elapsed_counts_as_if_the_priority_never_changed_and_restart_counts_less(
        story in story(),
        later in 0i64..20_000,
    ) {
        let now = story.now + TimeDelta::minutes(later);
        let flat = &clocks(&story, &variant("core-hours", "keep_elapsed", true), now)[1];
        let keep = &clocks(&story, &variant("core-hours", "keep_elapsed", false), now)[1];
        let restart = &clocks(&story, &variant("core-hours", "restart", false), now)[1];
        // Keeping elapsed time: the counting is that of a clock whose target never changes
        prop_assert_eq!((keep.elapsed, keep.cycle, keep.state), (flat.elapsed, flat.cycle, flat.state));
        // Restarting: never more time, and a new cycle per change that took effect
        prop_assert!(restart.elapsed <= keep.elapsed);
        prop_assert!(restart.cycle >= keep.cycle);
        let changed = story.history.iter().any(|r| matches!(&r.event,
            crate::incident::Event::Reprioritised { from, to, .. } if from.priority != to.priority));
        if !changed {
            prop_assert_eq!((restart.elapsed, restart.cycle), (keep.elapsed, keep.cycle));
        }
    }
}
