//! `desk-core`: the pure domain of an ITIL service desk for UK councils.
//!
//! Every record (incident, service request, complaint, problem, change, asset, knowledge
//! article, requester, agent) is a state machine with the same shape:
//! a command goes through [`Aggregate::decide`], which either refuses it with a typed error that
//! names the state and the command, or returns events; [`Aggregate::apply`] folds events into the
//! state. The core does no IO, reads no clock and draws no random numbers: the time, the actor
//! and newly allocated references come in as arguments, so every decision can be replayed.
//!
//! Start with [`config::DeskConfig`] (teams, tiers, categories, priority matrix, catalogue) and
//! the record modules.
//!
//! Architecture invariant: this crate depends only on serde, thiserror, chrono, chrono-tz and
//! toml, and calls nothing that reads the clock, the environment or the file system
//! (`core/clippy.toml` lists the forbidden calls; `tests/purity.rs` checks the dependencies).

pub mod asset;
pub mod calendar;
pub mod change;
pub mod channel;
pub mod complaint;
pub mod config;
pub mod id;
pub mod incident;
pub mod knowledge;
pub mod links;
pub mod people;
pub mod priority;
pub mod problem;
pub mod record;
pub mod request;
#[cfg(test)]
mod scenario;
pub mod sla;
pub mod tabular;
pub mod tier;

pub use config::DeskConfig;
pub use record::{Actor, Aggregate, Context, Recorded, Timestamp, Visibility};
