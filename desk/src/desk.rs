//! The [`Desk`]: every command through load → decide → apply → follow-ups → seal → project →
//! notify → commit, as one atomic write.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

use desk_core::calendar::Calendars;
use desk_core::id::{IdError, PersonId, RecordId, RecordKind, Reference};
use desk_core::people::{Agent, Contact, Requester};
use desk_core::record::{Actor, Aggregate, Context, EventInfo, Recorded};
use desk_core::sla::Policy;
use desk_core::{DeskConfig, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::audit::{self, BrokenLink, Chain, Verified};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::outbox::{Audience, Notification, Recipient, Subject, To};
use crate::records::{Levels, RecordType, people_of};
use crate::routing::{CategoryRouter, Router};
use crate::store::{
    Append, Commit, Digest, OutboxMessage, RecordRow, Store, StoreError, StoredEvent,
};

/// The most follow-up commands one command may cause (a parent's children are bounded by
/// what fits in one commit; this guards against a cycle in a faulty record type).
const MAX_FOLLOW_UPS: usize = 1_000;

/// Events read per page when walking the whole store.
const FEED_PAGE: u32 = 1_000;

/// How many references one new record may try before the desk gives up: each try lost means
/// another writer created a record of the kind meanwhile, so this only runs out under a
/// storm of creations from other writers.
pub(crate) const MAX_CLAIMS: usize = 100;

/// Whether a commit that claimed a new record's reference went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// It did: the record exists under that reference.
    Won,
    /// Another writer took the reference first; nothing was written.
    Lost,
}

/// The embeddable service desk.
///
/// A `Desk` is a cheap handle (clones share everything) over a [`Store`], the configuration,
/// the business calendars, a [`Clock`] and a [`Router`]. Every command goes through the same
/// path: load the record's history, replay it, let the core decide, apply, run the follow-ups
/// the core asks for on other records (a parent's children) in the **same** commit, seal the
/// events into the audit hash chain, project the queryable rows, evaluate SLA clocks, write the
/// notifications to the outbox, and commit — all or nothing.
///
/// Commands take an optional expected version (what an HTTP server gets from an `ETag`): when
/// the record has moved on, the command fails with [`Error::Conflict`] and changes nothing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), desk::Error> {
/// use std::sync::Arc;
/// use desk::{Desk, OpenIncident};
/// use desk_core::{Actor, DeskConfig};
/// use desk_core::channel::Channel;
/// use desk_core::incident::Status;
/// use desk_core::priority::{Impact, Urgency};
/// use desk_memory::MemoryStore;
///
/// let desk = Desk::builder(Arc::new(MemoryStore::new())).config(DeskConfig::example()).build()?;
/// let agent = Actor::Agent("a.patel".parse().unwrap());
/// let opened = desk
///     .open_incident(&agent, OpenIncident {
///         category: Some("hardware/printer".parse().unwrap()),
///         ..OpenIncident::new(
///             "Printer on floor 2 jams on every job",
///             "k.lee".parse().unwrap(),
///             Channel::Phone,
///             Impact::level(3).unwrap(),
///             Urgency::level(2).unwrap(),
///         )
///     })
///     .await?;
/// // Routed by category to the team the configuration names, in the same commit.
/// assert_eq!(opened.record.status, Status::Assigned);
/// assert_eq!(opened.record.team().map(|t| t.as_str()), Some("desk-side"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: DeskConfig,
    calendars: Calendars,
    policy: Option<Policy>,
    clock: Arc<dyn Clock>,
    router: Arc<dyn Router>,
    commits: watch::Sender<u64>,
    /// For each kind, the last reference number this desk knows was claimed (a hint: the
    /// store's claims decide).
    last_claimed: Mutex<BTreeMap<RecordKind, u32>>,
}

