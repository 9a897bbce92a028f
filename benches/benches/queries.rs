//! Query latency of the storage adapters at 100,000 and 1,000,000 incidents.
//!
//! Run with `cargo bench -p desk-benches --bench queries`. PostgreSQL is measured too when
//! `DESK_TEST_POSTGRES_URL` is set (`export DESK_TEST_POSTGRES_URL="$(.ci/postgres start)"`).
//! `DESK_BENCH_SIZES=100000` limits the sizes measured, `DESK_BENCH_ADAPTERS=postgres` the
//! adapters.
//!
//! Each store is filled once with a realistic desk (5 years of incidents, about 5 % still
//! open, twelve teams, 80 agents, 5,000 requesters, SLA clocks on the open ones) by bulk
//! commits, and kept for later runs: SQLite in `target/desk-bench/`, PostgreSQL in schema
//! `bench_<size>`. Then every query shape the desk's screens use runs 300 times with varying
//! parameters (after an untimed pass over the same parameters, so that these figures are for a
//! warm cache; the first touch of a page on disk costs a disk read more), and its p50 and p99
//! latencies (through the async `Store` API, as the desk calls it) are printed and written to
//! `target/desk-bench/queries-<adapters>.txt`; criterion then measures each shape once more in
//! its usual way. The worst case is a search for five common words (one of them, "the", in
//! nearly every incident).
//!
//! The first shape, the incidents of a requester nobody is, finds nothing after one index probe.
//! Its latency is the floor under every other figure: the round trip through the `Store` API
//! and the machine's scheduling. On a shared machine its p99 shows how much of another shape's
//! p99 is the machine's rather than the query's. `DESK_BENCH_AWAKE=1` measures with a
//! processor kept from idling (see [`Awake`]).

// A benchmark reports on stdout and stops at the first failure.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use desk::store::{Commit, Filter, Order, Query, RowKind, SlaRow, Store};
use desk_core::priority::Priority;
use desk_core::tier::Tier;
use desk_postgres::PostgresStore;
use desk_sqlite::SqliteStore;
use desk_tests::{POSTGRES_URL_VAR, append, asset, at, incident, person, row, team};
use tokio::runtime::Runtime;

const TEAMS: [(&str, Tier); 12] = [
    ("service-desk", Tier::FirstLine),
    ("desk-side", Tier::SecondLine),
    ("field-engineers", Tier::SecondLine),
    ("applications", Tier::ThirdLine),
    ("networks", Tier::ThirdLine),
    ("data-centre", Tier::ThirdLine),
    ("workstations", Tier::ThirdLine),
    ("telephony", Tier::ThirdLine),
    ("security", Tier::Specialist),
    ("database", Tier::Specialist),
    ("supplier-acme", Tier::Supplier),
    ("supplier-civica", Tier::Supplier),
];
const SYMPTOMS: [&str; 12] = [
    "cannot log in to",
    "slow response from",
    "error message in",
    "no access to",
    "crash when opening",
    "password expired for",
    "cannot print from",
    "lost connection to",
    "blank screen on",
    "sync failing in",
    "licence expired for",
    "cannot install",
];
const OBJECTS: [&str; 16] = [
    "Outlook",
    "Teams",
    "the revenues system",
    "Civica Pay",
    "the housing register",
    "VPN",
    "laptop",
    "desk phone",
    "SharePoint",
    "the planning portal",
    "Citrix",
    "payroll",
    "the council tax system",
    "multifunction printer",
    "mobile phone",
    "wifi",
];
const SITES: [&str; 6] =
    ["Civic Centre", "Town Hall", "depot", "library", "contact centre", "home working"];

