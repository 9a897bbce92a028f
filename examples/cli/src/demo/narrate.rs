//! How `desk demo` tells its story: a readable line (and an indented detail line) per step, or
//! one JSON object per step for scripts, with instants in London local time.

use std::io::Write;

use anyhow::Context as _;
use chrono::{NaiveDate, SecondsFormat};
use chrono_tz::Europe::London;
use desk_core::Timestamp;
use serde_json::{Map, Value};

/// How the steps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// A narrative for people.
    Text,
    /// One JSON object per step: `{"step": "incident_opened", "at": RFC3339, …}`.
    Json,
}

/// Writes the story's steps to `out`.
pub(super) struct Narrator<W> {
    out: W,
    format: Format,
    /// The demo's day: instants on it are shown as just the time.
    day: NaiveDate,
}

impl<W: Write> Narrator<W> {
    /// A narrator writing `format` to `out`, for a story told on `day` (London).
    pub(super) fn new(out: W, format: Format, day: NaiveDate) -> Self {
        Narrator { out, format, day }
    }

    /// A heading, in the narrative only.
    pub(super) fn section(&mut self, title: &str) -> anyhow::Result<()> {
        match self.format {
            Format::Text => self.write(&format!("\n== {title} ==")),
            Format::Json => Ok(()),
        }
    }

    /// One step at `at`: `headline` and `details` (one indented line each) for people, or
    /// `fields` with `"step"` and `"at"` added for scripts.
    pub(super) fn step(
        &mut self,
        at: Timestamp,
        step: &str,
        headline: &str,
        details: &[String],
        fields: Value,
    ) -> anyhow::Result<()> {
        match self.format {
            Format::Text => {
                let mut text = format!("{}  {headline}", self.clock_time(at));
                for detail in details.iter().filter(|detail| !detail.is_empty()) {
                    text.push_str("\n       ");
                    text.push_str(detail);
                }
                self.write(&text)
            }
            Format::Json => {
                // `step` and `at` lead, for people reading the lines; the other fields follow
                // in name order (JSON objects are unordered, so scripts need not care).
                let mut fields = match fields {
                    Value::Object(fields) => fields,
                    _ => Map::new(),
                };
                fields.remove("step");
                fields.remove("at");
                let head =
                    format!("{{\"step\":{},\"at\":{}", Value::from(step), Value::from(rfc3339(at)));
                let rest = Value::Object(fields).to_string();
                let line = match rest.strip_prefix('{') {
                    Some("}") | None => format!("{head}}}"),
                    Some(rest) => format!("{head},{rest}"),
                };
                self.write(&line)
            }
        }
    }

    /// `at` as people read it: `09:05` on the demo's day, else `Thu 5 Mar 09:05`.
    pub(super) fn local(&self, at: Timestamp) -> String {
        let local = at.with_timezone(&London);
        if local.date_naive() == self.day {
            local.format("%H:%M").to_string()
        } else {
            local.format("%a %-d %b %H:%M").to_string()
        }
    }

    /// `at` as the time of day, for the left margin.
    fn clock_time(&self, at: Timestamp) -> String {
        at.with_timezone(&London).format("%H:%M").to_string()
    }

    fn write(&mut self, text: &str) -> anyhow::Result<()> {
        writeln!(self.out, "{text}").context("cannot write standard output")
    }

    /// Flushes the output.
    pub(super) fn finish(&mut self) -> anyhow::Result<()> {
        self.out.flush().context("cannot write standard output")
    }
}

/// `at` in London local time, RFC 3339 (`2026-03-02T09:05:00+00:00`).
pub(super) fn rfc3339(at: Timestamp) -> String {
    at.with_timezone(&London).to_rfc3339_opts(SecondsFormat::Secs, false)
}
