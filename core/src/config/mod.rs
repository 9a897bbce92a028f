//! The desk's configuration: teams and their tiers, categories, the priority matrix, the service
//! catalogue and the settings the record types read.
//!
//! It is written in TOML (see `core/src/config/example.toml` for a whole council) and parsed by
//! [`DeskConfig::from_toml`], which checks every cross-reference. An invalid file gets a
//! [`ConfigError`] naming the file, the line, the key and what is wrong; it never panics.
//!
//! The same types serialise to JSON with the same keys (`team`, `category`, `catalogue` are arrays).

mod catalogue;
mod problems;
mod retention;
pub mod source;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use self::catalogue::{ApprovalRole, CatalogueItem, TaskTemplate};
pub use self::problems::{
    CategoryRecurrence, MAX_RECURRING_WINDOW_DAYS, MIN_RECURRING_INCIDENTS, ProblemSettings,
    Recurrence,
};
pub use self::retention::{
    MAX_RETENTION_MONTHS, RetentionAction, RetentionRule, RetentionSettings,
};
pub use self::source::{ConfigError, KeyPath, TomlSource};
use crate::id::{CatalogueItemId, CategoryId, PersonId, ResolutionCode, TeamId};
use crate::priority::PriorityPolicy;
use crate::tier::Tier;

/// The whole configuration of a desk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    /// Desk-wide settings.
    #[serde(default)]
    pub desk: DeskSettings,
    /// The priority matrix and VIP uplift.
    #[serde(default)]
    pub priority: PriorityPolicy,
    /// Resolver teams, each in a tier.
    #[serde(default, rename = "team")]
    pub teams: Vec<Team>,
    /// Ticket categories, each with an optional default team.
    #[serde(default, rename = "category")]
    pub categories: Vec<Category>,
    /// Where complaints go.
    #[serde(default)]
    pub complaints: ComplaintSettings,
    /// The service catalogue: what can be requested, its approvals and fulfilment tasks.
    #[serde(default)]
    pub catalogue: Vec<CatalogueItem>,
    /// When incidents count as recurring (`[problems]`).
    #[serde(default)]
    pub problems: ProblemSettings,
    /// How long closed records keep personal data (`[retention]`).
    #[serde(default)]
    pub retention: RetentionSettings,
    /// Change control: risk matrix, advisory boards, freeze windows, standard templates.
    #[serde(default)]
    pub change: crate::change::Policy,
}

/// Desk-wide settings (`[desk]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskSettings {
    /// The desk's name, shown to people.
    pub name: String,
    /// Days after resolution during which a closed ticket may still be reopened.
    pub reopen_window_days: u32,
    /// Minutes after logging within which a resolution by the logging 1st-line agent still
    /// counts as first-contact resolution.
    pub first_contact_window_minutes: u32,
    /// The service desk manager: the top of hierarchical escalation.
    pub manager: Option<PersonId>,
    /// The resolution codes agents may use.
    pub resolution_codes: Vec<ResolutionCode>,
}

impl Default for DeskSettings {
    fn default() -> Self {
        let codes =
            ["fixed", "workaround", "no-fault-found", "user-advice", "duplicate", "by-parent"];
        DeskSettings {
            name: "Service desk".to_owned(),
            reopen_window_days: 10,
            first_contact_window_minutes: 30,
            manager: None,
            resolution_codes: codes.iter().filter_map(|c| ResolutionCode::new(*c).ok()).collect(),
        }
    }
}

/// A resolver team (`[[team]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Its identifier.
    pub id: TeamId,
    /// Its name, shown to people.
    pub name: String,
    /// The tier it works at.
    pub tier: Tier,
    /// The team lead: first stop for hierarchical escalation and complaints.
    #[serde(default)]
    pub lead: Option<PersonId>,
    /// The team's shared mailbox.
    #[serde(default)]
    pub email: Option<String>,
}

