//! Given/when/then tests for reading and checking SLA policies.

use super::*;
use crate::sla::tests::story::{CALENDARS, CONFIG, COUNCIL};

const HEADER: &str = "name = \"test\"\nversion = 1\nbusiness_day = \"9h45m\"\n";
const TARGETS: &str =
    "targets = { P1 = \"15m\", P2 = \"30m\", P3 = \"2h\", P4 = \"4h\", P5 = \"1d\" }\n";

fn read(text: &str) -> Result<Policy, ConfigError> {
    Policy::from_toml("sla.toml", text, &CALENDARS, &CONFIG)
}

/// The error for a policy of `HEADER` and one clock whose body is `clock`.
fn error(clock: &str) -> ConfigError {
    read(&format!("{HEADER}[[clock]]\n{clock}")).unwrap_err()
}

/// A response clock on core hours with the standard targets, plus `extra` lines.
fn response(extra: &str) -> String {
    format!(
        "id = \"response\"\nkind = \"response\"\ncalendar = \"core-hours\"\n{TARGETS}start_on = [\"logged\"]\n{extra}"
    )
}

#[test]
fn the_council_policy_reads() {
    // Given the shipped policy, when read against the sample council
    let policy = read(COUNCIL).unwrap_or_else(|e| panic!("{e}"));
    // Then it has its five clocks, in order
    let ids: Vec<&str> = policy.clocks().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["response", "update", "resolution", "ola-networks", "uc-harbour-telecom"]);
    assert_eq!((policy.name(), policy.version()), ("council-standard", 1));
    let kinds: Vec<ClockKind> = policy.clocks().iter().map(|c| c.kind).collect();
    use ClockKind::*;
    assert_eq!(kinds, [Response, Update, Resolution, Ola, Underpinning]);
    // And its days are core-hours days
    let compiled = policy.compiled();
    let resolution = &compiled.clocks[2];
    assert_eq!(resolution.goals[2].target, TimeDelta::minutes(3 * 585));
    assert_eq!(compiled.calendars[resolution.goals[0].calendar].as_str(), "24x7");
    assert_eq!(compiled.calendars[resolution.goals[1].calendar].as_str(), "core-hours");
    assert_eq!(compiled.teams.len(), 2);
}

#[test]
fn policies_round_trip_through_json() {
    let policy = read(COUNCIL).unwrap();
    let json = serde_json::to_value(&policy).unwrap();
    assert_eq!(json["clock"][0]["targets"]["P5"], "1d");
    assert_eq!(json["clock"][2]["pause_while"][0], "on_hold:awaiting_customer");
    assert_eq!(json["clock"][0]["on_priority_change"], "restart");
    let back: Policy = serde_json::from_value(json).unwrap();
    assert_eq!(back, policy);
}

#[test]
fn an_unknown_calendar_names_line_and_key() {
    let err = error(&response("").replace("core-hours", "night-shift"));
    assert_eq!((err.line, err.key.as_str()), (7, "clock[0].calendar"), "{err}");
    assert_eq!(err.message, "unknown calendar `night-shift`");
    let err = error(&response("calendar_by_priority = { P1 = \"247\" }\n"));
    assert_eq!(err.key, "clock[0].calendar_by_priority.P1", "{err}");
}

#[test]
fn an_unknown_event_names_line_and_key() {
    let err = error(&response("stop_on = [\"work_started\", \"solved\"]\n"));
    assert_eq!((err.line, err.key.as_str()), (10, "clock[0].stop_on[1]"), "{err}");
    assert!(err.message.contains("`solved` is not an incident event"), "{err}");
    let err = error(&response("reset_on = [\"sla_breached\"]\n"));
    assert!(err.message.contains("never moves a clock"), "{err}");
}

#[test]
fn an_unknown_team_names_line_and_key() {
    let clock = format!(
        "id = \"ola\"\nkind = \"ola\"\nteam = \"plumbing\"\ncalendar = \"core-hours\"\n{TARGETS}"
    );
    let err = error(&clock);
    assert_eq!((err.line, err.key.as_str()), (7, "clock[0].team"), "{err}");
    assert_eq!(err.message, "unknown team `plumbing`");
}

