//! The change section of the desk's configuration (`[change]`): risk matrix, change advisory
//! boards, freeze windows and standard-change templates.
//!
//! ```toml
//! [change]
//! time_zone = "Europe/London"        # for freeze windows written in local time (the default)
//!
//! [change.cab]                       # authorises normal changes
//! members = ["s.khan", "d.okafor", "h.wright"]   # empty: any agent may vote
//! quorum = 2                         # approvals needed; any rejection ends the change
//!
//! [change.ecab]                      # authorises emergency changes
//! members = ["s.khan", "d.okafor"]
//! quorum = 1
//!
//! [change.risk]                      # see `change::risk`
//!
//! [[change.freeze]]
//! name = "Christmas change freeze"
//! start = 2026-12-18T17:30:00        # local time in `time_zone`
//! end = 2027-01-03                   # a date as the end includes that whole day
//!                                    # (an instant with its offset, 2027-01-04T07:45:00Z, also works)
//! reason = "Reduced staffing over the holidays"
//!
//! [[change.template]]                # a standard change: pre-authorised
//! id = "printer-driver-update"
//! name = "Printer driver update"
//! risk = "low"                       # low or medium
//! classes = ["printer", "server"]    # the CI classes it may touch; empty: any
//! steps = ["Stage the driver on the print server", "Deploy by group policy", "Test print"]
//! ```
//!
//! JSON shape: the same keys; `freeze` and `template` are arrays.

use std::collections::BTreeSet;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::risk::{Risk, RiskMatrix};
use super::window::{Bound, Moment, Window};
use crate::asset::Class;
use crate::config::KeyPath;
use crate::id::{ChangeTemplateId, PersonId};

/// The change section of the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// The zone freeze windows are written in, unless a window names its own.
    pub time_zone: Tz,
    /// The impact × likelihood → risk matrix.
    pub risk: RiskMatrix,
    /// The change advisory board, which authorises normal changes.
    pub cab: Board,
    /// The emergency change advisory board, which authorises emergency changes.
    pub ecab: Board,
    /// Periods in which only emergency changes may be scheduled.
    #[serde(rename = "freeze")]
    pub freezes: Vec<Freeze>,
    /// Standard-change templates.
    #[serde(rename = "template")]
    pub templates: Vec<Template>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            time_zone: Tz::Europe__London,
            risk: RiskMatrix::default(),
            cab: Board { members: Vec::new(), quorum: 2 },
            ecab: Board { members: Vec::new(), quorum: 1 },
            freezes: Vec::new(),
            templates: Vec::new(),
        }
    }
}

/// A change advisory board.
///
/// JSON shape: `{"members": ["s.khan", …], "quorum": 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// Who may vote; empty means anyone may.
    #[serde(default)]
    pub members: Vec<PersonId>,
    /// How many distinct approvals authorise a change.
    pub quorum: u8,
}

impl Board {
    /// Whether `person` may vote on this board.
    pub fn admits(&self, person: &PersonId) -> bool {
        self.members.is_empty() || self.members.contains(person)
    }
}

/// A change freeze (`[[change.freeze]]`): only emergency changes may be scheduled to overlap it.
///
/// JSON shape: `{"name": "…", "reason": "…", "start": "2026-12-18T17:30:00", "end": "2027-01-03",
/// "time_zone": "Europe/London" | null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// Its name, shown when a change is refused.
    pub name: String,
    /// Why changes are frozen.
    #[serde(default)]
    pub reason: String,
    /// The first day or time frozen (local time unless it carries an offset).
    pub start: Moment,
    /// The last day frozen, or the first time no longer frozen (local unless it has an offset).
    pub end: Moment,
    /// The zone of `start` and `end`, when not the section's.
    #[serde(default)]
    pub time_zone: Option<Tz>,
}

impl Freeze {
    /// The frozen period, with `zone` for a freeze that names none; `None` when a bound falls in
    /// a clock-change gap or the end is not after the start (a checked configuration has none).
    pub fn window(&self, zone: Tz) -> Option<Window> {
        let zone = self.time_zone.unwrap_or(zone);
        let start = self.start.resolve(zone, Bound::Start)?;
        let end = self.end.resolve(zone, Bound::End)?;
        Window::new(start, end).ok()
    }
}

/// A standard-change template (`[[change.template]]`): a pre-authorised, repeatable change.
///
/// JSON shape: `{"id": "printer-driver-update", "name": "…", "description": "…", "risk": "low",
/// "classes": ["printer"], "steps": ["…"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Its identifier.
    pub id: ChangeTemplateId,
    /// Its name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Its agreed risk: low or medium.
    pub risk: Risk,
    /// The classes of CI it may touch; empty means any.
    #[serde(default)]
    pub classes: Vec<Class>,
    /// The steps that implement it, in order.
    pub steps: Vec<String>,
}

