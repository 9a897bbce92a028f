//! Requester records: register, update, VIP, leave and rejoin, against a reference model.
//!
//! Invariants: a record always has a name and an email address or a phone number; nobody is their
//! own line manager; `left_at` is set exactly while the requester is marked as left; a leaver
//! accepts nothing but rejoin.

use std::sync::LazyLock;

use desk_core::id::PersonId;
use desk_core::people::requester::{Changes, Command, Event, Profile, Status};
use desk_core::people::{Contact, ContactChanges, Email, Phone, Requester, VipKind};
use desk_core::record::{EventInfo, Recorded};
use desk_core::{Actor, DeskConfig};
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

use crate::harness::{ErrorOf, Expect, Lifecycle, Machine, Model, Refused, blank};

/// No configuration: requesters need none.
static EMPTY: LazyLock<DeskConfig> = LazyLock::new(DeskConfig::empty);

/// What the model knows of the requester.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    active: bool,
    vip: Option<VipKind>,
    email: bool,
    phone: bool,
    manager: bool,
}

/// A partial-update choice for one optional field.
#[derive(Debug, Clone, Copy)]
enum Patch {
    Keep,
    Set,
    Clear,
}

#[derive(Debug, Clone)]
enum Step {
    Register { name: &'static str, email: bool, phone: bool, vip: Option<VipKind> },
    Update { email: Patch, phone: Patch, manager: Patch, own_manager: bool },
    SetVip(VipKind),
    ClearVip,
    RecordLeaving,
    Rejoin,
}

fn patch() -> impl Strategy<Value = Patch> {
    prop_oneof![Just(Patch::Keep), Just(Patch::Set), Just(Patch::Clear)]
}

fn vip() -> impl Strategy<Value = VipKind> {
    prop_oneof![Just(VipKind::ElectedMember), Just(VipKind::ChiefOfficer)]
}

fn patched(known: bool, patch: Patch) -> bool {
    match patch {
        Patch::Keep => known,
        Patch::Set => true,
        Patch::Clear => false,
    }
}

struct Requesters;

impl Lifecycle for Requesters {
    type Record = Requester;
    type Known = Known;
    type Step = Step;
    type Status = Status;
    type Reason = ();

    fn config() -> &'static DeskConfig {
        &EMPTY
    }

    fn steps(model: &Model<Self>) -> BoxedStrategy<Step> {
        let register = (
            prop_oneof![4 => Just("Kim Lee"), 1 => Just("  ")],
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(vip()),
        )
            .prop_map(|(name, email, phone, vip)| Step::Register {
                name,
                email,
                phone,
                vip,
            });
        let update = (patch(), patch(), patch(), proptest::bool::weighted(0.1)).prop_map(
            |(email, phone, manager, own_manager)| Step::Update {
                email,
                phone,
                manager,
                own_manager,
            },
        );
        let others = prop_oneof![
            4 => update,
            2 => vip().prop_map(Step::SetVip),
            1 => Just(Step::ClearVip),
            1 => Just(Step::RecordLeaving),
            1 => Just(Step::Rejoin),
        ];
        if model.record.is_none() {
            prop_oneof![4 => register, 1 => others].boxed()
        } else {
            prop_oneof![1 => register, 8 => others].boxed()
        }
    }

    fn expect(model: &Model<Self>, step: &Step) -> Expect<Known, Status> {
        let next = match (model.record.clone(), step) {
            (None, Step::Register { name, email, phone, vip }) => {
                (!blank(name) && (*email || *phone)).then_some(Known {
                    active: true,
                    vip: *vip,
                    email: *email,
                    phone: *phone,
                    manager: false,
                })
            }
            (Some(known), Step::Rejoin) if !known.active => Some(Known { active: true, ..known }),
            (Some(known), _) if !known.active => None,
            (Some(known), Step::Update { email, phone, manager, own_manager }) => {
                let after = Known {
                    email: patched(known.email, *email),
                    phone: patched(known.phone, *phone),
                    manager: if *own_manager { true } else { patched(known.manager, *manager) },
                    ..known
                };
                (!*own_manager && (after.email || after.phone)).then_some(after)
            }
            (Some(known), Step::SetVip(kind)) => Some(Known { vip: Some(*kind), ..known }),
            (Some(known), Step::ClearVip) => Some(Known { vip: None, ..known }),
            (Some(known), Step::RecordLeaving) => Some(Known { active: false, ..known }),
            (None, _) | (Some(_), Step::Register { .. } | Step::Rejoin) => None,
        };
        Expect::accepted(next)
    }

    fn command(step: &Step, _: Option<&Requester>) -> (Command, Actor) {
        (command(step), Actor::System)
    }

    fn refusal(_: &ErrorOf<Self>) -> Refused<Status> {
        Refused::Other(())
    }

    fn observe(requester: &Requester) -> Known {
        Known {
            active: requester.status() == Status::Active,
            vip: requester.vip(),
            email: requester.email().is_some(),
            phone: requester.phone().is_some(),
            manager: requester.line_manager().is_some(),
        }
    }

    fn check(_: Option<&Requester>, requester: &Requester, history: &[Recorded<Event>]) {
        assert!(!blank(requester.name()));
        assert!(requester.email().is_some() || requester.phone().is_some());
        assert_ne!(requester.line_manager(), Some(requester.person()));
        assert_eq!(requester.left_at().is_some(), requester.status() == Status::Left);
        assert_eq!(history.first().map(|r| r.event.name()), Some("registered"));
    }
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn email() -> Email {
    Email::new("k.lee@example.gov.uk").unwrap()
}

fn phone() -> Phone {
    Phone::new("01632 960123").unwrap()
}

fn field<T>(patch: Patch, value: T) -> Option<Option<T>> {
    match patch {
        Patch::Keep => None,
        Patch::Set => Some(Some(value)),
        Patch::Clear => Some(None),
    }
}

fn command(step: &Step) -> Command {
    match step {
        Step::Register { name, email: e, phone: p, vip } => {
            let contact =
                Contact { name: (*name).to_owned(), email: e.then(email), phone: p.then(phone) };
            Command::Register { id: person("k.lee"), profile: Profile::new(contact), vip: *vip }
        }
        Step::Update { email: e, phone: p, manager, own_manager } => {
            let line_manager = if *own_manager {
                Some(Some(person("k.lee")))
            } else {
                field(*manager, person("r.shah"))
            };
            Command::UpdateDetails {
                changes: Changes {
                    contact: ContactChanges {
                        name: None,
                        email: field(*e, email()),
                        phone: field(*p, phone()),
                    },
                    line_manager,
                    ..Changes::default()
                },
            }
        }
        Step::SetVip(kind) => Command::SetVip { kind: *kind },
        Step::ClearVip => Command::ClearVip,
        Step::RecordLeaving => Command::RecordLeaving,
        Step::Rejoin => Command::Rejoin,
    }
}

prop_state_machine! {
    #[test]
    fn requester_lifecycle_follows_the_model(sequential 1..40 => Machine<Requesters>);
}
