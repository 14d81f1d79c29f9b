//! The safety service's tables, as sea-orm entities, and the queries on them.

use chrono::Utc;
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, Set, TransactionTrait as _};

use crate::domain::{Override, Scope};

pub mod safety_limit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "safety_limit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        pub max_per_hour: Option<i32>,
        pub max_per_day: Option<i32>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every override of one company, in scope order.
pub async fn overrides(db: &DatabaseConnection, company_id: i64) -> Result<Vec<Override>, DbErr> {
    let rows = safety_limit::Entity::find().filter(safety_limit::Column::CompanyId.eq(company_id)).all(db).await?;
    let mut out: Vec<Override> = rows
        .into_iter()
        .map(|r| Override {
            scope: Scope::from_key(&r.scope),
            per_hour: r.max_per_hour.map(|v| v as u32),
            per_day: r.max_per_day.map(|v| v as u32),
        })
        .collect();
    out.sort_by(|a, b| a.scope.cmp(&b.scope));
    Ok(out)
}

/// Replaces every override of one company in one transaction: readers see the
/// old set or the new one, never a mix.
pub async fn replace_overrides(db: &DatabaseConnection, company_id: i64, overrides: &[Override]) -> Result<(), DbErr> {
    let now = Utc::now();
    let rows: Vec<safety_limit::ActiveModel> = overrides
        .iter()
        .map(|o| safety_limit::ActiveModel {
            company_id: Set(company_id),
            scope: Set(o.scope.key().to_owned()),
            max_per_hour: Set(o.per_hour.map(|v| v as i32)),
            max_per_day: Set(o.per_day.map(|v| v as i32)),
            updated_at: Set(now),
        })
        .collect();
    let txn = db.begin().await?;
    safety_limit::Entity::delete_many().filter(safety_limit::Column::CompanyId.eq(company_id)).exec(&txn).await?;
    if !rows.is_empty() {
        safety_limit::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await
}
