//! `desk demo`: a day at the Example Borough Council IT service desk, played on a real desk.
//!
//! The demo opens a [`Desk`] on the embedded SQLite store in a new database file, with the
//! sample council's configuration, calendars and SLA policy, and a manual clock that starts at
//! 08:55 on Monday 2 March 2026 (London), so every run tells the same story:
//!
//! 1. requesters (staff with their departments and line managers, a councillor who is a VIP)
//!    and agents (1st line service desk, 2nd line desk-side, 3rd line networks, …) are registered;
//! 2. incidents arrive by phone, email, chat, face to face and the portal: routed by category,
//!    uplifted for the councillor, fixed at first contact, put on hold awaiting the customer,
//!    escalated to 3rd line;
//! 3. a major incident (the Civic Centre network is down) gathers two child incidents, and
//!    resolving it resolves them;
//! 4. a new starter is requested from the catalogue, approved and fulfilled task by task;
//! 5. recurring VPN incidents become a problem, then a known error with a workaround, and a
//!    normal change to fix it is authorised by the CAB;
//! 6. the clock runs through the afternoon and the SLA timers record warnings and breaches;
//!    the at-risk and past-SLA reports and two team queues are shown;
//! 7. the audit chain of every record is verified.
//!
//! Each step is a line of narrative (instants in London local time), or with `--json` one JSON
//! object per line: `{"step": "incident_opened", "at": RFC3339, "reference": "INC-000001", …}`.
//! The database is left behind for inspection; its path is the first and the last step.

mod narrate;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use chrono::{NaiveDate, TimeDelta, TimeZone};
use chrono_tz::Europe::London;
use desk::clock::ManualClock;
use desk::queries::{PageRequest, Queue};
use desk::store::Page;
use desk::{Desk, LogProblem, OpenIncident, RaiseChange, SubmitRequest};
use desk_core::calendar::Calendars;
use desk_core::change::{self, Kind};
use desk_core::channel::Channel;
use desk_core::config::ApprovalRole;
use desk_core::id::{IncidentRef, PersonId, RecordId, RequestRef, TeamId};
use desk_core::incident::{self, AssignTo, Escalation, HoldReason, Incident, ResolveAtContact};
use desk_core::knowledge::Audience;
use desk_core::people::requester::{self, Profile};
use desk_core::people::{Contact, VipKind, agent};
use desk_core::priority::{Impact, Urgency};
use desk_core::problem::{self, IncidentDigest};
use desk_core::record::Visibility;
use desk_core::request::{self, Beneficiary};
use desk_core::sla::{self, ClockState, Policy};
use desk_core::{Actor, DeskConfig, Timestamp};
use desk_sqlite::SqliteStore;
use serde_json::{Value, json};

use self::narrate::{Format, Narrator, rfc3339};
use crate::BadFile;

/// `desk demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SQLite database file to create; it must not exist yet. Left out: a new file in a
    /// fresh temporary directory, whose path the demo prints.
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Print one JSON object per step instead of the narrative.
    #[arg(long)]
    json: bool,
}

/// The demo's day: Monday 2 March 2026, London time (GMT).
const DAY: (i32, u32, u32) = (2026, 3, 2);

/// Where the demo's database goes.
enum Database {
    /// A file named with `--db`: a problem with it is the caller's (exit status 2).
    Named(PathBuf),
    /// A file in a temporary directory the demo created.
    Temporary(PathBuf),
}

impl Database {
    fn path(&self) -> &Path {
        match self {
            Database::Named(path) | Database::Temporary(path) => path,
        }
    }
}

/// Plays the story on a new database, writing the steps to `output`.
pub(crate) fn run(args: Args, output: impl Write) -> anyhow::Result<()> {
    let database = database(args.db)?;
    let format = if args.json { Format::Json } else { Format::Text };
    let day = NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).context("the demo's day")?;
    let narrator = Narrator::new(output, format, day);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut demo = Demo::start(&database, narrator).await?;
        demo.play(database.path()).await?;
        demo.say.finish()
    })
}

/// The database to write: `--db` if it does not exist yet, else a new temporary directory's.
fn database(named: Option<PathBuf>) -> anyhow::Result<Database> {
    match named {
        Some(path) => {
            let exists = path.try_exists().map_err(|error| {
                BadFile(format!("cannot check whether {} exists: {error}", path.display()))
            })?;
            if exists {
                return Err(BadFile(format!(
                    "{} already exists: the demo writes a new database, so name a file that \
                     does not exist yet (or leave --db out for a temporary one)",
                    path.display()
                ))
                .into());
            }
            Ok(Database::Named(path))
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("desk-demo-")
                .tempdir()
                .context("cannot create a temporary directory for the demo's database")?;
            Ok(Database::Temporary(dir.keep().join("desk-demo.sqlite")))
        }
    }
}

/// The words that go with an incident command, to show under its step: `("reason", …)`.
fn quote(command: &incident::Command) -> Option<(&'static str, String)> {
    use incident::Command;
    match command {
        Command::Escalate(Escalation::Functional { reason, .. })
        | Command::DeclareMajor { reason } => Some(("reason", reason.clone())),
        Command::PutOnHold { note, .. } => Some(("note", note.clone())),
        Command::AddUpdate { text, .. } => Some(("update", text.clone())),
        Command::Resolve { notes, .. } => Some(("notes", notes.clone())),
        _ => None,
    }
}

/// `n thing` or `n things`.
fn count(n: u32, thing: &str) -> String {
    match (n, thing.ends_with("ch")) {
        (1, _) => format!("1 {thing}"),
        (_, true) => format!("{n} {thing}es"),
        (_, false) => format!("{n} {thing}s"),
    }
}