#[test]
fn thresholds_must_be_percentages_that_rise() {
    let err = error(&response("warn_at = [50, 100]\n"));
    assert_eq!(err.key, "clock[0].warn_at[1]", "{err}");
    assert!(err.message.contains("from 1 to 99"), "{err}");
    let err = error(&response("warn_at = [0]\n"));
    assert_eq!(err.key, "clock[0].warn_at[0]", "{err}");
    let err = error(&response("warn_at = [50, 90, 75]\n"));
    assert_eq!((err.line, err.key.as_str()), (10, "clock[0].warn_at[2]"), "{err}");
    assert_eq!(err.message, "warning thresholds must rise: 90 % then 75 %");
    let err = error(&response("warn_at = [50, 50]\n"));
    assert_eq!(err.key, "clock[0].warn_at[1]", "{err}");
    let err = error(&response("warn_at = [10, 20, 30, 40, 50, 60, 70, 80, 90]\n"));
    assert_eq!(err.message, "a clock has at most 8 warning thresholds");
}

#[test]
fn every_priority_of_the_matrix_needs_a_target() {
    let clock = response("").replace(", P5 = \"1d\"", "");
    let err = error(&clock);
    assert_eq!((err.line, err.key.as_str()), (8, "clock[0].targets"), "{err}");
    assert_eq!(err.message, "no target for P5: give one for every priority from P1 down");
    let err = error(&response("").replace("P3 = \"2h\", ", ""));
    assert_eq!(err.message, "no target for P3: give one for every priority from P1 down");
}

#[test]
fn days_need_a_business_day_and_a_calendar_that_closes() {
    let err = read(&format!("name = \"t\"\nversion = 1\n[[clock]]\n{}", response(""))).unwrap_err();
    assert_eq!(err.key, "clock[0].targets.P5", "{err}");
    assert_eq!(err.message, "`1d` is in days: set business_day at the top of the policy");
    let err = error(&response("calendar_by_priority = { P5 = \"24x7\" }\n"));
    assert_eq!(err.key, "clock[0].targets.P5", "{err}");
    assert!(err.message.contains("never closes: write the target in hours"), "{err}");
    let err = read(&format!(
        "name = \"t\"\nversion = 1\nbusiness_day = \"1d\"\n[[clock]]\n{}",
        response("")
    ))
    .unwrap_err();
    assert_eq!(err.key, "business_day", "{err}");
}

#[test]
fn malformed_durations_and_states_name_their_key() {
    let err = error(&response("").replace("\"2h\"", "\"2 hours\""));
    assert_eq!(err.key, "clock[0].targets.P3", "{err}");
    assert!(err.message.contains("`2 hours` is not a duration"), "{err}");
    let err = error(&response("").replace("\"2h\"", "\"0m\""));
    assert_eq!(
        (err.key.as_str(), err.message.as_str()),
        ("clock[0].targets.P3", "a target must be more than zero")
    );
    let err = error(&response("pause_while = [\"on_hold:awaiting_godot\"]\n"));
    assert_eq!(err.key, "clock[0].pause_while[0]", "{err}");
}

#[test]
fn contradictory_conditions_are_refused() {
    let err = error(&response("stop_on = [\"resolved\"]\nreset_on = [\"resolved\"]\n"));
    assert_eq!(err.key, "clock[0].reset_on[0]", "{err}");
    assert_eq!(err.message, "`resolved` is in both stop_on and reset_on");
    // Starting and resetting on the same event is how a keep-in-loop clock is written
    assert!(read(&format!("{HEADER}[[clock]]\n{}", response("reset_on = [\"logged\"]\n"))).is_ok());
}

