//! Given/when/then support for the unit tests of record types.

use chrono::{Duration, TimeZone, Utc};

use crate::config::DeskConfig;
use crate::record::{Actor, Aggregate, Context, Timestamp};

/// 09:00 on Monday 2 March 2026, when every scenario starts.
pub(crate) fn monday_morning() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().unwrap_or_default()
}

/// Runs `commands` in order from `given`, one minute apart, as `actor` under `config`.
///
/// Returns the final state and the events of the last command, or the first refusal.
pub(crate) fn when<A: Aggregate>(
    config: &DeskConfig,
    actor: &Actor,
    given: Option<A>,
    commands: impl IntoIterator<Item = A::Command>,
) -> Result<(A, Vec<A::Event>), A::Error>
where
    A::Error: std::fmt::Debug,
{
    let mut state = given;
    let mut last = Vec::new();
    for (n, command) in commands.into_iter().enumerate() {
        let minutes = i64::try_from(n).unwrap_or(i64::MAX);
        let ctx = Context::new(monday_morning() + Duration::minutes(minutes), actor, config);
        let (next, events) = A::execute(state, command, ctx).map_err(|error| match error {
            crate::record::ExecuteError::Refused(refusal) => refusal,
            other => panic!("not a refusal but {other}"),
        })?;
        state = Some(next);
        last = events;
    }
    match state {
        Some(state) => Ok((state, last)),
        None => panic!("no command ran"),
    }
}
