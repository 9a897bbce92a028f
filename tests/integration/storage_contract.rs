//! The storage contract suite: every behaviour of `desk::store::Store`, written once over
//! `&dyn Store` and run against the in-memory, SQLite (a file in a temporary directory) and
//! PostgreSQL (a schema of its own) adapters.

use desk::audit;
use desk::contract;
use desk::store::{
    Commit, Cursor, Delivery, Filter, LegalHold, Order, Query, RecordRow, Redaction, RowKind,
    Store, StoreError,
};
use desk_core::id::{RecordId, RecordKind};
use desk_core::priority::Priority;
use desk_core::record::Actor;
use desk_core::tier::Tier;
use desk_tests::{Harness, append, asset, at, id, incident, message, person, row, team, tip};
use serde_json::json;

desk_tests::for_each_backend!(
    a_new_record_keeps_its_history_and_row,
    a_stale_write_is_a_conflict_and_writes_nothing,
    a_malformed_commit_is_refused_whole,
    references_are_never_reused,
    a_stale_claim_is_refused_and_writes_nothing,
    queries_filter_by_every_field,
    text_search_finds_word_prefixes_in_any_case,
    text_search_finds_common_and_rare_words_alike,
    pages_follow_each_order_without_gaps_or_repeats,
    a_cursor_belongs_to_its_order,
    the_outbox_leases_retries_and_gives_up,
    the_change_feed_runs_in_commit_order,
    timers_are_found_by_their_wake_time,
    audit_verify_holds_and_finds_tampering,
    anonymising_rewrites_content_but_keeps_the_chain,
    anonymising_can_rename_a_person_record,
    retention_deletes_closed_records,
    a_legal_hold_blocks_anonymising_and_deleting,
    reopening_keeps_everything,
);

/// PostgreSQL's migrations, which only a real server can show.
mod postgres_schema {
    use desk::store::{Commit, Filter, Order, Query, Store, StoreError};
    use desk_core::id::{RecordId, RecordKind};
    use desk_postgres::PostgresStore;
    use desk_postgres::schema::LATEST;
    use desk_tests::{append, incident, postgres_url, row, unique_schema};
    use tokio_postgres::NoTls;

    #[tokio::test]
    async fn connecting_migrates_once_and_refuses_a_newer_schema() {
        let (url, schema) = (postgres_url(), unique_schema("newer_schema"));
        drop(PostgresStore::connect(&url, &schema).await.expect("first connect migrates"));
        let store = PostgresStore::connect(&url, &schema).await.expect("second connect");

        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
        let driver = tokio::spawn(connection);
        let table = format!("{schema}.schema_migrations");
        let count: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("count")
            .get(0);
        assert_eq!(count, i64::from(LATEST));
        let future = i32::try_from(LATEST + 1).expect("small");
        client
            .execute(
                &format!("INSERT INTO {table} (version, name) VALUES ($1, 'from the future')"),
                &[&future],
            )
            .await
            .expect("insert");

        let error =
            PostgresStore::connect(&url, &schema).await.expect_err("a newer schema is refused");
        assert!(
            matches!(error, StoreError::NewerSchema { found, supported: LATEST } if found == LATEST + 1),
            "{error}"
        );
        drop(client);
        driver.await.expect("the driver ends").expect("cleanly");
        store.drop_schema().await.expect("drop");
    }

    /// A schema from before references were claimed in the commit (migration 1: one sequence
    /// per kind) goes on from the last number its sequences handed out.
    #[tokio::test]
    async fn migrating_carries_the_reference_sequences_over() {
        let (url, schema) = (postgres_url(), unique_schema("sequences"));
        drop(PostgresStore::connect(&url, &schema).await.expect("connect"));
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
        let driver = tokio::spawn(connection);
        // Back to migration 1, with 41 incidents numbered and the first problem number drawn.
        let mut sql = format!(
            "SET search_path = {schema};
             {UNDO_WORD_BITS}
             DROP TABLE allocations;
             DELETE FROM schema_migrations WHERE version = 2;"
        );
        for kind in RecordKind::ALL {
            sql.push_str(&format!("CREATE SEQUENCE ref_{};", kind.prefix().to_lowercase()));
        }
        sql.push_str("SELECT setval('ref_inc', 41); SELECT nextval('ref_prb');");
        client.batch_execute(&sql).await.expect("migration 1's sequences");
        let store = PostgresStore::connect(&url, &schema).await.expect("migration 2");
        for (kind, last) in
            [(RecordKind::Incident, 41), (RecordKind::Problem, 1), (RecordKind::Change, 0)]
        {
            assert_eq!(store.last_allocated(kind).await.expect("last"), last, "{kind:?}");
        }
        drop(client);
        driver.await.expect("the driver ends").expect("cleanly");
        store.drop_schema().await.expect("drop");
    }

    /// Takes a schema back from migration 3 to migration 2.
    const UNDO_WORD_BITS: &str = "
        ALTER TABLE rows DROP COLUMN words_0, DROP COLUMN words_1, DROP COLUMN words_2,
            DROP COLUMN words_3;
        CREATE INDEX rows_created ON rows (created_key, sort_key);
        DELETE FROM schema_migrations WHERE version = 3;";

