//! `desk-sqlite`: the desk's storage in one SQLite file, the default for a single desk process.
//!
//! [`SqliteStore::open`] opens (or creates) the file, applies the schema migrations (refusing a
//! database written by a newer desk with [`StoreError::NewerSchema`]) and sets it up:
//!
//! - **WAL journal, `synchronous = NORMAL`**: a commit is durable against a crash of the
//!   process (nothing committed is lost); after a power cut or an operating-system crash the
//!   last commits may be rolled back, never half-applied. Readers never block the writer.
//! - **Checkpoints off the commit path**: copying the log back into the database file ends
//!   with a sync of the file, which costs more than a commit. A file store checkpoints on a
//!   connection of its own, on the blocking pool, every [`CHECKPOINT_EVERY`] commits, while
//!   the writer goes on committing; the writer only checkpoints by itself (SQLite's automatic
//!   checkpoint) if the log passes [`WAL_AUTOCHECKPOINT`] pages.
//! - **One writer connection**, used by one task at a time, and two reader connections. Every
//!   write is an `IMMEDIATE` transaction that reads the versions it checks under the write
//!   lock, so commits to a record are serialisable, also across processes sharing the file
//!   (a five-second busy timeout makes them wait for each other rather than fail).
//! - **Rows projected after commit**: a commit writes what must be durable and checked under
//!   the write lock — the events (a record's version is its last `seq`), the reference claim, the
//!   outbox — and each row it carries into `pending_rows`, one small table. Indexing those rows
//!   (the row's columns and every query index, its JSON, both search indexes, its people and CIs)
//!   is the projector's work, done in batches on the blocking pool once commits pause for
//!   [`PROJECT_AFTER`] (or [`PROJECT_BACKLOG`] have queued rows), many commits' rows per
//!   transaction, so each index page is written once per batch rather than once per commit; it
//!   stops whenever a commit waits for the writer, and goes on later. Reads never see a stale
//!   row: every read of rows (a page, a row, timers, mentions, retention) starts a snapshot, and
//!   if anything is pending there it projects it first (on the writer) and starts again; every
//!   other write projects first in its own transaction. So a read sees every commit that finished
//!   before it, from this process or another one on the same file, exactly as if rows were
//!   written in the commit.
//! - **Never stalls the async runtime**: on Tokio's multi-threaded runtime each operation runs
//!   where it is called, inside `block_in_place`, which first hands the worker's other tasks to
//!   another thread; on a current-thread runtime it runs on the blocking pool
//!   (`spawn_blocking`). Handing each call to the pool and waking the caller afterwards cost
//!   more than most of the calls themselves (about 170 µs a call measured here, against 30 µs
//!   for reading a record's history). The store must be used inside a Tokio runtime.
//! - **Newest-first text search stops after its page**: FTS5 reads the matches of several words
//!   newest rowid first, one at a time; the search keeps the best page and stops once the rowid
//!   blocks below cannot hold a newer row, and asks a long word prefix as the words it begins
//!   (see `search`). Five common words at a million incidents take about as long as one rare
//!   one. Other orders read the order first and use the index when the words are rare
//!   (`desk_sql::WindowedSearch`).
//!
//! SQLite is compiled in (`rusqlite`'s `bundled` feature, with FTS5): no system library is
//! needed. The tables are those of [`desk_sql`]; [`schema`] has the DDL and the indexes.
//! Query pages use keyset pagination, never `OFFSET`.

pub mod schema;
mod search;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use desk::contract::{self, SortKey, time_key};
use desk::store::{
    Commit, DeadLetter, Delivery, EventRecord, LegalHold, Order, OutboxItem, OutboxMessage, Page,
    Query, RecordRow, Redaction, RowKind, Store, StoreError, StoredEvent,
};
use desk_core::Timestamp;
use desk_core::id::{PersonId, RecordId, RecordKind, Reference};
use desk_sql::{
    Dialect, Next, ROWS_COLUMNS, ROWS_UPDATE, RowColumns, SearchScope, Statement, Value, from_json,
    to_i64, to_json, to_u64,
};
use rusqlite::config::DbConfig;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

/// How many reader connections a file store keeps beside the writer.
const READERS: usize = 2;

/// How many pages the write-ahead log may grow to before a commit checkpoints it by itself
/// (SQLite's automatic checkpoint; its default is 1,000). A checkpoint costs a sync of the
/// database file, and with the default one commit in every hundred or so paid for it (and,
/// when rows were indexed in the commit, one in twenty-five). Normally the background
/// checkpoints (see the crate docs) keep the log well below this; it bounds the log (40 MB with
/// 4 KiB pages) when they cannot.
/// Durability is the same either way: a WAL commit is durable against a crash of the process.
pub const WAL_AUTOCHECKPOINT: u32 = 10_000;

/// How many commits a file store makes between two background checkpoints.
pub const CHECKPOINT_EVERY: u64 = 64;

/// How long commits must pause before the background projector indexes their rows (see the
/// crate docs): while they keep coming, rows wait and are indexed in larger batches.
pub const PROJECT_AFTER: Duration = Duration::from_millis(10);

/// How many commits with rows the background projector lets wait, commits coming without a
/// pause, before it indexes them anyway (giving way to each commit that arrives meanwhile).
pub const PROJECT_BACKLOG: u64 = 1_000;

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A desk store in a SQLite database. Clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("readers", &self.inner.readers.len()).finish()
    }
}

