//! A council app embedding the desk on SQLite: open the database, log an incident, print it.
//! Run it with `cargo run -p desk-example-embed -- council-desk.sqlite`.
#![allow(clippy::print_stdout)] // an example shows its result on the terminal
use std::sync::Arc;

use anyhow::Context;
use desk::{Desk, OpenIncident};
use desk_core::priority::{Impact, Urgency};
use desk_core::{Actor, DeskConfig, channel::Channel};
use desk_sqlite::SqliteStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "council-desk.sqlite".to_owned());
    let store = Arc::new(SqliteStore::open(&path).await?);
    let desk = Desk::builder(store).config(DeskConfig::example()).build()?;
    let impact = Impact::level(3).context("impact level 3")?;
    let urgency = Urgency::level(2).context("urgency level 2")?;
    let fault = OpenIncident {
        category: Some("hardware/printer".parse()?),
        ..OpenIncident::new("Printer jams", "k.lee".parse()?, Channel::Phone, impact, urgency)
    };
    let incident = desk.open_incident(&Actor::Agent("a.patel".parse()?), fault).await?.record;
    let team = incident.team().map_or("nobody", |team| team.as_str());
    println!("{} {} {}, with {team}", incident.reference, incident.priority(), incident.status);
    Ok(())
}
