//! The other records through the `Desk`: service requests (approvals checked against the line
//! manager on record), complaints (routed to the ticket's team lead), problems, articles and
//! people; and the typed queries.

use std::sync::Arc;

use desk::outbox::{Dispatcher, Notification, Recipient, RecordingNotifier, Topic};
use desk::queries::{PageRequest, Queue};
use desk::store::RowKind;
use desk::{Error, LodgeComplaint, LogProblem, SubmitRequest};
use desk_core::channel::Channel;
use desk_core::config::ApprovalRole;
use desk_core::id::{IncidentRef, ProblemRef, RecordId};
use desk_core::knowledge::{self, Content};
use desk_core::people::requester;
use desk_core::record::Visibility;
use desk_core::{Actor, complaint, problem, request};

use crate::desk_support::{Fixture, agent, laptop_fault, person};

async fn notifications(f: &Fixture) -> Vec<Notification> {
    let notifier = RecordingNotifier::new();
    let dispatcher = Dispatcher::new(&f.desk, Arc::new(notifier.clone()));
    while dispatcher.run_once().await.unwrap().claimed > 0 {}
    notifier.notifications()
}

#[tokio::test]
async fn a_line_manager_approval_must_come_from_the_line_manager_on_record() {
    let f = Fixture::new().await;
    let submitted = f
        .desk
        .submit_request(
            &Actor::Requester(person("k.lee")),
            SubmitRequest {
                item: "file-share-access".parse().unwrap(),
                requester: person("k.lee"),
                on_behalf_of: None,
                details: "Read access to Revenues\\Reports".into(),
                channel: Channel::SelfService,
            },
        )
        .await
        .unwrap();
    let reference = submitted.record.reference();
    assert_eq!(reference.to_string(), "REQ-000001");
    assert_eq!(submitted.record.pending_approval(), Some(ApprovalRole::LineManager));

    let approve = |by: &str| request::Command::Approve {
        role: ApprovalRole::LineManager,
        approver: Actor::Requester(person(by)),
        note: None,
    };
    let err = f
        .desk
        .execute_request(&agent("a.patel"), reference, approve("cllr.brown"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotApprover { expected, approver, .. }
            if *expected == person("r.shah") && *approver == person("cllr.brown")),
        "{err}"
    );
    let approved = f
        .desk
        .execute_request(&agent("a.patel"), reference, approve("r.shah"), None)
        .await
        .unwrap();
    assert_eq!(approved.record.pending_approval(), Some(ApprovalRole::InformationAssetOwner));

    // The approvals were asked of the line manager by name, then of the role.
    let asked: Vec<Recipient> = notifications(&f)
        .await
        .into_iter()
        .filter(|n| n.topic == Topic::ApprovalRequested)
        .map(|n| n.recipient)
        .collect();
    assert_eq!(
        asked,
        [
            Recipient::Person {
                id: person("r.shah"),
                name: Some("Raj Shah".into()),
                email: Some("r.shah@example.gov.uk".parse().unwrap()),
            },
            Recipient::Role { role: ApprovalRole::InformationAssetOwner },
        ]
    );
    let row = f.desk.row(&reference.into()).await.unwrap();
    assert_eq!(
        (row.kind, row.status.as_str(), row.open),
        (RowKind::ServiceRequest, "awaiting_approval", true)
    );
}

