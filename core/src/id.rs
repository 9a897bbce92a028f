//! Identifiers: human-friendly record references and configuration slugs.
//!
//! **References** name tickets and register entries: `INC-000123`, `REQ-000042`, `PRB-000007`,
//! `CHG-000310`, `AST-004711`, `KB-000019`, `CMP-000003`. The number is allocated outside the core
//! (by the storage adapter) and passed in with the creating command. References order by kind, then
//! by number; their text form is zero-padded to six digits so that it also sorts as text up to
//! 999,999 records per kind (beyond that the number simply grows wider).
//!
//! JSON shape: a reference is a string, `"INC-000123"`.
//!
//! **Slugs** name things that people type: people (`j.smith`), teams (`networks`), categories
//! (`hardware/laptop`), catalogue items, skills, resolution codes and business calendars. A slug is 1 to 64 characters
//! from `A-Z a-z 0-9 . _ @ / -`, starting with a letter or digit. JSON shape: a string.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kinds of record that carry a numbered reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// An incident (`INC`).
    Incident,
    /// A service request (`REQ`).
    ServiceRequest,
    /// A problem or known error (`PRB`).
    Problem,
    /// A change (`CHG`).
    Change,
    /// An asset or configuration item (`AST`).
    Asset,
    /// A knowledge article (`KB`).
    Article,
    /// A customer complaint (`CMP`).
    Complaint,
}

impl RecordKind {
    /// Every kind, in reference order.
    pub const ALL: [RecordKind; 7] = [
        RecordKind::Incident,
        RecordKind::ServiceRequest,
        RecordKind::Problem,
        RecordKind::Change,
        RecordKind::Asset,
        RecordKind::Article,
        RecordKind::Complaint,
    ];

    /// The prefix of this kind's references, e.g. `INC`.
    pub const fn prefix(self) -> &'static str {
        match self {
            RecordKind::Incident => "INC",
            RecordKind::ServiceRequest => "REQ",
            RecordKind::Problem => "PRB",
            RecordKind::Change => "CHG",
            RecordKind::Asset => "AST",
            RecordKind::Article => "KB",
            RecordKind::Complaint => "CMP",
        }
    }

    /// The kind whose references start with `prefix`.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }

    /// A lower-case noun for messages ("incident", "service request").
    pub const fn noun(self) -> &'static str {
        match self {
            RecordKind::Incident => "incident",
            RecordKind::ServiceRequest => "service request",
            RecordKind::Problem => "problem",
            RecordKind::Change => "change",
            RecordKind::Asset => "asset",
            RecordKind::Article => "knowledge article",
            RecordKind::Complaint => "complaint",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// Why a reference or slug could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The text is not `PREFIX-NUMBER`.
    #[error("`{0}` is not a reference like INC-000123")]
    Malformed(String),
    /// The prefix is not one of the known kinds.
    #[error("`{0}` has an unknown prefix (expected one of INC, REQ, PRB, CHG, AST, KB, CMP)")]
    UnknownPrefix(String),
    /// The reference is of another kind than the one expected.
    #[error("`{found}` is not a reference to a {expected}")]
    WrongKind {
        /// The kind that was expected.
        expected: RecordKind,
        /// The text that was found.
        found: String,
    },
    /// The number is zero or too large.
    #[error("`{0}` has a number outside 1..=4294967295")]
    OutOfRange(String),
    /// The text is not a valid slug.
    #[error(
        "`{0}` is not a valid identifier: use 1 to 64 of A-Z a-z 0-9 . _ @ / -, starting with a letter or digit"
    )]
    InvalidSlug(String),
}

/// A reference to any numbered record: kind plus number.
///
/// Use the typed references ([`IncidentRef`], [`ChangeRef`], …) where the kind is known; use this
/// one for links that may point at several kinds (a complaint about "a ticket", a knowledge
/// article linked to incidents and problems).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    kind: RecordKind,
    number: NonZeroU32,
}

impl Reference {
    /// A reference of `kind` with `number`.
    pub const fn new(kind: RecordKind, number: NonZeroU32) -> Self {
        Reference { kind, number }
    }

    /// The kind of record referred to.
    pub const fn kind(self) -> RecordKind {
        self.kind
    }

    /// The number within its kind.
    pub const fn number(self) -> NonZeroU32 {
        self.number
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:06}", self.kind.prefix(), self.number)
    }
}

