//! Requester and agent files as HR and the desk send them: good rows become records, bad rows
//! are reported by row, column and reason, and the rest of the file is still imported.

// Test code states its expectations with unwrap and panics when they fail.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use desk_core::id::{PersonId, Skill, TeamId};
use desk_core::people::import::{AgentRow, RequesterRow, agent_commands, requester_commands};
use desk_core::people::requester::Profile;
use desk_core::people::{Agent, Contact, Email, Phone, Requester, VipKind, agent};
use desk_core::record::{Aggregate, Context};
use desk_core::{Actor, DeskConfig};
use desk_csv::{export, import};
use proptest::prelude::*;

const STAFF: &str = "\
id,name,email,phone,department,location,job_title,line_manager,vip
k.lee,Kim Lee,k.lee@example.gov.uk,01632 960123,Revenues and Benefits,\"Town Hall, floor 2\",Benefits Officer,r.shah,
r.shah,Ravi Shah,R.Shah@Example.gov.uk,,Revenues and Benefits,\"Town Hall, floor 2\",Benefits Manager,j.price,
c.jones,Cllr Chris Jones,chris.jones@members.example.gov.uk,,Members' Services,,Councillor (Riverside ward),,elected_member
morgan brown,Morgan Brown,m.brown@example.gov.uk,,Highways,Depot,,,
m.brown,Morgan Brown,morgan.brown@example,,Highways,Depot,Road Worker,,
p.ahmed,,p.ahmed@example.gov.uk,,Housing,,,,
t.okoro,Tayo Okoro,,,Adult Social Care,Riverside Hub,Care Worker,,
d.hughes,Dee Hughes,d.hughes@example.gov.uk,,Chief Executive's Office,,Director,d.hughes,chief_exec
,,,,,,,,
j.price,Jo Price,j.price@example.gov.uk,0300 123 4567,Chief Executive's Office,Town Hall,Chief Executive,,chief_officer
";

const AGENTS: &str = "\
id,name,email,phone,teams,skills,on_call
a.patel,Asha Patel,a.patel@example.gov.uk,x4100,service-desk,,no
j.smith,Jo Smith,j.smith@example.gov.uk,,networks;data-centre,cisco;juniper,yes
l.murphy,Lee Murphy,l.murphy@example.gov.uk,,security,,maybe
h.wright,Hannah Wright,h.wright@example.gov.uk,,applications;helpdesk,,no
r.evans,Rhys Evans,,,desk-side;identity,welsh-language,
";

/// A register of records by person, as the embedding application keeps them.
type Register<A> = BTreeMap<PersonId, A>;

/// Issues `commands` against `register[id]`; the first refusal is returned as text.
fn issue<A: Aggregate>(
    register: &mut Register<A>,
    id: &PersonId,
    commands: Vec<A::Command>,
) -> Result<(), String> {
    let config = DeskConfig::example();
    let actor = Actor::System;
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 6, 0, 0).unwrap();
    let mut state = register.get(id).cloned();
    for command in commands {
        let ctx = Context::new(now, &actor, &config);
        let (next, _) = A::execute(state, command, ctx).map_err(|e| e.to_string())?;
        state = Some(next);
    }
    if let Some(state) = state {
        register.insert(id.clone(), state);
    }
    Ok(())
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

#[test]
fn a_staff_file_with_bad_rows_imports_every_good_one() {
    // Given HR's staff list with a few bad rows
    let file = import::<RequesterRow>(STAFF.as_bytes()).unwrap();
    // Then every bad cell is named by row and column
    let errors: Vec<(u64, Option<&str>)> =
        file.errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
    assert_eq!(
        errors,
        [
            (5, Some("id")),
            (6, Some("email")),
            (7, Some("name")),
            (8, Some("email")),
            (9, Some("vip")),
            (9, Some("line_manager")),
        ]
    );
    assert!(file.errors[0].to_string().starts_with("row 5, column id: `morgan brown`"));
    assert_eq!(
        file.errors[3].to_string(),
        "row 8, column email: an email address or a phone number is needed"
    );
    // And the good rows, blank line skipped, are all there
    let rows: Vec<(u64, &str)> = file.records.iter().map(|(n, r)| (*n, r.id.as_str())).collect();
    assert_eq!(rows, [(2, "k.lee"), (3, "r.shah"), (4, "c.jones"), (11, "j.price")]);
    let jones = &file.records[2].1;
    assert_eq!(jones.vip, Some(VipKind::ElectedMember));
    assert_eq!(
        file.records[1].1.profile.contact.email.as_ref().unwrap().as_str(),
        "r.shah@example.gov.uk"
    );

    // When the commands for each good row are issued
    let mut register: Register<Requester> = BTreeMap::new();
    for (_, row) in &file.records {
        let commands = requester_commands(register.get(&row.id), row);
        issue(&mut register, &row.id, commands).unwrap();
    }
    // Then each is registered, and importing the same file again changes nothing
    assert_eq!(register.len(), 4);
    assert_eq!(register[&person("j.price")].vip(), Some(VipKind::ChiefOfficer));
    for (_, row) in &file.records {
        assert!(requester_commands(register.get(&row.id), row).is_empty(), "{row:?}");
    }
}

