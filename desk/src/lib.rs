//! `desk`: the embeddable service desk.
//!
//! [`desk_core`] decides; this crate remembers, schedules and tells. It runs every core command
//! through load → decide → save, with the storage, the clock, reference allocation, routing and
//! notification delivery behind ports, so the same desk runs on an in-memory store in tests,
//! on SQLite in a council's app, and on PostgreSQL when several desk processes share a database.
//!
//! The crate emits `tracing` events and never installs a subscriber, starts a runtime or reads
//! environment variables: the binary that embeds it decides all of that.
//!
//! ## Map
//! - [`Desk`] (built with [`Desk::builder`]): every command of every record type, typed —
//!   incidents (`open_incident`, `execute_incident`, `route_incident`), service requests
//!   (`submit_request`, `execute_request`), complaints (`lodge_complaint`), problems
//!   (`log_problem`), knowledge articles (`create_article`), changes (`raise_change`,
//!   `change_collisions`), assets (`add_asset`, `cmdb`), requesters and agents — each with an
//!   optional expected version (optimistic concurrency), and reads (`incident(reference)`, …,
//!   `history`, `row`); audit checks (`verify`, `verify_all`).
//! - [`queries`]: work queues, at-risk and past-SLA reports, a person's tickets, a CI's
//!   records, text search, a page at a time.
//! - [`timers`]: SLA warnings and breaches recorded exactly once, and the [`timers::Scheduler`].
//! - [`gdpr`]: anonymisation, subject access, retention, legal holds.
//! - Ports: [`store::Store`] (storage), [`clock::Clock`] (time), [`routing::Router`] (who works a
//!   new incident), [`outbox::Notifier`] (delivery).
//! - [`outbox`]: the notification topics and payloads, and the [`outbox::Dispatcher`].
//! - [`audit`]: the per-record hash chain.

pub mod audit;
pub mod clock;
pub mod contract;
mod desk;
mod error;
pub mod gdpr;
pub mod outbox;
pub mod queries;
mod records;
pub mod routing;
pub mod store;
pub mod timers;

pub use crate::desk::{AuditSummary, Desk, DeskBuilder, Outcome, Versioned};
pub use crate::error::Error;
pub use crate::records::{
    AddAsset, LodgeComplaint, LogProblem, OpenIncident, RaiseChange, SubmitRequest,
};
