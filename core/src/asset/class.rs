//! Asset classes and the attributes each class records.
//!
//! A class decides which attributes make sense: a laptop has a serial number and a warranty, a
//! software title has licence seats, a service has an owner. [`Attributes`] is one variant per
//! class, each holding the struct for that class, so a laptop can never carry licence seats.
//!
//! JSON shape of [`Attributes`]: an object tagged by `class`, with that class's fields (every
//! field may be `null` or left out):
//!
//! ```json
//! {"class": "laptop", "serial": "5CG1234XYZ", "model": "EliteBook 840 G10", "warranty_end": "2027-03-31", "hostname": "EBC-LT-0412"}
//! {"class": "mobile", "serial": null, "model": "iPhone 15", "warranty_end": null, "imei": "356938035643809", "phone_number": "07700 900123"}
//! {"class": "phone", "serial": "FCH2240", "model": "Cisco 8841", "warranty_end": null, "extension": "4471"}
//! {"class": "e_token", "serial": "TK-88213", "model": "YubiKey 5 NFC", "expires": "2028-01-31"}
//! {"class": "software", "publisher": "Northgate", "version": "4.2", "licence_seats": 250, "licence_end": "2027-03-31"}
//! {"class": "service", "owner": "h.wright"}
//! ```
//!
//! `desktop`, `laptop`, `thin_client`, `printer`, `network_device` and `server` share the device
//! fields (`serial`, `model`, `warranty_end`, `hostname`).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::id::PersonId;

/// What kind of configuration item an asset is.
///
/// JSON shape: `"desktop"`, `"laptop"`, `"mobile"`, `"phone"`, `"thin_client"`, `"e_token"`,
/// `"printer"`, `"network_device"`, `"server"`, `"software"`, `"service"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// A desktop PC.
    Desktop,
    /// A laptop.
    Laptop,
    /// A mobile phone or tablet.
    Mobile,
    /// A desk phone.
    Phone,
    /// A thin client.
    ThinClient,
    /// A two-factor authentication token.
    EToken,
    /// A printer or multi-function device.
    Printer,
    /// A switch, router, firewall or wireless access point.
    NetworkDevice,
    /// A physical or virtual server.
    Server,
    /// A software title or application.
    Software,
    /// A business or IT service (revenues and benefits, email, the website).
    Service,
}

impl Class {
    /// Every class.
    pub const ALL: [Class; 11] = [
        Class::Desktop,
        Class::Laptop,
        Class::Mobile,
        Class::Phone,
        Class::ThinClient,
        Class::EToken,
        Class::Printer,
        Class::NetworkDevice,
        Class::Server,
        Class::Software,
        Class::Service,
    ];

    /// The name used in JSON, configuration and CSV, e.g. `network_device`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Desktop => "desktop",
            Class::Laptop => "laptop",
            Class::Mobile => "mobile",
            Class::Phone => "phone",
            Class::ThinClient => "thin_client",
            Class::EToken => "e_token",
            Class::Printer => "printer",
            Class::NetworkDevice => "network_device",
            Class::Server => "server",
            Class::Software => "software",
            Class::Service => "service",
        }
    }

    /// The class's name with its indefinite article, for messages: "a laptop", "an e-token".
    pub fn with_article(self) -> String {
        let name = self.to_string();
        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("{article} {name}")
    }

    /// The attributes of this class with every field empty.
    pub fn blank(self) -> Attributes {
        match self {
            Class::Desktop => Attributes::Desktop(Device::default()),
            Class::Laptop => Attributes::Laptop(Device::default()),
            Class::Mobile => Attributes::Mobile(Mobile::default()),
            Class::Phone => Attributes::Phone(DeskPhone::default()),
            Class::ThinClient => Attributes::ThinClient(Device::default()),
            Class::EToken => Attributes::EToken(Token::default()),
            Class::Printer => Attributes::Printer(Device::default()),
            Class::NetworkDevice => Attributes::NetworkDevice(Device::default()),
            Class::Server => Attributes::Server(Device::default()),
            Class::Software => Attributes::Software(Software::default()),
            Class::Service => Attributes::Service(Service::default()),
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::ThinClient => "thin client",
            Class::EToken => "e-token",
            Class::NetworkDevice => "network device",
            other => other.as_str(),
        })
    }
}

/// `text` is not an asset class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an asset class (desktop, laptop, mobile, phone, thin_client, e_token, printer, network_device, server, software, service)"
)]
pub struct ParseClassError(pub String);

impl FromStr for Class {
    type Err = ParseClassError;

    /// Accepts the JSON name in any case, with `-` or a space for `_` (`Thin client`, `e-token`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Class::ALL
            .into_iter()
            .find(|class| class.as_str() == wanted)
            .ok_or_else(|| ParseClassError(text.to_owned()))
    }
}

/// Hardware with a network name: desktops, laptops, thin clients, printers, network kit, servers.
///
/// JSON shape: `{"serial": …, "model": …, "warranty_end": "2027-03-31", "hostname": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Device {
    /// The manufacturer's serial number.
    pub serial: Option<String>,
    /// Make and model.
    pub model: Option<String>,
    /// The last day of the warranty.
    pub warranty_end: Option<NaiveDate>,
    /// Its name on the network.
    pub hostname: Option<String>,
}

/// A mobile phone or tablet.
///
/// JSON shape: `{"serial", "model", "warranty_end", "imei", "phone_number"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mobile {
    /// The manufacturer's serial number.
    pub serial: Option<String>,
    /// Make and model.
    pub model: Option<String>,
    /// The last day of the warranty.
    pub warranty_end: Option<NaiveDate>,
    /// The handset's IMEI.
    pub imei: Option<String>,
    /// The SIM's phone number.
    pub phone_number: Option<String>,
}

