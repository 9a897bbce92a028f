//! The routing port: who should work a new incident.
//!
//! When an incident is opened without an assignment, the desk asks its [`Router`]. A router
//! returns an optional [`Decision`] (a [`desk_core::incident::RoutingDecision`]: team, agent,
//! priority change, tags, a work note, an explanation and a trace). The desk records the decision
//! as a `routed` event on the incident, acted by the rule ([`desk_core::Actor::Rule`]), in the
//! same commit as the incident itself, so "why did this go to Networks?" always has an answer.
//!
//! [`CategoryRouter`] is the native router: a category goes to the team the configuration gives
//! it. WebAssembly rules (a later issue) are another implementation of the same trait.
//!
//! ```
//! use async_trait::async_trait;
//! use desk::routing::{Decision, Router, RoutingContext, RoutingError};
//! use desk_core::incident::Incident;
//!
//! /// Sends everything from the monitoring system to the data centre team.
//! #[derive(Debug)]
//! struct MonitoringRouter;
//!
//! #[async_trait]
//! impl Router for MonitoringRouter {
//!     async fn route(
//!         &self,
//!         incident: &Incident,
//!         _context: &RoutingContext<'_>,
//!     ) -> Result<Option<Decision>, RoutingError> {
//!         if incident.channel != desk_core::channel::Channel::Monitoring {
//!             return Ok(None);
//!         }
//!         Ok(Some(Decision {
//!             rule: "monitoring".into(),
//!             team: Some("data-centre".parse().map_err(|e| RoutingError::new("monitoring", e))?),
//!             explanation: "alerts go to the data centre".into(),
//!             ..Decision::default()
//!         }))
//!     }
//! }
//! ```

use std::fmt;

use async_trait::async_trait;
use desk_core::incident::Incident;
use desk_core::{DeskConfig, Timestamp};

/// A routing decision: the core's [`desk_core::incident::RoutingDecision`].
pub use desk_core::incident::RoutingDecision as Decision;

/// What a router may look at besides the incident.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RoutingContext<'a> {
    /// The time of the decision.
    pub now: Timestamp,
    /// The desk's configuration: teams, tiers, categories.
    pub config: &'a DeskConfig,
}

impl<'a> RoutingContext<'a> {
    /// A context at `now` under `config`.
    pub fn new(now: Timestamp, config: &'a DeskConfig) -> Self {
        RoutingContext { now, config }
    }
}

/// Why a router could not decide (as opposed to deciding nothing, which is `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule} failed: {reason}")]
pub struct RoutingError {
    /// The rule that failed.
    pub rule: String,
    /// What went wrong.
    pub reason: String,
}

impl RoutingError {
    /// A failure of `rule` because of `reason`.
    pub fn new(rule: impl Into<String>, reason: impl fmt::Display) -> Self {
        RoutingError { rule: rule.into(), reason: reason.to_string() }
    }
}

/// Decides who should work an incident.
#[async_trait]
pub trait Router: Send + Sync + fmt::Debug {
    /// The decision for `incident` (as just logged), or `None` to leave it unassigned.
    async fn route(
        &self,
        incident: &Incident,
        context: &RoutingContext<'_>,
    ) -> Result<Option<Decision>, RoutingError>;
}

/// The native router: an incident goes to the team its category names in the configuration.
///
/// An incident without a category, or whose category has no team, is left alone (no decision).
#[derive(Debug, Clone, Copy, Default)]
pub struct CategoryRouter;

impl CategoryRouter {
    /// The name its decisions are recorded under.
    pub const RULE: &'static str = "category-team";
}

#[async_trait]
impl Router for CategoryRouter {
    async fn route(
        &self,
        incident: &Incident,
        context: &RoutingContext<'_>,
    ) -> Result<Option<Decision>, RoutingError> {
        let Some(category_id) = &incident.category else { return Ok(None) };
        let Some(category) = context.config.category(category_id) else { return Ok(None) };
        let Some(team) = &category.team else { return Ok(None) };
        let team_name = context.config.team(team).map_or(team.as_str(), |t| t.name.as_str());
        Ok(Some(Decision {
            rule: CategoryRouter::RULE.to_owned(),
            team: Some(team.clone()),
            explanation: format!("{} ({category_id}) is handled by {team_name}", category.name),
            trace: vec![
                format!("incident category is {category_id}"),
                format!("the configuration gives {category_id} to team {team}"),
            ],
            ..Decision::default()
        }))
    }
}

/// A router that never decides: incidents stay unassigned until an agent assigns them.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRouter;

#[async_trait]
impl Router for NoRouter {
    async fn route(
        &self,
        _incident: &Incident,
        _context: &RoutingContext<'_>,
    ) -> Result<Option<Decision>, RoutingError> {
        Ok(None)
    }
}
