//! The change lifecycle against a reference model, with random command sequences (refused ones
//! included) and the passing of time.
//!
//! Invariants checked after every command, from the stored history alone:
//! - a change never starts implementing without having been authorised (by its board or its
//!   standard template);
//! - a normal change is authorised only by a quorum of distinct CAB members and never after a
//!   rejection; an emergency change only by a quorum of the ECAB;
//! - nothing is scheduled to overlap a freeze unless it is an emergency;
//! - a closed change has a post-implementation review, and an emergency one a retrospective;
//! - the history, stored as JSON, replays to the same state.

use std::collections::BTreeSet;
use std::num::NonZeroU8;
use std::sync::LazyLock;

use chrono::Duration;
use desk_core::asset::Class;
use desk_core::change::{
    Change, Command, Error, Event, Impact, Kind, Likelihood, Outcome, Status, Target, Verdict,
    Window,
};
use desk_core::config::DeskConfig;
use desk_core::id::{AssetRef, ChangeRef, ChangeTemplateId, PersonId};
use desk_core::record::{Actor, Recorded, Timestamp};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest_state_machine::prop_state_machine;

use crate::harness::{Expect, Lifecycle, Machine, Model, Refused, blank, start, texts};

const CONFIG: &str = r#"
[change]
time_zone = "UTC"

[change.cab]
members = ["a", "b", "c", "d"]
quorum = 3

[change.ecab]
members = ["a", "b"]
quorum = 2

[[change.freeze]]
name = "Election count freeze"
start = 2026-03-06T09:00:00
end = 2026-03-08T09:00:00

[[change.template]]
id = "printer-driver-update"
name = "Printer driver update"
risk = "low"
classes = ["printer"]
steps = ["Stage", "Deploy", "Test"]
"#;

/// The freeze above, in hours after the [`start`] of every sequence.
const FREEZE: (i64, i64) = (96, 144);
const CAB: [&str; 4] = ["a", "b", "c", "d"];
const ECAB: [&str; 2] = ["a", "b"];

/// The configuration above, parsed once.
static CHANGES: LazyLock<DeskConfig> =
    LazyLock::new(|| DeskConfig::from_toml("changes.toml", CONFIG).unwrap());

fn at(hours: i64) -> Timestamp {
    start() + Duration::hours(hours)
}

/// The hours from the [`start`] to `time`.
fn hours(time: Timestamp) -> i64 {
    (time - start()).num_hours()
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn template(known: bool) -> ChangeTemplateId {
    let id = if known { "printer-driver-update" } else { "reboot-everything" };
    ChangeTemplateId::new(id).unwrap()
}

fn level(n: u8) -> NonZeroU8 {
    NonZeroU8::new(n).unwrap_or(NonZeroU8::MIN)
}

/// What the model knows about the change.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    kind: Kind,
    status: Status,
    approvals: BTreeSet<PersonId>,
    /// The scheduled window, in hours after the [`start`].
    window: Option<(i64, i64)>,
    retrospective: bool,
}

/// A step: let some hours pass, then send a command.
#[derive(Debug, Clone)]
struct Step {
    wait: i64,
    command: Command,
}

/// `command`, sent at once.
fn send(command: Command) -> Step {
    Step { wait: 0, command }
}

const TITLE: &str = "Swap the floor 2 print server";

fn targets() -> impl Strategy<Value = Vec<Target>> {
    let target = (1..=3u32, any::<bool>()).prop_map(|(n, printer)| Target {
        ci: AssetRef::from_number(n).unwrap(),
        class: if printer { Class::Printer } else { Class::Laptop },
    });
    proptest::collection::vec(target, 0..3)
}

fn kinds() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Normal),
        Just(Kind::Emergency),
        Just(Kind::Standard(template(true))),
        Just(Kind::Standard(template(false))),
    ]
}

fn member() -> impl Strategy<Value = PersonId> {
    prop_oneof![Just("a"), Just("b"), Just("c"), Just("d"), Just("k.lee")].prop_map(person)
}

fn window(start: i64, length: i64) -> Window {
    Window::new(at(start), at(start + length)).unwrap()
}

