//! `desk-benches`: criterion benchmarks for the desk's performance targets, and the fixtures
//! they share. Run them with `cargo bench -p desk-benches`.
//!
//! - `calendar`: due instants and elapsed business time on the shipped calendars. Targets: a
//!   due instant for 4 and for 4,000 business hours on core hours with England & Wales holidays
//!   in at most 0.2 µs median each, the long one at most twice the short one.

/// The shipped core-hours calendar file: Monday to Friday 07:45–17:30 London time, England &
/// Wales bank holidays.
pub const CORE_HOURS: &str = include_str!("../../examples/calendars/core-hours.toml");

/// The shipped round-the-clock calendar file.
pub const ROUND_THE_CLOCK: &str = include_str!("../../examples/calendars/24x7.toml");