impl Template {
    /// Whether a change from this template may touch a CI of `class`.
    pub fn allows(&self, class: Class) -> bool {
        self.classes.is_empty() || self.classes.contains(&class)
    }
}

impl Policy {
    /// The template called `id`.
    pub fn template(&self, id: &ChangeTemplateId) -> Option<&Template> {
        self.templates.iter().find(|template| &template.id == id)
    }

    /// The first freeze that overlaps `window`, with its resolved period.
    pub fn freeze_overlapping(&self, window: &Window) -> Option<(&Freeze, Window)> {
        self.freezes.iter().find_map(|freeze| {
            freeze
                .window(self.time_zone)
                .filter(|frozen| frozen.overlaps(window))
                .map(|w| (freeze, w))
        })
    }

    /// Checks the section found at `path`; the first problem, with where it is.
    pub fn check(&self, path: &KeyPath) -> Result<(), (KeyPath, String)> {
        for (name, board) in [("cab", &self.cab), ("ecab", &self.ecab)] {
            board.check(&path.key(name))?;
        }
        let mut names = BTreeSet::new();
        for (n, freeze) in self.freezes.iter().enumerate() {
            let at = path.key("freeze").index(n);
            if freeze.name.trim().is_empty() {
                return Err((at.key("name"), "a freeze window needs a name".into()));
            }
            if !names.insert(freeze.name.as_str()) {
                return Err((
                    at.key("name"),
                    format!("freeze `{}` is declared twice", freeze.name),
                ));
            }
            let zone = freeze.time_zone.unwrap_or(self.time_zone);
            for (key, moment, bound) in
                [("start", freeze.start, Bound::Start), ("end", freeze.end, Bound::End)]
            {
                if moment.resolve(zone, bound).is_none() {
                    return Err((
                        at.key(key),
                        format!("{moment} does not exist in {zone} (the clocks go forward then)"),
                    ));
                }
            }
            if freeze.window(zone).is_none() {
                return Err((
                    at.key("end"),
                    format!("the freeze ends ({}) before it starts ({})", freeze.end, freeze.start),
                ));
            }
        }
        let mut ids = BTreeSet::new();
        for (n, template) in self.templates.iter().enumerate() {
            let at = path.key("template").index(n);
            if !ids.insert(&template.id) {
                return Err((
                    at.key("id"),
                    format!("template `{}` is declared twice", template.id),
                ));
            }
            if template.name.trim().is_empty() {
                return Err((at.key("name"), "a template needs a name".into()));
            }
            if template.risk > Risk::Medium {
                return Err((
                    at.key("risk"),
                    format!("a standard change must be low or medium risk, not {}", template.risk),
                ));
            }
            if template.steps.iter().all(|step| step.trim().is_empty()) {
                return Err((at.key("steps"), "a template needs at least one step".into()));
            }
        }
        Ok(())
    }
}