impl fmt::Debug for Desk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Desk")
            .field("name", &self.inner.config.desk.name)
            .field("clock", &self.inner.clock)
            .field("router", &self.inner.router)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Desk`]; see [`Desk::builder`].
#[derive(Debug)]
#[must_use]
pub struct DeskBuilder {
    store: Arc<dyn Store>,
    config: DeskConfig,
    calendars: Calendars,
    policy: Option<Policy>,
    clock: Arc<dyn Clock>,
    router: Arc<dyn Router>,
}

impl fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Store")
    }
}

impl DeskBuilder {
    /// The desk's configuration (default: [`DeskConfig::empty`]).
    pub fn config(self, config: DeskConfig) -> Self {
        DeskBuilder { config, ..self }
    }

    /// The business calendars SLA clocks count in (default: none).
    pub fn calendars(self, calendars: Calendars) -> Self {
        DeskBuilder { calendars, ..self }
    }

    /// The SLA policy incidents are measured against (default: none, so no clocks run). It
    /// must fit the calendars and the configuration: [`DeskBuilder::build`] checks it.
    pub fn sla_policy(self, policy: Policy) -> Self {
        DeskBuilder { policy: Some(policy), ..self }
    }

    /// Where the time comes from (default: [`SystemClock`]).
    pub fn clock(self, clock: Arc<dyn Clock>) -> Self {
        DeskBuilder { clock, ..self }
    }

    /// Who routes new incidents (default: [`CategoryRouter`]).
    pub fn router(self, router: Arc<dyn Router>) -> Self {
        DeskBuilder { router, ..self }
    }

    /// The desk, once its configuration passes [`DeskConfig::check`] and its SLA policy fits
    /// the calendars and the configuration.
    pub fn build(self) -> Result<Desk, Error> {
        self.config.check().map_err(|(path, message)| {
            Error::Invalid(format!("configuration: {path}: {message}"))
        })?;
        if let Some(policy) = &self.policy {
            policy.check_against(&self.calendars, &self.config).map_err(|(path, error)| {
                Error::Invalid(format!("SLA policy {}: {path}: {error}", policy.name()))
            })?;
        }
        let (commits, _) = watch::channel(0);
        Ok(Desk {
            inner: Arc::new(Inner {
                store: self.store,
                config: self.config,
                calendars: self.calendars,
                policy: self.policy,
                clock: self.clock,
                router: self.router,
                commits,
                last_claimed: Mutex::new(BTreeMap::new()),
            }),
        })
    }
}

/// A record as read, with its version (the `seq` of its last event: an `ETag`).
///
/// JSON shape: `{"record": {...}, "version": 4}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<A> {
    /// The record.
    pub record: A,
    /// Its version.
    pub version: u64,
}

/// What a command did: the record after it, its new version and the events it recorded on it.
///
/// JSON shape: `{"record": {...}, "version": 5, "events": [Recorded, …]}`. Events recorded on
/// other records in the same commit (a parent's children) are not listed; read those records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome<A: Aggregate> {
    /// The record after the command.
    pub record: A,
    /// Its version after the command.
    pub version: u64,
    /// The events the command recorded on it (none when it changed nothing).
    pub events: Vec<Recorded<A::Event>>,
}

/// A whole store checked by [`Desk::verify_all`].
///
/// JSON shape: `{"records": 120, "events": 1043, "redacted": 12}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// Records checked.
    pub records: u64,
    /// Events checked.
    pub events: u64,
    /// Anonymised events, whose content could not be compared with its digest.
    pub redacted: u64,
}

