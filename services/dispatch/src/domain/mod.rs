//! Dispatch's pure rules and types: the vocabulary (`vocabulary`: vehicle
//! kinds, mobility needs, statuses and their transitions, loads), places on
//! the map (`geo`), what a request writes (`input`), list filters (`filters`),
//! local times and plan rows (`plan`), the manager's modes and proposals
//! (`autonomy`), a driver's day as the driver sees it (`driver_day`) and the
//! checks and thinning of the positions they send (`positions`). Pure: no I/O.

pub mod autonomy;
pub mod driver_day;
pub mod filters;
pub mod geo;
pub mod input;
pub mod plan;
pub mod positions;
mod vocabulary;

pub use kit::{input::Invalid, stored::UnknownValue};
pub use vocabulary::*;