/// Parses an identifier of the demo's own data.
fn parse<T>(text: &str) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(|error| anyhow!("`{text}` in the demo's data: {error}"))
}

fn person(id: &str) -> anyhow::Result<PersonId> {
    parse(id)
}

fn agent_actor(id: &str) -> anyhow::Result<Actor> {
    Ok(Actor::Agent(person(id)?))
}

/// `hour:minute` on the demo's day, London time.
fn london(hour: u32, minute: u32) -> anyhow::Result<Timestamp> {
    London
        .with_ymd_and_hms(DAY.0, DAY.1, DAY.2, hour, minute, 0)
        .single()
        .map(|local| local.to_utc())
        .with_context(|| format!("{hour:02}:{minute:02} on the demo's day"))
}

/// A fault as `requester` reports it by `channel`, with its category and (impact, urgency).
fn fault(
    title: &str,
    requester: &str,
    channel: Channel,
    category: &str,
    (impact, urgency): (u8, u8),
) -> anyhow::Result<OpenIncident> {
    let impact = Impact::level(impact).with_context(|| format!("impact level {impact}"))?;
    let urgency = Urgency::level(urgency).with_context(|| format!("urgency level {urgency}"))?;
    Ok(OpenIncident {
        category: Some(parse(category)?),
        ..OpenIncident::new(title, person(requester)?, channel, impact, urgency)
    })
}

/// A requester of the story.
struct NewRequester {
    id: &'static str,
    name: &'static str,
    phone: &'static str,
    department: &'static str,
    location: &'static str,
    job_title: &'static str,
    line_manager: Option<&'static str>,
    vip: Option<VipKind>,
}

const REQUESTERS: [NewRequester; 6] = [
    NewRequester {
        id: "j.okoro",
        name: "Joy Okoro",
        phone: "01632 960401",
        department: "Finance",
        location: "Civic Centre, floor 4",
        job_title: "Head of Finance",
        line_manager: None,
        vip: None,
    },
    NewRequester {
        id: "r.shah",
        name: "Raj Shah",
        phone: "01632 960200",
        department: "Revenues and Benefits",
        location: "Civic Centre, floor 2",
        job_title: "Revenues manager",
        line_manager: Some("j.okoro"),
        vip: None,
    },
    NewRequester {
        id: "k.lee",
        name: "Kim Lee",
        phone: "01632 960123",
        department: "Revenues and Benefits",
        location: "Civic Centre, floor 2",
        job_title: "Benefits officer",
        line_manager: Some("r.shah"),
        vip: None,
    },
    NewRequester {
        id: "t.hughes",
        name: "Tom Hughes",
        phone: "01632 960310",
        department: "Planning",
        location: "Civic Centre, floor 3",
        job_title: "Planning officer",
        line_manager: Some("j.okoro"),
        vip: None,
    },
    NewRequester {
        id: "m.ali",
        name: "Maryam Ali",
        phone: "01632 960512",
        department: "Adult Social Care",
        location: "Home worker",
        job_title: "Social worker",
        line_manager: None,
        vip: None,
    },
    NewRequester {
        id: "cllr.brown",
        name: "Councillor Jo Brown",
        phone: "01632 960999",
        department: "Members' Services",
        location: "Civic Centre, members' room",
        job_title: "Ward councillor, Riverside",
        line_manager: None,
        vip: Some(VipKind::ElectedMember),
    },
];

/// Agents of the story: identifier, name, team.
const AGENTS: [(&str, &str, &str); 6] = [
    ("s.khan", "Sara Khan", "service-desk"),
    ("a.patel", "Asha Patel", "service-desk"),
    ("r.evans", "Rhys Evans", "desk-side"),
    ("i.mills", "Ian Mills", "identity"),
    ("d.okafor", "Dele Okafor", "networks"),
    ("h.wright", "Hannah Wright", "applications"),
];

/// A desk playing the story, and what it has seen so far.
struct Demo<W> {
    desk: Desk,
    clock: ManualClock,
    say: Narrator<W>,
    /// People's names, for the narrative.
    names: BTreeMap<PersonId, String>,
    /// Every incident opened, in order.
    incidents: Vec<IncidentRef>,
    /// Per incident, the last event looked at for SLA marks.
    marks_seen: BTreeMap<IncidentRef, u64>,
    /// SLA warnings recorded by the timers so far.
    warnings: u32,
    /// SLA breaches recorded by the timers so far.
    breaches: u32,
}

impl<W: Write> Demo<W> {
    /// A desk on a new SQLite database at `database`, with the example council's
    /// configuration, calendars and SLA policy, and a manual clock at 08:55.
    async fn start(database: &Database, say: Narrator<W>) -> anyhow::Result<Self> {
        let path = database.path();
        let store = SqliteStore::open(path).await.map_err(|error| {
            let message = format!("cannot open the database {}: {error}", path.display());
            match database {
                Database::Named(_) => anyhow::Error::new(BadFile(message)),
                Database::Temporary(_) => anyhow!(message),
            }
        })?;
        let config = DeskConfig::example();
        let policy = Policy::example(&config).context("the example SLA policy")?;
        let clock = ManualClock::new(london(8, 55)?);
        let desk = Desk::builder(Arc::new(store))
            .config(config)
            .calendars(Calendars::example())
            .sla_policy(policy)
            .clock(Arc::new(clock.clone()))
            .build()
            .context("cannot build the demo desk")?;
        Ok(Demo {
            desk,
            clock,
            say,
            names: BTreeMap::new(),
            incidents: Vec::new(),
            marks_seen: BTreeMap::new(),
            warnings: 0,
            breaches: 0,
        })
    }

