//! The notify service over real gRPC, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL, delivering to real local peers on loopback: a fake Discord and a
//! webhook receiver that checks signatures, and an SMTP server.

mod delivery;
mod egress;
mod email;
mod harness;
mod input;
mod monitors;
mod monitors_file;
mod monitors_status;
mod routes;
