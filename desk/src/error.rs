//! What can go wrong when the desk is asked to do something.

use desk_core::config::ApprovalRole;
use desk_core::id::{PersonId, RecordId, RequestRef};
use desk_core::record::ReplayError;
use desk_core::{asset, change, complaint, incident, knowledge, people, problem, request};

use crate::routing::RoutingError;
use crate::store::StoreError;

/// Why a desk operation failed.
///
/// A record's refusal keeps its own typed error (match on [`Error::Incident`] and friends to
/// tell a caller exactly which rule said no). [`Error::Conflict`] means someone else changed the
/// record since it was read: read it again and decide again (an HTTP server maps it to
/// `412 Precondition Failed` or `409 Conflict`). The desk never retries a conflict on the caller's
/// behalf, except inside the timer scheduler, whose commands are idempotent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An incident refused the command.
    #[error(transparent)]
    Incident(#[from] incident::Error),
    /// A service request refused the command.
    #[error(transparent)]
    ServiceRequest(#[from] request::Error),
    /// A complaint refused the command.
    #[error(transparent)]
    Complaint(#[from] complaint::Error),
    /// A problem refused the command.
    #[error(transparent)]
    Problem(#[from] problem::Error),
    /// A knowledge article refused the command.
    #[error(transparent)]
    Article(#[from] knowledge::Error),
    /// A change refused the command.
    #[error(transparent)]
    Change(#[from] change::Error),
    /// An asset refused the command.
    #[error(transparent)]
    Asset(#[from] asset::Error),
    /// A requester record refused the command.
    #[error(transparent)]
    Requester(#[from] people::requester::Error),
    /// An agent record refused the command.
    #[error(transparent)]
    Agent(#[from] people::agent::Error),
    /// The record does not exist.
    #[error("{0} does not exist")]
    NotFound(RecordId),
    /// The record changed since the caller read it; nothing was written.
    #[error("{record} changed since it was read: expected version {expected}, found {actual}")]
    Conflict {
        /// The record.
        record: RecordId,
        /// The version the caller expected.
        expected: u64,
        /// The version it has.
        actual: u64,
    },
    /// An approval was recorded for someone who does not hold the role.
    #[error("{reference}: the {role} approval must come from {expected}, not {approver}")]
    NotApprover {
        /// The request.
        reference: RequestRef,
        /// The role being approved.
        role: ApprovalRole,
        /// Who the desk knows holds it.
        expected: PersonId,
        /// Who was named.
        approver: PersonId,
    },
    /// The storage failed.
    #[error("storage: {0}")]
    Store(#[source] StoreError),
    /// The router failed.
    #[error("routing: {0}")]
    Routing(#[from] RoutingError),
    /// The SLA engine could not evaluate a record.
    #[error("sla: {0}")]
    Sla(#[from] desk_core::sla::SlaError),
    /// The request makes no sense (wrong kind of reference, bad input to a desk operation).
    #[error("{0}")]
    Invalid(String),
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { record, expected, actual } => {
                Error::Conflict { record, expected, actual }
            }
            StoreError::NotFound(record) => Error::NotFound(record),
            other => Error::Store(other),
        }
    }
}

impl Error {
    /// A stored history that does not replay: the data is corrupt.
    pub(crate) fn corrupt(record: &RecordId, reason: impl std::fmt::Display) -> Error {
        Error::Store(StoreError::Corrupt(format!("{record}: {reason}")))
    }

    /// Whether this is a [`Error::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }
}

impl From<ReplayError> for Error {
    fn from(error: ReplayError) -> Self {
        Error::Store(StoreError::Corrupt(error.to_string()))
    }
}
