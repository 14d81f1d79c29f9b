//! The safety rules, with no IO: limits and their overrides, sliding-window
//! admission, input checks, and the audit hash chain.

pub mod chain;
pub mod input;
pub mod limits;
pub mod windows;
