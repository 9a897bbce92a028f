//! An agent: a member of desk staff who works tickets, in one or more teams.
//!
//! Lifecycle: onboarded (active) → offboarded → reinstated (active) … An offboarded agent keeps
//! their record (the tickets they worked name them) but accepts nothing except
//! [`Command::Reinstate`]. Teams must be declared in the desk's configuration when an agent joins
//! them; an agent's tiers follow from their teams ([`Agent::tiers`]). Skills are free slugs that
//! routing rules may ask for. Being on call needs a team: leaving the last team, or being
//! offboarded, takes an agent off call first.
//!
//! JSON shapes: commands and events are objects tagged by `type`, e.g.
//! `{"type": "join_team", "team": "networks"}`; the record is an [`Agent`] object.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Contact, ContactChanges, DetailsError, Email, Phone};
use crate::config::DeskConfig;
use crate::id::{PersonId, RecordId, Skill, TeamId};
use crate::record::{
    Aggregate, CommandName, Context, EventInfo, ReplayError, Timestamp, Visibility,
};
use crate::tier::Tier;

/// Whether an agent works for the desk.
///
/// JSON shape: `"active"` or `"offboarded"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// They may be assigned work.
    Active,
    /// They no longer work for the desk; their record is kept for the tickets that name them.
    Offboarded,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Active => "active",
            Status::Offboarded => "offboarded",
        })
    }
}

/// An agent's record.
///
/// JSON shape: `{"id": "j.smith", "contact": {...}, "teams": ["networks"], "skills": ["cisco"],
/// "on_call": false, "status": "active", "onboarded_at": "2026-03-02T09:00:00Z"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    id: PersonId,
    contact: Contact,
    teams: BTreeSet<TeamId>,
    skills: BTreeSet<Skill>,
    on_call: bool,
    status: Status,
    onboarded_at: Timestamp,
}

impl Agent {
    /// Their identifier.
    pub fn person(&self) -> &PersonId {
        &self.id
    }

    /// Their name, email address and phone number.
    pub fn contact(&self) -> &Contact {
        &self.contact
    }

    /// Their name.
    pub fn name(&self) -> &str {
        &self.contact.name
    }

    /// Their email address, if known.
    pub fn email(&self) -> Option<&Email> {
        self.contact.email.as_ref()
    }

    /// Their phone number, if known.
    pub fn phone(&self) -> Option<&Phone> {
        self.contact.phone.as_ref()
    }

    /// The teams they belong to.
    pub fn teams(&self) -> &BTreeSet<TeamId> {
        &self.teams
    }

    /// Whether they belong to `team`.
    pub fn in_team(&self, team: &TeamId) -> bool {
        self.teams.contains(team)
    }

    /// Their skills.
    pub fn skills(&self) -> &BTreeSet<Skill> {
        &self.skills
    }

    /// Whether they have `skill`.
    pub fn has_skill(&self, skill: &Skill) -> bool {
        self.skills.contains(skill)
    }

    /// Whether they are on call.
    pub fn is_on_call(&self) -> bool {
        self.on_call
    }

    /// Whether they work for the desk.
    pub fn status(&self) -> Status {
        self.status
    }

    /// When the record was created.
    pub fn onboarded_at(&self) -> Timestamp {
        self.onboarded_at
    }

    /// The tiers they work at: the tiers of their teams that `config` still declares.
    pub fn tiers(&self, config: &DeskConfig) -> BTreeSet<Tier> {
        self.teams.iter().filter_map(|team| config.team(team)).map(|team| team.tier).collect()
    }
}

