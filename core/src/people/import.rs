//! People as tables: the rows of a requester or agent spreadsheet, and the commands a row calls
//! for.
//!
//! HR sends the desk a staff list; the desk keeps a list of its agents and their rota. Both
//! arrive as CSV (read by the `desk-csv` adapter through [`Tabular`]). Each row becomes a
//! [`RequesterRow`] or [`AgentRow`], or a list of errors naming the row, the column and the
//! reason; one bad row never stops the rest of the file.
//!
//! **Requester files** have the columns
//! `id,name,email,phone,department,location,job_title,line_manager,vip`
//! (`id` and `name` required; `vip` is empty, `elected_member` or `chief_officer`; every row needs
//! an email address or a phone number).
//!
//! **Agent files** have the columns `id,name,email,phone,teams,skills,on_call`
//! (`id` and `name` required; `teams` and `skills` are `;`-separated lists such as
//! `service-desk;networks`; `on_call` is `yes`, `no` or empty).
//!
//! Columns may come in any order and any case; optional ones may be left out of the header.
//!
//! **What a row does.** [`requester_commands`] and [`agent_commands`] compare a row with the
//! existing record (looked up by the row's `id`) and return the commands to issue, in order:
//! nothing when the record already matches. A row registers (or onboards) someone new, rejoins
//! (or reinstates) someone who had left, and updates what differs. An empty cell means "not
//! given" and keeps the record's value, so a file with fewer columns never wipes details; a
//! non-empty `teams` or `skills` list replaces the agent's list. An import never clears a value,
//! removes VIP status or records a leaver: those are deliberate acts, done with their own
//! commands. People missing from a file are left alone.

use std::collections::BTreeSet;

use super::{Agent, Contact, ContactChanges, DetailsError, Email, Phone, Requester, VipKind};
use super::{agent, optional_text, requester};
use crate::id::{PersonId, Skill, TeamId};
use crate::tabular::{Cells, FieldError, Row, Tabular, cell, list_cell};
use serde::{Deserialize, Serialize};

/// One row of a requester file.
///
/// JSON shape: `{"id": "k.lee", "profile": {...}, "vip": null}` (see [`requester::Profile`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequesterRow {
    /// The requester's identifier.
    pub id: PersonId,
    /// Their details; `None` fields were not given.
    pub profile: requester::Profile,
    /// Their VIP kind, if given.
    pub vip: Option<VipKind>,
}

/// One row of an agent file.
///
/// JSON shape: `{"id": "j.smith", "contact": {...}, "teams": ["networks"], "skills": [],
/// "on_call": true}` (`on_call` is `null` when not given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRow {
    /// The agent's identifier.
    pub id: PersonId,
    /// Their name, email address and phone number.
    pub contact: Contact,
    /// Their teams; empty when not given.
    pub teams: BTreeSet<TeamId>,
    /// Their skills; empty when not given.
    pub skills: BTreeSet<Skill>,
    /// Whether they are on call, if given.
    pub on_call: Option<bool>,
}

impl Tabular for RequesterRow {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "name",
        "email",
        "phone",
        "department",
        "location",
        "job_title",
        "line_manager",
        "vip",
    ];
    const REQUIRED: &'static [&'static str] = &["id", "name"];

    fn from_row(row: &Row<'_>) -> Result<Self, Vec<FieldError>> {
        let mut cells = Cells::new(row, Self::COLUMNS);
        let id = cells.parse_required::<PersonId>("id");
        let contact = contact(&mut cells);
        let department = text(&mut cells, "department");
        let location = text(&mut cells, "location");
        let job_title = text(&mut cells, "job_title");
        let line_manager = cells.parse::<PersonId>("line_manager");
        let vip = cells.parse::<VipKind>("vip");
        if line_manager.is_some() && line_manager == id {
            let reason = DetailsError::OwnLineManager(cell(id.as_ref()));
            cells.error("line_manager", reason);
        }
        let row = id.zip(contact).map(|(id, contact)| RequesterRow {
            id,
            profile: requester::Profile { contact, department, location, job_title, line_manager },
            vip,
        });
        cells.finish(row)
    }

    fn to_row(&self) -> Vec<String> {
        let profile = &self.profile;
        vec![
            self.id.to_string(),
            profile.contact.name.clone(),
            cell(profile.contact.email.as_ref()),
            cell(profile.contact.phone.as_ref()),
            cell(profile.department.as_ref()),
            cell(profile.location.as_ref()),
            cell(profile.job_title.as_ref()),
            cell(profile.line_manager.as_ref()),
            cell(self.vip.as_ref()),
        ]
    }
}

