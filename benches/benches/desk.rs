//! Opening an incident end to end through the `Desk` — look up the requester's VIP kind, log
//! under the next reference, route, evaluate SLA, seal the audit chain, project the row, write
//! the outbox, commit with the reference claimed in the same transaction, and index the row
//! for queries and search — against raw SQLite inserts of the same rows in the same run. Each
//! measurement of the desk ends when its last incident is in the service desk's queue: SQLite
//! indexes rows after the commit, in batches (see `desk-sqlite`), and the time to index them
//! all is counted.
//!
//! Run with `cargo bench -p desk-benches --bench desk`. PostgreSQL is measured too when
//! `DESK_TEST_POSTGRES_URL` is set (`export DESK_TEST_POSTGRES_URL="$(.ci/postgres start)"`).
//!
//! Two raw baselines write what the desk's commit holds for one incident with `rusqlite`, one
//! transaction per incident, on files with the desk's durability (WAL, `synchronous =
//! NORMAL`) and SQLite's default automatic checkpoint, inside the committing transaction,
//! every 1,000 pages (the desk checkpoints on a connection of its own; see `desk-sqlite`):
//!
//! - **bare**: the allocation counter, two events, the row and two outbox messages — the same
//!   JSON — into tables with only their primary keys. The target is the desk within 3× of
//!   this one.
//! - **desk's schema**: the same rows into the desk's own tables, created by
//!   `SqliteStore::open`, with every index the queries need: the row's columns and its
//!   thirteen indexes, the row's JSON, both full-text indexes, the people it names, all of it
//!   inside each incident's transaction (where the desk indexes rows in batches after the
//!   commit). The gap between it and the bare baseline is what the schema costs when written
//!   row by row.
//!
//! Beside each desk's rate, the report gives how long one call to open an incident took over its
//! measurements (p50, p99, maximum): the rate includes indexing the rows at the end, a call
//! does not.
//!
//! The desk on the in-memory store is measured as well: it is the desk's own work (decide,
//! route, seal, project, notify) without a database, so the rest of the SQLite figure is the
//! adapter's. Figures are printed and written to `target/desk-bench/desk.txt`; criterion then
//! measures each case once more in its usual way.

// A benchmark reports on stdout and stops at the first failure.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use desk::store::{Filter, Order, Query, Store};
use desk::{Desk, OpenIncident};
use desk_core::calendar::Calendars;
use desk_core::channel::Channel;
use desk_core::id::RecordId;
use desk_core::people::{Contact, requester};
use desk_core::priority::{Impact, Urgency};
use desk_core::sla::Policy;
use desk_core::{Actor, DeskConfig};
use desk_postgres::PostgresStore;
use desk_sql::RowColumns;
use desk_sqlite::SqliteStore;
use desk_tests::{Backend, Harness, POSTGRES_URL_VAR};
use rusqlite::{Connection, named_params, params};
use tokio::runtime::Runtime;

/// Incidents opened per measurement of the printed comparison.
const ROUNDS: usize = 1_000;

/// Measurements of each case, taken in turns; the report gives their median.
const MEASUREMENTS: usize = 7;

/// The machine's one-minute load average, as `/proc/loadavg` gives it (the machine is shared).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn agent() -> Actor {
    Actor::Agent("a.patel".parse().unwrap())
}

fn fault(n: usize) -> OpenIncident {
    OpenIncident {
        description: format!("Jams on every job since the toner change ({n})"),
        category: Some("hardware/printer".parse().unwrap()),
        ..OpenIncident::new(
            "Printer on floor 2 jams",
            "k.lee".parse().unwrap(),
            Channel::Phone,
            Impact::level(3).unwrap(),
            Urgency::level(2).unwrap(),
        )
    }
}

