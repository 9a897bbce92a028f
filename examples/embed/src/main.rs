//! A council app embedding the desk on SQLite: open the database, log an incident, print it.
//! Run it with `cargo run -p desk-example-embed -- council-desk.sqlite`.
#![allow(clippy::print_stdout)] // an example shows its result on the terminal
use std::sync::Arc;

use anyhow::Context;
use desk::{Desk, OpenIncident};
use desk_core::priority::{Impact, Urgency};
use desk_core::{Actor, DeskConfig, calendar::Calendars, channel::Channel, sla::Policy};
use desk_sqlite::SqliteStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "council-desk.sqlite".to_owned());
    let store = Arc::new(SqliteStore::open(&path).await?); // created and migrated on first use
    let config = DeskConfig::example(); // or DeskConfig::from_toml("desk.toml", &text)?
    let desk = Desk::builder(store)
        .sla_policy(Policy::example(&config)?) // response, update, resolution and OLA clocks
        .calendars(Calendars::example()) // core hours 07:45-17:30, England & Wales holidays
        .config(config)
        .build()?;
    let (impact, urgency) =
        (Impact::level(3).context("impact")?, Urgency::level(2).context("urgency")?);
    let fault = OpenIncident {
        category: Some("hardware/printer".parse()?), // routing sends it to the team for printers
        ..OpenIncident::new("Printer jams", "k.lee".parse()?, Channel::Phone, impact, urgency)
    };
    let incident = desk.open_incident(&Actor::Agent("a.patel".parse()?), fault).await?.record;
    let row = desk.row(&incident.reference.into()).await?; // what queues and reports read
    let team = row.team.map_or("nobody".to_owned(), |team| team.to_string());
    let due = row.sla.due_at.map_or("never".to_owned(), |due| due.to_rfc3339());
    println!(
        "{} {} {} with {team}, due {due}",
        incident.reference,
        incident.priority(),
        incident.status
    );
    Ok(())
}
