//! Unit tests for the article aggregate, search and coverage gaps.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::config::DeskConfig;
use crate::links::LinkError;
use crate::problem::IncidentDigest;

fn t(minutes: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn author() -> Actor {
    Actor::Agent(person("j.smith"))
}

fn reviewer() -> Actor {
    Actor::Agent(person("a.patel"))
}

fn kb(n: u32) -> ArticleRef {
    ArticleRef::from_number(n).unwrap()
}

fn content(title: &str, body: &str, keywords: &[&str], visibility: Visibility) -> Content {
    Content {
        title: title.into(),
        body: body.into(),
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        category: Some(CategoryId::new("network/vpn").unwrap()),
        visibility,
    }
}

fn vpn() -> Content {
    content(
        "Connect to the VPN from home",
        "Open GlobalConnect and sign in with your e-token.",
        &[" VPN ", "Remote Access", ""],
        Visibility::Public,
    )
}

/// Runs `(actor, command)` pairs from nothing, one minute apart; the final state.
fn given(steps: impl IntoIterator<Item = (Actor, Command)>) -> Article {
    let config = DeskConfig::example();
    let mut state = None;
    for (n, (actor, command)) in steps.into_iter().enumerate() {
        let ctx = Context::new(t(n as i64), &actor, &config);
        let (next, _) = Article::execute(state, command, ctx).unwrap();
        state = Some(next);
    }
    state.unwrap()
}

fn when(state: &Article, actor: &Actor, command: Command) -> Result<Vec<Event>, Error> {
    let config = DeskConfig::example();
    Article::decide(Some(state), command, Context::new(t(100), actor, &config))
}

fn create(n: u32, content: Content) -> (Actor, Command) {
    (author(), Command::Create { reference: kb(n), content })
}

fn published(n: u32, content: Content) -> Article {
    given([
        create(n, content),
        (author(), Command::SubmitForReview),
        (reviewer(), Command::Approve),
    ])
}

#[test]
fn creating_tidies_the_content_and_starts_a_draft() {
    // given nothing, when an agent writes an article
    let article = given([create(1, vpn())]);
    // then it is a draft revision by them with normalised keywords
    assert_eq!(article.status(), Status::Draft);
    let revision = article.revision().unwrap();
    assert_eq!(revision.stage, Stage::Draft);
    assert_eq!(revision.editors, BTreeSet::from([person("j.smith")]));
    assert_eq!(
        revision.content.keywords,
        BTreeSet::from(["vpn".to_owned(), "remote access".to_owned()])
    );
    assert!(article.published().is_none());
}

#[test]
fn only_an_agent_may_write() {
    let config = DeskConfig::example();
    let requester = Actor::Requester(person("k.lee"));
    let command = Command::Create { reference: kb(1), content: vpn() };
    let err = Article::decide(None, command, Context::new(t(0), &requester, &config)).unwrap_err();
    assert_eq!(err.to_string(), "requester k.lee may not create a knowledge article");
    let command = Command::Create { reference: kb(1), content: vpn() };
    let err =
        Article::decide(None, command, Context::new(t(0), &Actor::System, &config)).unwrap_err();
    assert!(matches!(err, Error::NotPermitted { .. }));
}

#[test]
fn the_author_may_not_approve_their_own_revision() {
    // given a draft submitted by its author
    let article = given([create(1, vpn()), (author(), Command::SubmitForReview)]);
    assert_eq!(article.status(), Status::InReview);
    // when the author approves it, then four eyes refuse
    let err = when(&article, &author(), Command::Approve).unwrap_err();
    assert_eq!(err.to_string(), "j.smith edited this revision of KB-000001 and may not approve it");
    // and a colleague's approval publishes version 1
    let article = published(1, vpn());
    let version = article.published().unwrap();
    assert_eq!(version.number.get(), 1);
    assert_eq!(version.approved_by, person("a.patel"));
    assert_eq!(version.published_at, t(2));
    assert!(article.revision().is_none());
}

#[test]
fn submitting_needs_a_body_and_review_freezes_the_text() {
    let empty = given([create(1, content("Printer jams", " ", &[], Visibility::Internal))]);
    let err = when(&empty, &author(), Command::SubmitForReview).unwrap_err();
    assert_eq!(err.to_string(), "cannot submit_for_review: no body given");

    let in_review = given([create(1, vpn()), (author(), Command::SubmitForReview)]);
    let err = when(&in_review, &author(), Command::Edit { content: vpn() }).unwrap_err();
    assert_eq!(err.to_string(), "cannot edit KB-000001 while it is in review");
}

#[test]
fn requesting_changes_returns_the_revision_to_draft_with_the_note() {
    let article = given([
        create(1, vpn()),
        (author(), Command::SubmitForReview),
        (reviewer(), Command::RequestChanges { note: "Add the e-token step".into() }),
    ]);
    assert_eq!(article.status(), Status::Draft);
    assert_eq!(article.revision().unwrap().review_note.as_deref(), Some("Add the e-token step"));
    assert!(matches!(
        when(&article, &reviewer(), Command::RequestChanges { note: " ".into() }),
        Err(Error::InvalidTransition { state: Status::Draft, .. })
    ));
}

#[test]
fn editing_a_published_article_keeps_the_published_version_visible() {
    // given a published article
    let article = published(1, vpn());
    let first = article.published().unwrap().clone();
    // when an agent edits it
    let mut second = vpn();
    second.body = "Open GlobalConnect 6 and sign in.".into();
    let config = DeskConfig::example();
    let editor = Actor::Agent(person("h.wright"));
    let (article, events) = Article::execute(
        Some(article),
        Command::Edit { content: second.clone() },
        Context::new(t(10), &editor, &config),
    )
    .unwrap();
    // then a revision starts and readers still see version 1
    assert_eq!(events[0].name(), "revision_started");
    assert_eq!(article.status(), Status::Published);
    assert_eq!(article.published(), Some(&first));
    let err = when(&article, &reviewer(), Command::Approve).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot approve KB-000001 while it is published with a draft revision"
    );
    // and after review version 2 is published, version 1 kept unchanged
    let (article, _) = Article::execute(
        Some(article),
        Command::SubmitForReview,
        Context::new(t(11), &editor, &config),
    )
    .unwrap();
    let (article, _) =
        Article::execute(Some(article), Command::Approve, Context::new(t(12), &author(), &config))
            .unwrap();
    assert_eq!(article.versions().len(), 2);
    assert_eq!(article.versions()[0], first);
    assert_eq!(article.published().unwrap().content.body, second.body);
    assert_eq!(article.published().unwrap().approved_by, person("j.smith"));
}

