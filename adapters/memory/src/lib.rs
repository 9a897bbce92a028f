//! `desk-memory`: the desk's storage held in memory.
//!
//! [`MemoryStore`] implements [`Store`] with plain collections behind one lock, so every
//! operation is atomic and commits are serialised. It is the reference implementation: it
//! answers queries with [`desk::contract::page_of`], and the model tests compare the SQLite and
//! PostgreSQL adapters against it operation by operation. It is also the store for unit tests
//! and demonstrations; it keeps nothing when the process ends.
//!
//! A `MemoryStore` is a cheap handle: clones share the same data, so "closing" a store and
//! "reopening" it is dropping one handle and using a clone.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use desk::contract::{self, check_claim, check_commit, check_redaction, id_key, time_key};
use desk::store::{
    Commit, DeadLetter, Delivery, LegalHold, OutboxItem, OutboxMessage, Page, Query, RecordRow,
    Redaction, RowKind, Store, StoreError, StoredEvent,
};
use desk_core::Timestamp;
use desk_core::id::{PersonId, RecordId, RecordKind};

/// A store in memory. Clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every operation checks before it changes anything, so a panic elsewhere cannot
        // leave the data half-written: a poisoned lock is safe to take over.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Default)]
struct State {
    allocated: BTreeMap<RecordKind, u32>,
    histories: BTreeMap<RecordId, Vec<StoredEvent>>,
    rows: BTreeMap<RecordId, RecordRow>,
    last_position: u64,
    /// Every message ever enqueued, in enqueue order.
    outbox: Vec<Entry>,
    holds: BTreeMap<RecordId, LegalHold>,
}

#[derive(Debug)]
struct Entry {
    message: OutboxMessage,
    attempts: u32,
    ready_at: Option<Timestamp>,
    lease_until: Option<Timestamp>,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    Waiting,
    Delivered,
    Dead { error: String, at: Timestamp },
}

impl State {
    fn version(&self, record: &RecordId) -> u64 {
        self.histories.get(record).and_then(|events| events.last()).map_or(0, |e| e.event.seq)
    }

    fn exists(&self, record: &RecordId) -> bool {
        self.histories.contains_key(record) || self.rows.contains_key(record)
    }

    fn check_no_hold(&self, record: &RecordId) -> Result<(), StoreError> {
        if self.holds.contains_key(record) {
            return Err(StoreError::OnHold(record.clone()));
        }
        if !self.exists(record) {
            return Err(StoreError::NotFound(record.clone()));
        }
        Ok(())
    }
}

/// Whether `at` is at or before `now`, comparing time keys as the SQL adapters do.
fn reached(at: Option<Timestamp>, now: Timestamp) -> bool {
    at.is_none_or(|at| time_key(at) <= time_key(now))
}

#[async_trait]
impl Store for MemoryStore {
    async fn last_allocated(&self, kind: RecordKind) -> Result<u32, StoreError> {
        Ok(self.state().allocated.get(&kind).copied().unwrap_or(0))
    }