impl Tabular for AgentRow {
    const COLUMNS: &'static [&'static str] =
        &["id", "name", "email", "phone", "teams", "skills", "on_call"];
    const REQUIRED: &'static [&'static str] = &["id", "name"];

    fn from_row(row: &Row<'_>) -> Result<Self, Vec<FieldError>> {
        let mut cells = Cells::new(row, Self::COLUMNS);
        let id = cells.parse_required::<PersonId>("id");
        let contact = contact(&mut cells);
        let teams = cells.list::<TeamId>("teams").into_iter().collect();
        let skills = cells.list::<Skill>("skills").into_iter().collect();
        let on_call = match cells.optional("on_call").map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("yes" | "y" | "true") => Some(true),
            Some("no" | "n" | "false") => Some(false),
            Some(other) => {
                cells.error("on_call", format!("`{other}`: use yes, no or leave it empty"));
                None
            }
        };
        let row =
            id.zip(contact).map(|(id, contact)| AgentRow { id, contact, teams, skills, on_call });
        cells.finish(row)
    }

    fn to_row(&self) -> Vec<String> {
        let teams: Vec<&TeamId> = self.teams.iter().collect();
        let skills: Vec<&Skill> = self.skills.iter().collect();
        vec![
            self.id.to_string(),
            self.contact.name.clone(),
            cell(self.contact.email.as_ref()),
            cell(self.contact.phone.as_ref()),
            list_cell(&teams),
            list_cell(&skills),
            self.on_call.map(|on| if on { "yes" } else { "no" }).unwrap_or_default().to_owned(),
        ]
    }
}

/// Reads `name`, `email` and `phone`, reporting a row with neither email nor phone.
fn contact(cells: &mut Cells<'_, '_>) -> Option<Contact> {
    let name = cells.required("name").map(str::to_owned);
    let email = cells.parse::<Email>("email");
    let phone = cells.parse::<Phone>("phone");
    if cells.optional("email").is_none() && cells.optional("phone").is_none() {
        cells.error("email", DetailsError::NoContact);
    }
    let contact = Contact { name: name?, email, phone };
    if let Err(error @ DetailsError::TooLong { .. }) = contact.clone().checked() {
        cells.error("name", error);
    }
    Some(contact)
}

/// Reads an optional free-text cell, reporting one that is too long.
fn text(cells: &mut Cells<'_, '_>, column: &'static str) -> Option<String> {
    optional_text(column, cells.optional(column).map(str::to_owned)).unwrap_or_else(|error| {
        cells.error(column, error);
        None
    })
}

/// The commands that bring `existing` (the record with the row's id, if there is one) into line
/// with `row`, in the order to issue them; empty when nothing differs.
///
/// A new person is registered; a person who had left rejoins; details given in the row replace
/// the record's, empty cells keep them; a VIP kind in the row is set (an empty `vip` cell never
/// clears one).
pub fn requester_commands(
    existing: Option<&Requester>,
    row: &RequesterRow,
) -> Vec<requester::Command> {
    let Some(current) = existing else {
        return vec![requester::Command::Register {
            id: row.id.clone(),
            profile: row.profile.clone(),
            vip: row.vip,
        }];
    };
    let mut commands = Vec::new();
    if current.status() == requester::Status::Left {
        commands.push(requester::Command::Rejoin);
    }
    let now = current.profile();
    let given = &row.profile;
    let wanted = requester::Profile {
        contact: given_contact(&now.contact, &given.contact),
        department: given.department.clone().or_else(|| now.department.clone()),
        location: given.location.clone().or_else(|| now.location.clone()),
        job_title: given.job_title.clone().or_else(|| now.job_title.clone()),
        line_manager: given.line_manager.clone().or_else(|| now.line_manager.clone()),
    };
    let changes = requester::Changes::between(now, &wanted);
    if !changes.is_empty() {
        commands.push(requester::Command::UpdateDetails { changes });
    }
    if let Some(kind) = row.vip.filter(|kind| current.vip() != Some(*kind)) {
        commands.push(requester::Command::SetVip { kind });
    }
    commands
}