#[test]
fn an_edit_that_changes_nothing_is_refused() {
    let article = published(1, vpn());
    let err = when(&article, &author(), Command::Edit { content: vpn() }).unwrap_err();
    assert_eq!(err.to_string(), "edit would not change KB-000001");
}

#[test]
fn a_revision_can_be_discarded_but_not_a_first_draft() {
    let draft = given([create(1, vpn())]);
    assert!(matches!(
        when(&draft, &author(), Command::DiscardRevision),
        Err(Error::InvalidTransition { state: Status::Draft, revision: Some(Stage::Draft), .. })
    ));
    let mut revised = vpn();
    revised.title = "VPN from home".into();
    let article = given([
        create(1, vpn()),
        (author(), Command::SubmitForReview),
        (reviewer(), Command::Approve),
        (author(), Command::Edit { content: revised }),
        (Actor::System, Command::DiscardRevision),
    ]);
    assert!(article.revision().is_none());
    assert_eq!(article.published().unwrap().content.title, "Connect to the VPN from home");
}

#[test]
fn requesters_flag_public_articles_and_publishing_clears_the_flags() {
    let requester = Actor::Requester(person("k.lee"));
    let article = given([
        create(1, vpn()),
        (author(), Command::SubmitForReview),
        (reviewer(), Command::Approve),
        (
            requester.clone(),
            Command::FlagOutOfDate { note: "The client is now GlobalConnect 6".into() },
        ),
    ]);
    assert_eq!(article.flags().len(), 1);

    let internal = published(2, content("Core switch reboot", "Steps…", &[], Visibility::Internal));
    let err =
        when(&internal, &requester, Command::FlagOutOfDate { note: String::new() }).unwrap_err();
    assert!(matches!(err, Error::NotPermitted { .. }));
    assert!(matches!(
        when(
            &article,
            &requester,
            Command::LinkProblem { problem: ProblemRef::from_number(1).unwrap() }
        ),
        Err(Error::NotPermitted { .. })
    ));

    let mut revised = vpn();
    revised.body = "Open GlobalConnect 6.".into();
    let config = DeskConfig::example();
    let mut state = Some(article);
    for (actor, command) in [
        (author(), Command::Edit { content: revised }),
        (author(), Command::SubmitForReview),
        (reviewer(), Command::Approve),
    ] {
        state =
            Some(Article::execute(state, command, Context::new(t(50), &actor, &config)).unwrap().0);
    }
    assert!(state.unwrap().flags().is_empty());
}

#[test]
fn a_retired_article_accepts_nothing_and_is_not_shown() {
    let article = published(1, vpn());
    let events =
        when(&article, &Actor::System, Command::Retire { reason: "Replaced by KB-000002".into() })
            .unwrap();
    let retired = Article::apply(Some(article), t(100), &events[0]).unwrap();
    assert_eq!(retired.status(), Status::Retired);
    assert!(retired.published().is_none());
    assert_eq!(retired.versions().len(), 1, "history is kept");
    let err = when(&retired, &author(), Command::Edit { content: vpn() }).unwrap_err();
    assert_eq!(err.to_string(), "cannot edit KB-000001 while it is retired");
}