    /// A schema from before word bits (migration 2) computes them for the rows it has, the
    /// same bits a commit writes, and its searches still find those rows.
    #[tokio::test]
    async fn migrating_computes_the_word_bits_of_existing_rows() {
        let (url, schema) = (postgres_url(), unique_schema("word_bits"));
        let store = PostgresStore::connect(&url, &schema).await.expect("connect");
        let titles = ["Scanner offline in the Civic Centre", "Siân's laptop will not boot"];
        let mut commit = Commit::default();
        for (n, title) in (1..).zip(titles) {
            let mut row = row(&incident(n), 1);
            title.clone_into(&mut row.title);
            commit.appends.push(append(&incident(n), 0, Default::default(), 1));
            commit.rows.push(row);
        }
        store.commit(commit).await.expect("commit");
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
        let driver = tokio::spawn(connection);
        let bits =
            format!("SELECT id, words_0, words_1, words_2, words_3 FROM {schema}.rows ORDER BY id");
        let read = |rows: Vec<tokio_postgres::Row>| -> Vec<(String, [i64; 4])> {
            rows.iter().map(|r| (r.get(0), [r.get(1), r.get(2), r.get(3), r.get(4)])).collect()
        };
        let written = read(client.query(&bits, &[]).await.expect("bits"));
        assert!(written.iter().all(|(_, bits)| bits.iter().any(|part| *part != 0)));

        client
            .batch_execute(&format!(
                "SET search_path = {schema}; DROP INDEX rows_created; {UNDO_WORD_BITS}"
            ))
            .await
            .expect("back to migration 2");
        let store = PostgresStore::connect(&url, &schema).await.expect("migration 3");
        assert_eq!(read(client.query(&bits, &[]).await.expect("bits")), written);
        for (words, found) in [("civic cent", 1), ("SIÂN laptop", 2), ("scanner laptop", 0)] {
            let query = Query {
                filter: Filter { text: Some(words.into()), ..Filter::default() },
                order: Order::Newest,
                limit: 10,
                ..Query::default()
            };
            let page = store.query(&query).await.expect("search");
            let ids: Vec<RecordId> = page.rows.into_iter().map(|row| row.id).collect();
            let expected: Vec<RecordId> =
                (found > 0).then(|| incident(found)).into_iter().collect();
            assert_eq!(ids, expected, "{words}");
        }
        drop(client);
        driver.await.expect("the driver ends").expect("cleanly");
        store.drop_schema().await.expect("drop");
    }

    #[tokio::test]
    async fn a_bad_schema_name_or_url_is_invalid() {
        let url = postgres_url();
        for bad in ["", "Tenant", "a-b", "x; DROP TABLE rows"] {
            let error = PostgresStore::connect(&url, bad).await.expect_err("refused");
            assert!(matches!(error, StoreError::Invalid(_)), "{bad}: {error}");
        }
        let error = PostgresStore::connect("mysql:/nowhere", "desk").await.expect_err("refused");
        assert!(matches!(error, StoreError::Invalid(_)), "{error}");
    }
}

/// SQLite's migrations, shown on a database taken back to an earlier version.
mod sqlite_schema {
    #![allow(clippy::expect_used)]

    use desk::store::{Commit, Filter, Order, Query, Store, StoreError};
    use desk_sqlite::SqliteStore;
    use desk_tests::{append, incident, row, tip};
    use rusqlite::Connection;

    /// A database as migration 1 left it (versions in `streams`, no `row_words`, nothing
    /// pending, no search vocabulary or rowid blocks) opens with every row searchable in every
    /// order and every version where it was.
    #[tokio::test]
    async fn a_version_1_database_keeps_its_rows_searchable_and_its_versions() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("desk.sqlite");
        let record = incident(7);
        let store = SqliteStore::open(&path).await.expect("open");
        let mut first = row(&record, 2);
        first.title = "Scanner on floor 3 offline".into();
        store
            .commit(Commit {
                appends: vec![append(&record, 0, Default::default(), 2)],
                rows: vec![first.clone()],
                ..Commit::default()
            })
            .await
            .expect("commit");
        assert_eq!(store.row(&record).await.expect("row"), Some(first.clone()));
        drop(store);
        let connection = Connection::open(&path).expect("open the file");
        connection
            .execute_batch(
                "CREATE TABLE streams (record_id TEXT PRIMARY KEY, version INTEGER NOT NULL)
                     STRICT, WITHOUT ROWID;
                 INSERT INTO streams SELECT record_id, max(seq) FROM events GROUP BY record_id;
                 DROP TABLE row_words;
                 DROP TABLE pending_rows;
                 DROP TABLE search_vocab;
                 DROP TABLE row_blocks;
                 DELETE FROM schema_migrations WHERE version > 1;",
            )
            .expect("back to migration 1");
        drop(connection);

        let store = SqliteStore::open(&path).await.expect("the later migrations");
        let search = Query {
            filter: Filter { text: Some("scann offl".into()), ..Filter::default() },
            limit: 10,
            ..Query::default()
        };
        assert_eq!(store.query(&search).await.expect("search").rows, [first.clone()]);
        let newest = Query { order: Order::Newest, ..search };
        assert_eq!(store.query(&newest).await.expect("search").rows, [first]);
        let history = store.history(&record).await.expect("history");
        let (version, prev) = tip(&history);
        assert_eq!(version, 2);
        let stale = Commit { appends: vec![append(&record, 1, prev, 1)], ..Commit::default() };
        let error = store.commit(stale).await.expect_err("a stale write");
        assert!(matches!(error, StoreError::Conflict { actual: 2, .. }), "{error}");
        let next = Commit { appends: vec![append(&record, 2, prev, 1)], ..Commit::default() };
        store.commit(next).await.expect("the next version");
        let tables: i64 = Connection::open(&path)
            .expect("open the file")
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('streams', 'row_words')",
                [],
                |row| row.get(0),
            )
            .expect("tables");
        assert_eq!(tables, 1, "streams is gone and row_words is there");
    }
}

/// Creates `row.id` with `count` events and `row` at version `count`.
async fn create(store: &dyn Store, mut row: RecordRow, count: u64) -> RecordRow {
    row.version = count;
    let commit = Commit {
        appends: vec![append(&row.id, 0, Default::default(), count)],
        rows: vec![row.clone()],
        outbox: vec![],
        claim: None,
    };
    store.commit(commit).await.expect("the record is created");
    row
}

/// Appends `count` events to `record` at its current version, with its row updated.
async fn extend(store: &dyn Store, record: &RecordId, count: u64) -> Result<(), StoreError> {
    let history = store.history(record).await?;
    let (version, prev) = tip(&history);
    let mut updated = store.row(record).await?.unwrap_or_else(|| row(record, 0));
    updated.version = version + count;
    store
        .commit(Commit {
            appends: vec![append(record, version, prev, count)],
            rows: vec![updated],
            outbox: vec![],
            claim: None,
        })
        .await
}

