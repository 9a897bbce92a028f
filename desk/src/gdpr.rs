//! Data protection: anonymisation, subject access, retention and legal holds.
//!
//! - [`Desk::anonymise`] replaces a person, across every record that names them, with a stable
//!   pseudonym (`anon-` and 12 hex digits): their identifier, names, email addresses and phone
//!   numbers, in event payloads, in actors and in rows, also inside free text (case-insensitive,
//!   at word boundaries). Their own requester and agent records are renamed to the pseudonym.
//!   The audit chain still verifies: redacted events keep their digests and are marked
//!   redacted (see [`crate::audit`]). Records under a legal hold are skipped and reported.
//! - [`Desk::subject_access`] exports, as JSON, everything the desk holds about a person: their
//!   person records and every ticket about or by them, with the events they may see.
//! - [`Desk::apply_retention`] applies the configuration's `[retention]` rules: records closed
//!   for longer than their kind's period are anonymised or deleted; held records are left alone.
//! - [`Desk::place_hold`] and [`Desk::release_hold`] manage legal holds, which block both.
//!
//! What this cannot reach: a person's name typed into another person's ticket that the desk
//! has no other reason to link to them (it finds records through the people each row names),
//! first names on their own, and notifications still waiting in the outbox or dead-lettered
//! (deliver or purge those through the store).

use std::collections::BTreeSet;

use chrono::Months;
use desk_core::config::RetentionAction;
use desk_core::id::{PersonId, RecordId};
use desk_core::people::{Agent, Email, Phone, Requester, agent, requester};
use desk_core::record::{Actor, Visibility};
use desk_core::{Timestamp, complaint, incident, knowledge, problem, request};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::Desk;
use crate::desk::Loaded;
use crate::error::Error;
use crate::records::RecordType;
use crate::store::{LegalHold, RecordRow, Redaction, RowKind, StoreError, StoredEvent};

/// The prefix of every pseudonym.
pub const PSEUDONYM_PREFIX: &str = "anon-";

/// Records redacted per retention round and kind, at most.
const RETENTION_BATCH: u32 = 500;

/// How many times a redaction is prepared again after the record changed underneath it.
const ATTEMPTS: u32 = 5;

/// What [`Desk::anonymise`] did.
///
/// JSON shape: `{"pseudonym": "anon-3fa2c19e0b71", "records": ["INC-000001",
/// "requester:anon-3fa2c19e0b71"], "held": ["INC-000007"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anonymisation {
    /// What the person is called now.
    pub pseudonym: PersonId,
    /// The records rewritten (by their id after the rewrite).
    pub records: Vec<RecordId>,
    /// Records left untouched because of a legal hold.
    pub held: Vec<RecordId>,
}

/// What [`Desk::apply_retention`] did.
///
/// JSON shape: `{"anonymised": [...], "deleted": [...], "held": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    /// Records anonymised.
    pub anonymised: Vec<RecordId>,
    /// Records deleted.
    pub deleted: Vec<RecordId>,
    /// Records a hold protected (placed while the round ran).
    pub held: Vec<RecordId>,
}

/// Whether `person` is already a pseudonym.
pub fn is_pseudonym(person: &PersonId) -> bool {
    person.as_str().starts_with(PSEUDONYM_PREFIX)
}

