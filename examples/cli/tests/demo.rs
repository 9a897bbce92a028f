//! `desk demo` end to end: the built binary plays its story on a new SQLite file, and what it
//! says happened is what the database holds.

// Test helpers fail loudly on a broken fixture.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use desk::Desk;
use desk_core::DeskConfig;
use desk_core::id::IncidentRef;
use desk_core::incident::Status;
use desk_sqlite::SqliteStore;
use serde_json::Value;

fn desk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_desk")).args(args).output().expect("the binary runs")
}

/// Runs `desk demo --db <path> --json` and returns its steps.
fn json_demo(path: &Path) -> Vec<Value> {
    let output = desk(&["demo", "--db", path.to_str().unwrap(), "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            assert!(line.starts_with(r#"{"step":""#), "the step leads: {line}");
            serde_json::from_str(line).expect("every line is JSON")
        })
        .collect()
}

fn steps<'a>(all: &'a [Value], name: &str) -> Vec<&'a Value> {
    all.iter().filter(|step| step["step"] == name).collect()
}

/// The one step `name` about `title`.
fn about<'a>(all: &'a [Value], name: &str, title: &str) -> &'a Value {
    let found: Vec<&Value> =
        steps(all, name).into_iter().filter(|step| step["title"] == title).collect();
    assert_eq!(found.len(), 1, "one {name} step for {title:?}");
    found[0]
}

#[test]
fn the_json_story_holds_its_key_facts_and_the_database_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.sqlite");
    let all = json_demo(&path);
    for step in &all {
        assert!(step["step"].is_string() && step["at"].is_string(), "{step}");
    }
    let database = steps(&all, "database");
    assert!(database.len() >= 2 && database.iter().all(|s| s["path"] == path.to_str().unwrap()));

    // The councillor's incident is raised one level by the VIP uplift.
    let vip = about(&all, "incident_opened", "Cannot print committee papers");
    assert_eq!((&vip["vip"], &vip["vip_uplift"]), (&"elected_member".into(), &1.into()));
    assert_eq!((&vip["matrix_priority"], &vip["priority"]), (&"P4".into(), &"P3".into()));

    // The password reset is resolved at first contact by 1st line.
    let reset = about(&all, "incident_opened", "Locked out after changing password");
    assert_eq!((&reset["status"], &reset["first_contact"]), (&"resolved".into(), &true.into()));
    assert_eq!(reset["tier"], "first_line");

    // One is on hold awaiting the customer, its resolution clock paused; one went to 3rd line.
    let held = &steps(&all, "incident_on_hold")[0];
    assert_eq!(
        (&held["status"], &held["hold_reason"]),
        (&"on_hold".into(), &"awaiting_customer".into())
    );
    let resolution = held["clocks"].as_array().unwrap().iter().find(|c| c["clock"] == "resolution");
    assert_eq!(resolution.unwrap()["state"], "paused");
    let escalated = &steps(&all, "incident_escalated")[0];
    assert_eq!(
        (&escalated["tier"], &escalated["team"]),
        (&"third_line".into(), &"networks".into())
    );
    assert!(!escalated["reason"].as_str().unwrap().is_empty());

    // The major incident's children end resolved by it.
    let major = &steps(&all, "major_resolved")[0];
    assert_eq!((&major["major"], &major["status"]), (&true.into(), &"resolved".into()));
    let children = major["children_after"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    for child in children {
        assert_eq!(child["status"], "resolved");
        assert_eq!(child["resolved_by_parent"], major["reference"]);
    }

    // The request is fulfilled, the problem a known error, the change authorised.
    assert_eq!(steps(&all, "task_done").last().unwrap()["status"], "fulfilled");
    assert_eq!(steps(&all, "known_error")[0]["status"], "known_error");
    assert_eq!(steps(&all, "known_error")[0]["offered_to_requesters"], true);
    assert_eq!(steps(&all, "change_authorised")[0]["status"], "authorised");

    // The timers recorded warnings and breaches, which the reports then show.
    let timers = steps(&all, "timers");
    let last = timers.last().unwrap();
    assert!(last["warnings_so_far"].as_u64().unwrap() >= 1, "{last}");
    assert!(last["breaches_so_far"].as_u64().unwrap() >= 1, "{last}");
    let marks = steps(&all, "sla_marks");
    let breached: Vec<&Value> =
        marks.iter().filter(|m| !m["breaches"].as_array().unwrap().is_empty()).copied().collect();
    assert!(!breached.is_empty());
    let past = &steps(&all, "past_sla")[0]["rows"];
    for mark in &breached {
        let reference = &mark["reference"];
        let open = steps(&all, "queue").iter().any(|q| {
            q["rows"].as_array().unwrap().iter().any(|row| &row["reference"] == reference)
        });
        let listed = past.as_array().unwrap().iter().any(|row| &row["reference"] == reference);
        assert_eq!(open, listed, "{reference}: open and breached means past SLA");
    }

    let audit = &steps(&all, "audit")[0];
    assert_eq!(audit["verified"], true);
    assert!(audit["events"].as_u64().unwrap() > 0);

    // The database, opened afresh, holds every incident as the story last told it.
    let mut last_told: Vec<(IncidentRef, String)> = Vec::new();
    for step in
        all.iter().filter(|step| step["reference"].as_str().is_some_and(|r| r.starts_with("INC-")))
    {
        let reference: IncidentRef = step["reference"].as_str().unwrap().parse().unwrap();
        if let Some(status) = step["status"].as_str() {
            last_told.retain(|(r, _)| *r != reference);
            last_told.push((reference, status.to_owned()));
        }
    }
    for child in children {
        let reference: IncidentRef = child["reference"].as_str().unwrap().parse().unwrap();
        last_told.retain(|(r, _)| *r != reference);
        last_told.push((reference, "resolved".to_owned()));
    }
    let opened = steps(&all, "incident_opened").len();
    assert_eq!(last_told.len(), opened);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        let desk = Desk::builder(Arc::new(store)).config(DeskConfig::example()).build().unwrap();
        for (reference, status) in &last_told {
            let incident = desk.incident(*reference).await.unwrap().record;
            let stored = serde_json::to_value(incident.status).unwrap();
            assert_eq!(stored, status.as_str(), "{reference}");
        }
        let beyond = IncidentRef::from_number(u32::try_from(opened).unwrap() + 1).unwrap();
        assert!(desk.incident(beyond).await.is_err(), "no incident the story did not tell");
        let major: IncidentRef = major["reference"].as_str().unwrap().parse().unwrap();
        assert_eq!(desk.incident(major).await.unwrap().record.status, Status::Resolved);
        assert!(desk.verify_all().await.unwrap().is_ok());
    });
}

#[test]
fn an_existing_database_file_is_refused_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("council.sqlite");
    std::fs::write(&path, b"not a demo").unwrap();
    let output = desk(&["demo", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), b"not a demo", "the file is left alone");
}

#[test]
fn without_db_each_run_tells_its_story_on_a_new_temporary_database() {
    let tmp = tempfile::tempdir().unwrap();
    let run = || {
        let output = Command::new(env!("CARGO_BIN_EXE_desk"))
            .arg("demo")
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("audit chain verified"), "{text}");
        // The database's path is the line after the opening headline, and the last line.
        let path = PathBuf::from(text.lines().nth(1).unwrap().trim());
        assert_eq!(text.lines().last().map(str::trim), path.to_str());
        assert!(path.starts_with(tmp.path()) && path.exists(), "{}", path.display());
        path
    };
    let (first, second) = (run(), run());
    assert_ne!(first.parent(), second.parent());
}
