//! Every query of the safety service, one file per aggregate: the actions
//! (`actions.rs`: the audit trail's rows, their admin reads, review and the
//! batch's writes), the company's chain head (`heads.rs`, the lock every write
//! takes), the human audit records in the same chain (`human.rs`), limit overrides (`limits.rs`), blocked attempts (`blocks.rs`),
//! signed checkpoints and the chain read back for verification
//! (`checkpoints.rs`), and the stats (`stats.rs`). `fast_path.rs` is the
//! PostgreSQL fast path of the admission engine: one statement that moves the
//! head and writes a batch. `entities.rs` holds the tables.

pub mod actions;
pub mod blocks;
pub mod checkpoints;
pub mod entities;
pub mod fast_path;
pub mod heads;
pub mod human;
pub mod limits;
pub mod stats;

/// One action of the audit trail, as stored.
pub type Action = entities::autonomous_action::Model;
