//! People: requesters and agents.
//!
//! People are records, not configuration: joiners and leavers change them daily, so each person
//! is an [`Aggregate`](crate::Aggregate) with its own history. A [`Requester`] (council staff or
//! an elected member who asks the desk for help) is stored as `requester:<id>`; an [`Agent`]
//! (desk staff in one or more teams) as `agent:<id>`. One person may be both.
//!
//! This module holds what the two share: the validated contact values [`Email`] and [`Phone`],
//! a person's [`Contact`] details with their partial update [`ContactChanges`], and the checks on
//! names and free text ([`DetailsError`]). [`import`] reads requester and agent rows from CSV and
//! turns each into the commands that bring a record into line with it.
//!
//! Rules shared by both records:
//! - a person needs a name and a way to reach them: an email address or a phone number;
//! - text is trimmed; a blank optional value is refused (leave it out instead);
//! - a command whose effect already holds (joining a team one is in, setting the VIP kind one
//!   has, an update that changes nothing) is accepted and records nothing, so retries and
//!   repeated imports are harmless.

pub mod agent;
pub mod import;
pub mod requester;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

pub use self::agent::Agent;
pub use self::requester::Requester;

/// Why a requester is a VIP. Their tickets get the configured priority uplift and are watched.
///
/// JSON shape: `"elected_member"` or `"chief_officer"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VipKind {
    /// A councillor.
    ElectedMember,
    /// A chief officer (chief executive, director, head of service).
    ChiefOfficer,
}

impl VipKind {
    /// Every kind.
    pub const ALL: [VipKind; 2] = [VipKind::ElectedMember, VipKind::ChiefOfficer];

    /// The name used in JSON and CSV: `elected_member`, `chief_officer`.
    pub const fn as_str(self) -> &'static str {
        match self {
            VipKind::ElectedMember => "elected_member",
            VipKind::ChiefOfficer => "chief_officer",
        }
    }
}

impl fmt::Display for VipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VipKind {
    type Err = DetailsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        VipKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| DetailsError::VipKind(text.to_owned()))
    }
}

/// The longest name or free-text value (department, location, job title) a person record keeps.
pub const TEXT_MAX: usize = 200;

/// Why a person's details were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetailsError {
    /// The text is not shaped like an email address.
    #[error("`{0}` is not a plausible email address")]
    Email(String),
    /// The text is not shaped like a phone number.
    #[error(
        "`{0}` is not a plausible phone number (digits, spaces, + ( ) - . and an optional `ext 123`)"
    )]
    Phone(String),
    /// The text is not a VIP kind.
    #[error("`{0}` is not a VIP kind (use elected_member or chief_officer)")]
    VipKind(String),
    /// A required value is empty or only spaces.
    #[error("{field} is needed")]
    Blank {
        /// The value's name, e.g. `name`.
        field: &'static str,
    },
    /// A value is longer than [`TEXT_MAX`].
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The value's name, e.g. `department`.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// Neither an email address nor a phone number was given.
    #[error("an email address or a phone number is needed")]
    NoContact,
    /// A requester was named as their own line manager.
    #[error("{0} cannot be their own line manager")]
    OwnLineManager(String),
}

