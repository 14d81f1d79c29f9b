//! The bugs service over real gRPC, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: grouping and regressions, every list filter, status transitions,
//! comments, roles, bad input, aggregates that always equal a recount, and
//! notices committed with the report that raised them.

mod comments;
mod grouping;
mod harness;
mod input;
mod list;
mod metrics;
mod outbox;
mod update;
