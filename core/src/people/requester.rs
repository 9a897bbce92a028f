//! A requester: a member of council staff, or an elected member, who asks the desk for help.
//!
//! Lifecycle: registered (active) → left → rejoined (active) … A requester who has left keeps
//! their record (their tickets still name them) but accepts nothing except [`Command::Rejoin`].
//! VIPs (elected members and chief officers) carry a [`VipKind`]; their tickets get the
//! configured priority uplift. The line manager is kept for approvals of service requests.
//!
//! JSON shapes: commands and events are objects tagged by `type`, e.g.
//! `{"type": "set_vip", "kind": "elected_member"}`; the record is a [`Requester`] object.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    Contact, ContactChanges, DetailsError, Email, Phone, VipKind, differs, optional_text, patch,
};
use crate::id::{PersonId, RecordId};
use crate::record::{
    Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};

/// Whether a requester still works for the council.
///
/// JSON shape: `"active"` or `"left"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// They may raise tickets.
    Active,
    /// They have left; their record is kept for the tickets that name them.
    Left,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Active => "active",
            Status::Left => "marked as left",
        })
    }
}

/// What the desk knows about a requester besides their VIP kind.
///
/// JSON shape: the [`Contact`] fields, then `department`, `location`, `job_title` and
/// `line_manager` (each optional):
/// `{"name": "Kim Lee", "email": "k.lee@example.gov.uk", "department": "Revenues",
///   "location": "Town Hall, floor 2", "job_title": "Benefits officer", "line_manager": "r.shah"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Name, email address and phone number.
    #[serde(flatten)]
    pub contact: Contact,
    /// Their department or service (`Revenues and Benefits`).
    #[serde(default)]
    pub department: Option<String>,
    /// Where they usually work (`Town Hall, floor 2`), for site visits.
    #[serde(default)]
    pub location: Option<String>,
    /// Their job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Their line manager, who approves their service requests.
    #[serde(default)]
    pub line_manager: Option<PersonId>,
}

impl Profile {
    /// A profile with just a contact.
    pub fn new(contact: Contact) -> Self {
        Profile { contact, department: None, location: None, job_title: None, line_manager: None }
    }

    /// The profile with text trimmed, or why it is not acceptable for requester `id`.
    pub fn checked(self, id: &PersonId) -> Result<Profile, DetailsError> {
        if self.line_manager.as_ref() == Some(id) {
            return Err(DetailsError::OwnLineManager(id.to_string()));
        }
        Ok(Profile {
            contact: self.contact.checked()?,
            department: optional_text("department", self.department)?,
            location: optional_text("location", self.location)?,
            job_title: optional_text("job_title", self.job_title)?,
            line_manager: self.line_manager,
        })
    }
}

/// A partial update of a [`Profile`]: absent fields keep their value, `null` clears one.
///
/// JSON shape: the [`ContactChanges`] fields, then any of `department`, `location`, `job_title`,
/// `line_manager`: `{"phone": "01632 960555", "location": null}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Changes to name, email address and phone number.
    #[serde(flatten)]
    pub contact: ContactChanges,
    /// A new department, or `Some(None)` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub department: Option<Option<String>>,
    /// A new location, or `Some(None)` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub location: Option<Option<String>>,
    /// A new job title, or `Some(None)` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub job_title: Option<Option<String>>,
    /// A new line manager, or `Some(None)` to remove them.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub line_manager: Option<Option<PersonId>>,
}

impl Changes {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.contact.is_empty()
            && self.department.is_none()
            && self.location.is_none()
            && self.job_title.is_none()
            && self.line_manager.is_none()
    }

    /// The changes that turn `from` into `to`: only the fields that differ.
    pub fn between(from: &Profile, to: &Profile) -> Changes {
        Changes {
            contact: ContactChanges::between(&from.contact, &to.contact),
            department: differs(&from.department, &to.department),
            location: differs(&from.location, &to.location),
            job_title: differs(&from.job_title, &to.job_title),
            line_manager: differs(&from.line_manager, &to.line_manager),
        }
    }

    /// `profile` with these changes made.
    pub fn applied_to(&self, profile: &Profile) -> Profile {
        let or = |change: &Option<Option<String>>, current: &Option<String>| {
            change.clone().unwrap_or_else(|| current.clone())
        };
        Profile {
            contact: self.contact.applied_to(&profile.contact),
            department: or(&self.department, &profile.department),
            location: or(&self.location, &profile.location),
            job_title: or(&self.job_title, &profile.job_title),
            line_manager: self.line_manager.clone().unwrap_or_else(|| profile.line_manager.clone()),
        }
    }
}

