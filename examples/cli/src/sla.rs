//! `desk sla …`: business-time questions answered against a calendar file, and SLA clocks
//! worked out from recorded incident events.
//!
//! `due` and `elapsed` read JSON lines on standard input and write one JSON line per input line,
//! in order. A line that cannot be answered gets `{"error": "line N: …"}` and the run goes on;
//! blank lines are skipped. Instants are RFC 3339; answers are given in the calendar's local
//! offset.
//!
//! `explain` and `what-if` read recorded incident events as JSON lines (the storage's
//! `Recorded` envelopes: `{"record": "INC-000123", "seq": 1, "at": …, "actor": …, "event": …}`)
//! and write one JSON document. A line that is not such an event stops the run (exit status 1):
//! a clock worked out from part of a history would be wrong.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Utc};
use clap::{Args, Subcommand};
use desk_core::calendar::{BusinessCalendar, Calendars};
use desk_core::id::{ClockId, RecordId};
use desk_core::incident;
use desk_core::record::Recorded;
use desk_core::sla::{self, Policy, Summary};
use desk_core::{DeskConfig, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::BadFile;

/// The `desk sla` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Reads `{"start": RFC3339, "minutes": N}` lines; writes `{"due": RFC3339}` lines: when N
    /// business minutes from start are used up.
    Due(CalendarArg),
    /// Reads `{"from": RFC3339, "to": RFC3339}` lines; writes `{"seconds": N}` lines: the whole
    /// business seconds between them (negative when to is before from).
    Elapsed(CalendarArg),
    /// Reads one incident's recorded events; writes its clocks under the policy, with the
    /// summary and when next to wake, or with --clock why that clock says what it says.
    Explain(ExplainArgs),
    /// Reads the recorded events of any number of incidents (each incident's in order); writes
    /// how each clock fares under the policy in use and under another version of it.
    WhatIf(WhatIfArgs),
}

/// What the clock commands work with.
#[derive(Debug, Args)]
pub(crate) struct Setup {
    /// The SLA policy file (TOML), e.g. examples/sla/council-standard.toml.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// A directory of calendar files (every *.toml in it), e.g. examples/calendars.
    #[arg(long, value_name = "DIR")]
    calendars: PathBuf,
    /// The desk configuration the policy is checked against (teams, categories, priorities);
    /// the sample council's when left out.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The time to evaluate at (RFC 3339); the current time when left out.
    #[arg(long, value_name = "RFC3339")]
    now: Option<DateTime<FixedOffset>>,
}

/// `desk sla explain`.
#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    setup: Setup,
    /// Explain this clock of the policy, interval by interval.
    #[arg(long, value_name = "ID")]
    clock: Option<ClockId>,
}

/// `desk sla what-if`.
#[derive(Debug, Args)]
pub(crate) struct WhatIfArgs {
    #[command(flatten)]
    setup: Setup,
    /// The other version of the policy (TOML).
    #[arg(long, value_name = "FILE")]
    other: PathBuf,
}

/// The calendar a command counts business time on.
#[derive(Debug, Args)]
pub(crate) struct CalendarArg {
    /// A calendar file (TOML), e.g. examples/calendars/core-hours.toml.
    #[arg(long, value_name = "FILE")]
    calendar: PathBuf,
}

/// A `desk sla due` input line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DueLine {
    start: DateTime<FixedOffset>,
    minutes: i64,
}

/// A `desk sla elapsed` input line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ElapsedLine {
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
}

/// Runs `command`, reading `input` and writing `output`.
pub(crate) fn run(command: Command, input: impl BufRead, output: impl Write) -> anyhow::Result<()> {
    match command {
        Command::Due(arg) => {
            let calendar = load(&arg.calendar)?;
            answer_lines(input, output, |line: DueLine| due(&calendar, line))
        }
        Command::Elapsed(arg) => {
            let calendar = load(&arg.calendar)?;
            answer_lines(input, output, |line: ElapsedLine| {
                let elapsed = calendar.elapsed(line.from.to_utc(), line.to.to_utc());
                Ok(json!({ "seconds": elapsed.num_seconds() }))
            })
        }
        Command::Explain(args) => {
            let (calendars, policy) = args.setup.load(&args.setup.policy)?;
            let history = read_events(input)?;
            let now = args.setup.now();
            let answer = match &args.clock {
                Some(clock) => {
                    serde_json::to_value(sla::explain(&history, &policy, &calendars, clock, now)?)?
                }
                None => {
                    let clocks = sla::evaluate(&history, &policy, &calendars, now)?;
                    json!({
                        "summary": Summary::of(&clocks),
                        "next_wake": sla::next_wake(&clocks),
                        "clocks": clocks,
                    })
                }
            };
            write_document(output, &answer)
        }
        Command::WhatIf(args) => {
            let (calendars, current) = args.setup.load(&args.setup.policy)?;
            let (_, other) = args.setup.load(&args.other)?;
            let incidents = by_record(read_events(input)?);
            let histories = incidents.iter().map(Vec::as_slice);
            let answer = sla::what_if(histories, &current, &other, &calendars, args.setup.now())?;
            write_document(output, &serde_json::to_value(answer)?)
        }
    }
}