/// A desk on `store` with the example council and its requester registered.
fn desk_on(runtime: &Runtime, store: Arc<dyn Store>) -> Desk {
    let config = DeskConfig::example();
    let desk = Desk::builder(store)
        .sla_policy(Policy::example(&config).unwrap())
        .calendars(Calendars::example())
        .config(config)
        .build()
        .unwrap();
    runtime.block_on(async {
        let kim = "k.lee".parse().unwrap();
        if desk.requester(&kim).await.is_err() {
            let contact = Contact {
                name: "Kim Lee".into(),
                email: Some("k.lee@example.gov.uk".parse().unwrap()),
                phone: None,
            };
            let profile = requester::Profile::new(contact);
            let register = requester::Command::Register { id: kim.clone(), profile, vip: None };
            desk.execute_requester(&agent(), &kim, register, None).await.unwrap();
        }
    });
    desk
}

/// What one incident's commit holds, as the raw baselines write it: events, row, outbox.
struct Rows {
    events: Vec<String>,
    row: String,
    outbox: Vec<String>,
    /// The row's columns, as the desk's schema stores them.
    columns: RowColumns,
    /// The whole outbox messages, as the desk's schema stores them.
    messages: Vec<String>,
}

impl Rows {
    /// The JSON the desk wrote for its first incident.
    fn of(runtime: &Runtime, desk: &Desk) -> Rows {
        runtime.block_on(async {
            let opened = desk.open_incident(&agent(), fault(0)).await.unwrap();
            let id: RecordId = opened.record.reference.into();
            let events = desk.history(&id).await.unwrap();
            let row = desk.row(&id).await.unwrap();
            let now = desk.now();
            let outbox = desk.store().claim_outbox(now, now, 100).await.unwrap();
            Rows {
                events: events.iter().map(|e| serde_json::to_string(&e.event).unwrap()).collect(),
                row: serde_json::to_string(&row).unwrap(),
                outbox: outbox
                    .iter()
                    .map(|item| serde_json::to_string(&item.message.payload).unwrap())
                    .collect(),
                columns: RowColumns::of(&row).unwrap(),
                messages: outbox
                    .iter()
                    .map(|item| serde_json::to_string(&item.message).unwrap())
                    .collect(),
            }
        })
    }
}

/// Which tables a raw baseline writes into.
#[derive(Clone, Copy)]
enum Schema {
    /// Tables with only their primary keys.
    Bare,
    /// The desk's own tables, indexes and search indexes.
    Desk,
}

/// Raw SQLite: the same rows, one transaction per incident.
struct Raw {
    connection: Connection,
    schema: Schema,
    next: i64,
}

/// Removes a database file and its log.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A connection as durable as the desk's store (WAL, `synchronous = NORMAL`).
fn raw_connection(path: &Path) -> Connection {
    let connection = Connection::open(path).unwrap();
    connection.pragma_update(None, "journal_mode", "WAL").unwrap();
    connection.pragma_update(None, "synchronous", "NORMAL").unwrap();
    connection
}

impl Raw {
    fn open(runtime: &Runtime, path: &Path, schema: Schema) -> Raw {
        remove_database(path);
        if let Schema::Desk = schema {
            // The store creates its schema; the baseline then writes into it by itself.
            drop(runtime.block_on(SqliteStore::open(path)).unwrap());
            return Raw { connection: raw_connection(path), schema, next: 0 };
        }
        let connection = raw_connection(path);
        connection
            .execute_batch(
                "CREATE TABLE allocations (kind TEXT PRIMARY KEY, last INTEGER NOT NULL);
                 INSERT INTO allocations VALUES ('incident', 0);
                 CREATE TABLE events (position INTEGER PRIMARY KEY, record_id TEXT NOT NULL,
                     seq INTEGER NOT NULL, event_json TEXT NOT NULL, UNIQUE (record_id, seq));
                 CREATE TABLE rows (id TEXT PRIMARY KEY, row_json TEXT NOT NULL);
                 CREATE TABLE outbox (key TEXT PRIMARY KEY, payload TEXT NOT NULL);",
            )
            .unwrap();
        Raw { connection, schema, next: 0 }
    }

    fn insert(&mut self, rows: &Rows) {
        match self.schema {
            Schema::Bare => self.insert_bare(rows),
            Schema::Desk => self.insert_desk(rows),
        }
    }

