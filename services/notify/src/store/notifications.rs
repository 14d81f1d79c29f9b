//! The outbox: notifications and their attempts. `Send` inserts with
//! idempotency, the workers claim due rows under a lease and record each
//! attempt's outcome, and the API reads, retries and replays.
//!
//! Claiming is safe across replicas: on PostgreSQL the due rows are picked with
//! `FOR UPDATE SKIP LOCKED` and leased in the same statement; on SQLite the one
//! statement runs under the database write lock. A claimed row whose lease runs
//! out (its worker died) is due again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseTransaction, DbBackend, DbErr, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, Statement, TransactionTrait as _,
    sea_query::{LikeExpr, OnConflict},
};

use crate::{
    domain::notification::{AttemptRecord, NewNotification, Next, status},
    error::Error,
    store::{
        Store,
        entities::{notification, notification_attempt},
    },
};

/// Filters of the list and of the bulk replay.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub statuses: Vec<&'static str>,
    pub channel_id: Option<String>,
    pub event_type: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// A field's name and the values it may have.
    pub field: Option<(String, Vec<String>)>,
}

impl Filter {
    fn condition(&self, company_id: i64) -> Condition {
        use notification::Column as N;
        let mut c = Condition::all().add(N::CompanyId.eq(company_id));
        if !self.statuses.is_empty() {
            c = c.add(N::Status.is_in(self.statuses.iter().copied()));
        }
        if let Some(ch) = &self.channel_id {
            c = c.add(N::ChannelId.eq(ch.as_str()));
        }
        if let Some(t) = &self.event_type {
            c = c.add(N::EventType.eq(t.as_str()));
        }
        if let Some(from) = self.created_from {
            c = c.add(N::CreatedAt.gte(from));
        }
        if let Some(to) = self.created_to {
            c = c.add(N::CreatedAt.lt(to));
        }
        if let Some((name, values)) = &self.field {
            // Fields are stored as JSON, `[{"name":…,"value":…,"inline":…}]`:
            // the pair is matched as serde_json writes it.
            let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
            let escaped = |s: String| s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            c = c.add(values.iter().fold(Condition::any(), |any, v| {
                let pair = format!("{{\"name\":{},\"value\":{},", quoted(name), quoted(v));
                any.add(N::Fields.like(LikeExpr::new(format!("%{}%", escaped(pair))).escape('\\')))
            }));
        }
        c
    }
}

