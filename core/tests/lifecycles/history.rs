//! A record under test: its state and stored history, with the checks every command must pass
//! (the command survives JSON; the events it causes survive JSON inside their storage envelope;
//! replaying the stored history rebuilds the same state, which itself survives JSON).

use std::fmt::Debug;
use std::sync::LazyLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use desk_core::record::{Aggregate, Context, Recorded};
use desk_core::{Actor, DeskConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

static EXAMPLE: LazyLock<DeskConfig> = LazyLock::new(DeskConfig::example);

/// The example council's configuration, parsed once.
pub(crate) fn example() -> &'static DeskConfig {
    &EXAMPLE
}

/// A reference model's state: what it knows of the record (`K`), and whether it predicts that
/// the last step was accepted.
#[derive(Debug, Clone)]
pub(crate) struct Model<K> {
    /// What the model knows; `None` before the record exists.
    pub(crate) record: Option<K>,
    /// Whether the last step should have been accepted.
    pub(crate) accepted: bool,
}

impl<K> Default for Model<K> {
    fn default() -> Self {
        Model { record: None, accepted: false }
    }
}

impl<K> Model<K> {
    /// The model after a step the model predicts leads to `next` (`None`: refused, no change).
    pub(crate) fn then(self, next: Option<K>) -> Self {
        let accepted = next.is_some();
        Model { record: next.or(self.record), accepted }
    }
}

/// A record's state and history as a store would hold them.
#[derive(Debug)]
pub(crate) struct History<A: Aggregate> {
    /// The state after the last accepted command.
    pub(crate) state: Option<A>,
    /// Every event so far, in order, as stored.
    pub(crate) events: Vec<Recorded<A::Event>>,
    now: DateTime<Utc>,
}

impl<A> History<A>
where
    A: Aggregate + PartialEq + Debug + Serialize + DeserializeOwned,
    A::Command: PartialEq + Debug + Serialize + DeserializeOwned,
    A::Error: Debug,
{
    /// A record that does not exist yet.
    pub(crate) fn new() -> Self {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        History { state: None, events: Vec::new(), now }
    }

    /// Decides `command` (after sending it through JSON) as `actor` under `config` a few minutes
    /// after the previous one; on success applies and stores the events and checks the history
    /// still replays.
    pub(crate) fn run(
        &mut self,
        command: A::Command,
        actor: &Actor,
        config: &DeskConfig,
    ) -> Result<Vec<A::Event>, A::Error> {
        let json = serde_json::to_string(&command).unwrap();
        let received: A::Command = serde_json::from_str(&json).unwrap();
        assert_eq!(received, command, "the command survives JSON: {json}");
        self.now += Duration::minutes(7);
        let ctx = Context::new(self.now, actor, config);
        let events = A::decide(self.state.as_ref(), received, ctx)?;
        for event in &events {
            let next = A::apply(self.state.take(), self.now, event).expect("decided events apply");
            self.events.push(Recorded {
                record: next.id(),
                seq: self.events.len() as u64 + 1,
                at: self.now,
                actor: actor.clone(),
                event: event.clone(),
            });
            self.state = Some(next);
        }
        self.check_storage();
        Ok(events)
    }

    /// Runs `step`'s `command` and checks it against the `model` (already moved past the step):
    /// accepted exactly when predicted, and afterwards `observe` sees what the model knows.
    pub(crate) fn check_step<K: PartialEq + Debug>(
        mut self,
        step: &impl Debug,
        (command, actor): (A::Command, Actor),
        config: &DeskConfig,
        model: &Model<K>,
        observe: impl Fn(&A) -> K,
    ) -> Self {
        let outcome = self.run(command, &actor, config);
        assert_eq!(outcome.is_ok(), model.accepted, "{step:?} gave {outcome:?}");
        assert_eq!(self.state.as_ref().map(observe), model.record, "after {step:?}");
        self
    }

    /// The names of the stored events, in order.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        use desk_core::record::EventInfo;
        self.events.iter().map(|recorded| recorded.event.name()).collect()
    }

    fn check_storage(&self) {
        let json = serde_json::to_string(&self.events).unwrap();
        let stored: Vec<Recorded<A::Event>> = serde_json::from_str(&json).unwrap();
        assert_eq!(stored, self.events, "events survive JSON");
        let replayed = A::replay(stored.iter().map(|r| (r.at, &r.event))).unwrap();
        assert_eq!(replayed, self.state, "replaying the stored history rebuilds the record");
        if let Some(state) = &self.state {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(
                &serde_json::from_str::<A>(&json).unwrap(),
                state,
                "the record survives JSON"
            );
            assert!(self.events.iter().all(|r| r.record == state.id()));
        }
    }
}
