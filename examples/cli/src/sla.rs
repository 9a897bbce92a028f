//! `desk sla …`: business-time questions answered against a calendar file.
//!
//! Both commands read JSON lines on standard input and write one JSON line per input line, in
//! order. A line that cannot be answered gets `{"error": "line N: …"}` and the run goes on; blank
//! lines are skipped. Instants are RFC 3339; answers are given in the calendar's local offset.

use std::fs;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta};
use clap::{Args, Subcommand};
use desk_core::calendar::BusinessCalendar;
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
    }
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
