//! `desk`: the embeddable service desk.
//!
//! [`desk_core`] decides; this crate remembers, schedules and tells. It runs every core command
//! through load → decide → save, with the storage, the clock, reference allocation, routing and
//! notification delivery behind ports, so the same desk runs on an in-memory store in tests,
//! on SQLite in a council's app, and on PostgreSQL when several desk processes share a database.
//!
//! The crate emits `tracing` events and never installs a subscriber, starts a runtime or reads
//! environment variables: the binary that embeds it decides all of that.

pub mod audit;
pub mod contract;
pub mod store;
