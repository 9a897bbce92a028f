//! What the `desk_*` tests share: a desk on the example council's configuration with a manual
//! clock, its people, and a store that can be told to fail.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use desk::clock::ManualClock;
use desk::store::{
    Commit, DeadLetter, Delivery, LegalHold, OutboxItem, Page, Query, RecordRow, Redaction,
    RowKind, Store, StoreError, StoredEvent,
};
use desk::{Desk, OpenIncident};
use desk_core::calendar::Calendars;
use desk_core::channel::Channel;
use desk_core::id::{PersonId, RecordId, RecordKind};
use desk_core::people::requester::{self, Profile};
use desk_core::people::{Contact, VipKind, agent};
use desk_core::priority::{Impact, Urgency};
use desk_core::sla::Policy;
use desk_core::{Actor, DeskConfig, Timestamp};
use desk_memory::MemoryStore;

/// 09:00 on Monday 2 March 2026, when every desk test starts.
pub(crate) fn monday() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().expect("a valid instant")
}

pub(crate) fn person(id: &str) -> PersonId {
    id.parse().expect("a valid person id")
}

pub(crate) fn agent(id: &str) -> Actor {
    Actor::Agent(person(id))
}

/// A desk on `store` with the example configuration and a manual clock at [`monday`].
pub(crate) struct Fixture {
    pub(crate) desk: Desk,
    pub(crate) clock: ManualClock,
}

impl Fixture {
    /// A desk on a fresh in-memory store, with its people registered.
    pub(crate) async fn new() -> Fixture {
        Fixture::on(Arc::new(MemoryStore::new())).await
    }

    /// A desk on `store`, with its people registered.
    pub(crate) async fn on(store: Arc<dyn Store>) -> Fixture {
        let fixture = Fixture::bare(store);
        fixture.register_people().await;
        fixture
    }

    /// A desk on `store` and nothing else.
    pub(crate) fn bare(store: Arc<dyn Store>) -> Fixture {
        Fixture::configured(store, DeskConfig::example())
    }

    /// A desk on `store` with `config`.
    pub(crate) fn configured(store: Arc<dyn Store>, config: DeskConfig) -> Fixture {
        let clock = ManualClock::new(monday());
        let mut builder = Desk::builder(store).calendars(Calendars::example());
        // The example SLA policy names the example desk's teams; a desk configured otherwise
        // runs without clocks.
        if let Ok(policy) = Policy::example(&config) {
            builder = builder.sla_policy(policy);
        }
        let desk = builder
            .config(config)
            .clock(Arc::new(clock.clone()))
            .build()
            .expect("the example configuration is valid");
        Fixture { desk, clock }
    }

    /// Kim Lee (line manager Raj Shah), Raj Shah, Councillor Jo Brown (a VIP), and the agents
    /// Asha Patel (service desk) and Rhys Evans (desk-side, its lead).
    async fn register_people(&self) {
        let desk_admin = agent("s.khan");
        let requesters = [
            ("k.lee", "Kim Lee", "k.lee@example.gov.uk", "01632 960123", Some("r.shah"), None),
            ("r.shah", "Raj Shah", "r.shah@example.gov.uk", "01632 960200", None, None),
            (
                "cllr.brown",
                "Councillor Jo Brown",
                "jo.brown@example.gov.uk",
                "01632 960999",
                None,
                Some(VipKind::ElectedMember),
            ),
        ];
        for (id, name, email, phone, manager, vip) in requesters {
            let profile = Profile {
                line_manager: manager.map(person),
                ..Profile::new(contact(name, email, phone))
            };
            let command = requester::Command::Register { id: person(id), profile, vip };
            self.desk
                .execute_requester(&desk_admin, &person(id), command, Some(0))
                .await
                .expect("the requester registers");
        }
        let agents = [
            ("a.patel", "Asha Patel", "a.patel@example.gov.uk", "service-desk"),
            ("r.evans", "Rhys Evans", "r.evans@example.gov.uk", "desk-side"),
        ];
        for (id, name, email, team) in agents {
            let command = agent::Command::Onboard {
                id: person(id),
                contact: contact(name, email, "01632 960000"),
                teams: BTreeSet::from([team.parse().expect("a team")]),
                skills: BTreeSet::new(),
            };
            self.desk
                .execute_agent(&desk_admin, &person(id), command, None)
                .await
                .expect("the agent onboards");
        }
    }
}