    /// The whole story.
    async fn play(&mut self, path: &Path) -> anyhow::Result<()> {
        let name = self.desk.config().desk.name.clone();
        self.say.step(
            self.desk.now(),
            "database",
            &format!("{name}: a demo day on a new SQLite database"),
            &[path.display().to_string()],
            json!({ "path": path.display().to_string(), "desk": name }),
        )?;
        self.people().await?;
        let vip = self.incidents().await?;
        self.major_incident().await?;
        self.new_starter().await?;
        self.problem_and_change().await?;
        self.afternoon(vip).await?;
        self.audit().await?;
        self.say.section("The database")?;
        let now = self.desk.now();
        self.say.step(
            now,
            "database",
            "Everything above is in the database, with its history:",
            &[path.display().to_string()],
            json!({ "path": path.display().to_string() }),
        )
    }

    /// Sets the clock to `hour:minute` on the demo's day.
    fn at(&self, hour: u32, minute: u32) -> anyhow::Result<Timestamp> {
        let at = london(hour, minute)?;
        self.clock.set(at);
        Ok(at)
    }

    fn name(&self, id: &PersonId) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    fn team_name(&self, team: &TeamId) -> String {
        self.desk.config().team(team).map_or_else(|| team.to_string(), |t| t.name.clone())
    }

    // --- 1. People ------------------------------------------------------------------------

    async fn people(&mut self) -> anyhow::Result<()> {
        self.say.section("People")?;
        let admin = agent_actor("s.khan")?;
        for new in &REQUESTERS {
            let id = person(new.id)?;
            let contact = Contact {
                name: new.name.to_owned(),
                email: Some(parse(&format!("{}@example.gov.uk", new.id))?),
                phone: Some(parse(new.phone)?),
            };
            let line_manager = new.line_manager.map(person).transpose()?;
            let profile = Profile {
                department: Some(new.department.to_owned()),
                location: Some(new.location.to_owned()),
                job_title: Some(new.job_title.to_owned()),
                line_manager: line_manager.clone(),
                ..Profile::new(contact)
            };
            let command = requester::Command::Register { id: id.clone(), profile, vip: new.vip };
            self.desk.execute_requester(&admin, &id, command, Some(0)).await?;
            self.names.insert(id.clone(), new.name.to_owned());
            let mut detail = format!("{}, {} ({})", new.job_title, new.department, new.location);
            if let Some(manager) = &line_manager {
                detail.push_str(&format!("; line manager {}", self.name(manager)));
            }
            if new.vip.is_some() {
                detail.push_str("; VIP: elected member");
            }
            self.say.step(
                self.desk.now(),
                "requester_registered",
                &format!("requester {id}: {}", new.name),
                &[detail],
                json!({
                    "person": id,
                    "name": new.name,
                    "department": new.department,
                    "line_manager": line_manager,
                    "vip": new.vip,
                }),
            )?;
        }
        for (id, name, team) in AGENTS {
            let id = person(id)?;
            let team: TeamId = parse(team)?;
            let command = agent::Command::Onboard {
                id: id.clone(),
                contact: Contact {
                    name: name.to_owned(),
                    email: Some(parse(&format!("{id}@example.gov.uk"))?),
                    phone: None,
                },
                teams: BTreeSet::from([team.clone()]),
                skills: BTreeSet::new(),
            };
            self.desk.execute_agent(&admin, &id, command, Some(0)).await?;
            self.names.insert(id.clone(), name.to_owned());
            let tier = self.desk.config().team(&team).map(|t| t.tier);
            let role = if self.desk.config().desk.manager.as_ref() == Some(&id) {
                "; service desk manager"
            } else {
                ""
            };
            self.say.step(
                self.desk.now(),
                "agent_onboarded",
                &format!("agent {id}: {name}"),
                &[format!(
                    "{}{}{role}",
                    self.team_name(&team),
                    tier.map(|t| format!(", {t}")).unwrap_or_default()
                )],
                json!({ "person": id, "name": name, "team": team, "tier": tier }),
            )?;
        }
        Ok(())
    }

    // --- 2. Incidents -----------------------------------------------------------------------

