//! The backlog gauges: how many notifications wait and how long the oldest
//! has, refreshed on a timer for as long as the component runs.

use std::time::Duration;

use kit::{Lifecycle, clock::SharedClock};

use crate::{metrics::NotifyMetrics, store::Store};

/// Keeps `notify_backlog` and `notify_backlog_oldest_seconds` current until
/// `life` stops: the figures an operator is paged on when delivery stalls.
pub async fn watch_backlog(store: Store, clock: SharedClock, metrics: NotifyMetrics, every: Duration, life: Lifecycle) {
    loop {
        match store.backlog().await {
            Ok((count, oldest)) => {
                metrics.backlog.set(count as i64);
                let age = oldest.map_or(0.0, |at| (clock.now() - at).num_milliseconds().max(0) as f64 / 1000.0);
                metrics.backlog_oldest.set(age);
            }
            Err(e) => tracing::warn!(error = %e, "reading the notification backlog failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = life.stopping() => return,
        }
    }
}