/// A requester's record.
///
/// JSON shape: `{"id": "k.lee", "profile": {...}, "vip": "elected_member" | null,
/// "status": "active", "registered_at": "2026-03-02T09:00:00Z", "left_at": null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    id: PersonId,
    profile: Profile,
    vip: Option<VipKind>,
    status: Status,
    registered_at: Timestamp,
    left_at: Option<Timestamp>,
}

impl Requester {
    /// Their identifier.
    pub fn person(&self) -> &PersonId {
        &self.id
    }

    /// Their details.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Their name.
    pub fn name(&self) -> &str {
        &self.profile.contact.name
    }

    /// Their email address, if known.
    pub fn email(&self) -> Option<&Email> {
        self.profile.contact.email.as_ref()
    }

    /// Their phone number, if known.
    pub fn phone(&self) -> Option<&Phone> {
        self.profile.contact.phone.as_ref()
    }

    /// Their line manager, if known.
    pub fn line_manager(&self) -> Option<&PersonId> {
        self.profile.line_manager.as_ref()
    }

    /// Why they are a VIP, if they are.
    pub fn vip(&self) -> Option<VipKind> {
        self.vip
    }

    /// Whether they still work for the council.
    pub fn status(&self) -> Status {
        self.status
    }

    /// When the record was created.
    pub fn registered_at(&self) -> Timestamp {
        self.registered_at
    }

    /// When they last left, while they are marked as left.
    pub fn left_at(&self) -> Option<Timestamp> {
        self.left_at
    }
}

/// What can be asked of a requester record.
///
/// JSON shape: `{"type": "register", "id": "k.lee", "profile": {...}, "vip": null}`,
/// `{"type": "update_details", "changes": {...}}`, `{"type": "set_vip", "kind": "chief_officer"}`,
/// `{"type": "clear_vip"}`, `{"type": "record_leaving"}`, `{"type": "rejoin"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Create the record.
    Register {
        /// Their identifier.
        id: PersonId,
        /// Their details.
        profile: Profile,
        /// Why they are a VIP, if they are.
        #[serde(default)]
        vip: Option<VipKind>,
    },
    /// Change some details; fields not named keep their value.
    UpdateDetails {
        /// What changes.
        changes: Changes,
    },
    /// Mark them as a VIP of `kind`.
    SetVip {
        /// Why they are a VIP.
        kind: VipKind,
    },
    /// They are no longer a VIP.
    ClearVip,
    /// They have left the council.
    RecordLeaving,
    /// They have come back.
    Rejoin,
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Register { .. } => "register",
            Command::UpdateDetails { .. } => "update_details",
            Command::SetVip { .. } => "set_vip",
            Command::ClearVip => "clear_vip",
            Command::RecordLeaving => "record_leaving",
            Command::Rejoin => "rejoin",
        }
    }
}

/// What happened to a requester record.
///
/// JSON shape: `{"type": "registered", "id": "k.lee", "profile": {...}, "vip": null}`,
/// `{"type": "details_updated", "changes": {...}}`, `{"type": "vip_set", "kind": "..."}`,
/// `{"type": "vip_cleared"}`, `{"type": "left"}`, `{"type": "rejoined"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The record was created.
    Registered {
        /// Their identifier.
        id: PersonId,
        /// Their details, checked and trimmed.
        profile: Profile,
        /// Why they are a VIP, if they are.
        vip: Option<VipKind>,
    },
    /// Some details changed.
    DetailsUpdated {
        /// Only the fields that changed.
        changes: Changes,
    },
    /// They became a VIP, or their VIP kind changed.
    VipSet {
        /// Why they are a VIP.
        kind: VipKind,
    },
    /// They are no longer a VIP.
    VipCleared,
    /// They left the council.
    Left,
    /// They came back.
    Rejoined,
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Registered { .. } => "registered",
            Event::DetailsUpdated { .. } => "details_updated",
            Event::VipSet { .. } => "vip_set",
            Event::VipCleared => "vip_cleared",
            Event::Left => "left",
            Event::Rejoined => "rejoined",
        }
    }

    fn visibility(&self) -> Visibility {
        match self {
            Event::VipSet { .. } | Event::VipCleared => Visibility::Internal,
            _ => Visibility::Public,
        }
    }
}

/// Why a requester command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record with this id exists already.
    #[error("requester {id} is already registered (use rejoin if they have come back)")]
    AlreadyRegistered {
        /// The requester.
        id: PersonId,
    },
    /// The record does not exist yet.
    #[error("cannot {command} a requester who is not registered")]
    NotRegistered {
        /// The command refused.
        command: &'static str,
    },
    /// The command is not allowed in the record's state.
    #[error("cannot {command} requester {id}: their record is {state}")]
    InvalidTransition {
        /// The requester.
        id: PersonId,
        /// Their status.
        state: Status,
        /// The command refused.
        command: &'static str,
    },
    /// The details given are not acceptable.
    #[error("requester {id}: {source}")]
    Details {
        /// The requester.
        id: PersonId,
        /// What is wrong.
        source: DetailsError,
    },
}

