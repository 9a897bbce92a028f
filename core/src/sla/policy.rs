//! The SLA policy file: a [`PolicyDefinition`] written in TOML, checked and compiled into a
//! [`Policy`].
//!
//! See the [module docs](super) for the format and what each key means.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::SlaError;
use super::terms::{BusinessDuration, EventName, StatePattern, Threshold};
use crate::calendar::Calendars;
use crate::config::{ConfigError, DeskConfig, KeyPath, TomlSource};
use crate::id::{AssetRef, CalendarId, CategoryId, ClockId, TeamId, is_slug};
use crate::people::VipKind;
use crate::priority::Priority;

/// What a clock measures. The kind decides which keys a clock must or may have (see the
/// [module docs](super)); the engine treats every kind alike.
///
/// JSON and TOML shape: `"response"`, `"update"`, `"resolution"`, `"ola"`, `"underpinning"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Time to the first response.
    Response,
    /// Keep-in-loop: time between customer-visible updates.
    Update,
    /// Time to resolution.
    Resolution,
    /// An operational level agreement: the time one resolver team holds the incident.
    Ola,
    /// An underpinning contract: the time an external supplier holds the incident.
    Underpinning,
}

impl ClockKind {
    /// The name used in JSON and TOML.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClockKind::Response => "response",
            ClockKind::Update => "update",
            ClockKind::Resolution => "resolution",
            ClockKind::Ola => "ola",
            ClockKind::Underpinning => "underpinning",
        }
    }

    /// Whether clocks of this kind count only while the incident is with a team or in a state.
    pub const fn is_scoped(self) -> bool {
        matches!(self, ClockKind::Ola | ClockKind::Underpinning)
    }
}

impl std::fmt::Display for ClockKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a clock does when the incident's priority changes while it runs.
///
/// JSON and TOML shape: `"keep_elapsed"` (the default) or `"restart"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnPriorityChange {
    /// Keep the business time counted so far and measure it against the new target.
    #[default]
    KeepElapsed,
    /// Start a new cycle from the change, with nothing counted.
    Restart,
}

/// A policy file, as written.
///
/// JSON shape (the same keys as the TOML file): `{"name": "council-standard", "version": 1,
/// "description": "…", "business_day": "9h45m", "clock": [ClockDefinition, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDefinition {
    /// The policy's name, a slug (`council-standard`).
    pub name: String,
    /// Its version: every change to a policy in use gets a new one, so a clock can say which
    /// definition it was computed under.
    pub version: u32,
    /// What it is for, for people.
    #[serde(default)]
    pub description: String,
    /// How much business time `1d` is in a target. Needed only if a target is written in days.
    #[serde(default)]
    pub business_day: Option<BusinessDuration>,
    /// The clocks every incident under this policy gets.
    #[serde(rename = "clock")]
    pub clocks: Vec<ClockDefinition>,
}

/// One clock of a policy (`[[clock]]`), as written.
///
/// JSON shape: an object with the keys below; the lists and maps may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockDefinition {
    /// Its identifier within the policy.
    pub id: ClockId,
    /// What it measures.
    pub kind: ClockKind,
    /// The calendar its business time is counted on.
    pub calendar: CalendarId,
    /// Other calendars for some priorities (`{ P1 = "24x7" }`).
    #[serde(default)]
    pub calendar_by_priority: BTreeMap<Priority, CalendarId>,
    /// The target per priority, P1 down to the least urgent.
    pub targets: BTreeMap<Priority, BusinessDuration>,
    /// Targets for incidents of some categories, CIs or VIP requesters; the first that
    /// matches and has a target for the priority wins.
    #[serde(default, rename = "refinement")]
    pub refinements: Vec<Refinement>,
    /// For `ola` and `underpinning` clocks: the team whose time it measures.
    #[serde(default)]
    pub team: Option<TeamId>,
    /// Events that start the clock.
    #[serde(default)]
    pub start_on: Vec<EventName>,
    /// Events that stop it (the target is then met or missed).
    #[serde(default)]
    pub stop_on: Vec<EventName>,
    /// Events that set a stopped clock going again, with its time kept.
    #[serde(default)]
    pub resume_on: Vec<EventName>,
    /// Events that start a new cycle: nothing counted, warnings and breach cleared.
    #[serde(default)]
    pub reset_on: Vec<EventName>,
    /// Events that cancel a clock that has not stopped: it will never be judged.
    #[serde(default)]
    pub cancel_on: Vec<EventName>,
    /// States in which the clock does not count.
    #[serde(default)]
    pub pause_while: Vec<StatePattern>,
    /// For `ola` and `underpinning` clocks: the only states in which it counts.
    #[serde(default)]
    pub run_while: Vec<StatePattern>,
    /// Warning thresholds, rising percentages of the target.
    #[serde(default)]
    pub warn_at: Vec<Threshold>,
    /// What a change of priority does to a running clock.
    #[serde(default)]
    pub on_priority_change: OnPriorityChange,
}

