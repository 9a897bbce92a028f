//! `desk`: the service desk from the command line.
//!
//! Commands are grouped by area, `desk <area> <command>`, one module per area:
//!
//! - `desk sla due --calendar FILE`: due instants for business-time targets (JSON lines in/out).
//! - `desk sla elapsed --calendar FILE`: business seconds between two instants.
//! - `desk sla explain --policy FILE --calendars DIR [--clock ID]`: an incident's SLA clocks from
//!   its recorded events (JSON lines in, one JSON document out).
//! - `desk sla what-if --policy FILE --other FILE --calendars DIR`: recorded incidents under
//!   another version of a policy.
//!
//! - `desk demo [--db FILE] [--json]`: a day at the sample council's desk, played on a real desk
//!   over a new SQLite database (a temporary one unless `--db` names a file that does not exist
//!   yet), told step by step.
//!
//! Run `desk --help` or `desk sla --help` for the details. Exit status: 0 on success (even when
//! some input lines were refused: each gets an `{"error": …}` line), 2 when the command line or
//! a file it names is unusable, 1 for any other failure (such as a closed output).

mod demo;
mod sla;

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The service desk from the command line.
#[derive(Debug, Parser)]
#[command(name = "desk", version, about)]
struct Cli {
    #[command(subcommand)]
    area: Area,
}

/// The areas of the desk.
#[derive(Debug, Subcommand)]
enum Area {
    /// Service levels: business calendars, due instants, elapsed business time, SLA clocks.
    #[command(subcommand)]
    Sla(sla::Command),
    /// A day at the sample council's service desk, played on a real desk over a new SQLite
    /// database and told step by step.
    Demo(demo::Args),
}

/// A file named on the command line cannot be used: exit status 2, like a usage error.
#[derive(Debug)]
struct BadFile(String);

impl fmt::Display for BadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadFile {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.area {
        Area::Sla(command) => sla::run(command, io::stdin().lock(), io::stdout().lock()),
        Area::Demo(args) => demo::run(args, io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // If even stderr is gone there is nobody left to tell.
            let _ = writeln!(io::stderr(), "desk: {error:#}");
            if error.is::<BadFile>() { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}