impl Desk {
    /// Starts building a desk over `store`.
    pub fn builder(store: Arc<dyn Store>) -> DeskBuilder {
        DeskBuilder {
            store,
            config: DeskConfig::empty(),
            calendars: Calendars::new(),
            policy: None,
            clock: Arc::new(SystemClock),
            router: Arc::new(CategoryRouter),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &DeskConfig {
        &self.inner.config
    }

    /// The business calendars.
    pub fn calendars(&self) -> &Calendars {
        &self.inner.calendars
    }

    /// The SLA policy, if the desk measures service levels.
    pub fn sla_policy(&self) -> Option<&Policy> {
        self.inner.policy.as_ref()
    }

    /// The service levels records are measured against.
    pub(crate) fn levels(&self) -> Levels<'_> {
        Levels { policy: self.inner.policy.as_ref(), calendars: &self.inner.calendars }
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The router.
    pub fn router(&self) -> &Arc<dyn Router> {
        &self.inner.router
    }

    /// The clock's current time.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// A receiver that changes whenever this desk commits (the timer scheduler and the outbox
    /// dispatcher wake on it; other processes' commits are not seen).
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.inner.commits.subscribe()
    }

    /// The stored history of `record`, oldest first (empty if it does not exist).
    pub async fn history(&self, record: &RecordId) -> Result<Vec<StoredEvent>, Error> {
        Ok(self.inner.store.history(record).await?)
    }

    /// The queryable row of `record`.
    pub async fn row(&self, record: &RecordId) -> Result<RecordRow, Error> {
        self.inner.store.row(record).await?.ok_or_else(|| Error::NotFound(record.clone()))
    }

    /// Checks the audit chain of one record.
    pub async fn verify(&self, record: &RecordId) -> Result<Result<Verified, BrokenLink>, Error> {
        Ok(audit::verify(&self.inner.store.history(record).await?))
    }

    /// Checks the audit chain of every record in the store, through the change feed; the first
    /// broken link found, if any.
    pub async fn verify_all(&self) -> Result<Result<AuditSummary, BrokenLink>, Error> {
        let mut chains: BTreeMap<RecordId, Chain> = BTreeMap::new();
        let mut position = 0;
        loop {
            let page = self.inner.store.events_after(position, FEED_PAGE).await?;
            let Some(last) = page.last() else { break };
            position = last.position;
            for stored in &page {
                let chain = chains.entry(stored.event.record.clone()).or_default();
                if let Err(broken) = chain.check(&stored.event) {
                    return Ok(Err(broken));
                }
            }
        }
        let mut summary = AuditSummary { records: chains.len() as u64, ..AuditSummary::default() };
        for chain in chains.values() {
            let verified = chain.verified();
            summary.events += verified.events;
            summary.redacted += verified.redacted;
        }
        Ok(Ok(summary))
    }

    /// The contact details of `person`: their requester record, else their agent record.
    pub async fn contact(&self, person: &PersonId) -> Result<Option<Contact>, Error> {
        let requester = self.load::<Requester>(&RecordId::Requester(person.clone())).await?;
        if let Some(requester) = requester.state {
            return Ok(Some(requester.profile().contact.clone()));
        }
        let agent = self.load::<Agent>(&RecordId::Agent(person.clone())).await?;
        Ok(agent.state.map(|agent| agent.contact().clone()))
    }

    /// Reads a record of type `A`, failing with [`Error::NotFound`] if it does not exist.
    pub(crate) async fn read<A: RecordType>(&self, id: &RecordId) -> Result<Versioned<A>, Error> {
        let loaded = self.load::<A>(id).await?;
        let version = loaded.version();
        match loaded.state {
            Some(record) => Ok(Versioned { record, version }),
            None => Err(Error::NotFound(id.clone())),
        }
    }

    /// Loads and replays a record's history.
    pub(crate) async fn load<A: RecordType>(&self, id: &RecordId) -> Result<Loaded<A>, Error> {
        let stored = self.inner.store.history(id).await?;
        Loaded::replay(id.clone(), stored)
    }

    /// The generic path: `command` on record `id` as `actor`, with its follow-ups, committed.
    pub(crate) async fn perform<A: RecordType>(
        &self,
        actor: &Actor,
        id: &RecordId,
        command: A::Command,
        expected: Option<u64>,
    ) -> Result<Outcome<A>, Error> {
        let mut work = Work::new(self.now());
        let loaded = self.load::<A>(id).await?;
        check_expected(&loaded, expected)?;
        let related = A::related(loaded.state.as_ref(), &command);
        work.records.push(loaded);
        self.load_into(&mut work, related).await?;
        {
            let (main, others) = work.records.split_at(1);
            let other = |id: &RecordId| {
                others.iter().find(|loaded| &loaded.id == id).and_then(|l| l.state.as_ref())
            };
            A::check_related(main[0].state.as_ref(), &command, other)?;
        }
        self.run(&mut work, 0, command, actor)?;
        self.commit(&mut work).await?;
        work.outcome(0)
    }

    /// The reference a new record of `kind` is to claim: one past the last this desk knows
    /// was claimed (asking the store the first time).
    pub(crate) async fn next_reference(&self, kind: RecordKind) -> Result<Reference, Error> {
        let known = self.last_claimed().get(&kind).copied();
        let last = match known {
            Some(last) => last,
            None => {
                let last = self.inner.store.last_allocated(kind).await?;
                self.learn_claimed(kind, last);
                last
            }
        };
        let number = last
            .checked_add(1)
            .and_then(NonZeroU32::new)
            .ok_or_else(|| Error::Invalid(format!("no {} references are left", kind.noun())))?;
        Ok(Reference::new(kind, number))
    }

    fn last_claimed(&self) -> std::sync::MutexGuard<'_, BTreeMap<RecordKind, u32>> {
        // The map only ever holds plain numbers: a panic elsewhere cannot leave it torn.
        self.inner.last_claimed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that numbers of `kind` up to `last` are claimed.
    fn learn_claimed(&self, kind: RecordKind, last: u32) {
        let mut known = self.last_claimed();
        let entry = known.entry(kind).or_default();
        *entry = (*entry).max(last);
    }

    /// Commits `work`, which creates the record `reference` names, claiming `reference` in
    /// the same transaction. [`Claim::Lost`] when another writer claimed it first: nothing
    /// was written, and [`Desk::next_reference`] now gives a later one to build again with.
    pub(crate) async fn commit_claiming<A: RecordType>(
        &self,
        work: &mut Work<A>,
        reference: Reference,
    ) -> Result<Claim, Error> {
        let kind = reference.kind();
        match self.commit_with(work, Some(reference)).await {
            Ok(()) => {
                self.learn_claimed(kind, reference.number().get());
                Ok(Claim::Won)
            }
            Err(Error::Store(StoreError::ReferenceTaken { last, .. })) => {
                self.learn_claimed(kind, last);
                Ok(Claim::Lost)
            }
            // The record exists without its number having been claimed (imported with its
            // old reference, say): skip the number.
            Err(Error::Conflict { record, expected: 0, .. })
                if record == RecordId::Ref(reference) =>
            {
                self.learn_claimed(kind, reference.number().get());
                Ok(Claim::Lost)
            }
            Err(error) => Err(error),
        }
    }

    /// Creates a new record of `kind` with the command `command` makes for its reference,
    /// committed with the reference claimed (see [`Desk::commit_claiming`]); built again with
    /// the next reference while other writers take the one tried.
    pub(crate) async fn create<A: RecordType, R>(
        &self,
        actor: &Actor,
        kind: RecordKind,
        command: impl Fn(R) -> A::Command,
    ) -> Result<Outcome<A>, Error>
    where
        R: TryFrom<Reference, Error = IdError>,
    {
        for _ in 0..MAX_CLAIMS {
            let reference = self.next_reference(kind).await?;
            let mut work = Work::new(self.now());
            work.records.push(Loaded::fresh(RecordId::Ref(reference)));
            self.run(&mut work, 0, command(typed(reference)?), actor)?;
            if self.commit_claiming(&mut work, reference).await? == Claim::Won {
                return work.outcome(0);
            }
        }
        Err(claims_lost(kind))
    }

    /// Runs `command` on `work.records[index]`, then the follow-ups it causes, as the desk.
    pub(crate) fn run<A: RecordType>(
        &self,
        work: &mut Work<A>,
        index: usize,
        command: A::Command,
        actor: &Actor,
    ) -> Result<(), Error> {
        let follow_ups = work.records[index].execute(command, actor, work.now, self.config())?;
        let mut queue: std::collections::VecDeque<_> = follow_ups.into();
        let mut done = 0;
        while let Some((target, command)) = queue.pop_front() {
            done += 1;
            if done > MAX_FOLLOW_UPS {
                return Err(Error::Invalid(format!(
                    "more than {MAX_FOLLOW_UPS} follow-up commands: refusing a runaway cascade"
                )));
            }
            let index = work.position(&target).ok_or_else(|| {
                Error::Invalid(format!("follow-up on {target}, which was not loaded"))
            })?;
            let more =
                work.records[index].execute(command, &Actor::System, work.now, self.config())?;
            queue.extend(more);
        }
        Ok(())
    }

    /// Loads every record the follow-ups of `work` could touch, before [`Desk::run`].
    pub(crate) async fn load_into<A: RecordType>(
        &self,
        work: &mut Work<A>,
        ids: impl IntoIterator<Item = RecordId>,
    ) -> Result<(), Error> {
        for id in ids {
            if work.position(&id).is_none() {
                let loaded = self.load::<A>(&id).await?;
                work.records.push(loaded);
            }
        }
        Ok(())
    }

    /// Seals, projects, evaluates, notifies and commits everything `work` recorded.
    pub(crate) async fn commit<A: RecordType>(&self, work: &mut Work<A>) -> Result<(), Error> {
        self.commit_with(work, None).await
    }

    /// [`Desk::commit`], claiming the reference of the record `work` creates, if it does.
    async fn commit_with<A: RecordType>(
        &self,
        work: &mut Work<A>,
        claim: Option<Reference>,
    ) -> Result<(), Error> {
        let mut commit = Commit { claim, ..Commit::default() };
        for index in 0..work.records.len() {
            let loaded = &work.records[index];
            if !loaded.changed() && !loaded.refresh {
                continue;
            }
            let Some(state) = loaded.state.as_ref() else { continue };
            let events = loaded.seal();
            let (sla, wake_at) = state.sla(&loaded.history, self.levels(), work.now)?;
            let mut row = loaded.row(self.config(), work.now);
            row.sla = sla;
            row.wake_at = wake_at;
            let notices = state.notices(loaded.new_events(), self.config());
            let subject = |audience: Audience| subject_of(&row, audience);
            let mut outbox = Vec::with_capacity(notices.len());
            for notice in notices {
                let recipient = self.recipient(&notice.to, &mut work.contacts).await?;
                let notification = Notification {
                    topic: notice.topic,
                    record: row.id.clone(),
                    seq: notice.seq,
                    at: notice.at,
                    audience: notice.audience,
                    recipient,
                    subject: subject(notice.audience),
                    text: notice.text,
                };
                outbox.push(OutboxMessage {
                    key: notification.key(),
                    record: row.id.clone(),
                    topic: notification.topic.as_str().to_owned(),
                    payload: serde_json::to_value(&notification)
                        .map_err(|e| Error::Invalid(format!("notification: {e}")))?,
                    created_at: work.now,
                });
            }
            commit.appends.push(Append {
                record: loaded.id.clone(),
                expected_version: loaded.base,
                events,
            });
            commit.rows.push(row);
            commit.outbox.extend(outbox);
        }
        if commit.appends.is_empty() {
            return Ok(());
        }
        let records: Vec<String> = commit.appends.iter().map(|a| a.record.to_string()).collect();
        self.inner.store.commit(commit).await?;
        tracing::debug!(records = ?records, "committed");
        self.inner.commits.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    /// Looks a notice's recipient up.
    async fn recipient(
        &self,
        to: &To,
        contacts: &mut BTreeMap<PersonId, Option<Contact>>,
    ) -> Result<Recipient, Error> {
        Ok(match to {
            To::Person(person) => {
                let contact = self.cached_contact(person, contacts).await?;
                Recipient::with_contact(person.clone(), contact.as_ref())
            }
            To::Team(team) => {
                let configured = self.config().team(team);
                Recipient::Team {
                    id: team.clone(),
                    name: configured.map(|t| t.name.clone()),
                    email: configured.and_then(|t| t.email.clone()),
                }
            }
            To::LineManagerOf(person) => {
                let requester =
                    self.load::<Requester>(&RecordId::Requester(person.clone())).await?;
                match requester.state.as_ref().and_then(Requester::line_manager) {
                    Some(manager) => {
                        let contact = self.cached_contact(manager, contacts).await?;
                        Recipient::with_contact(manager.clone(), contact.as_ref())
                    }
                    None => Recipient::Role { role: desk_core::config::ApprovalRole::LineManager },
                }
            }
            To::Role(role) => Recipient::Role { role: *role },
        })
    }

    async fn cached_contact(
        &self,
        person: &PersonId,
        contacts: &mut BTreeMap<PersonId, Option<Contact>>,
    ) -> Result<Option<Contact>, Error> {
        if let Some(known) = contacts.get(person) {
            return Ok(known.clone());
        }
        let contact = self.contact(person).await?;
        contacts.insert(person.clone(), contact.clone());
        Ok(contact)
    }
}

/// The error when [`MAX_CLAIMS`] references of `kind` in a row were taken by other writers.
pub(crate) fn claims_lost(kind: RecordKind) -> Error {
    Error::Invalid(format!(
        "gave up creating a {} after {MAX_CLAIMS} references were taken by other writers",
        kind.noun()
    ))
}

/// `reference` as the typed reference `R`.
pub(crate) fn typed<R: TryFrom<Reference, Error = IdError>>(
    reference: Reference,
) -> Result<R, Error> {
    R::try_from(reference)
        .map_err(|e| Error::Invalid(format!("{reference} is not the reference wanted: {e}")))
}

/// Fails with [`Error::Conflict`] when the caller expected another version.
pub(crate) fn check_expected<A: RecordType>(
    loaded: &Loaded<A>,
    expected: Option<u64>,
) -> Result<(), Error> {
    match expected {
        Some(expected) if expected != loaded.version() => {
            Err(Error::Conflict { record: loaded.id.clone(), expected, actual: loaded.version() })
        }
        _ => Ok(()),
    }
}

/// The facts of a row a notification for `audience` may carry.
fn subject_of(row: &RecordRow, audience: Audience) -> Subject {
    let staff = audience == Audience::Staff;
    Subject {
        reference: row.id.clone(),
        kind: row.kind,
        title: row.title.clone(),
        status: row.status.clone(),
        priority: row.priority.filter(|_| staff),
        team: row.team.clone().filter(|_| staff),
        requester: row.requester.clone(),
    }
}

/// One record of a unit of work: its history as loaded, plus what the work recorded on it.
#[derive(Debug, Clone)]
pub(crate) struct Loaded<A: Aggregate> {
    pub(crate) id: RecordId,
    pub(crate) state: Option<A>,
    pub(crate) history: Vec<Recorded<A::Event>>,
    /// The version it had when loaded.
    pub(crate) base: u64,
    /// The hash of its last stored event.
    pub(crate) tip: Digest,
    /// When it was created, from the stored history.
    created_at: Option<Timestamp>,
    /// Whether its row is to be written even if nothing was recorded (timers re-evaluated it).
    pub(crate) refresh: bool,
}

impl<A: RecordType> Loaded<A> {
    /// A record known not to exist yet (a reference about to be claimed).
    pub(crate) fn fresh(id: RecordId) -> Self {
        Loaded {
            id,
            state: None,
            history: Vec::new(),
            base: 0,
            tip: Digest::default(),
            created_at: None,
            refresh: false,
        }
    }

    /// Rebuilds a record from its stored history.
    pub(crate) fn replay(id: RecordId, stored: Vec<StoredEvent>) -> Result<Self, Error> {
        let mut loaded = Loaded::fresh(id);
        for stored in stored {
            let event = stored.event;
            let typed: A::Event = serde_json::from_value(event.payload)
                .map_err(|e| Error::corrupt(&loaded.id, format!("event {}: {e}", event.seq)))?;
            let state = A::apply(loaded.state.take(), event.at, &typed)?;
            loaded.state = Some(state);
            loaded.created_at.get_or_insert(event.at);
            loaded.base = event.seq;
            loaded.tip = event.hash;
            loaded.history.push(Recorded {
                record: loaded.id.clone(),
                seq: event.seq,
                at: event.at,
                actor: event.actor,
                event: typed,
            });
        }
        Ok(loaded)
    }

    /// Its version, counting what the work recorded.
    pub(crate) fn version(&self) -> u64 {
        self.history.len() as u64
    }

    /// Whether the work recorded anything on it.
    pub(crate) fn changed(&self) -> bool {
        self.version() > self.base
    }

    /// The events the work recorded.
    pub(crate) fn new_events(&self) -> &[Recorded<A::Event>] {
        let base = usize::try_from(self.base).unwrap_or(usize::MAX).min(self.history.len());
        &self.history[base..]
    }

    /// Decides and applies `command`; the follow-ups its events need.
    pub(crate) fn execute(
        &mut self,
        command: A::Command,
        actor: &Actor,
        now: Timestamp,
        config: &DeskConfig,
    ) -> Result<Vec<(RecordId, A::Command)>, Error> {
        let ctx = Context::new(now, actor, config);
        let events = A::decide(self.state.as_ref(), command, ctx).map_err(A::refusal)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut state = self.state.take();
        for event in &events {
            state = Some(A::apply(state, now, event)?);
        }
        let state = state.ok_or_else(|| Error::corrupt(&self.id, "no state after events"))?;
        let follow_ups = state.follow_ups(&events);
        for event in events {
            let seq = self.version() + 1;
            self.history.push(Recorded {
                record: self.id.clone(),
                seq,
                at: now,
                actor: actor.clone(),
                event,
            });
        }
        self.state = Some(state);
        Ok(follow_ups)
    }

    /// The work's events, sealed into the record's hash chain.
    fn seal(&self) -> Vec<crate::store::EventRecord> {
        let mut prev = self.tip;
        self.new_events()
            .iter()
            .map(|recorded| {
                let payload = serde_json::to_value(&recorded.event).unwrap_or_default();
                let sealed = audit::seal(
                    self.id.clone(),
                    recorded.seq,
                    recorded.at,
                    recorded.actor.clone(),
                    recorded.event.name(),
                    recorded.event.visibility(),
                    payload,
                    prev,
                );
                prev = sealed.hash;
                sealed
            })
            .collect()
    }

    /// The queryable row of the record as it now stands.
    pub(crate) fn row(&self, config: &DeskConfig, now: Timestamp) -> RecordRow {
        let state = self.state.as_ref();
        let projection = state.map(|s| s.project(&self.history, config)).unwrap_or_default();
        let mut people: BTreeSet<PersonId> = people_of::<A>(&self.history);
        people.extend(projection.requester.iter().cloned());
        people.extend(projection.agent.iter().cloned());
        let created_at = self.created_at.or(self.history.first().map(|r| r.at)).unwrap_or(now);
        let updated_at = self.history.last().map_or(now, |r| r.at);
        RecordRow {
            id: self.id.clone(),
            kind: A::KIND,
            version: self.version(),
            status: projection.status,
            open: projection.open,
            title: projection.title,
            body: projection.body,
            team: projection.team,
            tier: projection.tier,
            agent: projection.agent,
            priority: projection.priority,
            requester: projection.requester,
            people: people.into_iter().collect(),
            cis: projection.cis,
            created_at,
            updated_at,
            closed_at: projection.closed_at,
            sla: Default::default(),
            wake_at: None,
            state: state.and_then(|s| serde_json::to_value(s).ok()).unwrap_or_default(),
        }
    }
}

/// The records one command touches, with what it recorded on each; committed as one.
#[derive(Debug)]
pub(crate) struct Work<A: Aggregate> {
    pub(crate) now: Timestamp,
    pub(crate) records: Vec<Loaded<A>>,
    /// Contact details looked up so far.
    pub(crate) contacts: BTreeMap<PersonId, Option<Contact>>,
}

impl<A: RecordType> Work<A> {
    pub(crate) fn new(now: Timestamp) -> Self {
        Work { now, records: Vec::new(), contacts: BTreeMap::new() }
    }

    pub(crate) fn position(&self, id: &RecordId) -> Option<usize> {
        self.records.iter().position(|loaded| &loaded.id == id)
    }

    /// What the command did to `records[index]`: the state and the events it recorded.
    pub(crate) fn outcome(&self, index: usize) -> Result<Outcome<A>, Error> {
        let loaded = &self.records[index];
        let record = loaded.state.clone().ok_or_else(|| Error::NotFound(loaded.id.clone()))?;
        Ok(Outcome { record, version: loaded.version(), events: loaded.new_events().to_vec() })
    }
}
