//! The child of the crash test: opens incidents through a `Desk`, one after another, and prints
//! each reference on its own line once `open_incident` has returned, until it is killed (or has
//! opened a thousand).
//!
//! ```text
//! crash_child sqlite <path>
//! crash_child postgres <url> <schema>
//! ```

use std::error::Error;
use std::io::Write;
use std::sync::Arc;

use desk::store::Store;
use desk::{Desk, OpenIncident};
use desk_core::calendar::Calendars;
use desk_core::channel::Channel;
use desk_core::priority::{Impact, Urgency};
use desk_core::sla::Policy;
use desk_core::{Actor, DeskConfig};
use desk_postgres::PostgresStore;
use desk_sqlite::SqliteStore;

const MOST: usize = 1_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let store: Arc<dyn Store> = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["sqlite", path] => Arc::new(SqliteStore::open(path).await?),
        ["postgres", url, schema] => Arc::new(PostgresStore::connect(url, schema).await?),
        _ => return Err("usage: crash_child sqlite <path> | postgres <url> <schema>".into()),
    };
    let config = DeskConfig::example();
    let desk = Desk::builder(store)
        .sla_policy(Policy::example(&config)?)
        .calendars(Calendars::example())
        .config(config)
        .build()?;
    let agent = Actor::Agent("a.patel".parse()?);
    let mut out = std::io::stdout().lock();
    for n in 0..MOST {
        let fault = OpenIncident {
            category: Some("hardware/printer".parse()?),
            ..OpenIncident::new(
                format!("Printer {n} jams"),
                "k.lee".parse()?,
                Channel::Phone,
                Impact::level(3).ok_or("no impact")?,
                Urgency::level(2).ok_or("no urgency")?,
            )
        };
        let opened = desk.open_incident(&agent, fault).await?;
        writeln!(out, "{}", opened.record.reference)?;
        out.flush()?;
    }
    Ok(())
}
