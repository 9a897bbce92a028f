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
    let mut child = Command::new(env!("CARGO_BIN_EXE_desk"))
        .args(["sla", command, "--calendar", calendar])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the desk binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
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
