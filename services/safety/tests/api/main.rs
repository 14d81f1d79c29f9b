//! The safety service over real gRPC, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL. The source's 18 named tests are ported one for one (`model`,
//! `limits`, `integration`, `logging`); the rest cover concurrency, tamper
//! evidence (the five rewrites of `tampering`), review, bad input, notifications and their outbox, the
//! stats by bucket and what the admin pages read (`stats`), and the
//! human audit records in the same chain.

mod audit_chain;
mod concurrency;
mod harness;
mod human_records;
mod integration;
mod limits;
mod logging;
mod model;
mod outbox;
mod review;
mod stats;
mod tampering;
