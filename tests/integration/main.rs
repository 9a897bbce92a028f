//! The cross-crate integration tests: one binary, a module per area.
//!
//! PostgreSQL tests need a server: `export DESK_TEST_POSTGRES_URL="$(.ci/postgres start)"`.

// Test code fails loudly: a panic with the reason is the assertion.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod desk_audit;
mod desk_crash;
mod desk_gdpr;
mod desk_incidents;
mod desk_outbox;
mod desk_records;
mod desk_sla;
mod desk_support;
mod storage_concurrency;
mod storage_contract;
mod storage_model;
mod tidy;