/// Targets that apply to some incidents only (`[[clock.refinement]]`).
///
/// Every condition given must hold (a category matches itself and its sub-categories:
/// `network` matches `network/wifi`); within a list, any entry may match.
///
/// JSON shape: `{"category": ["network"], "ci": ["AST-000042"], "vip": ["elected_member"],
/// "targets": {"P3": "1d"}}`; the condition lists may be left out, but not all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refinement {
    /// Categories (and their sub-categories).
    #[serde(default)]
    pub category: Vec<CategoryId>,
    /// Affected configuration items or services.
    #[serde(default)]
    pub ci: Vec<AssetRef>,
    /// VIP kinds of the requester.
    #[serde(default)]
    pub vip: Vec<VipKind>,
    /// The targets it sets, for some priorities.
    pub targets: BTreeMap<Priority, BusinessDuration>,
}

impl Refinement {
    /// Whether an incident with this category, CI and requester matches.
    pub fn matches(
        &self,
        category: Option<&CategoryId>,
        ci: Option<AssetRef>,
        vip: Option<VipKind>,
    ) -> bool {
        let category_matches = self.category.is_empty()
            || category.is_some_and(|c| self.category.iter().any(|wanted| within(c, wanted)));
        let ci_matches = self.ci.is_empty() || ci.is_some_and(|ci| self.ci.contains(&ci));
        let vip_matches = self.vip.is_empty() || vip.is_some_and(|vip| self.vip.contains(&vip));
        category_matches && ci_matches && vip_matches
    }
}

/// Whether `category` is `wanted` or one of its sub-categories.
fn within(category: &CategoryId, wanted: &CategoryId) -> bool {
    let (category, wanted) = (category.as_str(), wanted.as_str());
    category == wanted || category.strip_prefix(wanted).is_some_and(|rest| rest.starts_with('/'))
}

/// The most warning thresholds a clock may have.
pub const MAX_WARNINGS: usize = 8;

/// The most refinements a policy may have, over all its clocks.
pub const MAX_REFINEMENTS: usize = 64;

/// The most clocks a policy may have.
pub const MAX_CLOCKS: usize = 64;

/// A checked policy, compiled for the engine. Cheap to evaluate, not to build.
///
/// JSON shape: that of its [`PolicyDefinition`]; reading one checks and compiles it (but
/// cannot check its calendars and teams: see [`Policy::check_against`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyDefinition", into = "PolicyDefinition")]
pub struct Policy {
    definition: PolicyDefinition,
    compiled: Compiled,
}

/// The policy in the engine's terms: masks, dense indexes, targets as business time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Compiled {
    pub(super) clocks: Vec<CompiledClock>,
    /// The calendars the clocks name, each once.
    pub(super) calendars: Vec<CalendarId>,
    /// The teams the clocks name, each once.
    pub(super) teams: Vec<TeamId>,
    /// Every refinement of every clock, as `(clock, refinement)` indexes.
    pub(super) refinements: Vec<(usize, usize)>,
    /// Per incident event (by its index in [`super::EVENT_NAMES`]), the clocks (as bits) whose
    /// conditions name it.
    pub(super) listeners: [u64; 32],
    /// The clocks (as bits) that start by themselves once in scope.
    pub(super) start_in_scope: u64,
    /// Per situation (by the position of its bit, see [`super::terms::situation`]), the clocks
    /// (as bits) in scope there, teams left aside.
    pub(super) in_scope: [u64; 16],
    /// Per situation, the clocks (as bits) that count there while active, teams left aside.
    pub(super) counting: [u64; 16],
    /// The clocks (as bits) confined to no team.
    pub(super) teamless: u64,
    /// Per team in `teams`, the clocks (as bits) confined to it.
    pub(super) by_team: Vec<u64>,
}

