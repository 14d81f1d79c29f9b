//! The human audit records (`human_audit_record`): appended to the company's
//! chain under its chain-head lock (the lock every admission batch and limit
//! change takes, so actions and records share one order), idempotently by
//! record id; read back as the audit log, newest first, and for verification.

use chrono::{DateTime, SubsecRound as _, Utc};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Set,
};

use super::{entities::human_audit_record as h, heads};
use crate::domain::human::{AuditFilter, HumanEvent, HumanRecord, StoredHuman};

/// How many records of a batch were new, and how many were stored already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    pub recorded: usize,
    pub already: usize,
}

/// Appends `records` to `company_id`'s chain in `txn` (which the caller
/// commits), after the head: each record whose id the company has already is
/// skipped, as is a repeat within the batch.
pub async fn append(txn: &DatabaseTransaction, company_id: i64, records: Vec<HumanRecord>, now: DateTime<Utc>) -> Result<Appended, DbErr> {
    let now = now.trunc_subsecs(6);
    let head = heads::lock(txn, company_id, now, false).await?;
    let ids: Vec<String> = records.iter().map(|r| r.record_id.clone()).collect();
    let mut known: std::collections::HashSet<String> = h::Entity::find()
        .select_only()
        .column(h::Column::RecordId)
        .filter(h::Column::CompanyId.eq(company_id))
        .filter(h::Column::RecordId.is_in(ids))
        .into_tuple::<String>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let (mut seq, mut prev) = (head.seq, head.head_hash.clone());
    let mut out = Appended::default();
    let mut rows = Vec::new();
    for record in records {
        if !known.insert(record.record_id.clone()) {
            out.already += 1;
            continue;
        }
        seq += 1;
        let event = HumanEvent { company_id, seq, record, recorded_at: now };
        let row_hash = event.hash(&prev);
        let r = event.record;
        rows.push(h::ActiveModel {
            company_id: Set(company_id),
            record_id: Set(r.record_id),
            chain_seq: Set(seq),
            prev_hash: Set(prev.clone()),
            row_hash: Set(row_hash.clone()),
            occurred_at: Set(r.occurred_at),
            recorded_at: Set(now),
            source: Set(r.source),
            actor_user_id: Set(r.actor_user_id),
            actor_email: Set(r.actor_email),
            actor_role: Set(r.actor_role),
            client_address: Set(r.client_address),
            resource: Set(r.resource),
            resource_id: Set(r.resource_id),
            action: Set(r.action),
            changes: Set(r.changes),
            ..Default::default()
        });
        prev = row_hash;
        out.recorded += 1;
    }
    if !rows.is_empty() {
        h::Entity::insert_many(rows).exec_without_returning(txn).await?;
        heads::advance(txn, company_id, seq, prev, now).await?;
    }
    Ok(out)
}

/// One page of the company's audit log, newest first, and how many match.
pub async fn list(
    db: &impl ConnectionTrait,
    company_id: i64,
    f: &AuditFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<StoredHuman>, u64), DbErr> {
    use h::Column as C;
    let mut q = h::Entity::find().filter(C::CompanyId.eq(company_id));
    if let Some(actor) = &f.actor {
        q = q.filter(Condition::any().add(C::ActorUserId.eq(actor.as_str())).add(C::ActorEmail.eq(actor.as_str())));
    }
    if let Some(v) = &f.resource {
        q = q.filter(C::Resource.eq(v.as_str()));
    }
    if let Some(v) = &f.resource_id {
        q = q.filter(C::ResourceId.eq(v.as_str()));
    }
    if let Some(v) = &f.action {
        q = q.filter(C::Action.eq(v.as_str()));
    }
    if let Some(from) = f.from {
        q = q.filter(C::OccurredAt.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(C::OccurredAt.lt(to));
    }
    if let Some(max) = f.max_chain_seq {
        q = q.filter(C::ChainSeq.lte(max));
    }
    let total = q.clone().count(db).await?;
    let rows = q.order_by_desc(C::ChainSeq).offset((page - 1) * per_page).limit(per_page).all(db).await?;
    Ok((rows.into_iter().map(stored).collect(), total))
}

/// The company's records after chain position `after` (0: all), in chain
/// order, for verification and the signer's re-walk.
pub async fn since(db: &impl ConnectionTrait, company_id: i64, after: i64) -> Result<Vec<StoredHuman>, DbErr> {
    let rows = h::Entity::find()
        .filter(h::Column::CompanyId.eq(company_id))
        .filter(h::Column::ChainSeq.gt(after))
        .order_by_asc(h::Column::ChainSeq)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(stored).collect())
}

fn stored(m: h::Model) -> StoredHuman {
    let record = HumanRecord {
        record_id: m.record_id,
        occurred_at: m.occurred_at,
        source: m.source,
        actor_user_id: m.actor_user_id,
        actor_email: m.actor_email,
        actor_role: m.actor_role,
        client_address: m.client_address,
        resource: m.resource,
        resource_id: m.resource_id,
        action: m.action,
        changes: m.changes,
    };
    StoredHuman {
        event: HumanEvent { company_id: m.company_id, seq: m.chain_seq, record, recorded_at: m.recorded_at },
        prev_hash: m.prev_hash,
        row_hash: m.row_hash,
    }
}