impl FromStr for Reference {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (prefix, digits) =
            text.split_once('-').ok_or_else(|| IdError::Malformed(text.to_owned()))?;
        let kind = RecordKind::from_prefix(prefix)
            .ok_or_else(|| IdError::UnknownPrefix(text.to_owned()))?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Malformed(text.to_owned()));
        }
        let number: u32 = digits.parse().map_err(|_| IdError::OutOfRange(text.to_owned()))?;
        let number = NonZeroU32::new(number).ok_or_else(|| IdError::OutOfRange(text.to_owned()))?;
        Ok(Reference { kind, number })
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! typed_reference {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(NonZeroU32);

        impl $name {
            /// The kind of record this reference names.
            pub const KIND: RecordKind = RecordKind::$kind;

            /// The reference with `number`.
            pub const fn new(number: NonZeroU32) -> Self {
                $name(number)
            }

            /// The reference with `number`, or `None` for zero.
            pub const fn from_number(number: u32) -> Option<Self> {
                match NonZeroU32::new(number) {
                    Some(n) => Some($name(n)),
                    None => None,
                }
            }

            /// The number within its kind.
            pub const fn number(self) -> NonZeroU32 {
                self.0
            }

            /// This reference, untyped.
            pub const fn reference(self) -> Reference {
                Reference::new(RecordKind::$kind, self.0)
            }
        }

        impl From<$name> for Reference {
            fn from(typed: $name) -> Reference {
                typed.reference()
            }
        }

        impl TryFrom<Reference> for $name {
            type Error = IdError;

            fn try_from(reference: Reference) -> Result<Self, Self::Error> {
                if reference.kind() == RecordKind::$kind {
                    Ok($name(reference.number()))
                } else {
                    Err(IdError::WrongKind {
                        expected: RecordKind::$kind,
                        found: reference.to_string(),
                    })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.reference(), f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let reference: Reference = text.parse()?;
                reference.try_into()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_reference!(
    /// A reference to an incident, `INC-000123`.
    IncidentRef,
    Incident
);
typed_reference!(
    /// A reference to a service request, `REQ-000123`.
    RequestRef,
    ServiceRequest
);
typed_reference!(
    /// A reference to a problem or known error, `PRB-000123`.
    ProblemRef,
    Problem
);
typed_reference!(
    /// A reference to a change, `CHG-000123`.
    ChangeRef,
    Change
);
typed_reference!(
    /// A reference to an asset or configuration item, `AST-000123`.
    AssetRef,
    Asset
);
typed_reference!(
    /// A reference to a knowledge article, `KB-000123`.
    ArticleRef,
    Article
);
typed_reference!(
    /// A reference to a customer complaint, `CMP-000123`.
    ComplaintRef,
    Complaint
);

/// Whether `text` is a valid slug (see the module docs).
pub fn is_slug(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"._@/-".contains(b))
}

macro_rules! slug {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `text` and wraps it.
            pub fn new(text: impl Into<String>) -> Result<Self, IdError> {
                let text = text.into();
                if is_slug(&text) { Ok($name(text)) } else { Err(IdError::InvalidSlug(text)) }
            }

            /// The text of this identifier.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                $name::new(text)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;

            fn try_from(text: &str) -> Result<Self, Self::Error> {
                $name::new(text)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::new(text)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug!(
    /// A person: a requester, an agent, or both (`j.smith`, an employee number, an email address).
    PersonId
);
slug!(
    /// A team from configuration (`service-desk`, `networks`, `supplier-acme`).
    TeamId
);
slug!(
    /// A category from configuration (`hardware/laptop`, `access/password`).
    CategoryId
);
slug!(
    /// A service-catalogue item from configuration (`new-starter`, `leaver`).
    CatalogueItemId
);
slug!(
    /// A step inside something configured: a fulfilment task, an approval, a template step.
    StepId
);
slug!(
    /// A standard-change template from configuration (`printer-driver-update`).
    ChangeTemplateId
);
slug!(
    /// A skill an agent has and a routing rule may ask for (`cisco`, `welsh-language`).
    Skill
);
slug!(
    /// How a ticket was resolved (`fixed`, `workaround`, `no-fault-found`).
    ResolutionCode
);
slug!(
    /// A business calendar, by the `name` in its file (`core-hours`, `24x7`).
    CalendarId
);
slug!(
    /// An SLA clock within a policy, by its `id` (`response`, `resolution`, `ola-networks`).
    ClockId
);

/// Any record's identity: a numbered reference, or a person record keyed by their id.
///
/// This is what the storage keys a history by. JSON shape: a string, `"INC-000123"`,
/// `"requester:k.lee"` or `"agent:j.smith"` (a slug never contains `:`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordId {
    /// A numbered record: ticket, asset or article.
    Ref(Reference),
    /// A requester's record.
    Requester(PersonId),
    /// An agent's record.
    Agent(PersonId),
}

impl RecordId {
    /// A lower-case noun for the kind of record ("incident", "requester").
    pub fn noun(&self) -> &'static str {
        match self {
            RecordId::Ref(reference) => reference.kind().noun(),
            RecordId::Requester(_) => "requester",
            RecordId::Agent(_) => "agent",
        }
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordId::Ref(reference) => fmt::Display::fmt(reference, f),
            RecordId::Requester(id) => write!(f, "requester:{id}"),
            RecordId::Agent(id) => write!(f, "agent:{id}"),
        }
    }
}

impl FromStr for RecordId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once(':') {
            Some(("requester", id)) => Ok(RecordId::Requester(id.parse()?)),
            Some(("agent", id)) => Ok(RecordId::Agent(id.parse()?)),
            Some(_) => Err(IdError::Malformed(text.to_owned())),
            None => Ok(RecordId::Ref(text.parse()?)),
        }
    }
}