impl Inner {
    /// The writer, if no write is under way. A read runs there when it can: the writer's page
    /// cache survives its own commits, while a reader's is emptied whenever another connection
    /// has committed since its last read, so that every page it reads comes from the file again.
    fn idle_writer(&self) -> Option<std::sync::MutexGuard<'_, Connection>> {
        match self.writer.try_lock() {
            Ok(writer) => Some(writer),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The next reader in turn (the writer for an in-memory database).
    fn reader(&self) -> &Mutex<Connection> {
        if self.readers.is_empty() {
            return &self.writer;
        }
        let n = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        &self.readers[n]
    }
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// The connection background checkpoints run on (none for a database in memory).
    checkpointer: Option<Mutex<Connection>>,
    /// Commits since the store opened.
    commits: AtomicU64,
    /// Whether a background checkpoint is running.
    checkpointing: AtomicBool,
    /// Whether a background projection is waiting or running.
    projecting: AtomicBool,
    /// How many writes wait for the writer: the background projector gives way to them.
    writers_waiting: AtomicUsize,
    /// Commits with rows since the store opened.
    row_commits: AtomicU64,
}

/// Wraps a driver error.
pub(crate) fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::backend(error)
}

impl SqliteStore {
    /// Opens the database file at `path`, creating it if needed, and migrates it.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_owned();
        blocking(move || {
            let mut writer = Connection::open(&path).map_err(backend)?;
            configure(&writer)?;
            keep_plans(&writer)?;
            writer.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
            writer
                .pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT)
                .map_err(backend)?;
            schema::migrate(&mut writer)?;
            project(&mut writer)?;
            let checkpointer = Connection::open(&path).map_err(backend)?;
            configure(&checkpointer)?;
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let readers = (0..READERS)
                .map(|_| {
                    let reader = Connection::open_with_flags(&path, flags).map_err(backend)?;
                    configure(&reader)?;
                    Ok(Mutex::new(reader))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(SqliteStore::from_connections(writer, readers, Some(checkpointer)))
        })
        .await
    }

    /// A private database in memory, gone when the last clone is dropped (for tests).
    pub async fn in_memory() -> Result<SqliteStore, StoreError> {
        blocking(|| {
            let mut writer = Connection::open_in_memory().map_err(backend)?;
            configure(&writer)?;
            schema::migrate(&mut writer)?;
            Ok(SqliteStore::from_connections(writer, Vec::new(), None))
        })
        .await
    }

    fn from_connections(
        writer: Connection,
        readers: Vec<Mutex<Connection>>,
        checkpointer: Option<Connection>,
    ) -> SqliteStore {
        SqliteStore {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                checkpointer: checkpointer.map(Mutex::new),
                commits: AtomicU64::new(0),
                checkpointing: AtomicBool::new(false),
                projecting: AtomicBool::new(false),
                writers_waiting: AtomicUsize::new(0),
                row_commits: AtomicU64::new(0),
            }),
        }
    }

    /// Counts a commit and, every [`CHECKPOINT_EVERY`] of them, starts a checkpoint on the
    /// blocking pool unless one is running. It is `PASSIVE`: it copies what no reader still
    /// needs and never makes the writer or a reader wait. A failed one is left to the next
    /// (or to the writer's automatic checkpoint).
    fn count_commit(&self) {
        let commits = self.inner.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if self.inner.checkpointer.is_none()
            || !commits.is_multiple_of(CHECKPOINT_EVERY)
            || self.inner.checkpointing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            if let Some(checkpointer) = &inner.checkpointer {
                let connection = checkpointer.lock().unwrap_or_else(PoisonError::into_inner);
                // Busy or not, the log is checkpointed later: nothing to report.
                let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
            inner.checkpointing.store(false, Ordering::Release);
        });
    }

    /// Starts a background projection of the rows commits left pending, unless one is waiting
    /// or running: it waits [`PROJECT_AFTER`] so that later commits join its batch.
    fn project_soon(&self) {
        if self.inner.projecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            // Wait for a pause in the commits, or for the backlog to grow large: while commits
            // keep coming, their rows are indexed later in larger batches (or by a read).
            let started = store.inner.row_commits.load(Ordering::Acquire);
            loop {
                let seen = store.inner.row_commits.load(Ordering::Acquire);
                std::thread::sleep(PROJECT_AFTER);
                let now = store.inner.row_commits.load(Ordering::Acquire);
                if now == seen || now - started >= PROJECT_BACKLOG {
                    break;
                }
            }
            store.inner.projecting.store(false, Ordering::Release);
            loop {
                // Commits come first: one waiting for the writer puts the rest off.
                if store.inner.writers_waiting.load(Ordering::Acquire) > 0 {
                    store.project_soon();
                    return;
                }
                let projected = {
                    let mut writer =
                        store.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
                    project_some(&mut writer, BACKGROUND_CHUNK)
                };
                // A failed projection is retried by the next read or write of rows, which
                // reports its error then.
                match projected {
                    Ok(true) => store.count_commit(),
                    Ok(false) | Err(_) => return,
                }
            }
        });
    }

    /// Runs `work` in an `IMMEDIATE` transaction on the writer after projecting pending rows
    /// (see the crate docs); commits if it succeeds.
    async fn write_projected<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.write(move |tx| {
            project_pending(tx)?;
            work(tx)
        })
        .await
    }

    /// Runs `work` in an `IMMEDIATE` transaction on the writer; commits if it succeeds.
    /// Leaves pending rows pending: for writes that read no rows.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        let result = blocking(move || {
            inner.writers_waiting.fetch_add(1, Ordering::AcqRel);
            let mut connection = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            inner.writers_waiting.fetch_sub(1, Ordering::AcqRel);
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let result = work(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(result)
        })
        .await?;
        self.count_commit();
        Ok(result)
    }

    /// Runs `work` on a reader (the writer for an in-memory database). For reads of events,
    /// the outbox and holds: rows may be pending there.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            if let Some(writer) = inner.idle_writer() {
                return work(&writer);
            }
            let connection = inner.reader().lock().unwrap_or_else(PoisonError::into_inner);
            work(&connection)
        })
        .await
    }

    /// Runs `work` on a reader, in a snapshot with no rows pending: if the first snapshot has
    /// some, they are projected on the writer and a new snapshot is taken (see the crate docs).
    async fn read_projected<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        let (result, projected) = blocking(move || {
            let writer = match inner.idle_writer() {
                Some(writer) => Some(writer),
                None if inner.readers.is_empty() => {
                    Some(inner.writer.lock().unwrap_or_else(PoisonError::into_inner))
                }
                None => None,
            };
            if let Some(mut writer) = writer {
                let projected = project(&mut writer)?;
                return Ok((work(&writer), projected));
            }
            let reader = inner.reader().lock().unwrap_or_else(PoisonError::into_inner);
            let mut projected = false;
            let snapshot = loop {
                let snapshot = reader.unchecked_transaction().map_err(backend)?;
                if !has_pending(&snapshot)? {
                    break snapshot;
                }
                drop(snapshot);
                let mut writer = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
                projected |= project(&mut writer)?;
            };
            let result = work(&snapshot);
            snapshot.finish().map_err(backend)?;
            Ok((result, projected))
        })
        .await?;
        if projected {
            self.count_commit();
        }
        result
    }
}

