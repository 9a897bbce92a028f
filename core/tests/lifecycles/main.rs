//! State-machine tests of the records' lifecycles.
//!
//! Each area drives a record with random command sequences (refused commands included) through
//! `proptest-state-machine`, predicts every outcome with a small reference model, and checks the
//! record's invariants after every step. Every accepted command's events also go through JSON and
//! are replayed, which must rebuild the same record. `harness` holds all of that machinery; an
//! area states only its model, what the model sees of the record, and its own invariants.

// Test code states its expectations with unwrap and panics when they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agent;
mod asset;
mod change;
mod complaint;
mod harness;
mod incident;
mod knowledge;
mod problem;
mod request;
mod requester;