#[tokio::test]
async fn a_complaint_goes_to_the_lead_of_the_team_that_had_the_ticket() {
    let f = Fixture::new().await;
    let incident = f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let lodge = |about| LodgeComplaint {
        about,
        complainant: person("k.lee"),
        channel: Channel::Email,
        summary: "Nobody came".into(),
        details: "I waited all day".into(),
    };
    let lodged = f
        .desk
        .lodge_complaint(&agent("a.patel"), lodge(incident.record.reference.reference()))
        .await
        .unwrap();
    assert_eq!(lodged.record.handler(), &person("r.evans"), "desk-side's lead");
    let reference = lodged.record.reference();
    let respond = complaint::Command::Respond {
        outcome: complaint::Outcome::Upheld,
        response: "We are sorry".into(),
    };
    let err = f.desk.execute_complaint(&agent("r.evans"), reference, respond.clone(), None).await;
    assert!(matches!(err, Err(Error::Complaint(_))), "not under investigation yet");
    for command in
        [complaint::Command::Acknowledge, complaint::Command::StartInvestigation, respond]
    {
        f.desk.execute_complaint(&agent("r.evans"), reference, command, None).await.unwrap();
    }
    let topics: Vec<(Topic, String)> = notifications(&f)
        .await
        .into_iter()
        .filter(|n| n.record == reference.into())
        .map(|n| (n.topic, n.recipient.key()))
        .collect();
    assert_eq!(
        topics,
        [
            (Topic::ComplaintLodged, "person:r.evans".into()),
            (Topic::ComplaintAcknowledged, "person:k.lee".into()),
            (Topic::ComplaintResponded, "person:k.lee".into()),
        ]
    );
    // A complaint about a ticket that does not exist is refused.
    let missing = IncidentRef::from_number(404).unwrap().reference();
    let err = f.desk.lodge_complaint(&agent("a.patel"), lodge(missing)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

#[tokio::test]
async fn problems_and_articles_link_only_to_records_that_exist() {
    let f = Fixture::new().await;
    let incident = f.desk.open_incident(&agent("a.patel"), laptop_fault("k.lee")).await.unwrap();
    let incident = incident.record.reference;
    let missing = IncidentRef::from_number(77).unwrap();
    let logged = f
        .desk
        .log_problem(
            &agent("r.evans"),
            LogProblem {
                title: "Laptops of the 2024 batch fail to boot".into(),
                team: Some("desk-side".parse().unwrap()),
                incidents: [incident].into(),
                ..LogProblem::default()
            },
        )
        .await
        .unwrap();
    let problem: ProblemRef = logged.record.reference();
    let link = problem::Command::LinkIncident { incident: missing };
    let err = f.desk.execute_problem(&agent("r.evans"), problem, link, None).await.unwrap_err();
    assert!(matches!(&err, Error::NotFound(id) if *id == RecordId::from(missing)), "{err}");
    let row = f.desk.row(&problem.into()).await.unwrap();
    assert_eq!((row.team.as_ref().map(|t| t.as_str()), row.open), (Some("desk-side"), true));

    let content = Content {
        title: "Laptop will not boot after the update".into(),
        body: "Hold the power button for 30 seconds".into(),
        keywords: Default::default(),
        category: Some("hardware/laptop".parse().unwrap()),
        visibility: Visibility::Public,
    };
    let article = f.desk.create_article(&agent("r.evans"), content).await.unwrap();
    let reference = article.record.reference();
    let link = knowledge::Command::LinkProblem { problem };
    f.desk.execute_article(&agent("r.evans"), reference, link, None).await.unwrap();
    let link = knowledge::Command::LinkIncident { incident: missing };
    assert!(matches!(
        f.desk.execute_article(&agent("r.evans"), reference, link, None).await,
        Err(Error::NotFound(_))
    ));
    let found = f
        .desk
        .search("power BUTTON", Some(RowKind::Article), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        found.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        [RecordId::from(reference)]
    );
}

#[tokio::test]
async fn people_are_records_with_their_own_refusals() {
    let f = Fixture::new().await;
    let kim = f.desk.requester(&person("k.lee")).await.unwrap();
    assert_eq!((kim.record.name(), kim.version), ("Kim Lee", 1));
    let again = requester::Command::Register {
        id: person("k.lee"),
        profile: kim.record.profile().clone(),
        vip: None,
    };
    let err = f
        .desk
        .execute_requester(&agent("s.khan"), &person("k.lee"), again, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Requester(_)), "{err}");
    let left = f
        .desk
        .execute_requester(
            &agent("s.khan"),
            &person("k.lee"),
            requester::Command::RecordLeaving,
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(left.version, 2);
    let row = f.desk.row(&RecordId::Requester(person("k.lee"))).await.unwrap();
    assert_eq!((row.status.as_str(), row.open, row.closed_at), ("left", false, Some(f.desk.now())));
    let evans = f.desk.agent(&person("r.evans")).await.unwrap().record;
    assert!(evans.in_team(&"desk-side".parse().unwrap()));
}

#[tokio::test]
async fn queues_searches_and_a_persons_tickets_page_through_the_rows() {
    let f = Fixture::new().await;
    for requester in ["k.lee", "r.shah", "k.lee", "cllr.brown", "k.lee"] {
        f.desk.open_incident(&agent("a.patel"), laptop_fault(requester)).await.unwrap();
        f.clock.advance(chrono::TimeDelta::minutes(1));
    }
    let desk_side = Queue { team: Some("desk-side".parse().unwrap()), ..Queue::default() };
    let first = f.desk.queue(&desk_side, PageRequest::first(3)).await.unwrap();
    assert_eq!(first.rows.len(), 3);
    // The VIP's P3 comes before the P4s.
    assert_eq!(first.rows[0].requester, Some(person("cllr.brown")));
    let next = f.desk.queue(&desk_side, PageRequest::after(3, first.next.unwrap())).await.unwrap();
    assert_eq!(next.rows.len(), 2);
    assert!(next.next.is_none());
    let kims = f.desk.by_requester(&person("k.lee"), PageRequest::default()).await.unwrap();
    // Her tickets (not her own person record), newest first.
    let ids: Vec<String> = kims.rows.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(ids, ["INC-000005", "INC-000003", "INC-000001"]);
    let networks = Queue { team: Some("networks".parse().unwrap()), ..Queue::default() };
    assert!(f.desk.queue(&networks, PageRequest::default()).await.unwrap().rows.is_empty());
    let found = f.desk.search("black SCREEN", None, PageRequest::default()).await.unwrap();
    assert_eq!(found.rows.len(), 5);
    assert!(f.desk.past_sla(PageRequest::default()).await.unwrap().rows.is_empty());
}

#[tokio::test]
async fn changes_take_their_cis_from_the_register_and_report_collisions() {
    use desk::{AddAsset, RaiseChange};
    use desk_core::asset::{Class, Deployment, Link, Relationship, Status};
    use desk_core::change::{self, Kind, Reason, Target, Window};

    let f = Fixture::new().await;
    let registered = |name: &str, class: Class, links: Vec<Link>| AddAsset {
        name: name.into(),
        attributes: class.blank(),
        status: Some(Status::Deployed),
        deployment: Some(Deployment { to: None, location: "Civic Centre data room".into() }),
        links,
    };
    let admin = agent("s.khan");
    let server =
        f.desk.add_asset(&admin, registered("EBC-SRV-01", Class::Server, vec![])).await.unwrap();
    let server = server.record.reference();
    let on_server = vec![Link { kind: Relationship::RunsOn, target: server }];
    let revenues =
        f.desk.add_asset(&admin, registered("Revenues", Class::Software, on_server)).await.unwrap();
    let revenues = revenues.record.reference();
    let impact = f.desk.cmdb().await.unwrap().impact(server).unwrap();
    assert!(impact.path_to(revenues).is_some(), "the server's failure reaches Revenues");

    // A change on the server, authorised by the ECAB and scheduled for tonight.
    let raise = |title: &str, ci| RaiseChange {
        title: title.into(),
        description: String::new(),
        kind: Kind::Emergency,
        cis: vec![ci],
    };
    let patch = f.desk.raise_change(&admin, raise("Patch the server", server)).await.unwrap();
    assert_eq!(patch.record.cis(), [Target { ci: server, class: Class::Server }]);
    let patch = patch.record.reference();
    let tonight = Window::new(
        f.desk.now() + chrono::TimeDelta::hours(10),
        f.desk.now() + chrono::TimeDelta::hours(12),
    )
    .unwrap();
    for command in [
        change::Command::Submit,
        change::Command::Approve { member: person("s.khan") },
        change::Command::Approve { member: person("d.okafor") },
        change::Command::Schedule { window: tonight },
    ] {
        f.desk.execute_change(&admin, patch, command, None).await.unwrap();
    }
    // Upgrading Revenues in an overlapping window collides with it through the CMDB.
    let upgrade = f.desk.raise_change(&admin, raise("Upgrade Revenues", revenues)).await.unwrap();
    let upgrade = upgrade.record.reference();
    let overlapping = Window::new(
        tonight.start() + chrono::TimeDelta::hours(1),
        tonight.end() + chrono::TimeDelta::hours(1),
    )
    .unwrap();
    let collisions = f.desk.change_collisions(upgrade, overlapping).await.unwrap();
    assert_eq!(collisions.len(), 1);
    assert_eq!(collisions[0].change, patch);
    assert!(
        matches!(collisions[0].reasons[..], [Reason::Related { ours, theirs, .. }] if ours == revenues && theirs == server)
    );
    let later = Window::new(
        tonight.end() + chrono::TimeDelta::days(1),
        tonight.end() + chrono::TimeDelta::days(2),
    )
    .unwrap();
    assert!(f.desk.change_collisions(upgrade, later).await.unwrap().is_empty());

    // The register is the reference for classes and existence.
    let wrong = change::Command::SetCis { cis: vec![Target { ci: server, class: Class::Printer }] };
    assert!(matches!(
        f.desk.execute_change(&admin, upgrade, wrong, None).await,
        Err(Error::Invalid(_))
    ));
    let missing = desk_core::id::AssetRef::from_number(99).unwrap();
    assert!(matches!(
        f.desk.raise_change(&admin, raise("Ghost", missing)).await,
        Err(Error::NotFound(_))
    ));
    let row = f.desk.row(&revenues.into()).await.unwrap();
    assert_eq!((row.kind, row.cis.as_slice()), (RowKind::Asset, &[revenues][..]));
    let by_ci = f.desk.by_ci(server, PageRequest::default()).await.unwrap();
    let ids: Vec<RecordId> = by_ci.rows.iter().map(|r| r.id.clone()).collect();
    assert!(ids.contains(&patch.into()) && ids.contains(&server.into()), "{ids:?}");
}