/// Runs blocking database work without stalling the runtime: in place on the multi-threaded
/// runtime (its other tasks move to another worker first), on the blocking pool otherwise (see
/// the crate docs).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let flavor = tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor());
    if let Ok(tokio::runtime::RuntimeFlavor::MultiThread) = flavor {
        return tokio::task::block_in_place(work);
    }
    tokio::task::spawn_blocking(work).await.map_err(StoreError::backend)?
}

fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    connection.pragma_update(None, "synchronous", "NORMAL").map_err(backend)?;
    connection.pragma_update(None, "cache_size", -32_000).map_err(backend)?;
    Ok(())
}

/// Makes the writer keep the plans of its cached statements. The bundled SQLite is built with
/// `SQLITE_ENABLE_STAT4`, which marks a statement comparing an indexed column with a parameter
/// (`WHERE record_id = ?1`) to be prepared again whenever that parameter is bound: every
/// cached statement of a commit was parsed and planned anew on every commit. The writer's
/// statements look rows up by key, whose plan no value changes, so the query planner
/// stability guarantee costs them nothing. Readers keep the default: a page query's plan may
/// rightly depend on its `LIMIT`.
fn keep_plans(connection: &Connection) -> Result<(), StoreError> {
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(backend)?;
    Ok(())
}

/// SQLite's flavour of the shared query SQL.
struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    fn boolean(&self, value: bool) -> &'static str {
        if value { "1" } else { "0" }
    }

    fn key(&self) -> &'static str {
        "rowid"
    }

    fn matches_terms(
        &self,
        terms: &[String],
        scope: SearchScope,
        statement: &mut Statement,
    ) -> String {
        // Terms are letters and digits only, so quoting them needs no escapes; `*` makes
        // each a prefix query.
        let prefixes: Vec<String> = terms.iter().map(|term| format!("\"{term}\"*")).collect();
        let placeholder = statement.bind(self, Value::Text(prefixes.join(" ")));
        let table = match scope {
            SearchScope::All => "row_search",
            SearchScope::Open => "row_search_open",
        };
        format!("r.rowid IN (SELECT rowid FROM {table} WHERE {table} MATCH {placeholder})")
    }

    fn has_terms(&self, terms: &[String], _: &Query, statement: &mut Statement) -> String {
        // `row_words` holds the row's words with a space before each: a word begins with a
        // term exactly when the term, after a space, is in there.
        let checks: Vec<String> = terms
            .iter()
            .map(|term| {
                let placeholder = statement.bind(self, Value::Text(format!(" {term}")));
                format!("instr(w.words, {placeholder}) > 0")
            })
            .collect();
        format!("(SELECT {} FROM row_words w WHERE w.rowid = r.rowid)", checks.join(" AND "))
    }
}

fn sql_params(params: Vec<Value>) -> Vec<rusqlite::types::Value> {
    params
        .into_iter()
        .map(|value| match value {
            Value::Int(n) => rusqlite::types::Value::Integer(n),
            Value::Text(text) => rusqlite::types::Value::Text(text),
        })
        .collect()
}

fn record_id(text: &str) -> Result<RecordId, StoreError> {
    text.parse().map_err(|error| StoreError::Corrupt(format!("record id `{text}`: {error}")))
}

/// The version of `record`: the `seq` of its last event, found at the end of its entries in
/// the events' `(record_id, seq)` index (0 for a record without history).
fn version(tx: &Connection, record: &str) -> Result<u64, StoreError> {
    let version: Option<i64> = tx
        .prepare_cached("SELECT max(seq) FROM events WHERE record_id = ?1")
        .map_err(backend)?
        .query_row([record], |row| row.get(0))
        .map_err(backend)?;
    to_u64(version.unwrap_or(0))
}

fn exists(tx: &Connection, record: &str) -> Result<bool, StoreError> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM events WHERE record_id = ?1)
             OR EXISTS (SELECT 1 FROM rows WHERE id = ?1)",
        [record],
        |row| row.get(0),
    )
    .map_err(backend)
}

/// Refuses a record under hold ([`StoreError::OnHold`]) or unknown ([`StoreError::NotFound`]).
fn check_no_hold(tx: &Connection, record: &RecordId) -> Result<(), StoreError> {
    let id = record.to_string();
    let held: bool = tx
        .query_row("SELECT EXISTS (SELECT 1 FROM holds WHERE record_id = ?1)", [&id], |row| {
            row.get(0)
        })
        .map_err(backend)?;
    if held {
        return Err(StoreError::OnHold(record.clone()));
    }
    if !exists(tx, &id)? {
        return Err(StoreError::NotFound(record.clone()));
    }
    Ok(())
}