impl Desk {
    /// Anonymises `person` across every record that names them; `actor` is who asked (logged).
    pub async fn anonymise(
        &self,
        person: &PersonId,
        actor: &Actor,
    ) -> Result<Anonymisation, Error> {
        let identity = self.identity(person).await?;
        let pseudonym = Pseudonym::new(person, self.now(), actor)?;
        let redactor = Redactor::new(vec![(identity, pseudonym.clone())]);
        let mut targets: BTreeSet<RecordId> =
            self.store().mentioning(person).await?.into_iter().collect();
        for own in [RecordId::Requester(person.clone()), RecordId::Agent(person.clone())] {
            if self.store().row(&own).await?.is_some() {
                targets.insert(own);
            }
        }
        let mut outcome = Anonymisation {
            pseudonym: pseudonym.id.clone(),
            records: Vec::new(),
            held: Vec::new(),
        };
        for target in targets {
            let rename = match &target {
                RecordId::Requester(p) if p == person => {
                    Some(RecordId::Requester(pseudonym.id.clone()))
                }
                RecordId::Agent(p) if p == person => Some(RecordId::Agent(pseudonym.id.clone())),
                _ => None,
            };
            let renamed = rename.clone().unwrap_or_else(|| target.clone());
            match self.redact(&target, &redactor, rename, Closure::Keep).await? {
                Redacted::Held => outcome.held.push(target),
                Redacted::Done | Redacted::Unchanged => outcome.records.push(renamed),
            }
        }
        tracing::info!(
            pseudonym = %outcome.pseudonym,
            records = outcome.records.len(),
            held = outcome.held.len(),
            by = %actor,
            "person anonymised"
        );
        Ok(outcome)
    }

    /// Everything the desk holds about `person`, as JSON:
    ///
    /// ```json
    /// {"person": "k.lee", "generated_at": "…", "requester": {…} | null, "agent": {…} | null,
    ///  "records": [{"record": "INC-000001", "kind": "incident", "roles": ["requester"],
    ///               "status": "resolved", "title": "…", "created_at": "…", "closed_at": null,
    ///               "events": [{"seq": 1, "at": "…", "actor": {…}, "name": "logged",
    ///                           "payload": {…}}]}]}
    /// ```
    ///
    /// A ticket's events are those the person may see: public ones, and any they caused
    /// themselves (never another person's internal work notes). Their own person records are
    /// given whole.
    pub async fn subject_access(&self, person: &PersonId) -> Result<Value, Error> {
        let requester = self.load::<Requester>(&RecordId::Requester(person.clone())).await?;
        let agent = self.load::<Agent>(&RecordId::Agent(person.clone())).await?;
        let mut records = Vec::new();
        for id in self.store().mentioning(person).await? {
            let Some(row) = self.store().row(&id).await? else { continue };
            let own = matches!(&id, RecordId::Requester(p) | RecordId::Agent(p) if p == person);
            let events: Vec<Value> = self
                .store()
                .history(&id)
                .await?
                .into_iter()
                .map(|stored| stored.event)
                .filter(|event| {
                    own || event.visibility == Visibility::Public
                        || event.actor.person() == Some(person)
                })
                .map(|event| {
                    json!({
                        "seq": event.seq,
                        "at": event.at,
                        "actor": event.actor,
                        "name": event.name,
                        "payload": event.payload,
                    })
                })
                .collect();
            records.push(json!({
                "record": row.id,
                "kind": row.kind,
                "roles": roles(&row, person),
                "status": row.status,
                "title": row.title,
                "created_at": row.created_at,
                "closed_at": row.closed_at,
                "events": events,
            }));
        }
        Ok(json!({
            "person": person,
            "generated_at": self.now(),
            "requester": requester.state,
            "agent": agent.state,
            "records": records,
        }))
    }

