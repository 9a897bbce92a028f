//! State-machine tests: every lifecycle, driven by random command sequences (refused ones
//! included), checked against a small reference model after every step.

// Test drivers outside `#[test]` functions unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod incident;