    async fn incidents(&mut self) -> anyhow::Result<IncidentRef> {
        self.say.section("Incidents through every channel")?;
        let laptop = OpenIncident {
            description: "Black screen after the council logo".to_owned(),
            ..fault("Laptop will not boot", "k.lee", Channel::Phone, "hardware/laptop", (3, 2))?
        };
        self.open(9, 2, "a.patel", laptop, "routed by category").await?;

        let vip = OpenIncident {
            description: "The members' room printer jams on every committee pack".to_owned(),
            ..fault(
                "Cannot print committee papers",
                "cllr.brown",
                Channel::Email,
                "hardware/printer",
                (3, 2),
            )?
        };
        let vip = self.open(9, 5, "a.patel", vip, "a councillor: VIP uplift").await?;

        let password = OpenIncident {
            assign: Some(AssignTo {
                team: parse("service-desk")?,
                agent: Some(person("a.patel")?),
            }),
            resolve: Some(ResolveAtContact {
                code: parse("user-advice")?,
                notes: "Unlocked the account, reset the password and talked Tom through the \
                        new passphrase rules"
                    .to_owned(),
            }),
            ..fault(
                "Locked out after changing password",
                "t.hughes",
                Channel::Phone,
                "access/password",
                (3, 1),
            )?
        };
        self.open(9, 10, "a.patel", password, "fixed while Tom was on the phone").await?;

        let start = || incident::Command::Start { agent: None };
        let told = Some(("incident_started", "Rhys Evans starts work: response met"));
        self.act((9, 15), "r.evans", vip, start(), told).await?;

        let vpn =
            |title, requester, channel| fault(title, requester, channel, "network/vpn", (3, 2));
        let first_vpn = vpn("VPN drops every hour", "m.ali", Channel::Email)?;
        self.open(9, 20, "a.patel", first_vpn, "working from home").await?;

        let wifi = OpenIncident {
            description: "Shows 'no internet' on floor 3 only".to_owned(),
            ..fault(
                "Laptop will not join the Wi-Fi",
                "t.hughes",
                Channel::FaceToFace,
                "hardware/laptop",
                (3, 2),
            )?
        };
        let wifi = self.open(9, 30, "a.patel", wifi, "Tom walks up to the desk").await?;

        let second_vpn =
            vpn("VPN disconnects while working from home", "j.okoro", Channel::SelfService)?;
        let vpn_j_okoro = self.open(9, 40, "a.patel", second_vpn, "logged in the portal").await?;

        self.act((9, 45), "r.evans", wifi, start(), None).await?;
        let reason = "The laptop joins Wi-Fi everywhere else: access point CC-3-AP2 on floor 3 \
                      rejects every client";
        let escalate = incident::Command::Escalate(Escalation::Functional {
            team: parse("networks")?,
            agent: None,
            reason: reason.to_owned(),
        });
        let told = Some(("incident_escalated", "Rhys Evans escalates to 3rd line Networks"));
        self.act((9, 55), "r.evans", wifi, escalate, told).await?;

        self.act((10, 0), "d.okafor", vpn_j_okoro, start(), None).await?;
        let note = "Asked Joy for a screenshot of the error and the time it dropped";
        let hold = incident::Command::PutOnHold {
            reason: HoldReason::AwaitingCustomer,
            note: note.into(),
        };
        let told = Some(("incident_on_hold", "Dele Okafor puts it on hold: SLA paused"));
        self.act((10, 2), "d.okafor", vpn_j_okoro, hold, told).await?;

        let text = "A new fuser unit is on its way; the floor 1 printer has your papers meanwhile";
        let update =
            incident::Command::AddUpdate { visibility: Visibility::Public, text: text.into() };
        let told = Some((
            "customer_updated",
            "Rhys Evans keeps the councillor in the loop: the update clock restarts",
        ));
        self.act((10, 4), "r.evans", vip, update, told).await?;

        let third_vpn = vpn("VPN keeps dropping: lost unsaved work", "r.shah", Channel::Chat)?;
        self.open(10, 5, "a.patel", third_vpn, "another remote worker").await?;
        Ok(vip)
    }

    /// Opens an incident at `hour:minute`, logged by agent `by`, and tells of it.
    async fn open(
        &mut self,
        hour: u32,
        minute: u32,
        by: &str,
        new: OpenIncident,
        why: &str,
    ) -> anyhow::Result<IncidentRef> {
        self.at(hour, minute)?;
        let headline =
            format!("{} ({}): \"{}\" — {why}", self.name(&new.requester), new.channel, new.title);
        let opened = self.desk.open_incident(&agent_actor(by)?, new).await?;
        let reference = opened.record.reference;
        self.incidents.push(reference);
        self.show(reference, "incident_opened", &headline).await?;
        Ok(reference)
    }

    /// At `hour:minute`, agent `by` runs `command` on an incident; `told` is the step's name
    /// and headline, if it is worth one (the command's reason or text is shown under it).
    async fn act(
        &mut self,
        (hour, minute): (u32, u32),
        by: &str,
        reference: IncidentRef,
        command: incident::Command,
        told: Option<(&str, &str)>,
    ) -> anyhow::Result<Incident> {
        self.at(hour, minute)?;
        let quote = quote(&command);
        let actor = agent_actor(by)?;
        let incident = self.desk.execute_incident(&actor, reference, command, None).await?.record;
        let Some((step, headline)) = told else { return Ok(incident) };
        let mut extra = serde_json::Map::new();
        let mut details = Vec::new();
        if let Some((key, text)) = quote {
            extra.insert(key.to_owned(), Value::from(text.as_str()));
            details.push(format!("{key}: {text}"));
        }
        self.show_with(reference, step, headline, Value::Object(extra), details).await
    }

    /// Tells where an incident stands.
    async fn show(
        &mut self,
        reference: IncidentRef,
        step: &str,
        headline: &str,
    ) -> anyhow::Result<Incident> {
        self.show_with(reference, step, headline, json!({}), Vec::new()).await
    }

    /// Tells where an incident stands, with `extra` fields and detail lines.
    async fn show_with(
        &mut self,
        reference: IncidentRef,
        step: &str,
        headline: &str,
        extra: Value,
        extra_details: Vec<String>,
    ) -> anyhow::Result<Incident> {
        let incident = self.desk.incident(reference).await?.record;
        let clocks = self.desk.incident_clocks(reference).await?;
        let mut fields = self.incident_fields(&incident, &clocks);
        if let (Value::Object(fields), Value::Object(extra)) = (&mut fields, extra) {
            fields.extend(extra);
        }
        let mut details = vec![self.incident_summary(&incident), self.clock_summary(&clocks)];
        details.extend(extra_details);
        let headline = format!("{reference}  {headline}");
        self.say.step(self.desk.now(), step, &headline, &details, fields)?;
        Ok(incident)
    }

