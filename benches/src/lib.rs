//! `desk-benches`: criterion benchmarks for the desk's performance targets, and the fixtures
//! they share. Run them with `cargo bench -p desk-benches`; each benchmark file in
//! `benches/benches/` opens with the targets it measures.
//!
//! - `calendar`: due instants and elapsed business time on the shipped calendars.
//! - `cmdb`: impact analysis on a 100k-CI graph and change collision checks.

/// The shipped core-hours calendar file: Monday to Friday 07:45–17:30 London time, England &
/// Wales bank holidays.
pub const CORE_HOURS: &str = include_str!("../../examples/calendars/core-hours.toml");

/// The shipped round-the-clock calendar file.
pub const ROUND_THE_CLOCK: &str = include_str!("../../examples/calendars/24x7.toml");
