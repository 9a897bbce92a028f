//! Business-calendar benchmarks: due instants and elapsed business time.
//!
//! Run with `cargo bench -p desk-benches --bench calendar`. The targets (median): due for 4 and
//! for 4,000 business hours on core hours ≤ 0.2 µs each, and the long one ≤ 2× the short one,
//! since the cost must not grow with the target's length.

// `criterion_group!` defines an undocumented public function; a benchmark that cannot load its
// fixture has nothing to measure and stops.
#![allow(missing_docs, clippy::panic)]

use std::hint::black_box;

use chrono::TimeDelta;
use criterion::{Criterion, criterion_group, criterion_main};
use desk_benches::{CORE_HOURS, ROUND_THE_CLOCK};
use desk_core::Timestamp;
use desk_core::calendar::BusinessCalendar;

fn load(file: &str, text: &str) -> BusinessCalendar {
    match BusinessCalendar::from_toml(file, text) {
        Ok(calendar) => calendar,
        Err(error) => panic!("{error}"),
    }
}

fn instant(text: &str) -> Timestamp {
    match text.parse() {
        Ok(at) => at,
        Err(error) => panic!("{text}: {error}"),
    }
}

fn due(c: &mut Criterion) {
    let core = load("core-hours.toml", CORE_HOURS);
    let always = load("24x7.toml", ROUND_THE_CLOCK);
    // A Tuesday morning in BST, inside working hours
    let start = instant("2026-06-16T09:12:34Z");
    let mut group = c.benchmark_group("calendar/due");
    for (name, calendar, hours) in [
        ("core-hours/4h", &core, 4),
        ("core-hours/4000h", &core, 4_000),
        ("24x7/4h", &always, 4),
        ("24x7/4000h", &always, 4_000),
    ] {
        let target = TimeDelta::hours(hours);
        group.bench_function(name, |b| {
            b.iter(|| black_box(calendar).due(black_box(start), black_box(target)))
        });
    }
    // A start on a Saturday night counts from Monday's opening
    let weekend = instant("2026-06-20T23:00:00Z");
    group.bench_function("core-hours/4h-from-weekend", |b| {
        b.iter(|| black_box(&core).due(black_box(weekend), black_box(TimeDelta::hours(4))))
    });
    // Outside the compiled years, the year is compiled for each question: exact, slower
    let far = instant("2150-06-16T09:12:34Z");
    group.bench_function("core-hours/4h-in-2150-uncompiled", |b| {
        b.iter(|| black_box(&core).due(black_box(far), black_box(TimeDelta::hours(4))))
    });
    group.finish();
}

fn elapsed(c: &mut Criterion) {
    let core = load("core-hours.toml", CORE_HOURS);
    let (from, week, years) = (
        instant("2026-06-16T09:12:34Z"),
        instant("2026-06-23T11:00:00Z"),
        instant("2028-02-01T15:00:00Z"),
    );
    let mut group = c.benchmark_group("calendar/elapsed");
    group.bench_function("core-hours/a-week", |b| {
        b.iter(|| black_box(&core).elapsed(black_box(from), black_box(week)))
    });
    group.bench_function("core-hours/two-years", |b| {
        b.iter(|| black_box(&core).elapsed(black_box(from), black_box(years)))
    });
    group.finish();
}

fn compile(c: &mut Criterion) {
    c.bench_function("calendar/load-core-hours-1995-2100", |b| {
        b.iter(|| load("core-hours.toml", black_box(CORE_HOURS)))
    });
}

criterion_group!(benches, due, elapsed, compile);
criterion_main!(benches);
