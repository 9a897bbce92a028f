//! `desk-tests`: what the integration tests (and the benchmarks) share.
//!
//! - [`Harness`]: a store of each [`Backend`] that a test can close and reopen: the in-memory
//!   store (reopening keeps a handle), SQLite in a file of a temporary directory, and
//!   PostgreSQL in a schema of its own on the server named by `DESK_TEST_POSTGRES_URL`.
//! - Builders of realistic rows, sealed events, appends and outbox messages.
//!
//! PostgreSQL is never skipped: without `DESK_TEST_POSTGRES_URL` a PostgreSQL test fails and
//! says how to start a throwaway server (`.ci/postgres start`).

// Test support: failing loudly (a panic with the reason) is what a fixture should do.
#![allow(clippy::panic, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Duration, TimeZone, Utc};
use desk::audit;
use desk::store::{
    Append, Digest, EventRecord, OutboxMessage, RecordRow, RowKind, SlaRow, Store, StoredEvent,
};
use desk_core::Timestamp;
use desk_core::id::{AssetRef, PersonId, RecordId, TeamId};
use desk_core::priority::Priority;
use desk_core::record::{Actor, Visibility};
use desk_core::tier::Tier;
use desk_memory::MemoryStore;
use desk_postgres::PostgresStore;
use desk_sqlite::SqliteStore;
use serde_json::json;

/// The environment variable naming the PostgreSQL server tests use.
pub const POSTGRES_URL_VAR: &str = "DESK_TEST_POSTGRES_URL";

/// The instant `minutes` after Monday 5 January 2026, 09:00 UTC.
pub fn at(minutes: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().expect("a valid instant")
        + Duration::minutes(minutes)
}

/// The record id `text` (`INC-000001`, `requester:k.lee`).
pub fn id(text: &str) -> RecordId {
    text.parse().expect("a valid record id")
}

/// Incident number `n`.
pub fn incident(n: u32) -> RecordId {
    id(&format!("INC-{n:06}"))
}

/// The person `text`.
pub fn person(text: &str) -> PersonId {
    text.parse().expect("a valid person id")
}

/// The team `text`.
pub fn team(text: &str) -> TeamId {
    text.parse().expect("a valid team id")
}

/// Asset number `n`.
pub fn asset(n: u32) -> AssetRef {
    AssetRef::from_number(n).expect("a non-zero asset number")
}

/// An open, unassigned P3 row of `record` at `version`, created and updated at `at(0)`,
/// for the service desk team on 1st line, requested by k.lee.
pub fn row(record: &RecordId, version: u64) -> RecordRow {
    RecordRow {
        id: record.clone(),
        kind: RowKind::of(record),
        version,
        status: "new".to_owned(),
        open: true,
        title: format!("Cannot print to the Floor 2 printer ({record})"),
        body: "The HP LaserJet in room 2.14 shows error 13.2 (paper jam) after every page."
            .to_owned(),
        team: Some(team("service-desk")),
        tier: Some(Tier::FirstLine),
        agent: None,
        priority: Priority::new(3),
        requester: Some(person("k.lee")),
        people: vec![person("k.lee")],
        cis: vec![],
        created_at: at(0),
        updated_at: at(0),
        closed_at: None,
        sla: SlaRow::default(),
        wake_at: None,
        state: json!({"id": record.to_string(), "status": "new"}),
    }
}

/// `count` events of `record` following `version` (whose last event hashed to `prev`), one a
/// minute from `at(version)`, each a work note by agent j.smith.
pub fn events(record: &RecordId, version: u64, prev: Digest, count: u64) -> Vec<EventRecord> {
    let mut prev = prev;
    (version + 1..=version + count)
        .map(|seq| {
            let event = audit::seal(
                record.clone(),
                seq,
                at(seq as i64),
                Actor::Agent(person("j.smith")),
                "work_noted",
                Visibility::Internal,
                json!({"type": "work_noted", "text": format!("note {seq} about {record}")}),
                prev,
            );
            prev = event.hash;
            event
        })
        .collect()
}

/// The version of a history and the hash its next event must link to.
pub fn tip(history: &[StoredEvent]) -> (u64, Digest) {
    history.last().map_or((0, Digest::default()), |last| (last.event.seq, last.event.hash))
}

/// An append of `count` events to `record`, which is at `version` with last hash `prev`.
pub fn append(record: &RecordId, version: u64, prev: Digest, count: u64) -> Append {
    Append {
        record: record.clone(),
        expected_version: version,
        events: events(record, version, prev, count),
    }
}

