//! Typed queries over the records' rows: work queues, SLA reports, a person's tickets, a CI's
//! tickets and text search, each a page at a time.
//!
//! Every query returns a [`Page`] of [`RecordRow`](crate::store::RecordRow)s and, when there
//! may be more, a cursor for the next page (keyset pagination: rows added meanwhile neither
//! repeat nor shift a page).
//!
//! ```no_run
//! # async fn example(desk: desk::Desk) -> Result<(), desk::Error> {
//! use desk::queries::{PageRequest, Queue};
//!
//! let networks = Queue { team: Some("networks".parse().unwrap()), ..Queue::default() };
//! let mut page = desk.queue(&networks, PageRequest::first(25)).await?;
//! loop {
//!     for row in &page.rows {
//!         println!("{} {:?} {}", row.id, row.priority, row.title);
//!     }
//!     let Some(next) = page.next.clone() else { break };
//!     page = desk.queue(&networks, PageRequest::after(25, next)).await?;
//! }
//! # Ok(()) }
//! ```

use chrono::TimeDelta;
use desk_core::id::{AssetRef, PersonId, TeamId};
use desk_core::tier::Tier;
use serde::{Deserialize, Serialize};

use crate::Desk;
use crate::error::Error;
use crate::store::{Cursor, Filter, Order, Page, Query, RowKind};

/// Which page of a query to read.
///
/// JSON shape: `{"limit": 50, "after": null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// At most this many rows (the store caps it at 1,000).
    pub limit: u32,
    /// Continue after this cursor, from a previous page's `next`.
    #[serde(default)]
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        PageRequest { limit, after: None }
    }

    /// The page of `limit` rows after `cursor`.
    pub fn after(limit: u32, cursor: Cursor) -> Self {
        PageRequest { limit, after: Some(cursor) }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::first(50)
    }
}

/// A work queue: open records of one kind, narrowed by team, tier, agent and status, in
/// priority order, then soonest SLA due.
///
/// JSON shape: `{"kind": "incident", "team": "networks", "tier": null, "agent": null,
/// "statuses": []}`; every field may be omitted (the default is every open incident).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Queue {
    /// The kind of record.
    pub kind: RowKind,
    /// Only this team's.
    pub team: Option<TeamId>,
    /// Only this tier's.
    pub tier: Option<Tier>,
    /// Only this agent's.
    pub agent: Option<PersonId>,
    /// Only these statuses (JSON names, e.g. `"on_hold"`); empty means every open status.
    pub statuses: Vec<String>,
}

impl Default for Queue {
    fn default() -> Self {
        Queue { kind: RowKind::Incident, team: None, tier: None, agent: None, statuses: Vec::new() }
    }
}

impl Desk {
    /// Any query over the rows.
    pub async fn query(&self, query: &Query) -> Result<Page, Error> {
        Ok(self.store().query(query).await?)
    }

    /// A work queue, most urgent first.
    pub async fn queue(&self, queue: &Queue, page: PageRequest) -> Result<Page, Error> {
        let filter = Filter {
            kind: Some(queue.kind),
            open: queue.statuses.is_empty().then_some(true),
            statuses: queue.statuses.clone(),
            team: queue.team.clone(),
            tier: queue.tier,
            agent: queue.agent.clone(),
            ..Filter::default()
        };
        self.page(filter, Order::Queue, page).await
    }

    /// Open incidents at risk: a warning passed, or due within `within` of now; soonest due first.
    pub async fn at_risk(&self, within: TimeDelta, page: PageRequest) -> Result<Page, Error> {
        let filter = Filter {
            kind: Some(RowKind::Incident),
            at_risk_before: Some(self.now() + within),
            ..Filter::default()
        };
        self.page(filter, Order::Due, page).await
    }

    /// Open incidents past their SLA: the desk manager's standing report, in queue order.
    pub async fn past_sla(&self, page: PageRequest) -> Result<Page, Error> {
        let filter =
            Filter { kind: Some(RowKind::Incident), breached: Some(true), ..Filter::default() };
        self.page(filter, Order::Queue, page).await
    }

    /// Every ticket `person` is the requester (or complainant) of, newest first: what a
    /// requester sees in the portal.
    pub async fn by_requester(&self, person: &PersonId, page: PageRequest) -> Result<Page, Error> {
        let filter = Filter { requester: Some(person.clone()), ..Filter::default() };
        self.page(filter, Order::Newest, page).await
    }

    /// Every record naming configuration item `ci`, newest first: impact analysis and history.
    pub async fn by_ci(&self, ci: AssetRef, page: PageRequest) -> Result<Page, Error> {
        let filter = Filter { ci: Some(ci), ..Filter::default() };
        self.page(filter, Order::Newest, page).await
    }

    /// Records whose title or body contains every word of `text` (case-insensitive), of one
    /// kind or of all, most recently updated first.
    pub async fn search(
        &self,
        text: &str,
        kind: Option<RowKind>,
        page: PageRequest,
    ) -> Result<Page, Error> {
        let filter = Filter { kind, text: Some(text.to_owned()), ..Filter::default() };
        self.page(filter, Order::Updated, page).await
    }

    async fn page(&self, filter: Filter, order: Order, page: PageRequest) -> Result<Page, Error> {
        self.query(&Query { filter, order, limit: page.limit, after: page.after }).await
    }
}
