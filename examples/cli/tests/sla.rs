//! `desk sla` end to end: the built binary, fed JSON lines on standard input.

// Test helpers fail loudly on a broken fixture.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const CORE_HOURS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../calendars/core-hours.toml");
const ROUND_THE_CLOCK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../calendars/24x7.toml");

fn fixture(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `desk sla <command> --calendar <calendar>` with `input` on standard input.
fn desk(command: &str, calendar: &str, input: &str) -> Output {
    desk_with(&[command, "--calendar", calendar], input)
}

/// Standard output as JSON values, one per line.
fn answers(output: &Output) -> Vec<serde_json::Value> {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each output line is JSON"))
        .collect()
}

#[test]
fn due_answers_each_line_in_order_in_local_time() {
    let input = [
        // Friday evening in winter: counts from Monday's opening
        r#"{"start": "2026-01-09T18:00:00Z", "minutes": 240}"#,
        // Friday afternoon in summer, given in BST: 1½ hours on Friday, 2½ on Monday
        r#"{"start": "2026-06-19T16:00:00+01:00", "minutes": 240}"#,
        // Used up exactly at Monday's close
        r#"{"start": "2026-01-12T07:45:00Z", "minutes": 585}"#,
        // An instant given in another offset is answered in the calendar's
        r#"{"start": "2026-01-12T15:15:00+05:30", "minutes": 60}"#,
    ]
    .join("\n");
    let replies = answers(&desk("due", CORE_HOURS, &input));
    let due: Vec<&str> = replies.iter().map(|reply| reply["due"].as_str().unwrap()).collect();
    assert_eq!(
        due,
        [
            "2026-01-12T11:45:00+00:00",
            "2026-06-22T10:15:00+01:00",
            "2026-01-12T17:30:00+00:00",
            "2026-01-12T10:45:00+00:00",
        ]
    );
}

#[test]
fn bad_lines_get_an_error_line_and_the_run_goes_on() {
    let input = [
        r#"{"start": "2026-01-09T18:00:00Z", "minutes": 240}"#,
        "not json",
        r#"{"start": "2026-01-09T18:00:00Z"}"#,
        r#"{"start": "yesterday", "minutes": 5}"#,
        r#"{"start": "2026-01-09T18:00:00Z", "minutes": -5}"#,
        r#"{"start": "2026-01-09T18:00:00Z", "minutes": 5, "priority": "P1"}"#,
        "",
        r#"{"start": "2026-01-12T07:45:00Z", "minutes": 15}"#,
    ]
    .join("\n");
    let replies = answers(&desk("due", CORE_HOURS, &input));
    assert_eq!(replies.len(), 7, "{replies:?}");
    assert_eq!(replies[0]["due"], "2026-01-12T11:45:00+00:00");
    let errors: Vec<&str> = replies[1..6].iter().map(|r| r["error"].as_str().unwrap()).collect();
    assert!(errors[0].starts_with("line 2: "), "{errors:?}");
    assert!(errors[1].starts_with("line 3: ") && errors[1].contains("minutes"), "{errors:?}");
    assert!(errors[2].starts_with("line 4: "), "{errors:?}");
    assert_eq!(errors[3], "line 5: a business-time target cannot be negative");
    assert!(errors[4].contains("unknown field `priority`"), "{errors:?}");
    // The blank line is skipped; the last line is still answered
    assert_eq!(replies[6]["due"], "2026-01-12T08:00:00+00:00");
}

#[test]
fn elapsed_counts_business_seconds() {
    let input = [
        r#"{"from": "2026-01-12T07:45:00Z", "to": "2026-01-12T17:30:00Z"}"#,
        // Friday 17:00 to Monday 08:45: half an hour, then an hour
        r#"{"from": "2026-01-16T17:00:00Z", "to": "2026-01-19T08:45:00Z"}"#,
        // Backwards is negative
        r#"{"from": "2026-01-12T08:45:00Z", "to": "2026-01-12T07:45:00Z"}"#,
        r#"{"from": "2026-01-12T08:45:00Z"}"#,
    ]
    .join("\n");
    let replies = answers(&desk("elapsed", CORE_HOURS, &input));
    assert_eq!(replies[0]["seconds"], 35_100);
    assert_eq!(replies[1]["seconds"], 5_400);
    assert_eq!(replies[2]["seconds"], -3_600);
    assert!(replies[3]["error"].as_str().unwrap().contains("missing field `to`"));
}

#[test]
fn a_round_the_clock_calendar_counts_the_short_sunday() {
    let input = r#"{"from": "2026-03-29T00:00:00+00:00", "to": "2026-03-30T00:00:00+01:00"}"#;
    let replies = answers(&desk("elapsed", ROUND_THE_CLOCK, input));
    assert_eq!(replies[0]["seconds"], 23 * 3600);
    let input = r#"{"start": "2026-03-28T12:00:00Z", "minutes": 1440}"#;
    let replies = answers(&desk("due", ROUND_THE_CLOCK, input));
    assert_eq!(replies[0]["due"], "2026-03-29T13:00:00+01:00");
}

#[test]
fn a_bad_calendar_file_exits_2_naming_line_and_key() {
    for (file, line, key, message) in [
        ("overlapping.toml", 7, "hours.tue[1]", "periods 07:45-12:00 and 11:00-17:30 overlap"),
        ("unknown-zone.toml", 2, "timezone", "unknown time zone `Europe/Lundon`"),
    ] {
        let path = fixture(file);
        let output = desk("due", &path, "");
        assert_eq!(output.status.code(), Some(2), "{file}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.starts_with(&format!("desk: {path}:{line}:")), "{stderr}");
        assert!(stderr.contains(&format!("{key}: {message}")), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn a_missing_calendar_file_exits_2() {
    let output = desk("elapsed", &fixture("no-such-calendar.toml"), "");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot read") && stderr.contains("no-such-calendar.toml"), "{stderr}");
}

const COUNCIL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sla/council-standard.toml");
const CALENDARS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../calendars");

/// Runs `desk sla <args…>` with `input` on standard input.
fn desk_with(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_desk"))
        .arg("sla")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the desk binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The recorded events of a P3 incident (number `n`) logged on Monday 2 February 2026 at
/// 09:00, worked from 09:00 and resolved at `resolved` (an RFC 3339 instant), as JSON lines.
fn history(n: u32, resolved: &str) -> String {
    use desk_core::DeskConfig;
    use desk_core::channel::Channel;
    use desk_core::id::IncidentRef;
    use desk_core::incident::{AssignTo, Command as C, Incident, NewIncident};
    use desk_core::priority::{Impact, Urgency};
    use desk_core::record::{Actor, Aggregate, Context, Recorded};

    let config = DeskConfig::example();
    let actor = Actor::Agent("a.patel".parse().unwrap());
    let monday: desk_core::Timestamp = "2026-02-02T09:00:00Z".parse().unwrap();
    let new = NewIncident {
        reference: IncidentRef::from_number(n).unwrap(),
        title: "Printer jams".into(),
        description: String::new(),
        channel: Channel::Phone,
        requester: "k.lee".parse().unwrap(),
        requester_vip: None,
        category: None,
        affected_ci: None,
        impact: Impact::level(2).unwrap(),
        urgency: Urgency::level(2).unwrap(),
        assign: Some(AssignTo { team: "service-desk".parse().unwrap(), agent: None }),
        resolve: None,
    };
    let resolve = C::Resolve { code: "fixed".parse().unwrap(), notes: "Cleared".into() };
    let steps = [
        (monday, C::Log(Box::new(new))),
        (monday, C::Start { agent: None }),
        (resolved.parse().unwrap(), resolve),
    ];
    let mut state = None;
    let mut lines = Vec::new();
    for (at, command) in steps {
        let (next, events) = Incident::execute(state, command, Context::new(at, &actor, &config))
            .expect("the story's commands are accepted");
        for event in events {
            let seq = lines.len() as u64 + 1;
            let recorded =
                Recorded { record: next.reference.into(), seq, at, actor: actor.clone(), event };
            lines.push(serde_json::to_string(&recorded).unwrap());
        }
        state = Some(next);
    }
    lines.join("\n")
}

/// The only JSON document on standard output.
fn document(output: &Output) -> serde_json::Value {
    let mut answers = answers(output);
    assert_eq!(answers.len(), 1);
    answers.remove(0)
}

#[test]
fn explain_lists_the_clocks_and_explains_one() {
    let input = history(7, "2026-02-02T10:00:00Z");
    let setup = ["--policy", COUNCIL, "--calendars", CALENDARS, "--now", "2026-02-02T12:00:00Z"];
    let all = document(&desk_with(&[&["explain"][..], &setup].concat(), &input));
    let clocks = all["clocks"].as_array().unwrap();
    assert_eq!(clocks.len(), 5);
    assert_eq!(
        (clocks[0]["id"].as_str(), clocks[0]["state"].as_str()),
        (Some("response"), Some("stopped"))
    );
    assert_eq!(clocks[2]["elapsed"], 3_600);
    assert_eq!(all["summary"]["warned"], false);
    let one =
        document(&desk_with(&[&["explain", "--clock", "resolution"][..], &setup].concat(), &input));
    assert_eq!(one["record"], "INC-000007");
    assert_eq!(one["target"]["written"], "3d");
    let kinds: Vec<&str> =
        one["intervals"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["counted", "not_running"]);
}

#[test]
fn what_if_compares_two_versions_of_a_policy() {
    // Version 2 cuts P3 resolution from 3 business days to 2
    let stricter = std::fs::read_to_string(COUNCIL)
        .unwrap()
        .replace("version = 1", "version = 2")
        .replace("P3 = \"3d\", P4 = \"5d\"", "P3 = \"2d\", P4 = \"5d\"");
    let path = format!("{}/council-stricter.toml", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&path, stricter).unwrap();
    // One incident resolved after 22h30m of business time, one within the hour
    let input = [history(1, "2026-02-04T12:00:00Z"), history(2, "2026-02-02T09:30:00Z")].join("\n");
    let args = ["what-if", "--policy", COUNCIL, "--other", &path, "--calendars", CALENDARS];
    let run =
        document(&desk_with(&[&args[..], &["--now", "2026-02-06T12:00:00Z"]].concat(), &input));
    assert_eq!(run["other"]["version"], 2);
    assert_eq!(run["totals"]["incidents"], 2);
    assert_eq!(run["totals"]["newly_breached"], 1);
    let resolution = run["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["record"] == "INC-000001" && c["clock"] == "resolution")
        .unwrap();
    assert_eq!(resolution["current"]["breaches"], 0);
    assert_eq!(resolution["other"]["breached_at"], "2026-02-04T09:00:00Z");
}

#[test]
fn an_incomplete_history_is_refused() {
    let input: Vec<String> =
        history(3, "2026-02-02T10:00:00Z").lines().map(str::to_owned).collect();
    let gap = [input[0].clone(), input[2].clone()].join("\n");
    let output = desk_with(&["explain", "--policy", COUNCIL, "--calendars", CALENDARS], &gap);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("seq 3 follows seq 1: the history is incomplete"), "{stderr}");
}

#[test]
fn a_bad_policy_exits_2_naming_line_and_key() {
    let output = desk_with(
        &["explain", "--policy", &fixture("falling-warnings.toml"), "--calendars", CALENDARS],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("falling-warnings.toml:10:16: clock[0].warn_at[1]: warning thresholds must rise: 90 % then 75 %"),
        "{stderr}"
    );
}
