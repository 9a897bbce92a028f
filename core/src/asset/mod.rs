//! Assets and configuration items (CIs): the hardware register, software and services, their
//! lifecycle and their relationships.
//!
//! Lifecycle (commands in brackets):
//!
//! ```text
//! (order) ─► ordered ─(receive_into_stock)─► in_stock ─(deploy)─► deployed ─(deploy)─► deployed
//!                                              ▲   │                 │  │
//!                         (receive_into_stock) └───┼─────────────────┘  │
//!                                                  └─(send_for_repair)──┴─► in_repair
//! in_repair ─(return_from_repair)─► deployed (if it was deployed) or in_stock
//! in_stock | deployed | in_repair ─(retire)─► retired ─(dispose)─► disposed
//! ```
//!
//! An asset already in use when the desk starts (an imported register) is created with
//! `register`, which takes its current status. Relationships are outgoing [`Link`]s recorded on
//! the source asset (see [`relationship`] for the direction a failure travels); the [`Cmdb`]
//! index built from every asset answers impact analysis.
//!
//! JSON shapes: commands and events are objects tagged by `type`
//! (`{"type": "deploy", "deployment": {"to": "k.lee", "location": "Civic Centre, floor 2"}}`);
//! the state is [`Asset`].

mod class;
pub mod cmdb;
pub mod register;
pub mod relationship;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use self::class::{
    Attributes, Class, DeskPhone, Device, Mobile, ParseClassError, Service, Software, Token,
};
pub use self::cmdb::{Affected, Cmdb, Impact};
pub use self::relationship::{Link, Relation, Relationship};
use crate::id::{AssetRef, PersonId, RecordId};
use crate::record::{
    Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};

/// Where an asset is in its life.
///
/// JSON shape: `"ordered"`, `"in_stock"`, `"deployed"`, `"in_repair"`, `"retired"`, `"disposed"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ordered from a supplier, not yet received.
    Ordered,
    /// Received and held in stock, ready to deploy.
    InStock,
    /// In use: issued to a person and/or installed at a location.
    Deployed,
    /// Away for repair.
    InRepair,
    /// Withdrawn from use, awaiting disposal.
    Retired,
    /// Disposed of (recycled, destroyed, sold). The record is kept and frozen.
    Disposed,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 6] = [
        Status::Ordered,
        Status::InStock,
        Status::Deployed,
        Status::InRepair,
        Status::Retired,
        Status::Disposed,
    ];

    /// The name used in JSON and CSV, e.g. `in_stock`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Ordered => "ordered",
            Status::InStock => "in_stock",
            Status::Deployed => "deployed",
            Status::InRepair => "in_repair",
            Status::Retired => "retired",
            Status::Disposed => "disposed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::InStock => "in stock",
            Status::InRepair => "in repair",
            other => other.as_str(),
        })
    }
}

impl std::str::FromStr for Status {
    type Err = ParseStatusError;

    /// Accepts the JSON name in any case, with `-` or a space for `_` (`In stock`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == wanted)
            .ok_or_else(|| ParseStatusError(text.to_owned()))
    }
}

/// `text` is not an asset status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an asset status (ordered, in_stock, deployed, in_repair, retired, disposed)")]
pub struct ParseStatusError(pub String);

/// Who has an asset and where it is.
///
/// JSON shape: `{"to": "k.lee", "location": "Civic Centre, floor 2"}` (`to` is `null` for kit
/// that belongs to a place, such as a server or a printer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The person it is issued to, if any.
    pub to: Option<PersonId>,
    /// Where it is.
    pub location: String,
}

/// An asset or configuration item.
///
/// JSON shape: `{"reference": "AST-000123", "name": "…", "attributes": {"class": "laptop", …},
/// "status": "deployed", "deployment": {…} | null, "links": [{"kind": "runs_on", "target": …}],
/// "repair": "…" | null, "registered_at": "…", "updated_at": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    reference: AssetRef,
    name: String,
    attributes: Attributes,
    status: Status,
    deployment: Option<Deployment>,
    links: BTreeSet<Link>,
    repair: Option<String>,
    registered_at: Timestamp,
    updated_at: Timestamp,
}

impl Asset {
    /// Its reference.
    pub fn reference(&self) -> AssetRef {
        self.reference
    }

