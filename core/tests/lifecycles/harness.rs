//! What every lifecycle test shares.
//!
//! - [`Expect`]: what a reference model expects of a command: accepted, leaving the model in a
//!   new state; refused because of the record's state, which the typed error must name together
//!   with the command; or refused for another reason.
//! - [`Stored`]: a record under test with its history stored as JSON, the way a store keeps it
//!   (each event in its [`Recorded`] envelope), and the checks every record must pass after every
//!   command: the command and its events survive JSON, and replaying the stored history rebuilds
//!   the record, which also survives JSON. Areas that drive several records at once (incidents)
//!   keep one per record.
//! - [`Lifecycle`]: what an area tells the harness about its record (its steps, its model's rule,
//!   what the model can see of the record, its own invariants), and [`Machine`], which drives any
//!   lifecycle through `proptest-state-machine` against its model.
//! - Small pieces of models: [`relink`], [`blank`] and [`texts`].

use std::collections::BTreeSet;
use std::fmt::{self, Debug};
use std::marker::PhantomData;
use std::sync::LazyLock;

use chrono::{Duration, TimeZone, Utc};
use desk_core::config::DeskConfig;
use desk_core::links::LinkError;
use desk_core::record::{Actor, Aggregate, CommandName, Context, Recorded, Timestamp};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use serde::Serialize;
use serde::de::DeserializeOwned;

static EXAMPLE: LazyLock<DeskConfig> = LazyLock::new(DeskConfig::example);

/// The sample council's configuration, parsed once.
pub(crate) fn example() -> &'static DeskConfig {
    &EXAMPLE
}

/// The time of the first step of every sequence: a Monday morning.
pub(crate) fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// What a reference model expects of a command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expect<M, S, R = ()> {
    /// Accepted, leaving the model in this state.
    Accept(M),
    /// Refused because the record is in this state, which the typed error must name.
    WrongState(S),
    /// Refused for another reason (bad input, a rule), as far as the model tells reasons apart.
    Refuse(R),
}

impl<M, S> Expect<M, S> {
    /// For a model that tells only whether a step is accepted: accepted, leaving the model at
    /// `next`, or (when `None`) refused.
    pub(crate) fn accepted(next: Option<M>) -> Self {
        next.map_or(Expect::Refuse(()), Expect::Accept)
    }
}

/// A refusal as a model reads it.
#[derive(Debug, PartialEq)]
pub(crate) enum Refused<S, R = ()> {
    /// Because of the record's state, with the command the error names.
    State(S, &'static str),
    /// For another reason.
    Other(R),
}

/// A record type the harness can drive: it and its commands go through JSON.
pub(crate) trait Storable:
    Aggregate<Command: Debug + PartialEq + Serialize + DeserializeOwned>
    + Debug
    + PartialEq
    + Serialize
    + DeserializeOwned
{
}

impl<A> Storable for A where
    A: Aggregate<Command: Debug + PartialEq + Serialize + DeserializeOwned>
        + Debug
        + PartialEq
        + Serialize
        + DeserializeOwned
{
}

/// A record under test and its history, each event stored as JSON in its envelope.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored<A> {
    /// The record after the last accepted command; `None` before it exists.
    pub(crate) state: Option<A>,
    /// One JSON row per event, in order.
    rows: Vec<String>,
}

impl<A> Default for Stored<A> {
    fn default() -> Self {
        Stored { state: None, rows: Vec::new() }
    }
}

