//! Assets and CIs through the desk: ordering or registering with reference allocation,
//! relationships checked against the assets they name, the CMDB graph built from the register.

use desk_core::DeskConfig;
use desk_core::asset::{self, Asset, Attributes, Cmdb, Command, Deployment, Event, Link, Status};
use desk_core::id::{AssetRef, PersonId, RecordKind};
use desk_core::record::{Actor, Recorded};
use serde::{Deserialize, Serialize};

use super::{Projection, RecordType, json_name, last_time};
use crate::desk::{Desk, Outcome, Versioned};
use crate::error::Error;
use crate::outbox::Notice;
use crate::store::{Filter, Order, Query, RowKind};

/// A new asset for [`Desk::add_asset`]: one just ordered, or one already in use (a register
/// import) in its current status.
///
/// JSON shape: `{"name": "EBC-LT-0412", "attributes": {"class": "laptop", …}, "status":
/// "deployed", "deployment": {"to": "k.lee", "location": "Civic Centre"}, "links": []}`;
/// `status` `null` (or omitted) means ordered; `deployment` and `links` may be omitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddAsset {
    /// Its name.
    pub name: String,
    /// Its class and attributes.
    pub attributes: Attributes,
    /// Its current status; `None` for an asset just ordered.
    #[serde(default)]
    pub status: Option<Status>,
    /// Who has it and where (for a registered asset).
    #[serde(default)]
    pub deployment: Option<Deployment>,
    /// Its outgoing relationships (for a registered asset); each target must exist.
    #[serde(default)]
    pub links: Vec<Link>,
}

/// Register pages read at once when building the CMDB.
const PAGE: u32 = 1_000;

impl Desk {
    /// Adds an asset: ordered (`status` `None`) or registered in its current status.
    pub async fn add_asset(&self, actor: &Actor, new: AddAsset) -> Result<Outcome<Asset>, Error> {
        for link in &new.links {
            self.row(&link.target.into()).await?;
        }
        let AddAsset { name, attributes, status, deployment, links } = new;
        self.create(actor, RecordKind::Asset, |reference: AssetRef| {
            let (name, attributes) = (name.clone(), attributes.clone());
            match status {
                None => Command::Order { reference, name, attributes },
                Some(status) => Command::Register {
                    reference,
                    name,
                    attributes,
                    status,
                    deployment: deployment.clone(),
                    links: links.clone(),
                },
            }
        })
        .await
    }

    /// The asset called `reference`, with its version.
    pub async fn asset(&self, reference: AssetRef) -> Result<Versioned<Asset>, Error> {
        self.read(&reference.into()).await
    }

    /// Runs `command` on an asset; a relationship's target must exist.
    pub async fn execute_asset(
        &self,
        actor: &Actor,
        reference: AssetRef,
        command: Command,
        expected: Option<u64>,
    ) -> Result<Outcome<Asset>, Error> {
        if let Command::RelateTo { link } = &command {
            self.row(&link.target.into()).await?;
        }
        self.perform(actor, &reference.into(), command, expected).await
    }

    /// Every asset in the register, read from the rows (no replay).
    pub async fn assets(&self) -> Result<Vec<Asset>, Error> {
        let filter = Filter { kind: Some(RowKind::Asset), ..Filter::default() };
        let mut query = Query { filter, order: Order::Newest, limit: PAGE, after: None };
        let mut assets = Vec::new();
        loop {
            let page = self.query(&query).await?;
            for row in page.rows {
                let asset = serde_json::from_value(row.state)
                    .map_err(|e| Error::corrupt(&row.id, format!("row state: {e}")))?;
                assets.push(asset);
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(assets),
            }
        }
    }

    /// The CMDB graph of the whole register: impact analysis and relation paths.
    pub async fn cmdb(&self) -> Result<Cmdb, Error> {
        Ok(Cmdb::new(&self.assets().await?))
    }
}

impl RecordType for Asset {
    const KIND: RowKind = RowKind::Asset;

    fn refusal(error: asset::Error) -> Error {
        Error::Asset(error)
    }

    fn project(&self, history: &[Recorded<Event>], _config: &DeskConfig) -> Projection {
        let deployment = self.deployment();
        let body = deployment.map(|d| d.location.clone()).unwrap_or_default();
        Projection {
            status: json_name(&self.status()),
            open: !matches!(self.status(), Status::Disposed),
            title: self.name().to_owned(),
            body: format!("{} {body}", self.class()).trim().to_owned(),
            requester: deployment.and_then(|d| d.to.clone()),
            cis: vec![self.reference()],
            closed_at: (self.status() == Status::Disposed)
                .then(|| last_time(history, |e| matches!(e, Event::Disposed { .. })))
                .flatten(),
            ..Projection::default()
        }
    }

    fn mentions(event: &Event) -> Vec<PersonId> {
        match event {
            Event::Deployed { deployment }
            | Event::Registered { deployment: Some(deployment), .. } => {
                deployment.to.iter().cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    fn notices(&self, _new: &[Recorded<Event>], _config: &DeskConfig) -> Vec<Notice> {
        Vec::new()
    }
}
