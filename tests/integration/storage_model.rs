//! The model test: random sequences of store operations, including closing and reopening the
//! store, run on SQLite and on PostgreSQL and, in step, on the in-memory reference
//! (`desk_memory::MemoryStore`). After every operation both must have answered the same: the
//! same rows, pages, cursors, histories (with global positions), outbox claims and errors.
//!
//! Operations act on a small pool of records so that they collide often: stale and future
//! versions, records created twice, holds on records being deleted, redactions renaming a
//! requester onto an id that exists.

use std::num::NonZeroU32;

use desk::store::{
    Append, Commit, Delivery, Filter, LegalHold, Order, Query, RecordRow, Redaction, RowKind,
    SlaRow, Store, StoreError,
};
use desk_core::id::{RecordId, RecordKind, Reference};
use desk_core::priority::Priority;
use desk_core::record::Actor;
use desk_core::tier::Tier;
use desk_memory::MemoryStore;
use desk_tests::{Backend, Harness, asset, at, events, id, message, person, row, team, tip};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::json;

const RECORDS: [&str; 6] =
    ["INC-000001", "INC-000002", "INC-000003", "REQ-000001", "requester:k.lee", "requester:anon-1"];
const PEOPLE: [&str; 3] = ["k.lee", "m.jones", "a.khan"];
const TEAMS: [&str; 2] = ["service-desk", "networks"];
const STATUSES: [&str; 3] = ["new", "in_progress", "closed"];
const WORDS: [&str; 6] = ["Printer", "VPN", "jam", "13.2", "floor", "la"];
/// What searches ask: the words rows have, and prefixes of words in titles and bodies.
const SEARCH_WORDS: [&str; 8] = ["Printer", "VPN", "jam", "13.2", "floor", "la", "print", "laser"];

fn record(n: u8) -> RecordId {
    id(RECORDS[n as usize % RECORDS.len()])
}

/// The fields of a row, drawn from small sets.
#[derive(Debug, Clone)]
struct RowSpec {
    status: u8,
    open: bool,
    team: Option<u8>,
    tier: Option<u8>,
    agent: Option<u8>,
    priority: Option<u8>,
    requester: Option<u8>,
    due: Option<i16>,
    warned: bool,
    breached: Option<i16>,
    closed: Option<i16>,
    wake: Option<i16>,
    words: u8,
    cis: Vec<u8>,
    created: i16,
    updated: i16,
}

#[derive(Debug, Clone)]
struct FilterSpec {
    kind: Option<u8>,
    open: Option<bool>,
    statuses: Vec<u8>,
    team: Option<u8>,
    tier: Option<u8>,
    agent: Option<u8>,
    requester: Option<u8>,
    ci: Option<u8>,
    text: Option<u8>,
    at_risk: Option<i16>,
    breached: Option<bool>,
}

#[derive(Debug, Clone)]
enum Op {
    LastAllocated(u8),
    /// `claim` is a kind and a skew from the next free number (0 claims it, below 0 a taken
    /// one, above 0 one further on).
    Commit {
        appends: Vec<(u8, i8, u8)>,
        rows: Vec<(u8, RowSpec)>,
        outbox: Vec<(u8, u8)>,
        claim: Option<(u8, i8)>,
    },
    Query {
        filter: FilterSpec,
        order: u8,
        limit: u8,
        pages: u8,
    },
    History(u8),
    Row(u8),
    EventsAfter(u8, u8),
    NextWake,
    Due(i16, u8),
    Claim(i16, u8, u8),
    Settle(u8, u8, i16),
    DeadLetters(u8),
    Mentioning(u8),
    /// `seqs` picks events by bit: bits 0 to 2 pick existing events (if any), bit 3 the
    /// event after the last (which does not exist).
    Redact {
        record: u8,
        seqs: u8,
        rename: Option<u8>,
        skew: i8,
        row: RowSpec,
    },
    ClosedBefore(u8, i16, u8),
    Delete(u8),
    PlaceHold(u8),
    ReleaseHold(u8),
    Hold(u8),
    Reopen,
}

/// Minutes from `at(0)`, on a coarse grid so that instants often coincide and boundaries
/// (due exactly at the at-risk instant, a lease ending exactly now) are exercised.
fn minutes() -> impl Strategy<Value = i16> {
    (-1i16..5).prop_map(|n| n * 30)
}

