//! Signed checkpoints of chain heads (`audit_checkpoint`), and a company's
//! trail read back as the chain's events: whole, for verification, or since a
//! chain position, for the signer's re-walk.

use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set,
};

use super::entities::{audit_chain_head, audit_checkpoint, autonomous_action};
use crate::domain::{
    chain::{AuthorizeEvent, CompleteEvent, ReviewEvent, RowState, StoredRow},
    checkpoint::Checkpoint,
    input::NewAction,
};

/// The company's newest checkpoint, if it has one.
pub async fn last(db: &impl ConnectionTrait, company_id: i64) -> Result<Option<Checkpoint>, DbErr> {
    let last = audit_checkpoint::Entity::find()
        .filter(audit_checkpoint::Column::CompanyId.eq(company_id))
        .order_by_desc(audit_checkpoint::Column::CheckpointSeq)
        .one(db)
        .await?;
    Ok(last.map(checkpoint))
}

/// Writes a checkpoint; a second writer of the same number fails on the
/// unique (company, number) index, so two replicas never both sign one.
pub async fn insert(db: &impl ConnectionTrait, c: &Checkpoint) -> Result<(), DbErr> {
    audit_checkpoint::Entity::insert(audit_checkpoint::ActiveModel {
        company_id: Set(c.company_id),
        seq: Set(c.chain_seq),
        head_hash: Set(c.head_hash.clone()),
        signed_at: Set(c.signed_at),
        public_key: Set(c.public_key.clone()),
        signature: Set(c.signature.clone()),
        version: Set(c.version),
        checkpoint_seq: Set(c.checkpoint_seq),
        prev_signature: Set(c.prev_signature.clone()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The company's checkpoints in order (numbered after `after`).
pub async fn of(db: &impl ConnectionTrait, company_id: i64, after: i64) -> Result<Vec<Checkpoint>, DbErr> {
    let rows = audit_checkpoint::Entity::find()
        .filter(audit_checkpoint::Column::CompanyId.eq(company_id))
        .filter(audit_checkpoint::Column::CheckpointSeq.gt(after))
        .order_by_asc(audit_checkpoint::Column::CheckpointSeq)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(checkpoint).collect())
}

/// Every company with a chain or a checkpoint.
pub async fn companies(db: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
    let mut ids: Vec<i64> =
        audit_chain_head::Entity::find().select_only().column(audit_chain_head::Column::CompanyId).into_tuple().all(db).await?;
    let signed: Vec<i64> =
        audit_checkpoint::Entity::find().select_only().column(audit_checkpoint::Column::CompanyId).distinct().into_tuple().all(db).await?;
    ids.extend(signed);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A company's action rows with an event after chain position `after` (0: all
/// of them), in chain order.
pub async fn rows_since(db: &impl ConnectionTrait, company_id: i64, after: i64) -> Result<Vec<StoredRow>, DbErr> {
    use autonomous_action::Column as C;
    let mut q = autonomous_action::Entity::find().filter(C::CompanyId.eq(company_id));
    if after > 0 {
        q = q.filter(Condition::any().add(C::ChainSeq.gt(after)).add(C::CompletionSeq.gt(after)).add(C::ReviewSeq.gt(after)));
    }
    let rows = q.order_by_asc(C::ChainSeq).all(db).await?;
    Ok(rows.into_iter().map(stored_row).collect())
}

fn checkpoint(c: audit_checkpoint::Model) -> Checkpoint {
    Checkpoint {
        version: c.version,
        company_id: c.company_id,
        checkpoint_seq: c.checkpoint_seq,
        chain_seq: c.seq,
        head_hash: c.head_hash,
        prev_signature: c.prev_signature,
        signed_at: c.signed_at,
        public_key: c.public_key,
        signature: c.signature,
    }
}

fn stored_row(m: autonomous_action::Model) -> StoredRow {
    let state = RowState {
        status: m.status.clone(),
        success: m.success,
        reviewed_by_admin: m.reviewed_by_admin,
        review_fields_set: m.reviewed_at.is_some() || m.reviewed_by.is_some() || m.admin_notes.is_some(),
    };
    let authorize = AuthorizeEvent {
        version: m.hash_version,
        company_id: m.company_id,
        seq: m.chain_seq,
        action_id: m.id,
        authorized_by: m.authorized_by.unwrap_or_default(),
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
                version: m.hash_version,
                company_id: m.company_id,
                seq,
                action_id: m.id,
                action_seq: m.chain_seq,
                success: m.success,
                status: m.status,
                error_message: m.error_message,
                execution_time_ms: m.execution_time_ms,
                completed_at: m.updated_at,
            },
            hash,
        )),
        _ => None,
    };
    let review = match (m.review_seq, m.review_hash) {
        (Some(seq), Some(hash)) => Some((
            ReviewEvent {
                company_id: m.company_id,
                seq,
                action_id: m.id,
                action_seq: m.chain_seq,
                reviewed_by: m.reviewed_by.unwrap_or_default(),
                reviewed_at: m.reviewed_at.unwrap_or_default(),
                notes: m.admin_notes.unwrap_or_default(),
            },
            hash,
        )),
        _ => None,
    };
    StoredRow { action_id: m.id, authorize, prev_hash: m.prev_hash, row_hash: m.row_hash, completion, review, state }
}