impl Aggregate for Requester {
    const NOUN: &'static str = "requester";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn id(&self) -> RecordId {
        RecordId::Requester(self.id.clone())
    }

    fn decide(
        state: Option<&Self>,
        command: Command,
        _ctx: Context<'_>,
    ) -> Result<Vec<Event>, Error> {
        let name = command.name();
        let Some(requester) = state else {
            return match command {
                Command::Register { id, profile, vip } => {
                    let profile = profile
                        .checked(&id)
                        .map_err(|source| Error::Details { id: id.clone(), source })?;
                    Ok(vec![Event::Registered { id, profile, vip }])
                }
                _ => Err(Error::NotRegistered { command: name }),
            };
        };
        match (requester.status, command) {
            (_, Command::Register { .. }) => {
                Err(Error::AlreadyRegistered { id: requester.id.clone() })
            }
            (Status::Left, Command::Rejoin) => Ok(vec![Event::Rejoined]),
            (Status::Left, _) | (Status::Active, Command::Rejoin) => Err(requester.refuse(name)),
            (Status::Active, Command::UpdateDetails { changes }) => {
                let wanted = changes.applied_to(&requester.profile);
                let profile = wanted
                    .checked(&requester.id)
                    .map_err(|source| Error::Details { id: requester.id.clone(), source })?;
                let changes = Changes::between(&requester.profile, &profile);
                Ok(if changes.is_empty() {
                    vec![]
                } else {
                    vec![Event::DetailsUpdated { changes }]
                })
            }
            (Status::Active, Command::SetVip { kind }) if requester.vip == Some(kind) => Ok(vec![]),
            (Status::Active, Command::SetVip { kind }) => Ok(vec![Event::VipSet { kind }]),
            (Status::Active, Command::ClearVip) if requester.vip.is_none() => Ok(vec![]),
            (Status::Active, Command::ClearVip) => Ok(vec![Event::VipCleared]),
            (Status::Active, Command::RecordLeaving) => Ok(vec![Event::Left]),
        }
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let Some(mut requester) = state else {
            return match event {
                Event::Registered { id, profile, vip } => Ok(Requester {
                    id: id.clone(),
                    profile: profile.clone(),
                    vip: *vip,
                    status: Status::Active,
                    registered_at: at,
                    left_at: None,
                }),
                _ => Err(ReplayError::NotCreated { noun: Self::NOUN, event: event.name() }),
            };
        };
        match event {
            Event::Registered { .. } => {
                return Err(ReplayError::AlreadyCreated {
                    reference: requester.id().to_string(),
                    event: event.name(),
                });
            }
            Event::DetailsUpdated { changes } => {
                requester.profile = changes.applied_to(&requester.profile);
            }
            Event::VipSet { kind } => requester.vip = Some(*kind),
            Event::VipCleared => requester.vip = None,
            Event::Left => {
                requester.status = Status::Left;
                requester.left_at = Some(at);
            }
            Event::Rejoined => {
                requester.status = Status::Active;
                requester.left_at = None;
            }
        }
        Ok(requester)
    }
}