    /// Applies the `[retention]` rules at `now`: each kind's records closed before `now` minus
    /// its period are anonymised (every person in them, by pseudonym; the record stays for
    /// reporting and leaves the retention queue) or deleted. Records under a legal hold are
    /// left alone. For people's records, anonymising anonymises the person everywhere.
    pub async fn apply_retention(&self, now: Timestamp) -> Result<RetentionReport, Error> {
        let mut report = RetentionReport::default();
        for (kind_name, rule) in self.config().retention.rules() {
            let Some(kind) = RowKind::parse(kind_name) else { continue };
            let Some(cutoff) = now.checked_sub_months(Months::new(rule.months)) else { continue };
            let due = self.store().closed_before(kind, cutoff, RETENTION_BATCH).await?;
            for id in due {
                match (rule.action, &id) {
                    (RetentionAction::Delete, _) => match self.store().delete(&id).await {
                        Ok(()) => report.deleted.push(id),
                        Err(StoreError::OnHold(id)) => report.held.push(id),
                        Err(StoreError::NotFound(_)) => {}
                        Err(other) => return Err(other.into()),
                    },
                    (
                        RetentionAction::Anonymise,
                        RecordId::Requester(person) | RecordId::Agent(person),
                    ) => {
                        if is_pseudonym(person) {
                            continue;
                        }
                        let done = self.anonymise(person, &Actor::System).await?;
                        report.held.extend(done.held);
                        report.anonymised.extend(done.records);
                    }
                    (RetentionAction::Anonymise, RecordId::Ref(_)) => {
                        match self.anonymise_record(&id).await? {
                            Redacted::Held => report.held.push(id),
                            Redacted::Done | Redacted::Unchanged => report.anonymised.push(id),
                        }
                    }
                }
            }
        }
        if !(report.anonymised.is_empty() && report.deleted.is_empty()) {
            tracing::info!(
                anonymised = report.anonymised.len(),
                deleted = report.deleted.len(),
                "retention applied"
            );
        }
        Ok(report)
    }