impl Board {
    fn check(&self, path: &KeyPath) -> Result<(), (KeyPath, String)> {
        let mut seen = BTreeSet::new();
        for (n, member) in self.members.iter().enumerate() {
            if !seen.insert(member) {
                return Err((path.key("members").index(n), format!("`{member}` is listed twice")));
            }
        }
        if self.quorum == 0 {
            return Err((path.key("quorum"), "the quorum must be at least 1".into()));
        }
        if !self.members.is_empty() && usize::from(self.quorum) > self.members.len() {
            return Err((
                path.key("quorum"),
                format!(
                    "a quorum of {} cannot be reached by {} members",
                    self.quorum,
                    self.members.len()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, DeskConfig};

    fn error(text: &str) -> ConfigError {
        DeskConfig::from_toml("desk.toml", text).unwrap_err()
    }

    fn utc(text: &str) -> crate::record::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_example_freezes_resolve_in_london_time() {
        let policy = DeskConfig::example().change;
        let window = |name: &str| {
            let freeze = policy.freezes.iter().find(|f| f.name == name).unwrap();
            freeze.window(policy.time_zone).unwrap()
        };
        let christmas = window("Christmas change freeze");
        assert_eq!(
            (christmas.start(), christmas.end()),
            (utc("2026-12-18T17:30:00Z"), utc("2027-01-04T07:45:00Z"))
        );
        let election = window("Election count freeze");
        assert_eq!(
            (election.start(), election.end()),
            (utc("2027-05-05T17:00:00Z"), utc("2027-05-07T23:00:00Z"))
        );
        assert!(
            policy.template(&ChangeTemplateId::new("printer-driver-update").unwrap()).is_some()
        );
        assert_eq!(policy.cab.quorum, 3);
    }

    #[test]
    fn instants_with_an_offset_ignore_the_zone() {
        let text = "[[change.freeze]]\nname = \"Count\"\nstart = 2027-05-06T21:00:00Z\nend = \"2027-05-07T06:00:00+01:00\"\n";
        let config = DeskConfig::from_toml("desk.toml", text).unwrap();
        let window = config.change.freezes[0].window(config.change.time_zone).unwrap();
        assert_eq!(
            (window.start(), window.end()),
            (utc("2027-05-06T21:00:00Z"), utc("2027-05-07T05:00:00Z"))
        );
    }

    #[test]
    fn quoted_dates_and_a_freeze_of_its_own_zone_are_accepted() {
        let text = "[[change.freeze]]\nname = \"Count\"\nstart = \"2027-05-06 22:00\"\nend = \"2027-05-07\"\ntime_zone = \"UTC\"\n";
        let config = DeskConfig::from_toml("desk.toml", text).unwrap();
        let window = config.change.freezes[0].window(config.change.time_zone).unwrap();
        assert_eq!(window.start(), utc("2027-05-06T22:00:00Z"));
        assert_eq!(window.end(), utc("2027-05-08T00:00:00Z"));
    }

    #[test]
    fn an_unreachable_quorum_names_the_board() {
        let err = error("[change.cab]\nmembers = [\"a\", \"b\"]\nquorum = 3\n");
        assert_eq!((err.line, err.key.as_str()), (3, "change.cab.quorum"), "{err}");
        assert!(err.message.contains("cannot be reached by 2 members"), "{err}");
        let err = error("[change.ecab]\nquorum = 0\n");
        assert_eq!(err.key, "change.ecab.quorum", "{err}");
        let err = error("[change.cab]\nmembers = [\"a\", \"a\"]\nquorum = 1\n");
        assert_eq!(err.key, "change.cab.members[1]", "{err}");
    }

    #[test]
    fn a_freeze_that_ends_before_it_starts_names_its_end() {
        let text =
            "[[change.freeze]]\nname = \"Backwards\"\nstart = 2027-01-04\nend = 2026-12-18\n";
        let err = error(text);
        assert_eq!((err.line, err.key.as_str()), (4, "change.freeze[0].end"), "{err}");
        assert!(err.message.contains("before it starts"), "{err}");
    }

    #[test]
    fn a_freeze_starting_in_the_spring_forward_gap_is_refused() {
        let err = error(
            "[[change.freeze]]\nname = \"Gap\"\nstart = 2027-03-28T01:30:00\nend = 2027-03-29\n",
        );
        assert_eq!(err.key, "change.freeze[0].start", "{err}");
        assert!(err.message.contains("does not exist in Europe/London"), "{err}");
    }

    #[test]
    fn a_malformed_freeze_date_names_the_key() {
        let err =
            error("[[change.freeze]]\nname = \"Bad\"\nstart = \"18/12/2026\"\nend = 2027-01-04\n");
        assert_eq!((err.line, err.key.as_str()), (3, "change.freeze[0].start"), "{err}");
        assert!(err.message.contains("not a date or time"), "{err}");
        let err = error(
            "[[change.freeze]]\nname = \"A\"\nstart = 2027-01-01\nend = 2027-01-02\n[[change.freeze]]\nname = \"A\"\nstart = 2027-02-01\nend = 2027-02-02\n",
        );
        assert_eq!(err.key, "change.freeze[1].name", "{err}");
    }

    #[test]
    fn templates_must_be_low_or_medium_risk_with_steps_and_known_classes() {
        let template =
            |extra: &str| format!("[[change.template]]\nid = \"t\"\nname = \"T\"\n{extra}");
        let err = error(&template("risk = \"high\"\nsteps = [\"x\"]\n"));
        assert_eq!((err.line, err.key.as_str()), (4, "change.template[0].risk"), "{err}");
        let err = error(&template("risk = \"low\"\nsteps = []\n"));
        assert_eq!(err.key, "change.template[0].steps", "{err}");
        let err = error(&template("risk = \"low\"\nsteps = [\"x\"]\nclasses = [\"toaster\"]\n"));
        assert_eq!(err.key, "change.template[0].classes[0]", "{err}");
        let twice = template("risk = \"low\"\nsteps = [\"x\"]\n");
        let err = error(&format!("{twice}{twice}"));
        assert_eq!(err.key, "change.template[1].id", "{err}");
    }

    #[test]
    fn a_bad_risk_matrix_names_the_risk_table() {
        let err = error(
            "[change.risk]\nimpact = [\"a\", \"b\"]\nlikelihood = [\"x\"]\nmatrix = [[\"low\"], [\"high\"]]\n",
        );
        assert_eq!(err.key, "change.risk", "{err}");
        assert!(err.message.contains("not monotonic"), "{err}");
    }

    #[test]
    fn the_change_section_round_trips_through_json() {
        let policy = DeskConfig::example().change;
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["freeze"][1]["end"], "2027-05-07");
        assert_eq!(serde_json::from_value::<Policy>(json).unwrap(), policy);
    }
}