/// Any command at all, most of them refused in most states.
fn any_command(now: i64) -> BoxedStrategy<Command> {
    prop_oneof![
        (texts(TITLE), kinds(), targets()).prop_map(|(title, kind, cis)| Command::Raise {
            reference: ChangeRef::from_number(1).unwrap(),
            title,
            description: String::new(),
            kind,
            cis,
        }),
        targets().prop_map(|cis| Command::SetCis { cis }),
        Just(Command::Submit),
        (1..=4u8, 1..=4u8).prop_map(|(i, l)| Command::Assess {
            impact: Impact(level(i)),
            likelihood: Likelihood(level(l))
        }),
        member().prop_map(|member| Command::Approve { member }),
        (member(), texts("no back-out plan"))
            .prop_map(|(member, reason)| Command::Reject { member, reason }),
        (now - 20..now + 160, 1..30i64)
            .prop_map(|(start, length)| Command::Schedule { window: window(start, length) }),
        Just(Command::StartImplementation),
        Just(Command::Complete { notes: String::new() }),
        texts("failed testing").prop_map(|reason| Command::BackOut { reason }),
        Just(Command::Review { outcome: Outcome::Successful, notes: String::new() }),
        member().prop_map(|member| Command::ReviewRetrospectively {
            member,
            verdict: Verdict::Justified,
            notes: String::new()
        }),
        Just(Command::Close),
        texts("superseded").prop_map(|reason| Command::Cancel { reason }),
    ]
    .boxed()
}

/// Steps that move `change` along at hour `now`, so that sequences reach the later states.
fn useful(now: i64, change: Option<&Known>) -> BoxedStrategy<Step> {
    let just = |command: Command| Just(send(command)).boxed();
    let Some(change) = change else {
        return (kinds(), targets())
            .prop_map(|(kind, cis)| {
                let cis = cis.into_iter().map(|t| Target { class: Class::Printer, ..t }).collect();
                send(Command::Raise {
                    reference: ChangeRef::from_number(1).unwrap(),
                    title: TITLE.to_owned(),
                    description: String::new(),
                    kind,
                    cis,
                })
            })
            .boxed();
    };
    let approve = |members: &'static [&'static str]| {
        proptest::sample::select(members)
            .prop_map(|m| send(Command::Approve { member: person(m) }))
            .boxed()
    };
    let options: Vec<BoxedStrategy<Step>> = match change.status {
        Status::Draft => vec![just(Command::Submit)],
        Status::Submitted => vec![
            just(Command::Assess { impact: Impact(level(2)), likelihood: Likelihood(level(2)) }),
            approve(&ECAB),
        ],
        Status::Assessed => vec![approve(&CAB), approve(&ECAB)],
        Status::Authorised => vec![
            (now..now + 150, 1..30i64)
                .prop_map(|(start, length)| {
                    send(Command::Schedule { window: window(start, length) })
                })
                .boxed(),
            just(Command::StartImplementation),
        ],
        Status::Scheduled => {
            let start = change.window.map_or(0, |(start, _)| start);
            let wait = (start - now).max(1);
            vec![
                Just(Step { wait, command: Command::StartImplementation }).boxed(),
                just(Command::StartImplementation),
            ]
        }
        Status::Implementing => vec![
            just(Command::Complete { notes: "done".to_owned() }),
            just(Command::BackOut { reason: "failed testing".to_owned() }),
        ],
        Status::Implemented | Status::BackedOut | Status::Reviewed => vec![
            just(Command::Review { outcome: Outcome::SuccessfulWithIssues, notes: String::new() }),
            just(Command::ReviewRetrospectively {
                member: person("c"),
                verdict: Verdict::NotJustified,
                notes: String::new(),
            }),
            just(Command::Close),
        ],
        _ => vec![just(Command::Close)],
    };
    Union::new(options).boxed()
}