/// Whether rows wait for the projector, in `connection`'s snapshot.
fn has_pending(connection: &Connection) -> Result<bool, StoreError> {
    connection
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_rows)")
        .map_err(backend)?
        .query_row([], |row| row.get(0))
        .map_err(backend)
}

/// Leaves `row` for the projector. What could keep [`RowColumns::of`] from storing it (a
/// version too large to store, JSON that will not encode) is checked now, so that such a row
/// is refused with its commit rather than stopping the projector.
fn write_pending(tx: &Connection, row: &RecordRow) -> Result<(), StoreError> {
    to_i64(row.version)?;
    tx.prepare_cached("INSERT INTO pending_rows (row_json) VALUES (?1)")
        .map_err(backend)?
        .execute([to_json(row)?])
        .map_err(backend)?;
    Ok(())
}

/// How many pending rows the projector reads at a time.
const PROJECT_CHUNK: i64 = 1_000;

/// How many pending rows the background projector indexes in one transaction, holding the
/// writer meanwhile: few enough that a commit arriving then waits little.
const BACKGROUND_CHUNK: i64 = 32;

/// Stores and indexes every pending row, in `tx`, in commit order (a record's latest is what
/// stays).
fn project_pending(tx: &Connection) -> Result<(), StoreError> {
    while project_first(tx, PROJECT_CHUNK)? {}
    Ok(())
}

/// Projects the first `limit` pending rows in a transaction of its own on `writer`; says
/// whether there were any.
fn project_some(writer: &mut Connection, limit: i64) -> Result<bool, StoreError> {
    let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let projected = project_first(&tx, limit)?;
    tx.commit().map_err(backend)?;
    Ok(projected)
}