/// A notification about `record` with idempotency key `key`.
pub fn message(key: &str, record: &RecordId) -> OutboxMessage {
    OutboxMessage {
        key: key.to_owned(),
        record: record.clone(),
        topic: "incident.noted".to_owned(),
        payload: json!({"to": ["k.lee@council.gov.uk"], "reference": record.to_string()}),
        created_at: at(0),
    }
}

/// The kinds of store the suites run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// [`MemoryStore`].
    Memory,
    /// [`SqliteStore`] in a file.
    Sqlite,
    /// [`PostgresStore`] in a schema of its own.
    Postgres,
}

/// A store under test that can be closed and reopened on the same data.
pub struct Harness {
    store: Option<Arc<dyn Store>>,
    place: Place,
}

enum Place {
    Memory(MemoryStore),
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

/// The URL of the test PostgreSQL server; fails the test, saying how to start one, if unset.
pub fn postgres_url() -> String {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{POSTGRES_URL_VAR} is not set, so the PostgreSQL tests cannot run (they are never \
             skipped). Start a throwaway server and run the tests with:\n\n    \
             export {POSTGRES_URL_VAR}=\"$(.ci/postgres start)\"\n\nand stop it afterwards with \
             `.ci/postgres stop`."
        ),
    }
}

/// A schema name no other test in this run (or any earlier run) uses: `t_<name>_<pid>_<n>`.
pub fn unique_schema(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let stem: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .take(24)
        .collect();
    let nanos = Utc::now().timestamp_subsec_nanos();
    format!("t_{stem}_{}_{nanos}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Harness {
    /// A new, empty store of `backend`; `name` names its PostgreSQL schema.
    pub async fn open(backend: Backend, name: &str) -> Harness {
        let place = match backend {
            Backend::Memory => Place::Memory(MemoryStore::new()),
            Backend::Sqlite => Place::Sqlite(tempfile::tempdir().expect("a temporary directory")),
            Backend::Postgres => {
                Place::Postgres { url: postgres_url(), schema: unique_schema(name) }
            }
        };
        let mut harness = Harness { store: None, place };
        harness.reopen().await;
        harness
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.store.as_deref().expect("the store is open")
    }

    /// A shared handle on the store, for concurrent tasks.
    pub fn shared(&self) -> Arc<dyn Store> {
        Arc::clone(self.store.as_ref().expect("the store is open"))
    }

    /// Another store on the same data, as a second process would open it.
    pub async fn second(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Memory(store) => Arc::new(store.clone()),
            Place::Sqlite(dir) => Arc::new(
                SqliteStore::open(dir.path().join("desk.sqlite")).await.expect("SQLite opens"),
            ),
            Place::Postgres { url, schema } => {
                Arc::new(PostgresStore::connect(url, schema).await.expect("PostgreSQL connects"))
            }
        }
    }

    /// Closes the store and opens it again on the same data.
    pub async fn reopen(&mut self) {
        self.store = None;
        self.store = Some(self.second().await);
    }

    /// Removes what the store left behind (the PostgreSQL schema; the SQLite file goes with
    /// the harness).
    pub async fn finish(mut self) {
        self.store = None;
        if let Place::Postgres { url, schema } = &self.place {
            let store = PostgresStore::connect(url, schema).await.expect("PostgreSQL connects");
            store.drop_schema().await.expect("the schema is dropped");
        }
    }

    /// Where the SQLite file is, for tests of the SQLite adapter itself.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        match &self.place {
            Place::Sqlite(dir) => Some(dir.path().join("desk.sqlite")),
            Place::Memory(_) | Place::Postgres { .. } => None,
        }
    }
}

/// Runs `test` on a fresh store of `backend` (named `name`), then removes what it left.
pub async fn run<T, F>(backend: Backend, name: &str, test: T)
where
    T: FnOnce(Harness) -> F,
    F: Future<Output = Harness>,
{
    let harness = Harness::open(backend, name).await;
    test(harness).await.finish().await;
}

/// Declares, for each async function `test(Harness) -> Harness` named, one test per backend:
/// `memory::test`, `sqlite::test` and `postgres::test`, each on a multi-threaded runtime.
#[macro_export]
macro_rules! for_each_backend {
    ($($test:ident),* $(,)?) => {
        $crate::for_each_backend!(@backend memory, Memory, $($test),*);
        $crate::for_each_backend!(@backend sqlite, Sqlite, $($test),*);
        $crate::for_each_backend!(@backend postgres, Postgres, $($test),*);
    };
    (@backend $module:ident, $backend:ident, $($test:ident),*) => {
        mod $module {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                $crate::run($crate::Backend::$backend, stringify!($test), super::$test).await;
            })*
        }
    };
}
