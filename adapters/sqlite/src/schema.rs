//! The SQLite schema as numbered migrations, applied on open.
//!
//! `schema_migrations` records each migration applied. Opening a database whose newest
//! migration is beyond [`LATEST`] fails with [`StoreError::NewerSchema`] before anything is
//! touched: an older desk must not write to a database a newer one has reshaped.
//!
//! Indexes follow the query shapes (see `desk_sql::select_page`): each work queue (by team, by
//! tier, by agent, or all open rows) is an index on `(scope, open, prio_rank, due_key,
//! sort_key)`, so a page is read in order and stops after `limit` rows; at-risk and due
//! queries walk `(open, due_key, sort_key)`; a requester's records `(requester,
//! created_key, sort_key)`. The rows' JSON lives apart in `row_bodies`, so that `rows` stays
//! narrow. Text search uses contentless FTS5 tables holding each row's words as
//! `desk::contract::row_terms` cut them, separated by spaces: the `ascii` tokenizer splits on
//! exactly those spaces (non-ASCII characters are word characters to it), so the index holds
//! the contract's words unchanged; `detail=none` and prefix indexes of one to three characters
//! keep it small and short prefixes quick. `row_search` has every row, `row_search_open` the
//! open ones only: searching the work queues reads doclists a twentieth the size.
//!
//! `row_words` has each row's words as text, a space before each, for searches that check
//! rows one by one in a query's order (`desk_sql::WindowedSearch`). `search_vocab` has every word
//! indexed, so that a search word of four or more characters is asked as the words it begins,
//! and `row_blocks` each block of rowids' range of creation times, which lets a newest-first
//! search stop after its page (both in `crate::search`).
//!
//! `pending_rows` holds the rows commits wrote that the projector has not yet indexed, in
//! commit order (a record's latest wins); every read of rows projects them first (see the
//! crate docs). Appending is one page per commit; a keyed table would need an index too.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use desk::store::StoreError;

use crate::backend;

/// The newest schema version this build understands.
pub const LATEST: u32 = 4;

/// A migration: its name and the SQL that applies it.
type Migration = (&'static str, fn() -> String);

/// Each migration, in order: version `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: [Migration; LATEST as usize] = [
    ("initial schema", initial),
    ("rows projected after commit, words by row", pending_rows),
    ("versions read from the events", versions_from_events),
    ("search vocabulary and creation bounds by rowid block", search_bounds),
];

/// The options of both search tables (see the module docs).
const SEARCH: &str = "terms, content = '', contentless_delete = 1, tokenize = 'ascii', \
    detail = none, prefix = '1 2 3'";

fn initial() -> String {
    INITIAL.replace("{search}", SEARCH)
}

/// A record's version is the `seq` of its last event, which the events' `(record_id, seq)`
/// index finds as quickly as `streams` did: a commit no longer writes a version beside its
/// events.
fn versions_from_events() -> String {
    "DROP TABLE streams;".to_owned()
}

/// What newest-first text search reads besides the search indexes (see `crate::search`): every
/// word indexed, and each block of rowids' earliest and latest creation time. Both are filled
/// from what is stored; rows still pending add theirs when projected.
fn search_bounds() -> String {
    format!(
        "CREATE TABLE search_vocab (
            word TEXT PRIMARY KEY
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE row_blocks (
            block INTEGER PRIMARY KEY,
            min_created INTEGER NOT NULL,
            max_created INTEGER NOT NULL
        ) STRICT;
        INSERT INTO row_blocks (block, min_created, max_created)
            SELECT rowid >> {bits}, min(created_key), max(created_key) FROM rows
            GROUP BY rowid >> {bits};
        CREATE VIRTUAL TABLE temp.indexed_words USING fts5vocab(main, row_search, row);
        INSERT INTO search_vocab (word) SELECT term FROM temp.indexed_words;
        DROP TABLE temp.indexed_words;",
        bits = crate::search::BLOCK_BITS
    )
}

/// Rows a commit wrote, waiting for the projector to index them (see the crate docs), and each
/// row's words as text. Every row stored so far is queued again, so that the projector gives
/// it its words.
fn pending_rows() -> String {
    "CREATE TABLE pending_rows (
        seq INTEGER PRIMARY KEY,
        row_json TEXT NOT NULL
    ) STRICT;
    CREATE TABLE row_words (
        rowid INTEGER PRIMARY KEY,
        words TEXT NOT NULL
    ) STRICT;
    INSERT INTO pending_rows (row_json) SELECT row_json FROM row_bodies ORDER BY rowid;"
        .to_owned()
}

const INITIAL: &str = "
CREATE TABLE allocations (
    kind TEXT PRIMARY KEY,
    last INTEGER NOT NULL
) STRICT;

CREATE TABLE streams (
    record_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_json TEXT NOT NULL,
    UNIQUE (record_id, seq)
) STRICT;

