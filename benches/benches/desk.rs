//! Opening an incident end to end through the `Desk` — allocate the reference, look up the
//! requester's VIP kind, log, route, evaluate SLA, seal the audit chain, project the row, write
//! the outbox, commit — against raw SQLite inserts of the same rows in the same run.
//!
//! Run with `cargo bench -p desk-benches --bench desk`. PostgreSQL is measured too when
//! `DESK_TEST_POSTGRES_URL` is set (`export DESK_TEST_POSTGRES_URL="$(.ci/postgres start)"`).
//!
//! The raw baseline writes exactly what the desk's commit holds for one incident (the
//! allocation counter, two events, the row, two outbox messages — the same JSON) with
//! `rusqlite` in one transaction, into tables with only their primary keys, on a file with the
//! same pragmas (WAL, `synchronous = NORMAL`). The target is the desk within 3× of that.
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
use desk::store::Store;
use desk::{Desk, OpenIncident};
use desk_core::calendar::Calendars;
use desk_core::channel::Channel;
use desk_core::id::RecordId;
use desk_core::people::{Contact, requester};
use desk_core::priority::{Impact, Urgency};
use desk_core::sla::Policy;
use desk_core::{Actor, DeskConfig};
use desk_postgres::PostgresStore;
use desk_sqlite::SqliteStore;
use desk_tests::{Backend, Harness, POSTGRES_URL_VAR};
use rusqlite::{Connection, params};
use tokio::runtime::Runtime;

/// Incidents opened per measurement of the printed comparison.
const ROUNDS: usize = 400;

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

/// What one incident's commit holds, as the raw baseline writes it: events, row, outbox.
struct Rows {
    events: Vec<String>,
    row: String,
    outbox: Vec<String>,
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
            }
        })
    }
}

/// Raw SQLite: the same rows, one transaction per incident.
struct Raw {
    connection: Connection,
    next: i64,
}

impl Raw {
    fn open(path: &Path) -> Raw {
        let _ = std::fs::remove_file(path);
        let connection = Connection::open(path).unwrap();
        connection.pragma_update(None, "journal_mode", "WAL").unwrap();
        connection.pragma_update(None, "synchronous", "NORMAL").unwrap();
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
        Raw { connection, next: 0 }
    }

    fn insert(&mut self, rows: &Rows) {
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
}

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/desk-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh SQLite desk in `dir`.
fn sqlite_desk(runtime: &Runtime, dir: &Path) -> Desk {
    let path = dir.join("open-incident.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
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

/// Incidents per second over `ROUNDS` opens.
fn measure_desk(runtime: &Runtime, desk: &Desk) -> f64 {
    let started = Instant::now();
    runtime.block_on(async {
        for n in 0..ROUNDS {
            desk.open_incident(&agent(), fault(n)).await.unwrap();
        }
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
    let mut raw = Raw::open(&dir.join("raw.sqlite"));
    let postgres = postgres_desk(&runtime);

    // Warm up each, then measure them in turns, so both see the same machine.
    measure_desk(&runtime, &sqlite);
    measure_raw(&mut raw, &rows);
    let (mut desk_rates, mut raw_rates) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        desk_rates.push(measure_desk(&runtime, &sqlite));
        raw_rates.push(measure_raw(&mut raw, &rows));
    }
    let median = |rates: &mut Vec<f64>| {
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    let (desk_rate, raw_rate) = (median(&mut desk_rates), median(&mut raw_rates));
    let mut report = String::new();
    writeln!(report, "open an incident end to end ({ROUNDS} per measurement, median of 3):")
        .unwrap();
    writeln!(report, "  desk on SQLite      {desk_rate:>9.0} incidents/s").unwrap();
    writeln!(
        report,
        "  raw SQLite inserts  {raw_rate:>9.0} incidents/s (same rows, one transaction each)"
    )
    .unwrap();
    let ratio = raw_rate / desk_rate;
    let verdict = if ratio <= 3.0 { "within" } else { "OUTSIDE" };
    writeln!(report, "  raw / desk          {ratio:>9.2}×  ({verdict} the 3× target)").unwrap();
    // A fresh in-memory store each time: it is a reference implementation, not a fast one,
    // and slows as it fills.
    let mut rates: Vec<f64> = (0..3)
        .map(|_| {
            let memory = runtime.block_on(Harness::open(Backend::Memory, "open_incident"));
            measure_desk(&runtime, &desk_on(&runtime, memory.shared()))
        })
        .collect();
    let memory_rate = median(&mut rates);
    writeln!(
        report,
        "  desk in memory      {memory_rate:>9.0} incidents/s (the desk's own work, no database)"
    )
    .unwrap();
    if let Some((desk, _)) = &postgres {
        measure_desk(&runtime, desk);
        let mut rates: Vec<f64> = (0..3).map(|_| measure_desk(&runtime, desk)).collect();
        writeln!(report, "  desk on PostgreSQL  {:>9.0} incidents/s", median(&mut rates)).unwrap();
    } else {
        writeln!(report, "  (PostgreSQL not measured: set {POSTGRES_URL_VAR})").unwrap();
    }
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
