//! The dispatch service over real gRPC, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: resources and their checks, bulk bookings, dispatch runs and
//! their statement count, reassignment, positions, the live board, that
//! patients' details never reach the log, and that a corrupt stored ETA model
//! answers only the generic internal error.

mod bookings;
mod eta;
mod harness;
mod osrm;
mod privacy;
mod resources;
mod runs;
