//! Signed checkpoints of each company's chain head, and verification of the
//! stored trail against its chain and checkpoints.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use kit::{Lifecycle, clock::SharedClock};
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, Set};

use crate::{
    domain::{
        chain::{self, AuthorizeEvent, Checkpoint, CompleteEvent, StoredRow, Verification},
        input::NewAction,
    },
    entities::{audit_chain_head, audit_checkpoint, autonomous_action},
    store,
};

/// Signs a checkpoint for every company whose head moved since its last one.
/// Returns how many were written.
pub async fn checkpoint_all(db: &DatabaseConnection, key: &SigningKey, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let heads = audit_chain_head::Entity::find().filter(audit_chain_head::Column::Seq.gt(0)).all(db).await?;
    let mut written = 0;
    for head in heads {
        let last = audit_checkpoint::Entity::find()
            .filter(audit_checkpoint::Column::CompanyId.eq(head.company_id))
            .order_by_desc(audit_checkpoint::Column::Seq)
            .one(db)
            .await?;
        if last.is_some_and(|c| c.seq >= head.seq) {
            continue;
        }
        let c = chain::sign_checkpoint(key, head.company_id, head.seq, &head.head_hash, now);
        audit_checkpoint::Entity::insert(audit_checkpoint::ActiveModel {
            company_id: Set(c.company_id),
            seq: Set(c.seq),
            head_hash: Set(c.head_hash),
            signed_at: Set(c.signed_at),
            public_key: Set(c.public_key),
            signature: Set(c.signature),
            ..Default::default()
        })
        .exec(db)
        .await?;
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

/// Verifies one company's trail.
pub async fn verify(db: &DatabaseConnection, key: &SigningKey, company_id: i64) -> Result<(Verification, Option<DateTime<Utc>>), DbErr> {
    let (rows, checkpoints) = store::chain_of(db, company_id).await?;
    let rows: Vec<StoredRow> = rows.into_iter().map(stored_row).collect();
    let last = checkpoints.last().map(|c| c.signed_at);
    let checkpoints: Vec<Checkpoint> = checkpoints
        .into_iter()
        .map(|c| Checkpoint {
            company_id: c.company_id,
            seq: c.seq,
            head_hash: c.head_hash,
            signed_at: c.signed_at,
            public_key: c.public_key,
            signature: c.signature,
        })
        .collect();
    Ok((chain::verify(&rows, &checkpoints, &key.verifying_key()), last))
}

fn stored_row(m: autonomous_action::Model) -> StoredRow {
    let authorize = AuthorizeEvent {
        company_id: m.company_id,
        seq: m.chain_seq,
        action: NewAction {
            booking_id: m.booking_id,
            driver_id: m.driver_id,
            action_type: m.action_type,
            description: m.action_description,
            data: m.action_data,
            confidence_score: m.confidence_score,
            expected_improvement_minutes: m.expected_improvement_minutes,
            trigger_source: m.trigger_source,
        },
        created_at: m.created_at,
        consumed_windows: m.consumed_windows,
    };
    let completion = match (m.completion_seq, m.completion_hash) {
        (Some(seq), Some(hash)) => Some((
            CompleteEvent {
                company_id: m.company_id,
                seq,
                action_seq: m.chain_seq,
                success: m.success,
                error_message: m.error_message,
                execution_time_ms: m.execution_time_ms,
                completed_at: m.updated_at,
            },
            hash,
        )),
        _ => None,
    };
    StoredRow { action_id: m.id, authorize, prev_hash: m.prev_hash, row_hash: m.row_hash, completion }
}
