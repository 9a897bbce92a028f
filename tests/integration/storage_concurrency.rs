//! Concurrency: many tasks committing to the same records at once, through two store handles
//! (two pools, or two SQLite connections sets, as two desk processes would have).
//!
//! Invariants: of several writers expecting the same version exactly one wins and every other
//! gets `Conflict`; no committed update is lost (every win is in the history, in a chain that
//! verifies, with versions matching the count of wins); concurrent outbox claimers never get
//! the same message while its lease lasts; of several writers claiming one reference exactly
//! one wins, and the others are told it is taken.

use std::collections::BTreeSet;
use std::sync::Arc;

use desk::audit;
use desk::store::{Commit, OutboxItem, Store, StoreError};
use desk_core::id::{RecordId, RecordKind};
use desk_tests::{Harness, append, at, incident, message, row, tip};
use tokio::sync::Barrier;

desk_tests::for_each_backend!(
    exactly_one_writer_wins_each_version,
    no_update_is_lost_under_contention,
    concurrent_claimers_never_share_a_message,
    exactly_one_writer_claims_each_reference,
);

const WRITERS: usize = 8;

/// Two handles on the same data: the harness's and a second "process".
async fn handles(h: &Harness) -> [Arc<dyn Store>; 2] {
    [h.shared(), h.second().await]
}

/// Commits one event to `record` expecting `version`, with the row moved on.
async fn write(
    store: &dyn Store,
    record: &RecordId,
    version: u64,
    prev: desk::store::Digest,
) -> Result<(), StoreError> {
    store
        .commit(Commit {
            appends: vec![append(record, version, prev, 1)],
            rows: vec![row(record, version + 1)],
            outbox: vec![],
            claim: None,
        })
        .await
}

async fn exactly_one_writer_claims_each_reference(h: Harness) -> Harness {
    let stores = handles(&h).await;
    for n in 1..=5u32 {
        let barrier = Arc::new(Barrier::new(WRITERS));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let store = Arc::clone(&stores[writer % 2]);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    // Each writer creates a record of its own under the same reference claim.
                    let record = incident(100 * n + writer as u32);
                    let RecordId::Ref(reference) = incident(n) else { unreachable!() };
                    barrier.wait().await;
                    let commit = Commit {
                        appends: vec![append(&record, 0, Default::default(), 1)],
                        rows: vec![row(&record, 1)],
                        claim: Some(reference),
                        ..Commit::default()
                    };
                    (record, store.commit(commit).await)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            let (record, result) = task.await.expect("the task ends");
            match result {
                Ok(()) => winners.push(record),
                Err(StoreError::ReferenceTaken { last, .. }) => assert_eq!(last, n),
                Err(other) => panic!("claim {n}: {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "claim {n}: {winners:?}");
        for writer in 0..WRITERS as u32 {
            let record = incident(100 * n + writer);
            let written = h.store().history(&record).await.expect("history").len();
            assert_eq!(written, usize::from(winners.contains(&record)), "{record}");
        }
        assert_eq!(h.store().last_allocated(RecordKind::Incident).await.expect("last"), n);
    }
    h
}

async fn exactly_one_writer_wins_each_version(h: Harness) -> Harness {
    let stores = handles(&h).await;
    let inc = incident(1);
    for round in 0..5u64 {
        let (version, prev) = tip(&h.store().history(&inc).await.expect("history"));
        assert_eq!(version, round);
        let barrier = Arc::new(Barrier::new(WRITERS));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|n| {
                let store = Arc::clone(&stores[n % 2]);
                let barrier = Arc::clone(&barrier);
                let inc = inc.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    write(store.as_ref(), &inc, version, prev).await
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.expect("the task runs") {
                Ok(()) => wins += 1,
                Err(StoreError::Conflict { expected, actual, .. }) => {
                    assert_eq!((expected, actual), (version, version + 1));
                }
                Err(other) => panic!("a loser must get a conflict, not {other}"),
            }
        }
        assert_eq!(wins, 1, "round {round}: exactly one writer wins");
    }
    let history = h.store().history(&inc).await.expect("history");
    assert_eq!(audit::verify(&history).map(|v| v.events), Ok(5));
    assert_eq!(h.store().row(&inc).await.expect("row").map(|r| r.version), Some(5));
    h
}

async fn no_update_is_lost_under_contention(h: Harness) -> Harness {
    let stores = handles(&h).await;
    let records: Vec<RecordId> = (1..=3).map(incident).collect();
    const EACH: usize = 6;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|n| {
            let store = Arc::clone(&stores[n % 2]);
            let record = records[n % records.len()].clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                let mut written = Vec::new();
                while written.len() < EACH {
                    let (version, prev) = tip(&store.history(&record).await?);
                    match write(store.as_ref(), &record, version, prev).await {
                        Ok(()) => written.push(version + 1),
                        Err(StoreError::Conflict { .. }) => conflicts += 1,
                        Err(other) => return Err(other),
                    }
                }
                Ok::<_, StoreError>((record, written, conflicts))
            })
        })
        .collect();
    let mut wins: Vec<(RecordId, u64)> = Vec::new();
    for task in tasks {
        let (record, written, _conflicts) =
            task.await.expect("the task runs").expect("only conflicts are expected");
        wins.extend(written.into_iter().map(|version| (record.clone(), version)));
    }
    for record in &records {
        let history = h.store().history(record).await.expect("history");
        let writers = (0..WRITERS).filter(|n| records[n % records.len()] == *record).count();
        let expected = (writers * EACH) as u64;
        // Every win is a distinct version, and every version is a win: nothing overwritten,
        // nothing lost.
        let mine: BTreeSet<u64> =
            wins.iter().filter(|(r, _)| r == record).map(|(_, version)| *version).collect();
        assert_eq!(mine, (1..=expected).collect::<BTreeSet<u64>>());
        assert_eq!(audit::verify(&history).map(|v| v.events), Ok(expected));
        assert_eq!(h.store().row(record).await.expect("row").map(|r| r.version), Some(expected));
    }
    h
}

async fn concurrent_claimers_never_share_a_message(h: Harness) -> Harness {
    let stores = handles(&h).await;
    let inc = incident(1);
    let messages = (0..40).map(|n| message(&format!("m{n:02}"), &inc)).collect();
    h.store()
        .commit(Commit {
            appends: vec![append(&inc, 0, Default::default(), 1)],
            rows: vec![row(&inc, 1)],
            outbox: messages,
            claim: None,
        })
        .await
        .expect("commit");
    let barrier = Arc::new(Barrier::new(WRITERS));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|n| {
            let store = Arc::clone(&stores[n % 2]);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let mut claimed: Vec<OutboxItem> = Vec::new();
                loop {
                    let batch = store.claim_outbox(at(0), at(60), 3).await?;
                    if batch.is_empty() {
                        return Ok::<_, StoreError>(claimed);
                    }
                    claimed.extend(batch);
                }
            })
        })
        .collect();
    let mut keys = Vec::new();
    for task in tasks {
        let claimed = task.await.expect("the task runs").expect("claims succeed");
        assert!(claimed.iter().all(|item| item.attempts == 1));
        keys.extend(claimed.into_iter().map(|item| item.message.key));
    }
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "no message went to two claimers");
    assert_eq!(keys.len(), 40, "every message was claimed");
    h
}