/// A desk phone.
///
/// JSON shape: `{"serial", "model", "warranty_end", "extension"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeskPhone {
    /// The manufacturer's serial number.
    pub serial: Option<String>,
    /// Make and model.
    pub model: Option<String>,
    /// The last day of the warranty.
    pub warranty_end: Option<NaiveDate>,
    /// The internal extension number.
    pub extension: Option<String>,
}

/// A two-factor e-token.
///
/// JSON shape: `{"serial", "model", "expires"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Token {
    /// The token's serial number.
    pub serial: Option<String>,
    /// Make and model.
    pub model: Option<String>,
    /// The day the token stops working.
    pub expires: Option<NaiveDate>,
}

/// A software title.
///
/// JSON shape: `{"publisher", "version", "licence_seats", "licence_end"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Software {
    /// Who publishes it.
    pub publisher: Option<String>,
    /// The version in use.
    pub version: Option<String>,
    /// How many seats the licence covers.
    pub licence_seats: Option<u32>,
    /// The last day of the licence.
    pub licence_end: Option<NaiveDate>,
}

/// A business or IT service.
///
/// JSON shape: `{"owner": "h.wright"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Service {
    /// The service owner.
    pub owner: Option<PersonId>,
}

/// The class of an asset with the attributes that class records (see the module docs for JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum Attributes {
    /// A desktop PC.
    Desktop(Device),
    /// A laptop.
    Laptop(Device),
    /// A mobile phone or tablet.
    Mobile(Mobile),
    /// A desk phone.
    Phone(DeskPhone),
    /// A thin client.
    ThinClient(Device),
    /// A two-factor e-token.
    EToken(Token),
    /// A printer or multi-function device.
    Printer(Device),
    /// A switch, router, firewall or access point.
    NetworkDevice(Device),
    /// A physical or virtual server.
    Server(Device),
    /// A software title.
    Software(Software),
    /// A business or IT service.
    Service(Service),
}

impl Attributes {
    /// The class these attributes belong to.
    pub const fn class(&self) -> Class {
        match self {
            Attributes::Desktop(_) => Class::Desktop,
            Attributes::Laptop(_) => Class::Laptop,
            Attributes::Mobile(_) => Class::Mobile,
            Attributes::Phone(_) => Class::Phone,
            Attributes::ThinClient(_) => Class::ThinClient,
            Attributes::EToken(_) => Class::EToken,
            Attributes::Printer(_) => Class::Printer,
            Attributes::NetworkDevice(_) => Class::NetworkDevice,
            Attributes::Server(_) => Class::Server,
            Attributes::Software(_) => Class::Software,
            Attributes::Service(_) => Class::Service,
        }
    }

    /// The serial number, for classes that have one.
    pub fn serial(&self) -> Option<&str> {
        match self {
            Attributes::Desktop(d)
            | Attributes::Laptop(d)
            | Attributes::ThinClient(d)
            | Attributes::Printer(d)
            | Attributes::NetworkDevice(d)
            | Attributes::Server(d) => d.serial.as_deref(),
            Attributes::Mobile(m) => m.serial.as_deref(),
            Attributes::Phone(p) => p.serial.as_deref(),
            Attributes::EToken(t) => t.serial.as_deref(),
            Attributes::Software(_) | Attributes::Service(_) => None,
        }
    }

    /// The end of the warranty, for hardware that has one.
    pub fn warranty_end(&self) -> Option<NaiveDate> {
        match self {
            Attributes::Desktop(d)
            | Attributes::Laptop(d)
            | Attributes::ThinClient(d)
            | Attributes::Printer(d)
            | Attributes::NetworkDevice(d)
            | Attributes::Server(d) => d.warranty_end,
            Attributes::Mobile(m) => m.warranty_end,
            Attributes::Phone(p) => p.warranty_end,
            Attributes::EToken(_) | Attributes::Software(_) | Attributes::Service(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_parse_from_what_people_type() {
        for class in Class::ALL {
            assert_eq!(class.as_str().parse::<Class>().unwrap(), class);
            assert_eq!(class.to_string().parse::<Class>().unwrap(), class);
            assert_eq!(serde_json::to_value(class).unwrap(), serde_json::json!(class.as_str()));
            assert_eq!(class.blank().class(), class);
        }
        assert_eq!("Thin Client".parse::<Class>().unwrap(), Class::ThinClient);
        assert_eq!(Class::EToken.with_article(), "an e-token");
        assert_eq!(Class::Server.with_article(), "a server");
        assert!("toaster".parse::<Class>().is_err());
    }

    #[test]
    fn attributes_are_tagged_by_class_in_json() {
        let laptop = Attributes::Laptop(Device {
            serial: Some("5CG1234XYZ".into()),
            model: Some("EliteBook 840".into()),
            warranty_end: NaiveDate::from_ymd_opt(2027, 3, 31),
            hostname: None,
        });
        let json = serde_json::to_value(&laptop).unwrap();
        assert_eq!(json["class"], "laptop");
        assert_eq!(json["warranty_end"], "2027-03-31");
        assert_eq!(serde_json::from_value::<Attributes>(json).unwrap(), laptop);
        assert_eq!(laptop.serial(), Some("5CG1234XYZ"));
    }

    #[test]
    fn attributes_of_another_class_are_refused() {
        let wrong = serde_json::json!({"class": "laptop", "licence_seats": 5});
        let err = serde_json::from_value::<Attributes>(wrong).unwrap_err();
        assert!(err.to_string().contains("licence_seats"), "{err}");
        let sparse: Attributes = serde_json::from_value(serde_json::json!({"class": "service"}))
            .expect("every field is optional");
        assert_eq!(sparse, Class::Service.blank());
    }
}
