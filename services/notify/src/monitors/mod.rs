//! Uptime monitors' running side: the scheduler (`scheduler.rs`) and the
//! checks it makes (`probe.rs`). A monitor's rules are `domain::monitor` and
//! `domain::check`; what a check writes is `store::monitors`'.

pub mod probe;
pub mod scheduler;