/// Stores and indexes the first `limit` pending rows, in `tx`, and removes them from the
/// queue; says whether there were any.
fn project_first(tx: &Connection, limit: i64) -> Result<bool, StoreError> {
    let pending: Vec<(i64, String)> = {
        let mut select = tx
            .prepare_cached("SELECT seq, row_json FROM pending_rows ORDER BY seq LIMIT ?1")
            .map_err(backend)?;
        let rows =
            select.query_map([limit], |row| Ok((row.get(0)?, row.get(1)?))).map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    let Some(&(last, _)) = pending.last() else {
        return Ok(false);
    };
    // Each row with its JSON as the commit encoded it, which is what `row_bodies` keeps.
    let mut latest: Vec<(RecordRow, String)> = Vec::with_capacity(pending.len());
    let mut position: HashMap<RecordId, usize> = HashMap::new();
    for (_, json) in pending {
        let row: RecordRow = from_json(&json)?;
        match position.get(&row.id) {
            Some(&n) => latest[n] = (row, json),
            None => {
                position.insert(row.id.clone(), latest.len());
                latest.push((row, json));
            }
        }
    }
    let mut words = Words::default();
    for (row, json) in latest {
        store_row(tx, RowColumns::with_json(&row, json)?, &mut words)?;
    }
    words.index(tx)?;
    tx.prepare_cached("DELETE FROM pending_rows WHERE seq <= ?1")
        .map_err(backend)?
        .execute([last])
        .map_err(backend)?;
    Ok(true)
}

/// Projects every pending row on `writer`, a transaction per [`PROJECT_CHUNK`] (a database
/// migrated from version 1 queues every row it has); says whether there were any.
fn project(writer: &mut Connection) -> Result<bool, StoreError> {
    // Most reads find nothing pending: a read, not a write transaction, tells.
    if !has_pending(writer)? {
        return Ok(false);
    }
    let mut chunks = 0;
    while project_some(writer, PROJECT_CHUNK)? {
        chunks += 1;
    }
    if chunks >= MERGE_AFTER_CHUNKS {
        // Rewriting that many rows left the search indexes in many segments, full of deleted
        // entries that every search reads past: merge each into one.
        for table in ["row_search", "row_search_open"] {
            writer
                .execute(&format!("INSERT INTO {table} ({table}) VALUES ('optimize')"), [])
                .map_err(backend)?;
        }
    }
    Ok(chunks > 0)
}

/// After projecting this many chunks at once (a migration that queues every row, say), the
/// projector merges the search indexes.
const MERGE_AFTER_CHUNKS: usize = 50;

/// Stores `row` with its words in the search indexes.
fn write_row(tx: &Connection, row: &RecordRow) -> Result<(), StoreError> {
    let mut words = Words::default();
    store_row(tx, RowColumns::of(row)?, &mut words)?;
    words.index(tx)
}

/// The search index changes of a batch of rows, made with one statement per table: each
/// statement writing to a full-text table ends by writing out what it added as a new segment
/// of the index (SQLite opens a savepoint per statement, and FTS5 flushes at each), so one
/// statement per row wrote a segment per row and soon merged them again.
#[derive(Default)]
struct Words {
    /// Rows whose old words are to be removed from `row_search` first.
    removed: Vec<i64>,
    /// Rows to be removed from `row_search_open` first: closed, or with new words.
    removed_open: Vec<i64>,
    /// Each row's words, for `row_search`.
    all: Vec<(i64, String)>,
    /// The open rows' words, for `row_search_open`.
    open: Vec<(i64, String)>,
    /// The rows' blocks and new words (see [`search`]).
    bounds: search::Bounds,
}

impl Words {
    fn index(self, tx: &Connection) -> Result<(), StoreError> {
        self.bounds.write(tx)?;
        for (table, removed) in
            [("row_search", &self.removed), ("row_search_open", &self.removed_open)]
        {
            if removed.is_empty() {
                continue;
            }
            tx.prepare_cached(&format!(
                "DELETE FROM {table} WHERE rowid IN (SELECT value FROM json_each(?1))"
            ))
            .map_err(backend)?
            .execute([to_json(removed)?])
            .map_err(backend)?;
        }
        for (table, rows) in [("row_search", &self.all), ("row_search_open", &self.open)] {
            if rows.is_empty() {
                continue;
            }
            tx.prepare_cached(&format!(
                "INSERT INTO {table} (rowid, terms)
                 SELECT value ->> 0, value ->> 1 FROM json_each(?1)"
            ))
            .map_err(backend)?
            .execute([to_json(rows)?])
            .map_err(backend)?;
        }
        Ok(())
    }
}

/// Stores a row (its columns, JSON, people and CIs) and adds its words to `words`.
fn store_row(tx: &Connection, c: RowColumns, words: &mut Words) -> Result<(), StoreError> {
    // A new row has no words, people or CIs to remove: skipping those deletes spares a
    // lookup in each search index and each side table on every record created. A row whose
    // words have not changed (most updates change neither title, description nor people)
    // keeps its entries in the search indexes.
    let before: Option<(bool, Option<String>)> = tx
        .prepare_cached(
            "SELECT r.open, w.words FROM rows r LEFT JOIN row_words w ON w.rowid = r.rowid
             WHERE r.id = ?1",
        )
        .map_err(backend)?
        .query_row([&c.id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .map_err(backend)?;
    let existed = before.is_some();
    let rowid: i64 = tx
        .prepare_cached(&format!(
            "INSERT INTO rows ({ROWS_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18)
             ON CONFLICT (id) DO UPDATE SET {ROWS_UPDATE}
             RETURNING rowid"
        ))
        .map_err(backend)?
        .query_row(
            params![
                c.id,
                c.sort_key,
                c.kind,
                c.version,
                c.status,
                c.open,
                c.team,
                c.tier,
                c.agent,
                c.requester,
                c.prio_rank,
                c.due_key,
                c.warned,
                c.breached,
                c.created_key,
                c.updated_key,
                c.closed_key,
                c.wake_key
            ],
            |row| row.get(0),
        )
        .map_err(backend)?;
    tx.prepare_cached(
        "INSERT INTO row_bodies (rowid, row_json) VALUES (?1, ?2)
         ON CONFLICT (rowid) DO UPDATE SET row_json = excluded.row_json",
    )
    .map_err(backend)?
    .execute((rowid, &c.row_json))
    .map_err(backend)?;
    words.bounds.row(rowid, c.created_key);
    let terms = c.terms.join(" ");
    let text = format!(" {terms}");
    match before {
        Some((was_open, Some(old))) if old == text => match (was_open, c.open) {
            (true, false) => words.removed_open.push(rowid),
            (false, true) => words.open.push((rowid, terms)),
            _ => {}
        },
        before => {
            if let Some((was_open, _)) = before {
                words.removed.push(rowid);
                if was_open {
                    words.removed_open.push(rowid);
                }
            }
            tx.prepare_cached(
                "INSERT INTO row_words (rowid, words) VALUES (?1, ?2)
                 ON CONFLICT (rowid) DO UPDATE SET words = excluded.words",
            )
            .map_err(backend)?
            .execute((rowid, &text))
            .map_err(backend)?;
            if c.open {
                words.open.push((rowid, terms.clone()));
            }
            words.bounds.words(&c.terms);
            words.all.push((rowid, terms));
        }
    }
    for (table, column, values) in [("row_people", "person", &c.people), ("row_cis", "ci", &c.cis)]
    {
        if existed {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE record_id = ?1"))
                .map_err(backend)?
                .execute([&c.id])
                .map_err(backend)?;
        }
        let mut insert = tx
            .prepare_cached(&format!("INSERT INTO {table} ({column}, record_id) VALUES (?1, ?2)"))
            .map_err(backend)?;
        for value in values {
            insert.execute([value, &c.id]).map_err(backend)?;
        }
    }
    Ok(())
}

fn delete_row(tx: &Connection, record: &str) -> Result<(), StoreError> {
    let rowid: Option<i64> = tx
        .query_row("DELETE FROM rows WHERE id = ?1 RETURNING rowid", [record], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    if let Some(rowid) = rowid {
        tx.execute("DELETE FROM row_bodies WHERE rowid = ?1", [rowid]).map_err(backend)?;
        let old_words: Option<String> = tx
            .query_row("DELETE FROM row_words WHERE rowid = ?1 RETURNING words", [rowid], |row| {
                row.get(0)
            })
            .optional()
            .map_err(backend)?;
        let words = Words { removed: vec![rowid], removed_open: vec![rowid], ..Words::default() };
        words.index(tx)?;
        if let Some(old_words) = old_words {
            search::forget_unused(tx, &old_words)?;
        }
    }
    for sql in
        ["DELETE FROM row_people WHERE record_id = ?1", "DELETE FROM row_cis WHERE record_id = ?1"]
    {
        tx.execute(sql, [record]).map_err(backend)?;
    }
    Ok(())
}

/// Records `claim` as the last reference of its kind, or refuses it if that is not above the
/// last one (see [`Commit::claim`]).
fn claim(tx: &Connection, claim: Reference) -> Result<(), StoreError> {
    let kind = claim.kind().prefix();
    let moved = tx
        .prepare_cached(
            "INSERT INTO allocations (kind, last) VALUES (?1, ?2)
             ON CONFLICT (kind) DO UPDATE SET last = excluded.last WHERE last < excluded.last",
        )
        .map_err(backend)?
        .execute((kind, claim.number().get()))
        .map_err(backend)?;
    if moved == 1 {
        return Ok(());
    }
    contract::check_claim(claim, last_allocated(tx, kind)?)?;
    Err(StoreError::Corrupt(format!("the claim of {claim} was neither taken nor refused")))
}

/// The last reference number of the kind with `prefix`.
fn last_allocated(connection: &Connection, prefix: &str) -> Result<u32, StoreError> {
    let last: Option<i64> = connection
        .prepare_cached("SELECT last FROM allocations WHERE kind = ?1")
        .map_err(backend)?
        .query_row([prefix], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    u32::try_from(last.unwrap_or(0))
        .map_err(|_| StoreError::Corrupt(format!("the last {prefix} reference is out of range")))
}

fn commit(tx: &Transaction<'_>, commit: Commit) -> Result<(), StoreError> {
    if let Some(reference) = commit.claim {
        claim(tx, reference)?;
    }
    for append in &commit.appends {
        let record = append.record.to_string();
        let actual = version(tx, &record)?;
        if actual != append.expected_version {
            return Err(StoreError::Conflict {
                record: append.record.clone(),
                expected: append.expected_version,
                actual,
            });
        }
        if append.events.is_empty() {
            continue;
        }
        let mut insert = tx
            .prepare_cached("INSERT INTO events (record_id, seq, event_json) VALUES (?1, ?2, ?3)")
            .map_err(backend)?;
        for event in &append.events {
            insert.execute((&record, to_i64(event.seq)?, to_json(event)?)).map_err(backend)?;
        }
    }
    for row in &commit.rows {
        write_pending(tx, row)?;
    }
    let mut enqueue = tx
        .prepare_cached(
            "INSERT INTO outbox (key, record_id, message_json, state) VALUES (?1, ?2, ?3, 'waiting')
             ON CONFLICT (key) DO NOTHING",
        )
        .map_err(backend)?;
    for message in &commit.outbox {
        enqueue
            .execute((&message.key, message.record.to_string(), to_json(message)?))
            .map_err(backend)?;
    }
    Ok(())
}

fn redact(tx: &Transaction<'_>, redaction: Redaction) -> Result<(), StoreError> {
    let record = redaction.record.to_string();
    check_no_hold(tx, &redaction.record)?;
    contract::check_redaction_version(&redaction, version(tx, &record)?)?;
    let target = redaction.rename.as_ref().map_or_else(|| record.clone(), ToString::to_string);
    if target != record && exists(tx, &target)? {
        return Err(StoreError::Invalid(format!(
            "{record} cannot be renamed to {target}, which exists"
        )));
    }
    let events: Vec<(i64, String)> = {
        let mut select = tx
            .prepare("SELECT seq, event_json FROM events WHERE record_id = ?1")
            .map_err(backend)?;
        let rows = select.query_map([&record], |row| Ok((row.get(0)?, row.get(1)?)));
        rows.map_err(backend)?.collect::<Result<_, _>>().map_err(backend)?
    };
    let mut update = tx
        .prepare(
            "UPDATE events SET record_id = ?1, event_json = ?2 WHERE record_id = ?3 AND seq = ?4",
        )
        .map_err(backend)?;
    for (seq, json) in events {
        let mut event: EventRecord = from_json(&json)?;
        if contract::redact_event(&mut event, &redaction) {
            update.execute((&target, to_json(&event)?, &record, seq)).map_err(backend)?;
        }
    }
    delete_row(tx, &record)?;
    write_row(tx, &redaction.row)
}

fn read_rows(connection: &Connection, statement: Statement) -> Result<Vec<RecordRow>, StoreError> {
    let mut select = connection.prepare_cached(&statement.sql).map_err(backend)?;
    let rows = select
        .query_map(rusqlite::params_from_iter(sql_params(statement.params)), |row| {
            row.get::<_, String>(0)
        })
        .map_err(backend)?;
    rows.map(|json| from_json(&json.map_err(backend)?)).collect()
}

/// The last row of a search window, from [`desk_sql::WindowSearch::last`].
fn window_end(
    connection: &Connection,
    statement: Statement,
    order: Order,
) -> Result<Option<SortKey>, StoreError> {
    let mut select = connection.prepare_cached(&statement.sql).map_err(backend)?;
    select
        .query_row(rusqlite::params_from_iter(sql_params(statement.params)), |row| {
            let numbers =
                (0..order.arity()).map(|n| row.get(n)).collect::<Result<Vec<i64>, _>>()?;
            Ok(SortKey { order, numbers, id: row.get(order.arity())? })
        })
        .optional()
        .map_err(backend)
}

fn read_events(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut select = connection.prepare_cached(sql).map_err(backend)?;
    let rows = select
        .query_map(params, |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .map_err(backend)?;
    rows.map(|row| {
        let (position, json) = row.map_err(backend)?;
        desk_sql::stored_event(position, &json)
    })
    .collect()
}

fn read_ids(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RecordId>, StoreError> {
    let mut select = connection.prepare_cached(sql).map_err(backend)?;
    let rows = select.query_map(params, |row| row.get::<_, String>(0)).map_err(backend)?;
    rows.map(|id| record_id(&id.map_err(backend)?)).collect()
}

#[async_trait]
impl Store for SqliteStore {
    async fn last_allocated(&self, kind: RecordKind) -> Result<u32, StoreError> {
        self.read(move |connection| last_allocated(connection, kind.prefix())).await
    }

    async fn history(&self, record: &RecordId) -> Result<Vec<StoredEvent>, StoreError> {
        let record = record.to_string();
        self.read(move |connection| {
            read_events(
                connection,
                "SELECT position, event_json FROM events WHERE record_id = ?1 ORDER BY seq",
                [record],
            )
        })
        .await
    }

    async fn commit(&self, batch: Commit) -> Result<(), StoreError> {
        contract::check_commit(&batch)?;
        let rows = !batch.rows.is_empty();
        self.write(move |tx| commit(tx, batch)).await?;
        if rows {
            self.inner.row_commits.fetch_add(1, Ordering::AcqRel);
            self.project_soon();
        }
        Ok(())
    }

    async fn row(&self, record: &RecordId) -> Result<Option<RecordRow>, StoreError> {
        let record = record.to_string();
        self.read_projected(move |connection| {
            let json: Option<String> = connection
                .prepare_cached(
                    "SELECT b.row_json FROM rows r JOIN row_bodies b ON b.rowid = r.rowid
                     WHERE r.id = ?1",
                )
                .map_err(backend)?
                .query_row([record], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            json.map(|json| from_json(&json)).transpose()
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let terms = query.filter.text.as_deref().map(contract::search_terms).unwrap_or_default();
        if query.order == Order::Newest && !terms.is_empty() {
            let query = query.clone();
            return self
                .read_projected(move |connection| {
                    let rows = match search::match_expression(connection, &terms)? {
                        Some(expression) => search::newest(connection, &query, expression)?,
                        None => Vec::new(),
                    };
                    Ok(desk_sql::page_from(&query, rows))
                })
                .await;
        }
        let search = desk_sql::WindowedSearch::new(query);
        let query = query.clone();
        self.read_projected(move |connection| {
            let Some(mut search) = search else {
                let statement = desk_sql::select_page(&Sqlite, &query)?;
                return Ok(desk_sql::page_from(&query, read_rows(connection, statement)?));
            };
            loop {
                let window = search.statements(&Sqlite)?;
                if search.take(read_rows(connection, window.page)?) {
                    return Ok(search.page());
                }
                let last = window_end(connection, window.last, query.order)?;
                match search.after_window(&Sqlite, last)? {
                    Next::Answer => return Ok(search.page()),
                    Next::Window => {}
                    Next::Index(statement) => {
                        return Ok(desk_sql::page_from(&query, read_rows(connection, statement)?));
                    }
                }
            }
        })
        .await
    }

    async fn events_after(
        &self,
        position: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let position = to_i64(position)?;
        self.read(move |connection| {
            read_events(
                connection,
                "SELECT position, event_json FROM events WHERE position > ?1
                 ORDER BY position LIMIT ?2",
                (position, limit),
            )
        })
        .await
    }

    async fn next_wake(&self) -> Result<Option<Timestamp>, StoreError> {
        self.read_projected(|connection| {
            let rows = read_rows(
                connection,
                Statement {
                    sql: "SELECT b.row_json FROM rows r JOIN row_bodies b ON b.rowid = r.rowid
                          WHERE r.wake_key IS NOT NULL ORDER BY r.wake_key, r.sort_key LIMIT 1"
                        .to_owned(),
                    params: Vec::new(),
                },
            )?;
            Ok(rows.into_iter().next().and_then(|row| row.wake_at))
        })
        .await
    }

    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<RecordId>, StoreError> {
        self.read_projected(move |connection| {
            read_ids(
                connection,
                "SELECT id FROM rows WHERE wake_key <= ?1 ORDER BY wake_key, sort_key LIMIT ?2",
                (time_key(now), limit),
            )
        })
        .await
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.write(move |tx| {
            let claimed: Vec<(i64, String, i64)> = {
                let mut select = tx
                    .prepare_cached(
                        "SELECT seq, message_json, attempts + 1 FROM outbox
                         WHERE state = 'waiting' AND (ready_key IS NULL OR ready_key <= ?1)
                           AND (lease_key IS NULL OR lease_key <= ?1)
                         ORDER BY seq LIMIT ?2",
                    )
                    .map_err(backend)?;
                let rows = select
                    .query_map((time_key(now), limit), |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                    })
                    .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            let mut lease = tx
                .prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, lease_key = ?1 WHERE seq = ?2",
                )
                .map_err(backend)?;
            claimed
                .into_iter()
                .map(|(seq, json, attempts)| {
                    lease.execute((time_key(lease_until), seq)).map_err(backend)?;
                    let message: OutboxMessage = from_json(&json)?;
                    let attempts = u32::try_from(attempts)
                        .map_err(|_| StoreError::Corrupt(format!("{attempts} attempts")))?;
                    Ok(OutboxItem { message, attempts })
                })
                .collect()
        })
        .await
    }

    async fn settle_outbox(
        &self,
        key: &str,
        delivery: Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.write(move |tx| {
            match delivery {
                Delivery::Delivered => tx.execute(
                    "UPDATE outbox SET state = 'delivered', lease_key = NULL
                     WHERE key = ?1 AND state = 'waiting'",
                    [&key],
                ),
                Delivery::Retry { error, retry_at } => tx.execute(
                    "UPDATE outbox SET ready_key = ?2, lease_key = NULL, error = ?3
                     WHERE key = ?1 AND state = 'waiting'",
                    (&key, time_key(retry_at), error),
                ),
                Delivery::Dead { error } => tx.execute(
                    "UPDATE outbox SET state = 'dead', lease_key = NULL, error = ?2,
                         dead_key = ?3, dead_at = ?4
                     WHERE key = ?1 AND state = 'waiting'",
                    (&key, error, time_key(now), to_json(&now)?),
                ),
            }
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        self.read(move |connection| {
            let mut select = connection
                .prepare_cached(
                    "SELECT message_json, attempts, error, dead_at FROM outbox
                     WHERE state = 'dead' ORDER BY dead_key, seq LIMIT ?1",
                )
                .map_err(backend)?;
            let rows = select
                .query_map([limit], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, u32>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                })
                .map_err(backend)?;
            rows.map(|row| {
                let (message, attempts, error, dead_at) = row.map_err(backend)?;
                Ok(DeadLetter {
                    message: from_json(&message)?,
                    attempts,
                    error,
                    dead_at: from_json(&dead_at)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn mentioning(&self, person: &PersonId) -> Result<Vec<RecordId>, StoreError> {
        let person = person.to_string();
        self.read_projected(move |connection| {
            read_ids(
                connection,
                "SELECT r.id FROM row_people p JOIN rows r ON r.id = p.record_id
                 WHERE p.person = ?1 ORDER BY r.sort_key",
                [person],
            )
        })
        .await
    }

    async fn redact(&self, redaction: Redaction) -> Result<(), StoreError> {
        contract::check_redaction(&redaction)?;
        self.write_projected(move |tx| redact(tx, redaction)).await
    }

    async fn closed_before(
        &self,
        kind: RowKind,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<RecordId>, StoreError> {
        self.read_projected(move |connection| {
            read_ids(
                connection,
                "SELECT r.id FROM rows r
                 WHERE r.kind = ?1 AND r.closed_key < ?2
                   AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.record_id = r.id)
                 ORDER BY r.closed_key, r.sort_key LIMIT ?3",
                (kind.as_str(), time_key(cutoff), limit),
            )
        })
        .await
    }

    async fn delete(&self, record: &RecordId) -> Result<(), StoreError> {
        let record = record.clone();
        self.write_projected(move |tx| {
            check_no_hold(tx, &record)?;
            let id = record.to_string();
            for sql in [
                "DELETE FROM events WHERE record_id = ?1",
                "DELETE FROM outbox WHERE record_id = ?1",
            ] {
                tx.execute(sql, [&id]).map_err(backend)?;
            }
            delete_row(tx, &id)
        })
        .await
    }

    async fn place_hold(&self, hold: LegalHold) -> Result<(), StoreError> {
        self.write_projected(move |tx| {
            let id = hold.record.to_string();
            if !exists(tx, &id)? {
                return Err(StoreError::NotFound(hold.record));
            }
            tx.execute(
                "INSERT INTO holds (record_id, hold_json) VALUES (?1, ?2)
                 ON CONFLICT (record_id) DO UPDATE SET hold_json = excluded.hold_json",
                (&id, to_json(&hold)?),
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn release_hold(&self, record: &RecordId) -> Result<(), StoreError> {
        let id = record.to_string();
        self.write(move |tx| {
            tx.execute("DELETE FROM holds WHERE record_id = ?1", [id]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn hold(&self, record: &RecordId) -> Result<Option<LegalHold>, StoreError> {
        let id = record.to_string();
        self.read(move |connection| {
            let json: Option<String> = connection
                .query_row("SELECT hold_json FROM holds WHERE record_id = ?1", [id], |row| {
                    row.get(0)
                })
                .optional()
                .map_err(backend)?;
            json.map(|json| from_json(&json)).transpose()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use desk::store::{Append, Filter};
    use desk_core::id::IncidentRef;

    use super::*;

    /// A new incident `INC-<number>` titled `title`, with its row, claiming its reference.
    pub(crate) fn new_incident(number: u32, title: &str) -> (RecordId, RecordRow, Commit) {
        let reference = IncidentRef::from_number(number).unwrap().reference();
        let record = RecordId::Ref(reference);
        let row: RecordRow = from_json(&format!(
            r#"{{"id": "{record}", "kind": "incident", "version": 0, "status": "new",
                "open": true, "title": "{title}", "body": "",
                "team": null, "tier": null, "agent": null, "priority": "P2", "requester": null,
                "people": [], "cis": [], "created_at": "2026-01-05T09:00:00Z",
                "updated_at": "2026-01-05T09:00:00Z", "closed_at": null,
                "sla": {{"due_at": null, "warning_at": null, "warned": false, "breached_at": null}},
                "wake_at": null, "state": {{}}}}"#
        ))
        .unwrap();
        let commit = Commit {
            appends: vec![Append { record: record.clone(), expected_version: 0, events: vec![] }],
            rows: vec![row.clone()],
            outbox: vec![],
            claim: Some(reference),
        };
        (record, row, commit)
    }

    fn text(words: &str) -> Query {
        Query {
            filter: Filter { text: Some(words.into()), ..Filter::default() },
            limit: 10,
            ..Query::default()
        }
    }

    #[tokio::test]
    async fn an_in_memory_database_works_like_a_file() {
        let store = SqliteStore::in_memory().await.unwrap();
        assert_eq!(store.last_allocated(RecordKind::Incident).await.unwrap(), 0);
        let (record, row, commit) = new_incident(1, "Outlook keeps asking for a password");
        store.commit(commit).await.unwrap();
        assert_eq!(store.last_allocated(RecordKind::Incident).await.unwrap(), 1);
        let found = store.query(&text("outl pass")).await.unwrap();
        assert_eq!(found.rows, [row]);
        assert_eq!(store.clone().row(&record).await.unwrap().map(|r| r.id), Some(record));
    }

    #[tokio::test]
    async fn another_connection_sees_a_row_as_soon_as_its_commit_returns() {
        // Given two stores on one file, as two desk processes would have
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desk.sqlite");
        let (first, second) =
            (SqliteStore::open(&path).await.unwrap(), SqliteStore::open(&path).await.unwrap());

        // When one commits rows, before its projector has run
        let mut rows = Vec::new();
        for (number, title) in [(1, "Printer jams"), (2, "Printer offline")] {
            let (_, row, commit) = new_incident(number, title);
            first.commit(commit).await.unwrap();
            rows.push(row);
        }

        // Then the other finds them straight away, by query, by id and by their words
        let (record, _, _) = new_incident(2, "");
        assert_eq!(second.row(&record).await.unwrap().as_ref(), Some(&rows[1]));
        let found = second.query(&text("print")).await.unwrap().rows;
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(second.query(&text("offl")).await.unwrap().rows, [rows[1].clone()]);
    }

    #[tokio::test]
    async fn rows_pending_when_a_store_closes_are_there_when_it_opens_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desk.sqlite");
        let store = SqliteStore::open(&path).await.unwrap();
        let (record, row, commit) = new_incident(1, "VPN drops every hour");
        store.commit(commit).await.unwrap();
        drop(store);

        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.row(&record).await.unwrap(), Some(row.clone()));
        assert_eq!(store.query(&text("vpn hour")).await.unwrap().rows, [row]);
    }
}
