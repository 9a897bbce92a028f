//! Data protection through the `Desk`: anonymisation leaves no trace of the person and a chain
//! that still verifies, subject access shows what the person may see, retention anonymises or
//! deletes old records, and a legal hold blocks both.

use chrono::TimeDelta;
use desk::Error;
use desk::gdpr::is_pseudonym;
use desk::store::{Filter, Query};
use desk::{Desk, LodgeComplaint, SubmitRequest};
use desk_core::channel::Channel;
use desk_core::id::{IncidentRef, RecordId};
use desk_core::incident::Command;
use desk_core::record::Visibility;
use desk_core::{Actor, request};
use serde_json::Value;

use crate::desk_support::{Fixture, agent, laptop_fault, person};

/// What identifies Kim Lee, lower-cased.
const KIM: [&str; 4] = ["k.lee", "kim lee", "01632 960123", "01632960123"];

/// Opens an incident for Kim Lee whose text names her, with her own update, a work note about
/// her and a resolution.
async fn kims_incident(desk: &Desk) -> IncidentRef {
    let mut fault = laptop_fault("k.lee");
    fault.description =
        "KIM LEE says call her on 01632 960123 or email K.Lee@example.gov.uk".to_owned();
    let reference = desk.open_incident(&agent("a.patel"), fault).await.unwrap().record.reference;
    let steps = [
        (Actor::Requester(person("k.lee")), Visibility::Public, "It beeps three times"),
        (agent("r.evans"), Visibility::Internal, "Kim Lee's desk is by the lift, 01632960123"),
    ];
    for (actor, visibility, text) in steps {
        let update = Command::AddUpdate { visibility, text: text.into() };
        desk.execute_incident(&actor, reference, update, None).await.unwrap();
    }
    let resolve = Command::Resolve { code: "fixed".parse().unwrap(), notes: "New battery".into() };
    desk.execute_incident(&agent("r.evans"), reference, resolve, None).await.unwrap();
    reference
}

