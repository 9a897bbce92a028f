//! Timers: recording SLA warnings and breaches when their time comes, exactly once.
//!
//! Every row carries `wake_at`, the next instant the SLA engine says something will pass (a
//! warning threshold, a breach). [`Desk::fire_due_timers`] takes the records due at now, reloads
//! each, asks the engine what has passed and is not yet recorded, and records it through the
//! incident's own SLA commands, then writes the row with its next `wake_at`. Those commands are
//! idempotent and the write is optimistic: when two processes fire the same record at once, one
//! commits and the other gets a conflict, reloads, finds the warning already recorded, and
//! records nothing. That is how a warning is recorded exactly once even with several desk
//! processes on one PostgreSQL database.
//!
//! The [`Scheduler`] runs `fire_due_timers` in a loop, sleeping until the store's next wake-up
//! (at most [`Scheduler::DEFAULT_CAP`], since another process may add an earlier timer), and
//! waking early when this process commits.

use std::collections::BTreeSet;
use std::future::Future;

use chrono::TimeDelta;
use desk_core::Timestamp;
use desk_core::id::RecordId;
use desk_core::incident::Incident;
use desk_core::record::Actor;
use serde::{Deserialize, Serialize};

use crate::Desk;
use crate::desk::Work;
use crate::error::Error;
use crate::records::RecordType;
use crate::store::RowKind;

/// Due records read at once.
const BATCH: u32 = 100;

/// How many times one record is reloaded after a conflict before the round gives up on it
/// (the next round tries again).
const ATTEMPTS: u32 = 5;

/// What one round of timers did.
///
/// JSON shape: `{"records": 3, "events": 4, "conflicts": 1}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerReport {
    /// Due records looked at.
    pub records: u32,
    /// Events recorded (warnings and breaches).
    pub events: u32,
    /// Conflicts met (another process wrote the record first) and retried.
    pub conflicts: u32,
}

impl Desk {
    /// Records every SLA warning and breach due at the clock's current time, exactly once, and
    /// moves each due record's `wake_at` on.
    pub async fn fire_due_timers(&self) -> Result<TimerReport, Error> {
        let now = self.now();
        let mut report = TimerReport::default();
        let mut seen: BTreeSet<RecordId> = BTreeSet::new();
        loop {
            let due = self.store().due(now, BATCH).await?;
            let fresh: Vec<RecordId> =
                due.iter().filter(|id| !seen.contains(*id)).cloned().collect();
            if fresh.is_empty() {
                break;
            }
            for id in fresh {
                seen.insert(id.clone());
                report.records += 1;
                match RowKind::of(&id) {
                    RowKind::Incident => self.fire::<Incident>(&id, now, &mut report).await?,
                    other => {
                        tracing::debug!(record = %id, kind = other.as_str(), "no timers for this kind of record");
                    }
                }
            }
            if due.len() < BATCH as usize {
                break;
            }
        }
        if report.events > 0 {
            tracing::info!(events = report.events, records = report.records, "timers fired");
        }
        Ok(report)
    }

    /// Fires one record's timers, retrying on conflicts.
    async fn fire<A: RecordType>(
        &self,
        id: &RecordId,
        now: Timestamp,
        report: &mut TimerReport,
    ) -> Result<(), Error> {
        for _ in 0..ATTEMPTS {
            let mut work = Work::<A>::new(now);
            let mut loaded = self.load::<A>(id).await?;
            let Some(state) = loaded.state.as_ref() else { return Ok(()) };
            let commands = state.timer_commands(&loaded.history, self.levels(), now)?;
            loaded.refresh = true;
            work.records.push(loaded);
            for command in commands {
                self.run(&mut work, 0, command, &Actor::System)?;
            }
            let events = work.records[0].new_events().len() as u32;
            match self.commit(&mut work).await {
                Ok(()) => {
                    report.events += events;
                    return Ok(());
                }
                Err(error) if error.is_conflict() => {
                    report.conflicts += 1;
                    tracing::debug!(record = %id, "timer conflict; reloading");
                }
                Err(error) => return Err(error),
            }
        }
        tracing::warn!(record = %id, attempts = ATTEMPTS, "timers gave up after repeated conflicts; the next round retries");
        Ok(())
    }
}

/// Runs the desk's timers until shut down.
///
/// ```no_run
/// # async fn example(desk: desk::Desk) {
/// use desk::timers::Scheduler;
///
/// let scheduler = Scheduler::new(&desk);
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let running = tokio::spawn(async move { scheduler.run(async { stopped.await.ok(); }).await });
/// // … on shutdown:
/// stop.send(()).ok();
/// running.await.ok();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Scheduler {
    desk: Desk,
    cap: TimeDelta,
}

impl Scheduler {
    /// The longest the scheduler sleeps without looking at the store: another process may have
    /// added an earlier timer.
    pub const DEFAULT_CAP: TimeDelta = TimeDelta::seconds(60);

    /// A scheduler for `desk`.
    pub fn new(desk: &Desk) -> Self {
        Scheduler { desk: desk.clone(), cap: Scheduler::DEFAULT_CAP }
    }

    /// The same scheduler with another cap on its sleeps.
    pub fn with_cap(self, cap: TimeDelta) -> Self {
        Scheduler { cap, ..self }
    }

    /// Fires due timers, then sleeps until the next wake-up (or the cap, or this process's next
    /// commit), until `shutdown` completes. Failures are logged and retried after the cap.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut commits = self.desk.commits();
        loop {
            commits.mark_unchanged();
            let wake = match self.round().await {
                Ok(wake) => wake,
                Err(error) => {
                    tracing::warn!(%error, "timers failed; trying again later");
                    self.desk.now() + self.cap
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = self.desk.clock().sleep_until(wake) => {}
                _ = commits.changed() => {}
            }
        }
    }

    /// One round: fire what is due; when to look again.
    async fn round(&self) -> Result<Timestamp, Error> {
        let start = self.desk.now();
        self.desk.fire_due_timers().await?;
        let now = self.desk.now();
        let latest = now + self.cap;
        Ok(match self.desk.store().next_wake().await? {
            // Due before the round began and still due: it could not be fired (it will be
            // retried); do not spin on it.
            Some(next) if next <= start => latest,
            // Came due while the round ran: go again at once.
            Some(next) => next.min(latest),
            None => latest,
        })
    }
}