    /// Its name, e.g. `EBC-LT-0412` or `Revenues and benefits`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its class.
    pub fn class(&self) -> Class {
        self.attributes.class()
    }

    /// Its class-specific attributes.
    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }

    /// Where it is in its life.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Who has it and where, while deployed (kept while it is away for repair).
    pub fn deployment(&self) -> Option<&Deployment> {
        self.deployment.as_ref()
    }

    /// Its outgoing relationships.
    pub fn links(&self) -> impl ExactSizeIterator<Item = &Link> {
        self.links.iter()
    }

    /// The fault it was sent for repair with, while in repair.
    pub fn repair(&self) -> Option<&str> {
        self.repair.as_deref()
    }

    /// When it was ordered or registered.
    pub fn registered_at(&self) -> Timestamp {
        self.registered_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
}

/// What can be asked of an asset.
///
/// JSON shape: an object tagged by `type`, e.g. `{"type": "retire", "reason": "end of life"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Record a new asset that has been ordered.
    Order {
        /// The reference allocated for it.
        reference: AssetRef,
        /// Its name.
        name: String,
        /// Its class and attributes.
        attributes: Attributes,
    },
    /// Record an asset that already exists, in its current status (a register import).
    Register {
        /// The reference allocated for it (or kept from the old register).
        reference: AssetRef,
        /// Its name.
        name: String,
        /// Its class and attributes.
        attributes: Attributes,
        /// Its current status.
        status: Status,
        /// Who has it and where; required when deployed, allowed when in repair.
        deployment: Option<Deployment>,
        /// Its outgoing relationships.
        #[serde(default)]
        links: Vec<Link>,
    },
    /// Take delivery of an order, or take a deployed asset back into stock.
    ReceiveIntoStock,
    /// Issue it to a person and/or install it at a location (again, to move it).
    Deploy {
        /// Who gets it and where.
        deployment: Deployment,
    },
    /// Send it away for repair.
    SendForRepair {
        /// The fault.
        fault: String,
    },
    /// Take it back from repair: to its deployment if it had one, else into stock.
    ReturnFromRepair,
    /// Withdraw it from use.
    Retire {
        /// Why (end of life, beyond economic repair, lost).
        reason: String,
    },
    /// Dispose of a retired asset.
    Dispose {
        /// The disposal or data-destruction certificate, if any.
        certificate: Option<String>,
    },
    /// Change its name.
    Rename {
        /// The new name.
        name: String,
    },
    /// Replace its attributes (the class cannot change).
    UpdateAttributes {
        /// The new attributes.
        attributes: Attributes,
    },
    /// Record a relationship from this asset to another.
    RelateTo {
        /// The relationship.
        link: Link,
    },
    /// Remove a relationship from this asset.
    Unrelate {
        /// The relationship.
        link: Link,
    },
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Order { .. } => "order",
            Command::Register { .. } => "register",
            Command::ReceiveIntoStock => "receive_into_stock",
            Command::Deploy { .. } => "deploy",
            Command::SendForRepair { .. } => "send_for_repair",
            Command::ReturnFromRepair => "return_from_repair",
            Command::Retire { .. } => "retire",
            Command::Dispose { .. } => "dispose",
            Command::Rename { .. } => "rename",
            Command::UpdateAttributes { .. } => "update_attributes",
            Command::RelateTo { .. } => "relate_to",
            Command::Unrelate { .. } => "unrelate",
        }
    }
}