#[test]
fn links_to_problems_and_incidents_are_refused_twice() {
    let problem = ProblemRef::from_number(12).unwrap();
    let article = given([create(1, vpn()), (author(), Command::LinkProblem { problem })]);
    assert_eq!(article.problems(), &BTreeSet::from([problem]));
    let err = when(&article, &author(), Command::LinkProblem { problem }).unwrap_err();
    assert_eq!(err.to_string(), "PRB-000012 is already linked to KB-000001");
    let incident = IncidentRef::from_number(3).unwrap();
    assert!(matches!(
        when(&article, &author(), Command::UnlinkIncident { incident }),
        Err(Error::Link(LinkError::NotLinked { .. }))
    ));
}

#[test]
fn replay_checks_version_numbers() {
    let article = given([create(1, vpn()), (author(), Command::SubmitForReview)]);
    let skipped =
        Event::Published { version: NonZeroU32::new(2).unwrap(), approved_by: person("a.patel") };
    let err = Article::apply(Some(article), t(5), &skipped).unwrap_err();
    assert!(err.to_string().contains("versions must be numbered in order"), "{err}");
}

#[test]
fn events_have_documented_json_shapes() {
    let event = Event::Published { version: NonZeroU32::MIN, approved_by: person("a.patel") };
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        serde_json::json!({"type": "published", "version": 1, "approved_by": "a.patel"})
    );
    let command: Command = serde_json::from_value(serde_json::json!({
        "type": "create",
        "reference": "KB-000019",
        "content": {"title": "T", "body": "B", "visibility": "internal"}
    }))
    .unwrap();
    assert_eq!(command.name(), "create");
    let article = published(1, vpn());
    let json = serde_json::to_value(&article).unwrap();
    assert_eq!(json["status"], "published");
    assert_eq!(
        json["versions"][0]["content"]["keywords"],
        serde_json::json!(["remote access", "vpn"])
    );
    assert_eq!(serde_json::from_value::<Article>(json).unwrap(), article);
}

// --- search and coverage gaps -------------------------------------------------------------------

#[test]
fn search_ranks_keywords_over_titles_over_bodies() {
    // given three public articles mentioning "printer" in different places, one internal
    let articles = [
        published(
            1,
            content("Scanning to email", "Use the printer's scan button", &[], Visibility::Public),
        ),
        published(2, content("Printer offline", "Check the cable", &[], Visibility::Public)),
        published(3, content("Toner", "Order toner", &["printer"], Visibility::Public)),
        published(
            4,
            content("Printer firmware", "Internal steps", &["printer"], Visibility::Internal),
        ),
        given([create(5, content("Printer draft", "Not yet", &["printer"], Visibility::Public))]),
    ];
    // when a requester searches
    let hits = search(&articles, "Printer!", Audience::Requesters);
    // then keyword, title, body order; internal and unpublished are not shown
    let ranked: Vec<(u32, u32)> =
        hits.iter().map(|h| (h.article.number().get(), h.score)).collect();
    assert_eq!(ranked, [(3, 3), (2, 2), (1, 1)]);
    // and an agent also sees the internal article, ties by reference
    let hits = search(&articles, "printer", Audience::Agents);
    assert_eq!(hits.iter().map(|h| h.article.number().get()).collect::<Vec<_>>(), [3, 4, 2, 1]);
    assert!(search(&articles, " a ", Audience::Agents).is_empty());
}

#[test]
fn search_adds_up_the_query_words() {
    let articles = [
        published(1, vpn()),
        published(2, content("Wi-Fi at home", "Remote working tips", &[], Visibility::Public)),
    ];
    let hits = search(&articles, "remote vpn", Audience::Requesters);
    assert_eq!(hits[0].article, kb(1));
    assert_eq!(hits[0].score, 6);
    assert_eq!((hits[1].article, hits[1].score), (kb(2), 1));
    assert_eq!(
        serde_json::to_value(&hits[1]).unwrap(),
        serde_json::json!({"article": "KB-000002", "version": 1, "title": "Wi-Fi at home", "score": 1})
    );
}

fn digest(n: u32, category: Option<&str>) -> IncidentDigest {
    IncidentDigest {
        reference: IncidentRef::from_number(n).unwrap(),
        logged_at: t(0),
        category: category.map(|c| CategoryId::new(c).unwrap()),
        ci: None,
        problem: None,
    }
}

#[test]
fn coverage_gaps_list_categories_without_a_published_article() {
    // given incidents in three categories and a published VPN article (and a VPN-less draft)
    let incidents = [
        digest(1, Some("network/vpn")),
        digest(2, Some("hardware/printer")),
        digest(3, Some("hardware/printer")),
        digest(3, Some("hardware/printer")),
        digest(4, Some("network/wifi")),
        digest(5, None),
    ];
    let mut wifi = vpn();
    wifi.category = Some(CategoryId::new("network/wifi").unwrap());
    let articles = [published(1, vpn()), given([create(2, wifi)])];
    // when gaps are computed
    let gaps = coverage_gaps(&incidents, &articles);
    // then printers (two incidents) come before wifi (one); VPN is covered
    assert_eq!(
        serde_json::to_value(&gaps).unwrap(),
        serde_json::json!([
            {"category": "hardware/printer", "incidents": 2},
            {"category": "network/wifi", "incidents": 1}
        ])
    );
}