impl<A: Storable> Stored<A> {
    /// Decides `command`, after sending it through JSON; when accepted, applies the events and
    /// stores each in its envelope (which must survive JSON), and returns them.
    pub(crate) fn execute(
        &mut self,
        command: A::Command,
        ctx: Context<'_>,
    ) -> Result<Vec<A::Event>, A::Error> {
        let json = serde_json::to_string(&command).unwrap();
        let received: A::Command = serde_json::from_str(&json).unwrap();
        assert_eq!(received, command, "the command survives JSON: {json}");
        let events = A::decide(self.state.as_ref(), received, ctx)?;
        for event in &events {
            let next = A::apply(self.state.take(), ctx.now, event).expect("decided events apply");
            let recorded = Recorded {
                record: next.id(),
                seq: self.rows.len() as u64 + 1,
                at: ctx.now,
                actor: ctx.actor.clone(),
                event: event.clone(),
            };
            let row = serde_json::to_string(&recorded).unwrap();
            let read: Recorded<A::Event> = serde_json::from_str(&row).unwrap();
            assert_eq!(read, recorded, "the event survives JSON in its envelope: {row}");
            self.rows.push(row);
            self.state = Some(next);
        }
        Ok(events)
    }

    /// The stored history, read back. Each envelope names the record and its place; replaying the
    /// history rebuilds the record, which survives JSON.
    pub(crate) fn history(&self) -> Vec<Recorded<A::Event>> {
        let history: Vec<Recorded<A::Event>> =
            self.rows.iter().map(|row| serde_json::from_str(row).unwrap()).collect();
        let replayed = A::replay(history.iter().map(|r| (r.at, &r.event))).unwrap();
        assert_eq!(replayed, self.state, "replaying the stored history rebuilds the record");
        if let Some(state) = &self.state {
            let json = serde_json::to_string(state).unwrap();
            let read: A = serde_json::from_str(&json).unwrap();
            assert_eq!(&read, state, "the record survives JSON: {json}");
            for (n, recorded) in history.iter().enumerate() {
                assert_eq!(recorded.record, state.id(), "event {} names another record", n + 1);
                assert_eq!(recorded.seq, n as u64 + 1, "events are numbered in order");
            }
        }
        history
    }
}

/// The command type of a lifecycle's record.
pub(crate) type CommandOf<L> = <<L as Lifecycle>::Record as Aggregate>::Command;
/// The event type of a lifecycle's record.
pub(crate) type EventOf<L> = <<L as Lifecycle>::Record as Aggregate>::Event;
/// The error type of a lifecycle's record.
pub(crate) type ErrorOf<L> = <<L as Lifecycle>::Record as Aggregate>::Error;
/// What a lifecycle's model expects of a step.
pub(crate) type ExpectOf<L> =
    Expect<<L as Lifecycle>::Known, <L as Lifecycle>::Status, <L as Lifecycle>::Reason>;

/// One record's lifecycle, as the harness needs to know it.
pub(crate) trait Lifecycle: Sized + 'static {
    /// The record under test.
    type Record: Storable;
    /// What the model knows of the record.
    type Known: Clone + Debug + PartialEq;
    /// A step: a command in the model's terms, with who issues it.
    type Step: Clone + Debug;
    /// The state a transition error names.
    type Status: Clone + Debug + PartialEq;
    /// The other reasons for a refusal that the model tells apart (`()` for none).
    type Reason: Clone + Debug + PartialEq;

    /// The configuration commands are decided under: the sample council's, unless an area needs
    /// its own.
    fn config() -> &'static DeskConfig {
        example()
    }

    /// The steps worth trying next.
    fn steps(model: &Model<Self>) -> BoxedStrategy<Self::Step>;

    /// The model's rule, written independently of `decide`: what `step` does to `model`.
    fn expect(model: &Model<Self>, step: &Self::Step) -> ExpectOf<Self>;

    /// The command of `step` and who issues it, given the record as it is.
    fn command(step: &Self::Step, record: Option<&Self::Record>) -> (CommandOf<Self>, Actor);

    /// How the model reads a refusal.
    fn refusal(error: &ErrorOf<Self>) -> Refused<Self::Status, Self::Reason>;

    /// What the model can see of the record.
    fn observe(record: &Self::Record) -> Self::Known;

    /// Whether the record is in a final state, where it accepts nothing.
    fn is_final(_record: &Self::Record) -> bool {
        false
    }

    /// How long before `step` it is taken.
    fn wait(_step: &Self::Step) -> Duration {
        Duration::minutes(5)
    }

    /// The record's own invariants after every step: `before` is the record before the step,
    /// `history` its stored history.
    fn check(
        before: Option<&Self::Record>,
        record: &Self::Record,
        history: &[Recorded<EventOf<Self>>],
    );
}

