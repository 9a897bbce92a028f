//! Tests of the SLA engine: the rules one by one (given/when/then), the bugs other service
//! desks shipped, and properties over random incident histories.

mod explain;
mod history;
mod marks;
mod properties;
mod regressions;
mod rules;
pub(in crate::sla) mod story;
