//! The audit chain through the `Desk`: what the desk writes verifies, and an edit made behind
//! its back (in the SQLite file) is found at the first broken link.

use std::sync::Arc;

use desk::Desk;
use desk_core::id::RecordId;
use desk_core::incident::Command;
use desk_core::record::Visibility;
use desk_sqlite::SqliteStore;

use crate::desk_support::{Fixture, agent, laptop_fault};

/// Three incidents with a few events each; the second's id.
async fn some_history(desk: &Desk) -> RecordId {
    let mut second = None;
    for n in 0..3 {
        let opened = desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
        let reference = opened.record.reference;
        for text in ["Asked for the asset tag", "Tag is 40211"] {
            let note = Command::AddUpdate { visibility: Visibility::Internal, text: text.into() };
            desk.execute_incident(&agent("r.evans"), reference, note, None).await.unwrap();
        }
        if n == 1 {
            second = Some(reference.into());
        }
    }
    second.unwrap()
}

#[tokio::test]
async fn what_the_desk_writes_verifies() {
    let f = Fixture::new().await;
    let second = some_history(&f.desk).await;
    let verified = f.desk.verify(&second).await.unwrap().unwrap();
    assert_eq!((verified.events, verified.redacted), (4, 0));
    let summary = f.desk.verify_all().await.unwrap().unwrap();
    // Five people's records (one event each) and three incidents of four events.
    assert_eq!((summary.records, summary.events, summary.redacted), (8, 5 + 12, 0));
}

#[tokio::test]
async fn an_edit_behind_the_desks_back_is_found_at_the_first_broken_link() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    let f = Fixture::on(Arc::new(store)).await;
    let second = some_history(&f.desk).await;
    assert!(f.desk.verify_all().await.unwrap().is_ok());

    // Someone with database access rewrites a work note of the second incident.
    let connection = rusqlite::Connection::open(&path).unwrap();
    let changed = connection
        .execute(
            "UPDATE events SET event_json = replace(event_json, 'Tag is 40211', 'Tag is 40212') \
             WHERE record_id = ?1 AND seq = 4",
            [second.to_string()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(connection);

    let broken = f.desk.verify(&second).await.unwrap().unwrap_err();
    assert_eq!((&broken.record, broken.seq), (&second, 4));
    assert_eq!(broken.reason, "the content does not match its digest");
    let first_broken = f.desk.verify_all().await.unwrap().unwrap_err();
    assert_eq!(first_broken, broken);
}
