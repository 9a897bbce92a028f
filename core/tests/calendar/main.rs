//! Business calendars against a brute-force reference, the published bank holidays, and the
//! calendar bugs seen in other service desks.

// Helpers outside `#[test]` functions build fixtures; a bad fixture should fail loudly.
#![allow(clippy::unwrap_used)]

mod bank_holidays;
mod properties;
mod reference;
mod regressions;