/// What happened to an asset.
///
/// JSON shape: an object tagged by `type`, e.g. `{"type": "deployed", "deployment": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// It was ordered.
    Ordered {
        /// Its reference.
        reference: AssetRef,
        /// Its name.
        name: String,
        /// Its class and attributes.
        attributes: Attributes,
    },
    /// An existing asset was recorded in its current status.
    Registered {
        /// Its reference.
        reference: AssetRef,
        /// Its name.
        name: String,
        /// Its class and attributes.
        attributes: Attributes,
        /// Its status.
        status: Status,
        /// Who has it and where.
        deployment: Option<Deployment>,
        /// Its outgoing relationships.
        links: Vec<Link>,
    },
    /// It arrived in stock (delivered, or taken back from a person or place).
    ReceivedIntoStock,
    /// It was issued or installed.
    Deployed {
        /// Who has it and where.
        deployment: Deployment,
    },
    /// It went away for repair.
    SentForRepair {
        /// The fault.
        fault: String,
    },
    /// It came back from repair (to its deployment if it had one, else into stock).
    ReturnedFromRepair,
    /// It was withdrawn from use.
    Retired {
        /// Why.
        reason: String,
    },
    /// It was disposed of.
    Disposed {
        /// The disposal or data-destruction certificate, if any.
        certificate: Option<String>,
    },
    /// Its name changed.
    Renamed {
        /// The new name.
        name: String,
    },
    /// Its attributes changed.
    AttributesUpdated {
        /// The new attributes.
        attributes: Attributes,
    },
    /// A relationship was recorded.
    Related {
        /// The relationship.
        link: Link,
    },
    /// A relationship was removed.
    Unrelated {
        /// The relationship.
        link: Link,
    },
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Ordered { .. } => "ordered",
            Event::Registered { .. } => "registered",
            Event::ReceivedIntoStock => "received_into_stock",
            Event::Deployed { .. } => "deployed",
            Event::SentForRepair { .. } => "sent_for_repair",
            Event::ReturnedFromRepair => "returned_from_repair",
            Event::Retired { .. } => "retired",
            Event::Disposed { .. } => "disposed",
            Event::Renamed { .. } => "renamed",
            Event::AttributesUpdated { .. } => "attributes_updated",
            Event::Related { .. } => "related",
            Event::Unrelated { .. } => "unrelated",
        }
    }

    /// The register is staff-only.
    fn visibility(&self) -> Visibility {
        Visibility::Internal
    }
}

/// Why an asset command was refused, or a CMDB question could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A command other than `order` or `register` for an asset that does not exist.
    #[error("cannot {command} an asset that is not registered")]
    NotRegistered {
        /// The command.
        command: &'static str,
    },
    /// `order` or `register` for an asset that exists.
    #[error("{reference} is already registered")]
    AlreadyRegistered {
        /// The asset.
        reference: AssetRef,
    },
    /// The command does not apply in the asset's status.
    #[error("cannot {command} {reference} while it is {state}")]
    InvalidTransition {
        /// The asset.
        reference: AssetRef,
        /// Its status.
        state: Status,
        /// The command.
        command: &'static str,
    },
    /// A name, location, fault or reason is blank.
    #[error("{what} must not be blank")]
    Blank {
        /// What was blank ("the name", "the location").
        what: &'static str,
    },
    /// New attributes are of another class.
    #[error("{reference} is {}; its attributes cannot become those of {}", .class.with_article(), .other.with_article())]
    ClassChange {
        /// The asset.
        reference: AssetRef,
        /// Its class.
        class: Class,
        /// The class of the attributes given.
        other: Class,
    },
    /// A relationship from an asset to itself.
    #[error("{reference} cannot be related to itself")]
    SelfRelation {
        /// The asset.
        reference: AssetRef,
    },
    /// The relationship is already recorded.
    #[error("{reference} already has the relationship {link}")]
    AlreadyRelated {
        /// The asset.
        reference: AssetRef,
        /// The relationship.
        link: Link,
    },
    /// The relationship to remove is not recorded.
    #[error("{reference} has no relationship {link}")]
    NotRelated {
        /// The asset.
        reference: AssetRef,
        /// The relationship.
        link: Link,
    },
    /// `register` as deployed without saying who has it or where.
    #[error("an asset registered as {status} needs a deployment")]
    DeploymentRequired {
        /// The status given.
        status: Status,
    },
    /// `register` with a deployment in a status that has none.
    #[error("an asset registered as {status} cannot have a deployment")]
    DeploymentNotAllowed {
        /// The status given.
        status: Status,
    },
    /// The CI is not in the CMDB index.
    #[error("{ci} is not in the configuration management database")]
    NotInCmdb {
        /// The CI asked about.
        ci: AssetRef,
    },
}