    async fn history(&self, record: &RecordId) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.state().histories.get(record).cloned().unwrap_or_default())
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        check_commit(&commit)?;
        let mut state = self.state();
        if let Some(claim) = commit.claim {
            check_claim(claim, state.allocated.get(&claim.kind()).copied().unwrap_or(0))?;
        }
        let mut versions: BTreeMap<&RecordId, u64> = BTreeMap::new();
        for append in &commit.appends {
            let actual =
                *versions.entry(&append.record).or_insert_with(|| state.version(&append.record));
            if actual != append.expected_version {
                return Err(StoreError::Conflict {
                    record: append.record.clone(),
                    expected: append.expected_version,
                    actual,
                });
            }
            versions.insert(&append.record, actual + append.events.len() as u64);
        }
        if let Some(claim) = commit.claim {
            state.allocated.insert(claim.kind(), claim.number().get());
        }
        for append in commit.appends {
            for event in append.events {
                state.last_position += 1;
                let position = state.last_position;
                state
                    .histories
                    .entry(append.record.clone())
                    .or_default()
                    .push(StoredEvent { position, event });
            }
        }
        for row in commit.rows {
            state.rows.insert(row.id.clone(), row);
        }
        for message in commit.outbox {
            if !state.outbox.iter().any(|entry| entry.message.key == message.key) {
                state.outbox.push(Entry {
                    message,
                    attempts: 0,
                    ready_at: None,
                    lease_until: None,
                    outcome: Outcome::Waiting,
                });
            }
        }
        Ok(())
    }

    async fn row(&self, record: &RecordId) -> Result<Option<RecordRow>, StoreError> {
        Ok(self.state().rows.get(record).cloned())
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        contract::page_of(query, self.state().rows.values())
    }

    async fn events_after(
        &self,
        position: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let state = self.state();
        let mut events: Vec<&StoredEvent> = state
            .histories
            .values()
            .flatten()
            .filter(|stored| stored.position > position)
            .collect();
        events.sort_by_key(|stored| stored.position);
        Ok(events.into_iter().take(limit as usize).cloned().collect())
    }

    async fn next_wake(&self) -> Result<Option<Timestamp>, StoreError> {
        let state = self.state();
        let first = state
            .rows
            .values()
            .filter_map(|row| row.wake_at.map(|at| ((time_key(at), id_key(&row.id)), at)))
            .min_by(|a, b| a.0.cmp(&b.0));
        Ok(first.map(|(_, at)| at))
    }

    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<RecordId>, StoreError> {
        let state = self.state();
        let mut due: Vec<((i64, String), &RecordId)> = state
            .rows
            .values()
            .filter_map(|row| row.wake_at.map(|at| (time_key(at), row)))
            .filter(|(key, _)| *key <= time_key(now))
            .map(|(key, row)| ((key, id_key(&row.id)), &row.id))
            .collect();
        due.sort();
        Ok(due.into_iter().take(limit as usize).map(|(_, id)| id.clone()).collect())
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut state = self.state();
        let mut claimed = Vec::new();
        for entry in &mut state.outbox {
            if claimed.len() >= limit as usize {
                break;
            }
            let ready = matches!(entry.outcome, Outcome::Waiting)
                && reached(entry.ready_at, now)
                && reached(entry.lease_until, now);
            if ready {
                entry.attempts += 1;
                entry.lease_until = Some(lease_until);
                claimed
                    .push(OutboxItem { message: entry.message.clone(), attempts: entry.attempts });
            }
        }
        Ok(claimed)
    }

    async fn settle_outbox(
        &self,
        key: &str,
        delivery: Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let Some(entry) = state.outbox.iter_mut().find(|entry| entry.message.key == key) else {
            return Ok(());
        };
        if !matches!(entry.outcome, Outcome::Waiting) {
            return Ok(());
        }
        entry.lease_until = None;
        match delivery {
            Delivery::Delivered => entry.outcome = Outcome::Delivered,
            Delivery::Retry { retry_at, .. } => entry.ready_at = Some(retry_at),
            Delivery::Dead { error } => entry.outcome = Outcome::Dead { error, at: now },
        }
        Ok(())
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        let state = self.state();
        let mut dead: Vec<(i64, usize, DeadLetter)> = state
            .outbox
            .iter()
            .enumerate()
            .filter_map(|(n, entry)| match &entry.outcome {
                Outcome::Dead { error, at } => Some((
                    time_key(*at),
                    n,
                    DeadLetter {
                        message: entry.message.clone(),
                        attempts: entry.attempts,
                        error: error.clone(),
                        dead_at: *at,
                    },
                )),
                Outcome::Waiting | Outcome::Delivered => None,
            })
            .collect();
        dead.sort_by_key(|(key, n, _)| (*key, *n));
        Ok(dead.into_iter().take(limit as usize).map(|(_, _, letter)| letter).collect())
    }

    async fn mentioning(&self, person: &PersonId) -> Result<Vec<RecordId>, StoreError> {
        let state = self.state();
        let mut ids: Vec<&RecordId> = state
            .rows
            .values()
            .filter(|row| row.people.contains(person))
            .map(|row| &row.id)
            .collect();
        ids.sort_by_key(|id| id_key(id));
        Ok(ids.into_iter().cloned().collect())
    }

    async fn redact(&self, redaction: Redaction) -> Result<(), StoreError> {
        check_redaction(&redaction)?;
        let mut state = self.state();
        let record = &redaction.record;
        state.check_no_hold(record)?;
        contract::check_redaction_version(&redaction, state.version(record))?;
        let target = redaction.rename.clone().unwrap_or_else(|| record.clone());
        if &target != record && state.exists(&target) {
            return Err(StoreError::Invalid(format!(
                "{record} cannot be renamed to {target}, which exists"
            )));
        }
        let mut history = state.histories.remove(record).unwrap_or_default();
        for stored in &mut history {
            contract::redact_event(&mut stored.event, &redaction);
        }
        if !history.is_empty() {
            state.histories.insert(target.clone(), history);
        }
        state.rows.remove(record);
        state.rows.insert(target, redaction.row);
        Ok(())
    }

    async fn closed_before(
        &self,
        kind: RowKind,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<RecordId>, StoreError> {
        let state = self.state();
        let mut closed: Vec<((i64, String), &RecordId)> = state
            .rows
            .values()
            .filter(|row| row.kind == kind && !state.holds.contains_key(&row.id))
            .filter_map(|row| row.closed_at.map(|at| (time_key(at), row)))
            .filter(|(key, _)| *key < time_key(cutoff))
            .map(|(key, row)| ((key, id_key(&row.id)), &row.id))
            .collect();
        closed.sort();
        Ok(closed.into_iter().take(limit as usize).map(|(_, id)| id.clone()).collect())
    }

    async fn delete(&self, record: &RecordId) -> Result<(), StoreError> {
        let mut state = self.state();
        state.check_no_hold(record)?;
        state.histories.remove(record);
        state.rows.remove(record);
        state.outbox.retain(|entry| &entry.message.record != record);
        Ok(())
    }

    async fn place_hold(&self, hold: LegalHold) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.exists(&hold.record) {
            return Err(StoreError::NotFound(hold.record));
        }
        state.holds.insert(hold.record.clone(), hold);
        Ok(())
    }

    async fn release_hold(&self, record: &RecordId) -> Result<(), StoreError> {
        self.state().holds.remove(record);
        Ok(())
    }

    async fn hold(&self, record: &RecordId) -> Result<Option<LegalHold>, StoreError> {
        Ok(self.state().holds.get(record).cloned())
    }
}
