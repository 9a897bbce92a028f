//! Impact analysis and change collision detection on a council-sized CMDB.
//!
//! Run with `cargo bench -p desk-benches --bench cmdb`. Targets: impact analysis on a
//! 100,000-CI graph with 300,000 relationships within 20 ms; checking one change against 10,000
//! scheduled changes within 1 ms.
//!
//! The graph is shaped like a large council's estate (numbers fixed, choices from a seeded
//! generator, so every run measures the same graph):
//!
//! | CIs | what | relationships |
//! |---|---|---|
//! | 10 | core switches | each `connected_to` the next (a ring: a cycle) |
//! | 90 | distribution switches | each `connected_to` two cores |
//! | 1,400 | access switches | each `connected_to` a distribution switch |
//! | 500 | virtualisation hosts | each `connected_to` two access switches |
//! | 2,500 | virtual servers | each `runs_on` a host |
//! | 200 | platform applications (databases, integration) | each `runs_on` a server and is `used_by` a technical service |
//! | 4,800 | line-of-business applications | each `runs_on` a server, is `used_by` a business service and `depends_on` a platform |
//! | 50 | technical services (directory, email, DNS, file, print…) | each `depends_on` another technical service (cycles, as directory and DNS have) |
//! | 450 | business services (council tax, housing, social care…) | each `depends_on` two technical services |
//! | 90,000 | desktops, laptops, thin clients, printers, phones, mobiles | each `connected_to` an access switch and `depends_on` two or three services |
//!
//! That is 100,000 CIs and exactly 300,000 relationships. A core switch failing affects every
//! other CI (the worst case); a virtual server failing affects its applications, their services
//! and every device that depends on those services. A uniformly random graph of the same size
//! (one giant cycle-rich component) is measured too.
//!
//! The schedule holds 10,000 changes over a year: each window starts at a random hour and lasts
//! 1 to 8 hours, and touches 1 to 3 CIs drawn mostly from servers, applications and network kit.
//! The change checked is a virtual server and an application on it, in the busiest 4-hour
//! evening window of two months (a dozen or so scheduled windows overlap it); three of the
//! overlapping changes are made to clash: one on the server's host, one on the service the
//! application serves, one on the server itself. The same window on a core switch (which every
//! overlapping change is related to) is measured too, and so is the first change against the
//! random graph, where every CI reaches most others and the per-target searches give way to one
//! search over the whole graph (the linear worst case).

// Setting up a benchmark may panic: a broken fixture should stop the run, not be measured.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use chrono::{DateTime, Duration};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use desk_core::asset::{Class, Cmdb, Relation, Relationship};
use desk_core::change::{Booking, Window, collisions};
use desk_core::id::{AssetRef, ChangeRef};

const CIS: u32 = 100_000;
const RELATIONS: usize = 300_000;

/// First CI number of each layer.
const CORE: u32 = 1;
const DISTRIBUTION: u32 = 11;
const ACCESS: u32 = 101;
const HOSTS: u32 = 1_501;
const SERVERS: u32 = 2_001;
const APPLICATIONS: u32 = 4_501;
const PLATFORMS: u32 = 4_701;
const SERVICES: u32 = 9_501;
const BUSINESS: u32 = 9_551;
const DEVICES: u32 = 10_001;

/// A small deterministic generator (xorshift64*), so that every run measures the same graph.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `first..first + count`.
    fn pick(&mut self, first: u32, count: u32) -> u32 {
        first + (self.next() % u64::from(count)) as u32
    }
}

fn ast(n: u32) -> AssetRef {
    AssetRef::from_number(n).expect("CI numbers start at 1")
}

fn relation(source: u32, kind: Relationship, target: u32) -> Relation {
    Relation { source: ast(source), kind, target: ast(target) }
}

fn class_of(n: u32) -> Class {
    const DEVICE_CLASSES: [Class; 6] = [
        Class::Desktop,
        Class::Laptop,
        Class::ThinClient,
        Class::Printer,
        Class::Phone,
        Class::Mobile,
    ];
    match n {
        _ if n < HOSTS => Class::NetworkDevice,
        _ if n < APPLICATIONS => Class::Server,
        _ if n < SERVICES => Class::Software,
        _ if n < DEVICES => Class::Service,
        _ => DEVICE_CLASSES[(n % 6) as usize],
    }
}

