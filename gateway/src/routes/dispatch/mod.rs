//! The dispatcher's routes, served by the dispatch service, one file per
//! resource: the company, drivers, patients (`/api/clients`), bookings (one or
//! a bulk import, status, reassignment), recurring templates, dispatch runs and
//! assignments, their CSV exports (`exports.rs`), and the autonomous
//! manager. Admins and dispatchers only; `shared` also serves the driver's
//! own routes (`routes/me.rs`).

pub(crate) mod autonomy;
pub(crate) mod bookings;
pub(crate) mod clients;
pub(crate) mod company;
pub(crate) mod drivers;
pub(crate) mod exports;
pub(crate) mod runs;
pub(crate) mod shared;
pub(crate) mod templates;
