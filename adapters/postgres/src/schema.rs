//! The PostgreSQL schema as numbered migrations, applied on connect.
//!
//! Every table lives in the store's own schema (tests and tenants each have one). Migrations
//! run in one transaction under an advisory lock, so several desk processes starting together
//! migrate once. A schema whose newest migration is beyond
//! [`LATEST`] is refused with [`StoreError::NewerSchema`].
//!
//! Choices:
//! - **Conflicts** are exact through `streams`: a commit moves a record's version with
//!   `UPDATE … WHERE version = expected` (or `INSERT … ON CONFLICT DO NOTHING` for a new
//!   record), which under PostgreSQL's row locks lets exactly one of several concurrent
//!   writers through; `UNIQUE (record_id, seq)` on `events` backs it up.
//! - **Global positions** come from the single row of `positions`, bumped in the committing
//!   transaction after everything else: commits that add events take positions in commit
//!   order, so the change feed never skips an event committed late (a sequence would not give
//!   that).
//! - **References** are claimed by the commit that creates their record: `allocations` holds
//!   the last number of each kind, and a commit's claim is an upsert that moves it only to a
//!   greater number, under the kind's row lock, so of several processes claiming one number
//!   exactly one wins, and a number is never reused. (Migration 1 numbered them with one
//!   sequence per kind, `ref_inc`, …, outside the commit; migration 2 carries the sequences'
//!   values over to `allocations` and drops them.)
//! - **Text search** is a GIN index on a `tsvector` built with `array_to_tsvector` from the
//!   words `desk::contract::row_terms` cut, queried with lexemes cast straight to `tsquery`:
//!   PostgreSQL's own parser and dictionaries never see the text, so it matches exactly the
//!   words the other adapters match (its parser would, for one, read `12e3a` as a number and a
//!   word). A prefix query (`'ws':*`) must gather every lexeme it matches before the index can
//!   skip anything, which is slow when a short prefix matches most rows; so each row also
//!   carries its words' first one, two and three characters as lexemes marked `^` (which no
//!   word contains), and a query word of up to three characters is the exact lexeme `'^ws'`.
//!   The vector is a column of `rows` with two GIN indexes, the second partial over open rows,
//!   which searches of the work queues use.
//! - **Word bits**: a search that reads the query's order (`desk_sql::WindowedSearch`) would
//!   otherwise fetch every row it passes to check its vector, about a microsecond each, so
//!   common words needing a few thousand rows took over 10 ms. Each row also keeps a 256-bit
//!   summary of its words (`words_0` … `words_3`, see `words.rs`), and the creation-order index
//!   carries them with the columns such a search filters on. A search newest first then
//!   reads the index alone, and fetches only the rows that have every bit of the query to check
//!   their words. The index must know which pages are all visible to skip the table, so
//!   `rows` asks autovacuum to visit it after every 2,000 inserted or changed rows instead of
//!   after a fifth of the table. Migration 3 computes the bits of existing rows from their
//!   vectors; once that has committed, the same connection rewrites the table and its indexes
//!   (`CLUSTER`) and vacuums it. That takes about five minutes at a million rows, once.
//! - **Narrow rows**: the JSON of each row lives in `row_bodies`, so scans and sorts over
//!   `rows` read few pages; only the search vector stays beside the columns queries read.
//! - **Outbox claims** use `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint
//!   messages without waiting for each other.

use desk::store::StoreError;
use desk_core::id::RecordKind;

use crate::backend;
use crate::words::{PARTS, word_bits};

/// The newest schema version this build understands.
pub const LATEST: u32 = 3;

/// The advisory lock key migrations hold (any fixed number private to the desk).
const MIGRATION_LOCK: i64 = 0x6465_736b_6d69_6772;

/// The name of the sequence that numbers references of `kind`.
pub(crate) fn sequence(kind: RecordKind) -> String {
    format!("ref_{}", kind.prefix().to_lowercase())
}

