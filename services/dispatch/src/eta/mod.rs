//! The ETA model and what feeds it: `model` (correction factors on the
//! routing estimate, learnt from completed trips), `trips` (each trip's pickup
//! with its prediction and its completion, recorded as bookings move along),
//! `drift` (the scheduled check of the model's error, which retrains it) and
//! `days` (the checks summed by local day).

pub mod days;
pub mod drift;
pub mod model;
pub(crate) mod trips;
