//! SLA engine benchmarks: every clock of the council policy on a busy incident.
//!
//! Run with `cargo bench -p desk-benches --bench sla`. The target (median): all five clocks of
//! an incident with 50 events (assignments, escalations, holds across a weekend, a priority
//! change, customer updates, a reopen) in at most 5 µs.

// `criterion_group!` defines an undocumented public function; a benchmark that cannot build its
// fixture has nothing to measure and stops.
#![allow(missing_docs, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use desk_benches::{busy_incident, council};
use desk_core::sla::{self, Summary};

fn evaluate(c: &mut Criterion) {
    let (calendars, policy) = council().unwrap_or_else(|e| panic!("{e}"));
    let (history, now) = busy_incident().unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("sla");
    group.bench_function("evaluate/council/50-events", |b| {
        b.iter(|| {
            sla::evaluate(black_box(&history), black_box(&policy), &calendars, black_box(now))
        })
    });
    group.bench_function("evaluate/council/5-events", |b| {
        b.iter(|| {
            sla::evaluate(black_box(&history[..5]), black_box(&policy), &calendars, black_box(now))
        })
    });
    let clocks =
        sla::evaluate(&history, &policy, &calendars, now).unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("summary-and-next-wake", |b| {
        b.iter(|| (Summary::of(black_box(&clocks)), sla::next_wake(black_box(&clocks))))
    });
    let resolution = "resolution".parse().unwrap_or_else(|e| panic!("{e}"));
    group.bench_function("explain/resolution/50-events", |b| {
        b.iter(|| sla::explain(black_box(&history), &policy, &calendars, &resolution, now))
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