impl Compiled {
    /// The clocks (as bits) whose team, if they have one, holds the incident: `team` is the
    /// index into `teams` of the team that does.
    #[inline]
    pub(super) fn team_allows(&self, team: Option<usize>) -> u64 {
        self.teamless | team.and_then(|team| self.by_team.get(team)).copied().unwrap_or(0)
    }
}

/// What a priority's target is, for one clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Goal {
    pub(super) target: TimeDelta,
    /// Index into [`Compiled::calendars`].
    pub(super) calendar: usize,
}

/// How a clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Start {
    /// On any of these events (a mask of event bits).
    On(u32),
    /// The first time its scope holds (a scoped clock with no `start_on`).
    InScope,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CompiledClock {
    /// Every event any of its conditions names.
    pub(super) listens: u32,
    pub(super) start: Start,
    pub(super) stop: u32,
    pub(super) resume: u32,
    pub(super) reset: u32,
    pub(super) cancel: u32,
    /// Situations it pauses in.
    pub(super) pause: u16,
    /// Situations it may count in (all, when unrestricted).
    pub(super) run: u16,
    /// Index into [`Compiled::teams`] of the team it is confined to.
    pub(super) team: Option<usize>,
    pub(super) warn: Vec<Threshold>,
    pub(super) on_priority_change: OnPriorityChange,
    /// By priority level − 1.
    pub(super) goals: Vec<Goal>,
    /// Per refinement of this clock: its global index and targets by priority level − 1.
    pub(super) refinements: Vec<(usize, Vec<Option<TimeDelta>>)>,
}

impl Policy {
    /// Checks and compiles `definition`. Its calendars and teams are checked by
    /// [`Policy::check_against`] (and [`Policy::from_toml`]).
    pub fn new(definition: PolicyDefinition) -> Result<Policy, SlaError> {
        let compiled = compile(&definition).map_err(|(_, error)| error)?;
        Ok(Policy { definition, compiled })
    }

    /// Reads a policy file and checks it against the desk's calendars and configuration.
    /// `file` names it in errors, which give its line and key.
    pub fn from_toml(
        file: &str,
        text: &str,
        calendars: &Calendars,
        config: &DeskConfig,
    ) -> Result<Policy, ConfigError> {
        let source = TomlSource::parse(file, text)?;
        let definition: PolicyDefinition = source.deserialize()?;
        let compiled = compile(&definition).map_err(|(path, error)| source.error(&path, error))?;
        let policy = Policy { definition, compiled };
        policy
            .check_against(calendars, config)
            .map_err(|(path, error)| source.error(&path, error))?;
        Ok(policy)
    }

