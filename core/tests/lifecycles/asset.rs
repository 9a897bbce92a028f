//! The asset lifecycle against a reference model: ordered → in stock → deployed → in repair →
//! retired → disposed, registration of existing assets, and relationships.
//!
//! Invariants checked after every command: a deployed asset always says who has it or where;
//! an asset in stock, ordered, retired or disposed has no deployment; nothing leaves disposed;
//! the stored history (through JSON) replays to the same state.

use std::collections::BTreeSet;

use desk_core::asset::{
    Asset, Class, Command, Deployment, Error, Event, Link, Relationship, Status,
};
use desk_core::id::{AssetRef, PersonId};
use desk_core::record::{Actor, Recorded};
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

use crate::harness::{Expect, Lifecycle, Machine, Model, Refused, blank, texts};

/// The asset under test is always AST-000001; links point at AST-1..=4 (so self-links occur).
fn ast(n: u32) -> AssetRef {
    AssetRef::from_number(n).unwrap()
}

/// What the model knows about the asset.
#[derive(Debug, Clone, PartialEq)]
struct Known {
    class: Class,
    status: Status,
    deployed_to_someone: bool,
    links: BTreeSet<Link>,
}

const NAME: &str = "EBC-LT-0001";

fn deployments() -> impl Strategy<Value = Deployment> {
    texts("Civic Centre")
        .prop_map(|location| Deployment { to: PersonId::new("k.lee").ok(), location })
}

fn links() -> impl Strategy<Value = Link> {
    (0..4usize, 1..=4u32)
        .prop_map(|(kind, target)| Link { kind: Relationship::ALL[kind], target: ast(target) })
}

fn commands() -> impl Strategy<Value = Command> {
    let class = (0..Class::ALL.len()).prop_map(|n| Class::ALL[n]);
    let status = (0..Status::ALL.len()).prop_map(|n| Status::ALL[n]);
    prop_oneof![
        (class.clone(), texts(NAME)).prop_map(|(class, name)| Command::Order {
            reference: ast(1),
            name,
            attributes: class.blank(),
        }),
        (
            class.clone(),
            status,
            proptest::option::of(deployments()),
            proptest::collection::vec(links(), 0..3)
        )
            .prop_map(|(class, status, deployment, links)| Command::Register {
                reference: ast(1),
                name: NAME.to_owned(),
                attributes: class.blank(),
                status,
                deployment,
                links,
            }),
        Just(Command::ReceiveIntoStock),
        deployments().prop_map(|deployment| Command::Deploy { deployment }),
        texts("cracked screen").prop_map(|fault| Command::SendForRepair { fault }),
        Just(Command::ReturnFromRepair),
        texts("end of life").prop_map(|reason| Command::Retire { reason }),
        Just(Command::Dispose { certificate: Some("WEEE-0001".to_owned()) }),
        texts(NAME).prop_map(|name| Command::Rename { name }),
        class.prop_map(|class| Command::UpdateAttributes { attributes: class.blank() }),
        links().prop_map(|link| Command::RelateTo { link }),
        links().prop_map(|link| Command::Unrelate { link }),
    ]
}

/// The lifecycle table, written independently of `Asset::decide`.
fn expect(model: Option<&Known>, command: &Command) -> Expect<Known, Status> {
    use Status::*;
    let Some(model) = model else {
        return match command {
            Command::Order { name, attributes, .. } if !blank(name) => Expect::Accept(Known {
                class: attributes.class(),
                status: Ordered,
                deployed_to_someone: false,
                links: BTreeSet::new(),
            }),
            Command::Register { name, attributes, status, deployment, links, .. } => {
                let distinct: BTreeSet<Link> = links.iter().copied().collect();
                let fits = match deployment {
                    Some(d) => matches!(status, Deployed | InRepair) && !blank(&d.location),
                    None => *status != Deployed,
                };
                if blank(name)
                    || !fits
                    || distinct.len() != links.len()
                    || links.iter().any(|l| l.target == ast(1))
                {
                    Expect::Refuse(())
                } else {
                    Expect::Accept(Known {
                        class: attributes.class(),
                        status: *status,
                        deployed_to_someone: deployment.is_some(),
                        links: distinct,
                    })
                }
            }
            _ => Expect::Refuse(()),
        };
    };
    let mut next = model.clone();
    let status = model.status;
    match command {
        Command::Order { .. } | Command::Register { .. } => return Expect::Refuse(()),
        Command::ReceiveIntoStock if matches!(status, Ordered | Deployed) => {
            next.status = InStock;
            next.deployed_to_someone = false;
        }
        Command::Deploy { deployment } if matches!(status, InStock | Deployed) => {
            if blank(&deployment.location) {
                return Expect::Refuse(());
            }
            next.status = Deployed;
            next.deployed_to_someone = true;
        }
        Command::SendForRepair { fault } if matches!(status, InStock | Deployed) => {
            if blank(fault) {
                return Expect::Refuse(());
            }
            next.status = InRepair;
        }
        Command::ReturnFromRepair if status == InRepair => {
            next.status = if model.deployed_to_someone { Deployed } else { InStock };
        }
        Command::Retire { reason } if matches!(status, InStock | Deployed | InRepair) => {
            if blank(reason) {
                return Expect::Refuse(());
            }
            next.status = Retired;
            next.deployed_to_someone = false;
        }
        Command::Dispose { .. } if status == Retired => next.status = Disposed,
        Command::Rename { name } if status != Disposed => {
            if blank(name) {
                return Expect::Refuse(());
            }
        }
        Command::UpdateAttributes { attributes } if status != Disposed => {
            if attributes.class() != model.class {
                return Expect::Refuse(());
            }
        }
        Command::RelateTo { link } if status != Disposed => {
            if link.target == ast(1) || !next.links.insert(*link) {
                return Expect::Refuse(());
            }
        }
        Command::Unrelate { link } => {
            if !next.links.remove(link) {
                return Expect::Refuse(());
            }
        }
        _ => return Expect::WrongState(status),
    }
    Expect::Accept(next)
}

struct Assets;

impl Lifecycle for Assets {
    type Record = Asset;
    type Known = Known;
    type Step = Command;
    type Status = Status;
    type Reason = ();

    fn steps(_: &Model<Self>) -> BoxedStrategy<Command> {
        commands().boxed()
    }

    fn expect(model: &Model<Self>, command: &Command) -> Expect<Known, Status> {
        expect(model.record.as_ref(), command)
    }

    fn command(command: &Command, _: Option<&Asset>) -> (Command, Actor) {
        (command.clone(), Actor::Agent(PersonId::new("r.evans").unwrap()))
    }

    fn refusal(error: &Error) -> Refused<Status> {
        match error {
            Error::InvalidTransition { state, command, .. } => Refused::State(*state, command),
            _ => Refused::Other(()),
        }
    }

    /// What the model can see of an asset.
    fn observe(asset: &Asset) -> Known {
        Known {
            class: asset.class(),
            status: asset.status(),
            deployed_to_someone: asset.deployment().is_some(),
            links: asset.links().copied().collect(),
        }
    }

    fn check(_: Option<&Asset>, asset: &Asset, _: &[Recorded<Event>]) {
        match asset.status() {
            Status::Deployed => {
                assert!(asset.deployment().is_some(), "deployed to nobody, nowhere")
            }
            Status::InRepair => {}
            _ => assert!(asset.deployment().is_none(), "{} yet deployed", asset.status()),
        }
        assert!(asset.links().all(|link| link.target != asset.reference()), "related to itself");
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_asset_lifecycle_follows_the_model(sequential 1..40 => Machine<Assets>);
}