/// A ticket category (`[[category]]`), e.g. `hardware/laptop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Its identifier; `/` separates levels (`hardware/laptop`).
    pub id: CategoryId,
    /// Its name, shown to people.
    pub name: String,
    /// The team that normally resolves tickets of this category.
    #[serde(default)]
    pub team: Option<TeamId>,
}

/// Where complaints go (`[complaints]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComplaintSettings {
    /// Who handles a complaint when the ticket it is about has no team with a lead.
    pub lead: Option<PersonId>,
}

impl DeskConfig {
    /// Parses and checks a configuration file. `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, ConfigError> {
        let source = TomlSource::parse(file, text)?;
        let config: DeskConfig = source.deserialize()?;
        config.check().map_err(|(path, message)| source.error(&path, message))?;
        Ok(config)
    }

    /// The sample configuration of a fictional council (Example Borough Council), as shipped in
    /// `core/src/config/example.toml`. Demos and tests start from it.
    pub fn example() -> Self {
        match DeskConfig::from_toml("example.toml", EXAMPLE) {
            Ok(config) => config,
            // The example is checked by a unit test; this arm is unreachable in a released build.
            Err(_) => DeskConfig::empty(),
        }
    }

    /// A configuration with defaults and no teams, categories or catalogue.
    pub fn empty() -> Self {
        DeskConfig {
            desk: DeskSettings::default(),
            priority: PriorityPolicy::default(),
            teams: Vec::new(),
            categories: Vec::new(),
            complaints: ComplaintSettings::default(),
            catalogue: Vec::new(),
            problems: ProblemSettings::default(),
            retention: RetentionSettings::default(),
            change: crate::change::Policy::default(),
        }
    }

    /// The text of the sample configuration.
    pub const EXAMPLE_TOML: &'static str = EXAMPLE;

    /// The team called `id`.
    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.iter().find(|team| &team.id == id)
    }

    /// The category called `id`.
    pub fn category(&self, id: &CategoryId) -> Option<&Category> {
        self.categories.iter().find(|category| &category.id == id)
    }

    /// The catalogue item called `id`.
    pub fn catalogue_item(&self, id: &CatalogueItemId) -> Option<&CatalogueItem> {
        self.catalogue.iter().find(|item| &item.id == id)
    }

    /// Whether `code` is one of the configured resolution codes.
    pub fn is_resolution_code(&self, code: &ResolutionCode) -> bool {
        self.desk.resolution_codes.contains(code)
    }

    /// Checks cross-references and uniqueness; the first problem found, with where it is.
    ///
    /// [`DeskConfig::from_toml`] calls this; call it yourself after building a configuration in code.
    pub fn check(&self) -> Result<(), (KeyPath, String)> {
        let root = KeyPath::root();
        unique(&root.key("team"), self.teams.iter().map(|t| t.id.as_str()), "team")?;
        unique(&root.key("category"), self.categories.iter().map(|c| c.id.as_str()), "category")?;
        unique(
            &root.key("catalogue"),
            self.catalogue.iter().map(|c| c.id.as_str()),
            "catalogue item",
        )?;
        unique(
            &root.key("desk").key("resolution_codes"),
            self.desk.resolution_codes.iter().map(ResolutionCode::as_str),
            "resolution code",
        )
        .map_err(|(_, message)| (root.key("desk").key("resolution_codes"), message))?;
        for (n, team) in self.teams.iter().enumerate() {
            if team.name.trim().is_empty() {
                return Err((root.key("team").index(n).key("name"), "a team needs a name".into()));
            }
        }
        for (n, category) in self.categories.iter().enumerate() {
            if let Some(team) = &category.team {
                self.known_team(&root.key("category").index(n).key("team"), team)?;
            }
        }
        for (n, item) in self.catalogue.iter().enumerate() {
            item.check(&root.key("catalogue").index(n), |path, team| self.known_team(path, team))?;
        }
        self.problems.check(&root.key("problems"), |id| self.category(id).is_some())?;
        self.retention.check(&root.key("retention"))?;
        self.change.check(&root.key("change"))?;
        Ok(())
    }

    fn known_team(&self, path: &KeyPath, team: &TeamId) -> Result<(), (KeyPath, String)> {
        match self.team(team) {
            Some(_) => Ok(()),
            None => Err((
                path.clone(),
                format!("unknown team `{team}` (declare it in a [[team]] table)"),
            )),
        }
    }
}