    fn incident_fields(&self, incident: &Incident, clocks: &[sla::Clock]) -> Value {
        let resolution = incident.resolution.as_ref();
        let clocks: Vec<Value> = clocks
            .iter()
            .filter(|clock| !matches!(clock.state, ClockState::NotStarted))
            .map(|clock| {
                json!({
                    "clock": clock.id,
                    "state": clock.state,
                    "due": clock.due.map(rfc3339),
                    "breached": clock.is_breached(),
                })
            })
            .collect();
        json!({
            "reference": incident.reference,
            "title": incident.title,
            "requester": incident.requester,
            "channel": incident.channel,
            "category": incident.category,
            "priority": incident.priority(),
            "matrix_priority": incident.assessment.from_matrix,
            "vip": incident.assessment.vip,
            "vip_uplift": incident.assessment.uplift,
            "major": incident.major,
            "status": incident.status,
            "hold_reason": incident.hold_reason,
            "team": incident.team(),
            "tier": incident.tier(),
            "agent": incident.agent(),
            "first_contact": resolution.map(|r| r.first_contact),
            "resolved_by_parent": resolution.and_then(|r| r.by_parent),
            "parent": incident.parent,
            "children": incident.children,
            "clocks": clocks,
        })
    }

    /// Priority, team and status in a line.
    fn incident_summary(&self, incident: &Incident) -> String {
        let assessment = &incident.assessment;
        let mut parts = Vec::new();
        let mut priority = assessment.priority.to_string();
        if assessment.uplift > 0 {
            let who = match assessment.vip {
                Some(VipKind::ElectedMember) => "a councillor",
                Some(VipKind::ChiefOfficer) => "a chief officer",
                None => "a VIP",
            };
            priority.push_str(&format!(
                " ({} by the matrix, raised for {who})",
                assessment.from_matrix
            ));
        }
        if incident.major {
            priority.push_str(" MAJOR");
        }
        parts.push(priority);
        if let Some(assignment) = &incident.assignment {
            let mut team = format!("{}, {}", self.team_name(&assignment.team), assignment.tier);
            if let Some(agent) = &assignment.agent {
                team.push_str(&format!(" ({})", self.name(agent)));
            }
            parts.push(team);
        }
        let mut status = incident.status.to_string();
        if let Some(reason) = incident.hold_reason {
            status.push_str(&format!(", {reason}"));
        }
        parts.push(status);
        if let Some(resolution) = &incident.resolution {
            if resolution.first_contact {
                parts.push("first-contact resolution".to_owned());
            }
            if let Some(parent) = resolution.by_parent {
                parts.push(format!("resolved with its parent {parent}"));
            }
        }
        if let Some(parent) = incident.parent {
            parts.push(format!("child of {parent}"));
        }
        if !incident.children.is_empty() {
            let children: Vec<String> = incident.children.iter().map(|c| c.to_string()).collect();
            parts.push(format!("children {}", children.join(", ")));
        }
        parts.join(" · ")
    }

    /// The SLA clocks that have started, in a line.
    fn clock_summary(&self, clocks: &[sla::Clock]) -> String {
        let parts: Vec<String> = clocks
            .iter()
            .filter_map(|clock| {
                let id = &clock.id;
                match clock.state {
                    ClockState::Running => {
                        let due = clock.due.map(|due| self.say.local(due)).unwrap_or_default();
                        let late = if clock.is_breached() { " (breached)" } else { "" };
                        Some(format!("{id} due {due}{late}"))
                    }
                    ClockState::Paused => Some(format!("{id} paused")),
                    ClockState::Stopped if clock.is_breached() => Some(format!("{id} missed")),
                    ClockState::Stopped => Some(format!("{id} met")),
                    _ => None,
                }
            })
            .collect();
        if parts.is_empty() { String::new() } else { format!("SLA: {}", parts.join(" · ")) }
    }

    // --- 3. A major incident ----------------------------------------------------------------

    async fn major_incident(&mut self) -> anyhow::Result<()> {
        self.say.section("A major incident")?;
        let outage = OpenIncident {
            description: "Monitoring: every switch on floors 1-4 unreachable; Wi-Fi down"
                .to_owned(),
            ..fault(
                "Civic Centre network down",
                "s.khan",
                Channel::Monitoring,
                "network/wifi",
                (1, 1),
            )?
        };
        let parent = self.open(10, 15, "a.patel", outage, "an alert from monitoring").await?;
        let reason = "Every floor of the Civic Centre is offline, public reception included";
        let declare = incident::Command::DeclareMajor { reason: reason.to_owned() };
        let told = Some((
            "major_declared",
            "declared a major incident: the service desk manager is told at once",
        ));
        self.act((10, 16), "a.patel", parent, declare, told).await?;

        let revenues = fault(
            "Cannot reach the revenues system",
            "k.lee",
            Channel::Phone,
            "applications/revenues-benefits",
            (2, 2),
        )?;
        let chamber = fault(
            "No Wi-Fi in the council chamber before the 2pm planning committee",
            "cllr.brown",
            Channel::Chat,
            "network/wifi",
            (3, 1),
        )?;
        let mut children = Vec::new();
        for (hour, minute, new) in [(10, 20, revenues), (10, 25, chamber)] {
            let child = self.open(hour, minute, "a.patel", new, "caused by the outage").await?;
            let link = incident::Command::LinkParent { parent };
            let headline = format!("linked to the major incident {parent}");
            let told = Some(("child_linked", headline.as_str()));
            self.act((hour, minute + 1), "a.patel", child, link, told).await?;
            children.push(child);
        }

        let start = incident::Command::Start { agent: None };
        let told = Some(("incident_started", "Dele Okafor takes the major incident"));
        self.act((10, 30), "d.okafor", parent, start, told).await?;
        let text = "A core switch power supply has failed; an engineer is replacing it now";
        let update =
            incident::Command::AddUpdate { visibility: Visibility::Public, text: text.into() };
        self.act((10, 45), "d.okafor", parent, update, None).await?;
        let relayed = self.relayed_updates(&children).await?;
        self.say.step(
            self.desk.now(),
            "major_update",
            &format!("{parent}  public update, relayed to its {relayed} child incidents"),
            &[format!("\"{text}\"")],
            json!({ "reference": parent, "text": text, "relayed_to": relayed }),
        )?;

        let notes = "Replaced the failed power supply in core switch CS-1; all floors back online";
        let resolve = incident::Command::Resolve { code: parse("replaced")?, notes: notes.into() };
        let resolved = self.act((11, 10), "d.okafor", parent, resolve, None).await?;
        let mut lines = Vec::new();
        let mut states = Vec::new();
        for child in &resolved.children {
            let child = self.desk.incident(*child).await?.record;
            let by_parent = child.resolution.as_ref().and_then(|r| r.by_parent);
            lines.push(format!("{}  {} · {}", child.reference, child.status, child.title));
            states.push(json!({
                "reference": child.reference,
                "status": child.status,
                "resolved_by_parent": by_parent,
            }));
        }
        self.show_with(
            parent,
            "major_resolved",
            "resolved: its children are resolved with it, in the same commit",
            json!({ "children_after": states }),
            lines,
        )
        .await?;
        Ok(())
    }