impl Aggregate for Asset {
    const NOUN: &'static str = "asset";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn id(&self) -> RecordId {
        self.reference.into()
    }

    fn decide(
        state: Option<&Self>,
        command: Command,
        _ctx: Context<'_>,
    ) -> Result<Vec<Event>, Error> {
        let Some(asset) = state else { return create(command) };
        let refuse = || Error::InvalidTransition {
            reference: asset.reference,
            state: asset.status,
            command: command.name(),
        };
        let event = match &command {
            Command::Order { .. } | Command::Register { .. } => {
                return Err(Error::AlreadyRegistered { reference: asset.reference });
            }
            Command::ReceiveIntoStock => match asset.status {
                Status::Ordered | Status::Deployed => Event::ReceivedIntoStock,
                _ => return Err(refuse()),
            },
            Command::Deploy { deployment } => match asset.status {
                Status::InStock | Status::Deployed => {
                    not_blank(&deployment.location, "the location")?;
                    Event::Deployed { deployment: deployment.clone() }
                }
                _ => return Err(refuse()),
            },
            Command::SendForRepair { fault } => match asset.status {
                Status::InStock | Status::Deployed => {
                    not_blank(fault, "the fault")?;
                    Event::SentForRepair { fault: fault.clone() }
                }
                _ => return Err(refuse()),
            },
            Command::ReturnFromRepair => match asset.status {
                Status::InRepair => Event::ReturnedFromRepair,
                _ => return Err(refuse()),
            },
            Command::Retire { reason } => match asset.status {
                Status::InStock | Status::Deployed | Status::InRepair => {
                    not_blank(reason, "the reason")?;
                    Event::Retired { reason: reason.clone() }
                }
                _ => return Err(refuse()),
            },
            Command::Dispose { certificate } => match asset.status {
                Status::Retired => Event::Disposed { certificate: certificate.clone() },
                _ => return Err(refuse()),
            },
            Command::Rename { name } => {
                asset.editable().ok_or_else(refuse)?;
                not_blank(name, "the name")?;
                Event::Renamed { name: name.clone() }
            }
            Command::UpdateAttributes { attributes } => {
                asset.editable().ok_or_else(refuse)?;
                if attributes.class() != asset.class() {
                    return Err(Error::ClassChange {
                        reference: asset.reference,
                        class: asset.class(),
                        other: attributes.class(),
                    });
                }
                Event::AttributesUpdated { attributes: attributes.clone() }
            }
            Command::RelateTo { link } => {
                asset.editable().ok_or_else(refuse)?;
                if link.target == asset.reference {
                    return Err(Error::SelfRelation { reference: asset.reference });
                }
                if asset.links.contains(link) {
                    return Err(Error::AlreadyRelated { reference: asset.reference, link: *link });
                }
                Event::Related { link: *link }
            }
            Command::Unrelate { link } => {
                if !asset.links.contains(link) {
                    return Err(Error::NotRelated { reference: asset.reference, link: *link });
                }
                Event::Unrelated { link: *link }
            }
        };
        Ok(vec![event])
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let Some(mut asset) = state else { return created(at, event) };
        match event {
            Event::Ordered { .. } | Event::Registered { .. } => {
                return Err(ReplayError::AlreadyCreated {
                    reference: asset.reference.to_string(),
                    event: event.name(),
                });
            }
            Event::ReceivedIntoStock => {
                asset.status = Status::InStock;
                asset.deployment = None;
            }
            Event::Deployed { deployment } => {
                asset.status = Status::Deployed;
                asset.deployment = Some(deployment.clone());
            }
            Event::SentForRepair { fault } => {
                asset.status = Status::InRepair;
                asset.repair = Some(fault.clone());
            }
            Event::ReturnedFromRepair => {
                asset.status =
                    if asset.deployment.is_some() { Status::Deployed } else { Status::InStock };
                asset.repair = None;
            }
            Event::Retired { .. } => {
                asset.status = Status::Retired;
                asset.deployment = None;
                asset.repair = None;
            }
            Event::Disposed { .. } => asset.status = Status::Disposed,
            Event::Renamed { name } => asset.name.clone_from(name),
            Event::AttributesUpdated { attributes } => asset.attributes = attributes.clone(),
            Event::Related { link } => {
                asset.links.insert(*link);
            }
            Event::Unrelated { link } => {
                asset.links.remove(link);
            }
        }
        asset.updated_at = at;
        Ok(asset)
    }
}

