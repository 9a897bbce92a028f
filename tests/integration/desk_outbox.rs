//! The outbox through the `Desk`: what each event notifies, that requesters never get internal
//! facts, and the dispatcher's retries, dead letters, leases and idempotency keys.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::TimeDelta;
use desk::outbox::{
    Audience, DeliveryError, Dispatcher, Notification, Recipient, RecordingNotifier, RetryPolicy,
    Topic, idempotency_key,
};
use desk_core::incident::{Command, Escalation};
use desk_core::record::Visibility;

use crate::desk_support::{Fixture, agent, laptop_fault, person};

/// Delivers everything ready now, round after round, until a round claims nothing.
async fn drain(dispatcher: &Dispatcher) {
    while dispatcher.run_once().await.unwrap().claimed > 0 {}
}

fn dispatcher(f: &Fixture, notifier: &RecordingNotifier) -> Dispatcher {
    Dispatcher::new(&f.desk, Arc::new(notifier.clone()))
}

#[tokio::test]
async fn each_event_notifies_its_audience_with_what_it_may_see() {
    let f = Fixture::new().await;
    let notifier = RecordingNotifier::new();
    let opened = f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let reference = opened.record.reference;
    let run = |command| {
        let desk = f.desk.clone();
        async move { desk.execute_incident(&agent("r.evans"), reference, command, None).await.unwrap() }
    };
    run(Command::AddUpdate { visibility: Visibility::Internal, text: "User's PIN is 4711".into() })
        .await;
    run(Command::AddUpdate {
        visibility: Visibility::Public,
        text: "Engineer booked for 2pm".into(),
    })
    .await;
    run(Command::DeclareMajor { reason: "Whole floor affected".into() }).await;
    run(Command::Resolve { code: "fixed".parse().unwrap(), notes: "Reseated the dock".into() })
        .await;
    drain(&dispatcher(&f, &notifier)).await;

    let sent = notifier.notifications();
    let topics: Vec<(Topic, String)> = sent.iter().map(|n| (n.topic, n.recipient.key())).collect();
    assert_eq!(
        topics,
        [
            (Topic::IncidentLogged, "person:k.lee".to_owned()),
            (Topic::IncidentAssigned, "team:desk-side".to_owned()),
            (Topic::IncidentUpdated, "person:k.lee".to_owned()),
            (Topic::MajorDeclared, "person:s.khan".to_owned()),
            (Topic::IncidentEscalated, "person:s.khan".to_owned()),
            (Topic::IncidentResolved, "person:k.lee".to_owned()),
        ]
    );
    // The requester's messages say who they are and carry public facts only.
    for public in sent.iter().filter(|n| n.audience == Audience::Public) {
        assert_eq!(
            public.recipient,
            Recipient::Person {
                id: person("k.lee"),
                name: Some("Kim Lee".into()),
                email: Some("k.lee@example.gov.uk".parse().unwrap()),
            }
        );
        assert_eq!((public.subject.priority, &public.subject.team), (None, &None));
        assert_eq!(public.subject.title, "Laptop will not boot");
    }
    let updated = sent.iter().find(|n| n.topic == Topic::IncidentUpdated).unwrap();
    assert_eq!(updated.text.as_deref(), Some("Engineer booked for 2pm"));
    let resolved = sent.iter().find(|n| n.topic == Topic::IncidentResolved).unwrap();
    assert_eq!(
        (resolved.subject.status.as_str(), resolved.text.as_deref()),
        ("resolved", Some("Reseated the dock"))
    );
    // Staff messages carry the internal facts; the team's mailbox comes from configuration.
    let assigned = sent.iter().find(|n| n.topic == Topic::IncidentAssigned).unwrap();
    assert_eq!(assigned.audience, Audience::Staff);
    assert_eq!(assigned.subject.priority.map(|p| p.to_string()).as_deref(), Some("P4"));
    assert!(
        matches!(&assigned.recipient, Recipient::Team { name: Some(name), .. } if name == "Desk-side Support")
    );
    // The internal note reaches nobody.
    for message in notifier.delivered() {
        assert!(!message.payload.to_string().contains("4711"), "{}", message.payload);
    }
}

