//! Channels and routes: a company's delivery targets and the rules that send
//! events to them, read back as the domain's routing rules.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Select, Set,
    TransactionTrait as _,
};

use super::audit;

use crate::{
    domain::{
        channel::{ChannelKind, ChannelTarget, LOG_CHANNEL, Rule},
        notification::Severity,
    },
    error::Error,
    store::{
        Store,
        entities::{notify_channel, notify_route},
    },
};

/// A channel to create, checked.
pub struct NewChannel {
    pub company_id: i64,
    pub name: String,
    pub kind: ChannelKind,
    pub target: ChannelTarget,
    pub now: DateTime<Utc>,
}

/// What an update changes of a channel, checked (`None`: unchanged).
pub struct ChannelChange {
    pub name: Option<String>,
    pub target: Option<ChannelTarget>,
    pub enabled: Option<bool>,
    pub now: DateTime<Utc>,
}

/// A route to create, checked: its channel is the company's.
pub struct NewRoute {
    pub company_id: i64,
    pub event_type: String,
    pub min_severity: Severity,
    pub channel_id: String,
    pub now: DateTime<Utc>,
}

/// What an update changes of a route, checked (`None`: unchanged); a new
/// channel is the company's.
pub struct RouteChange {
    pub event_type: Option<String>,
    pub min_severity: Option<Severity>,
    pub channel_id: Option<String>,
    pub enabled: Option<bool>,
    pub now: DateTime<Utc>,
}

/// The query for channel `id` of the company.
fn company_channel(company_id: i64, id: &str) -> Select<notify_channel::Entity> {
    notify_channel::Entity::find_by_id(id.to_owned()).filter(notify_channel::Column::CompanyId.eq(company_id))
}

/// The query for route `id` of the company.
fn company_route(company_id: i64, id: &str) -> Select<notify_route::Entity> {
    notify_route::Entity::find_by_id(id.to_owned()).filter(notify_route::Column::CompanyId.eq(company_id))
}