/// What can be asked of an agent record.
///
/// JSON shape: `{"type": "onboard", "id": "j.smith", "contact": {...}, "teams": [...],
/// "skills": [...]}`, `{"type": "update_details", "changes": {...}}`,
/// `{"type": "join_team" | "leave_team", "team": "networks"}`,
/// `{"type": "add_skill" | "remove_skill", "skill": "cisco"}`, and the field-less
/// `go_on_call`, `go_off_call`, `offboard`, `reinstate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Create the record.
    Onboard {
        /// Their identifier.
        id: PersonId,
        /// Their name, email address and phone number.
        contact: Contact,
        /// The teams they join; each must be configured.
        #[serde(default)]
        teams: BTreeSet<TeamId>,
        /// Their skills.
        #[serde(default)]
        skills: BTreeSet<Skill>,
    },
    /// Change some contact details; fields not named keep their value.
    UpdateDetails {
        /// What changes.
        changes: ContactChanges,
    },
    /// Join a configured team.
    JoinTeam {
        /// The team.
        team: TeamId,
    },
    /// Leave a team.
    LeaveTeam {
        /// The team.
        team: TeamId,
    },
    /// Record a skill.
    AddSkill {
        /// The skill.
        skill: Skill,
    },
    /// Remove a skill.
    RemoveSkill {
        /// The skill.
        skill: Skill,
    },
    /// Start an on-call period.
    GoOnCall,
    /// End an on-call period.
    GoOffCall,
    /// They no longer work for the desk.
    Offboard,
    /// They work for the desk again, in the teams they had.
    Reinstate,
}

impl CommandName for Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Onboard { .. } => "onboard",
            Command::UpdateDetails { .. } => "update_details",
            Command::JoinTeam { .. } => "join_team",
            Command::LeaveTeam { .. } => "leave_team",
            Command::AddSkill { .. } => "add_skill",
            Command::RemoveSkill { .. } => "remove_skill",
            Command::GoOnCall => "go_on_call",
            Command::GoOffCall => "go_off_call",
            Command::Offboard => "offboard",
            Command::Reinstate => "reinstate",
        }
    }
}

/// What happened to an agent record.
///
/// JSON shape: `{"type": "onboarded", "id": ..., "contact": ..., "teams": ..., "skills": ...}`,
/// `{"type": "details_updated", "changes": {...}}`, `{"type": "joined_team" | "left_team",
/// "team": ...}`, `{"type": "skill_added" | "skill_removed", "skill": ...}`, and the field-less
/// `went_on_call`, `went_off_call`, `offboarded`, `reinstated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The record was created.
    Onboarded {
        /// Their identifier.
        id: PersonId,
        /// Their contact details, checked and trimmed.
        contact: Contact,
        /// The teams they joined.
        teams: BTreeSet<TeamId>,
        /// Their skills.
        skills: BTreeSet<Skill>,
    },
    /// Some contact details changed.
    DetailsUpdated {
        /// Only the fields that changed.
        changes: ContactChanges,
    },
    /// They joined a team.
    JoinedTeam {
        /// The team.
        team: TeamId,
    },
    /// They left a team.
    LeftTeam {
        /// The team.
        team: TeamId,
    },
    /// A skill was recorded.
    SkillAdded {
        /// The skill.
        skill: Skill,
    },
    /// A skill was removed.
    SkillRemoved {
        /// The skill.
        skill: Skill,
    },
    /// An on-call period started.
    WentOnCall,
    /// An on-call period ended.
    WentOffCall,
    /// They no longer work for the desk.
    Offboarded,
    /// They work for the desk again.
    Reinstated,
}

impl EventInfo for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Onboarded { .. } => "onboarded",
            Event::DetailsUpdated { .. } => "details_updated",
            Event::JoinedTeam { .. } => "joined_team",
            Event::LeftTeam { .. } => "left_team",
            Event::SkillAdded { .. } => "skill_added",
            Event::SkillRemoved { .. } => "skill_removed",
            Event::WentOnCall => "went_on_call",
            Event::WentOffCall => "went_off_call",
            Event::Offboarded => "offboarded",
            Event::Reinstated => "reinstated",
        }
    }

    /// Agent records are desk business: every event is internal.
    fn visibility(&self) -> Visibility {
        Visibility::Internal
    }
}

