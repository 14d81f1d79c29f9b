//! Every query of the dispatch service, one file per aggregate: `companies`,
//! `drivers`, `clients`, `bookings`, `templates`, `runs`, `assignments` (with
//! `day`, the drivers' days a reassignment holds, and `board`, the live
//! board's relay between replicas), `autonomy` (settings,
//! leases, suggestions, the manager's view of the day), `eta` (models,
//! observed trips, drift checks), `driver_day` (a driver's own day, for
//! the driver app), `exports` (rows a chunk at a time, by keyset) and
//! `privacy` (a patient's record, erasure, the retention of finished
//! trips); `audit` records people's changes in the transaction that makes
//! them; `entities` are the tables.
//!
//! Set-based: a dispatch run loads its inputs in a fixed number of queries and
//! writes its assignments and booking statuses with a fixed number of
//! statements in one transaction, whatever the number of bookings; a bulk
//! booking import checks every row and inserts them in one transaction.
//! Ownership: a row of another company is answered as one that does not exist
//! (NotFound; an id tells nothing about other companies).

pub mod assignments;
mod audit;
pub mod autonomy;
pub mod board;
pub mod bookings;
pub mod clients;
pub mod companies;
pub mod day;
pub mod driver_day;
pub mod drivers;
pub mod entities;
pub mod eta;
pub mod exports;
pub mod privacy;
pub mod runs;
mod shared;
pub mod templates;

pub use shared::{Page, Store, StoreError};
