//! Companies: a company's row (its name and time zone), read with its
//! defaults when it never changed them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{EntityTrait as _, IntoActiveModel as _, Set, sea_query::OnConflict};

use super::{
    entities::company,
    shared::{Store, StoreError},
};
use crate::domain::UnknownValue;

impl Store {
    /// The company's row, or its defaults if it never changed them.
    pub async fn company(&self, company_id: i64, now: DateTime<Utc>) -> Result<company::Model, StoreError> {
        Ok(company::Entity::find_by_id(company_id).one(&self.db).await?.unwrap_or_else(|| company::Model {
            id: company_id,
            name: format!("Company {company_id}"),
            time_zone: self.default_tz.name().to_owned(),
            created_at: now,
            updated_at: now,
            erase_completed_after_days: None,
        }))
    }

    /// The company's time zone, or the default if it never set one. One it
    /// set that is not a time zone any more is an error, not the default.
    pub async fn time_zone(&self, company_id: i64) -> Result<Tz, StoreError> {
        match company::Entity::find_by_id(company_id).one(&self.db).await? {
            None => Ok(self.default_tz),
            Some(c) => Ok(c.time_zone.parse().map_err(|_| UnknownValue::new("company", "time_zone", c.id, &c.time_zone))?),
        }
    }

    pub async fn save_company(&self, c: company::Model) -> Result<company::Model, StoreError> {
        let mut row = c.clone().into_active_model();
        row.id = Set(c.id);
        company::Entity::insert(row)
            .on_conflict(
                OnConflict::column(company::Column::Id)
                    .update_columns([
                        company::Column::Name,
                        company::Column::TimeZone,
                        company::Column::UpdatedAt,
                        company::Column::EraseCompletedAfterDays,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        company::Entity::find_by_id(c.id).one(&self.db).await?.ok_or_else(|| StoreError::NotFound(format!("company {}", c.id)))
    }
}
