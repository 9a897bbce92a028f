//! The embedding example runs as the README says: a new SQLite file, one incident logged and
//! routed, its SLA due instant printed; a second run adds the next incident to the same file.

// A test fails loudly, with the reason, when the example does not run.
#![allow(clippy::expect_used)]

use std::process::Command;

fn run(path: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_desk-embed"))
        .arg(path)
        .output()
        .expect("the example runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn the_example_logs_a_routed_incident_with_a_due_instant_and_keeps_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("council-desk.sqlite");
    let first = run(&path);
    assert!(first.starts_with("INC-000001 P4 assigned with desk-side, due 20"), "{first}");
    let second = run(&path);
    assert!(second.starts_with("INC-000002 "), "{second}");
}