/// Why an agent command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record with this id exists already.
    #[error("agent {id} is already onboarded (use reinstate if they have come back)")]
    AlreadyOnboarded {
        /// The agent.
        id: PersonId,
    },
    /// The record does not exist yet.
    #[error("cannot {command} an agent who is not onboarded")]
    NotOnboarded {
        /// The command refused.
        command: &'static str,
    },
    /// The command is not allowed in the record's state.
    #[error("cannot {command} agent {id}: their record is {state}")]
    InvalidTransition {
        /// The agent.
        id: PersonId,
        /// Their status.
        state: Status,
        /// The command refused.
        command: &'static str,
    },
    /// The details given are not acceptable.
    #[error("agent {id}: {source}")]
    Details {
        /// The agent.
        id: PersonId,
        /// What is wrong.
        source: DetailsError,
    },
    /// The team is not declared in the configuration.
    #[error("agent {id} cannot join unknown team `{team}` (declare it in a [[team]] table)")]
    UnknownTeam {
        /// The agent.
        id: PersonId,
        /// The team.
        team: TeamId,
    },
    /// Going on call needs a team to be on call for.
    #[error("agent {id} cannot go on call without belonging to a team")]
    NoTeam {
        /// The agent.
        id: PersonId,
    },
}

impl Aggregate for Agent {
    const NOUN: &'static str = "agent";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn id(&self) -> RecordId {
        RecordId::Agent(self.id.clone())
    }

    fn decide(
        state: Option<&Self>,
        command: Command,
        ctx: Context<'_>,
    ) -> Result<Vec<Event>, Error> {
        let name = command.name();
        let Some(agent) = state else {
            return match command {
                Command::Onboard { id, contact, teams, skills } => {
                    let contact = contact
                        .checked()
                        .map_err(|source| Error::Details { id: id.clone(), source })?;
                    if let Some(team) = teams.iter().find(|team| ctx.config.team(team).is_none()) {
                        return Err(Error::UnknownTeam { id, team: team.clone() });
                    }
                    Ok(vec![Event::Onboarded { id, contact, teams, skills }])
                }
                _ => Err(Error::NotOnboarded { command: name }),
            };
        };
        let id = || agent.id.clone();
        match (agent.status, command) {
            (_, Command::Onboard { .. }) => Err(Error::AlreadyOnboarded { id: id() }),
            (Status::Offboarded, Command::Reinstate) => Ok(vec![Event::Reinstated]),
            (Status::Offboarded, _) | (Status::Active, Command::Reinstate) => {
                Err(Error::InvalidTransition { id: id(), state: agent.status, command: name })
            }
            (Status::Active, Command::UpdateDetails { changes }) => {
                let contact = changes
                    .applied_to(&agent.contact)
                    .checked()
                    .map_err(|source| Error::Details { id: id(), source })?;
                let changes = ContactChanges::between(&agent.contact, &contact);
                Ok(if changes.is_empty() {
                    vec![]
                } else {
                    vec![Event::DetailsUpdated { changes }]
                })
            }
            (Status::Active, Command::JoinTeam { team }) if agent.in_team(&team) => Ok(vec![]),
            (Status::Active, Command::JoinTeam { team }) => match ctx.config.team(&team) {
                Some(_) => Ok(vec![Event::JoinedTeam { team }]),
                None => Err(Error::UnknownTeam { id: id(), team }),
            },
            (Status::Active, Command::LeaveTeam { team }) if !agent.in_team(&team) => Ok(vec![]),
            (Status::Active, Command::LeaveTeam { team }) => {
                let mut events = Vec::new();
                if agent.teams.len() == 1 {
                    events.extend(agent.off_call());
                }
                events.push(Event::LeftTeam { team });
                Ok(events)
            }
            (Status::Active, Command::AddSkill { skill }) if agent.has_skill(&skill) => Ok(vec![]),
            (Status::Active, Command::AddSkill { skill }) => Ok(vec![Event::SkillAdded { skill }]),
            (Status::Active, Command::RemoveSkill { skill }) if agent.has_skill(&skill) => {
                Ok(vec![Event::SkillRemoved { skill }])
            }
            (Status::Active, Command::RemoveSkill { .. }) => Ok(vec![]),
            (Status::Active, Command::GoOnCall) if agent.on_call => Ok(vec![]),
            (Status::Active, Command::GoOnCall) if agent.teams.is_empty() => {
                Err(Error::NoTeam { id: id() })
            }
            (Status::Active, Command::GoOnCall) => Ok(vec![Event::WentOnCall]),
            (Status::Active, Command::GoOffCall) => Ok(agent.off_call().into_iter().collect()),
            (Status::Active, Command::Offboard) => {
                Ok(agent.off_call().into_iter().chain([Event::Offboarded]).collect())
            }
        }
    }

    fn apply(state: Option<Self>, at: Timestamp, event: &Event) -> Result<Self, ReplayError> {
        let Some(mut agent) = state else {
            return match event {
                Event::Onboarded { id, contact, teams, skills } => Ok(Agent {
                    id: id.clone(),
                    contact: contact.clone(),
                    teams: teams.clone(),
                    skills: skills.clone(),
                    on_call: false,
                    status: Status::Active,
                    onboarded_at: at,
                }),
                _ => Err(ReplayError::NotCreated { noun: Self::NOUN, event: event.name() }),
            };
        };
        match event {
            Event::Onboarded { .. } => {
                return Err(ReplayError::AlreadyCreated {
                    reference: agent.id().to_string(),
                    event: event.name(),
                });
            }
            Event::DetailsUpdated { changes } => agent.contact = changes.applied_to(&agent.contact),
            Event::JoinedTeam { team } => {
                agent.teams.insert(team.clone());
            }
            Event::LeftTeam { team } => {
                agent.teams.remove(team);
            }
            Event::SkillAdded { skill } => {
                agent.skills.insert(skill.clone());
            }
            Event::SkillRemoved { skill } => {
                agent.skills.remove(skill);
            }
            Event::WentOnCall => agent.on_call = true,
            Event::WentOffCall => agent.on_call = false,
            Event::Offboarded => agent.status = Status::Offboarded,
            Event::Reinstated => agent.status = Status::Active,
        }
        Ok(agent)
    }
}