    /// How many of `children` have received a relayed public update.
    async fn relayed_updates(&self, children: &[IncidentRef]) -> anyhow::Result<usize> {
        let mut relayed = 0;
        for child in children {
            if self.desk.incident(*child).await?.record.public_updates > 0 {
                relayed += 1;
            }
        }
        Ok(relayed)
    }

    // --- 4. A service request ---------------------------------------------------------------

    async fn new_starter(&mut self) -> anyhow::Result<()> {
        self.say.section("A service request from the catalogue")?;
        self.at(11, 15)?;
        let new = SubmitRequest {
            item: parse("new-starter")?,
            requester: person("r.shah")?,
            on_behalf_of: Some(Beneficiary { name: "Sam Green".into(), person: None }),
            details: "Sam joins Revenues as a benefits officer on Monday 16 March".into(),
            channel: Channel::SelfService,
        };
        let submitted = self.desk.submit_request(&Actor::Requester(person("r.shah")?), new).await?;
        let reference = submitted.record.reference();
        self.show_request(
            reference,
            "request_submitted",
            "Raj Shah asks for a new starter, Sam Green",
        )
        .await?;

        for (hour, minute, role) in
            [(11, 30, ApprovalRole::LineManager), (11, 35, ApprovalRole::BudgetHolder)]
        {
            self.at(hour, minute)?;
            let approver = Actor::Requester(person("j.okoro")?);
            let approve =
                request::Command::Approve { role, approver: approver.clone(), note: None };
            self.desk.execute_request(&approver, reference, approve, None).await?;
            let role = serde_json::to_value(role)?;
            let role = role.as_str().unwrap_or_default().replace('_', " ");
            self.show_request(
                reference,
                "request_approved",
                &format!("Joy Okoro approves as {role}"),
            )
            .await?;
        }

        let tasks = [
            (11, 50, "i.mills", "account"),
            (12, 5, "i.mills", "mailbox"),
            (12, 50, "r.evans", "laptop"),
        ];
        for (hour, minute, by, task) in tasks {
            self.at(hour, minute)?;
            let complete = request::Command::CompleteTask { task: parse(task)?, note: None };
            self.desk.execute_request(&agent_actor(by)?, reference, complete, None).await?;
            let headline = format!("{} completes the {task} task", self.name(&person(by)?));
            self.show_request(reference, "task_done", &headline).await?;
        }
        Ok(())
    }