fn initial() -> String {
    let mut sql = String::from(
        r#"
CREATE TABLE streams (
    record_id text PRIMARY KEY,
    version bigint NOT NULL
);

CREATE TABLE positions (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    last bigint NOT NULL
);
INSERT INTO positions (id, last) VALUES (true, 0);

CREATE TABLE events (
    position bigint PRIMARY KEY,
    record_id text NOT NULL,
    seq bigint NOT NULL,
    event_json text NOT NULL,
    UNIQUE (record_id, seq)
);

CREATE TABLE rows (
    id text PRIMARY KEY,
    sort_key text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    version bigint NOT NULL,
    status text NOT NULL,
    open boolean NOT NULL,
    team text,
    tier text,
    agent text,
    requester text,
    prio_rank bigint NOT NULL,
    due_key bigint NOT NULL,
    warned boolean NOT NULL,
    breached boolean NOT NULL,
    created_key bigint NOT NULL,
    updated_key bigint NOT NULL,
    closed_key bigint,
    wake_key bigint,
    search tsvector NOT NULL
);

CREATE TABLE row_bodies (
    id text PRIMARY KEY,
    row_json text NOT NULL
);

CREATE INDEX rows_search ON rows USING gin (search);
CREATE INDEX rows_search_open ON rows USING gin (search) WHERE open;

CREATE INDEX rows_team_queue ON rows (team, open, prio_rank, due_key, sort_key);
CREATE INDEX rows_tier_queue ON rows (tier, open, prio_rank, due_key, sort_key);
CREATE INDEX rows_agent_queue ON rows (agent, open, prio_rank, due_key, sort_key);
CREATE INDEX rows_open_queue ON rows (open, prio_rank, due_key, sort_key);
CREATE INDEX rows_open_due ON rows (open, due_key, sort_key);
CREATE INDEX rows_warned ON rows (open, warned, prio_rank, due_key, sort_key) WHERE warned;
CREATE INDEX rows_breached ON rows (open, breached, prio_rank, due_key, sort_key) WHERE breached;
CREATE INDEX rows_requester ON rows (requester, created_key, sort_key);
CREATE INDEX rows_created ON rows (created_key, sort_key);
CREATE INDEX rows_updated ON rows (updated_key, sort_key);
CREATE INDEX rows_wake ON rows (wake_key, sort_key) WHERE wake_key IS NOT NULL;
CREATE INDEX rows_closed ON rows (kind, closed_key, sort_key) WHERE closed_key IS NOT NULL;

CREATE TABLE row_people (
    person text NOT NULL,
    record_id text NOT NULL,
    PRIMARY KEY (person, record_id)
);
CREATE INDEX row_people_record ON row_people (record_id);

CREATE TABLE row_cis (
    ci text NOT NULL,
    record_id text NOT NULL,
    PRIMARY KEY (ci, record_id)
);
CREATE INDEX row_cis_record ON row_cis (record_id);

CREATE TABLE outbox (
    seq bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE,
    record_id text NOT NULL,
    message_json text NOT NULL,
    state text NOT NULL CHECK (state IN ('waiting', 'delivered', 'dead')),
    attempts bigint NOT NULL DEFAULT 0,
    ready_key bigint,
    lease_key bigint,
    error text,
    dead_key bigint,
    dead_at text
);
CREATE INDEX outbox_waiting ON outbox (seq) WHERE state = 'waiting';
CREATE INDEX outbox_dead ON outbox (dead_key, seq) WHERE state = 'dead';
CREATE INDEX outbox_record ON outbox (record_id);

CREATE TABLE holds (
    record_id text PRIMARY KEY,
    hold_json text NOT NULL
);
"#,
    );
    for kind in RecordKind::ALL {
        sql.push_str(&format!("CREATE SEQUENCE {};\n", sequence(kind)));
    }
    sql
}

/// Migration 2: references claimed in the commit (see the module docs) instead of drawn from
/// sequences; each kind's last number is the last its sequence handed out.
fn claimed_references() -> String {
    let mut sql = String::from(
        "CREATE TABLE allocations (\n    kind text PRIMARY KEY,\n    last bigint NOT NULL\n);\n",
    );
    for kind in RecordKind::ALL {
        let (prefix, sequence) = (kind.prefix(), sequence(kind));
        sql.push_str(&format!(
            "INSERT INTO allocations (kind, last)
             SELECT '{prefix}', last_value FROM {sequence} WHERE is_called;
             DROP SEQUENCE {sequence};\n"
        ));
    }
    sql
}