/// The CIs and relationships of the council estate described in the module docs.
fn estate() -> (Vec<(AssetRef, Class)>, Vec<Relation>) {
    use Relationship::*;
    let mut rng = Seeded(0x5EED_C0DE_2026);
    let mut relations = Vec::with_capacity(RELATIONS);
    for core in CORE..DISTRIBUTION {
        let next = CORE + (core - CORE + 1) % (DISTRIBUTION - CORE);
        relations.push(relation(core, ConnectedTo, next));
    }
    for switch in DISTRIBUTION..ACCESS {
        let first = rng.pick(CORE, 10);
        relations.push(relation(switch, ConnectedTo, first));
        relations.push(relation(switch, ConnectedTo, CORE + (first - CORE + 1) % 10));
    }
    for switch in ACCESS..HOSTS {
        relations.push(relation(
            switch,
            ConnectedTo,
            rng.pick(DISTRIBUTION, ACCESS - DISTRIBUTION),
        ));
    }
    for host in HOSTS..SERVERS {
        let first = rng.pick(ACCESS, HOSTS - ACCESS - 1);
        relations.push(relation(host, ConnectedTo, first));
        relations.push(relation(host, ConnectedTo, first + 1));
    }
    for server in SERVERS..APPLICATIONS {
        relations.push(relation(server, RunsOn, rng.pick(HOSTS, SERVERS - HOSTS)));
    }
    for application in APPLICATIONS..SERVICES {
        relations.push(relation(application, RunsOn, rng.pick(SERVERS, APPLICATIONS - SERVERS)));
        if application < PLATFORMS {
            relations.push(relation(application, UsedBy, rng.pick(SERVICES, BUSINESS - SERVICES)));
        } else {
            relations.push(relation(application, UsedBy, rng.pick(BUSINESS, DEVICES - BUSINESS)));
            relations.push(relation(
                application,
                DependsOn,
                rng.pick(APPLICATIONS, PLATFORMS - APPLICATIONS),
            ));
        }
    }
    for service in SERVICES..BUSINESS {
        let other = rng.pick(SERVICES, BUSINESS - SERVICES - 1);
        relations.push(relation(
            service,
            DependsOn,
            if other >= service { other + 1 } else { other },
        ));
    }
    for service in BUSINESS..DEVICES {
        let first = rng.pick(SERVICES, BUSINESS - SERVICES - 1);
        relations.push(relation(service, DependsOn, first));
        relations.push(relation(service, DependsOn, rng.pick(first + 1, BUSINESS - first - 1)));
    }
    for device in DEVICES..=CIS {
        relations.push(relation(device, ConnectedTo, rng.pick(ACCESS, HOSTS - ACCESS)));
    }
    let mut device = DEVICES;
    let mut round = 0;
    while relations.len() < RELATIONS {
        // Round r gives every device its (r + 1)th service, distinct from the earlier ones.
        let service = SERVICES + (device * 7 + round * 167) % (DEVICES - SERVICES);
        relations.push(relation(device, DependsOn, service));
        device += 1;
        if device > CIS {
            device = DEVICES;
            round += 1;
        }
    }
    ((1..=CIS).map(|n| (ast(n), class_of(n))).collect(), relations)
}

/// The index of the council estate.
fn council() -> Cmdb {
    let (cis, relations) = estate();
    let cmdb = Cmdb::from_parts(cis, relations);
    assert_eq!((cmdb.len(), cmdb.relation_count()), (CIS as usize, RELATIONS), "the estate's size");
    cmdb
}

/// 100,000 CIs with 300,000 relationships between uniformly random pairs.
fn random_graph() -> Cmdb {
    let mut rng = Seeded(0xBAD_5EED);
    let mut relations = Vec::with_capacity(RELATIONS);
    while relations.len() < RELATIONS {
        let (source, target) = (rng.pick(1, CIS), rng.pick(1, CIS));
        let kind = Relationship::ALL[(rng.next() % 4) as usize];
        if source != target {
            relations.push(relation(source, kind, target));
        }
    }
    Cmdb::from_parts((1..=CIS).map(|n| (ast(n), Class::Server)), relations)
}

fn hours(start: i64, length: i64) -> Window {
    let zero = DateTime::UNIX_EPOCH;
    Window::new(zero + Duration::hours(start), zero + Duration::hours(start + length))
        .expect("lengths are positive")
}

