//! The database of one component.
//!
//! The backend is chosen by URL scheme: `sqlite://path?mode=rwc` (the embedded
//! default, a file under `./data`) or `postgres://…`. Each component owns its
//! database and its migration set; the migrations run at start unless
//! `ATMR_MIGRATE=false`.
//!
//! Two halves. Connection and start-up: `url.rs` (which backend a URL names),
//! `pool.rs` (the pool of each backend), `start.rs` (connect with retries,
//! migrations, readiness). The hot-path tools a service reaches for when the
//! pool is the cost: `direct.rs` ([`DirectPg`]), `sqlite_readers.rs`
//! ([`SqliteReaders`]), `prepared.rs` ([`Prepared`]) and `write_lock.rs`
//! ([`lock_for_write`]). What the database does, on `/metrics`: `observe.rs`
//! ([`QueryMetrics`], [`PoolGauges`]). Every item is reached as `kit::db::<item>`.

mod direct;
mod observe;
mod pool;
mod prepared;
mod sqlite_readers;
mod start;
mod url;
mod write_lock;

pub use direct::DirectPg;
pub use observe::{MAX_OPERATIONS, OPERATION_BUF, PoolGauges, QueryMetrics, operation_name};
pub use pool::{SQLITE_CONNECTIONS, connect, ping};
pub use prepared::Prepared;
pub use sqlite_readers::{SqliteReaders, column_positions};
pub use start::{PendingConnection, connect_and_migrate, connect_with_retry, prepare_schema, readiness_check};
pub use url::{Backend, redact, sqlite_path};
pub use write_lock::lock_for_write;
