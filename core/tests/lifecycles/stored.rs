//! What every lifecycle test shares: the model's expectation of a command, and a record under
//! test with its history stored as JSON, the way a store keeps it.

use std::fmt::Debug;

use desk_core::record::{Aggregate, CommandName, Context, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What a reference model expects of a command.
#[derive(Debug, PartialEq)]
pub(crate) enum Expect<M, S> {
    /// Accepted, leaving the model in this state.
    Accept(M),
    /// Refused because of the status, which the error must name.
    WrongState(S),
    /// Refused for another reason (bad input, a rule).
    Refuse,
}

pub(crate) use crate::harness::{blank, texts};

/// A record under test and its stored history.
pub(crate) struct Stored<A> {
    /// The record, once created.
    pub(crate) record: Option<A>,
    history: Vec<(Timestamp, String)>,
}

impl<A> Stored<A>
where
    A: Aggregate + PartialEq + Debug + Serialize + DeserializeOwned,
{
    /// Nothing yet.
    pub(crate) fn new() -> Self {
        Stored { record: None, history: Vec::new() }
    }

    /// Decides `command`, checks the outcome against `expected`, then applies and stores the
    /// events. `state_named` reads the status and command out of a transition error.
    pub(crate) fn run<M: Debug, S: Debug + PartialEq>(
        &mut self,
        command: A::Command,
        ctx: Context<'_>,
        expected: Expect<M, S>,
        state_named: impl Fn(&A::Error) -> Option<(S, &'static str)>,
    ) {
        let name = command.name();
        match (A::decide(self.record.as_ref(), command, ctx), expected) {
            (Ok(events), Expect::Accept(_)) => {
                for event in &events {
                    self.record = Some(A::apply(self.record.take(), ctx.now, event).unwrap());
                    self.history.push((ctx.now, serde_json::to_string(event).unwrap()));
                }
            }
            (Err(error), Expect::WrongState(status)) => {
                assert_eq!(state_named(&error), Some((status, name)), "{error}");
            }
            (Err(_), Expect::Refuse) => {}
            (outcome, expected) => {
                panic!("{name}: got {outcome:?}, the model expected {expected:?}")
            }
        }
    }

    /// The stored events, read back.
    pub(crate) fn events(&self) -> Vec<(Timestamp, A::Event)> {
        self.history.iter().map(|(at, json)| (*at, serde_json::from_str(json).unwrap())).collect()
    }

    /// Asserts that the stored history replays to the record and that the record round-trips
    /// through JSON.
    pub(crate) fn assert_replays(&self) {
        let events = self.events();
        let replayed = A::replay(events.iter().map(|(at, event)| (*at, event))).unwrap();
        assert_eq!(replayed, self.record, "the stored history replays to another state");
        if let Some(record) = &self.record {
            let json = serde_json::to_string(record).unwrap();
            assert_eq!(&serde_json::from_str::<A>(&json).unwrap(), record);
        }
    }
}