    /// Places a legal hold on `record`: retention and anonymisation leave it alone until released.
    pub async fn place_hold(
        &self,
        record: &RecordId,
        reason: &str,
        actor: &Actor,
    ) -> Result<LegalHold, Error> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::Invalid(format!("a legal hold on {record} needs a reason")));
        }
        let hold = LegalHold {
            record: record.clone(),
            reason: reason.to_owned(),
            placed_by: actor.clone(),
            placed_at: self.now(),
        };
        self.store().place_hold(hold.clone()).await?;
        tracing::info!(record = %record, by = %actor, "legal hold placed");
        Ok(hold)
    }

    /// Releases the legal hold on `record`, if any.
    pub async fn release_hold(&self, record: &RecordId, actor: &Actor) -> Result<(), Error> {
        self.store().release_hold(record).await?;
        tracing::info!(record = %record, by = %actor, "legal hold released");
        Ok(())
    }

    /// The legal hold on `record`, if any.
    pub async fn hold(&self, record: &RecordId) -> Result<Option<LegalHold>, Error> {
        Ok(self.store().hold(record).await?)
    }

    /// Anonymises every person a (closed) ticket names, in that ticket only.
    async fn anonymise_record(&self, id: &RecordId) -> Result<Redacted, Error> {
        let Some(row) = self.store().row(id).await? else { return Ok(Redacted::Unchanged) };
        let mut people = Vec::new();
        for person in row.people.iter().filter(|p| !is_pseudonym(p)) {
            let identity = self.identity(person).await?;
            people.push((identity, Pseudonym::new(person, self.now(), &Actor::System)?));
        }
        self.redact(id, &Redactor::new(people), None, Closure::Clear).await
    }

    /// Everything that identifies `person`, from their requester and agent records' histories
    /// (earlier names and addresses included).
    async fn identity(&self, person: &PersonId) -> Result<Identity, Error> {
        let mut identity = Identity {
            id: person.clone(),
            names: BTreeSet::new(),
            emails: BTreeSet::new(),
            phones: BTreeSet::new(),
        };
        let requester = self.load::<Requester>(&RecordId::Requester(person.clone())).await?;
        for recorded in &requester.history {
            match &recorded.event {
                requester::Event::Registered { profile, .. } => identity.contact(
                    Some(&profile.contact.name),
                    profile.contact.email.as_ref(),
                    profile.contact.phone.as_ref(),
                ),
                requester::Event::DetailsUpdated { changes } => identity.contact(
                    changes.contact.name.as_ref(),
                    changes.contact.email.as_ref().and_then(Option::as_ref),
                    changes.contact.phone.as_ref().and_then(Option::as_ref),
                ),
                _ => {}
            }
        }
        let agent = self.load::<Agent>(&RecordId::Agent(person.clone())).await?;
        for recorded in &agent.history {
            match &recorded.event {
                agent::Event::Onboarded { contact, .. } => identity.contact(
                    Some(&contact.name),
                    contact.email.as_ref(),
                    contact.phone.as_ref(),
                ),
                agent::Event::DetailsUpdated { changes } => identity.contact(
                    changes.name.as_ref(),
                    changes.email.as_ref().and_then(Option::as_ref),
                    changes.phone.as_ref().and_then(Option::as_ref),
                ),
                _ => {}
            }
        }
        Ok(identity)
    }

    /// Rewrites one record with `redactor`, retrying when it changes meanwhile.
    async fn redact(
        &self,
        id: &RecordId,
        redactor: &Redactor,
        rename: Option<RecordId>,
        closure: Closure,
    ) -> Result<Redacted, Error> {
        let mut conflict = None;
        for _ in 0..ATTEMPTS {
            if self.store().hold(id).await?.is_some() {
                return Ok(Redacted::Held);
            }
            let history = self.store().history(id).await?;
            let Some(old_row) = self.store().row(id).await? else {
                return Ok(Redacted::Unchanged);
            };
            let mut changed = Vec::new();
            let mut redacted_history = Vec::with_capacity(history.len());
            for stored in history {
                let mut event = stored.event;
                let payload = redactor.json(&event.payload);
                let actor = redactor.actor(&event.actor);
                if payload.is_some() || actor.is_some() {
                    event.payload = payload.unwrap_or(event.payload);
                    event.actor = actor.unwrap_or(event.actor);
                    event.redacted = true;
                    changed.push(event.clone());
                }
                redacted_history.push(StoredEvent { position: stored.position, event });
            }
            if changed.is_empty() && rename.is_none() && closure == Closure::Keep {
                return Ok(Redacted::Unchanged);
            }
            let target = rename.clone().unwrap_or_else(|| id.clone());
            let mut row = self.reproject(&target, redacted_history, &old_row)?;
            if closure == Closure::Clear {
                row.closed_at = None;
            }
            let redaction =
                Redaction { record: id.clone(), events: changed, row, rename: rename.clone() };
            match self.store().redact(redaction).await {
                Ok(()) => return Ok(Redacted::Done),
                Err(StoreError::Conflict { record, expected, actual }) => {
                    conflict = Some(Error::Conflict { record, expected, actual });
                }
                Err(StoreError::OnHold(_)) => return Ok(Redacted::Held),
                Err(other) => return Err(other.into()),
            }
        }
        // The record kept changing while it was being rewritten: the caller may try again.
        Err(conflict.unwrap_or_else(|| Error::NotFound(id.clone())))
    }

    /// The row of a record rebuilt from a (redacted) history; SLA fields kept from `old`.
    fn reproject(
        &self,
        id: &RecordId,
        history: Vec<StoredEvent>,
        old: &RecordRow,
    ) -> Result<RecordRow, Error> {
        let mut row = match RowKind::of(id) {
            RowKind::Incident => self.row_of::<incident::Incident>(id, history)?,
            RowKind::ServiceRequest => self.row_of::<request::ServiceRequest>(id, history)?,
            RowKind::Problem => self.row_of::<problem::Problem>(id, history)?,
            RowKind::Article => self.row_of::<knowledge::Article>(id, history)?,
            RowKind::Complaint => self.row_of::<complaint::Complaint>(id, history)?,
            RowKind::Requester => self.row_of::<Requester>(id, history)?,
            RowKind::Agent => self.row_of::<Agent>(id, history)?,
            RowKind::Change => self.row_of::<desk_core::change::Change>(id, history)?,
            RowKind::Asset => self.row_of::<desk_core::asset::Asset>(id, history)?,
        };
        row.sla = old.sla.clone();
        row.wake_at = old.wake_at;
        Ok(row)
    }

    fn row_of<A: RecordType>(
        &self,
        id: &RecordId,
        history: Vec<StoredEvent>,
    ) -> Result<RecordRow, Error> {
        Ok(Loaded::<A>::replay(id.clone(), history)?.row(self.config(), self.now()))
    }
}