/// A small deterministic generator (xorshift), so every run builds the same desk.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The commit that creates incident `n` of a desk of `size`.
fn incident_commit(
    n: u32,
    size: u32,
    dice: &mut Dice,
) -> (desk::store::Append, desk::store::RecordRow) {
    let id = incident(n);
    let mut r = row(&id, 1);
    let age_minutes = i64::from(size - n) * (5 * 365 * 24 * 60) / i64::from(size);
    let created = -age_minutes - 60;
    let recent = n > size - size / 25;
    r.open = (recent && dice.chance(90)) || dice.chance(1);
    let (team_name, tier) = TEAMS[dice.below(TEAMS.len() as u64) as usize];
    r.team = Some(team(team_name));
    r.tier = Some(tier);
    r.agent = dice.chance(80).then(|| person(&format!("agent-{:02}", dice.below(80))));
    r.requester = Some(person(&format!("emp-{:05}", dice.below(5000))));
    r.people = r.requester.iter().chain(&r.agent).cloned().collect();
    r.priority = Priority::new(match dice.below(100) {
        0..2 => 1,
        2..10 => 2,
        10..60 => 3,
        60..90 => 4,
        _ => 5,
    });
    r.cis = (0..dice.below(3)).map(|_| asset(dice.below(20_000) as u32 + 1)).collect();
    r.title = format!(
        "{} {} at the {}",
        SYMPTOMS[dice.below(12) as usize],
        OBJECTS[dice.below(16) as usize],
        SITES[dice.below(6) as usize]
    );
    r.body = format!(
        "Reported by phone. Host ws-{:05}, error 0x{:04x}. User says it started after the \
         update this morning; restarted twice without success.",
        dice.below(50_000),
        dice.below(65_536)
    );
    r.created_at = at(created);
    r.updated_at = at(created + dice.below(600) as i64);
    if r.open {
        r.status = ["new", "assigned", "in_progress", "on_hold"][dice.below(4) as usize].into();
        let due = at(dice.below(7 * 24 * 60) as i64 - 2 * 24 * 60);
        let breached = due < at(0) && dice.chance(60);
        r.sla = SlaRow {
            due_at: Some(due),
            warning_at: None,
            warned: breached || dice.chance(12),
            breached_at: breached.then_some(due),
        };
        r.wake_at = Some(due);
    } else {
        r.status = "closed".into();
        r.closed_at = Some(at(created + 60 + dice.below(5 * 24 * 60) as i64));
        r.sla.breached_at = dice.chance(8).then(|| at(created + 240));
    }
    (append(&id, 0, Default::default(), 1), r)
}

/// Fills `store` with `size` incidents unless it already has them.
async fn populate(store: &dyn Store, size: u32) {
    if store.row(&incident(size)).await.expect("row").is_some() {
        return;
    }
    let started = Instant::now();
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let mut n = 1;
    while n <= size {
        let end = (n + 2_000).min(size + 1);
        let mut commit = Commit::default();
        for m in n..end {
            let (append, row) = incident_commit(m, size, &mut dice);
            commit.appends.push(append);
            commit.rows.push(row);
        }
        // A fill that was interrupted goes on where it stopped (the dice roll the same).
        if store.row(&incident(end - 1)).await.expect("row").is_none() {
            store.commit(commit).await.expect("bulk commit");
        }
        n = end;
    }
    println!("populated {size} incidents in {:.0?}", started.elapsed());
}

/// A query the desk's screens make, with a parameter `n` that varies from run to run.
struct Shape {
    name: &'static str,
    runs: u64,
    order: Order,
    filter: fn(u64) -> Filter,
}

impl Shape {
    fn query(&self, n: u64) -> Query {
        Query { filter: (self.filter)(n), order: self.order, limit: 50, after: None }
    }
}

fn incidents() -> Filter {
    Filter { kind: Some(RowKind::Incident), ..Filter::default() }
}

fn open() -> Filter {
    Filter { open: Some(true), ..incidents() }
}