/// Refuses the second occurrence of an identifier in a list, naming where it is.
fn unique<'a>(
    path: &KeyPath,
    ids: impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<(), (KeyPath, String)> {
    let mut seen = BTreeSet::new();
    for (n, id) in ids.enumerate() {
        if !seen.insert(id) {
            return Err((path.index(n).key("id"), format!("{what} `{id}` is declared twice")));
        }
    }
    Ok(())
}

const EXAMPLE: &str = include_str!("example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ConfigError {
        DeskConfig::from_toml("desk.toml", text).unwrap_err()
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let config = DeskConfig::from_toml("example.toml", EXAMPLE).unwrap();
        assert!(config.teams.len() >= 5);
        assert!(config.teams.iter().any(|t| t.tier == Tier::Supplier));
        assert!(config.catalogue.iter().any(|i| i.id.as_str() == "new-starter"));
        assert_eq!(DeskConfig::example(), config);
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let config = DeskConfig::from_toml("desk.toml", "").unwrap();
        assert_eq!(config, DeskConfig::empty());
    }

    #[test]
    fn an_unknown_tier_names_line_and_key() {
        let err = error("[[team]]\nid = \"a\"\nname = \"A\"\ntier = \"fourth_line\"\n");
        assert_eq!((err.line, err.key.as_str()), (4, "team[0].tier"), "{err}");
        assert!(err.message.contains("fourth_line"), "{err}");
    }

    #[test]
    fn a_category_with_an_unknown_team_names_it() {
        let text = "[[team]]\nid = \"a\"\nname = \"A\"\ntier = \"first_line\"\n\n[[category]]\nid = \"x\"\nname = \"X\"\nteam = \"b\"\n";
        let err = error(text);
        assert_eq!(
            err.to_string(),
            "desk.toml:9:1: category[0].team: unknown team `b` (declare it in a [[team]] table)"
        );
    }

    #[test]
    fn duplicate_teams_are_refused() {
        let team = "[[team]]\nid = \"a\"\nname = \"A\"\ntier = \"first_line\"\n";
        let err = error(&format!("{team}{team}"));
        assert_eq!((err.line, err.key.as_str()), (6, "team[1].id"), "{err}");
    }

    #[test]
    fn a_bad_matrix_names_the_priority_table() {
        let err = error(
            "[priority]\nimpact = [\"high\"]\nurgency = [\"high\", \"low\"]\nmatrix = [[\"P1\"]]\n",
        );
        assert_eq!(err.key, "priority", "{err}");
        assert!(err.message.contains("row 1 of the matrix has 1 cells"), "{err}");
    }

    #[test]
    fn a_bad_slug_is_explained() {
        let err = error("[[team]]\nid = \"net works\"\nname = \"A\"\ntier = \"first_line\"\n");
        assert_eq!((err.line, err.key.as_str()), (2, "team[0].id"), "{err}");
        assert!(err.message.contains("not a valid identifier"), "{err}");
    }

    #[test]
    fn misspelt_keys_are_refused() {
        let err = error("[desk]\nreopen_window = 3\n");
        assert_eq!((err.line, err.key.as_str()), (2, "desk.reopen_window"), "{err}");
    }

    #[test]
    fn the_example_sets_recurrence_thresholds() {
        let config = DeskConfig::example();
        assert_eq!(
            config.problems.recurrence(None),
            Recurrence { min_incidents: 3, window_days: 14 }
        );
        let password = "access/password".parse().unwrap();
        assert!(config.problems.recurrence(Some(&password)).min_incidents > 3);
    }

    #[test]
    fn too_few_recurring_incidents_are_refused() {
        let err = error("[problems]\nrecurring_min_incidents = 1\n");
        assert_eq!((err.line, err.key.as_str()), (2, "problems.recurring_min_incidents"), "{err}");
        assert!(err.message.contains("at least 2 incidents"), "{err}");
    }

    #[test]
    fn a_recurrence_window_outside_a_year_is_refused() {
        for days in [0, 367] {
            let err = error(&format!("[problems]\nrecurring_window_days = {days}\n"));
            assert_eq!(
                (err.line, err.key.as_str()),
                (2, "problems.recurring_window_days"),
                "{err}"
            );
            assert!(err.message.contains("outside 1 to 366"), "{err}");
        }
    }

    #[test]
    fn recurrence_for_an_unknown_category_names_it() {
        let text = "[[problems.category]]\nid = \"printing\"\nrecurring_window_days = 3\n";
        let err = error(text);
        assert_eq!((err.line, err.key.as_str()), (2, "problems.category[0].id"), "{err}");
        assert!(err.message.contains("unknown category `printing`"), "{err}");
    }

    #[test]
    fn recurrence_overrides_must_be_single_and_say_something() {
        let category = "[[category]]\nid = \"x\"\nname = \"X\"\n\n";
        let own = "[[problems.category]]\nid = \"x\"\nrecurring_min_incidents = 5\n";
        let err = error(&format!("{category}{own}{own}"));
        assert_eq!((err.line, err.key.as_str()), (9, "problems.category[1].id"), "{err}");
        assert!(err.message.contains("thresholds twice"), "{err}");

        let err = error(&format!("{category}[[problems.category]]\nid = \"x\"\n"));
        assert_eq!(err.key, "problems.category[0]", "{err}");
        let err = error(&format!("{category}{own}recurring_window_days = 400\n"));
        assert_eq!(err.key, "problems.category[0].recurring_window_days", "{err}");
        let err = error(&format!(
            "{category}[[problems.category]]\nid = \"x\"\nrecurring_min_incidents = 0\n"
        ));
        assert_eq!(err.key, "problems.category[0].recurring_min_incidents", "{err}");
    }

    #[test]
    fn misspelt_problem_keys_are_refused() {
        let err = error("[problems]\nrecuring_min_incidents = 3\n");
        assert_eq!(err.key, "problems.recuring_min_incidents", "{err}");
    }

    #[test]
    fn the_example_keeps_incidents_six_years_then_anonymises_them() {
        let config = DeskConfig::example();
        let rule = config.retention.incident.unwrap();
        assert_eq!((rule.months, rule.action), (72, RetentionAction::Anonymise));
        assert!(config.retention.rules().any(|(kind, rule)| {
            kind == "service_request" && rule.action == RetentionAction::Delete
        }));
    }

    #[test]
    fn a_retention_period_outside_a_century_is_refused() {
        for months in [0, 1_201] {
            let err =
                error(&format!("[retention.complaint]\nmonths = {months}\naction = \"delete\"\n"));
            assert_eq!((err.line, err.key.as_str()), (2, "retention.complaint.months"), "{err}");
            assert!(err.message.contains("outside 1 to 1200"), "{err}");
        }
    }

    #[test]
    fn retention_names_known_kinds_and_actions_only() {
        let err = error("[retention.ticket]\nmonths = 12\naction = \"delete\"\n");
        assert_eq!(err.key, "retention.ticket", "{err}");
        let err = error("[retention.incident]\nmonths = 12\naction = \"shred\"\n");
        assert_eq!((err.line, err.key.as_str()), (3, "retention.incident.action"), "{err}");
        assert!(err.message.contains("shred"), "{err}");
        let err = error("[retention.incident]\nmonths = 12\n");
        assert!(err.message.contains("action"), "{err}");
    }

    #[test]
    fn configuration_round_trips_through_json() {
        let config = DeskConfig::example();
        let json = serde_json::to_string(&config).unwrap();
        let back: DeskConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
    }
}
