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
//!   which searches of the work queues use; a search that reads the query's order first
//!   (`desk_sql::WindowedSearch`) checks each row's vector where it already is.
//! - **Narrow rows**: the JSON of each row lives in `row_bodies`, so scans and sorts over
//!   `rows` read few pages; only the search vector stays beside the columns queries read.
//! - **Outbox claims** use `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint
//!   messages without waiting for each other.

use desk::store::StoreError;
use desk_core::id::RecordKind;

use crate::backend;

/// The newest schema version this build understands.
pub const LATEST: u32 = 2;

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
    let migrations =
        [("initial schema", initial()), ("references claimed in the commit", claimed_references())];
    for (version, (name, sql)) in (1..=LATEST).zip(migrations).skip(found as usize) {
        tx.batch_execute(&sql).await.map_err(backend)?;
        let version = i32::try_from(version).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}
