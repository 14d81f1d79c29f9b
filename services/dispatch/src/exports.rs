//! Exports: every booking, assignment or dispatch run a filter asks for,
//! read a chunk at a time (`store::exports`, a keyset per order) and handed
//! on as each is read. At most two chunks wait for a slow reader, so the
//! reading slows down instead of memory growing: an export of 100,000 rows
//! holds about a thousand. A reader that goes away stops the reading.

use std::future::Future;

use tokio::sync::mpsc;

use crate::{
    core::Dispatch,
    domain::filters::{AssignmentFilter, BookingFilter, DayRange},
    error::Error,
    store::{
        StoreError,
        entities::{assignment, booking, dispatch_run},
    },
};

/// Rows per chunk (and per message of the export's stream).
pub(crate) const CHUNK: u64 = 500;

/// The chunks of an export as they are read; an error ends it.
pub(crate) type Chunks<T> = mpsc::Receiver<Result<Vec<T>, Error>>;

impl Dispatch {
    /// The bookings `f` asks for, by scheduled time.
    pub fn export_bookings(&self, company_id: i64, f: BookingFilter) -> Chunks<booking::Model> {
        let store = self.store.clone();
        chunks(
            "bookings",
            move |after| {
                let (store, f) = (store.clone(), f.clone());
                async move { store.bookings_after(company_id, &f, after, CHUNK).await }
            },
            |b: &booking::Model| (b.scheduled_time, b.id),
        )
    }

    /// The assignments `f` asks for, by planned pickup.
    pub fn export_assignments(&self, company_id: i64, f: AssignmentFilter) -> Chunks<assignment::Model> {
        let store = self.store.clone();
        chunks(
            "assignments",
            move |after| {
                let (store, f) = (store.clone(), f.clone());
                async move { store.assignments_after(company_id, &f, after, CHUNK).await }
            },
            |a: &assignment::Model| (a.planned_pickup_at, a.id),
        )
    }

    /// The dispatch runs of `days`, oldest first.
    pub fn export_runs(&self, company_id: i64, days: DayRange) -> Chunks<dispatch_run::Model> {
        let store = self.store.clone();
        chunks(
            "dispatch runs",
            move |after| {
                let store = store.clone();
                async move { store.runs_after(company_id, days, after, CHUNK).await }
            },
            |r: &dispatch_run::Model| r.id,
        )
    }
}

/// Reads chunk after chunk with `next(after the last row's key)` until one
/// comes back short of `CHUNK`, sending each down the returned channel.
fn chunks<T, K, F, Fut>(what: &'static str, next: F, key: fn(&T) -> K) -> Chunks<T>
where
    T: Send + 'static,
    K: Send + 'static,
    F: Fn(Option<K>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<T>, StoreError>> + Send,
{
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let (mut after, mut rows) = (None, 0_usize);
        loop {
            let chunk = match next(after.take()).await {
                Ok(chunk) => chunk,
                Err(e) => {
                    tracing::warn!(what, rows, error = %e, "export stopped by a failed read");
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let last = chunk.len() < CHUNK as usize;
            after = chunk.last().map(key);
            rows += chunk.len();
            if !chunk.is_empty() && tx.send(Ok(chunk)).await.is_err() {
                tracing::info!(what, rows, "export abandoned by its reader");
                return;
            }
            if last {
                tracing::info!(what, rows, "export finished");
                return;
            }
        }
    });
    rx
}