#[test]
fn an_agent_file_reports_bad_cells_and_teams_the_desk_does_not_have() {
    // Given the desk's agent list
    let file = import::<AgentRow>(AGENTS.as_bytes()).unwrap();
    // Then the row with an unreadable on-call cell and the unreachable agent are reported
    let described: Vec<String> = file.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        described,
        [
            "row 4, column on_call: `maybe`: use yes, no or leave it empty",
            "row 6, column email: an email address or a phone number is needed",
        ]
    );
    // When the good rows are onboarded
    let mut register: Register<Agent> = BTreeMap::new();
    let mut refused = Vec::new();
    for (line, row) in &file.records {
        let commands = agent_commands(register.get(&row.id), row);
        if let Err(reason) = issue(&mut register, &row.id, commands) {
            refused.push((*line, reason));
        }
    }
    // Then a row naming a team the configuration lacks is refused as a whole, with its line
    assert_eq!(
        refused,
        [(
            5,
            "agent h.wright cannot join unknown team `helpdesk` (declare it in a [[team]] table)"
                .to_owned()
        )]
    );
    let smith = &register[&person("j.smith")];
    assert!(smith.is_on_call());
    assert!(smith.has_skill(&Skill::new("juniper").unwrap()));
    assert_eq!(
        smith.tiers(&DeskConfig::example()).len(),
        1,
        "networks and data centre are both 3rd line"
    );
    assert_eq!(register[&person("a.patel")].status(), agent::Status::Active);
}

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z ,'&()\"-]{0,30}[A-Za-z.]"
}

fn slug() -> impl Strategy<Value = PersonId> {
    "[a-z][a-z0-9]{0,6}\\.[a-z]{1,8}".prop_map(|id| PersonId::new(id).unwrap())
}

fn contact() -> impl Strategy<Value = Contact> {
    let email =
        "[a-z]{1,8}\\.[a-z]{1,8}@[a-z]{2,10}\\.gov\\.uk".prop_map(|e| Email::new(&e).unwrap());
    let phone = "0[0-9]{4} [0-9]{6}".prop_map(|p| Phone::new(&p).unwrap());
    (text(), proptest::option::of(email), proptest::option::of(phone))
        .prop_filter("an email or a phone", |(_, email, phone)| email.is_some() || phone.is_some())
        .prop_map(|(name, email, phone)| Contact { name, email, phone })
}

fn requester_row() -> impl Strategy<Value = RequesterRow> {
    let optional = || proptest::option::of(text());
    let vip = proptest::option::of(proptest::sample::select(VipKind::ALL.to_vec()));
    (slug(), contact(), optional(), optional(), optional(), proptest::option::of(slug()), vip)
        .prop_filter("nobody manages themself", |row| row.5.as_ref() != Some(&row.0))
        .prop_map(|(id, contact, department, location, job_title, line_manager, vip)| {
            RequesterRow {
                id,
                profile: Profile { contact, department, location, job_title, line_manager },
                vip,
            }
        })
}

fn agent_row() -> impl Strategy<Value = AgentRow> {
    let team = "[a-z]{2,8}(-[a-z]{2,8})?".prop_map(|t| TeamId::new(t).unwrap());
    let skill = "[a-z]{2,8}".prop_map(|s| Skill::new(s).unwrap());
    (
        slug(),
        contact(),
        proptest::collection::btree_set(team, 0..4),
        proptest::collection::btree_set(skill, 0..4),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(id, contact, teams, skills, on_call)| AgentRow {
            id,
            contact,
            teams,
            skills,
            on_call,
        })
}

/// Exports `rows` and imports them back.
fn round_trip<T: desk_core::tabular::Tabular>(rows: &[T]) -> Vec<T> {
    let mut bytes = Vec::new();
    export(&mut bytes, rows).unwrap();
    let back = import::<T>(&bytes[..]).unwrap();
    assert!(back.is_clean(), "{:?}", back.errors);
    back.records.into_iter().map(|(_, row)| row).collect()
}

proptest! {
    #[test]
    fn requester_rows_survive_export_and_import(rows in proptest::collection::vec(requester_row(), 0..8)) {
        prop_assert_eq!(round_trip(&rows), rows);
    }

    #[test]
    fn agent_rows_survive_export_and_import(rows in proptest::collection::vec(agent_row(), 0..8)) {
        prop_assert_eq!(round_trip(&rows), rows);
    }
}
