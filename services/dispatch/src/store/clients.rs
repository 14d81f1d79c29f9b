//! Clients (patients): created, read, listed, changed and soft-deleted
//! within their company.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, NotSet, Order, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set, TransactionTrait as _,
    sea_query::{Expr, Func},
};

use super::{
    audit,
    entities::{booking, client},
    shared::{Page, Store, StoreError, like_escape, open_statuses, owned},
};
use crate::domain::{Mobility, input::ClientInput};

impl Store {
    pub async fn create_client(&self, company_id: i64, c: ClientInput, now: DateTime<Utc>) -> Result<client::Model, StoreError> {
        let row = client::ActiveModel {
            id: NotSet,
            company_id: Set(company_id),
            created_at: Set(now),
            deleted_at: Set(None),
            ..client_fields(c, now)
        };
        let txn = self.db.begin().await?;
        let row = row.insert(&txn).await?;
        audit::record(&txn, audit::diff("client", row.id, "create", None, Some(&row)), now).await?;
        txn.commit().await?;
        Ok(row)
    }

    pub async fn client(&self, company_id: i64, id: i64) -> Result<client::Model, StoreError> {
        let row = client::Entity::find_by_id(id).filter(client::Column::DeletedAt.is_null()).one(&self.db).await?;
        owned("client", id, company_id, row.map(|r| (r.company_id, r)))
    }

    pub async fn list_clients(
        &self,
        company_id: i64,
        mobilities: &[Mobility],
        query: Option<&str>,
        (page, per_page): (u64, u64),
    ) -> Result<Page<client::Model>, StoreError> {
        let mut q = client::Entity::find().filter(client::Column::CompanyId.eq(company_id)).filter(client::Column::DeletedAt.is_null());
        if !mobilities.is_empty() {
            q = q.filter(client::Column::Mobility.is_in(mobilities.iter().map(|m| m.as_str())));
        }
        if let Some(text) = query {
            q = q.filter(Expr::expr(Func::lower(Expr::col(client::Column::Name))).like(format!("%{}%", like_escape(&text.to_lowercase()))));
        }
        let q = q.order_by(client::Column::Name, Order::Asc).order_by(client::Column::Id, Order::Asc);
        let total = q.clone().count(&self.db).await?;
        let rows = q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        Ok((rows, total))
    }

    pub async fn update_client(&self, company_id: i64, id: i64, c: ClientInput, now: DateTime<Utc>) -> Result<client::Model, StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "client").await?;
        let before = client::Entity::find_by_id(id).filter(client::Column::DeletedAt.is_null()).one(&txn).await?;
        let before = owned("client", id, company_id, before.map(|r| (r.company_id, r)))?;
        let row = client::ActiveModel { id: Set(id), ..client_fields(c, now) }.update(&txn).await?;
        audit::record(&txn, audit::diff("client", id, "update", Some(&before), Some(&row)), now).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Soft delete; a client with bookings still to ride is not deleted.
    pub async fn delete_client(&self, company_id: i64, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        // Checked under the lock (PostgreSQL: the patient's row, which a trip
        // being booked share-locks): a trip booked meanwhile is counted.
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "client").await?;
        let row = client::Entity::find_by_id(id).filter(client::Column::DeletedAt.is_null()).lock_exclusive().one(&txn).await?;
        owned("client", id, company_id, row.map(|r| (r.company_id, r)))?;
        let open = booking::Entity::find()
            .filter(booking::Column::ClientId.eq(id))
            .filter(booking::Column::Status.is_in(open_statuses()))
            .count(&txn)
            .await?;
        if open > 0 {
            return Err(StoreError::FailedPrecondition(format!("client {id} has {open} bookings not yet completed; cancel them first")));
        }
        client::Entity::update_many()
            .col_expr(client::Column::DeletedAt, Expr::value(now))
            .filter(client::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        audit::record(&txn, kit::audit_trail::Change::new("client", id, "delete"), now).await?;
        txn.commit().await?;
        Ok(())
    }
}

fn client_fields(c: ClientInput, now: DateTime<Utc>) -> client::ActiveModel {
    client::ActiveModel {
        name: Set(c.name),
        phone: Set(c.phone),
        address: Set(c.address),
        lat: Set(c.location.lat),
        lon: Set(c.location.lon),
        mobility: Set(c.mobility.as_str().to_owned()),
        notes: Set(c.notes),
        updated_at: Set(now),
        ..Default::default()
    }
}