/// A year of 10,000 scheduled changes, as described in the module docs.
fn schedule() -> Vec<Booking> {
    let mut rng = Seeded(0xC4A_46E5);
    (1..=10_000u32)
        .map(|n| {
            let start = i64::from(rng.pick(0, 365 * 24));
            let length = i64::from(rng.pick(1, 8));
            let cis = (0..rng.pick(1, 3))
                .map(|_| {
                    let ci = match rng.next() % 20 {
                        0..8 => rng.pick(APPLICATIONS, SERVICES - APPLICATIONS),
                        8..13 => rng.pick(HOSTS, APPLICATIONS - HOSTS),
                        13..16 => rng.pick(CORE, HOSTS - CORE),
                        16..18 => rng.pick(SERVICES, DEVICES - SERVICES),
                        _ => rng.pick(DEVICES, CIS + 1 - DEVICES),
                    };
                    ast(ci)
                })
                .collect();
            Booking {
                change: ChangeRef::from_number(n).expect("from 1"),
                window: hours(start, length),
                cis,
            }
        })
        .collect()
}

fn impact(c: &mut Criterion) {
    let council = council();
    let random = random_graph();
    let core = ast(CORE);
    let server = ast(SERVERS + 1_234);
    assert_eq!(council.impact(core).map(|i| i.affected.len()).ok(), Some(CIS as usize - 1));
    let mut group = c.benchmark_group("impact");
    group.bench_function("core switch fails (100k CIs, 300k relationships)", |b| {
        b.iter(|| council.impact(black_box(core)))
    });
    group.bench_function("virtual server fails (100k CIs, 300k relationships)", |b| {
        b.iter(|| council.impact(black_box(server)))
    });
    group.bench_function("random graph (100k CIs, 300k relationships)", |b| {
        b.iter(|| random.impact(black_box(ast(4_242))))
    });
    group.finish();
    let parts = estate();
    c.bench_function("build the index (100k CIs, 300k relationships)", |b| {
        b.iter_batched(
            || parts.clone(),
            |(cis, relations)| Cmdb::from_parts(cis, relations),
            BatchSize::LargeInput,
        )
    });
}

fn collision(c: &mut Criterion) {
    let council = council();
    let mut scheduled = schedule();
    // The busiest evening (18:00 to 22:00) of the middle two months of the year.
    let window = (150..210)
        .map(|day| hours(day * 24 + 18, 4))
        .max_by_key(|window| scheduled.iter().filter(|b| b.window.overlaps(window)).count())
        .expect("sixty evenings");
    // A virtual server and an application on it.
    let (server, application) = (SERVERS + 1_234..APPLICATIONS)
        .find_map(|server| {
            let impact = council.impact(ast(server)).ok()?;
            let hosted = impact.affected.iter().find(|a| a.via.kind == Relationship::RunsOn)?;
            Some((ast(server), hosted.ci))
        })
        .expect("some server hosts an application");
    let host = (HOSTS..SERVERS)
        .map(ast)
        .find(|&host| council.relation_path(server, host).is_some_and(|p| p.relations.len() == 1))
        .expect("the server runs on a host");
    let service = council.impact(application).ok().and_then(|i| i.services().next().map(|s| s.ci));
    let service = service.expect("the application is used by a service");
    // Other teams booked work on the same stack that evening: the host, the service, the server.
    let mut clashes = [vec![host], vec![service], vec![server]].into_iter();
    for booking in scheduled.iter_mut().filter(|b| b.window.overlaps(&window)) {
        match clashes.next() {
            Some(cis) => booking.cis = cis,
            None => break,
        }
    }
    let proposed = Booking {
        change: ChangeRef::from_number(10_001).expect("positive"),
        window,
        cis: vec![server, application],
    };
    let core = Booking { cis: vec![ast(CORE)], ..proposed.clone() };
    let overlapping = scheduled.iter().filter(|b| b.window.overlaps(&window)).count();
    assert!((8..40).contains(&overlapping), "{overlapping} overlapping windows");
    assert_eq!(collisions(&proposed, &scheduled, &council).len(), 3, "host, service and server");
    let mut group = c.benchmark_group("collision");
    group.bench_function("server change against 10k scheduled changes", |b| {
        b.iter(|| collisions(black_box(&proposed), &scheduled, &council))
    });
    group.bench_function("core switch change against 10k scheduled changes", |b| {
        b.iter(|| collisions(black_box(&core), &scheduled, &council))
    });
    let random = random_graph();
    group.bench_function("server change against 10k scheduled changes, random graph", |b| {
        b.iter(|| collisions(black_box(&proposed), &scheduled, &random))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = impact, collision
}
criterion_main!(benches);
