//! The checkpointer: every interval, signs the head of each company's chain
//! that moved since its last checkpoint (the rule and the signature are
//! `domain::chain`'s, the rows `store/`'s), so that dropping the newest rows
//! or rewriting the chain is caught by verification.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use kit::{Lifecycle, clock::SharedClock};
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    domain::chain,
    store::{checkpoints, heads},
};

/// Signs a checkpoint for every company whose head moved since its last one.
/// Returns how many were written.
pub async fn checkpoint_all(db: &DatabaseConnection, key: &SigningKey, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let heads = heads::moved(db).await?;
    let mut written = 0;
    for head in heads {
        let last = checkpoints::last_seq(db, head.company_id).await?;
        if last.is_some_and(|seq| seq >= head.seq) {
            continue;
        }
        checkpoints::insert(db, chain::sign_checkpoint(key, head.company_id, head.seq, &head.head_hash, now)).await?;
        written += 1;
    }
    Ok(written)
}

/// Checkpoints every `interval` until `life` stops.
pub async fn run_checkpoints(db: DatabaseConnection, key: SigningKey, clock: SharedClock, interval: Duration, life: Lifecycle) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = life.stopping() => return,
        }
        match checkpoint_all(&db, &key, clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(checkpoints = n, "audit chain heads signed"),
            Err(e) => tracing::warn!(error = %e, "audit checkpoint failed; retrying next interval"),
        }
    }
}
