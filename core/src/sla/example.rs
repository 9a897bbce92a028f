//! The example council's service levels and calendars, compiled in: what demos, tests and a
//! new embedding start from before they write their own files.
//!
//! They are the files in the repository's `examples/` directory (`examples/calendars/*.toml`,
//! `examples/sla/council-standard.toml`), read at build time, and they agree with
//! [`DeskConfig::example`]: a unit test proves it.

use crate::calendar::{BusinessCalendar, Calendars};
use crate::config::{ConfigError, DeskConfig};

use super::Policy;

/// `(file name, text)` of each example calendar.
const CALENDARS: [(&str, &str); 2] = [
    ("core-hours.toml", include_str!("../../../examples/calendars/core-hours.toml")),
    ("24x7.toml", include_str!("../../../examples/calendars/24x7.toml")),
];

const POLICY: (&str, &str) =
    ("council-standard.toml", include_str!("../../../examples/sla/council-standard.toml"));

impl Calendars {
    /// The example council's calendars: `core-hours` (Monday to Friday 07:45–17:30 London
    /// time, closed on England and Wales bank holidays) and `24x7`.
    pub fn example() -> Calendars {
        let mut calendars = Calendars::new();
        for (file, text) in CALENDARS {
            // The examples are checked by a unit test; a failure here is unreachable in a
            // released build, and would leave the calendar out rather than panic.
            if let Ok(calendar) = BusinessCalendar::from_toml(file, text) {
                calendars.insert(calendar).ok();
            }
        }
        calendars
    }
}

impl Policy {
    /// The example council's standard incident policy (response, keep-in-loop update,
    /// resolution, OLAs and a supplier's underpinning contract) on [`Calendars::example`],
    /// checked against `config`: refused, naming the key, when `config` lacks a team or
    /// category the policy names.
    pub fn example(config: &DeskConfig) -> Result<Policy, ConfigError> {
        Policy::from_toml(POLICY.0, POLICY.1, &Calendars::example(), config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_calendars_and_policy_fit_the_example_configuration() {
        // Given the example calendar files, each read on its own
        for (file, text) in CALENDARS {
            BusinessCalendar::from_toml(file, text).expect("an example calendar reads");
        }
        // Then all of them are in the example set, and the policy fits the example desk
        let calendars = Calendars::example();
        let names: Vec<&str> = calendars.iter().map(|c| c.name().as_str()).collect();
        assert_eq!(names, ["24x7", "core-hours"]);
        let config = DeskConfig::example();
        let policy = Policy::example(&config).expect("the example policy");
        assert_eq!(policy.name(), "council-standard");
        assert!(policy.clocks().len() >= 3);
    }

    #[test]
    fn the_example_policy_is_refused_for_a_desk_without_its_teams() {
        let error = Policy::example(&DeskConfig::empty()).expect_err("teams are missing");
        assert!(error.to_string().starts_with("council-standard.toml:"), "{error}");
    }
}