/// What a redaction of one record came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Redacted {
    Done,
    Unchanged,
    Held,
}

/// Whether a redacted record keeps its closure time (and so stays in the retention queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closure {
    Keep,
    Clear,
}

/// The roles `person` has in a record's row.
fn roles(row: &RecordRow, person: &PersonId) -> Vec<&'static str> {
    let mut roles = Vec::new();
    if row.requester.as_ref() == Some(person) {
        roles.push("requester");
    }
    if row.agent.as_ref() == Some(person) {
        roles.push("agent");
    }
    if roles.is_empty() {
        roles.push("mentioned");
    }
    roles
}

/// What identifies a person.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    id: PersonId,
    names: BTreeSet<String>,
    emails: BTreeSet<String>,
    phones: BTreeSet<String>,
}

impl Identity {
    fn contact(&mut self, name: Option<&String>, email: Option<&Email>, phone: Option<&Phone>) {
        self.names.extend(name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()));
        self.emails.extend(email.map(|e| e.as_str().to_owned()));
        self.phones.extend(phone.map(|p| p.as_str().to_owned()));
    }
}

/// What a person becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pseudonym {
    id: PersonId,
    email: Email,
    phone: Phone,
}

impl Pseudonym {
    /// A pseudonym for `person`, salted with the time and who asked, so it cannot be computed
    /// back from a guessed identifier.
    fn new(person: &PersonId, now: Timestamp, actor: &Actor) -> Result<Pseudonym, Error> {
        let mut hasher = Sha256::new();
        for part in [person.to_string(), now.to_rfc3339(), actor.to_string()] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let hex: String = hasher.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect();
        let id = format!("{PSEUDONYM_PREFIX}{hex}");
        let invalid = |e: &dyn std::fmt::Display| Error::Invalid(format!("pseudonym: {e}"));
        Ok(Pseudonym {
            email: Email::new(&format!("{id}@anonymised.invalid")).map_err(|e| invalid(&e))?,
            phone: Phone::new("000").map_err(|e| invalid(&e))?,
            id: PersonId::new(id).map_err(|e| invalid(&e))?,
        })
    }
}

/// Replaces people's identifying values in text, JSON and actors.
#[derive(Debug, Clone)]
struct Redactor {
    /// Whole values: (lower-cased value, replacement).
    exact: Vec<(String, String)>,
    /// Values inside free text, longest first: (value, replacement).
    within: Vec<(String, String)>,
    /// Person identifiers in actors.
    ids: Vec<(PersonId, PersonId)>,
}

impl Redactor {
    fn new(people: Vec<(Identity, Pseudonym)>) -> Redactor {
        let mut redactor = Redactor { exact: Vec::new(), within: Vec::new(), ids: Vec::new() };
        for (identity, pseudonym) in people {
            let token = pseudonym.id.to_string();
            let mut add = |value: &str, exact: &str| {
                let value = value.trim();
                if value.is_empty() {
                    return;
                }
                redactor.exact.push((value.to_lowercase(), exact.to_owned()));
                redactor.within.push((value.to_owned(), token.clone()));
            };
            add(identity.id.as_str(), &token);
            for name in &identity.names {
                add(name, &token);
            }
            for email in &identity.emails {
                add(email, pseudonym.email.as_str());
            }
            for phone in &identity.phones {
                add(phone, pseudonym.phone.as_str());
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                if digits.len() >= 6 && digits != *phone {
                    add(&digits, pseudonym.phone.as_str());
                }
            }
            redactor.ids.push((identity.id, pseudonym.id));
        }
        redactor.within.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        redactor
    }