impl Store {
    pub async fn channels(&self, company_id: i64) -> Result<Vec<notify_channel::Model>, Error> {
        Ok(notify_channel::Entity::find()
            .filter(notify_channel::Column::CompanyId.eq(company_id))
            .order_by_asc(notify_channel::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn channel(&self, company_id: i64, id: &str) -> Result<notify_channel::Model, Error> {
        company_channel(company_id, id).one(&self.db).await?.ok_or_else(|| Error::NotFound(format!("channel {id}")))
    }

    /// Any channel by id, whatever the company (the workers deliver for all).
    pub async fn channel_by_id(&self, id: &str) -> Result<Option<notify_channel::Model>, DbErr> {
        notify_channel::Entity::find_by_id(id.to_owned()).one(&self.db).await
    }

    /// Creates an enabled channel; a name the company uses already is refused.
    pub async fn create_channel(&self, new: NewChannel) -> Result<notify_channel::Model, Error> {
        let row = notify_channel::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            company_id: Set(new.company_id),
            name: Set(new.name),
            kind: Set(new.kind.label().to_owned()),
            url: Set(new.target.url),
            recipients: Set(new.target.recipients),
            secret: Set(new.target.secret),
            enabled: Set(true),
            created_at: Set(new.now),
            updated_at: Set(new.now),
        };
        let txn = self.db.begin().await?;
        let row = row.insert(&txn).await.map_err(|e| unique_violation(e, "a channel with this name exists already"))?;
        audit::record(&txn, audit::diff("notification_channel", &row.id, "create", None, Some(&row)), new.now).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Writes `change` over channel `current` as it stands under its row lock,
    /// recorded with what it overwrote; a name the company uses already is refused.
    pub async fn update_channel(&self, current: &notify_channel::Model, change: ChannelChange) -> Result<notify_channel::Model, Error> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "notify_channel").await?;
        let before = company_channel(current.company_id, &current.id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("channel {}", current.id)))?;
        let mut row: notify_channel::ActiveModel = before.clone().into();
        if let Some(name) = change.name {
            row.name = Set(name);
        }
        if let Some(target) = change.target {
            row.url = Set(target.url);
            row.secret = Set(target.secret);
            row.recipients = Set(target.recipients);
        }
        if let Some(enabled) = change.enabled {
            row.enabled = Set(enabled);
        }
        row.updated_at = Set(change.now);
        let row = row.update(&txn).await.map_err(|e| unique_violation(e, "a channel with this name exists already"))?;
        audit::record(&txn, audit::diff("notification_channel", &row.id, "update", Some(&before), Some(&row)), change.now).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Deletes a channel and its routes; its notifications stay, for the record.
    pub async fn delete_channel(&self, company_id: i64, id: &str) -> Result<(), Error> {
        let txn = self.db.begin().await?;
        let done = notify_channel::Entity::delete_many()
            .filter(notify_channel::Column::CompanyId.eq(company_id))
            .filter(notify_channel::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(Error::NotFound(format!("channel {id}")));
        }
        audit::record(&txn, kit::audit_trail::Change::new("notification_channel", id, "delete"), chrono::Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn routes(&self, company_id: i64) -> Result<Vec<notify_route::Model>, DbErr> {
        notify_route::Entity::find()
            .filter(notify_route::Column::CompanyId.eq(company_id))
            .order_by_asc(notify_route::Column::CreatedAt)
            .order_by_asc(notify_route::Column::Id)
            .all(&self.db)
            .await
    }

    /// Routes `event_type` (empty: every type) at `min_severity` and above to
    /// `channel_id`, after the company's earlier routes.
    pub async fn create_route(&self, new: NewRoute) -> Result<notify_route::Model, DbErr> {
        let txn = self.db.begin().await?;
        let row = notify_route::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            company_id: Set(new.company_id),
            event_type: Set(new.event_type),
            min_severity: Set(new.min_severity as i16),
            channel_id: Set(new.channel_id),
            created_at: Set(new.now),
            enabled: Set(true),
        }
        .insert(&txn)
        .await?;
        audit::record(&txn, audit::diff("notification_route", &row.id, "create", None, Some(&row)), new.now).await?;
        txn.commit().await?;
        Ok(row)
    }

    pub async fn route(&self, company_id: i64, id: &str) -> Result<notify_route::Model, Error> {
        company_route(company_id, id).one(&self.db).await?.ok_or_else(|| Error::NotFound(format!("route {id}")))
    }

    /// Writes `change` over route `id` of the company as it stands under its
    /// row lock, recorded in the audit trail with what it overwrote (another
    /// admin's change a moment before included).
    pub async fn update_route(&self, company_id: i64, id: &str, change: RouteChange) -> Result<notify_route::Model, Error> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "notify_route").await?;
        let before =
            company_route(company_id, id).lock_exclusive().one(&txn).await?.ok_or_else(|| Error::NotFound(format!("route {id}")))?;
        let mut row: notify_route::ActiveModel = before.clone().into();
        if let Some(event_type) = change.event_type {
            row.event_type = Set(event_type);
        }
        if let Some(min_severity) = change.min_severity {
            row.min_severity = Set(min_severity as i16);
        }
        if let Some(channel_id) = change.channel_id {
            row.channel_id = Set(channel_id);
        }
        if let Some(enabled) = change.enabled {
            row.enabled = Set(enabled);
        }
        // Nothing asked to change: the route as it is, and nothing recorded.
        let row = if row.is_changed() { row.update(&txn).await? } else { before.clone() };
        if row != before {
            audit::record(&txn, audit::diff("notification_route", &row.id, "update", Some(&before), Some(&row)), change.now).await?;
        }
        txn.commit().await?;
        Ok(row)
    }

    pub async fn delete_route(&self, company_id: i64, id: &str) -> Result<(), Error> {
        let txn = self.db.begin().await?;
        let done = notify_route::Entity::delete_many()
            .filter(notify_route::Column::CompanyId.eq(company_id))
            .filter(notify_route::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(Error::NotFound(format!("route {id}")));
        }
        audit::record(&txn, kit::audit_trail::Change::new("notification_route", id, "delete"), chrono::Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The company's enabled routing rules, in order. A rule whose minimum
    /// severity is not a known value is left out with an error logged: the
    /// others still route (an alert goes on to their channels, or the log).
    pub async fn rules(&self, company_id: i64) -> Result<Vec<Rule>, DbErr> {
        Ok(self
            .routes(company_id)
            .await?
            .into_iter()
            .filter(|r| r.enabled)
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

fn unique_violation(e: DbErr, message: &str) -> Error {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyExists(message.to_owned()),
        _ => Error::Db(e),
    }
}
