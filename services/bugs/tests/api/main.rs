//! The bugs service over real gRPC, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: grouping and regressions, every list filter, status transitions,
//! comments, roles, bad input, aggregates that always equal a recount,
//! notices committed with the report that raised them, and each bug's
//! history (its events and its reports per day).

mod comments;
mod grouping;
mod harness;
mod history;
mod input;
mod list;
mod metrics;
mod outbox;
mod update;