impl Store {
    /// Stores one notification per channel, unless the idempotency key was seen:
    /// then the notifications stored the first time come back and `true`.
    pub async fn enqueue(
        &self,
        company_id: i64,
        n: &NewNotification,
        channels: &[String],
        now: DateTime<Utc>,
    ) -> Result<(Vec<notification::Model>, bool), DbErr> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "notification").await?;
        let out = enqueue_in(&txn, company_id, n, channels, now).await?;
        txn.commit().await?;
        Ok(out)
    }

    /// How many notifications wait for delivery (pending or sending) and when
    /// the oldest of them was accepted.
    pub async fn backlog(&self) -> Result<(u64, Option<DateTime<Utc>>), DbErr> {
        let undelivered = notification::Column::Status.is_in([status::PENDING, status::SENDING]);
        let count = notification::Entity::find().filter(undelivered.clone()).count(&self.db).await?;
        let oldest = notification::Entity::find()
            .filter(undelivered)
            .order_by_asc(notification::Column::CreatedAt)
            .one(&self.db)
            .await?
            .map(|n| n.created_at);
        Ok((count, oldest))
    }

    /// Leases up to `limit` due notifications (pending and due, or sending with a
    /// lease run out) until `now + lease`, counting the attempt.
    pub async fn claim(&self, now: DateTime<Utc>, lease: Duration, limit: u64) -> Result<Vec<notification::Model>, DbErr> {
        let backend = self.db.get_database_backend();
        let (sql, values): (&str, Vec<sea_orm::Value>) = match backend {
            DbBackend::Postgres => (
                "UPDATE notification SET status = 'sending', lease_until = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM notification \
                   WHERE (status = 'pending' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until < $2) \
                   ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING *",
                vec![(now + lease).into(), now.into(), (limit as i64).into()],
            ),
            _ => (
                "UPDATE notification SET status = 'sending', lease_until = ?, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM notification \
                   WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?) \
                   ORDER BY next_attempt_at LIMIT ?) \
                 RETURNING *",
                vec![(now + lease).into(), now.into(), now.into(), (limit as i64).into()],
            ),
        };
        notification::Entity::find().from_raw_sql(Statement::from_sql_and_values(backend, sql, values)).all(&self.db).await
    }

    /// Records an attempt of a claimed notification and where it goes next, if
    /// this worker still holds the lease (`attempts` is the claim's count).
    pub async fn finish(&self, claimed: &notification::Model, attempt: &AttemptRecord, next: Next) -> Result<bool, DbErr> {
        let txn = self.db.begin().await?;
        let mut update = notification::Entity::update_many()
            .filter(notification::Column::Id.eq(&claimed.id))
            .filter(notification::Column::Status.eq(status::SENDING))
            .filter(notification::Column::Attempts.eq(claimed.attempts))
            .col_expr(notification::Column::LeaseUntil, sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(notification::Column::LastError, sea_orm::sea_query::Expr::value(attempt.error.clone()));
        update = match next {
            Next::Delivered => update
                .col_expr(notification::Column::Status, sea_orm::sea_query::Expr::value(status::DELIVERED))
                .col_expr(notification::Column::DeliveredAt, sea_orm::sea_query::Expr::value(Some(attempt.started_at))),
            Next::RetryAt(at) => update
                .col_expr(notification::Column::Status, sea_orm::sea_query::Expr::value(status::PENDING))
                .col_expr(notification::Column::NextAttemptAt, sea_orm::sea_query::Expr::value(at)),
            Next::Dead => update.col_expr(notification::Column::Status, sea_orm::sea_query::Expr::value(status::DEAD)),
        };
        let held = update.exec(&txn).await?.rows_affected == 1;
        notification_attempt::ActiveModel {
            notification_id: Set(claimed.id.clone()),
            number: Set(claimed.attempts),
            started_at: Set(attempt.started_at),
            duration_ms: Set(attempt.duration_ms),
            success: Set(attempt.success),
            response_code: Set(attempt.response_code),
            error: Set(attempt.error.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(held)
    }

    pub async fn get(&self, company_id: i64, id: &str) -> Result<(notification::Model, Vec<notification_attempt::Model>), Error> {
        let n = notification::Entity::find_by_id(id.to_owned())
            .filter(notification::Column::CompanyId.eq(company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("notification {id}")))?;
        let attempts = notification_attempt::Entity::find()
            .filter(notification_attempt::Column::NotificationId.eq(id))
            .order_by_asc(notification_attempt::Column::Number)
            .order_by_asc(notification_attempt::Column::Id)
            .all(&self.db)
            .await?;
        Ok((n, attempts))
    }

    pub async fn list(
        &self,
        company_id: i64,
        filter: &Filter,
        (page, per_page): (u64, u64),
    ) -> Result<(Vec<notification::Model>, u64), DbErr> {
        let select = notification::Entity::find().filter(filter.condition(company_id));
        let total = select.clone().count(&self.db).await?;
        let rows = select
            .order_by_desc(notification::Column::CreatedAt)
            .order_by_desc(notification::Column::Id)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// Puts one failed (pending with errors) or dead notification back in the queue, due now.
    pub async fn retry(&self, company_id: i64, id: &str, now: DateTime<Utc>) -> Result<notification::Model, Error> {
        let (n, _) = self.get(company_id, id).await?;
        if n.status == status::DELIVERED || n.status == status::SENDING {
            return Err(Error::FailedPrecondition(format!("notification {id} is {}; only pending or dead ones are retried", n.status)));
        }
        let mut row: notification::ActiveModel = n.into();
        row.status = Set(status::PENDING.to_owned());
        row.next_attempt_at = Set(now);
        Ok(row.update(&self.db).await?)
    }

    /// Puts every dead notification matching `filter` back in the queue.
    pub async fn replay_dead(&self, company_id: i64, filter: &Filter, now: DateTime<Utc>) -> Result<u64, DbErr> {
        let filter = Filter { statuses: vec![status::DEAD], ..filter.clone() };
        let done = notification::Entity::update_many()
            .filter(filter.condition(company_id))
            .col_expr(notification::Column::Status, sea_orm::sea_query::Expr::value(status::PENDING))
            .col_expr(notification::Column::NextAttemptAt, sea_orm::sea_query::Expr::value(now))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected)
    }
}

/// [`Store::enqueue`] inside the caller's transaction (which on SQLite must
/// hold the write lock already), so a notification is stored with the change
/// it reports, or not at all.
pub async fn enqueue_in(
    txn: &DatabaseTransaction,
    company_id: i64,
    n: &NewNotification,
    channels: &[String],
    now: DateTime<Utc>,
) -> Result<(Vec<notification::Model>, bool), DbErr> {
    let by_key = || {
        notification::Entity::find()
            .filter(notification::Column::CompanyId.eq(company_id))
            .filter(notification::Column::IdempotencyKey.eq(&n.idempotency_key))
            .order_by_asc(notification::Column::ChannelId)
    };
    let existing = by_key().all(txn).await?;
    if !existing.is_empty() {
        return Ok((existing, true));
    }
    let rows = channels.iter().map(|channel| notification::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        company_id: Set(company_id),
        channel_id: Set(channel.clone()),
        event_type: Set(n.event_type.clone()),
        title: Set(n.title.clone()),
        body: Set(n.body.clone()),
        severity: Set(n.severity as i16),
        fields: Set(n.fields.clone()),
        idempotency_key: Set(n.idempotency_key.clone()),
        status: Set(status::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
        last_error: Set(None),
    });
    // A concurrent Send with the same key inserts nothing here (PostgreSQL waits
    // for it at the unique index) and reads the winner's rows below.
    let inserted = match notification::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([notification::Column::CompanyId, notification::Column::IdempotencyKey, notification::Column::ChannelId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
    {
        Ok(n) => n,
        Err(DbErr::RecordNotInserted) => 0,
        Err(e) => return Err(e),
    };
    Ok((by_key().all(txn).await?, inserted < channels.len() as u64))
}
