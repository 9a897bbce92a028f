//! State-machine tests of every record lifecycle: random command sequences, refused ones
//! included, checked against a small reference model of each record type.

// Models and harnesses are test code even outside `#[test]` functions: a failed expectation
// should panic with its message.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod asset;
mod change;
mod harness;