impl Asset {
    /// `Some` while the record may still be edited (everything but a disposed asset).
    fn editable(&self) -> Option<()> {
        (self.status != Status::Disposed).then_some(())
    }
}

/// Decides a creating command.
fn create(command: Command) -> Result<Vec<Event>, Error> {
    match command {
        Command::Order { reference, name, attributes } => {
            not_blank(&name, "the name")?;
            Ok(vec![Event::Ordered { reference, name, attributes }])
        }
        Command::Register { reference, name, attributes, status, deployment, links } => {
            not_blank(&name, "the name")?;
            let allowed = matches!(status, Status::Deployed | Status::InRepair);
            match &deployment {
                None if status == Status::Deployed => {
                    return Err(Error::DeploymentRequired { status });
                }
                Some(_) if !allowed => return Err(Error::DeploymentNotAllowed { status }),
                Some(deployment) => not_blank(&deployment.location, "the location")?,
                None => {}
            }
            if links.iter().any(|link| link.target == reference) {
                return Err(Error::SelfRelation { reference });
            }
            let mut unique = BTreeSet::new();
            if let Some(link) = links.iter().find(|link| !unique.insert(**link)) {
                return Err(Error::AlreadyRelated { reference, link: *link });
            }
            Ok(vec![Event::Registered { reference, name, attributes, status, deployment, links }])
        }
        other => Err(Error::NotRegistered { command: other.name() }),
    }
}

/// Folds a creating event.
fn created(at: Timestamp, event: &Event) -> Result<Asset, ReplayError> {
    let new = |reference: &AssetRef, name: &String, attributes: &Attributes| Asset {
        reference: *reference,
        name: name.clone(),
        attributes: attributes.clone(),
        status: Status::Ordered,
        deployment: None,
        links: BTreeSet::new(),
        repair: None,
        registered_at: at,
        updated_at: at,
    };
    match event {
        Event::Ordered { reference, name, attributes } => Ok(new(reference, name, attributes)),
        Event::Registered { reference, name, attributes, status, deployment, links } => Ok(Asset {
            status: *status,
            deployment: deployment.clone(),
            links: links.iter().copied().collect(),
            ..new(reference, name, attributes)
        }),
        other => Err(ReplayError::NotCreated { noun: Asset::NOUN, event: other.name() }),
    }
}

