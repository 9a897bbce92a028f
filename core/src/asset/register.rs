//! The asset register as a table: one row per asset, for CSV import and export.
//!
//! Columns (header names, any order, any case):
//!
//! | column | meaning |
//! |---|---|
//! | `reference` | `AST-000123` (required) |
//! | `class` | `laptop`, `thin client`, `network_device`, … (required) |
//! | `name` | the asset's name (required) |
//! | `status` | `ordered`, `in stock`, `deployed`, `in repair`, `retired`, `disposed` (required) |
//! | `serial`, `model`, `warranty_end`, `hostname` | hardware |
//! | `imei`, `phone_number` | mobiles |
//! | `extension` | desk phones |
//! | `expires` | e-tokens |
//! | `publisher`, `version`, `licence_seats`, `licence_end` | software |
//! | `owner` | services |
//! | `assigned_to`, `location` | the deployment, for deployed (location required) or in-repair assets |
//! | `relationships` | `runs_on:AST-000002;depends_on:AST-000009` |
//!
//! Dates are written `2027-03-31`; `31/03/2027` (as UK spreadsheets show them) is also read. A
//! cell in a column that does not apply to the row's class is an error for that cell, not a value
//! silently dropped. Each bad cell is reported with its row and column; good rows are still read.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::class::{Attributes, Class, DeskPhone, Device, Mobile, Service, Software, Token};
use super::relationship::Link;
use super::{Asset, Command, Deployment, Status};
use crate::id::{AssetRef, PersonId};
use crate::tabular::{Cells, FieldError, Row, Tabular, cell, list_cell};

/// One asset as a row of the register.
///
/// JSON shape: `{"reference": "AST-000123", "name": "…", "attributes": {"class": …},
/// "status": "deployed", "deployment": {"to": …, "location": …} | null, "links": [Link, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The asset's reference.
    pub reference: AssetRef,
    /// Its name.
    pub name: String,
    /// Its class and attributes.
    pub attributes: Attributes,
    /// Its status.
    pub status: Status,
    /// Who has it and where, when deployed or in repair.
    pub deployment: Option<Deployment>,
    /// Its outgoing relationships.
    pub links: Vec<Link>,
}

impl Entry {
    /// The command that records this entry as an existing asset.
    pub fn register(self) -> Command {
        Command::Register {
            reference: self.reference,
            name: self.name,
            attributes: self.attributes,
            status: self.status,
            deployment: self.deployment,
            links: self.links,
        }
    }
}

impl From<&Asset> for Entry {
    fn from(asset: &Asset) -> Self {
        Entry {
            reference: asset.reference(),
            name: asset.name().to_owned(),
            attributes: asset.attributes().clone(),
            status: asset.status(),
            deployment: asset.deployment().cloned(),
            links: asset.links().copied().collect(),
        }
    }
}

/// Every attribute of every class, one optional value per attribute column.
#[derive(Debug, Default, PartialEq, Eq)]
struct Flat {
    serial: Option<String>,
    model: Option<String>,
    warranty_end: Option<NaiveDate>,
    hostname: Option<String>,
    imei: Option<String>,
    phone_number: Option<String>,
    extension: Option<String>,
    expires: Option<NaiveDate>,
    publisher: Option<String>,
    version: Option<String>,
    licence_seats: Option<u32>,
    licence_end: Option<NaiveDate>,
    owner: Option<PersonId>,
}

impl Flat {
    fn of(attributes: &Attributes) -> Flat {
        match attributes.clone() {
            Attributes::Desktop(d)
            | Attributes::Laptop(d)
            | Attributes::ThinClient(d)
            | Attributes::Printer(d)
            | Attributes::NetworkDevice(d)
            | Attributes::Server(d) => Flat {
                serial: d.serial,
                model: d.model,
                warranty_end: d.warranty_end,
                hostname: d.hostname,
                ..Flat::default()
            },
            Attributes::Mobile(m) => Flat {
                serial: m.serial,
                model: m.model,
                warranty_end: m.warranty_end,
                imei: m.imei,
                phone_number: m.phone_number,
                ..Flat::default()
            },
            Attributes::Phone(p) => Flat {
                serial: p.serial,
                model: p.model,
                warranty_end: p.warranty_end,
                extension: p.extension,
                ..Flat::default()
            },
            Attributes::EToken(t) => {
                Flat { serial: t.serial, model: t.model, expires: t.expires, ..Flat::default() }
            }
            Attributes::Software(s) => Flat {
                publisher: s.publisher,
                version: s.version,
                licence_seats: s.licence_seats,
                licence_end: s.licence_end,
                ..Flat::default()
            },
            Attributes::Service(s) => Flat { owner: s.owner, ..Flat::default() },
        }
    }

