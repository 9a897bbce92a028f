//! The asset register through CSV: a council's real-looking export with bad rows in it, and
//! export → import round trips of any register.

// Helpers and strategies are test code even outside `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use desk_core::asset::register::Entry;
use desk_core::asset::{
    Asset, Attributes, Class, Cmdb, Deployment, DeskPhone, Device, Link, Mobile, Relationship,
    Service, Software, Status, Token,
};
use desk_core::config::DeskConfig;
use desk_core::id::{AssetRef, PersonId};
use desk_core::record::{Actor, Aggregate, Context};
use desk_core::tabular::{FieldError, Row, Tabular};
use proptest::prelude::*;

/// An export from a council's old spreadsheet register: mixed case, UK dates, quoted commas,
/// a blank line, and eight rows with mistakes.
const REGISTER: &str = "\
Reference,Class,Name,Status,Serial,Model,Warranty_End,Hostname,IMEI,Phone_Number,Extension,Expires,Publisher,Version,Licence_Seats,Licence_End,Owner,Assigned_To,Location,Relationships
AST-000001,Network device,EBC-CORE-01,Deployed,FOC2231X0AB,Cisco Catalyst 9500,31/03/2028,ebc-core-01,,,,,,,,,,,\"Civic Centre, comms room B\",
AST-000002,network_device,EBC-FL2-SW1,deployed,FOC2231X0CD,Cisco Catalyst 9200,2028-03-31,ebc-fl2-sw1,,,,,,,,,,,\"Civic Centre, floor 2\",connected_to:AST-000001
AST-000003,server,EBC-APP-07,deployed,,PowerEdge R650,2027-11-30,ebc-app-07,,,,,,,,,,,Civic Centre data centre,connected_to:AST-000002
AST-000004,software,Revenues and Benefits,deployed,,,,,,,,,Northgate,4.2,250,2027-03-31,,,Civic Centre data centre,runs_on:AST-000003;used_by:AST-000005
AST-000005,service,Council tax online,deployed,,,,,,,,,,,,,h.wright,,Civic Centre data centre,
AST-000006,Printer,EBC-MFD-2A,Deployed,X3B0012345,Ricoh IM C3000,,ebc-mfd-2a,,,,,,,,,,,\"Civic Centre, floor 2, print room\",connected_to:AST-000002
AST-000010,laptop,EBC-LT-0412,deployed,5CG1234XYZ,EliteBook 840 G10,31/03/2027,EBC-LT-0412,,,,,,,,,,k.lee,\"Civic Centre, floor 2\",depends_on:AST-000002
AST-000011,Mobile,Housing officer phone,In stock,,iPhone 15,,,356938035643809,07700 900123,,,,,,,,,,

AST-000012,laptop,EBC-LT-0413,in stock,5CG1235XYZ,EliteBook 840 G10,31/02/2027,,,,,,,,,,,,,
AST-000013,toaster,Kitchen toaster,in stock,,,,,,,,,,,,,,,,
AST-12x,desktop,EBC-DT-0100,in stock,,,,,,,,,,,,,,,,
AST-000014,mobile,Councillor's phone,deployed,,iPhone 15,,,,,,,,,,,,cllr.jones,,
AST-000015,printer,EBC-MFD-3B,deployed,X3B0012399,Ricoh IM C3000,,,,,,,,,,,,,\"Civic Centre, floor 3\",hosts:AST-000002
AST-000016,e-token,Token for r.evans,deployed,TK-88213,YubiKey 5 NFC,,,,,,2028-01-31,,,5,,,r.evans,Home worker,
AST-000017,desktop,,in_stock,,,,,,,,,,,,,,,,
AST-000018,phone,Reception desk phone,retired,FCH2240,Cisco 8841,,,,,4471,,,,,,,,Civic Centre reception,
AST-000019,thin client,EBC-TC-0007,in repair,,,,,,,,,,,,,,,,,
";

fn ast(n: u32) -> AssetRef {
    AssetRef::from_number(n).unwrap()
}

fn problems(import: &desk_csv::Import<Entry>) -> Vec<(u64, Option<&str>)> {
    import.errors.iter().map(|e| (e.row, e.column.as_deref())).collect()
}