    fn insert_bare(&mut self, rows: &Rows) {
        self.next += 1;
        let id = format!("INC-{:06}", self.next);
        let tx = self.connection.transaction().unwrap();
        tx.execute("UPDATE allocations SET last = last + 1 WHERE kind = 'incident'", []).unwrap();
        for (seq, event) in rows.events.iter().enumerate() {
            tx.execute(
                "INSERT INTO events (record_id, seq, event_json) VALUES (?1, ?2, ?3)",
                params![id, seq as i64 + 1, event],
            )
            .unwrap();
        }
        tx.execute("INSERT INTO rows (id, row_json) VALUES (?1, ?2)", params![id, rows.row])
            .unwrap();
        for (n, payload) in rows.outbox.iter().enumerate() {
            tx.execute(
                "INSERT INTO outbox (key, payload) VALUES (?1, ?2)",
                params![format!("{id}/{n}"), payload],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    /// What the desk's adapter writes for a new incident, without the desk: the same
    /// statements, cached, in one transaction.
    fn insert_desk(&mut self, rows: &Rows) {
        self.next += 1;
        let reference: RecordId = format!("INC-{:06}", self.next).parse().unwrap();
        let id = reference.to_string();
        let c = &rows.columns;
        let tx = self.connection.transaction().unwrap();
        tx.prepare_cached(
            "INSERT INTO allocations (kind, last) VALUES ('INC', 1)
             ON CONFLICT (kind) DO UPDATE SET last = last + 1",
        )
        .unwrap()
        .execute([])
        .unwrap();
        let mut insert = tx
            .prepare_cached("INSERT INTO events (record_id, seq, event_json) VALUES (?1, ?2, ?3)")
            .unwrap();
        for (seq, event) in rows.events.iter().enumerate() {
            insert.execute(params![id, seq as i64 + 1, event]).unwrap();
        }
        let sort_key = desk::contract::id_key(&reference);
        let rowid: i64 = tx
            .prepare_cached(&format!(
                "INSERT INTO rows ({}) VALUES (:id, :sort_key, :kind, :version, :status, :open,
                     :team, :tier, :agent, :requester, :prio_rank, :due_key, :warned, :breached,
                     :created_key, :updated_key, :closed_key, :wake_key) RETURNING rowid",
                desk_sql::ROWS_COLUMNS
            ))
            .unwrap()
            .query_row(
                named_params! {
                    ":id": id, ":sort_key": sort_key, ":kind": c.kind, ":version": c.version,
                    ":status": c.status, ":open": c.open, ":team": c.team, ":tier": c.tier,
                    ":agent": c.agent, ":requester": c.requester, ":prio_rank": c.prio_rank,
                    ":due_key": c.due_key, ":warned": c.warned, ":breached": c.breached,
                    ":created_key": c.created_key, ":updated_key": c.updated_key,
                    ":closed_key": c.closed_key, ":wake_key": c.wake_key,
                },
                |row| row.get(0),
            )
            .unwrap();
        tx.prepare_cached("INSERT INTO row_bodies (rowid, row_json) VALUES (?1, ?2)")
            .unwrap()
            .execute(params![rowid, c.row_json])
            .unwrap();
        let terms = c.terms.join(" ");
        for table in ["row_search", "row_search_open"] {
            tx.prepare_cached(&format!("INSERT INTO {table} (rowid, terms) VALUES (?1, ?2)"))
                .unwrap()
                .execute(params![rowid, terms])
                .unwrap();
        }
        let mut person = tx
            .prepare_cached("INSERT INTO row_people (person, record_id) VALUES (?1, ?2)")
            .unwrap();
        for name in &c.people {
            person.execute(params![name, id]).unwrap();
        }
        let mut enqueue = tx
            .prepare_cached(
                "INSERT INTO outbox (key, record_id, message_json, state)
                 VALUES (?1, ?2, ?3, 'waiting')",
            )
            .unwrap();
        for (n, message) in rows.messages.iter().enumerate() {
            enqueue.execute(params![format!("{id}/{n}"), id, message]).unwrap();
        }
        drop((insert, person, enqueue));
        tx.commit().unwrap();
    }
}

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/desk-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh SQLite desk in `dir`.
fn sqlite_desk(runtime: &Runtime, dir: &Path) -> Desk {
    let path = dir.join("open-incident.sqlite");
    remove_database(&path);
    let store = runtime.block_on(SqliteStore::open(&path)).unwrap();
    desk_on(runtime, Arc::new(store))
}

/// A fresh PostgreSQL desk, if a server is configured.
fn postgres_desk(runtime: &Runtime) -> Option<(Desk, PostgresStore)> {
    let url = std::env::var(POSTGRES_URL_VAR).ok().filter(|url| !url.is_empty())?;
    let store = runtime.block_on(async {
        let old = PostgresStore::connect(&url, "bench_open_incident").await.unwrap();
        old.drop_schema().await.unwrap();
        PostgresStore::connect(&url, "bench_open_incident").await.unwrap()
    });
    Some((desk_on(runtime, Arc::new(store.clone())), store))
}

/// How long each call to open an incident took, over every measurement of one store.
#[derive(Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    /// Its p50, p99 and maximum, in milliseconds.
    fn summary(&mut self) -> String {
        self.0.sort();
        let at = |p: f64| {
            let rank = ((self.0.len() as f64 - 1.0) * p).round() as usize;
            self.0[rank].as_secs_f64() * 1e3
        };
        format!("one open: p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms", at(0.5), at(0.99), at(1.0))
    }
}

/// Incidents per second over `ROUNDS` opens, until the last of them is in the service desk's
/// queue: a store that indexes rows after the commit (SQLite does, in batches) has then
/// indexed every one. Each call's own time goes to `latencies`.
fn measure_desk(runtime: &Runtime, desk: &Desk, latencies: &mut Latencies) -> f64 {
    let started = Instant::now();
    runtime.block_on(async {
        let mut last = None;
        for n in 0..ROUNDS {
            let call = Instant::now();
            last = Some(desk.open_incident(&agent(), fault(n)).await.unwrap().record.reference);
            latencies.0.push(call.elapsed());
        }
        let queue = Query {
            filter: Filter { open: Some(true), ..Filter::default() },
            order: Order::Newest,
            limit: 1,
            after: None,
        };
        let page = desk.query(&queue).await.unwrap();
        assert_eq!(page.rows.first().map(|row| row.id.clone()), last.map(RecordId::from));
    });
    ROUNDS as f64 / started.elapsed().as_secs_f64()
}

/// Rows per second (one incident's worth each) over `ROUNDS` raw transactions.
fn measure_raw(raw: &mut Raw, rows: &Rows) -> f64 {
    let started = Instant::now();
    for _ in 0..ROUNDS {
        raw.insert(rows);
    }
    ROUNDS as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = Runtime::new().unwrap();
    let dir = bench_dir();
    let sqlite = sqlite_desk(&runtime, &dir);
    let rows = Rows::of(&runtime, &sqlite);
    let mut raw = Raw::open(&runtime, &dir.join("raw.sqlite"), Schema::Bare);
    let mut same = Raw::open(&runtime, &dir.join("raw-desk-schema.sqlite"), Schema::Desk);
    let postgres = postgres_desk(&runtime);

    // Warm up each, then measure them in turns, so all see the same machine.
    let load_before = load_average();
    let mut sqlite_latencies = Latencies::default();
    measure_desk(&runtime, &sqlite, &mut Latencies::default());
    measure_raw(&mut raw, &rows);
    measure_raw(&mut same, &rows);
    let (mut desk_rates, mut raw_rates, mut same_rates) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..MEASUREMENTS {
        desk_rates.push(measure_desk(&runtime, &sqlite, &mut sqlite_latencies));
        raw_rates.push(measure_raw(&mut raw, &rows));
        same_rates.push(measure_raw(&mut same, &rows));
    }
    let median = |rates: &mut Vec<f64>| {
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    let desk_rate = median(&mut desk_rates);
    let (raw_rate, same_rate) = (median(&mut raw_rates), median(&mut same_rates));
    let mut report = String::new();
    writeln!(
        report,
        "open an incident end to end ({ROUNDS} per measurement, median of {MEASUREMENTS}):"
    )
    .unwrap();
    writeln!(
        report,
        "  desk on SQLite                {desk_rate:>9.0} incidents/s ({})",
        sqlite_latencies.summary()
    )
    .unwrap();
    writeln!(
        report,
        "  raw SQLite, bare tables       {raw_rate:>9.0} incidents/s (same rows and JSON, \
         primary keys only, one transaction each)"
    )
    .unwrap();
    writeln!(
        report,
        "  raw SQLite, desk's schema     {same_rate:>9.0} incidents/s (same rows into the \
         desk's tables, indexes and search indexes, in each transaction)"
    )
    .unwrap();
    let ratio = raw_rate / desk_rate;
    let verdict = if ratio <= 3.0 { "within" } else { "OUTSIDE" };
    writeln!(report, "  bare raw / desk               {ratio:>9.2}×  ({verdict} the 3× target)")
        .unwrap();
    writeln!(
        report,
        "  desk-schema raw / desk        {:>9.2}×  (what the desk adds to its own schema)",
        same_rate / desk_rate
    )
    .unwrap();
    writeln!(
        report,
        "  bare raw / desk-schema raw    {:>9.2}×  (what the schema costs)",
        raw_rate / same_rate
    )
    .unwrap();
    // A fresh in-memory store each time: it is a reference implementation, not a fast one,
    // and slows as it fills.
    let mut rates: Vec<f64> = (0..3)
        .map(|_| {
            let memory = runtime.block_on(Harness::open(Backend::Memory, "open_incident"));
            measure_desk(&runtime, &desk_on(&runtime, memory.shared()), &mut Latencies::default())
        })
        .collect();
    let memory_rate = median(&mut rates);
    writeln!(
        report,
        "  desk in memory                {memory_rate:>9.0} incidents/s (the desk's own work, \
         no database)"
    )
    .unwrap();
    if let Some((desk, _)) = &postgres {
        measure_desk(&runtime, desk, &mut Latencies::default());
        let mut latencies = Latencies::default();
        let mut rates: Vec<f64> =
            (0..3).map(|_| measure_desk(&runtime, desk, &mut latencies)).collect();
        writeln!(
            report,
            "  desk on PostgreSQL            {:>9.0} incidents/s ({})",
            median(&mut rates),
            latencies.summary()
        )
        .unwrap();
    } else {
        writeln!(report, "  (PostgreSQL not measured: set {POSTGRES_URL_VAR})").unwrap();
    }
    let load_after = load_average();
    writeln!(report, "  load average (1 min) before {load_before}, after {load_after}").unwrap();
    print!("{report}");
    std::fs::write(dir.join("desk.txt"), &report).unwrap();

    let mut criterion = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut group = criterion.benchmark_group("open_incident");
    group.throughput(Throughput::Elements(1));
    let mut n = 0;
    group.bench_function("desk_sqlite", |b| {
        b.iter(|| {
            n += 1;
            runtime.block_on(sqlite.open_incident(&agent(), fault(n))).unwrap()
        })
    });
    group.bench_function("raw_sqlite", |b| b.iter(|| raw.insert(&rows)));
    group.bench_function("raw_sqlite_desk_schema", |b| b.iter(|| same.insert(&rows)));
    if let Some((desk, _)) = &postgres {
        group.bench_function("desk_postgres", |b| {
            b.iter(|| {
                n += 1;
                runtime.block_on(desk.open_incident(&agent(), fault(n))).unwrap()
            })
        });
    }
    group.finish();
    criterion.final_summary();
    if let Some((_, store)) = postgres {
        runtime.block_on(store.drop_schema()).unwrap();
    }
}
