//! The audit chain: every event carries the hash of its record's previous event.
//!
//! `content_digest = SHA-256(canonical JSON of {"actor": …, "payload": …})` and
//! `hash = SHA-256(prev_hash ‖ seq ‖ at ‖ name ‖ content_digest)`, each variable part
//! length-prefixed. Canonical JSON sorts object keys, so the digest does not depend on how a
//! serializer orders them. [`verify`] walks a history and reports the first link that does not
//! hold.
//!
//! Anonymisation (GDPR) rewrites the actor and payload of some events: those parts are personal
//! data the law says must go. It keeps their `content_digest` and marks them `redacted`. The
//! chain of hashes, sequence numbers and times still verifies through a redacted event; only
//! its content can no longer be compared with its digest, and `verify` says how many such events
//! a history has.

use chrono::SecondsFormat;
use desk_core::Timestamp;
use desk_core::id::RecordId;
use desk_core::record::{Actor, Visibility};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::store::{Digest, EventRecord, StoredEvent};

/// The first link of a history that does not hold.
///
/// JSON shape: `{"record": "INC-000001", "seq": 4, "reason": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{record}: event {seq}: {reason}")]
pub struct BrokenLink {
    /// The record.
    pub record: RecordId,
    /// The first event at fault.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// The digest of an event's content: who did it and what it says.
pub fn content_digest(actor: &Actor, payload: &serde_json::Value) -> Digest {
    let mut canonical = Vec::with_capacity(256);
    canonical.extend_from_slice(b"{\"actor\":");
    write_canonical(
        &serde_json::to_value(actor).unwrap_or(serde_json::Value::Null),
        &mut canonical,
    );
    canonical.extend_from_slice(b",\"payload\":");
    write_canonical(payload, &mut canonical);
    canonical.push(b'}');
    Digest(Sha256::digest(&canonical).into())
}

/// The hash linking an event to its predecessor.
pub fn link_hash(
    prev_hash: &Digest,
    seq: u64,
    at: Timestamp,
    name: &str,
    content_digest: &Digest,
) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.0);
    hasher.update(seq.to_be_bytes());
    let at = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    for part in [at.as_bytes(), name.as_bytes()] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.update(content_digest.0);
    Digest(hasher.finalize().into())
}

/// Builds the stored form of an event that follows `prev_hash`.
#[allow(clippy::too_many_arguments)]
pub fn seal(
    record: RecordId,
    seq: u64,
    at: Timestamp,
    actor: Actor,
    name: &str,
    visibility: Visibility,
    payload: serde_json::Value,
    prev_hash: Digest,
) -> EventRecord {
    let content_digest = content_digest(&actor, &payload);
    let hash = link_hash(&prev_hash, seq, at, name, &content_digest);
    EventRecord {
        record,
        seq,
        at,
        actor,
        name: name.to_owned(),
        visibility,
        payload,
        content_digest,
        prev_hash,
        hash,
        redacted: false,
    }
}

/// What [`verify`] found in a sound history.
///
/// JSON shape: `{"events": 12, "redacted": 2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// Events checked.
    pub events: u64,
    /// Anonymised events, whose content could not be compared with its digest.
    pub redacted: u64,
}

/// Checks a record's whole history, in order: sequence numbers, links, hashes and digests.
pub fn verify(history: &[StoredEvent]) -> Result<Verified, BrokenLink> {
    let mut chain = Chain::default();
    for stored in history {
        chain.check(&stored.event)?;
    }
    Ok(chain.verified())
}

/// A record's chain checked one event at a time, for callers that stream events (such as
/// checking a whole store through its change feed) rather than hold a history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    seq: u64,
    prev: Digest,
    redacted: u64,
}

impl Chain {
    /// Checks the next event of the record: it must follow the events checked so far.
    pub fn check(&mut self, event: &EventRecord) -> Result<(), BrokenLink> {
        let broken =
            |reason: String| BrokenLink { record: event.record.clone(), seq: event.seq, reason };
        let expected_seq = self.seq + 1;
        if event.seq != expected_seq {
            return Err(broken(format!("expected sequence number {expected_seq}")));
        }
        if event.prev_hash != self.prev {
            return Err(broken("does not link to the previous event".to_owned()));
        }
        if event.redacted {
            self.redacted += 1;
        } else if content_digest(&event.actor, &event.payload) != event.content_digest {
            return Err(broken("the content does not match its digest".to_owned()));
        }
        let hash = link_hash(&self.prev, event.seq, event.at, &event.name, &event.content_digest);
        if hash != event.hash {
            return Err(broken("the hash does not match the event".to_owned()));
        }
        self.seq = event.seq;
        self.prev = event.hash;
        Ok(())
    }

    /// What the events checked so far add up to.
    pub fn verified(&self) -> Verified {
        Verified { events: self.seq, redacted: self.redacted }
    }
}

/// JSON with object keys sorted, no whitespace.
fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (n, (key, value)) in entries.into_iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_canonical(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;

    fn history(n: u64) -> Vec<StoredEvent> {
        let record: RecordId = "INC-000001".parse().unwrap();
        let mut prev = Digest::default();
        (1..=n)
            .map(|seq| {
                let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
                    + chrono::Duration::minutes(seq as i64);
                let actor = Actor::Agent("j.smith".parse().unwrap());
                let event = seal(
                    record.clone(),
                    seq,
                    at,
                    actor,
                    "customer_updated",
                    Visibility::Public,
                    json!({"type": "customer_updated", "text": format!("update {seq}")}),
                    prev,
                );
                prev = event.hash;
                StoredEvent { position: seq, event }
            })
            .collect()
    }

    #[test]
    fn a_sealed_history_verifies() {
        assert_eq!(verify(&history(5)), Ok(Verified { events: 5, redacted: 0 }));
        assert_eq!(verify(&[]), Ok(Verified { events: 0, redacted: 0 }));
    }

    #[test]
    fn tampering_is_found_at_the_first_broken_link() {
        let mut events = history(5);
        events[2].event.payload = json!({"type": "customer_updated", "text": "rewritten"});
        let broken = verify(&events).unwrap_err();
        assert_eq!(
            (broken.seq, broken.reason.as_str()),
            (3, "the content does not match its digest")
        );

        let mut events = history(5);
        events[3].event.at += chrono::Duration::seconds(1);
        assert_eq!(verify(&events).unwrap_err().seq, 4);

        let mut events = history(5);
        events.remove(1);
        assert_eq!(verify(&events).unwrap_err().seq, 3);
    }

    #[test]
    fn an_anonymised_event_still_chains() {
        let mut events = history(4);
        events[1].event.payload = json!({"type": "customer_updated", "text": "[redacted]"});
        events[1].event.actor = Actor::Agent("anon-1".parse().unwrap());
        events[1].event.redacted = true;
        assert_eq!(verify(&events), Ok(Verified { events: 4, redacted: 1 }));
        events[1].event.name = "closed".into();
        assert_eq!(verify(&events).unwrap_err().seq, 2);
    }

    #[test]
    fn digests_do_not_depend_on_key_order() {
        let actor = Actor::System;
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": [1, {"y": 2, "x": 1}]}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a": [1, {"x": 1, "y": 2}], "b": 1}"#).unwrap();
        assert_eq!(content_digest(&actor, &a), content_digest(&actor, &b));
        let digest = content_digest(&actor, &a);
        assert_eq!(digest.to_string().parse::<Digest>().unwrap(), digest);
    }
}