    async fn show_request(
        &mut self,
        reference: RequestRef,
        step: &str,
        headline: &str,
    ) -> anyhow::Result<()> {
        let request = self.desk.request(reference).await?.record;
        let tasks: Vec<String> = request
            .tasks()
            .iter()
            .map(|task| {
                let state = serde_json::to_value(task.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("{} ({}): {}", task.id, self.team_name(&task.team), state.replace('_', " "))
            })
            .collect();
        let mut status = request.status().to_string();
        if let Some(role) = request.pending_approval() {
            let role = serde_json::to_value(role)?;
            status.push_str(&format!(" ({})", role.as_str().unwrap_or_default().replace('_', " ")));
        }
        let fields = json!({
            "reference": reference,
            "item": request.item(),
            "status": request.status(),
            "pending_approval": request.pending_approval(),
            "tasks": request.tasks().iter().map(|task| json!({
                "task": task.id, "team": task.team, "state": task.state,
            })).collect::<Vec<_>>(),
        });
        let details =
            [format!("{}: {status}", request.title()), format!("tasks: {}", tasks.join(" · "))];
        self.say.step(self.desk.now(), step, &format!("{reference}  {headline}"), &details, fields)
    }

    // --- 5. Problem, known error and change ---------------------------------------------------

    async fn problem_and_change(&mut self) -> anyhow::Result<()> {
        self.say.section("Problem management and a change")?;
        self.at(12, 55)?;
        let mut digests = Vec::new();
        for reference in &self.incidents {
            let incident = self.desk.incident(*reference).await?.record;
            digests.push(IncidentDigest {
                reference: incident.reference,
                logged_at: incident.logged_at,
                category: incident.category.clone(),
                ci: incident.affected_ci,
                problem: None,
            });
        }
        let candidates = problem::recurring(&digests, &self.desk.config().problems);
        let candidate = candidates
            .into_iter()
            .find(|c| matches!(&c.shared, problem::Shared::Category(c) if c.as_str() == "network/vpn"))
            .context("the VPN incidents should recur")?;
        let incidents: BTreeSet<IncidentRef> = candidate.unlinked().collect();
        let list: Vec<String> = incidents.iter().map(|i| i.to_string()).collect();
        self.say.step(
            self.desk.now(),
            "recurring_found",
            &format!(
                "recurring: {} network/vpn incidents since {}",
                incidents.len(),
                self.say.local(candidate.from)
            ),
            &[list.join(", ")],
            json!({ "shared": candidate.shared, "incidents": incidents }),
        )?;

        self.at(13, 0)?;
        let dele = agent_actor("d.okafor")?;
        let new = LogProblem {
            title: "Remote VPN sessions drop after an hour".into(),
            description: "Three remote workers this morning, on email, portal and chat".into(),
            category: Some(parse("network/vpn")?),
            team: Some(parse("networks")?),
            incidents,
            cis: BTreeSet::new(),
        };
        let logged = self.desk.log_problem(&dele, new).await?.record;
        let reference = logged.reference();
        self.say.step(
            self.desk.now(),
            "problem_logged",
            &format!("{reference}  problem logged from them: \"{}\"", logged.title()),
            &[format!("{} · {} linked incidents", logged.status(), logged.incidents().len())],
            json!({ "reference": reference, "status": logged.status(), "incidents": logged.incidents() }),
        )?;

        self.at(13, 5)?;
        let root_cause = "Firmware 9.1 on the VPN concentrator ends sessions idle for 60 minutes";
        let workaround = "Reconnect from the VPN icon; save work before a break until the fix";
        for command in [
            problem::Command::StartInvestigation,
            problem::Command::RecordRootCause { text: root_cause.into() },
            problem::Command::RecordWorkaround {
                text: workaround.into(),
                visibility: Visibility::Public,
            },
            problem::Command::DeclareKnownError,
        ] {
            self.desk.execute_problem(&dele, reference, command, None).await?;
        }
        let known = self.desk.problem(reference).await?.record;
        let offers = problem::workaround_offers(
            Some(&parse("network/vpn")?),
            None,
            Audience::Requesters,
            [&known],
        );
        self.say.step(
            self.desk.now(),
            "known_error",
            &format!(
                "{reference}  {}: new VPN incidents are offered its workaround",
                known.status()
            ),
            &[format!("root cause: {root_cause}"), format!("workaround: {workaround}")],
            json!({
                "reference": reference,
                "status": known.status(),
                "root_cause": root_cause,
                "workaround": workaround,
                "offered_to_requesters": offers.iter().any(|offer| offer.problem == reference),
            }),
        )?;

        self.at(13, 15)?;
        let raise = RaiseChange {
            title: "Raise the VPN concentrator idle timeout to 12 hours".into(),
            description: format!("Removes the cause of {reference} until firmware 9.2 is out"),
            kind: Kind::Normal,
            cis: Vec::new(),
        };
        let change = self.desk.raise_change(&dele, raise).await?.record.reference();
        let assess = change::Command::Assess {
            impact: change::Impact(parse("3")?),
            likelihood: change::Likelihood(parse("4")?),
        };
        for command in [change::Command::Submit, assess] {
            self.desk.execute_change(&dele, change, command, None).await?;
        }
        let assessed = self.desk.change(change).await?.record;
        let risk = assessed.risk();
        self.say.step(
            self.desk.now(),
            "change_assessed",
            &format!("{change}  normal change raised and assessed: \"{}\"", assessed.title()),
            &[format!(
                "{} · risk {}",
                assessed.status(),
                risk.map(|r| r.to_string()).unwrap_or_default()
            )],
            json!({ "reference": change, "status": assessed.status(), "risk": risk }),
        )?;
        self.at(13, 25)?;
        let members = ["s.khan", "h.wright", "r.evans"];
        for member in members {
            let approve = change::Command::Approve { member: person(member)? };
            self.desk.execute_change(&agent_actor(member)?, change, approve, None).await?;
        }
        let authorised = self.desk.change(change).await?.record;
        let approvers: Vec<String> = authorised.approvals().iter().map(|p| self.name(p)).collect();
        self.say.step(
            self.desk.now(),
            "change_authorised",
            &format!("{change}  the CAB reaches its quorum: {}", authorised.status()),
            &[format!("approved by {}", approvers.join(", "))],
            json!({
                "reference": change,
                "status": authorised.status(),
                "approvals": authorised.approvals(),
            }),
        )
    }

    // --- 6. The afternoon: timers and reports -------------------------------------------------

    async fn afternoon(&mut self, vip: IncidentRef) -> anyhow::Result<()> {
        self.say.section("The day goes on: SLA timers and reports")?;
        let notes = "Fitted the new fuser unit; printed a test committee pack with the councillor";
        let resolve = incident::Command::Resolve { code: parse("replaced")?, notes: notes.into() };
        let told = Some(("incident_resolved", "Rhys Evans fixes the councillor's printer"));
        self.act((13, 45), "r.evans", vip, resolve, told).await?;

        self.at(14, 0)?;
        self.fire_timers().await?;

        self.at(17, 30)?;
        self.fire_timers().await?;

        let at_risk = self.desk.at_risk(TimeDelta::hours(2), PageRequest::first(50)).await?;
        self.report("at_risk", "At risk (a warning passed, or due within 2 hours)", &at_risk)?;
        let past = self.desk.past_sla(PageRequest::first(50)).await?;
        self.report("past_sla", "Open incidents past their SLA", &past)?;
        for team in ["desk-side", "networks"] {
            let queue = Queue { team: Some(parse(team)?), ..Queue::default() };
            let page = self.desk.queue(&queue, PageRequest::first(50)).await?;
            let title = format!("{} queue", self.team_name(&parse(team)?));
            self.report("queue", &title, &page)?;
        }
        Ok(())
    }

    /// Runs the SLA timers and tells what they recorded.
    async fn fire_timers(&mut self) -> anyhow::Result<()> {
        let report = self.desk.fire_due_timers().await?;
        for reference in self.incidents.clone() {
            self.tell_marks(reference).await?;
        }
        self.say.step(
            self.desk.now(),
            "timers",
            &format!(
                "SLA timers: {} looked at, {} recorded; {} so far today",
                count(report.records, "incident"),
                count(report.events, "event"),
                [count(self.warnings, "warning"), count(self.breaches, "breach")].join(" and "),
            ),
            &[],
            json!({
                "records": report.records,
                "events": report.events,
                "warnings_so_far": self.warnings,
                "breaches_so_far": self.breaches,
            }),
        )
    }

    /// Tells the SLA warnings and breaches recorded on `reference` since last looked.
    async fn tell_marks(&mut self, reference: IncidentRef) -> anyhow::Result<()> {
        let history = self.desk.history(&RecordId::from(reference)).await?;
        let seen = self.marks_seen.get(&reference).copied().unwrap_or(0);
        let mut warnings = Vec::new();
        let mut breaches = Vec::new();
        let mut texts = Vec::new();
        for stored in history.iter().filter(|stored| stored.event.seq > seen) {
            let event: incident::Event = serde_json::from_value(stored.event.payload.clone())
                .with_context(|| format!("{reference}: event {}", stored.event.seq))?;
            match event {
                incident::Event::SlaWarningPassed { clock, threshold, at, .. } => {
                    texts.push(format!(
                        "{clock} {}% at {}",
                        threshold.percent(),
                        self.say.local(at)
                    ));
                    warnings
                        .push(json!({ "clock": clock, "threshold": threshold, "at": rfc3339(at) }));
                }
                incident::Event::SlaBreached { clock, at, .. } => {
                    texts.push(format!("{clock} BREACHED at {}", self.say.local(at)));
                    breaches.push(json!({ "clock": clock, "at": rfc3339(at) }));
                }
                _ => {}
            }
        }
        if let Some(last) = history.last() {
            self.marks_seen.insert(reference, last.event.seq);
        }
        if texts.is_empty() {
            return Ok(());
        }
        self.warnings += u32::try_from(warnings.len()).unwrap_or(u32::MAX);
        self.breaches += u32::try_from(breaches.len()).unwrap_or(u32::MAX);
        let title = self.desk.incident(reference).await?.record.title;
        self.say.step(
            self.desk.now(),
            "sla_marks",
            &format!("{reference}  SLA marks recorded: \"{title}\""),
            &[texts.join(" · ")],
            json!({ "reference": reference, "warnings": warnings, "breaches": breaches }),
        )
    }

    /// Tells a page of rows.
    fn report(&mut self, step: &str, title: &str, page: &Page) -> anyhow::Result<()> {
        let lines: Vec<String> = page
            .rows
            .iter()
            .map(|row| {
                let priority = row.priority.map(|p| p.to_string()).unwrap_or_default();
                let team = row.team.as_ref().map(|t| t.to_string()).unwrap_or_default();
                let sla = match (row.sla.breached_at, row.sla.due_at) {
                    (Some(at), _) => format!("breached {}", self.say.local(at)),
                    (None, Some(due)) => format!("due {}", self.say.local(due)),
                    (None, None) => "no clock running".to_owned(),
                };
                let status = row.status.replace('_', " ");
                format!("{}  {priority}  {team}  {status}  {sla}  {}", row.id, row.title)
            })
            .collect();
        let rows: Vec<Value> = page
            .rows
            .iter()
            .map(|row| {
                json!({
                    "reference": row.id,
                    "priority": row.priority,
                    "team": row.team,
                    "status": row.status,
                    "due": row.sla.due_at.map(rfc3339),
                    "breached_at": row.sla.breached_at.map(rfc3339),
                    "title": row.title,
                })
            })
            .collect();
        let lines = if lines.is_empty() { vec!["(none)".to_owned()] } else { lines };
        self.say.step(
            self.desk.now(),
            step,
            &format!("{title}: {}", page.rows.len()),
            &lines,
            json!({ "title": title, "rows": rows }),
        )
    }

    // --- 7. Audit ------------------------------------------------------------------------------

    async fn audit(&mut self) -> anyhow::Result<()> {
        self.say.section("Audit")?;
        match self.desk.verify_all().await? {
            Ok(summary) => self.say.step(
                self.desk.now(),
                "audit",
                &format!(
                    "audit chain verified: {} records, {} events, {} redacted",
                    summary.records, summary.events, summary.redacted
                ),
                &[],
                json!({
                    "verified": true,
                    "records": summary.records,
                    "events": summary.events,
                    "redacted": summary.redacted,
                }),
            ),
            Err(broken) => {
                self.say.step(
                    self.desk.now(),
                    "audit",
                    &format!("audit chain BROKEN: {broken}"),
                    &[],
                    json!({ "verified": false, "broken": broken.to_string() }),
                )?;
                Err(anyhow!("the audit chain is broken: {broken}"))
            }
        }
    }
}