fn scope_ok(kind: &Kind, cis: &[Target]) -> bool {
    let distinct: BTreeSet<AssetRef> = cis.iter().map(|t| t.ci).collect();
    let covered = match kind {
        Kind::Standard(id) => {
            *id == template(true) && cis.iter().all(|t| t.class == Class::Printer)
        }
        Kind::Normal | Kind::Emergency => true,
    };
    distinct.len() == cis.len() && covered
}

fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The lifecycle at hour `now`, written independently of `Change::decide`.
fn expect(now: i64, change: Option<&Known>, command: &Command) -> Expect<Known, Status> {
    use Status::*;
    let Some(model) = change else {
        return match command {
            Command::Raise { title, kind, cis, .. } if !blank(title) && scope_ok(kind, cis) => {
                Expect::Accept(Known {
                    kind: kind.clone(),
                    status: Draft,
                    approvals: BTreeSet::new(),
                    window: None,
                    retrospective: false,
                })
            }
            _ => Expect::Refuse(()),
        };
    };
    let mut next = model.clone();
    let status = model.status;
    let emergency = model.kind == Kind::Emergency;
    let board: Option<(&[&str], usize)> = match (&model.kind, status) {
        (Kind::Normal, Assessed) => Some((&CAB, 3)),
        (Kind::Emergency, Submitted | Assessed) => Some((&ECAB, 2)),
        _ => None,
    };
    let wrong = Expect::WrongState(status);
    match command {
        Command::Raise { .. } => return Expect::Refuse(()),
        Command::SetCis { cis } => {
            if status != Draft {
                return wrong;
            }
            if !scope_ok(&model.kind, cis) {
                return Expect::Refuse(());
            }
        }
        Command::Submit => {
            if status != Draft {
                return wrong;
            }
            next.status =
                if matches!(model.kind, Kind::Standard(_)) { Authorised } else { Submitted };
        }
        Command::Assess { impact, likelihood } => {
            if status != Submitted {
                return wrong;
            }
            if impact.0.get() > 3 || likelihood.0.get() > 3 {
                return Expect::Refuse(());
            }
            next.status = Assessed;
        }
        Command::Approve { member } => {
            let Some((members, quorum)) = board else { return wrong };
            if !members.contains(&member.as_str()) || !next.approvals.insert(member.clone()) {
                return Expect::Refuse(());
            }
            if next.approvals.len() >= quorum {
                next.status = Authorised;
            }
        }
        Command::Reject { member, reason } => {
            let Some((members, _)) = board else { return wrong };
            if !members.contains(&member.as_str()) || blank(reason) {
                return Expect::Refuse(());
            }
            next.status = Rejected;
        }
        Command::Schedule { window } => {
            if !matches!(status, Authorised | Scheduled) {
                return wrong;
            }
            let span = (hours(window.start()), hours(window.end()));
            if span.1 <= now || (!emergency && overlaps(span, FREEZE)) {
                return Expect::Refuse(());
            }
            next.status = Scheduled;
            next.window = Some(span);
        }
        Command::StartImplementation => {
            match (status, model.window) {
                (Scheduled, Some((start, end))) if !(start <= now && now < end) => {
                    return Expect::Refuse(());
                }
                (Scheduled, _) => {}
                (Authorised, _) if emergency => {}
                _ => return wrong,
            }
            next.status = Implementing;
        }
        Command::Complete { .. } => {
            if status != Implementing {
                return wrong;
            }
            next.status = Implemented;
        }
        Command::BackOut { reason } => {
            if status != Implementing {
                return wrong;
            }
            if blank(reason) {
                return Expect::Refuse(());
            }
            next.status = BackedOut;
        }
        Command::Review { .. } => {
            if !matches!(status, Implemented | BackedOut) {
                return wrong;
            }
            next.status = Reviewed;
        }
        Command::ReviewRetrospectively { member, .. } => {
            if !emergency {
                return Expect::Refuse(());
            }
            if !matches!(
                status,
                Authorised | Scheduled | Implementing | Implemented | BackedOut | Reviewed
            ) {
                return wrong;
            }
            if model.retrospective || !CAB.contains(&member.as_str()) {
                return Expect::Refuse(());
            }
            next.retrospective = true;
        }
        Command::Close => {
            if status != Reviewed {
                return wrong;
            }
            if emergency && !model.retrospective {
                return Expect::Refuse(());
            }
            next.status = Closed;
        }
        Command::Cancel { reason } => {
            if !matches!(status, Draft | Submitted | Assessed | Authorised | Scheduled) {
                return wrong;
            }
            if blank(reason) {
                return Expect::Refuse(());
            }
            next.status = Cancelled;
        }
    }
    Expect::Accept(next)
}

