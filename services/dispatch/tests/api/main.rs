//! The dispatch service over real gRPC, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: resources and their checks, bulk bookings, dispatch runs and
//! their statement count, reassignment (concurrent ones into one day too),
//! positions, the live board, the driver app (a driver's own day, positions
//! and trips), that patients' details never reach the log, that
//! a corrupt stored ETA model answers only the generic internal error, and that
//! a stored value outside its vocabulary is an error, never a default; a
//! patient's export and erasure, and the retention of finished trips; and
//! dispatch's families on `/metrics` after a run and a late pickup.

mod bookings;
mod driver_app;
mod eta;
mod harness;
mod metrics;
mod osrm;
mod privacy;
mod reassign;
mod resources;
mod rights;
mod runs;
mod unknown_values;