CREATE TABLE rows (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    sort_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    open INTEGER NOT NULL,
    team TEXT,
    tier TEXT,
    agent TEXT,
    requester TEXT,
    prio_rank INTEGER NOT NULL,
    due_key INTEGER NOT NULL,
    warned INTEGER NOT NULL,
    breached INTEGER NOT NULL,
    created_key INTEGER NOT NULL,
    updated_key INTEGER NOT NULL,
    closed_key INTEGER,
    wake_key INTEGER
) STRICT;

CREATE TABLE row_bodies (
    rowid INTEGER PRIMARY KEY,
    row_json TEXT NOT NULL
) STRICT;

CREATE INDEX rows_team_queue ON rows (team, open, prio_rank, due_key, sort_key);
CREATE INDEX rows_tier_queue ON rows (tier, open, prio_rank, due_key, sort_key);
CREATE INDEX rows_agent_queue ON rows (agent, open, prio_rank, due_key, sort_key);
CREATE INDEX rows_open_queue ON rows (open, prio_rank, due_key, sort_key);
CREATE INDEX rows_open_due ON rows (open, due_key, sort_key);
CREATE INDEX rows_warned ON rows (open, warned, prio_rank, due_key, sort_key) WHERE warned = 1;
CREATE INDEX rows_breached ON rows (open, breached, prio_rank, due_key, sort_key) WHERE breached = 1;
CREATE INDEX rows_requester ON rows (requester, created_key, sort_key);
CREATE INDEX rows_created ON rows (created_key, sort_key);
CREATE INDEX rows_updated ON rows (updated_key, sort_key);
CREATE INDEX rows_wake ON rows (wake_key, sort_key) WHERE wake_key IS NOT NULL;
CREATE INDEX rows_closed ON rows (kind, closed_key, sort_key) WHERE closed_key IS NOT NULL;

CREATE VIRTUAL TABLE row_search USING fts5 ({search});
CREATE VIRTUAL TABLE row_search_open USING fts5 ({search});

CREATE TABLE row_people (
    person TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (person, record_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX row_people_record ON row_people (record_id);

CREATE TABLE row_cis (
    ci TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (ci, record_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX row_cis_record ON row_cis (record_id);

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    message_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    ready_key INTEGER,
    lease_key INTEGER,
    error TEXT,
    dead_key INTEGER,
    dead_at TEXT
) STRICT;
CREATE INDEX outbox_waiting ON outbox (seq) WHERE state = 'waiting';
CREATE INDEX outbox_dead ON outbox (dead_key, seq) WHERE state = 'dead';
CREATE INDEX outbox_record ON outbox (record_id);

CREATE TABLE holds (
    record_id TEXT PRIMARY KEY,
    hold_json TEXT NOT NULL
) STRICT, WITHOUT ROWID;
";

/// Brings the database up to [`LATEST`], or refuses a newer one.
pub(crate) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let tx =
        connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ) STRICT;",
    )
    .map_err(backend)?;
    let found: u32 = tx
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
            row.get::<_, Option<u32>>(0)
        })
        .optional()
        .map_err(backend)?
        .flatten()
        .unwrap_or(0);
    if found > LATEST {
        return Err(StoreError::NewerSchema { found, supported: LATEST });
    }
    for (version, (name, sql)) in (1..=LATEST).zip(MIGRATIONS).skip(found as usize) {
        tx.execute_batch(&sql()).map_err(backend)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            (version, name),
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::SqliteStore;

    #[tokio::test]
    async fn opening_applies_each_migration_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desk.sqlite");
        drop(SqliteStore::open(&path).await.unwrap());
        drop(SqliteStore::open(&path).await.unwrap());
        let connection = Connection::open(&path).unwrap();
        let versions: Vec<u32> = connection
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(versions, (1..=LATEST).collect::<Vec<_>>());
        let mode: String =
            connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_database_from_a_newer_desk_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desk.sqlite");
        drop(SqliteStore::open(&path).await.unwrap());
        let connection = Connection::open(&path).unwrap();
        connection
            .execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?1, 'from the future')",
                [LATEST + 1],
            )
            .unwrap();
        drop(connection);

        let error = SqliteStore::open(&path).await.unwrap_err();
        assert!(
            matches!(error, StoreError::NewerSchema { found, supported: LATEST } if found == LATEST + 1),
            "{error}"
        );
        assert!(error.to_string().contains("upgrade the desk"), "{error}");
    }

    #[test]
    fn the_bundled_sqlite_has_fts5_with_contentless_delete() {
        let connection = Connection::open_in_memory().unwrap();
        let fts5: bool = connection
            .query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |row| row.get(0))
            .unwrap();
        assert!(fts5);
        connection
            .execute_batch(
                "CREATE VIRTUAL TABLE t USING fts5(x, content = '', contentless_delete = 1);
                 INSERT INTO t (rowid, x) VALUES (1, 'siân evans');
                 DELETE FROM t WHERE rowid = 1;",
            )
            .unwrap();
    }
}
