//! The crash test: a child process opens incidents through the `Desk` and prints each reference
//! after its call returns; it is killed with SIGKILL mid-run. After reopening the store, every
//! printed reference is there and the audit chain of the whole store verifies.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Arc;

use desk::store::Store;
use desk_core::id::IncidentRef;
use desk_postgres::PostgresStore;
use desk_sqlite::SqliteStore;

use crate::desk_support::Fixture;

/// References read before the child is killed.
const BEFORE_KILL: usize = 40;

/// Runs the child with `args`, kills it once it has printed [`BEFORE_KILL`] references, and
/// returns every complete line it printed.
fn run_and_kill(args: &[&str]) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash_child"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the crash child starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("a stdout pipe"));
    let mut lines = Vec::new();
    let mut line = String::new();
    while lines.len() < BEFORE_KILL {
        line.clear();
        let read = stdout.read_line(&mut line).expect("the child's output is readable");
        assert!(read > 0, "the child stopped after {} references", lines.len());
        lines.push(line.trim_end().to_owned());
    }
    child.kill().expect("SIGKILL reaches the child");
    let status = child.wait().expect("the child is reaped");
    assert!(!status.success(), "the child was killed, not finished: {status}");
    // What it printed between our last read and the kill: only complete lines count.
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("the rest of the output is readable");
    let complete = rest.rfind('\n').map_or("", |end| &rest[..end]);
    lines.extend(complete.lines().map(str::to_owned));
    lines
}

/// Every printed reference is an incident in `store`, and the store's chains verify.
async fn check_survivors(store: Arc<dyn Store>, printed: &[String]) {
    let desk = Fixture::bare(store).desk;
    for text in printed {
        let reference: IncidentRef = text.parse().expect("the child printed a reference");
        let incident = desk.incident(reference).await.expect("a printed incident survives");
        assert_eq!(incident.record.reference, reference);
        assert!(incident.record.team().is_some(), "{reference} was stored with its routing");
    }
    let summary = desk.verify_all().await.expect("the store reads").expect("every chain verifies");
    assert!(summary.records as usize >= printed.len());
}

#[test]
fn sqlite_keeps_every_incident_the_desk_returned_across_a_kill() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("desk.sqlite");
    let printed = run_and_kill(&["sqlite", path.to_str().expect("a UTF-8 path")]);
    assert!(printed.len() >= BEFORE_KILL);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(&path).await.expect("the database reopens");
        check_survivors(Arc::new(store), &printed).await;
    });
}

#[test]
fn postgres_keeps_every_incident_the_desk_returned_across_a_kill() {
    let url = desk_tests::postgres_url();
    let schema = desk_tests::unique_schema("crash");
    let printed = run_and_kill(&["postgres", &url, &schema]);
    assert!(printed.len() >= BEFORE_KILL);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let store = PostgresStore::connect(&url, &schema).await.expect("the schema reopens");
        check_survivors(Arc::new(store.clone()), &printed).await;
        store.drop_schema().await.expect("the schema is dropped");
    });
}