/// Every event and every row in the store, as lower-case JSON text, by record.
async fn everything(desk: &Desk) -> Vec<(RecordId, String)> {
    let mut texts = Vec::new();
    let mut position = 0;
    loop {
        let events = desk.store().events_after(position, 100).await.unwrap();
        let Some(last) = events.last() else { break };
        position = last.position;
        for stored in events {
            let text = serde_json::to_string(&stored.event).unwrap().to_lowercase();
            texts.push((stored.event.record.clone(), text));
        }
    }
    let mut query = Query { filter: Filter::default(), limit: 100, ..Query::default() };
    loop {
        let page = desk.query(&query).await.unwrap();
        for row in &page.rows {
            texts.push((row.id.clone(), serde_json::to_string(row).unwrap().to_lowercase()));
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    texts
}

fn mentions_kim(text: &str) -> bool {
    KIM.iter().any(|trace| text.contains(trace))
}

#[tokio::test]
async fn anonymising_a_person_leaves_no_trace_and_the_chain_still_verifies() {
    let f = Fixture::new().await;
    let mine = kims_incident(&f.desk).await;
    let held = kims_incident(&f.desk).await;
    let complaint = f
        .desk
        .lodge_complaint(
            &Actor::Requester(person("k.lee")),
            LodgeComplaint {
                about: mine.reference(),
                complainant: person("k.lee"),
                channel: Channel::Email,
                summary: "Kim Lee waited two days".into(),
                details: String::new(),
            },
        )
        .await
        .unwrap()
        .record
        .reference();
    let others = f.desk.open_incident(&agent("a.patel"), laptop_fault("r.shah")).await.unwrap();
    f.desk.place_hold(&held.into(), "Tribunal case 2026/114", &agent("s.khan")).await.unwrap();
    let before = everything(&f.desk).await;
    assert!(before.iter().any(|(id, text)| *id == mine.into() && mentions_kim(text)));

    let done = f.desk.anonymise(&person("k.lee"), &agent("s.khan")).await.unwrap();
    assert!(is_pseudonym(&done.pseudonym), "{}", done.pseudonym);
    assert_eq!(done.held, [RecordId::from(held)]);
    for expected in [mine.into(), complaint.into(), RecordId::Requester(done.pseudonym.clone())] {
        assert!(done.records.contains(&expected), "{expected} in {:?}", done.records);
    }

    let verified = f.desk.verify_all().await.unwrap().unwrap();
    assert!(verified.redacted > 0);
    for (id, text) in everything(&f.desk).await {
        if id != RecordId::from(held) {
            assert!(!mentions_kim(&text), "{id} still names Kim: {text}");
        }
    }
    // The held incident is untouched; the unrelated one too.
    let held_row = f.desk.row(&held.into()).await.unwrap();
    assert_eq!(held_row.requester, Some(person("k.lee")));
    assert_eq!(
        f.desk.row(&others.record.reference.into()).await.unwrap().requester,
        Some(person("r.shah"))
    );
    // Her record now goes by the pseudonym, and her incident's row names it.
    assert!(matches!(f.desk.requester(&person("k.lee")).await, Err(Error::NotFound(_))));
    let renamed = f.desk.requester(&done.pseudonym).await.unwrap().record;
    assert_eq!(renamed.name(), done.pseudonym.as_str());
    assert_eq!(renamed.line_manager(), Some(&person("r.shah")));
    let row = f.desk.row(&mine.into()).await.unwrap();
    assert_eq!(row.requester, Some(done.pseudonym.clone()));
    assert!(row.body.contains(done.pseudonym.as_str()), "{}", row.body);
    // The records still work: the anonymised incident replays and takes commands.
    let close =
        f.desk.execute_incident(&agent("r.evans"), mine, Command::Close, None).await.unwrap();
    assert_eq!(close.record.requester, done.pseudonym);
}

#[tokio::test]
async fn subject_access_exports_what_the_person_may_see() {
    let f = Fixture::new().await;
    let mine = kims_incident(&f.desk).await;
    f.desk.open_incident(&agent("a.patel"), laptop_fault("r.shah")).await.unwrap();
    let export = f.desk.subject_access(&person("k.lee")).await.unwrap();
    assert_eq!(export["person"], "k.lee");
    assert_eq!(export["requester"]["profile"]["email"], "k.lee@example.gov.uk");
    assert_eq!(export["agent"], Value::Null);
    let records = export["records"].as_array().unwrap();
    let ids: Vec<&str> = records.iter().filter_map(|r| r["record"].as_str()).collect();
    assert_eq!(ids, ["INC-000001", "requester:k.lee"]);
    let incident = &records[0];
    assert_eq!(incident["roles"], serde_json::json!(["requester"]));
    let names: Vec<&str> =
        incident["events"].as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names, ["logged", "customer_updated", "resolved"], "no routing, no work notes");
    let text = export.to_string();
    assert!(!text.contains("by the lift"), "another person's internal note leaked");
    assert!(text.contains("It beeps three times"));
    assert_eq!(f.desk.row(&mine.into()).await.unwrap().requester, Some(person("k.lee")));
}

/// Resolves and closes `reference`.
async fn close(desk: &Desk, reference: IncidentRef) {
    let resolve = Command::Resolve { code: "fixed".parse().unwrap(), notes: "Done".into() };
    desk.execute_incident(&agent("r.evans"), reference, resolve, None).await.unwrap();
    desk.execute_incident(&agent("r.evans"), reference, Command::Close, None).await.unwrap();
}

#[tokio::test]
async fn retention_anonymises_or_deletes_old_records_unless_held() {
    // The example keeps incidents 72 months then anonymises them, and deletes service requests
    // after 24 months.
    let f = Fixture::new().await;
    let old = f
        .desk
        .open_incident(&agent("a.patel"), laptop_fault("k.lee"))
        .await
        .unwrap()
        .record
        .reference;
    let held = f
        .desk
        .open_incident(&agent("a.patel"), laptop_fault("k.lee"))
        .await
        .unwrap()
        .record
        .reference;
    close(&f.desk, old).await;
    close(&f.desk, held).await;
    let submitted = f
        .desk
        .submit_request(
            &Actor::Requester(person("k.lee")),
            SubmitRequest {
                item: "password-reset-token".parse().unwrap(),
                requester: person("k.lee"),
                on_behalf_of: None,
                details: "Token lost on the bus".into(),
                channel: Channel::SelfService,
            },
        )
        .await
        .unwrap();
    let token = submitted.record.reference();
    let complete =
        request::Command::CompleteTask { task: "issue-token".parse().unwrap(), note: None };
    f.desk.execute_request(&agent("a.patel"), token, complete, None).await.unwrap();
    f.desk.execute_request(&agent("a.patel"), token, request::Command::Close, None).await.unwrap();
    f.desk.place_hold(&held.into(), "Subject access dispute", &agent("s.khan")).await.unwrap();
    // A hold needs a reason, and a record.
    assert!(matches!(
        f.desk.place_hold(&held.into(), " ", &agent("s.khan")).await,
        Err(Error::Invalid(_))
    ));

    // Thirty months on: the request goes, the incidents stay as they are.
    f.clock.advance(TimeDelta::days(30 * 31));
    let report = f.desk.apply_retention(f.desk.now()).await.unwrap();
    assert_eq!(report.deleted, [RecordId::from(token)]);
    assert!(report.anonymised.is_empty());
    assert!(matches!(f.desk.request(token).await, Err(Error::NotFound(_))));
    assert!(f.desk.history(&token.into()).await.unwrap().is_empty());

    // Seventy-three months on: the old incident is anonymised, the held one is not.
    f.clock.advance(TimeDelta::days(43 * 31));
    let report = f.desk.apply_retention(f.desk.now()).await.unwrap();
    assert_eq!(report.anonymised, [RecordId::from(old)]);
    let row = f.desk.row(&old.into()).await.unwrap();
    assert!(row.people.iter().all(is_pseudonym), "{:?}", row.people);
    assert_eq!(row.status, "closed");
    assert!(f.desk.row(&held.into()).await.unwrap().people.contains(&person("k.lee")));
    // Kim herself is still a requester: her record is not a closed record.
    assert!(f.desk.requester(&person("k.lee")).await.is_ok());
    assert!(f.desk.verify_all().await.unwrap().is_ok());

    // Nothing more to do until the hold is released.
    let again = f.desk.apply_retention(f.desk.now()).await.unwrap();
    assert!(again.anonymised.is_empty() && again.deleted.is_empty());
    f.desk.release_hold(&held.into(), &agent("s.khan")).await.unwrap();
    assert_eq!(f.desk.hold(&held.into()).await.unwrap(), None);
    let released = f.desk.apply_retention(f.desk.now()).await.unwrap();
    assert_eq!(released.anonymised, [RecordId::from(held)]);
}
