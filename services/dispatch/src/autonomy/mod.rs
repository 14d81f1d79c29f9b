//! The autonomous manager: `forecast` (pure: when the day's stops will be
//! served), `propose` (pure: the proposals that would help late bookings) and `manager` (the cycle per
//! company under its mode, safety's admission, execution, and the scheduler).

mod forecast;
pub(crate) mod manager;
pub(crate) mod propose;