fn row_spec() -> impl Strategy<Value = RowSpec> {
    (
        (0u8..3, any::<bool>(), proptest::option::of(0u8..2), proptest::option::of(0u8..5)),
        (proptest::option::of(0u8..3), proptest::option::of(1u8..5), proptest::option::of(0u8..3)),
        (
            proptest::option::weighted(0.7, minutes()),
            any::<bool>(),
            proptest::option::of(minutes()),
        ),
        (proptest::option::of(minutes()), proptest::option::of(minutes()), any::<u8>()),
        (vec(0u8..3, 0..3), minutes(), minutes()),
    )
        .prop_map(
            |(
                (status, open, team, tier),
                (agent, priority, requester),
                (due, warned, breached),
                (closed, wake, words),
                (cis, created, updated),
            )| RowSpec {
                status,
                open,
                team,
                tier,
                agent,
                priority,
                requester,
                due,
                warned,
                breached,
                closed,
                wake,
                words,
                cis,
                created,
                updated,
            },
        )
}

/// A filter that narrows by a few fields at a time, so that pages are seldom empty.
fn filter_spec() -> impl Strategy<Value = FilterSpec> {
    fn some<T: std::fmt::Debug>(
        values: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = Option<T>> {
        proptest::option::weighted(0.12, values)
    }
    (
        (some(0u8..9), some(any::<bool>()), prop_oneof![4 => Just(vec![]), 1 => vec(0u8..3, 1..3)]),
        (some(0u8..2), some(0u8..5), some(0u8..3)),
        (some(0u8..3), some(0u8..3), some(any::<u8>())),
        (proptest::option::weighted(0.3, minutes()), some(any::<bool>())),
    )
        .prop_map(
            |(
                (kind, open, statuses),
                (team, tier, agent),
                (requester, ci, text),
                (at_risk, breached),
            )| {
                FilterSpec {
                    kind,
                    open,
                    statuses,
                    team,
                    tier,
                    agent,
                    requester,
                    ci,
                    text,
                    at_risk,
                    breached,
                }
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let index = || 0u8..RECORDS.len() as u8;
    prop_oneof![
        1 => (0u8..7).prop_map(Op::LastAllocated),
        8 => (
            vec((index(), prop_oneof![4 => Just(0i8), 1 => -1i8..=1], 0u8..3), 0..3),
            vec((index(), row_spec()), 0..4),
            vec((0u8..6, index()), 0..3),
            proptest::option::of((0u8..3, prop_oneof![3 => Just(0i8), 1 => -2i8..=1])),
        )
            .prop_map(|(appends, rows, outbox, claim)| Op::Commit { appends, rows, outbox, claim }),
        4 => (filter_spec(), 0u8..4, prop_oneof![1 => Just(0u8), 9 => 1u8..6], 1u8..4)
            .prop_map(|(filter, order, limit, pages)| Op::Query { filter, order, limit, pages }),
        1 => index().prop_map(Op::History),
        1 => index().prop_map(Op::Row),
        1 => (0u8..12, 0u8..6).prop_map(|(after, limit)| Op::EventsAfter(after, limit)),
        1 => Just(Op::NextWake),
        1 => (minutes(), 0u8..5).prop_map(|(now, limit)| Op::Due(now, limit)),
        3 => (minutes(), (0u8..3).prop_map(|n| n * 30), 0u8..4)
            .prop_map(|(now, lease, limit)| Op::Claim(now, lease, limit)),
        2 => (0u8..6, 0u8..3, minutes()).prop_map(|(key, outcome, now)| Op::Settle(key, outcome, now)),
        1 => (0u8..4).prop_map(Op::DeadLetters),
        1 => (0u8..3).prop_map(Op::Mentioning),
        2 => (index(), prop_oneof![6 => 0u8..8, 1 => 8u8..16], proptest::option::weighted(0.2, index()), prop_oneof![3 => Just(0i8), 1 => Just(-1i8)], row_spec())
            .prop_map(|(record, seqs, rename, skew, row)| Op::Redact { record, seqs, rename, skew, row }),
        1 => (0u8..9, minutes(), 0u8..4).prop_map(|(kind, cutoff, limit)| Op::ClosedBefore(kind, cutoff, limit)),
        1 => index().prop_map(Op::Delete),
        1 => index().prop_map(Op::PlaceHold),
        1 => index().prop_map(Op::ReleaseHold),
        1 => index().prop_map(Op::Hold),
        1 => Just(Op::Reopen),
    ]
}

fn build_row(record: &RecordId, version: u64, spec: &RowSpec) -> RecordRow {
    let mut row = row(record, version);
    row.status = STATUSES[spec.status as usize].to_owned();
    row.open = spec.open;
    row.team = spec.team.map(|t| team(TEAMS[t as usize]));
    row.tier = spec.tier.map(|t| Tier::ALL[t as usize]);
    row.agent = spec.agent.map(|p| person(PEOPLE[p as usize]));
    row.priority = spec.priority.and_then(Priority::new);
    row.requester = spec.requester.map(|p| person(PEOPLE[p as usize]));
    row.people = row.requester.iter().chain(&row.agent).cloned().collect();
    row.cis = spec.cis.iter().map(|n| asset(u32::from(*n) + 1)).collect();
    row.title = WORDS
        .iter()
        .enumerate()
        .filter(|(n, _)| spec.words & (1 << n) != 0)
        .map(|(_, w)| *w)
        .collect::<Vec<_>>()
        .join(" ");
    row.body = if spec.words & 0x40 != 0 { "Laserjet on FLOOR 2".into() } else { String::new() };
    row.sla = SlaRow {
        due_at: spec.due.map(|m| at(m.into())),
        warning_at: None,
        warned: spec.warned,
        breached_at: spec.breached.map(|m| at(m.into())),
    };
    row.closed_at = spec.closed.map(|m| at(m.into()));
    row.wake_at = spec.wake.map(|m| at(m.into()));
    row.created_at = at(spec.created.into());
    row.updated_at = at(spec.updated.into());
    row
}

fn build_filter(spec: &FilterSpec) -> Filter {
    Filter {
        kind: spec.kind.map(|k| RowKind::ALL[k as usize]),
        open: spec.open,
        statuses: spec.statuses.iter().map(|s| STATUSES[*s as usize].to_owned()).collect(),
        team: spec.team.map(|t| team(TEAMS[t as usize])),
        tier: spec.tier.map(|t| Tier::ALL[t as usize]),
        agent: spec.agent.map(|p| person(PEOPLE[p as usize])),
        requester: spec.requester.map(|p| person(PEOPLE[p as usize])),
        ci: spec.ci.map(|n| asset(u32::from(n) + 1)),
        text: spec.text.map(|bits| {
            let words = SEARCH_WORDS.iter().enumerate().filter(|(n, _)| bits & (1 << n) != 0);
            words.map(|(_, w)| w.to_uppercase()).collect::<Vec<_>>().join(" ")
        }),
        at_risk_before: spec.at_risk.map(|m| at(m.into())),
        breached: spec.breached,
    }
}

/// What an operation answered, in a form two stores can be compared by.
fn outcome<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(StoreError::Backend(error)) => format!("backend error {error}"),
        Err(error) => format!("error {error}"),
    }
}

/// Runs `op` on `store`; the reference's state (`model`) decides versions and hashes to use.
async fn run(op: &Op, store: &dyn Store, model: &MemoryStore) -> String {
    match op {
        Op::LastAllocated(kind) => {
            outcome(store.last_allocated(RecordKind::ALL[*kind as usize]).await)
        }
        Op::Commit { appends, rows, outbox, claim } => {
            let mut commit = Commit::default();
            if let Some((kind, skew)) = claim {
                let kind = RecordKind::ALL[*kind as usize];
                let next = i64::from(model.last_allocated(kind).await.unwrap()) + 1;
                let number = u32::try_from(next + i64::from(*skew)).ok().and_then(NonZeroU32::new);
                commit.claim = number.map(|number| Reference::new(kind, number));
            }
            let mut versions = Vec::new();
            for (n, skew, count) in appends {
                let record = record(*n);
                let (version, prev) = tip(&model.history(&record).await.unwrap());
                let expected = version.saturating_add_signed(i64::from(*skew));
                let events = events(&record, expected, prev, u64::from(*count));
                versions.push((record.clone(), expected + u64::from(*count)));
                commit.appends.push(Append { record, expected_version: expected, events });
            }
            for (n, spec) in rows {
                let record = record(*n);
                let version = match versions.iter().rev().find(|(r, _)| *r == record) {
                    Some((_, version)) => *version,
                    None => tip(&model.history(&record).await.unwrap()).0,
                };
                commit.rows.push(build_row(&record, version, spec));
            }
            for (key, n) in outbox {
                commit.outbox.push(message(&format!("key-{key}"), &record(*n)));
            }
            outcome(store.commit(commit).await)
        }
        Op::Query { filter, order, limit, pages } => {
            let order = [Order::Queue, Order::Due, Order::Newest, Order::Updated][*order as usize];
            let mut query = Query {
                filter: build_filter(filter),
                order,
                limit: u32::from(*limit),
                after: None,
            };
            let mut answers = Vec::new();
            for _ in 0..*pages {
                match store.query(&query).await {
                    Ok(page) => {
                        answers.push(format!("{page:?}"));
                        match page.next {
                            Some(next) => query.after = Some(next),
                            None => break,
                        }
                    }
                    Err(error) => {
                        answers.push(outcome::<()>(Err(error)));
                        break;
                    }
                }
            }
            answers.join("\n")
        }
        Op::History(n) => outcome(store.history(&record(*n)).await),
        Op::Row(n) => outcome(store.row(&record(*n)).await),
        Op::EventsAfter(after, limit) => {
            outcome(store.events_after(u64::from(*after), u32::from(*limit)).await)
        }
        Op::NextWake => outcome(store.next_wake().await),
        Op::Due(now, limit) => outcome(store.due(at((*now).into()), u32::from(*limit)).await),
        Op::Claim(now, lease, limit) => {
            let now = i64::from(*now);
            outcome(
                store.claim_outbox(at(now), at(now + i64::from(*lease)), u32::from(*limit)).await,
            )
        }
        Op::Settle(key, kind, now) => {
            let delivery = match kind {
                0 => Delivery::Delivered,
                1 => Delivery::Retry { error: "busy".into(), retry_at: at(i64::from(*now) + 10) },
                _ => Delivery::Dead { error: "no such mailbox".into() },
            };
            outcome(store.settle_outbox(&format!("key-{key}"), delivery, at((*now).into())).await)
        }
        Op::DeadLetters(limit) => outcome(store.dead_letters(u32::from(*limit)).await),
        Op::Mentioning(n) => outcome(store.mentioning(&person(PEOPLE[*n as usize])).await),
        Op::Redact { record: n, seqs, rename, skew, row } => {
            let record = record(*n);
            let history = model.history(&record).await.unwrap();
            let version = tip(&history).0.saturating_add_signed(i64::from(*skew));
            let mut picked: Vec<u64> = (0u64..3)
                .filter(|n| seqs & (1 << n) != 0 && !history.is_empty())
                .map(|n| n % history.len() as u64 + 1)
                .collect();
            picked.sort_unstable();
            picked.dedup();
            if seqs & 8 != 0 {
                picked.push(history.len() as u64 + 1);
            }
            let events = picked
                .into_iter()
                .map(|seq| {
                    let mut event = history
                        .get(seq as usize - 1)
                        .map(|stored| stored.event.clone())
                        .unwrap_or_else(|| events(&record, 0, Default::default(), 1).remove(0));
                    event.payload = json!({"type": "work_noted", "text": "[redacted]"});
                    event.actor = Actor::Agent(person("anon-9"));
                    event.seq = seq;
                    event
                })
                .collect();
            let rename = rename.map(self::record);
            let target = rename.clone().unwrap_or_else(|| record.clone());
            let row = build_row(&target, version, row);
            outcome(store.redact(Redaction { record, events, row, rename }).await)
        }
        Op::ClosedBefore(kind, cutoff, limit) => outcome(
            store
                .closed_before(
                    RowKind::ALL[*kind as usize],
                    at((*cutoff).into()),
                    u32::from(*limit),
                )
                .await,
        ),
        Op::Delete(n) => outcome(store.delete(&record(*n)).await),
        Op::PlaceHold(n) => outcome(
            store
                .place_hold(LegalHold {
                    record: record(*n),
                    reason: "tribunal".into(),
                    placed_by: Actor::System,
                    placed_at: at(0),
                })
                .await,
        ),
        Op::ReleaseHold(n) => outcome(store.release_hold(&record(*n)).await),
        Op::Hold(n) => outcome(store.hold(&record(*n)).await),
        Op::Reopen => "reopened".to_owned(),
    }
}

async fn check(backend: Backend, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let model = MemoryStore::new();
    let mut harness = Harness::open(backend, "model").await;
    for (n, op) in ops.iter().enumerate() {
        if matches!(op, Op::Reopen) {
            harness.reopen().await;
            continue;
        }
        // Decide the inputs from the reference before either store changes.
        let actual = run(op, harness.store(), &model).await;
        let expected = run(op, &model, &model).await;
        prop_assert_eq!(actual, expected, "operation {} of {}: {:?}", n + 1, ops.len(), op);
    }
    harness.finish().await;
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_answers_like_the_reference(ops in vec(op(), 1..40)) {
        runtime().block_on(check(Backend::Sqlite, ops))?;
    }

    #[test]
    fn postgres_answers_like_the_reference(ops in vec(op(), 1..40)) {
        runtime().block_on(check(Backend::Postgres, ops))?;
    }
}