impl Requester {
    fn refuse(&self, command: &'static str) -> Error {
        Error::InvalidTransition { id: self.id.clone(), state: self.status, command }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DeskConfig;
    use crate::record::Actor;
    use crate::scenario;

    fn person(id: &str) -> PersonId {
        PersonId::new(id).unwrap()
    }

    fn kim() -> Profile {
        let mut profile = Profile::new(Contact {
            name: "Kim Lee".into(),
            email: Some(Email::new("k.lee@example.gov.uk").unwrap()),
            phone: None,
        });
        profile.department = Some("Revenues and Benefits".into());
        profile.line_manager = Some(person("r.shah"));
        profile
    }

    fn when(
        given: Option<Requester>,
        commands: impl IntoIterator<Item = Command>,
    ) -> Result<(Requester, Vec<Event>), Error> {
        let actor = Actor::Agent(person("a.patel"));
        scenario::when(&DeskConfig::empty(), &actor, given, commands)
    }

    fn registered() -> Requester {
        let register = Command::Register { id: person("k.lee"), profile: kim(), vip: None };
        when(None, [register]).unwrap().0
    }

    #[test]
    fn registering_trims_the_details() {
        // Given a profile typed with stray spaces
        let mut profile = kim();
        profile.contact.name = "  Kim Lee ".into();
        profile.location = Some(" Town Hall ".into());
        // When the requester is registered
        let (requester, events) =
            when(None, [Command::Register { id: person("k.lee"), profile, vip: None }]).unwrap();
        // Then the record keeps the trimmed values
        assert_eq!(requester.name(), "Kim Lee");
        assert_eq!(requester.profile().location.as_deref(), Some("Town Hall"));
        assert_eq!(requester.status(), Status::Active);
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn a_requester_needs_a_way_to_be_reached() {
        // Given a profile with neither email nor phone
        let mut profile = kim();
        profile.contact.email = None;
        // When it is registered
        let refused = when(None, [Command::Register { id: person("k.lee"), profile, vip: None }]);
        // Then it is refused, saying why
        let error = refused.unwrap_err();
        assert_eq!(
            error.to_string(),
            "requester k.lee: an email address or a phone number is needed"
        );
    }

    #[test]
    fn nobody_is_their_own_line_manager() {
        let changes = Changes { line_manager: Some(Some(person("k.lee"))), ..Changes::default() };
        let error = when(Some(registered()), [Command::UpdateDetails { changes }]).unwrap_err();
        assert!(matches!(error, Error::Details { source: DetailsError::OwnLineManager(_), .. }));
    }

    #[test]
    fn an_update_records_only_what_changed() {
        // Given a registered requester
        let given = registered();
        // When an update repeats the department and clears the line manager
        let changes = Changes {
            department: Some(Some("Revenues and Benefits".into())),
            line_manager: Some(None),
            ..Changes::default()
        };
        let (requester, events) =
            when(Some(given.clone()), [Command::UpdateDetails { changes }]).unwrap();
        // Then only the line manager change is recorded
        let expected = Changes { line_manager: Some(None), ..Changes::default() };
        assert_eq!(events, [Event::DetailsUpdated { changes: expected }]);
        assert_eq!(requester.line_manager(), None);
        // And an update that changes nothing records nothing
        let same = Changes::between(given.profile(), given.profile());
        let (_, events) = when(Some(given), [Command::UpdateDetails { changes: same }]).unwrap();
        assert!(events.is_empty());
    }

    #[test]
    fn vip_kind_is_set_and_cleared_idempotently() {
        let (requester, events) = when(
            Some(registered()),
            [
                Command::SetVip { kind: VipKind::ElectedMember },
                Command::SetVip { kind: VipKind::ElectedMember },
            ],
        )
        .unwrap();
        assert_eq!(requester.vip(), Some(VipKind::ElectedMember));
        assert!(events.is_empty(), "setting the same kind again records nothing");
        let (requester, events) = when(Some(requester), [Command::ClearVip]).unwrap();
        assert_eq!((requester.vip(), events), (None, vec![Event::VipCleared]));
        assert_eq!(Event::VipCleared.visibility(), Visibility::Internal);
    }

    #[test]
    fn a_leaver_accepts_only_rejoin() {
        // Given a requester who has left
        let (leaver, _) = when(Some(registered()), [Command::RecordLeaving]).unwrap();
        assert!(leaver.left_at().is_some());
        // When their VIP kind is set
        let error = when(Some(leaver.clone()), [Command::SetVip { kind: VipKind::ChiefOfficer }])
            .unwrap_err();
        // Then it is refused, naming the state and the command
        assert_eq!(
            error.to_string(),
            "cannot set_vip requester k.lee: their record is marked as left"
        );
        // And they can rejoin, after which they are active again
        let (back, events) = when(Some(leaver), [Command::Rejoin]).unwrap();
        assert_eq!(
            (back.status(), back.left_at(), events),
            (Status::Active, None, vec![Event::Rejoined])
        );
        assert!(matches!(
            when(Some(back), [Command::Rejoin]),
            Err(Error::InvalidTransition { state: Status::Active, command: "rejoin", .. })
        ));
    }

    #[test]
    fn registering_twice_or_updating_nobody_is_refused() {
        let twice = Command::Register { id: person("k.lee"), profile: kim(), vip: None };
        assert!(matches!(when(Some(registered()), [twice]), Err(Error::AlreadyRegistered { .. })));
        assert_eq!(
            when(None, [Command::ClearVip]).unwrap_err(),
            Error::NotRegistered { command: "clear_vip" }
        );
    }

    #[test]
    fn commands_and_events_have_stable_json() {
        let command: Command = serde_json::from_value(serde_json::json!({
            "type": "update_details",
            "changes": {"phone": "01632 960555", "location": null}
        }))
        .unwrap();
        let Command::UpdateDetails { changes } = &command else { panic!("{command:?}") };
        assert_eq!(changes.location, Some(None));
        assert_eq!(changes.contact.phone, Some(Some(Phone::new("01632 960555").unwrap())));
        assert_eq!(command.name(), "update_details");
        let event = Event::Registered { id: person("k.lee"), profile: kim(), vip: None };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "registered");
        assert_eq!(json["profile"]["name"], "Kim Lee");
        assert_eq!(json["profile"]["line_manager"], "r.shah");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
