//! Service-catalogue items: what can be requested, who approves it and which tasks fulfil it.
//!
//! ```toml
//! [[catalogue]]
//! id = "new-starter"
//! name = "New starter"
//! approvals = ["line_manager", "budget_holder"]   # in order; empty means pre-approved
//!
//! [[catalogue.task]]
//! id = "account"
//! name = "Create network account"
//! team = "identity"
//!
//! [[catalogue.task]]
//! id = "laptop"
//! name = "Build and deliver laptop"
//! team = "desk-side"
//! after = ["account"]                             # tasks this one waits for
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::KeyPath;
use crate::id::{CatalogueItemId, StepId, TeamId};

/// Who must approve a request, in catalogue order.
///
/// JSON and TOML shape: `"line_manager"`, `"budget_holder"`, `"information_asset_owner"`,
/// `"service_owner"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRole {
    /// The requester's (or new starter's) line manager.
    LineManager,
    /// The holder of the budget that pays for it.
    BudgetHolder,
    /// The owner of the data or system access is asked for (file shares, case systems).
    InformationAssetOwner,
    /// The owner of the service being requested.
    ServiceOwner,
}

impl ApprovalRole {
    /// Every role.
    pub const ALL: [ApprovalRole; 4] = [
        ApprovalRole::LineManager,
        ApprovalRole::BudgetHolder,
        ApprovalRole::InformationAssetOwner,
        ApprovalRole::ServiceOwner,
    ];
}

impl fmt::Display for ApprovalRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApprovalRole::LineManager => "line manager",
            ApprovalRole::BudgetHolder => "budget holder",
            ApprovalRole::InformationAssetOwner => "information asset owner",
            ApprovalRole::ServiceOwner => "service owner",
        })
    }
}

/// One orderable thing in the catalogue (`[[catalogue]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueItem {
    /// Its identifier.
    pub id: CatalogueItemId,
    /// Its name, shown to requesters.
    pub name: String,
    /// What it is, shown to requesters.
    #[serde(default)]
    pub description: String,
    /// Approvals needed before fulfilment, in the order they are sought.
    #[serde(default)]
    pub approvals: Vec<ApprovalRole>,
    /// The fulfilment tasks (`[[catalogue.task]]`); at least one.
    #[serde(rename = "task")]
    pub tasks: Vec<TaskTemplate>,
}

/// A fulfilment task of a catalogue item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskTemplate {
    /// Its identifier, unique within the item.
    pub id: StepId,
    /// What is to be done.
    pub name: String,
    /// The team that does it.
    pub team: TeamId,
    /// Tasks of the same item that must be done first (declared earlier in the file).
    #[serde(default)]
    pub after: Vec<StepId>,
}

impl CatalogueItem {
    /// The task template called `id`.
    pub fn task(&self, id: &StepId) -> Option<&TaskTemplate> {
        self.tasks.iter().find(|task| &task.id == id)
    }

    /// Checks the item at `path`; `known_team` checks a team reference.
    pub(super) fn check(
        &self,
        path: &KeyPath,
        known_team: impl Fn(&KeyPath, &TeamId) -> Result<(), (KeyPath, String)>,
    ) -> Result<(), (KeyPath, String)> {
        if self.name.trim().is_empty() {
            return Err((path.key("name"), "a catalogue item needs a name".into()));
        }
        if self.tasks.is_empty() {
            return Err((
                path.clone(),
                format!("catalogue item `{}` has no [[catalogue.task]]", self.id),
            ));
        }
        let mut seen_roles = BTreeSet::new();
        for (n, role) in self.approvals.iter().enumerate() {
            if !seen_roles.insert(role) {
                return Err((path.key("approvals").index(n), "an approval is listed twice".into()));
            }
        }
        let mut earlier = BTreeSet::new();
        for (n, task) in self.tasks.iter().enumerate() {
            let task_path = path.key("task").index(n);
            if earlier.contains(&task.id) {
                return Err((task_path.key("id"), format!("task `{}` is declared twice", task.id)));
            }
            known_team(&task_path.key("team"), &task.team)?;
            for (m, before) in task.after.iter().enumerate() {
                if !earlier.contains(before) {
                    return Err((
                        task_path.key("after").index(m),
                        format!(
                            "task `{}` waits for `{before}`, which is not a task declared before it",
                            task.id
                        ),
                    ));
                }
            }
            earlier.insert(task.id.clone());
        }
        Ok(())
    }
}