fn contact(name: &str, email: &str, phone: &str) -> Contact {
    Contact {
        name: name.to_owned(),
        email: Some(email.parse().expect("an email address")),
        phone: Some(phone.parse().expect("a phone number")),
    }
}

/// A laptop fault for `requester`: P4 by the example matrix, routed to desk-side.
pub(crate) fn laptop_fault(requester: &str) -> OpenIncident {
    OpenIncident {
        description: "Black screen after the council logo".to_owned(),
        category: Some("hardware/laptop".parse().expect("a category")),
        ..OpenIncident::new(
            "Laptop will not boot",
            person(requester),
            Channel::Phone,
            Impact::level(3).expect("an impact"),
            Urgency::level(2).expect("an urgency"),
        )
    }
}

/// The names of `record`'s stored events, in order.
pub(crate) async fn event_names(desk: &Desk, record: &RecordId) -> Vec<String> {
    desk.history(record).await.expect("a history").into_iter().map(|s| s.event.name).collect()
}

/// A store that passes everything to another, records each commit, and fails the next commit
/// when told to (as a crash or a lost connection would).
#[derive(Debug, Clone)]
pub(crate) struct Flaky {
    inner: Arc<dyn Store>,
    state: Arc<Mutex<FlakyState>>,
}

#[derive(Debug, Default)]
struct FlakyState {
    fail_next_commit: bool,
    commits: Vec<Commit>,
}

impl Flaky {
    pub(crate) fn new(inner: Arc<dyn Store>) -> Flaky {
        Flaky { inner, state: Arc::default() }
    }

    pub(crate) fn fail_next_commit(&self) {
        self.state.lock().expect("not poisoned").fail_next_commit = true;
    }

    /// Every commit that reached the inner store, in order.
    pub(crate) fn commits(&self) -> Vec<Commit> {
        self.state.lock().expect("not poisoned").commits.clone()
    }
}

#[async_trait]
impl Store for Flaky {
    async fn last_allocated(&self, kind: RecordKind) -> Result<u32, StoreError> {
        self.inner.last_allocated(kind).await
    }

    async fn history(&self, record: &RecordId) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.history(record).await
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        {
            let mut state = self.state.lock().expect("not poisoned");
            if std::mem::take(&mut state.fail_next_commit) {
                return Err(StoreError::Corrupt("the connection was lost mid-commit".into()));
            }
            state.commits.push(commit.clone());
        }
        self.inner.commit(commit).await
    }

    async fn row(&self, record: &RecordId) -> Result<Option<RecordRow>, StoreError> {
        self.inner.row(record).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn events_after(
        &self,
        position: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.events_after(position, limit).await
    }

    async fn next_wake(&self) -> Result<Option<Timestamp>, StoreError> {
        self.inner.next_wake().await
    }

    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<RecordId>, StoreError> {
        self.inner.due(now, limit).await
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.inner.claim_outbox(now, lease_until, limit).await
    }

    async fn settle_outbox(
        &self,
        key: &str,
        delivery: Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.settle_outbox(key, delivery, now).await
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        self.inner.dead_letters(limit).await
    }

    async fn mentioning(&self, person: &PersonId) -> Result<Vec<RecordId>, StoreError> {
        self.inner.mentioning(person).await
    }

    async fn redact(&self, redaction: Redaction) -> Result<(), StoreError> {
        self.inner.redact(redaction).await
    }

    async fn closed_before(
        &self,
        kind: RowKind,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<RecordId>, StoreError> {
        self.inner.closed_before(kind, cutoff, limit).await
    }

    async fn delete(&self, record: &RecordId) -> Result<(), StoreError> {
        self.inner.delete(record).await
    }

    async fn place_hold(&self, hold: LegalHold) -> Result<(), StoreError> {
        self.inner.place_hold(hold).await
    }

    async fn release_hold(&self, record: &RecordId) -> Result<(), StoreError> {
        self.inner.release_hold(record).await
    }

    async fn hold(&self, record: &RecordId) -> Result<Option<LegalHold>, StoreError> {
        self.inner.hold(record).await
    }
}