/// The shapes measured.
fn shapes() -> Vec<Shape> {
    vec![
        // One index probe that finds nothing: what any query costs here at least.
        Shape {
            name: "floor: nobody's incidents",
            runs: 300,
            order: Order::Newest,
            filter: |n| Filter { requester: Some(person(&format!("nobody-{n}"))), ..incidents() },
        },
        Shape {
            name: "team queue",
            runs: 300,
            order: Order::Queue,
            filter: |n| Filter { team: Some(team(TEAMS[n as usize % 12].0)), ..open() },
        },
        Shape {
            name: "agent queue",
            runs: 300,
            order: Order::Queue,
            filter: |n| Filter { agent: Some(person(&format!("agent-{:02}", n % 80))), ..open() },
        },
        Shape {
            name: "tier queue",
            runs: 300,
            order: Order::Queue,
            filter: |n| Filter { tier: Some(Tier::ALL[n as usize % 5]), ..open() },
        },
        Shape {
            name: "at risk (30 min)",
            runs: 300,
            order: Order::Queue,
            filter: |n| Filter { at_risk_before: Some(at(30 + (n % 10) as i64)), ..incidents() },
        },
        Shape {
            name: "at risk, by due",
            runs: 300,
            order: Order::Due,
            filter: |n| Filter { at_risk_before: Some(at(30 + (n % 10) as i64)), ..incidents() },
        },
        Shape {
            name: "open past SLA",
            runs: 300,
            order: Order::Queue,
            filter: |_| Filter { breached: Some(true), ..incidents() },
        },
        Shape {
            name: "by requester",
            runs: 300,
            order: Order::Newest,
            filter: |n| Filter {
                requester: Some(person(&format!("emp-{:05}", n * 37 % 5000))),
                ..incidents()
            },
        },
        Shape {
            name: "by CI",
            runs: 300,
            order: Order::Newest,
            filter: |n| Filter { ci: Some(asset((n * 101 % 20_000) as u32 + 1)), ..incidents() },
        },
        Shape {
            name: "text: host name",
            runs: 300,
            order: Order::Newest,
            filter: |n| Filter {
                text: Some(format!("ws-{:05}", n * 7919 % 50_000)),
                ..incidents()
            },
        },
        Shape {
            name: "open text: one word",
            runs: 300,
            order: Order::Queue,
            filter: |n| Filter { text: Some(OBJECTS[n as usize % 16].to_owned()), ..open() },
        },
        Shape {
            name: "text: 5 common words",
            runs: 300,
            order: Order::Newest,
            filter: |n| Filter {
                text: Some(format!("{} {}", OBJECTS[n as usize % 16], SITES[n as usize % 6])),
                ..incidents()
            },
        },
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs every shape (and its next page) its number of times, after one untimed pass over the same
/// parameters so that the pages they read are in memory; returns the report lines.
fn measure(rt: &Runtime, adapter: &str, size: u32, store: &Arc<dyn Store>) -> String {
    let mut report = String::new();
    for shape in shapes() {
        let name = shape.name;
        for n in 0..shape.runs {
            let page = rt.block_on(store.query(&shape.query(n))).expect("query");
            if let Some(cursor) = page.next {
                let next = Query { after: Some(cursor), ..shape.query(n) };
                rt.block_on(store.query(&next)).expect("next page");
            }
        }
        let mut first = Vec::new();
        let mut next = Vec::new();
        let mut rows = 0;
        for n in 0..shape.runs {
            let query = shape.query(n);
            let started = Instant::now();
            let page = rt.block_on(store.query(&query)).expect("query");
            first.push(started.elapsed());
            rows += page.rows.len();
            if let Some(cursor) = page.next {
                let query = Query { after: Some(cursor), ..query };
                let started = Instant::now();
                rt.block_on(store.query(&query)).expect("next page");
                next.push(started.elapsed());
            }
        }
        for (label, mut times) in [(name.to_owned(), first), (format!("{name}, next page"), next)] {
            if times.is_empty() {
                continue;
            }
            times.sort();
            let line = format!(
                "{adapter:<10} {size:>9} {label:<30} p50 {:>8.2?} p99 {:>8.2?} ({} runs, {:.1} rows/page)",
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                times.len(),
                rows as f64 / shape.runs as f64,
            );
            println!("{line}");
            writeln!(report, "{line}").unwrap();
        }
    }
    report
}

/// A busy loop at the lowest priority, in a process of its own, while it lives.
///
/// On a virtual machine an idle processor halts, and waking it again takes the host a
/// millisecond or more. A query to PostgreSQL wakes two processes (the server, then the
/// client), so a tenth or more of its runs pay that on an otherwise idle machine, and the
/// floor shape's p99 shows it. A busy machine, or one whose processors never halt, does not.
/// Set `DESK_BENCH_AWAKE=1` to measure that way as well; the busy loop takes only time that
/// nothing else wants.
struct Awake(std::process::Child);

impl Awake {
    fn start() -> Awake {
        let child = std::process::Command::new("nice")
            .args(["-n", "19", "sh", "-c", "while :; do :; done"])
            .spawn()
            .expect("nice and sh start a busy loop");
        Awake(child)
    }
}

impl Drop for Awake {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/desk-bench");
    std::fs::create_dir_all(&dir).expect("the benchmark directory");
    dir
}

fn main() {
    let rt = Runtime::new().expect("a runtime");
    let sizes: Vec<u32> = std::env::var("DESK_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".to_owned())
        .split(',')
        .map(|size| size.trim().parse().expect("sizes are numbers"))
        .collect();
    let adapters =
        std::env::var("DESK_BENCH_ADAPTERS").unwrap_or_else(|_| "sqlite,postgres".into());
    let postgres = std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty() && adapters.contains("postgres"));
    if postgres.is_none() {
        println!("{POSTGRES_URL_VAR} is not set: measuring SQLite only");
    }

    let mut stores: Vec<(String, u32, Arc<dyn Store>)> = Vec::new();
    for &size in &sizes {
        if adapters.contains("sqlite") {
            let path = bench_dir().join(format!("incidents-{size}.sqlite"));
            let sqlite: Arc<dyn Store> =
                Arc::new(rt.block_on(SqliteStore::open(&path)).expect("SQLite opens"));
            rt.block_on(populate(sqlite.as_ref(), size));
            stores.push(("sqlite".to_owned(), size, sqlite));
        }
        if let Some(url) = &postgres {
            let started = Instant::now();
            let pg = rt
                .block_on(PostgresStore::connect(url, &format!("bench_{size}")))
                .expect("PostgreSQL connects");
            // Connecting applies any new migration to the stored desk, which can take minutes.
            println!("connected to bench_{size} in {:.1?}", started.elapsed());
            rt.block_on(populate(&pg, size));
            rt.block_on(pg.vacuum()).expect("tables are vacuumed");
            stores.push(("postgres".to_owned(), size, Arc::new(pg)));
        }
    }

    let mut report = String::new();
    let awake = std::env::var_os("DESK_BENCH_AWAKE").is_some().then(Awake::start);
    if awake.is_some() {
        writeln!(report, "(a low-priority busy loop keeps a processor awake)").unwrap();
        println!("(a low-priority busy loop keeps a processor awake)");
    }
    for (adapter, size, store) in &stores {
        report.push_str(&measure(&rt, adapter, *size, store));
    }
    drop(awake);
    let file = bench_dir().join(format!("queries-{}.txt", adapters.replace(',', "-")));
    std::fs::write(file, report).expect("the report is written");

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    for (adapter, size, store) in &stores {
        let mut group = criterion.benchmark_group(format!("{adapter}/{size}"));
        for shape in shapes() {
            let mut n = 0;
            group.bench_function(shape.name, |b| {
                b.iter(|| {
                    n += 1;
                    rt.block_on(store.query(&shape.query(n))).expect("query")
                })
            });
        }
        group.finish();
    }
    criterion.final_summary();
}