#[test]
fn each_kind_has_what_it_needs() {
    let err = error(&response("team = \"networks\"\n"));
    assert_eq!(
        (err.key.as_str(), err.message.as_str()),
        ("clock[0].team", "a response clock cannot have a `team` (make it an `ola` clock)")
    );
    let err = error(&format!("id = \"ola\"\nkind = \"ola\"\ncalendar = \"core-hours\"\n{TARGETS}"));
    assert_eq!(
        (err.key.as_str(), err.message.as_str()),
        ("clock[0]", "a ola clock needs a `team`")
    );
    let err = error(&format!(
        "id = \"uc\"\nkind = \"underpinning\"\ncalendar = \"core-hours\"\n{TARGETS}"
    ));
    assert_eq!(err.message, "a underpinning clock needs a `team` or `run_while` states");
    let err =
        error(&format!("id = \"r\"\nkind = \"resolution\"\ncalendar = \"core-hours\"\n{TARGETS}"));
    assert_eq!(err.message, "a resolution clock needs `start_on` events");
}

#[test]
fn clock_ids_are_unique() {
    let text = format!("{HEADER}[[clock]]\n{}[[clock]]\n{}", response(""), response(""));
    let err = read(&text).unwrap_err();
    assert_eq!((err.line, err.key.as_str()), (11, "clock[1].id"), "{err}");
    assert_eq!(err.message, "clock `response` is defined twice");
}

#[test]
fn refinements_need_conditions_known_categories_and_targets_the_clock_has() {
    let refine = |body: &str| error(&response(&format!("[[clock.refinement]]\n{body}")));
    let err = refine("targets = { P3 = \"1h\" }\n");
    assert_eq!(
        (err.key.as_str(), err.message.as_str()),
        ("clock[0].refinement[0]", "a refinement needs at least one of category, ci or vip")
    );
    let err = refine("category = [\"network\", \"plumbing\"]\ntargets = { P3 = \"1h\" }\n");
    assert_eq!(
        (err.key.as_str(), err.message.as_str()),
        ("clock[0].refinement[0].category[1]", "unknown category `plumbing`")
    );
    let err = refine("vip = [\"elected_member\"]\ntargets = { P7 = \"1h\" }\n");
    assert_eq!(
        (err.key.as_str(), err.message.as_str()),
        ("clock[0].refinement[0].targets.P7", "P7 has no target in this clock")
    );
    let err = refine("vip = [\"mayor\"]\ntargets = { P3 = \"1h\" }\n");
    assert_eq!(err.key, "clock[0].refinement[0].vip[0]", "{err}");
    // A parent category matches its sub-categories
    assert!(
        read(&format!(
            "{HEADER}[[clock]]\n{}",
            response("[[clock.refinement]]\ncategory = [\"network\"]\ntargets = { P3 = \"1h\" }\n")
        ))
        .is_ok()
    );
}

#[test]
fn a_category_matches_itself_and_its_sub_categories_only() {
    let refinement = Refinement {
        category: vec!["network".parse().unwrap()],
        ci: Vec::new(),
        vip: Vec::new(),
        targets: BTreeMap::new(),
    };
    let matches = |c: &str| refinement.matches(Some(&c.parse().unwrap()), None, None);
    assert!(matches("network") && matches("network/wifi"));
    assert!(!matches("networking") && !matches("software/network"));
    assert!(!refinement.matches(None, None, None));
}

#[test]
fn the_policy_header_is_checked() {
    let err =
        read(&format!("name = \"Council Standard\"\nversion = 1\n[[clock]]\n{}", response("")))
            .unwrap_err();
    assert_eq!(err.key, "name", "{err}");
    let err = read(&format!(
        "name = \"t\"\nversion = 0\nbusiness_day = \"9h45m\"\n[[clock]]\n{}",
        response("")
    ))
    .unwrap_err();
    assert_eq!((err.line, err.key.as_str()), (2, "version"), "{err}");
    let err = read("name = \"t\"\nversion = 1\nclock = []\n").unwrap_err();
    assert_eq!(err.message, "a policy needs at least one [[clock]]");
    let err = read(&format!("{HEADER}colour = \"red\"\n[[clock]]\n{}", response(""))).unwrap_err();
    assert_eq!(err.key, "colour", "{err}");
}