impl<T: Into<Reference>> From<T> for RecordId {
    fn from(reference: T) -> Self {
        RecordId::Ref(reference.into())
    }
}

impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_print_zero_padded_and_parse_back() {
        let reference = IncidentRef::from_number(123).unwrap();
        assert_eq!(reference.to_string(), "INC-000123");
        assert_eq!("INC-000123".parse::<IncidentRef>().unwrap(), reference);
        assert_eq!("INC-123".parse::<IncidentRef>().unwrap(), reference);
        let big = ChangeRef::from_number(12_345_678).unwrap();
        assert_eq!(big.to_string(), "CHG-12345678");
        assert_eq!(ArticleRef::from_number(7).unwrap().to_string(), "KB-000007");
    }

    #[test]
    fn references_refuse_bad_text_with_the_reason() {
        assert!(matches!("INC".parse::<Reference>(), Err(IdError::Malformed(_))));
        assert!(matches!("INC-".parse::<Reference>(), Err(IdError::Malformed(_))));
        assert!(matches!("INC-12a".parse::<Reference>(), Err(IdError::Malformed(_))));
        assert!(matches!("INC-+12".parse::<Reference>(), Err(IdError::Malformed(_))));
        assert!(matches!("XYZ-000001".parse::<Reference>(), Err(IdError::UnknownPrefix(_))));
        assert!(matches!("INC-000000".parse::<Reference>(), Err(IdError::OutOfRange(_))));
        assert!(matches!("INC-99999999999".parse::<Reference>(), Err(IdError::OutOfRange(_))));
        assert!(matches!("CHG-000001".parse::<IncidentRef>(), Err(IdError::WrongKind { .. })));
    }

    #[test]
    fn references_sort_by_kind_then_number() {
        let mut refs: Vec<Reference> = ["REQ-000002", "INC-000010", "INC-000009", "CMP-000001"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        refs.sort();
        let texts: Vec<String> = refs.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["INC-000009", "INC-000010", "REQ-000002", "CMP-000001"]);
    }

    #[test]
    fn references_and_slugs_are_json_strings() {
        let reference = ProblemRef::from_number(5).unwrap();
        assert_eq!(serde_json::to_string(&reference).unwrap(), "\"PRB-000005\"");
        let back: ProblemRef = serde_json::from_str("\"PRB-000005\"").unwrap();
        assert_eq!(back, reference);
        let team: TeamId = serde_json::from_str("\"networks\"").unwrap();
        assert_eq!(serde_json::to_string(&team).unwrap(), "\"networks\"");
        let err = serde_json::from_str::<TeamId>("\"has space\"").unwrap_err();
        assert!(err.to_string().contains("not a valid identifier"), "{err}");
    }

    #[test]
    fn record_ids_name_people_and_numbered_records() {
        for text in ["INC-000001", "requester:k.lee", "agent:j.smith@council.gov.uk"] {
            let id: RecordId = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
            assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!(text));
        }
        assert!("robot:x".parse::<RecordId>().is_err());
        assert!("agent:has space".parse::<RecordId>().is_err());
    }

    #[test]
    fn slugs_accept_usernames_emails_and_paths() {
        for ok in ["j.smith", "E12345", "j.smith@council.gov.uk", "hardware/laptop", "a_b-c"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", " x", "-x", "a b", "ä", &"x".repeat(65)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }
}
