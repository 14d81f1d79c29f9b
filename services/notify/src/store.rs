//! Every query of the notify service: channels and routes, the outbox (insert
//! with idempotency, the workers' claim, each attempt's outcome), and the reads
//! and replays of the API.
//!
//! Claiming is safe across replicas: on PostgreSQL the due rows are picked with
//! `FOR UPDATE SKIP LOCKED` and leased in the same statement; on SQLite the one
//! statement runs under the database write lock. A claimed row whose lease runs
//! out (its worker died) is due again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, Statement, TransactionTrait as _,
    sea_query::OnConflict,
};

use crate::{
    domain::{Rule, Severity},
    entities::{LOG_CHANNEL, notification, notification_attempt, notify_channel, notify_route, status},
};

pub use kit::error::StoreError;

/// A notification as Send gives it, checked.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub event_type: String,
    pub title: String,
    pub body: String,
    pub severity: Severity,
    /// JSON array of fields.
    pub fields: String,
    pub idempotency_key: String,
}

/// What one delivery attempt came to.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub started_at: DateTime<Utc>,
    pub duration_ms: f64,
    pub success: bool,
    pub response_code: Option<i32>,
    pub error: Option<String>,
}

/// Where a notification goes after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    Dead,
}

/// Filters of the list and of the bulk replay.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub statuses: Vec<&'static str>,
    pub channel_id: Option<String>,
    pub event_type: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
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
        c
    }
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub async fn channels(&self, company_id: i64) -> Result<Vec<notify_channel::Model>, StoreError> {
        Ok(notify_channel::Entity::find()
            .filter(notify_channel::Column::CompanyId.eq(company_id))
            .order_by_asc(notify_channel::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn channel(&self, company_id: i64, id: &str) -> Result<notify_channel::Model, StoreError> {
        notify_channel::Entity::find_by_id(id.to_owned())
            .filter(notify_channel::Column::CompanyId.eq(company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("channel {id}")))
    }

    /// Any channel by id, whatever the company (the workers deliver for all).
    pub async fn channel_by_id(&self, id: &str) -> Result<Option<notify_channel::Model>, DbErr> {
        notify_channel::Entity::find_by_id(id.to_owned()).one(&self.db).await
    }

    pub async fn create_channel(&self, row: notify_channel::ActiveModel) -> Result<notify_channel::Model, StoreError> {
        row.insert(&self.db).await.map_err(|e| unique_violation(e, "a channel with this name exists already"))
    }

    pub async fn update_channel(&self, row: notify_channel::ActiveModel) -> Result<notify_channel::Model, StoreError> {
        row.update(&self.db).await.map_err(|e| unique_violation(e, "a channel with this name exists already"))
    }

    /// Deletes a channel and its routes; its notifications stay, for the record.
    pub async fn delete_channel(&self, company_id: i64, id: &str) -> Result<(), StoreError> {
        let done = notify_channel::Entity::delete_many()
            .filter(notify_channel::Column::CompanyId.eq(company_id))
            .filter(notify_channel::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if done.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("channel {id}")));
        }
        Ok(())
    }

    pub async fn routes(&self, company_id: i64) -> Result<Vec<notify_route::Model>, StoreError> {
        Ok(notify_route::Entity::find()
            .filter(notify_route::Column::CompanyId.eq(company_id))
            .order_by_asc(notify_route::Column::CreatedAt)
            .order_by_asc(notify_route::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn create_route(&self, row: notify_route::ActiveModel) -> Result<notify_route::Model, StoreError> {
        Ok(row.insert(&self.db).await?)
    }

    pub async fn delete_route(&self, company_id: i64, id: &str) -> Result<(), StoreError> {
        let done = notify_route::Entity::delete_many()
            .filter(notify_route::Column::CompanyId.eq(company_id))
            .filter(notify_route::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if done.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("route {id}")));
        }
        Ok(())
    }

    /// The company's routing rules, in order. A rule whose minimum severity
    /// is not a known value is left out with an error logged: the others
    /// still route (an alert goes on to their channels, or the log).
    pub async fn rules(&self, company_id: i64) -> Result<Vec<Rule>, StoreError> {
        Ok(self
            .routes(company_id)
            .await?
            .into_iter()
            .filter_map(|r| match Severity::from_rank(r.min_severity.into()) {
                Some(min_severity) => Some(Rule { event_type: r.event_type, min_severity, channel_id: r.channel_id }),
                None => {
                    let e = kit::stored::UnknownValue::new("notify_route", "min_severity", &r.id, r.min_severity);
                    tracing::error!(table = e.table, column = e.column, row_id = %e.row_id, value = %e.value, "stored value outside its vocabulary: routing rule left out");
                    None
                }
            })
            .collect())
    }

    /// Stores one notification per channel, unless the idempotency key was seen:
    /// then the notifications stored the first time come back and `true`.
    pub async fn enqueue(
        &self,
        company_id: i64,
        n: &NewNotification,
        channels: &[String],
        now: DateTime<Utc>,
    ) -> Result<(Vec<notification::Model>, bool), StoreError> {
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

    pub async fn get(&self, company_id: i64, id: &str) -> Result<(notification::Model, Vec<notification_attempt::Model>), StoreError> {
        let n = notification::Entity::find_by_id(id.to_owned())
            .filter(notification::Column::CompanyId.eq(company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?;
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
    ) -> Result<(Vec<notification::Model>, u64), StoreError> {
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
    pub async fn retry(&self, company_id: i64, id: &str, now: DateTime<Utc>) -> Result<notification::Model, StoreError> {
        let (n, _) = self.get(company_id, id).await?;
        if n.status == status::DELIVERED || n.status == status::SENDING {
            return Err(StoreError::FailedPrecondition(format!(
                "notification {id} is {}; only pending or dead ones are retried",
                n.status
            )));
        }
        let mut row: notification::ActiveModel = n.into();
        row.status = Set(status::PENDING.to_owned());
        row.next_attempt_at = Set(now);
        Ok(row.update(&self.db).await?)
    }

    /// Puts every dead notification matching `filter` back in the queue.
    pub async fn replay_dead(&self, company_id: i64, filter: &Filter, now: DateTime<Utc>) -> Result<u64, StoreError> {
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

/// The built-in log channel as a model, for delivery.
pub fn log_channel(company_id: i64) -> notify_channel::Model {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    notify_channel::Model {
        id: LOG_CHANNEL.to_owned(),
        company_id,
        name: "log".to_owned(),
        kind: "log".to_owned(),
        url: None,
        recipients: String::new(),
        secret: None,
        enabled: true,
        created_at: epoch,
        updated_at: epoch,
    }
}

fn unique_violation(e: DbErr, message: &str) -> StoreError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StoreError::AlreadyExists(message.to_owned()),
        _ => StoreError::Db(e),
    }
}