    /// The attributes of `class` taken from these values (values of other classes are dropped).
    fn into_attributes(self, class: Class) -> Attributes {
        let device = || Device {
            serial: self.serial.clone(),
            model: self.model.clone(),
            warranty_end: self.warranty_end,
            hostname: self.hostname.clone(),
        };
        match class {
            Class::Desktop => Attributes::Desktop(device()),
            Class::Laptop => Attributes::Laptop(device()),
            Class::ThinClient => Attributes::ThinClient(device()),
            Class::Printer => Attributes::Printer(device()),
            Class::NetworkDevice => Attributes::NetworkDevice(device()),
            Class::Server => Attributes::Server(device()),
            Class::Mobile => Attributes::Mobile(Mobile {
                serial: self.serial,
                model: self.model,
                warranty_end: self.warranty_end,
                imei: self.imei,
                phone_number: self.phone_number,
            }),
            Class::Phone => Attributes::Phone(DeskPhone {
                serial: self.serial,
                model: self.model,
                warranty_end: self.warranty_end,
                extension: self.extension,
            }),
            Class::EToken => Attributes::EToken(Token {
                serial: self.serial,
                model: self.model,
                expires: self.expires,
            }),
            Class::Software => Attributes::Software(Software {
                publisher: self.publisher,
                version: self.version,
                licence_seats: self.licence_seats,
                licence_end: self.licence_end,
            }),
            Class::Service => Attributes::Service(Service { owner: self.owner }),
        }
    }

    /// The cells, in the order of `ATTRIBUTE_COLUMNS`.
    fn cells(&self) -> [String; 13] {
        let date = |d: &Option<NaiveDate>| cell(d.as_ref());
        [
            cell(self.serial.as_ref()),
            cell(self.model.as_ref()),
            date(&self.warranty_end),
            cell(self.hostname.as_ref()),
            cell(self.imei.as_ref()),
            cell(self.phone_number.as_ref()),
            cell(self.extension.as_ref()),
            date(&self.expires),
            cell(self.publisher.as_ref()),
            cell(self.version.as_ref()),
            cell(self.licence_seats.as_ref()),
            date(&self.licence_end),
            cell(self.owner.as_ref()),
        ]
    }

    fn read(cells: &mut Cells<'_, '_>) -> Flat {
        let text = |cells: &Cells<'_, '_>, column| cells.optional(column).map(str::to_owned);
        Flat {
            serial: text(cells, "serial"),
            model: text(cells, "model"),
            warranty_end: date(cells, "warranty_end"),
            hostname: text(cells, "hostname"),
            imei: text(cells, "imei"),
            phone_number: text(cells, "phone_number"),
            extension: text(cells, "extension"),
            expires: date(cells, "expires"),
            publisher: text(cells, "publisher"),
            version: text(cells, "version"),
            licence_seats: cells.parse("licence_seats"),
            licence_end: date(cells, "licence_end"),
            owner: cells.parse("owner"),
        }
    }
}

/// The attribute columns (after reference, class, name and status), in export order.
const ATTRIBUTE_COLUMNS: &[&str] = Entry::COLUMNS.split_at(4).1.split_at(13).0;

/// A date cell: `2027-03-31` or `31/03/2027`.
fn date(cells: &mut Cells<'_, '_>, column: &str) -> Option<NaiveDate> {
    let text = cells.optional(column)?;
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"));
    match parsed {
        Ok(day) => Some(day),
        Err(_) => {
            cells.error(column, format!("`{text}` is not a date like 2027-03-31 or 31/03/2027"));
            None
        }
    }
}