/// The commands that bring `existing` (the record with the row's id, if there is one) into line
/// with `row`, in the order to issue them; empty when nothing differs.
///
/// A new agent is onboarded (and put on call if the row says so); an offboarded agent is
/// reinstated; contact details given replace the record's; a non-empty team or skill list
/// replaces the agent's (joining before leaving, so an on-call agent moving teams stays on
/// call); `on_call` starts or ends an on-call period. Teams are checked against the
/// configuration when the commands are decided.
pub fn agent_commands(existing: Option<&Agent>, row: &AgentRow) -> Vec<agent::Command> {
    let on_call = |commands: &mut Vec<agent::Command>, now: bool| match row.on_call {
        Some(true) if !now => commands.push(agent::Command::GoOnCall),
        Some(false) if now => commands.push(agent::Command::GoOffCall),
        _ => {}
    };
    let Some(current) = existing else {
        let mut commands = vec![agent::Command::Onboard {
            id: row.id.clone(),
            contact: row.contact.clone(),
            teams: row.teams.clone(),
            skills: row.skills.clone(),
        }];
        on_call(&mut commands, false);
        return commands;
    };
    let mut commands = Vec::new();
    if current.status() == agent::Status::Offboarded {
        commands.push(agent::Command::Reinstate);
    }
    let changes =
        ContactChanges::between(current.contact(), &given_contact(current.contact(), &row.contact));
    if !changes.is_empty() {
        commands.push(agent::Command::UpdateDetails { changes });
    }
    if !row.teams.is_empty() {
        let (join, leave) = differences(current.teams(), &row.teams);
        commands.extend(join.map(|team| agent::Command::JoinTeam { team }));
        commands.extend(leave.map(|team| agent::Command::LeaveTeam { team }));
    }
    if !row.skills.is_empty() {
        let (add, remove) = differences(current.skills(), &row.skills);
        commands.extend(add.map(|skill| agent::Command::AddSkill { skill }));
        commands.extend(remove.map(|skill| agent::Command::RemoveSkill { skill }));
    }
    on_call(&mut commands, current.is_on_call());
    commands
}

/// `now` with the name and any email or phone `given`.
fn given_contact(now: &Contact, given: &Contact) -> Contact {
    Contact {
        name: given.name.clone(),
        email: given.email.clone().or_else(|| now.email.clone()),
        phone: given.phone.clone().or_else(|| now.phone.clone()),
    }
}

