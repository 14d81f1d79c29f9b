//! Channels and routes: a company's delivery targets and the rules that send
//! events to them, read back as the domain's routing rules.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait as _, ColumnTrait as _, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _};

use crate::{
    domain::{
        channel::{LOG_CHANNEL, Rule},
        notification::Severity,
    },
    store::{
        Store, StoreError,
        entities::{notify_channel, notify_route},
    },
};

impl Store {
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
