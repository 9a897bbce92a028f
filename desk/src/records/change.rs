//! Changes through the desk: raising with reference allocation and the CIs' classes taken from
//! the register, and collision detection against the forward schedule.

use desk_core::DeskConfig;
use desk_core::change::{
    self, Booking, Change, Collision, Command, Event, Kind, Status, Target, Window,
};
use desk_core::id::{AssetRef, ChangeRef, PersonId, RecordKind};
use desk_core::record::{Actor, Recorded};
use serde::{Deserialize, Serialize};

use super::{Projection, RecordType, json_name, last_time};
use crate::desk::{Desk, Outcome, Versioned};
use crate::error::Error;
use crate::outbox::Notice;
use crate::store::{Filter, Order, Query, RowKind};

/// A new change for [`Desk::raise_change`]; the desk takes each CI's class from the register.
///
/// JSON shape: `{"title": "…", "description": "…", "kind": "normal", "cis": ["AST-000012"]}`
/// (`description` and `cis` may be omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaiseChange {
    /// A one-line summary.
    pub title: String,
    /// What it does and why.
    #[serde(default)]
    pub description: String,
    /// Standard (with its template), normal or emergency.
    pub kind: Kind,
    /// The CIs it touches; each must be in the register.
    #[serde(default)]
    pub cis: Vec<AssetRef>,
}

/// Change rows read at once when looking for collisions.
const PAGE: u32 = 1_000;

impl Desk {
    /// Raises a change as a draft.
    pub async fn raise_change(
        &self,
        actor: &Actor,
        new: RaiseChange,
    ) -> Result<Outcome<Change>, Error> {
        let mut cis = Vec::with_capacity(new.cis.len());
        for ci in new.cis {
            let class = self.asset(ci).await?.record.class();
            cis.push(Target { ci, class });
        }
        self.create(actor, RecordKind::Change, |reference: ChangeRef| Command::Raise {
            reference,
            title: new.title.clone(),
            description: new.description.clone(),
            kind: new.kind.clone(),
            cis: cis.clone(),
        })
        .await
    }

    /// The change called `reference`, with its version.
    pub async fn change(&self, reference: ChangeRef) -> Result<Versioned<Change>, Error> {
        self.read(&reference.into()).await
    }

    /// Runs `command` on a change; the CIs it names must be in the register with the class given.
    pub async fn execute_change(
        &self,
        actor: &Actor,
        reference: ChangeRef,
        command: Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Change>, Error> {
        if let Command::SetCis { cis } = &command {
            for target in cis {
                let class = self.asset(target.ci).await?.record.class();
                if class != target.class {
                    return Err(Error::Invalid(format!(
                        "{} is a {class} in the register, not a {}",
                        target.ci, target.class
                    )));
                }
            }
        }
        self.perform(actor, &reference.into(), command, expected).await
    }

    /// The scheduled changes that would collide with `reference` in `window`: the same CI, or
    /// CIs related through the CMDB (see [`desk_core::change::collision`]). Ask before
    /// scheduling; the answer is advice for the CAB, not a refusal.
    pub async fn change_collisions(
        &self,
        reference: ChangeRef,
        window: Window,
    ) -> Result<Vec<Collision>, Error> {
        let change = self.change(reference).await?.record;
        let proposed = Booking {
            change: reference,
            window,
            cis: change.cis().iter().map(|target| target.ci).collect(),
        };
        let filter = Filter {
            kind: Some(RowKind::Change),
            statuses: vec![json_name(&Status::Scheduled), json_name(&Status::Implementing)],
            ..Filter::default()
        };
        let mut query = Query { filter, order: Order::Newest, limit: PAGE, after: None };
        let mut scheduled = Vec::new();
        loop {
            let page = self.query(&query).await?;
            for row in page.rows {
                let other: Change = serde_json::from_value(row.state)
                    .map_err(|e| Error::corrupt(&row.id, format!("row state: {e}")))?;
                scheduled.extend(other.booking());
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        let cmdb = self.cmdb().await?;
        Ok(change::collisions(&proposed, &scheduled, &cmdb))
    }
}

impl RecordType for Change {
    const KIND: RowKind = RowKind::Change;

    fn refusal(error: change::Error) -> Error {
        Error::Change(error)
    }

    fn project(&self, history: &[Recorded<Event>], _config: &DeskConfig) -> Projection {
        let finished =
            matches!(self.status(), Status::Closed | Status::Cancelled | Status::Rejected);
        Projection {
            status: json_name(&self.status()),
            open: !finished,
            title: self.title().to_owned(),
            body: self.description().to_owned(),
            cis: self.cis().iter().map(|target| target.ci).collect(),
            closed_at: finished
                .then(|| {
                    last_time(history, |e| {
                        matches!(
                            e,
                            Event::Closed | Event::Cancelled { .. } | Event::Rejected { .. }
                        )
                    })
                })
                .flatten(),
            ..Projection::default()
        }
    }

    fn mentions(event: &Event) -> Vec<PersonId> {
        match event {
            Event::Approved { member }
            | Event::Rejected { member, .. }
            | Event::RetrospectivelyReviewed { member, .. } => vec![member.clone()],
            Event::Authorised { approvals } => approvals.clone(),
            _ => Vec::new(),
        }
    }

    fn notices(&self, _new: &[Recorded<Event>], _config: &DeskConfig) -> Vec<Notice> {
        Vec::new()
    }
}