#[test]
fn a_register_with_mistakes_reads_every_good_row_and_names_each_bad_cell() {
    let import = desk_csv::import::<Entry>(REGISTER.as_bytes()).unwrap();
    let read: Vec<(u64, String)> =
        import.records.iter().map(|(row, e)| (*row, e.reference.to_string())).collect();
    assert_eq!(
        read,
        [
            (2, "AST-000001".to_owned()),
            (3, "AST-000002".to_owned()),
            (4, "AST-000003".to_owned()),
            (5, "AST-000004".to_owned()),
            (6, "AST-000005".to_owned()),
            (7, "AST-000006".to_owned()),
            (8, "AST-000010".to_owned()),
            (9, "AST-000011".to_owned()),
        ]
    );
    assert_eq!(
        problems(&import),
        [
            (11, Some("warranty_end")),
            (12, Some("class")),
            (13, Some("reference")),
            (14, Some("location")),
            (15, Some("relationships")),
            (16, Some("licence_seats")),
            (17, Some("name")),
            (18, Some("location")),
            (19, None),
        ]
    );
    let reasons: Vec<String> = import.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        reasons[0],
        "row 11, column warranty_end: `31/02/2027` is not a date like 2027-03-31 or 31/03/2027"
    );
    assert_eq!(reasons[5], "row 16, column licence_seats: does not apply to an e-token");
    assert_eq!(reasons[7], "row 18, column location: an asset that is retired has no location");
}

#[test]
fn an_imported_register_answers_impact_analysis() {
    let import = desk_csv::import::<Entry>(REGISTER.as_bytes()).unwrap();
    let config = DeskConfig::example();
    let ctx = Context::new(chrono::DateTime::UNIX_EPOCH, &Actor::System, &config);
    let assets: Vec<Asset> = import
        .records
        .into_iter()
        .map(|(_, entry)| Asset::execute(None, entry.register(), ctx).unwrap().0)
        .collect();
    let cmdb = Cmdb::new(&assets);
    let impact = cmdb.impact(ast(1)).unwrap();
    let services: Vec<AssetRef> = impact.services().map(|a| a.ci).collect();
    assert_eq!(services, [ast(5)], "the core switch takes council tax online down");
    let chain: Vec<String> =
        impact.path_to(ast(5)).unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(
        chain,
        [
            "AST-000002 is connected to AST-000001",
            "AST-000003 is connected to AST-000002",
            "AST-000004 runs on AST-000003",
            "AST-000004 is used by AST-000005",
        ]
    );
    let exported: Vec<Entry> = assets.iter().map(Entry::from).collect();
    let mut bytes = Vec::new();
    desk_csv::export(&mut bytes, &exported).unwrap();
    let again = desk_csv::import::<Entry>(&bytes[..]).unwrap();
    assert!(again.is_clean(), "{:?}", again.errors);
}

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 ,;:\"'/.()-]{0,16}[A-Za-z0-9)]".prop_map(|s| s.to_owned())
}

fn optional_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn day() -> impl Strategy<Value = Option<NaiveDate>> {
    proptest::option::of((2020..2040i32, 1..=12u32, 1..=28u32))
        .prop_map(|ymd| ymd.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)))
}

fn person() -> impl Strategy<Value = PersonId> {
    "[a-z][a-z0-9._@-]{0,12}".prop_map(|id| PersonId::new(id).unwrap())
}

fn attributes() -> impl Strategy<Value = Attributes> {
    const DEVICES: [fn(Device) -> Attributes; 6] = [
        Attributes::Desktop,
        Attributes::Laptop,
        Attributes::ThinClient,
        Attributes::Printer,
        Attributes::NetworkDevice,
        Attributes::Server,
    ];
    let device = (optional_text(), optional_text(), day(), optional_text()).prop_map(
        |(serial, model, warranty_end, hostname)| Device { serial, model, warranty_end, hostname },
    );
    prop_oneof![
        (0..DEVICES.len(), device).prop_map(|(class, device)| DEVICES[class](device)),
        (optional_text(), optional_text(), day(), optional_text(), optional_text()).prop_map(
            |(serial, model, warranty_end, imei, phone_number)| {
                Attributes::Mobile(Mobile { serial, model, warranty_end, imei, phone_number })
            }
        ),
        (optional_text(), optional_text(), day(), optional_text()).prop_map(
            |(serial, model, warranty_end, extension)| {
                Attributes::Phone(DeskPhone { serial, model, warranty_end, extension })
            }
        ),
        (optional_text(), optional_text(), day()).prop_map(|(serial, model, expires)| {
            Attributes::EToken(Token { serial, model, expires })
        }),
        (optional_text(), optional_text(), any::<Option<u32>>(), day()).prop_map(
            |(publisher, version, licence_seats, licence_end)| {
                Attributes::Software(Software { publisher, version, licence_seats, licence_end })
            }
        ),
        proptest::option::of(person()).prop_map(|owner| Attributes::Service(Service { owner })),
    ]
}