/// Migration 3, first part: the word bits of each row (see the module docs), filled by
/// [`fill_word_bits`] before [`WORD_BITS_INDEX`] indexes them.
const WORD_BITS_COLUMNS: &str = "
ALTER TABLE rows
    ADD COLUMN words_0 bigint NOT NULL DEFAULT 0,
    ADD COLUMN words_1 bigint NOT NULL DEFAULT 0,
    ADD COLUMN words_2 bigint NOT NULL DEFAULT 0,
    ADD COLUMN words_3 bigint NOT NULL DEFAULT 0;
ALTER TABLE rows SET (
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 2000,
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 2000
);
";

/// Migration 3, last part: the creation-order index carries what a search window in that order
/// reads, so that it need not fetch the rows.
///
/// Filling the bits wrote a second version of every row, and every index holds both. Vacuuming
/// leaves the table twice its size and its indexes full of holes (a GIN index left so took 100
/// times as long to answer a rare word among common ones). So once the migration has committed,
/// [`migrate`] rewrites the table in creation order with its indexes (`CLUSTER`) and vacuums it.
/// Inside the migration's own transaction a rewrite would have to keep the old versions.
const WORD_BITS_INDEX: &str = "
DROP INDEX rows_created;
CREATE INDEX rows_created ON rows (created_key, sort_key)
    INCLUDE (id, kind, open, words_0, words_1, words_2, words_3);
";

/// How many rows [`fill_word_bits`] reads and writes at a time.
const FILL_BATCH: i64 = 5_000;

/// Computes the word bits of every row from the words in its search vector (its lexemes less
/// the `^` prefixes), in batches by id.
async fn fill_word_bits(tx: &tokio_postgres::Transaction<'_>) -> Result<(), StoreError> {
    let read = tx
        .prepare(
            "SELECT id, ARRAY(SELECT l FROM unnest(tsvector_to_array(search)) AS l
                             WHERE left(l, 1) <> '^')
             FROM rows WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .await
        .map_err(backend)?;
    let write = tx
        .prepare(
            "UPDATE rows SET words_0 = v.w0, words_1 = v.w1, words_2 = v.w2, words_3 = v.w3
             FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                 AS v (id, w0, w1, w2, w3)
             WHERE rows.id = v.id",
        )
        .await
        .map_err(backend)?;
    let mut after = String::new();
    loop {
        let rows = tx.query(&read, &[&after, &FILL_BATCH]).await.map_err(backend)?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.try_get(0).map_err(backend)?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut parts: [Vec<i64>; PARTS] = Default::default();
        for row in &rows {
            ids.push(row.try_get::<_, String>(0).map_err(backend)?);
            let words: Vec<String> = row.try_get(1).map_err(backend)?;
            for (part, bits) in parts.iter_mut().zip(word_bits(&words)) {
                part.push(bits);
            }
        }
        let [w0, w1, w2, w3] = &parts;
        tx.execute(&write, &[&ids, w0, w1, w2, w3]).await.map_err(backend)?;
    }
}

/// Creates the schema if needed and brings it up to [`LATEST`], or refuses a newer one.
pub(crate) async fn migrate(
    client: &mut tokio_postgres::Client,
    schema: &str,
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(backend)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         SET LOCAL search_path = {schema};
         CREATE TABLE IF NOT EXISTS schema_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );"
    ))
    .await
    .map_err(backend)?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await
        .map_err(backend)?
        .get(0);
    let found = u32::try_from(found.unwrap_or(0)).unwrap_or(0);
    if found > LATEST {
        return Err(StoreError::NewerSchema { found, supported: LATEST });
    }
    let migrations = [
        ("initial schema", initial()),
        ("references claimed in the commit", claimed_references()),
        ("word bits for search windows", WORD_BITS_COLUMNS.to_owned()),
    ];
    for (version, (name, sql)) in (1..=LATEST).zip(migrations).skip(found as usize) {
        tx.batch_execute(&sql).await.map_err(backend)?;
        if version == 3 {
            fill_word_bits(&tx).await?;
            tx.batch_execute(WORD_BITS_INDEX).await.map_err(backend)?;
        }
        let version = i32::try_from(version).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    if (1..3).contains(&found) {
        // Only now are the rows' old versions dead to every transaction, so that rewriting
        // the table leaves them behind (see `WORD_BITS_INDEX`).
        client
            .batch_execute(&format!("CLUSTER {schema}.rows USING rows_created"))
            .await
            .map_err(backend)?;
        client.batch_execute(&format!("VACUUM (ANALYZE) {schema}.rows")).await.map_err(backend)?;
    }
    Ok(())
}
