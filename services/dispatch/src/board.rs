//! The live board behind `WatchAssignments`: assignment changes broadcast to
//! every watcher of a company. Within one process a broadcast channel carries
//! them; with PostgreSQL, changes also travel between replicas through
//! `NOTIFY atmr_board` (the ids of the changed assignments, in chunks under the
//! 8,000-byte payload limit), and each replica's listener reloads them and
//! passes them on to its own watchers. A replica ignores its own notifications.
//! The relay's statements are in `store/board.rs`.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, sqlx};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::store::{self, assignments::BoardChange, entities::assignment};

/// Ids per notification: well under PostgreSQL's 8,000-byte payload.
const IDS_PER_NOTICE: usize = 500;

#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    origin: String,
    company_id: i64,
    service_day: String,
    change: String,
    ids: Vec<i64>,
}

#[derive(Clone)]
pub struct Board {
    local: broadcast::Sender<BoardChange>,
    origin: Arc<str>,
    /// The pool NOTIFYs go out on (PostgreSQL only); not the data path's connection.
    relay: Option<sqlx::PgPool>,
}

fn change_name(change: &str) -> Option<&'static str> {
    ["created", "superseded", "status_changed"].into_iter().find(|c| *c == change)
}

impl Board {
    /// A board for one process; with a PostgreSQL `database_url`, joined to the other replicas.
    pub async fn start(database_url: &str, db: DatabaseConnection, life: kit::Lifecycle) -> anyhow::Result<Self> {
        let (local, _) = broadcast::channel(4_096);
        let origin: Arc<str> = uuid::Uuid::new_v4().to_string().into();
        let relay = if database_url.starts_with("postgres") {
            let pool = store::board::relay_pool(database_url)?;
            // Listening before the service reports ready: nothing published after that is missed.
            let first = match tokio::time::timeout(std::time::Duration::from_secs(5), store::board::listen(database_url)).await {
                Ok(Ok(l)) => Some(l),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "board relay not listening yet; retrying in the background");
                    None
                }
                Err(_) => None,
            };
            tokio::spawn(listen(database_url.to_owned(), first, db, local.clone(), origin.clone(), life));
            Some(pool)
        } else {
            None
        };
        Ok(Self { local, origin, relay })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BoardChange> {
        self.local.subscribe()
    }

    /// Tells every watcher (here and, with PostgreSQL, on the other replicas) about `rows`.
    pub fn publish(&self, company_id: i64, service_day: &str, change: &'static str, rows: Vec<assignment::Model>) {
        if rows.is_empty() {
            return;
        }
        let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
        for assignment in rows {
            // No receiver is fine: nobody is watching here.
            let _ = self.local.send(BoardChange { company_id, service_day: service_day.to_owned(), change, assignment });
        }
        let Some(pool) = self.relay.clone() else { return };
        let notices: Vec<String> = ids
            .chunks(IDS_PER_NOTICE)
            .filter_map(|chunk| {
                let n = Notice {
                    origin: self.origin.to_string(),
                    company_id,
                    service_day: service_day.to_owned(),
                    change: change.to_owned(),
                    ids: chunk.to_vec(),
                };
                serde_json::to_string(&n).ok()
            })
            .collect();
        tokio::spawn(async move {
            for payload in notices {
                if let Err(e) = store::board::notify(&pool, &payload).await {
                    tracing::warn!(error = %e, "could not relay a board change to the other replicas");
                }
            }
        });
    }
}

/// Receives the other replicas' changes until shutdown, reconnecting after failures.
async fn listen(
    url: String,
    mut first: Option<sqlx::postgres::PgListener>,
    db: DatabaseConnection,
    local: broadcast::Sender<BoardChange>,
    origin: Arc<str>,
    life: kit::Lifecycle,
) {
    let retry = kit::backoff::Backoff::new(std::time::Duration::from_millis(500), std::time::Duration::from_secs(30));
    // Failures since the last good subscription: a relay that reconnected
    // starts its waits from the first delay again.
    let mut failures = 0u32;
    loop {
        let result = async {
            let mut listener = match first.take() {
                Some(l) => l,
                None => store::board::listen(&url).await?,
            };
            failures = 0;
            loop {
                let n = tokio::select! {
                    n = listener.recv() => n?,
                    () = life.stopping() => return Ok::<_, anyhow::Error>(()),
                };
                let Ok(notice) = serde_json::from_str::<Notice>(n.payload()) else { continue };
                let Some(change) = change_name(&notice.change) else { continue };
                if *notice.origin == *origin {
                    continue;
                }
                let rows = store::board::changed(&db, notice.company_id, notice.ids).await?;
                for assignment in rows {
                    let _ = local.send(BoardChange {
                        company_id: notice.company_id,
                        service_day: notice.service_day.clone(),
                        change,
                        assignment,
                    });
                }
            }
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "board relay interrupted; reconnecting");
                failures += 1;
                tokio::select! {
                    () = tokio::time::sleep(retry.jittered(failures)) => {}
                    () = life.stopping() => return,
                }
            }
        }
    }
}
