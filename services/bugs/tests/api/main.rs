//! The bugs service over real gRPC, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: grouping and regressions, every list filter, status transitions,
//! comments, roles, bad input, and aggregates that always equal a recount.

mod comments;
mod grouping;
mod harness;
mod input;
mod list;
mod metrics;
mod update;