fn entries() -> impl Strategy<Value = Entry> {
    let status = (0..Status::ALL.len()).prop_map(|n| Status::ALL[n]);
    let deployment = (proptest::option::of(person()), text())
        .prop_map(|(to, location)| Deployment { to, location });
    let link = (0..4usize, 1..2000u32)
        .prop_map(|(k, n)| Link { kind: Relationship::ALL[k], target: ast(n) });
    (
        1..1_000_000u32,
        text(),
        attributes(),
        status,
        proptest::option::of(deployment),
        proptest::collection::vec(link, 0..4),
    )
        .prop_map(|(number, name, attributes, status, deployment, links)| {
            let deployment = match status {
                Status::Deployed => {
                    Some(deployment.unwrap_or(Deployment { to: None, location: "Depot".into() }))
                }
                Status::InRepair => deployment,
                _ => None,
            };
            let mut links: Vec<Link> =
                links.into_iter().filter(|l| l.target != ast(number)).collect();
            links.sort();
            links.dedup();
            Entry { reference: ast(number), name, attributes, status, deployment, links }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn export_then_import_gives_back_every_entry(register in proptest::collection::vec(entries(), 0..12)) {
        let mut bytes = Vec::new();
        desk_csv::export(&mut bytes, &register).unwrap();
        let import = desk_csv::import::<Entry>(&bytes[..]).unwrap();
        prop_assert!(import.is_clean(), "{:?}", import.errors);
        let back: Vec<Entry> = import.records.into_iter().map(|(_, entry)| entry).collect();
        prop_assert_eq!(back, register);
    }

    #[test]
    fn a_broken_cell_is_reported_on_its_row_and_column_and_the_rest_still_reads(
        register in proptest::collection::vec(entries(), 1..8),
        victim in any::<proptest::sample::Index>(),
        (column, garbage) in prop_oneof![
            Just(("reference", "AST-12x")),
            Just(("class", "toaster")),
            Just(("status", "lost")),
            Just(("warranty_end", "2027-13-45")),
            Just(("licence_seats", "lots")),
            Just(("relationships", "hosts:AST-000001")),
        ],
    ) {
        let victim = victim.index(register.len());
        let at = Entry::COLUMNS.iter().position(|c| *c == column).unwrap();
        let rows: Vec<Cells> = register
            .iter()
            .enumerate()
            .map(|(n, entry)| {
                let mut cells = entry.to_row();
                if n == victim {
                    cells[at] = garbage.to_owned();
                }
                Cells(cells)
            })
            .collect();
        let mut bytes = Vec::new();
        desk_csv::export(&mut bytes, &rows).unwrap();
        let import = desk_csv::import::<Entry>(&bytes[..]).unwrap();
        prop_assert!(!import.errors.is_empty());
        for error in &import.errors {
            prop_assert_eq!((error.row, error.column.as_deref()), (victim as u64 + 2, Some(column)));
        }
        let mut others = register.clone();
        others.remove(victim);
        let read: Vec<Entry> = import.records.into_iter().map(|(_, entry)| entry).collect();
        prop_assert_eq!(read, others);
    }
}

/// Rows written cell by cell, to put mistakes in a file.
struct Cells(Vec<String>);

impl Tabular for Cells {
    const COLUMNS: &'static [&'static str] = Entry::COLUMNS;
    const REQUIRED: &'static [&'static str] = &[];

    fn from_row(_: &Row<'_>) -> Result<Self, Vec<FieldError>> {
        Err(vec![FieldError::new("", "write-only")])
    }

    fn to_row(&self) -> Vec<String> {
        self.0.clone()
    }
}

#[test]
fn every_class_has_a_row_form() {
    for class in Class::ALL {
        let entry = Entry {
            reference: ast(1),
            name: "x".into(),
            attributes: class.blank(),
            status: Status::InStock,
            deployment: None,
            links: vec![],
        };
        let mut bytes = Vec::new();
        desk_csv::export(&mut bytes, [&entry]).unwrap();
        let import = desk_csv::import::<Entry>(&bytes[..]).unwrap();
        assert_eq!(import.records[0].1, entry, "{class}");
    }
}