impl Setup {
    /// The time to evaluate at.
    fn now(&self) -> Timestamp {
        self.now.map_or_else(|| DateTime::<Utc>::from(SystemTime::now()), |now| now.to_utc())
    }

    /// The calendars, and the policy in `file` checked against them and the configuration.
    fn load(&self, file: &Path) -> anyhow::Result<(Calendars, Policy)> {
        let config = match &self.config {
            Some(path) => DeskConfig::from_toml(&path.display().to_string(), &read(path)?)
                .map_err(|error| BadFile(error.to_string()))?,
            None => DeskConfig::example(),
        };
        let calendars = load_calendars(&self.calendars)?;
        let policy =
            Policy::from_toml(&file.display().to_string(), &read(file)?, &calendars, &config)
                .map_err(|error| BadFile(error.to_string()))?;
        Ok((calendars, policy))
    }
}

/// Every `*.toml` calendar file in `dir`, in name order.
fn load_calendars(dir: &Path) -> anyhow::Result<Calendars> {
    let unreadable =
        |error: std::io::Error| BadFile(format!("cannot read {}: {error}", dir.display()));
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(unreadable)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    paths.retain(|path| path.extension().is_some_and(|ext| ext == "toml"));
    paths.sort();
    let mut calendars = Calendars::new();
    for path in paths {
        let calendar = load(&path)?;
        calendars
            .insert(calendar)
            .map_err(|error| BadFile(format!("{}: {error}", path.display())))?;
    }
    Ok(calendars)
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path)
        .map_err(|error| BadFile(format!("cannot read {}: {error}", path.display())).into())
}

/// Recorded incident events, one JSON object per non-blank line.
fn read_events(input: impl BufRead) -> anyhow::Result<Vec<Recorded<incident::Event>>> {
    let mut events = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line = line.context("cannot read standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let event = serde_json::from_str(&line)
            .with_context(|| format!("line {}: not a recorded incident event", index + 1))?;
        events.push(event);
    }
    Ok(events)
}

/// The events grouped by record, records in order of first appearance.
fn by_record(events: Vec<Recorded<incident::Event>>) -> Vec<Vec<Recorded<incident::Event>>> {
    let mut index: BTreeMap<RecordId, usize> = BTreeMap::new();
    let mut incidents: Vec<Vec<Recorded<incident::Event>>> = Vec::new();
    for event in events {
        let slot = *index.entry(event.record.clone()).or_insert_with(|| {
            incidents.push(Vec::new());
            incidents.len() - 1
        });
        incidents[slot].push(event);
    }
    incidents
}

fn write_document(mut output: impl Write, document: &Value) -> anyhow::Result<()> {
    writeln!(output, "{document}").context("cannot write standard output")?;
    output.flush().context("cannot write standard output")
}

fn due(calendar: &BusinessCalendar, line: DueLine) -> Result<Value, String> {
    let target = TimeDelta::try_minutes(line.minutes)
        .ok_or_else(|| format!("{} minutes is out of range", line.minutes))?;
    let due = calendar.due(line.start.to_utc(), target).map_err(|error| error.to_string())?;
    Ok(json!({ "due": calendar.local(due).to_rfc3339_opts(SecondsFormat::AutoSi, false) }))
}

/// Reads and compiles a calendar file; a problem is a [`BadFile`] naming file, line and key.
fn load(path: &Path) -> anyhow::Result<BusinessCalendar> {
    let name = path.display().to_string();
    let text = fs::read_to_string(path)
        .map_err(|error| BadFile(format!("cannot read {name}: {error}")))?;
    BusinessCalendar::from_toml(&name, &text).map_err(|error| BadFile(error.to_string()).into())
}

/// Answers each non-blank input line with one output line: `answer`'s value, or
/// `{"error": "line N: …"}` when the line is not valid JSON of the right shape or cannot be
/// answered.
fn answer_lines<T: for<'de> Deserialize<'de>>(
    input: impl BufRead,
    mut output: impl Write,
    answer: impl Fn(T) -> Result<Value, String>,
) -> anyhow::Result<()> {
    for (index, line) in input.lines().enumerate() {
        let line = line.context("cannot read standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = serde_json::from_str::<T>(&line)
            .map_err(|error| error.to_string())
            .and_then(&answer)
            .unwrap_or_else(|error| json!({ "error": format!("line {}: {error}", index + 1) }));
        writeln!(output, "{reply}").context("cannot write standard output")?;
    }
    output.flush().context("cannot write standard output")
}
