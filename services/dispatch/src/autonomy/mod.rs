//! The autonomous manager: `propose` (pure: forecasts of the day and the
//! proposals that would help late bookings) and `manager` (the cycle per
//! company under its mode, safety's admission, execution, and the scheduler).

pub(crate) mod manager;
pub(crate) mod propose;