impl Tabular for Entry {
    const COLUMNS: &'static [&'static str] = &[
        "reference",
        "class",
        "name",
        "status",
        "serial",
        "model",
        "warranty_end",
        "hostname",
        "imei",
        "phone_number",
        "extension",
        "expires",
        "publisher",
        "version",
        "licence_seats",
        "licence_end",
        "owner",
        "assigned_to",
        "location",
        "relationships",
    ];
    const REQUIRED: &'static [&'static str] = &["reference", "class", "name", "status"];

    fn from_row(row: &Row<'_>) -> Result<Self, Vec<FieldError>> {
        let mut cells = Cells::new(row, Self::COLUMNS);
        let reference: Option<AssetRef> = cells.parse_required("reference");
        let class: Option<Class> = cells.parse_required("class");
        let name = cells.required("name").map(str::to_owned);
        let status: Option<Status> = cells.parse_required("status");
        let flat = Flat::read(&mut cells);
        let assigned_to: Option<PersonId> = cells.parse("assigned_to");
        let location = cells.optional("location").map(str::to_owned);
        let links: Vec<Link> = cells.list("relationships");
        let attributes = class.map(|class| {
            let given = flat.cells();
            let attributes = flat.into_attributes(class);
            let kept = Flat::of(&attributes).cells();
            for ((column, given), kept) in ATTRIBUTE_COLUMNS.iter().zip(&given).zip(&kept) {
                if given != kept {
                    cells.error(column, format!("does not apply to {}", class.with_article()));
                }
            }
            attributes
        });
        let deployment = match (status, assigned_to, location) {
            (Some(Status::Deployed | Status::InRepair), to, Some(location)) => {
                Some(Deployment { to, location })
            }
            (Some(Status::Deployed), _, None) => {
                cells.error("location", "is required for a deployed asset");
                None
            }
            (Some(status), Some(_), _) if status != Status::InRepair => {
                cells.error("assigned_to", format!("an asset that is {status} cannot be assigned"));
                None
            }
            (Some(status), _, Some(_)) if status != Status::InRepair => {
                cells.error("location", format!("an asset that is {status} has no location"));
                None
            }
            (Some(Status::InRepair), Some(_), None) => {
                cells.error("location", "is required with assigned_to");
                None
            }
            _ => None,
        };
        if let (Some(reference), Some(link)) =
            (reference, links.iter().find(|link| Some(link.target) == reference))
        {
            cells.error(
                "relationships",
                format!("{reference} cannot be related to itself ({link})"),
            );
        }
        let entry = reference.zip(name).zip(attributes).zip(status).map(
            |(((reference, name), attributes), status)| Entry {
                reference,
                name,
                attributes,
                status,
                deployment,
                links,
            },
        );
        cells.finish(entry)
    }

    fn to_row(&self) -> Vec<String> {
        let mut row = vec![
            self.reference.to_string(),
            self.attributes.class().as_str().to_owned(),
            self.name.clone(),
            self.status.as_str().to_owned(),
        ];
        row.extend(Flat::of(&self.attributes).cells());
        let deployment = self.deployment.as_ref();
        row.push(cell(deployment.and_then(|d| d.to.as_ref())));
        row.push(deployment.map(|d| d.location.clone()).unwrap_or_default());
        row.push(list_cell(&self.links));
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::{match_header, read_row};

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    fn read(header: &[&str], fields: &[&str]) -> Result<Entry, Vec<(String, String)>> {
        let columns = match_header::<Entry>(&strings(header)).unwrap();
        read_row::<Entry>(2, &columns, &strings(fields)).map_err(|errors| {
            errors.into_iter().map(|e| (e.column.unwrap_or_default(), e.reason)).collect()
        })
    }

    #[test]
    fn a_deployed_laptop_row_reads_with_its_deployment_and_uk_dates() {
        let entry = read(
            &[
                "Reference",
                "Class",
                "Name",
                "Status",
                "Serial",
                "Warranty_End",
                "Assigned_To",
                "Location",
                "Relationships",
            ],
            &[
                "AST-000412",
                "Laptop",
                "EBC-LT-0412",
                "Deployed",
                "5CG1234",
                "31/03/2027",
                "k.lee",
                "Civic Centre",
                "depends_on:AST-000009",
            ],
        )
        .unwrap();
        assert_eq!(entry.attributes.serial(), Some("5CG1234"));
        assert_eq!(entry.attributes.warranty_end(), NaiveDate::from_ymd_opt(2027, 3, 31));
        assert_eq!(entry.deployment.unwrap().to.unwrap().as_str(), "k.lee");
        assert_eq!(entry.links.len(), 1);
    }

    #[test]
    fn cells_that_do_not_fit_the_class_or_status_are_named() {
        let errors = read(
            &["reference", "class", "name", "status", "licence_seats", "imei", "assigned_to"],
            &["AST-000413", "laptop", "EBC-LT-0413", "in stock", "5", "", "k.lee"],
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                ("licence_seats".to_owned(), "does not apply to a laptop".to_owned()),
                (
                    "assigned_to".to_owned(),
                    "an asset that is in stock cannot be assigned".to_owned()
                ),
            ]
        );
        let errors = read(
            &["reference", "class", "name", "status", "warranty_end", "relationships"],
            &["AST-1", "printer", "MFD", "deployed", "2027-02-30", "runs_on:AST-1"],
        )
        .unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(columns, ["warranty_end", "location", "relationships"]);
    }

    #[test]
    fn a_row_round_trips_through_its_cells() {
        let entry = Entry {
            reference: AssetRef::from_number(31).unwrap(),
            name: "Council tax online".into(),
            attributes: Attributes::Service(Service { owner: PersonId::new("h.wright").ok() }),
            status: Status::Deployed,
            deployment: Some(Deployment { to: None, location: "Data centre".into() }),
            links: vec!["depends_on:AST-000020".parse().unwrap()],
        };
        assert_eq!((ATTRIBUTE_COLUMNS[0], ATTRIBUTE_COLUMNS[12]), ("serial", "owner"));
        let columns: Vec<Option<usize>> = (0..Entry::COLUMNS.len()).map(Some).collect();
        let row = entry.to_row();
        assert_eq!(read_row::<Entry>(2, &columns, &row).unwrap(), entry);
        assert_eq!(Entry::from(&match_asset(&entry)), entry);
    }

    fn match_asset(entry: &Entry) -> Asset {
        use crate::config::DeskConfig;
        use crate::record::{Actor, Aggregate, Context};
        let config = DeskConfig::empty();
        let now = chrono::DateTime::UNIX_EPOCH;
        let ctx = Context::new(now, &Actor::System, &config);
        Asset::execute(None, entry.clone().register(), ctx).unwrap().0
    }
}