/// A lifecycle's reference model: what it knows of the record, the time, and what it expected of
/// the last step.
pub(crate) struct Model<L: Lifecycle> {
    /// What the model knows of the record; `None` before it exists.
    pub(crate) record: Option<L::Known>,
    /// The time of the last step.
    pub(crate) now: Timestamp,
    /// What the model expected of the last step (when accepted, `record` is the new state).
    pub(crate) last: Expect<(), L::Status, L::Reason>,
}

impl<L: Lifecycle> Clone for Model<L> {
    fn clone(&self) -> Self {
        Model { record: self.record.clone(), now: self.now, last: self.last.clone() }
    }
}

impl<L: Lifecycle> Debug for Model<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("record", &self.record)
            .field("now", &self.now)
            .field("last", &self.last)
            .finish()
    }
}

/// Drives lifecycle `L` with random steps (refused ones included) against its model.
///
/// After every step: the record accepts exactly what the model accepts and refuses the rest for
/// the model's reason; a record in a final state accepts nothing; the stored history passes the
/// [`Stored`] checks; the model sees in the record what it knows; and the lifecycle's own
/// invariants hold.
pub(crate) struct Machine<L>(PhantomData<L>);

impl<L: Lifecycle> ReferenceStateMachine for Machine<L> {
    type State = Model<L>;
    type Transition = L::Step;

    fn init_state() -> BoxedStrategy<Model<L>> {
        Just(Model { record: None, now: start(), last: Expect::Accept(()) }).boxed()
    }

    fn transitions(model: &Model<L>) -> BoxedStrategy<L::Step> {
        L::steps(model)
    }

    fn apply(mut model: Model<L>, step: &L::Step) -> Model<L> {
        model.now += L::wait(step);
        model.last = match L::expect(&model, step) {
            Expect::Accept(next) => {
                model.record = Some(next);
                Expect::Accept(())
            }
            Expect::WrongState(state) => Expect::WrongState(state),
            Expect::Refuse(reason) => Expect::Refuse(reason),
        };
        model
    }
}

impl<L: Lifecycle> StateMachineTest for Machine<L> {
    type SystemUnderTest = Stored<L::Record>;
    type Reference = Self;

    fn init_test(_: &Model<L>) -> Stored<L::Record> {
        Stored::default()
    }

    fn apply(mut stored: Stored<L::Record>, model: &Model<L>, step: L::Step) -> Stored<L::Record> {
        let before = stored.state.clone();
        let (command, actor) = L::command(&step, before.as_ref());
        let name = command.name();
        let outcome = stored.execute(command, Context::new(model.now, &actor, L::config()));
        match (&outcome, &model.last) {
            (Ok(_), Expect::Accept(())) => {
                let was_final = before.as_ref().is_some_and(L::is_final);
                assert!(!was_final, "a record in a final state accepted {step:?}");
            }
            (Err(error), Expect::WrongState(state)) => {
                let expected = Refused::State(state.clone(), name);
                assert_eq!(L::refusal(error), expected, "{step:?} by {actor}: {error}");
            }
            (Err(error), Expect::Refuse(reason)) => {
                let expected = Refused::Other(reason.clone());
                assert_eq!(L::refusal(error), expected, "{step:?} by {actor}: {error}");
            }
            (outcome, expected) => {
                panic!("{step:?} by {actor}: got {outcome:?}, the model expected {expected:?}")
            }
        }
        let history = stored.history();
        assert_eq!(stored.state.as_ref().map(L::observe), model.record, "after {step:?}");
        if let Some(record) = &stored.state {
            L::check(before.as_ref(), record, &history);
        }
        stored
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
    /// The model's view of the record's link error.
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

/// Whether `text` is empty once trimmed.
pub(crate) fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// `text`, or now and then a blank that a command should refuse.
pub(crate) fn texts(text: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(text.to_owned()), 1 => Just("  ".to_owned())]
}