fn ids(rows: &[RecordRow]) -> Vec<String> {
    rows.iter().map(|row| row.id.to_string()).collect()
}

async fn find(store: &dyn Store, filter: Filter) -> Vec<String> {
    let page = store.query(&Query { filter, limit: 100, ..Query::default() }).await.expect("query");
    ids(&page.rows)
}

async fn a_new_record_keeps_its_history_and_row(h: Harness) -> Harness {
    let store = h.store();
    let inc = incident(1);
    let written = create(store, row(&inc, 0), 3).await;

    let history = store.history(&inc).await.expect("history");
    assert_eq!(history.iter().map(|s| s.event.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(history.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(history[2].event.payload["text"], json!("note 3 about INC-000001"));
    assert_eq!(store.row(&inc).await.expect("row"), Some(written));

    assert_eq!(store.history(&incident(2)).await.expect("history"), []);
    assert_eq!(store.row(&incident(2)).await.expect("row"), None);
    h
}

async fn a_stale_write_is_a_conflict_and_writes_nothing(h: Harness) -> Harness {
    let store = h.store();
    let (a, b) = (incident(1), incident(2));
    create(store, row(&a, 0), 2).await;
    create(store, row(&b, 0), 1).await;
    let before_a = store.history(&a).await.expect("history");
    let before_row = store.row(&b).await.expect("row");

    // Given a commit that extends b correctly but a from a stale version,
    let (_, prev_b) = tip(&store.history(&b).await.expect("history"));
    let mut row_b = row(&b, 2);
    row_b.status = "assigned".into();
    let stale = Commit {
        appends: vec![append(&b, 1, prev_b, 1), append(&a, 1, before_a[0].event.hash, 1)],
        rows: vec![row_b],
        outbox: vec![message("b-assigned", &b)],
        claim: None,
    };
    // when it is committed, it is a conflict naming a's versions,
    match store.commit(stale).await {
        Err(StoreError::Conflict { record, expected: 1, actual: 2 }) => assert_eq!(record, a),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // and nothing of it was written.
    assert_eq!(store.history(&a).await.expect("history"), before_a);
    assert_eq!(store.history(&b).await.expect("history").len(), 1);
    assert_eq!(store.row(&b).await.expect("row"), before_row);
    assert_eq!(store.claim_outbox(at(0), at(5), 10).await.expect("claim"), []);

    // Creating a record that exists is a conflict too,
    let again = Commit { appends: vec![append(&a, 0, Default::default(), 1)], ..Commit::default() };
    assert!(matches!(
        store.commit(again).await,
        Err(StoreError::Conflict { expected: 0, actual: 2, .. })
    ));
    // and so is a check-only append (no events) on a changed record,
    let check = Commit {
        appends: vec![desk::store::Append {
            record: b.clone(),
            expected_version: 0,
            events: vec![],
        }],
        ..Commit::default()
    };
    assert!(matches!(store.commit(check).await, Err(StoreError::Conflict { actual: 1, .. })));
    // while a fresh write succeeds.
    extend(store, &a, 2).await.expect("a fresh write succeeds");
    assert_eq!(tip(&store.history(&a).await.expect("history")).0, 4);
    h
}

async fn a_malformed_commit_is_refused_whole(h: Harness) -> Harness {
    let store = h.store();
    let inc = incident(1);
    let mut events = append(&inc, 0, Default::default(), 2);
    events.events[1].seq = 5;
    let commit =
        Commit { appends: vec![events], rows: vec![row(&inc, 2)], outbox: vec![], claim: None };
    assert!(matches!(store.commit(commit).await, Err(StoreError::Invalid(_))));

    let mut wrong_version = row(&inc, 3);
    wrong_version.status = "new".into();
    let commit = Commit {
        appends: vec![append(&inc, 0, Default::default(), 2)],
        rows: vec![wrong_version],
        outbox: vec![],
        claim: None,
    };
    assert!(matches!(store.commit(commit).await, Err(StoreError::Invalid(_))));
    assert_eq!(store.history(&inc).await.expect("history"), []);
    assert_eq!(store.row(&inc).await.expect("row"), None);
    h
}

/// A commit creating `record` (a numbered record) with one event, claiming its reference.
fn claiming(record: &RecordId) -> Commit {
    let RecordId::Ref(reference) = record else { panic!("{record} has no reference") };
    Commit {
        appends: vec![append(record, 0, Default::default(), 1)],
        rows: vec![row(record, 1)],
        claim: Some(*reference),
        ..Commit::default()
    }
}

async fn references_are_never_reused(mut h: Harness) -> Harness {
    assert_eq!(h.store().last_allocated(RecordKind::Incident).await.expect("last"), 0);
    for n in 1..=3 {
        h.store().commit(claiming(&incident(n))).await.expect("claims go through in order");
    }
    h.store().commit(claiming(&id("PRB-000001"))).await.expect("each kind counts apart");
    assert_eq!(h.store().last_allocated(RecordKind::Incident).await.expect("last"), 3);
    assert_eq!(h.store().last_allocated(RecordKind::Problem).await.expect("last"), 1);
    h.reopen().await;
    assert_eq!(h.store().last_allocated(RecordKind::Incident).await.expect("last"), 3);
    // Deleting a record frees neither its reference nor any before it.
    h.store().delete(&incident(3)).await.expect("delete");
    for taken in [3, 2] {
        let error = h.store().commit(claiming(&incident(taken))).await.expect_err("taken");
        assert!(
            matches!(error, StoreError::ReferenceTaken { reference, last: 3 }
                if RecordId::Ref(reference) == incident(taken)),
            "{error}"
        );
    }
    h.store().commit(claiming(&incident(4))).await.expect("the next one is free");
    h
}

async fn a_stale_claim_is_refused_and_writes_nothing(h: Harness) -> Harness {
    let store = h.store();
    store.commit(claiming(&incident(1))).await.expect("claim");
    // A claim taken by another writer (whose record is elsewhere): the whole commit is refused.
    let mut stale = claiming(&incident(7));
    stale.claim = Some(match incident(1) {
        RecordId::Ref(reference) => reference,
        _ => unreachable!("an incident has a reference"),
    });
    stale.outbox.push(message("stale", &incident(7)));
    let error = store.commit(stale).await.expect_err("refused");
    assert!(matches!(error, StoreError::ReferenceTaken { last: 1, .. }), "{error}");
    assert_eq!(store.history(&incident(7)).await.expect("history"), []);
    assert_eq!(store.row(&incident(7)).await.expect("row"), None);
    assert_eq!(store.claim_outbox(at(0), at(1), 10).await.expect("claim outbox"), []);
    assert_eq!(store.last_allocated(RecordKind::Incident).await.expect("last"), 1);
    // A claim whose commit fails otherwise is not recorded either.
    let mut conflicting = claiming(&incident(2));
    conflicting.appends.push(append(&incident(1), 0, Default::default(), 1));
    let error = store.commit(conflicting).await.expect_err("conflict");
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert_eq!(store.last_allocated(RecordKind::Incident).await.expect("last"), 1);
    // A number further on may be claimed (the numbers skipped stay free to no one).
    store.commit(claiming(&incident(5))).await.expect("claim further on");
    assert_eq!(store.last_allocated(RecordKind::Incident).await.expect("last"), 5);
    h
}

/// Seven incidents and a service request, differing in every field a filter reads.
async fn a_varied_desk(store: &dyn Store) {
    let mut rows = Vec::new();
    for n in 1..=7 {
        rows.push(row(&incident(n), 1));
    }
    rows[0].team = Some(team("networks"));
    rows[0].tier = Some(Tier::ThirdLine);
    rows[0].agent = Some(person("a.khan"));
    rows[0].status = "in_progress".into();
    rows[0].cis = vec![asset(7), asset(9)];
    rows[0].people.push(person("a.khan"));
    rows[1].requester = Some(person("m.jones"));
    rows[1].people = vec![person("m.jones")];
    rows[1].sla.warned = true;
    rows[1].sla.due_at = Some(at(600));
    rows[2].sla.due_at = Some(at(30));
    rows[3].sla.due_at = Some(at(-10));
    rows[3].sla.breached_at = Some(at(-10));
    rows[4].open = false;
    rows[4].status = "closed".into();
    rows[4].sla.breached_at = Some(at(-100));
    rows[4].closed_at = Some(at(50));
    rows[5].cis = vec![asset(9)];
    rows[6].status = "on_hold".into();
    rows[6].priority = Priority::new(1);
    let mut request = row(&id("REQ-000001"), 1);
    request.title = "New starter: laptop and mailbox".into();
    rows.push(request);
    for row in rows {
        create(store, row, 1).await;
    }
}

async fn queries_filter_by_every_field(h: Harness) -> Harness {
    let store = h.store();
    a_varied_desk(store).await;
    let open_queue =
        ["INC-000007", "INC-000004", "INC-000003", "INC-000002", "INC-000001", "INC-000006"];

    let incidents = Filter { kind: Some(RowKind::Incident), open: Some(true), ..Filter::default() };
    assert_eq!(find(store, incidents.clone()).await, open_queue);
    let team_queue = Filter { team: Some(team("service-desk")), ..incidents.clone() };
    assert_eq!(find(store, team_queue).await, [&open_queue[..4], &open_queue[5..]].concat());
    assert_eq!(
        find(store, Filter { tier: Some(Tier::ThirdLine), ..Filter::default() }).await,
        ["INC-000001"]
    );
    assert_eq!(
        find(store, Filter { agent: Some(person("a.khan")), ..Filter::default() }).await,
        ["INC-000001"]
    );
    assert_eq!(
        find(store, Filter { requester: Some(person("m.jones")), ..Filter::default() }).await,
        ["INC-000002"]
    );
    assert_eq!(
        find(store, Filter { ci: Some(asset(9)), ..Filter::default() }).await,
        ["INC-000001", "INC-000006"]
    );
    let statuses = vec!["on_hold".to_owned(), "closed".to_owned()];
    assert_eq!(
        find(store, Filter { statuses, ..Filter::default() }).await,
        ["INC-000007", "INC-000005"]
    );
    assert_eq!(
        find(store, Filter { kind: Some(RowKind::ServiceRequest), ..Filter::default() }).await,
        ["REQ-000001"]
    );
    // At risk within an hour of at(0): warned (INC-2), due soon (INC-3), overdue (INC-4);
    // the closed INC-5 is not at risk whatever its clocks say.
    assert_eq!(
        find(store, Filter { at_risk_before: Some(at(60)), ..Filter::default() }).await,
        ["INC-000004", "INC-000003", "INC-000002"]
    );
    // Due exactly at the instant is not due before it.
    assert_eq!(
        find(store, Filter { at_risk_before: Some(at(30)), ..Filter::default() }).await,
        ["INC-000004", "INC-000002"]
    );
    // Open past SLA: only the open breach.
    assert_eq!(
        find(store, Filter { breached: Some(true), ..Filter::default() }).await,
        ["INC-000004"]
    );
    let not_breached = find(store, Filter { breached: Some(false), ..incidents }).await;
    assert_eq!(
        not_breached,
        ["INC-000007", "INC-000003", "INC-000002", "INC-000001", "INC-000006"]
    );
    assert_eq!(store.mentioning(&person("a.khan")).await.expect("mentioning"), [incident(1)]);
    h
}

async fn text_search_finds_word_prefixes_in_any_case(h: Harness) -> Harness {
    let store = h.store();
    let texts = [
        ("VPN drops every 10 minutes", "Remote worker on 50% FTE; Cisco AnyConnect"),
        ("Printer jam", "Floor 2, HP LaserJet, error 13.2"),
        ("Password reset", "User locked out of payroll_system after \"3 tries\""),
        ("Siân Evans: Ünïcode Straße", "Naïve café"),
    ];
    for (n, (title, body)) in texts.iter().enumerate() {
        let mut r = row(&incident(n as u32 + 1), 1);
        r.title = (*title).into();
        r.body = (*body).into();
        create(store, r, 1).await;
    }
    let search = |text: &str| Filter { text: Some(text.into()), ..Filter::default() };
    let none: [&str; 0] = [];
    assert_eq!(find(store, search("vpn")).await, ["INC-000001"]);
    assert_eq!(find(store, search("LASERJET jam")).await, ["INC-000002"]);
    assert_eq!(find(store, search("anyconn minutes")).await, ["INC-000001"]);
    assert_eq!(find(store, search("connect")).await, none);
    assert_eq!(find(store, search("13.2")).await, ["INC-000002"]);
    assert_eq!(find(store, search("50%")).await, ["INC-000001"]);
    assert_eq!(find(store, search("payroll_system")).await, ["INC-000003"]);
    assert_eq!(find(store, search("sys")).await, ["INC-000003"]);
    assert_eq!(find(store, search("\"3")).await, ["INC-000003"]);
    assert_eq!(find(store, search("2,")).await, ["INC-000002"]);
    assert_eq!(find(store, search("straße CAFÉ")).await, ["INC-000004"]);
    assert_eq!(find(store, search("SIÂN")).await, ["INC-000004"]);
    assert_eq!(find(store, search("sian")).await, none);
    assert_eq!(find(store, search("printer vpn")).await, none);
    assert_eq!(find(store, search("   ")).await.len(), 4);
    assert_eq!(find(store, search("!!")).await.len(), 4);

    // Searches of open rows alone follow rows as they close.
    let mut closed = store.row(&incident(1)).await.expect("row").expect("a row");
    closed.open = false;
    closed.status = "closed".into();
    store.commit(Commit { rows: vec![closed], ..Commit::default() }).await.expect("commit");
    let open = |text: &str| Filter { open: Some(true), ..search(text) };
    assert_eq!(find(store, search("vpn")).await, ["INC-000001"]);
    assert_eq!(find(store, open("vpn")).await, none);
    assert_eq!(find(store, open("siân")).await, ["INC-000004"]);
    let at_risk = Filter { at_risk_before: Some(at(0)), ..search("v") };
    assert_eq!(find(store, at_risk).await, none);

    // Search follows the row as it changes.
    let mut renamed = row(&incident(2), 1);
    renamed.title = "Scanner fault".into();
    renamed.body = String::new();
    store.commit(Commit { rows: vec![renamed], ..Commit::default() }).await.expect("commit");
    assert_eq!(find(store, search("printer")).await, none);
    assert_eq!(find(store, search("scan")).await, ["INC-000002"]);
    store.delete(&incident(2)).await.expect("delete");
    assert_eq!(find(store, search("scan")).await, none);
    h
}

/// A search reads the query's order row by row first, goes on reading it when the words are
/// common, and turns to the search index when they are rarer than that finds quickly
/// (`desk_sql::WindowedSearch`; SQLite's newest-first search has a way of its own): every way
/// must give the rows, and the pages, that the words select.
async fn text_search_finds_common_and_rare_words_alike(h: Harness) -> Harness {
    let store = h.store();
    let total = desk_sql::SEARCH_WINDOW + 60;
    let rows: Vec<RecordRow> = (1..=total)
        .map(|n| {
            let mut r = row(&incident(n), 0);
            r.created_at = at(i64::from(n));
            r.updated_at = r.created_at;
            let extra = match n {
                _ if n <= 2 => " zebra",
                _ if n % 7 == 0 => " toner",
                _ => "",
            };
            r.title = format!("Printer jam{extra}");
            r.body = String::new();
            r
        })
        .collect();
    store.commit(Commit { rows: rows.clone(), ..Commit::default() }).await.expect("commit");
    let newest_first = |word: &str| -> Vec<String> {
        let mut found: Vec<&RecordRow> = rows
            .iter()
            .filter(|r| word.split(' ').all(|w| r.title.to_lowercase().contains(w)))
            .collect();
        found.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        ids(&found.into_iter().cloned().collect::<Vec<_>>())
    };
    for order in [Order::Newest, Order::Updated] {
        for (words, limit) in [
            ("printer", 100),
            ("toner", 250),
            ("toner", 150),
            ("zebra", 10),
            ("jam zebra", 1),
            ("toner zebra", 5),
        ] {
            let mut query = Query {
                filter: Filter { text: Some(words.into()), ..Filter::default() },
                order,
                limit,
                after: None,
            };
            let mut seen = Vec::new();
            loop {
                let page = store.query(&query).await.expect("query");
                seen.extend(ids(&page.rows));
                let Some(next) = page.next else { break };
                if words == "printer" && seen.len() >= 300 {
                    break;
                }
                query.after = Some(next);
            }
            let expected = newest_first(words);
            let expected = if words == "printer" { &expected[..seen.len()] } else { &expected[..] };
            assert_eq!(seen, expected, "searching for {words:?} by {order:?}, {limit} a page");
        }
    }
    h
}

async fn pages_follow_each_order_without_gaps_or_repeats(h: Harness) -> Harness {
    let store = h.store();
    let mut rows = Vec::new();
    for n in 1..=23u32 {
        let mut r = row(&incident(n), 1);
        r.priority = Priority::new((n % 4) as u8).filter(|_| n % 4 != 0);
        r.sla.due_at = (n % 5 != 0).then(|| at(i64::from(n % 3) * 30));
        r.created_at = at(i64::from(n % 6));
        r.updated_at = at(i64::from(n % 7));
        rows.push(create(store, r, 1).await);
    }
    for order in [Order::Queue, Order::Due, Order::Newest, Order::Updated] {
        let all = Query { order, limit: 100, ..Query::default() };
        let expected = contract::page_of(&all, &rows).expect("reference page");
        assert_eq!(store.query(&all).await.expect("query"), expected, "{order:?}");

        let mut query = Query { order, limit: 5, ..Query::default() };
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.query(&query).await.expect("query");
            pages += 1;
            assert!(page.rows.len() <= 5);
            seen.extend(page.rows);
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        assert_eq!(ids(&seen), ids(&expected.rows), "{order:?}");
        assert_eq!(pages, 5, "{order:?}: 23 rows make five pages of five");
    }

    // A row added behind the cursor does not shift the next page.
    let first = Query { order: Order::Queue, limit: 5, ..Query::default() };
    let page = store.query(&first).await.expect("query");
    let mut urgent = row(&incident(99), 1);
    urgent.priority = Some(Priority::P1);
    urgent.sla.due_at = Some(at(-1000));
    create(store, urgent, 1).await;
    let next = store.query(&Query { after: page.next, ..first }).await.expect("query");
    assert!(!ids(&next.rows).contains(&"INC-000099".to_owned()));
    assert!(next.rows.iter().all(|r| !page.rows.contains(r)));

    // No page is larger than the cap, and a zero limit returns nothing.
    let zero = store.query(&Query { limit: 0, ..Query::default() }).await.expect("query");
    assert_eq!((zero.rows.len(), zero.next), (0, None));
    h
}

async fn a_cursor_belongs_to_its_order(h: Harness) -> Harness {
    let store = h.store();
    for n in 1..=3 {
        create(store, row(&incident(n), 0), 1).await;
    }
    let page = store
        .query(&Query { order: Order::Due, limit: 1, ..Query::default() })
        .await
        .expect("query");
    let cursor = page.next.expect("more rows follow");
    let wrong = Query { order: Order::Queue, limit: 1, after: Some(cursor), ..Query::default() };
    assert!(matches!(store.query(&wrong).await, Err(StoreError::Invalid(_))));
    let garbage =
        Query { after: Some(Cursor("not a cursor".into())), limit: 1, ..Query::default() };
    assert!(matches!(store.query(&garbage).await, Err(StoreError::Invalid(_))));
    h
}

async fn the_outbox_leases_retries_and_gives_up(h: Harness) -> Harness {
    let store = h.store();
    let inc = incident(1);
    let mut commit = Commit {
        appends: vec![append(&inc, 0, Default::default(), 1)],
        rows: vec![row(&inc, 1)],
        outbox: vec![message("m1", &inc), message("m2", &inc), message("m3", &inc)],
        claim: None,
    };
    commit.outbox.push(message("m1", &inc));
    store.commit(commit).await.expect("commit");
    let keys = |items: &[desk::store::OutboxItem]| -> Vec<(String, u32)> {
        items.iter().map(|i| (i.message.key.clone(), i.attempts)).collect()
    };

    // Two claimers: the second gets only what the first did not lease.
    let first = store.claim_outbox(at(0), at(5), 2).await.expect("claim");
    assert_eq!(keys(&first), [("m1".into(), 1), ("m2".into(), 1)]);
    assert_eq!(first[0].message, message("m1", &inc));
    let second = store.claim_outbox(at(1), at(6), 10).await.expect("claim");
    assert_eq!(keys(&second), [("m3".into(), 1)]);
    assert_eq!(store.claim_outbox(at(2), at(7), 10).await.expect("claim"), []);

    // m1 is delivered; m2's lease runs out; m3 fails and is retried later.
    store.settle_outbox("m1", Delivery::Delivered, at(3)).await.expect("settle");
    let retry = Delivery::Retry { error: "SMTP 451".into(), retry_at: at(20) };
    store.settle_outbox("m3", retry, at(3)).await.expect("settle");
    let after_lease = store.claim_outbox(at(5), at(10), 10).await.expect("claim");
    assert_eq!(keys(&after_lease), [("m2".into(), 2)]);
    store.settle_outbox("m2", Delivery::Delivered, at(6)).await.expect("settle");
    assert_eq!(store.claim_outbox(at(19), at(25), 10).await.expect("claim"), []);
    let retried = store.claim_outbox(at(20), at(25), 10).await.expect("claim");
    assert_eq!(keys(&retried), [("m3".into(), 2)]);

    // m3 gives up: a dead letter, never claimed again; settling twice changes nothing.
    let dead = Delivery::Dead { error: "mailbox does not exist".into() };
    store.settle_outbox("m3", dead, at(21)).await.expect("settle");
    store.settle_outbox("m3", Delivery::Delivered, at(22)).await.expect("settle");
    store.settle_outbox("no-such-key", Delivery::Delivered, at(22)).await.expect("settle");
    assert_eq!(store.claim_outbox(at(100), at(105), 10).await.expect("claim"), []);
    let letters = store.dead_letters(10).await.expect("dead letters");
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (letters[0].message.key.as_str(), letters[0].attempts, letters[0].error.as_str()),
        ("m3", 2, "mailbox does not exist")
    );
    assert_eq!(letters[0].dead_at, at(21));

    // A key seen before is never enqueued again, delivered or dead.
    let (version, prev) = tip(&store.history(&inc).await.expect("history"));
    let again = Commit {
        appends: vec![append(&inc, version, prev, 1)],
        rows: vec![row(&inc, version + 1)],
        outbox: vec![message("m1", &inc), message("m3", &inc), message("m4", &inc)],
        claim: None,
    };
    store.commit(again).await.expect("commit");
    let fresh = store.claim_outbox(at(100), at(105), 10).await.expect("claim");
    assert_eq!(keys(&fresh), [("m4".into(), 1)]);
    h
}

async fn the_change_feed_runs_in_commit_order(h: Harness) -> Harness {
    let store = h.store();
    create(store, row(&incident(1), 0), 2).await;
    create(store, row(&incident(2), 0), 1).await;
    extend(store, &incident(1), 1).await.expect("extend");
    let feed = store.events_after(0, 100).await.expect("feed");
    let order: Vec<(String, u64)> =
        feed.iter().map(|s| (s.event.record.to_string(), s.event.seq)).collect();
    assert_eq!(
        order,
        [
            ("INC-000001".into(), 1),
            ("INC-000001".into(), 2),
            ("INC-000002".into(), 1),
            ("INC-000001".into(), 3)
        ]
    );
    assert!(feed.windows(2).all(|w| w[0].position < w[1].position));
    let rest = store.events_after(feed[1].position, 2).await.expect("feed");
    assert_eq!(rest, feed[2..4]);
    assert_eq!(store.events_after(feed[3].position, 10).await.expect("feed"), []);
    h
}

async fn timers_are_found_by_their_wake_time(h: Harness) -> Harness {
    let store = h.store();
    assert_eq!(store.next_wake().await.expect("next wake"), None);
    for (n, wake) in [(1, Some(30)), (2, Some(10)), (3, None), (4, Some(10)), (5, Some(90))] {
        let mut r = row(&incident(n), 1);
        r.wake_at = wake.map(at);
        create(store, r, 1).await;
    }
    assert_eq!(store.next_wake().await.expect("next wake"), Some(at(10)));
    assert_eq!(store.due(at(9), 10).await.expect("due"), []);
    assert_eq!(store.due(at(30), 10).await.expect("due"), [incident(2), incident(4), incident(1)]);
    assert_eq!(store.due(at(100), 2).await.expect("due"), [incident(2), incident(4)]);
    h
}

async fn audit_verify_holds_and_finds_tampering(h: Harness) -> Harness {
    let store = h.store();
    let inc = incident(1);
    create(store, row(&inc, 0), 3).await;
    extend(store, &inc, 2).await.expect("extend");
    let history = store.history(&inc).await.expect("history");
    assert_eq!(audit::verify(&history).map(|v| v.events), Ok(5));

    let mut tampered = history.clone();
    tampered[3].event.payload = json!({"type": "work_noted", "text": "nothing to see"});
    let broken = audit::verify(&tampered).expect_err("tampering is found");
    assert_eq!(broken.seq, 4);
    h
}

async fn anonymising_rewrites_content_but_keeps_the_chain(h: Harness) -> Harness {
    let store = h.store();
    let inc = incident(1);
    let mut original = row(&inc, 0);
    original.people.push(person("j.smith"));
    let original = create(store, original, 3).await;
    assert_eq!(
        store.mentioning(&person("k.lee")).await.expect("mentioning"),
        std::slice::from_ref(&inc)
    );
    let history = store.history(&inc).await.expect("history");

    let mut events = vec![history[0].event.clone(), history[2].event.clone()];
    for event in &mut events {
        event.payload = json!({"type": "work_noted", "text": "[redacted]"});
        event.actor = Actor::Agent(person("anon-1"));
    }
    let mut anonymous = original.clone();
    anonymous.requester = Some(person("anon-2"));
    anonymous.people = vec![person("anon-2")];
    anonymous.title = "[redacted]".into();

    // A redaction prepared before the record changed is a conflict.
    let stale = Redaction {
        record: inc.clone(),
        events: events.clone(),
        row: RecordRow { version: 2, ..anonymous.clone() },
        rename: None,
    };
    assert!(matches!(store.redact(stale).await, Err(StoreError::Conflict { actual: 3, .. })));
    let unknown =
        Redaction { record: incident(9), events: vec![], row: row(&incident(9), 0), rename: None };
    assert!(matches!(store.redact(unknown).await, Err(StoreError::NotFound(_))));
    let mut beyond = events.clone();
    beyond[0].seq = 4;
    let missing =
        Redaction { record: inc.clone(), events: beyond, row: anonymous.clone(), rename: None };
    assert!(matches!(store.redact(missing).await, Err(StoreError::Invalid(_))));

    let redaction = Redaction { record: inc.clone(), events, row: anonymous.clone(), rename: None };
    store.redact(redaction).await.expect("redact");

    let after = store.history(&inc).await.expect("history");
    assert_eq!(after.len(), 3);
    for (old, new) in history.iter().zip(&after) {
        assert_eq!(
            (old.position, old.event.hash, old.event.content_digest),
            (new.position, new.event.hash, new.event.content_digest)
        );
    }
    assert!(after[0].event.redacted && !after[1].event.redacted && after[2].event.redacted);
    assert_eq!(after[2].event.payload["text"], json!("[redacted]"));
    assert_eq!(after[1].event, history[1].event);
    assert_eq!(audit::verify(&after).map(|v| (v.events, v.redacted)), Ok((3, 2)));
    assert_eq!(store.row(&inc).await.expect("row"), Some(anonymous));
    assert_eq!(store.mentioning(&person("k.lee")).await.expect("mentioning"), []);
    assert_eq!(store.mentioning(&person("anon-2")).await.expect("mentioning"), [inc]);
    h
}

async fn anonymising_can_rename_a_person_record(h: Harness) -> Harness {
    let store = h.store();
    let (old, new) = (id("requester:k.lee"), id("requester:anon-7"));
    let mut person_row = row(&old, 0);
    person_row.title = "Kim Lee".into();
    let person_row = create(store, person_row, 2).await;
    let history = store.history(&old).await.expect("history");

    let mut renamed = person_row.clone();
    renamed.id = new.clone();
    renamed.title = "[anonymised]".into();
    renamed.people = vec![];
    let mut events: Vec<_> = history.iter().map(|s| s.event.clone()).collect();
    for event in &mut events {
        event.payload = json!({"type": "work_noted", "text": "[redacted]"});
    }
    let redaction =
        Redaction { record: old.clone(), events, row: renamed.clone(), rename: Some(new.clone()) };
    store.redact(redaction).await.expect("redact");

    assert_eq!(store.history(&old).await.expect("history"), []);
    assert_eq!(store.row(&old).await.expect("row"), None);
    let moved = store.history(&new).await.expect("history");
    assert_eq!(moved.len(), 2);
    assert!(moved.iter().all(|s| s.event.record == new && s.event.redacted));
    assert_eq!(audit::verify(&moved).map(|v| v.redacted), Ok(2));
    assert_eq!(store.row(&new).await.expect("row"), Some(renamed));
    // The record goes on under its new id.
    extend(store, &new, 1).await.expect("extend");
    assert_eq!(store.history(&new).await.expect("history").len(), 3);
    h
}

async fn retention_deletes_closed_records(h: Harness) -> Harness {
    let store = h.store();
    for (n, closed) in [(1, Some(10)), (2, Some(500)), (3, None), (4, Some(5))] {
        let mut r = row(&incident(n), 1);
        r.closed_at = closed.map(at);
        r.open = closed.is_none();
        create(store, r, 1).await;
    }
    let mut request = row(&id("REQ-000001"), 1);
    request.closed_at = Some(at(1));
    create(store, request, 1).await;
    let inc1 = incident(1);
    let (_, prev) = tip(&store.history(&inc1).await.expect("history"));
    store
        .commit(Commit {
            appends: vec![append(&inc1, 1, prev, 1)],
            rows: vec![RecordRow {
                version: 2,
                ..store.row(&inc1).await.expect("row").expect("a row")
            }],
            outbox: vec![message("closing-note", &inc1)],

            claim: None,
        })
        .await
        .expect("commit");

    let old = store.closed_before(RowKind::Incident, at(100), 10).await.expect("closed");
    assert_eq!(old, [incident(4), incident(1)]);
    assert_eq!(
        store.closed_before(RowKind::Incident, at(100), 1).await.expect("closed"),
        [incident(4)]
    );
    for record in &old {
        store.delete(record).await.expect("delete");
    }
    assert_eq!(store.history(&inc1).await.expect("history"), []);
    assert_eq!(store.row(&inc1).await.expect("row"), None);
    assert_eq!(store.claim_outbox(at(0), at(1), 10).await.expect("claim"), []);
    assert_eq!(store.closed_before(RowKind::Incident, at(100), 10).await.expect("closed"), []);
    assert_eq!(store.events_after(0, 100).await.expect("feed").len(), 3);
    assert!(matches!(store.delete(&inc1).await, Err(StoreError::NotFound(_))));
    h
}

async fn a_legal_hold_blocks_anonymising_and_deleting(h: Harness) -> Harness {
    let store = h.store();
    let inc = incident(1);
    let mut closed = row(&inc, 0);
    closed.open = false;
    closed.closed_at = Some(at(1));
    let closed = create(store, closed, 1).await;
    let hold = LegalHold {
        record: inc.clone(),
        reason: "Employment tribunal case ET/2026/0042".into(),
        placed_by: Actor::Agent(person("dpo")),
        placed_at: at(2),
    };
    assert!(matches!(
        store.place_hold(LegalHold { record: incident(9), ..hold.clone() }).await,
        Err(StoreError::NotFound(_))
    ));
    store.place_hold(hold.clone()).await.expect("hold");
    assert_eq!(store.hold(&inc).await.expect("hold"), Some(hold.clone()));

    let redaction =
        Redaction { record: inc.clone(), events: vec![], row: closed.clone(), rename: None };
    assert!(matches!(store.redact(redaction.clone()).await, Err(StoreError::OnHold(_))));
    assert!(matches!(store.delete(&inc).await, Err(StoreError::OnHold(_))));
    assert_eq!(store.closed_before(RowKind::Incident, at(100), 10).await.expect("closed"), []);
    assert_eq!(store.history(&inc).await.expect("history").len(), 1);

    let longer = LegalHold { reason: "Extended: appeal".into(), ..hold };
    store.place_hold(longer.clone()).await.expect("hold replaced");
    assert_eq!(store.hold(&inc).await.expect("hold"), Some(longer));

    store.release_hold(&inc).await.expect("release");
    store.release_hold(&inc).await.expect("releasing twice is harmless");
    assert_eq!(store.hold(&inc).await.expect("hold"), None);
    assert_eq!(
        store.closed_before(RowKind::Incident, at(100), 10).await.expect("closed"),
        std::slice::from_ref(&inc)
    );
    store.redact(redaction).await.expect("redact");
    store.delete(&inc).await.expect("delete");
    h
}

async fn reopening_keeps_everything(mut h: Harness) -> Harness {
    a_varied_desk(h.store()).await;
    let inc = incident(1);
    extend(h.store(), &inc, 2).await.expect("extend");
    let (version, prev) = tip(&h.store().history(&inc).await.expect("history"));
    h.store()
        .commit(Commit {
            appends: vec![append(&inc, version, prev, 1)],
            rows: vec![RecordRow { version: version + 1, ..row(&inc, 0) }],
            outbox: vec![message("m1", &inc), message("m2", &inc)],

            claim: None,
        })
        .await
        .expect("commit");
    h.store().claim_outbox(at(0), at(5), 1).await.expect("claim");
    let hold = LegalHold {
        record: incident(2),
        reason: "FOI request".into(),
        placed_by: Actor::System,
        placed_at: at(3),
    };
    h.store().place_hold(hold.clone()).await.expect("hold");

    let query = Query { limit: 100, ..Query::default() };
    let before = (
        h.store().history(&inc).await.expect("history"),
        h.store().query(&query).await.expect("query"),
        h.store().events_after(0, 100).await.expect("feed"),
    );
    h.reopen().await;
    let after = (
        h.store().history(&inc).await.expect("history"),
        h.store().query(&query).await.expect("query"),
        h.store().events_after(0, 100).await.expect("feed"),
    );
    assert_eq!(before, after);
    assert_eq!(h.store().hold(&incident(2)).await.expect("hold"), Some(hold));
    // The lease survives too: only m2 is free.
    let claimed = h.store().claim_outbox(at(1), at(5), 10).await.expect("claim");
    assert_eq!(claimed.iter().map(|i| i.message.key.as_str()).collect::<Vec<_>>(), ["m2"]);
    h
}