/// What `wanted` adds to `now`, and what it drops.
fn differences<'a, T: Ord + Clone + 'a>(
    now: &'a BTreeSet<T>,
    wanted: &'a BTreeSet<T>,
) -> (impl Iterator<Item = T> + 'a, impl Iterator<Item = T> + 'a) {
    (wanted.difference(now).cloned(), now.difference(wanted).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DeskConfig;
    use crate::record::{Actor, Aggregate};
    use crate::scenario;
    use crate::tabular::{match_header, read_row};

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    fn read<T: Tabular>(header: &[&str], fields: &[&str]) -> Result<T, Vec<String>> {
        let columns = match_header::<T>(&strings(header)).map_err(|e| vec![e.to_string()])?;
        read_row::<T>(2, &columns, &strings(fields))
            .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }

    /// Runs `commands` from `state`, as the embedding application would.
    fn run<A: Aggregate>(state: Option<A>, commands: Vec<A::Command>) -> A
    where
        A::Error: std::fmt::Debug,
    {
        scenario::when(&DeskConfig::example(), &Actor::System, state, commands).unwrap().0
    }

    #[test]
    fn a_requester_row_reads_every_column() {
        let row: RequesterRow = read(
            RequesterRow::COLUMNS,
            &[
                "k.lee",
                "Kim Lee",
                "K.Lee@Example.gov.uk",
                "",
                "Revenues",
                "Town Hall",
                "Benefits officer",
                "r.shah",
                "chief_officer",
            ],
        )
        .unwrap();
        assert_eq!(
            row.profile.contact.email.as_ref().map(Email::as_str),
            Some("k.lee@example.gov.uk")
        );
        assert_eq!(row.vip, Some(VipKind::ChiefOfficer));
        assert_eq!(row.to_row()[2], "k.lee@example.gov.uk");
    }

    #[test]
    fn every_bad_cell_of_a_requester_row_is_named() {
        let errors = read::<RequesterRow>(
            &["id", "name", "line_manager", "vip"],
            &["k.lee", "Kim Lee", "k.lee", "mayor"],
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "row 2, column email: an email address or a phone number is needed",
                "row 2, column vip: `mayor`: `mayor` is not a VIP kind (use elected_member or chief_officer)",
                "row 2, column line_manager: k.lee cannot be their own line manager",
            ]
        );
    }

    #[test]
    fn an_agent_row_reads_lists_and_yes_no() {
        let row: AgentRow = read(
            &["ID", "Name", "Email", "Teams", "On_Call"],
            &["j.smith", "Jo Smith", "j.smith@example.gov.uk", "networks; service-desk", "Yes"],
        )
        .unwrap();
        assert_eq!(row.teams.len(), 2);
        assert_eq!(row.on_call, Some(true));
        assert_eq!(row.to_row()[4], "networks;service-desk");
        let errors = read::<AgentRow>(
            &["id", "name", "phone", "on_call"],
            &["j.smith", "Jo", "4321", "sometimes"],
        )
        .unwrap_err();
        assert_eq!(errors, ["row 2, column on_call: `sometimes`: use yes, no or leave it empty"]);
    }

    #[test]
    fn a_new_person_is_registered_and_an_unchanged_one_left_alone() {
        // Given a row for someone the desk does not know
        let row: RequesterRow = read(
            &["id", "name", "phone", "vip"],
            &["c.jones", "Cllr Chris Jones", "01632 960999", "elected_member"],
        )
        .unwrap();
        // When the commands are planned and run
        let commands = requester_commands(None, &row);
        assert!(matches!(commands.as_slice(), [requester::Command::Register { .. }]));
        let requester: Requester = run(None, commands);
        // Then the same row a second time calls for nothing
        assert_eq!(requester.vip(), Some(VipKind::ElectedMember));
        assert!(requester_commands(Some(&requester), &row).is_empty());
    }

    #[test]
    fn empty_cells_keep_details_and_leavers_rejoin() {
        // Given a registered requester with a department who has left
        let full: RequesterRow = read(
            &["id", "name", "email", "department"],
            &["k.lee", "Kim Lee", "k.lee@example.gov.uk", "Revenues"],
        )
        .unwrap();
        let requester: Requester = run(
            None,
            [requester_commands(None, &full), vec![requester::Command::RecordLeaving]].concat(),
        );
        // When a later file gives her a phone number but no department
        let later: RequesterRow =
            read(&["id", "name", "phone"], &["k.lee", "Kim Lee", "01632 960123"]).unwrap();
        let commands = requester_commands(Some(&requester), &later);
        // Then she rejoins, the phone is added and the department kept
        let expected = requester::Changes {
            contact: ContactChanges {
                phone: Some(Some(Phone::new("01632 960123").unwrap())),
                ..ContactChanges::default()
            },
            ..requester::Changes::default()
        };
        assert_eq!(
            commands,
            [requester::Command::Rejoin, requester::Command::UpdateDetails { changes: expected }]
        );
        let requester = run(Some(requester), commands);
        assert_eq!(requester.profile().department.as_deref(), Some("Revenues"));
    }

    #[test]
    fn an_agent_row_moves_teams_without_dropping_on_call() {
        // Given an on-call agent in networks
        let first: AgentRow = read(
            &["id", "name", "email", "teams", "on_call"],
            &["j.smith", "Jo Smith", "j.smith@example.gov.uk", "networks", "yes"],
        )
        .unwrap();
        let commands = agent_commands(None, &first);
        assert_eq!(commands.len(), 2, "onboard, then go on call: {commands:?}");
        let agent: Agent = run(None, commands);
        // When the next rota file puts them in data-centre instead
        let moved = AgentRow { teams: [TeamId::new("data-centre").unwrap()].into(), ..first };
        let commands = agent_commands(Some(&agent), &moved);
        // Then they join the new team before leaving the old one, and stay on call
        assert_eq!(
            commands,
            [
                agent::Command::JoinTeam { team: TeamId::new("data-centre").unwrap() },
                agent::Command::LeaveTeam { team: TeamId::new("networks").unwrap() },
            ]
        );
        let agent = run(Some(agent), commands);
        assert!(agent.is_on_call());
        assert!(agent_commands(Some(&agent), &moved).is_empty());
    }
}