#[tokio::test]
async fn idempotency_keys_name_the_event_the_topic_and_the_recipient() {
    let f = Fixture::new().await;
    let notifier = RecordingNotifier::new();
    let opened = f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let reference = opened.record.reference;
    let escalate = Command::Escalate(Escalation::Functional {
        team: "networks".parse().unwrap(),
        agent: Some(person("d.okafor")),
        reason: "Switch port dead".into(),
    });
    f.desk.execute_incident(&agent("r.evans"), reference, escalate, None).await.unwrap();
    drain(&dispatcher(&f, &notifier)).await;
    let delivered = notifier.delivered();
    let keys: BTreeSet<&str> = delivered.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys.len(), delivered.len(), "every message has its own key");
    for message in &delivered {
        let notification = Notification::of(message).unwrap();
        assert_eq!(message.key, notification.key());
        assert_eq!(message.topic, notification.topic.as_str());
        assert_eq!(message.record, reference.into());
        assert_eq!(message.key.len(), 32);
        assert!(!message.key.contains("k.lee"), "keys hold no personal data");
    }
    // The escalation told the new team and the named agent, under event 3.
    let escalated: Vec<String> = delivered
        .iter()
        .map(|m| Notification::of(m).unwrap())
        .filter(|n| n.seq == 3)
        .map(|n| n.recipient.key())
        .collect();
    assert_eq!(escalated, ["team:networks", "person:d.okafor"]);
    // The key begins with the time of the event, as the notification carries it.
    let escalated_at =
        delivered.iter().map(|m| Notification::of(m).unwrap()).find(|n| n.seq == 3).unwrap().at;
    let expected = idempotency_key(
        &reference.into(),
        3,
        escalated_at,
        Topic::IncidentAssigned,
        &Recipient::person(person("d.okafor")),
    );
    assert!(keys.contains(expected.as_str()));
}

#[tokio::test]
async fn transient_failures_are_retried_with_backoff_then_dead_lettered() {
    let f = Fixture::new().await;
    f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let notifier = RecordingNotifier::new();
    let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    let dispatcher = dispatcher(&f, &notifier).with_policy(policy);

    // Two messages (acknowledgement and assignment); the first attempt of each fails.
    notifier.fail_next(2, DeliveryError::Transient("SMTP server busy".into()));
    let report = dispatcher.run_once().await.unwrap();
    assert_eq!((report.claimed, report.retried, report.delivered), (2, 2, 0));
    assert_eq!(dispatcher.run_once().await.unwrap().claimed, 0, "not before the backoff");
    f.clock.advance(TimeDelta::seconds(30));
    let report = dispatcher.run_once().await.unwrap();
    assert_eq!((report.claimed, report.delivered), (2, 2));
    assert_eq!((notifier.delivered().len(), notifier.attempts()), (2, 4));

    // A message that keeps failing is given up on after the last attempt.
    f.desk.open_incident(&agent("a.patel"), laptop_fault("r.shah")).await.unwrap();
    notifier.fail_next(100, DeliveryError::Transient("mailbox full".into()));
    for wait in [0, 30, 60] {
        f.clock.advance(TimeDelta::seconds(wait));
        assert_eq!(dispatcher.run_once().await.unwrap().claimed, 2);
    }
    f.clock.advance(TimeDelta::hours(2));
    assert_eq!(dispatcher.run_once().await.unwrap().claimed, 0);
    let dead = f.desk.store().dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(dead.iter().all(|d| d.attempts == 3 && d.error.contains("mailbox full")));
}

#[tokio::test]
async fn a_permanent_failure_is_a_dead_letter_at_once() {
    let f = Fixture::new().await;
    f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let notifier = RecordingNotifier::new();
    notifier.fail_next(1, DeliveryError::Permanent("no such mailbox".into()));
    let report = dispatcher(&f, &notifier).run_once().await.unwrap();
    assert_eq!((report.dead, report.delivered), (1, 1));
    let dead = f.desk.store().dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].attempts, dead[0].message.topic.as_str()), (1, "incident.logged"));
}

#[tokio::test]
async fn a_claim_whose_dispatcher_died_is_delivered_again_after_its_lease() {
    let f = Fixture::new().await;
    f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    // A dispatcher claims the batch and dies before settling it.
    let now = f.desk.now();
    let lease = RetryPolicy::default().lease;
    let claimed = f.desk.store().claim_outbox(now, now + lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let notifier = RecordingNotifier::new();
    let survivor = dispatcher(&f, &notifier);
    assert_eq!(survivor.run_once().await.unwrap().claimed, 0, "the lease still holds");
    f.clock.advance(lease + TimeDelta::seconds(1));
    let report = survivor.run_once().await.unwrap();
    assert_eq!(report.delivered, 2);
    let keys: BTreeSet<String> = claimed.iter().map(|item| item.message.key.clone()).collect();
    let redelivered: BTreeSet<String> = notifier.delivered().into_iter().map(|m| m.key).collect();
    assert_eq!(redelivered, keys, "a redelivery carries the same idempotency key");
}

#[tokio::test]
async fn the_dispatcher_loop_delivers_what_the_desk_commits_and_stops_on_shutdown() {
    let f = Fixture::new().await;
    let notifier = RecordingNotifier::new();
    let dispatcher = dispatcher(&f, &notifier);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        dispatcher
            .run(async {
                stopped.await.ok();
            })
            .await;
    });
    // The loop wakes on this desk's commits; wait for the deliveries through the store.
    let mut commits = f.desk.commits();
    f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    commits.changed().await.unwrap();
    while notifier.delivered().len() < 2 {
        tokio::task::yield_now().await;
    }
    stop.send(()).unwrap();
    running.await.unwrap();
    assert_eq!(notifier.delivered().len(), 2);
}