    /// `text` redacted, or `None` if nothing in it identifies anyone.
    fn text(&self, text: &str) -> Option<String> {
        let lower = text.trim().to_lowercase();
        if let Some((_, replacement)) = self.exact.iter().find(|(value, _)| *value == lower) {
            return Some(replacement.clone());
        }
        let mut out = text.to_owned();
        let mut changed = false;
        for (value, replacement) in &self.within {
            if let Some(replaced) = replace_words(&out, value, replacement) {
                out = replaced;
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// `value` with every string redacted, or `None` if nothing changed.
    fn json(&self, value: &Value) -> Option<Value> {
        match value {
            Value::String(text) => self.text(text).map(Value::String),
            Value::Array(items) => {
                let redacted: Vec<Option<Value>> = items.iter().map(|v| self.json(v)).collect();
                redacted.iter().any(Option::is_some).then(|| {
                    Value::Array(
                        redacted
                            .into_iter()
                            .zip(items)
                            .map(|(new, old)| new.unwrap_or_else(|| old.clone()))
                            .collect(),
                    )
                })
            }
            Value::Object(map) => {
                let mut changed = false;
                let mut out = map.clone();
                for (key, item) in map {
                    if let Some(new) = self.json(item) {
                        out.insert(key.clone(), new);
                        changed = true;
                    }
                }
                changed.then_some(Value::Object(out))
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => None,
        }
    }

    /// `actor` with a redacted person, or `None` if it names nobody redacted.
    fn actor(&self, actor: &Actor) -> Option<Actor> {
        let swap = |id: &PersonId| {
            self.ids.iter().find(|(person, _)| person == id).map(|(_, pseudonym)| pseudonym.clone())
        };
        match actor {
            Actor::Agent(id) => swap(id).map(Actor::Agent),
            Actor::Requester(id) => swap(id).map(Actor::Requester),
            Actor::System | Actor::Rule(_) => None,
        }
    }
}

/// `text` with every occurrence of `value` that stands as a word (ASCII case ignored) replaced
/// by `replacement`; `None` if there is none.
fn replace_words(text: &str, value: &str, replacement: &str) -> Option<String> {
    let (haystack, needle) = (text.as_bytes(), value.as_bytes());
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    let word = |byte: Option<&u8>| byte.is_some_and(|b| b.is_ascii_alphanumeric() || *b >= 0x80);
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut at, mut found) = (0, 0, false);
    while at + needle.len() <= haystack.len() {
        let end = at + needle.len();
        let matches = text.is_char_boundary(at)
            && text.is_char_boundary(end)
            && haystack[at..end].eq_ignore_ascii_case(needle)
            && !word(at.checked_sub(1).and_then(|before| haystack.get(before)))
            && !word(haystack.get(end));
        if matches {
            out.push_str(&text[copied..at]);
            out.push_str(replacement);
            copied = end;
            at = end;
            found = true;
        } else {
            at += 1;
        }
    }
    found.then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_replaced_case_insensitively_and_only_whole() {
        assert_eq!(
            replace_words("Call KIM LEE, or kim lee.", "Kim Lee", "anon-1").as_deref(),
            Some("Call anon-1, or anon-1.")
        );
        assert_eq!(replace_words("Kim Leeson", "Kim Lee", "anon-1"), None);
        assert_eq!(replace_words("INC-012345", "12345", "anon-1"), None);
        assert_eq!(
            replace_words("mail k.lee@example.gov.uk now", "k.lee@example.gov.uk", "x").as_deref(),
            Some("mail x now")
        );
        assert_eq!(replace_words("Siân Jones", "Siân", "anon-1").as_deref(), Some("anon-1 Jones"));
    }
}