/// An email address that looks deliverable: `local@domain.tld`, stored in lower case.
///
/// Council mail systems ignore case, so addresses compare case-insensitively by being kept in
/// lower case. The check is deliberately modest (one `@`, a sensible local part, a domain of
/// dot-separated labels with a non-numeric last label); it catches typing slips, not every
/// address RFC 5322 would allow.
///
/// JSON shape: a string, `"k.lee@example.gov.uk"`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Checks `text` and keeps it, trimmed and in lower case.
    pub fn new(text: &str) -> Result<Self, DetailsError> {
        let address = text.trim().to_lowercase();
        if plausible_email(&address) {
            Ok(Email(address))
        } else {
            Err(DetailsError::Email(text.to_owned()))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn plausible_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else { return false };
    let local_ok = (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    address.len() <= 254 && local_ok && domain_ok
}

/// A phone number as people write it: `01632 960123`, `+44 (0)1632 960 123`, `x4321`, with an
/// optional extension (`01632 960000 ext 214`).
///
/// It needs 3 to 15 digits (an internal extension to a full international number) and may use
/// spaces, `+` (first only), brackets, `-` and `.`. Runs of spaces are kept as one.
///
/// JSON shape: a string, `"01632 960123"`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Checks `text` and keeps it, trimmed, with runs of spaces made single.
    pub fn new(text: &str) -> Result<Self, DetailsError> {
        let number = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if plausible_phone(&number) {
            Ok(Phone(number))
        } else {
            Err(DetailsError::Phone(text.to_owned()))
        }
    }

    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn plausible_phone(number: &str) -> bool {
    let lower = number.to_ascii_lowercase();
    let (main, extension) = match lower.split_once("ext").or_else(|| lower.split_once('x')) {
        Some((main, extension)) => (main.trim(), Some(extension.trim_start_matches('.').trim())),
        None => (lower.as_str(), None),
    };
    let digits = main.chars().filter(char::is_ascii_digit).count();
    let main_ok = main
        .char_indices()
        .all(|(at, c)| c.is_ascii_digit() || " ()-.".contains(c) || (c == '+' && at == 0));
    let extension_ok = extension
        .is_none_or(|e| (1..=6).contains(&e.len()) && e.chars().all(|c| c.is_ascii_digit()));
    // An extension on its own (`x4321`) is a whole internal number.
    let whole_ok = match extension {
        Some(e) if main.is_empty() => (3..=6).contains(&e.len()),
        _ => (3..=15).contains(&digits),
    };
    main_ok && extension_ok && whole_ok
}

macro_rules! text_value {
    ($name:ident) => {
        impl FromStr for $name {
            type Err = DetailsError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::new(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = DetailsError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                $name::new(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(Email);
text_value!(Phone);

/// How to reach a person: their name, email address and phone number.
///
/// A valid contact has a name and at least one of email and phone (see [`Contact::checked`]).
///
/// JSON shape: `{"name": "Kim Lee", "email": "k.lee@example.gov.uk", "phone": "01632 960123"}`
/// (`email` and `phone` may be absent or `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The name people know them by.
    pub name: String,
    /// Their email address.
    #[serde(default)]
    pub email: Option<Email>,
    /// Their phone number or extension.
    #[serde(default)]
    pub phone: Option<Phone>,
}

impl Contact {
    /// The contact with its name trimmed, or why it is not acceptable.
    pub fn checked(self) -> Result<Contact, DetailsError> {
        let name = required_text("name", &self.name)?;
        if self.email.is_none() && self.phone.is_none() {
            return Err(DetailsError::NoContact);
        }
        Ok(Contact { name, ..self })
    }
}

/// A partial update of a [`Contact`]: absent fields keep their value, `null` clears one.
///
/// JSON shape: `{"name": "Kim Lee-Smith", "phone": null}` (clears the phone, keeps the email).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactChanges {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new email address, or `Some(None)` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub email: Option<Option<Email>>,
    /// A new phone number, or `Some(None)` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub phone: Option<Option<Phone>>,
}

impl ContactChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.phone.is_none()
    }

    /// The changes that turn `from` into `to`: only the fields that differ.
    pub fn between(from: &Contact, to: &Contact) -> ContactChanges {
        ContactChanges {
            name: differs(&from.name, &to.name),
            email: differs(&from.email, &to.email),
            phone: differs(&from.phone, &to.phone),
        }
    }

    /// `contact` with these changes made.
    pub fn applied_to(&self, contact: &Contact) -> Contact {
        Contact {
            name: self.name.clone().unwrap_or_else(|| contact.name.clone()),
            email: self.email.clone().unwrap_or_else(|| contact.email.clone()),
            phone: self.phone.clone().unwrap_or_else(|| contact.phone.clone()),
        }
    }
}

/// `Some(to)` when it differs from `from`: one field of a partial update.
pub(crate) fn differs<T: Clone + PartialEq>(from: &T, to: &T) -> Option<T> {
    (from != to).then(|| to.clone())
}

/// Deserialises a field of a partial update: present (even `null`) means "change".
pub(crate) fn patch<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `text` trimmed, refused when blank or longer than [`TEXT_MAX`].
pub(crate) fn required_text(field: &'static str, text: &str) -> Result<String, DetailsError> {
    let text = text.trim();
    if text.is_empty() {
        Err(DetailsError::Blank { field })
    } else if text.chars().count() > TEXT_MAX {
        Err(DetailsError::TooLong { field, max: TEXT_MAX })
    } else {
        Ok(text.to_owned())
    }
}

/// An optional free-text value, trimmed; refused when given but blank or too long.
pub(crate) fn optional_text(
    field: &'static str,
    text: Option<String>,
) -> Result<Option<String>, DetailsError> {
    text.map(|text| required_text(field, &text)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_email_addresses_are_accepted_in_lower_case() {
        for ok in
            ["k.lee@example.gov.uk", "  Kim.Lee@Example.GOV.uk ", "a+b@x.io", "o'neil@x-y.org"]
        {
            let email = Email::new(ok).unwrap();
            assert_eq!(email.as_str(), ok.trim().to_lowercase());
        }
        for bad in [
            "",
            "k.lee",
            "k.lee@",
            "@example.gov.uk",
            "k lee@example.gov.uk",
            "k.lee@example",
            "k..lee@example.gov.uk",
            "k.lee@example..uk",
            "k.lee@-example.uk",
            "k.lee@example.123",
            "a@b@example.gov.uk",
        ] {
            assert_eq!(Email::new(bad), Err(DetailsError::Email(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_are_written_as_people_write_them() {
        for ok in ["01632 960123", "+44 (0)1632  960 123", "4321", "x4321", "01632 960000 ext 214"]
        {
            let phone = Phone::new(ok).unwrap();
            assert!(!phone.as_str().contains("  "), "{phone}");
        }
        for bad in ["", "12", "call me", "0163-2+960123", "01632 960000 ext", "1234567890123456"] {
            assert!(Phone::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_contact_needs_a_name_and_a_way_to_reach_them() {
        let phone = Some(Phone::new("01632 960123").unwrap());
        let contact = Contact { name: "  Kim Lee ".into(), email: None, phone };
        assert_eq!(contact.checked().unwrap().name, "Kim Lee");
        let nameless = Contact { name: " ".into(), email: None, phone: None };
        assert_eq!(nameless.checked(), Err(DetailsError::Blank { field: "name" }));
        let unreachable = Contact { name: "Kim".into(), email: None, phone: None };
        assert_eq!(unreachable.clone().checked(), Err(DetailsError::NoContact));
        let long = Contact { name: "x".repeat(TEXT_MAX + 1), ..unreachable };
        assert_eq!(long.checked(), Err(DetailsError::TooLong { field: "name", max: TEXT_MAX }));
    }

    #[test]
    fn contact_changes_name_only_what_differs_and_null_clears() {
        let before = Contact {
            name: "Kim Lee".into(),
            email: Some(Email::new("k.lee@example.gov.uk").unwrap()),
            phone: Some(Phone::new("4321").unwrap()),
        };
        let after = Contact { phone: None, ..before.clone() };
        let changes = ContactChanges::between(&before, &after);
        assert_eq!(changes, ContactChanges { phone: Some(None), ..ContactChanges::default() });
        assert_eq!(changes.applied_to(&before), after);
        let json = serde_json::to_value(&changes).unwrap();
        assert_eq!(json, serde_json::json!({"phone": null}));
        let back: ContactChanges = serde_json::from_value(json).unwrap();
        assert_eq!(back, changes);
        assert!(ContactChanges::between(&before, &before).is_empty());
    }

    #[test]
    fn vip_kinds_parse_from_their_json_names() {
        for kind in VipKind::ALL {
            assert_eq!(kind.as_str().parse::<VipKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
        assert!("councillor".parse::<VipKind>().is_err());
    }
}
