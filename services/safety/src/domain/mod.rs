//! The safety rules, with no IO: limits and their overrides, sliding-window
//! admission, input checks, the audit hash chain and the human records in it,
//! the stats' buckets over time.

pub mod breaks;
pub mod buckets;
pub mod canonical;
pub mod chain;
pub mod checkpoint;
pub mod human;
pub mod input;
pub mod limits;
pub mod windows;