impl Agent {
    /// `WentOffCall` when the agent is on call.
    fn off_call(&self) -> Option<Event> {
        self.on_call.then_some(Event::WentOffCall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Actor;
    use crate::scenario;

    fn team(id: &str) -> TeamId {
        TeamId::new(id).unwrap()
    }

    fn when(
        given: Option<Agent>,
        commands: impl IntoIterator<Item = Command>,
    ) -> Result<(Agent, Vec<Event>), Error> {
        let actor = Actor::Agent(PersonId::new("a.patel").unwrap());
        scenario::when(&DeskConfig::example(), &actor, given, commands)
    }

    fn onboard(teams: &[&str]) -> Command {
        Command::Onboard {
            id: PersonId::new("j.smith").unwrap(),
            contact: Contact {
                name: "Jo Smith".into(),
                email: Some(Email::new("j.smith@example.gov.uk").unwrap()),
                phone: None,
            },
            teams: teams.iter().map(|t| team(t)).collect(),
            skills: BTreeSet::new(),
        }
    }

    #[test]
    fn tiers_follow_from_teams() {
        // Given an agent in the service desk and networks teams
        let (agent, _) = when(None, [onboard(&["service-desk", "networks"])]).unwrap();
        // Then they work at 1st and 3rd line
        let tiers: Vec<Tier> = agent.tiers(&DeskConfig::example()).into_iter().collect();
        assert_eq!(tiers, [Tier::FirstLine, Tier::ThirdLine]);
        // And a team the configuration no longer declares gives no tier
        assert!(agent.tiers(&DeskConfig::empty()).is_empty());
    }

    #[test]
    fn only_configured_teams_can_be_joined() {
        let error = when(None, [onboard(&["service-desk", "helpdesk"])]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "agent j.smith cannot join unknown team `helpdesk` (declare it in a [[team]] table)"
        );
        let error = when(None, [onboard(&[]), Command::JoinTeam { team: team("nope") }]);
        assert!(matches!(error, Err(Error::UnknownTeam { .. })));
    }

    #[test]
    fn on_call_needs_a_team_and_ends_with_the_last_team() {
        // Given an agent in no team
        let (agent, _) = when(None, [onboard(&[])]).unwrap();
        // When they go on call, it is refused
        assert!(matches!(
            when(Some(agent.clone()), [Command::GoOnCall]),
            Err(Error::NoTeam { .. })
        ));
        // Given they join networks and go on call
        let networks = team("networks");
        let (agent, _) =
            when(Some(agent), [Command::JoinTeam { team: networks.clone() }, Command::GoOnCall])
                .unwrap();
        assert!(agent.is_on_call());
        // When they leave their only team
        let (agent, events) =
            when(Some(agent), [Command::LeaveTeam { team: networks.clone() }]).unwrap();
        // Then they go off call first
        assert_eq!(events, [Event::WentOffCall, Event::LeftTeam { team: networks }]);
        assert!(!agent.is_on_call() && agent.teams().is_empty());
    }

    #[test]
    fn offboarding_ends_on_call_and_only_reinstate_follows() {
        let (agent, events) =
            when(None, [onboard(&["service-desk"]), Command::GoOnCall, Command::Offboard]).unwrap();
        assert_eq!(events, [Event::WentOffCall, Event::Offboarded]);
        let refused =
            when(Some(agent.clone()), [Command::AddSkill { skill: Skill::new("cisco").unwrap() }]);
        assert_eq!(
            refused.unwrap_err().to_string(),
            "cannot add_skill agent j.smith: their record is offboarded"
        );
        let (agent, _) = when(Some(agent), [Command::Reinstate]).unwrap();
        assert_eq!(agent.status(), Status::Active);
        assert!(agent.in_team(&team("service-desk")), "reinstated agents keep their teams");
    }

    #[test]
    fn repeated_commands_record_nothing() {
        let cisco = Skill::new("cisco").unwrap();
        let (agent, events) = when(
            None,
            [
                onboard(&["networks"]),
                Command::AddSkill { skill: cisco.clone() },
                Command::AddSkill { skill: cisco.clone() },
            ],
        )
        .unwrap();
        assert!(events.is_empty() && agent.has_skill(&cisco));
        for repeat in [
            Command::JoinTeam { team: team("networks") },
            Command::LeaveTeam { team: team("security") },
            Command::RemoveSkill { skill: Skill::new("welsh-language").unwrap() },
            Command::GoOffCall,
            Command::UpdateDetails { changes: ContactChanges::default() },
        ] {
            let (_, events) = when(Some(agent.clone()), [repeat]).unwrap();
            assert!(events.is_empty());
        }
    }

    #[test]
    fn details_updates_are_checked() {
        let (agent, _) = when(None, [onboard(&[])]).unwrap();
        let changes = ContactChanges { email: Some(None), ..ContactChanges::default() };
        let error = when(Some(agent), [Command::UpdateDetails { changes }]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "agent j.smith: an email address or a phone number is needed"
        );
    }

    #[test]
    fn commands_have_stable_json() {
        let command: Command =
            serde_json::from_value(serde_json::json!({"type": "join_team", "team": "networks"}))
                .unwrap();
        assert_eq!(command, Command::JoinTeam { team: team("networks") });
        assert_eq!(
            serde_json::to_value(Command::GoOnCall).unwrap(),
            serde_json::json!({"type": "go_on_call"})
        );
        assert_eq!(Event::WentOnCall.visibility(), Visibility::Internal);
    }
}
