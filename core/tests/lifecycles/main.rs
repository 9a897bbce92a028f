//! State-machine tests of the records' lifecycles: random command sequences, refused ones
//! included, run against the real aggregate and a small reference model, checking after every
//! step that both agree and that the lifecycle's invariants hold.

// Helpers outside `#[test]` functions build fixtures and models; failing loudly is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod incident;
mod knowledge;
mod problem;
