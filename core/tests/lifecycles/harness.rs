//! What every lifecycle test shares: the model's record and last expected outcome, the subject
//! (the real aggregate with its recorded history), and the checks every record must pass.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::LazyLock;

use chrono::{Duration, TimeZone, Utc};
use desk_core::config::DeskConfig;
use desk_core::links::LinkError;
use desk_core::record::{Actor, Aggregate, CommandName, Context, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The sample council's configuration, parsed once.
pub(crate) static CONFIG: LazyLock<DeskConfig> = LazyLock::new(DeskConfig::example);

/// A reference model: the record once created (`R`), and what the last command should have done:
/// accepted, or refused for reason `F`.
#[derive(Debug, Clone)]
pub(crate) struct Model<R, F> {
    pub(crate) record: Option<R>,
    pub(crate) last: Result<(), F>,
}

impl<R, F> Model<R, F> {
    /// Nothing created yet.
    pub(crate) fn new() -> Self {
        Model { record: None, last: Ok(()) }
    }

    /// The model after a command whose decision was `outcome`.
    pub(crate) fn after(mut self, outcome: Result<R, F>) -> Self {
        match outcome {
            Ok(next) => {
                self.record = Some(next);
                self.last = Ok(());
            }
            Err(refusal) => self.last = Err(refusal),
        }
        self
    }
}

/// Whether a model's link command adds or removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    Add,
    Remove,
}

/// Why a model refuses a link command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkRefusal {
    AlreadyLinked,
    NotLinked,
}

impl LinkRefusal {
    /// The model's view of the aggregate's link error.
    pub(crate) fn of(error: &LinkError) -> Self {
        match error {
            LinkError::AlreadyLinked { .. } => LinkRefusal::AlreadyLinked,
            LinkError::NotLinked { .. } => LinkRefusal::NotLinked,
            other => panic!("unexpected link error {other:?}"),
        }
    }
}

/// Adds or removes `item`, or says why that is refused.
pub(crate) fn relink<T: Ord>(
    set: &mut BTreeSet<T>,
    item: T,
    link: Link,
) -> Result<(), LinkRefusal> {
    match link {
        Link::Add if set.contains(&item) => Err(LinkRefusal::AlreadyLinked),
        Link::Remove if !set.contains(&item) => Err(LinkRefusal::NotLinked),
        Link::Add => {
            set.insert(item);
            Ok(())
        }
        Link::Remove => {
            set.remove(&item);
            Ok(())
        }
    }
}

/// The time of the `step`th event of a history: one minute apart.
fn at(step: usize) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(step as i64)
}

/// The aggregate under test with every event it recorded.
pub(crate) struct Subject<A: Aggregate> {
    pub(crate) state: Option<A>,
    history: Vec<(Timestamp, A::Event)>,
    /// History length when the record reached a final state.
    final_length: Option<usize>,
}

impl<A> Subject<A>
where
    A: Aggregate + PartialEq + Debug + Serialize + DeserializeOwned,
    A::Command: PartialEq + Debug + Serialize + DeserializeOwned,
{
    /// Nothing created yet.
    pub(crate) fn new() -> Self {
        Subject { state: None, history: Vec::new(), final_length: None }
    }

    /// Runs `command` as `actor` and checks the outcome against the model's `expected` one
    /// (refusals compared through `refusal`). The command and the accepted events must survive
    /// JSON; the events are recorded, and the state is marked final when `is_final` says so.
    pub(crate) fn run<F: PartialEq + Debug>(
        &mut self,
        actor: &Actor,
        command: A::Command,
        expected: &Result<(), F>,
        refusal: impl Fn(&A::Error) -> F,
        is_final: impl Fn(&A) -> bool,
    ) {
        let now = at(self.history.len());
        let name = command.name();
        let json = serde_json::to_string(&command).unwrap();
        assert_eq!(serde_json::from_str::<A::Command>(&json).unwrap(), command);
        match A::execute(self.state.clone(), command, Context::new(now, actor, &CONFIG)) {
            Ok((next, events)) => {
                assert_eq!(
                    expected,
                    &Ok(()),
                    "{name} by {actor} was accepted; the model refuses it"
                );
                for event in events {
                    let json = serde_json::to_string(&event).unwrap();
                    assert_eq!(serde_json::from_str::<A::Event>(&json).unwrap(), event);
                    self.history.push((now, event));
                }
                if is_final(&next) {
                    self.final_length.get_or_insert(self.history.len());
                }
                self.state = Some(next);
            }
            Err(error) => {
                let error = error.refused().expect("a refusal, not a replay failure");
                assert_eq!(&Err(refusal(&error)), expected, "{name} by {actor}: {error}");
            }
        }
    }

    /// Nothing was recorded after a final state, and replaying the history rebuilds the state.
    pub(crate) fn check_history(&self) {
        if let Some(length) = self.final_length {
            assert_eq!(self.history.len(), length, "a record in a final state changed");
        }
        let replayed = A::replay(self.history.iter().map(|(at, event)| (*at, event))).unwrap();
        assert_eq!(replayed, self.state);
    }

    /// The state survives JSON.
    pub(crate) fn check_json(&self) {
        if let Some(state) = &self.state {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(&serde_json::from_str::<A>(&json).unwrap(), state);
        }
    }
}