    /// Checks what the policy names outside itself: calendars, teams and categories exist, a
    /// target is given for every priority the desk's matrix can give, and no target in days
    /// runs on a calendar that is open around the clock (where a "day" would be ambiguous).
    pub fn check_against(
        &self,
        calendars: &Calendars,
        config: &DeskConfig,
    ) -> Result<(), (KeyPath, SlaError)> {
        let lowest = config.priority.matrix.lowest();
        for (n, clock) in self.definition.clocks.iter().enumerate() {
            let at = KeyPath::root().key("clock").index(n);
            let calendar = |name: &CalendarId, path: KeyPath| {
                calendars.get(name.as_str()).ok_or((path, SlaError::UnknownCalendar(name.clone())))
            };
            let base = calendar(&clock.calendar, at.key("calendar"))?;
            for (priority, name) in &clock.calendar_by_priority {
                calendar(name, at.key("calendar_by_priority").key(priority.to_string()))?;
            }
            if let Some(team) = &clock.team
                && config.team(team).is_none()
            {
                return Err((at.key("team"), SlaError::UnknownTeam(team.clone())));
            }
            for level in 1..=lowest.level() {
                let priority = Priority::new(level).unwrap_or(Priority::P1);
                if !clock.targets.contains_key(&priority) {
                    return Err((at.key("targets"), SlaError::MissingPriority(priority)));
                }
            }
            let days_on_round_the_clock =
                |targets: &BTreeMap<Priority, BusinessDuration>, path: KeyPath| {
                    for (priority, target) in targets {
                        let name =
                            clock.calendar_by_priority.get(priority).unwrap_or(&clock.calendar);
                        let always_open =
                            calendars.get(name.as_str()).unwrap_or(base).definition().always_open;
                        if target.days() > 0 && always_open {
                            return Err((
                                path.key(priority.to_string()),
                                SlaError::DaysOnRoundTheClock {
                                    target: *target,
                                    calendar: name.clone(),
                                },
                            ));
                        }
                    }
                    Ok(())
                };
            days_on_round_the_clock(&clock.targets, at.key("targets"))?;
            for (r, refinement) in clock.refinements.iter().enumerate() {
                let path = at.key("refinement").index(r);
                days_on_round_the_clock(&refinement.targets, path.key("targets"))?;
                for (c, category) in refinement.category.iter().enumerate() {
                    let known = config.categories.iter().any(|known| within(&known.id, category));
                    if !known {
                        return Err((
                            path.key("category").index(c),
                            SlaError::UnknownCategory(category.clone()),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// Its version.
    pub fn version(&self) -> u32 {
        self.definition.version
    }

    /// What it was built from.
    pub fn definition(&self) -> &PolicyDefinition {
        &self.definition
    }

    /// Its clocks, in file order.
    pub fn clocks(&self) -> &[ClockDefinition] {
        &self.definition.clocks
    }

    pub(super) fn compiled(&self) -> &Compiled {
        &self.compiled
    }
}

impl TryFrom<PolicyDefinition> for Policy {
    type Error = SlaError;

    fn try_from(definition: PolicyDefinition) -> Result<Self, Self::Error> {
        Policy::new(definition)
    }
}

impl From<Policy> for PolicyDefinition {
    fn from(policy: Policy) -> Self {
        policy.definition
    }
}

/// The index of `item` in `list`, adding it if new.
fn intern<T: PartialEq + Clone>(list: &mut Vec<T>, item: &T) -> usize {
    list.iter().position(|known| known == item).unwrap_or_else(|| {
        list.push(item.clone());
        list.len() - 1
    })
}

type Checked<T> = Result<T, (KeyPath, SlaError)>;

/// Checks a definition on its own terms and compiles it.
fn compile(definition: &PolicyDefinition) -> Checked<Compiled> {
    let root = KeyPath::root();
    if !is_slug(&definition.name) {
        return Err((root.key("name"), SlaError::InvalidName(definition.name.clone())));
    }
    if definition.version == 0 {
        return Err((root.key("version"), SlaError::InvalidVersion));
    }
    let business_day = match definition.business_day {
        None => None,
        Some(day) if day.days() > 0 || day.is_zero() || day.minutes() > 24 * 60 => {
            return Err((root.key("business_day"), SlaError::InvalidBusinessDay(day)));
        }
        Some(day) => day.to_delta(None),
    };
    if definition.clocks.is_empty() {
        return Err((root.key("clock"), SlaError::NoClocks));
    }
    if definition.clocks.len() > MAX_CLOCKS {
        return Err((root.key("clock"), SlaError::TooManyClocks { max: MAX_CLOCKS }));
    }
    let mut compiled = Compiled {
        clocks: Vec::new(),
        calendars: Vec::new(),
        teams: Vec::new(),
        refinements: Vec::new(),
        listeners: [0; 32],
        start_in_scope: 0,
        in_scope: [0; 16],
        counting: [0; 16],
        teamless: 0,
        by_team: Vec::new(),
    };
    for (n, clock) in definition.clocks.iter().enumerate() {
        let at = root.key("clock").index(n);
        if definition.clocks[..n].iter().any(|earlier| earlier.id == clock.id) {
            return Err((at.key("id"), SlaError::DuplicateClock(clock.id.clone())));
        }
        let compiled_clock = compile_clock(clock, &at, business_day, n, &mut compiled)?;
        for (event, listeners) in compiled.listeners.iter_mut().enumerate() {
            if compiled_clock.listens & (1 << event) != 0 {
                *listeners |= 1 << n;
            }
        }
        if compiled_clock.start == Start::InScope {
            compiled.start_in_scope |= 1 << n;
        }
        for (situation, (in_scope, counting)) in
            compiled.in_scope.iter_mut().zip(&mut compiled.counting).enumerate()
        {
            let bit = 1u16 << situation;
            if compiled_clock.run & bit != 0 {
                *in_scope |= 1 << n;
                if compiled_clock.pause & bit == 0 {
                    *counting |= 1 << n;
                }
            }
        }
        match compiled_clock.team {
            None => compiled.teamless |= 1 << n,
            Some(team) => {
                compiled.by_team.resize(compiled.teams.len(), 0);
                compiled.by_team[team] |= 1 << n;
            }
        }
        compiled.clocks.push(compiled_clock);
    }
    if compiled.refinements.len() > MAX_REFINEMENTS {
        return Err((root.key("clock"), SlaError::TooManyRefinements { max: MAX_REFINEMENTS }));
    }
    Ok(compiled)
}

fn compile_clock(
    clock: &ClockDefinition,
    at: &KeyPath,
    business_day: Option<TimeDelta>,
    index: usize,
    compiled: &mut Compiled,
) -> Checked<CompiledClock> {
    check_kind(clock, at)?;
    let mask = |events: &[EventName]| events.iter().fold(0u32, |mask, e| mask | e.bit());
    let lists: [(&'static str, &[EventName]); 5] = [
        ("start_on", &clock.start_on),
        ("stop_on", &clock.stop_on),
        ("resume_on", &clock.resume_on),
        ("reset_on", &clock.reset_on),
        ("cancel_on", &clock.cancel_on),
    ];
    // An event may both start a clock and resume or reset it (they apply to different
    // phases); any other overlap would make the clock's reaction depend on list order.
    let compatible =
        |a: &str, b: &str| matches!((a, b), ("start_on", "resume_on") | ("start_on", "reset_on"));
    for (i, (first, events)) in lists.iter().enumerate() {
        for (second, others) in &lists[i + 1..] {
            if compatible(first, second) {
                continue;
            }
            if let Some((k, event)) = others.iter().enumerate().find(|(_, e)| events.contains(e)) {
                return Err((
                    at.key(*second).index(k),
                    SlaError::ConflictingConditions { event: *event, first, second },
                ));
            }
        }
    }
    if clock.warn_at.len() > MAX_WARNINGS {
        return Err((at.key("warn_at"), SlaError::TooManyThresholds { max: MAX_WARNINGS }));
    }
    for (k, pair) in clock.warn_at.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            return Err((
                at.key("warn_at").index(k + 1),
                SlaError::ThresholdsNotRising { previous: pair[0], next: pair[1] },
            ));
        }
    }
    let goals = goals(clock, at, business_day, compiled)?;
    let mut refinements = Vec::new();
    for (r, refinement) in clock.refinements.iter().enumerate() {
        let path = at.key("refinement").index(r);
        if refinement.category.is_empty() && refinement.ci.is_empty() && refinement.vip.is_empty() {
            return Err((path, SlaError::EmptyRefinement));
        }
        if refinement.targets.is_empty() {
            return Err((path.key("targets"), SlaError::NoTargets));
        }
        let mut targets = vec![None; goals.len()];
        for (priority, target) in &refinement.targets {
            let key = path.key("targets").key(priority.to_string());
            let slot = targets
                .get_mut(usize::from(priority.level()) - 1)
                .ok_or((key.clone(), SlaError::NoTargetFor(*priority)))?;
            *slot = Some(duration(*target, business_day, &key)?);
        }
        compiled.refinements.push((index, r));
        refinements.push((compiled.refinements.len() - 1, targets));
    }
    let situations = |patterns: &[StatePattern]| patterns.iter().fold(0, |m, p| m | p.mask());
    Ok(CompiledClock {
        listens: lists.iter().fold(0, |all, (_, events)| all | mask(events)),
        start: match (clock.kind.is_scoped(), clock.start_on.is_empty()) {
            (true, true) => Start::InScope,
            _ => Start::On(mask(&clock.start_on)),
        },
        stop: mask(&clock.stop_on),
        resume: mask(&clock.resume_on),
        reset: mask(&clock.reset_on),
        cancel: mask(&clock.cancel_on),
        pause: situations(&clock.pause_while),
        run: if clock.run_while.is_empty() { u16::MAX } else { situations(&clock.run_while) },
        team: clock.team.as_ref().map(|team| intern(&mut compiled.teams, team)),
        warn: clock.warn_at.clone(),
        on_priority_change: clock.on_priority_change,
        goals,
        refinements,
    })
}

/// Which keys each kind of clock must have, or must not.
fn check_kind(clock: &ClockDefinition, at: &KeyPath) -> Checked<()> {
    let kind = clock.kind;
    let needs = |what| Err((at.clone(), SlaError::KindNeeds { kind, what }));
    let refuses = |key: &str, what| Err((at.key(key), SlaError::KindRefuses { kind, what }));
    match kind {
        ClockKind::Ola if clock.team.is_none() => needs("a `team`"),
        ClockKind::Underpinning if clock.team.is_none() && clock.run_while.is_empty() => {
            needs("a `team` or `run_while` states")
        }
        ClockKind::Response | ClockKind::Update | ClockKind::Resolution => {
            if clock.team.is_some() {
                refuses("team", "a `team` (make it an `ola` clock)")
            } else if !clock.run_while.is_empty() {
                refuses("run_while", "`run_while` (use `pause_while`)")
            } else if clock.start_on.is_empty() {
                needs("`start_on` events")
            } else {
                Ok(())
            }
        }
        ClockKind::Ola | ClockKind::Underpinning => Ok(()),
    }
}

/// The clock's targets and calendars by priority, which must run from P1 without a gap.
fn goals(
    clock: &ClockDefinition,
    at: &KeyPath,
    business_day: Option<TimeDelta>,
    compiled: &mut Compiled,
) -> Checked<Vec<Goal>> {
    let path = at.key("targets");
    let Some(lowest) = clock.targets.keys().next_back() else {
        return Err((path, SlaError::NoTargets));
    };
    let mut goals = Vec::new();
    for level in 1..=lowest.level() {
        let priority = Priority::new(level).unwrap_or(Priority::P1);
        let target = clock
            .targets
            .get(&priority)
            .ok_or((path.clone(), SlaError::MissingPriority(priority)))?;
        let target = duration(*target, business_day, &path.key(priority.to_string()))?;
        let calendar = clock.calendar_by_priority.get(&priority).unwrap_or(&clock.calendar);
        goals.push(Goal { target, calendar: intern(&mut compiled.calendars, calendar) });
    }
    if let Some(priority) = clock.calendar_by_priority.keys().find(|p| **p > *lowest) {
        return Err((
            at.key("calendar_by_priority").key(priority.to_string()),
            SlaError::NoTargetFor(*priority),
        ));
    }
    // The base calendar is known even when every priority has its own.
    intern(&mut compiled.calendars, &clock.calendar);
    Ok(goals)
}

/// A written target as business time: more than zero, days only with a business day.
fn duration(
    target: BusinessDuration,
    business_day: Option<TimeDelta>,
    path: &KeyPath,
) -> Checked<TimeDelta> {
    if target.is_zero() {
        return Err((path.clone(), SlaError::ZeroTarget));
    }
    target.to_delta(business_day).ok_or((path.clone(), SlaError::DaysWithoutBusinessDay(target)))
}

#[cfg(test)]
mod tests;