fn not_blank(text: &str, what: &'static str) -> Result<(), Error> {
    if text.trim().is_empty() { Err(Error::Blank { what }) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::config::DeskConfig;
    use crate::record::Actor;

    fn ast(n: u32) -> AssetRef {
        AssetRef::from_number(n).unwrap()
    }

    fn run(state: Option<Asset>, command: Command) -> Result<Asset, Error> {
        let config = DeskConfig::empty();
        let actor = Actor::Agent(PersonId::new("r.evans").unwrap());
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let ctx = Context::new(now, &actor, &config);
        Asset::execute(state, command, ctx).map(|(asset, _)| asset).map_err(|e| match e.refused() {
            Some(error) => error,
            None => Error::Blank { what: "an impossible history" },
        })
    }

    fn ordered_laptop() -> Asset {
        let order = Command::Order {
            reference: ast(412),
            name: "EBC-LT-0412".into(),
            attributes: Class::Laptop.blank(),
        };
        run(None, order).unwrap()
    }

    fn to(person: &str) -> Deployment {
        Deployment { to: Some(PersonId::new(person).unwrap()), location: "Civic Centre".into() }
    }

    #[test]
    fn given_an_order_when_received_and_deployed_then_it_is_with_the_person() {
        let asset = run(Some(ordered_laptop()), Command::ReceiveIntoStock).unwrap();
        assert_eq!(asset.status(), Status::InStock);
        let asset = run(Some(asset), Command::Deploy { deployment: to("k.lee") }).unwrap();
        assert_eq!(asset.status(), Status::Deployed);
        assert_eq!(asset.deployment(), Some(&to("k.lee")));
    }

    #[test]
    fn given_a_deployed_laptop_when_repaired_then_it_goes_back_to_the_same_person() {
        let asset = run(Some(ordered_laptop()), Command::ReceiveIntoStock).unwrap();
        let asset = run(Some(asset), Command::Deploy { deployment: to("k.lee") }).unwrap();
        let asset =
            run(Some(asset), Command::SendForRepair { fault: "cracked screen".into() }).unwrap();
        assert_eq!((asset.status(), asset.repair()), (Status::InRepair, Some("cracked screen")));
        let asset = run(Some(asset), Command::ReturnFromRepair).unwrap();
        assert_eq!(asset.status(), Status::Deployed);
        assert_eq!(asset.deployment(), Some(&to("k.lee")));
    }

    #[test]
    fn given_an_order_when_deployed_at_once_then_the_error_names_state_and_command() {
        let err =
            run(Some(ordered_laptop()), Command::Deploy { deployment: to("k.lee") }).unwrap_err();
        assert_eq!(err.to_string(), "cannot deploy AST-000412 while it is ordered");
    }

    #[test]
    fn given_a_disposed_asset_when_anything_but_unrelate_then_it_is_refused() {
        let mut asset = run(Some(ordered_laptop()), Command::ReceiveIntoStock).unwrap();
        asset = run(Some(asset), Command::Retire { reason: "end of life".into() }).unwrap();
        asset =
            run(Some(asset), Command::Dispose { certificate: Some("WEEE-2291".into()) }).unwrap();
        let rename = run(Some(asset.clone()), Command::Rename { name: "x".into() });
        assert!(matches!(rename, Err(Error::InvalidTransition { state: Status::Disposed, .. })));
        let link = Link { kind: Relationship::ConnectedTo, target: ast(9) };
        let relate = run(Some(asset), Command::RelateTo { link });
        assert!(matches!(relate, Err(Error::InvalidTransition { command: "relate_to", .. })));
    }

    #[test]
    fn relationships_are_recorded_once_and_never_to_self() {
        let link = Link { kind: Relationship::ConnectedTo, target: ast(9) };
        let asset = run(Some(ordered_laptop()), Command::RelateTo { link }).unwrap();
        assert_eq!(asset.links().collect::<Vec<_>>(), [&link]);
        let twice = run(Some(asset.clone()), Command::RelateTo { link }).unwrap_err();
        assert_eq!(
            twice.to_string(),
            "AST-000412 already has the relationship connected_to:AST-000009"
        );
        let own = Link { kind: Relationship::RunsOn, target: ast(412) };
        assert!(matches!(
            run(Some(asset.clone()), Command::RelateTo { link: own }),
            Err(Error::SelfRelation { .. })
        ));
        let asset = run(Some(asset), Command::Unrelate { link }).unwrap();
        assert_eq!(asset.links().len(), 0);
        assert!(matches!(
            run(Some(asset), Command::Unrelate { link }),
            Err(Error::NotRelated { .. })
        ));
    }

    #[test]
    fn attributes_keep_their_class() {
        let err = run(
            Some(ordered_laptop()),
            Command::UpdateAttributes { attributes: Class::Server.blank() },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "AST-000412 is a laptop; its attributes cannot become those of a server"
        );
    }

    #[test]
    fn registering_checks_the_deployment_against_the_status() {
        let register = |status, deployment| Command::Register {
            reference: ast(7),
            name: "Floor 2 MFD".into(),
            attributes: Class::Printer.blank(),
            status,
            deployment,
            links: vec![],
        };
        let err = run(None, register(Status::Deployed, None)).unwrap_err();
        assert_eq!(err.to_string(), "an asset registered as deployed needs a deployment");
        let err = run(None, register(Status::InStock, Some(to("k.lee")))).unwrap_err();
        assert_eq!(err.to_string(), "an asset registered as in stock cannot have a deployment");
        let asset = run(None, register(Status::InRepair, Some(to("k.lee")))).unwrap();
        let asset = run(Some(asset), Command::ReturnFromRepair).unwrap();
        assert_eq!(asset.status(), Status::Deployed);
        assert!(matches!(run(None, Command::ReturnFromRepair), Err(Error::NotRegistered { .. })));
    }

    #[test]
    fn commands_and_events_are_tagged_by_type_in_json() {
        let command = Command::Deploy { deployment: to("k.lee") };
        let json = serde_json::to_value(&command).unwrap();
        assert_eq!(json["type"], command.name());
        assert_eq!(json["deployment"]["to"], "k.lee");
        let event = Event::Related { link: Link { kind: Relationship::UsedBy, target: ast(3) } };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.name());
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
