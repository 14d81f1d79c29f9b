//! Signed checkpoints of chain heads (`audit_checkpoint`), and a company's
//! whole trail read back as the chain's events, for verification.

use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, Set};

use super::entities::{audit_checkpoint, autonomous_action};
use crate::domain::{
    chain::{AuthorizeEvent, Checkpoint, CompleteEvent, StoredRow},
    input::NewAction,
};

/// The position of the company's newest checkpoint, if it has one.
pub async fn last_seq(db: &DatabaseConnection, company_id: i64) -> Result<Option<i64>, DbErr> {
    let last = audit_checkpoint::Entity::find()
        .filter(audit_checkpoint::Column::CompanyId.eq(company_id))
        .order_by_desc(audit_checkpoint::Column::Seq)
        .one(db)
        .await?;
    Ok(last.map(|c| c.seq))
}

pub async fn insert(db: &DatabaseConnection, c: Checkpoint) -> Result<(), DbErr> {
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
    .await
    .map(|_| ())
}

/// A company's rows in chain order, and its checkpoints, for verification.
pub async fn chain_of(db: &DatabaseConnection, company_id: i64) -> Result<(Vec<StoredRow>, Vec<Checkpoint>), DbErr> {
    let rows = autonomous_action::Entity::find()
        .filter(autonomous_action::Column::CompanyId.eq(company_id))
        .order_by_asc(autonomous_action::Column::ChainSeq)
        .all(db)
        .await?;
    let checkpoints = audit_checkpoint::Entity::find()
        .filter(audit_checkpoint::Column::CompanyId.eq(company_id))
        .order_by_asc(audit_checkpoint::Column::Seq)
        .all(db)
        .await?;
    let checkpoints = checkpoints
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
    Ok((rows.into_iter().map(stored_row).collect(), checkpoints))
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