struct Changes;

impl Lifecycle for Changes {
    type Record = Change;
    type Known = Known;
    type Step = Step;
    type Status = Status;
    type Reason = ();

    fn config() -> &'static DeskConfig {
        &CHANGES
    }

    fn steps(model: &Model<Self>) -> BoxedStrategy<Step> {
        let now = hours(model.now);
        let change = model.record.as_ref();
        let any = any_command(now).prop_map(send);
        let wait = (1..48i64, any_command(now)).prop_map(|(wait, command)| Step { wait, command });
        prop_oneof![3 => useful(now, change), 2 => any, 1 => wait].boxed()
    }

    fn wait(step: &Step) -> Duration {
        Duration::hours(step.wait)
    }

    fn expect(model: &Model<Self>, step: &Step) -> Expect<Known, Status> {
        expect(hours(model.now), model.record.as_ref(), &step.command)
    }

    fn command(step: &Step, _: Option<&Change>) -> (Command, Actor) {
        (step.command.clone(), Actor::Agent(person("s.khan")))
    }

    fn refusal(error: &Error) -> Refused<Status> {
        match error {
            Error::InvalidTransition { state, command, .. } => Refused::State(*state, command),
            _ => Refused::Other(()),
        }
    }

    /// What the model can see of a change.
    fn observe(change: &Change) -> Known {
        Known {
            kind: change.kind().clone(),
            status: change.status(),
            approvals: change.approvals().iter().cloned().collect(),
            window: change.window().map(|w| (hours(w.start()), hours(w.end()))),
            retrospective: change.retrospective().is_some(),
        }
    }

    fn check(_: Option<&Change>, change: &Change, history: &[Recorded<Event>]) {
        let mut authorised = false;
        let mut approvals = BTreeSet::new();
        let mut rejected = false;
        for recorded in history {
            match &recorded.event {
                Event::Approved { member } => {
                    approvals.insert(member.as_str().to_owned());
                }
                Event::Rejected { .. } => rejected = true,
                Event::Authorised { .. } => {
                    let (members, quorum): (&[&str], usize) =
                        if change.kind().is_emergency() { (&ECAB, 2) } else { (&CAB, 3) };
                    assert!(!rejected, "authorised after a rejection");
                    assert!(
                        approvals.len() >= quorum,
                        "authorised by {approvals:?}, short of quorum"
                    );
                    assert!(
                        approvals.iter().all(|m| members.contains(&m.as_str())),
                        "{approvals:?}"
                    );
                    assert!(
                        !matches!(change.kind(), Kind::Standard(_)),
                        "a standard change voted on"
                    );
                    authorised = true;
                }
                Event::PreAuthorised { .. } => {
                    assert!(
                        matches!(change.kind(), Kind::Standard(_)),
                        "pre-authorised a {}",
                        change.kind()
                    );
                    authorised = true;
                }
                Event::ImplementationStarted => {
                    assert!(authorised, "implementing without authorisation")
                }
                Event::Scheduled { window } if !change.kind().is_emergency() => {
                    let frozen = Window::new(at(FREEZE.0), at(FREEZE.1)).unwrap();
                    assert!(!window.overlaps(&frozen), "{} scheduled in the freeze", change.kind());
                }
                _ => {}
            }
        }
        if change.status() == Status::Closed {
            assert!(change.review().is_some(), "closed without a post-implementation review");
            if change.kind().is_emergency() {
                assert!(change.retrospective().is_some(), "emergency closed without retrospective");
            }
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_change_lifecycle_follows_the_model(sequential 1..40 => Machine<Changes>);
}
