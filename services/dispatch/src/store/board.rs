//! The live board's statements between replicas (PostgreSQL only): the relay
//! pool NOTIFYs go out on, the LISTEN on `atmr_board`, and the rows another
//! replica changed, reloaded by id. Not the data path: none of these is counted.

use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, sqlx};

use super::entities::assignment;

const CHANNEL: &str = "atmr_board";

/// The pool NOTIFYs go out on: two connections, opened when first used.
pub fn relay_pool(database_url: &str) -> Result<sqlx::PgPool, sqlx::Error> {
    sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_lazy(database_url)
}

/// Tells the other replicas `payload`.
pub async fn notify(pool: &sqlx::PgPool, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(pool).await?;
    Ok(())
}

/// A connection listening to the other replicas' notifications.
pub async fn listen(url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The assignments `ids` of `company_id`, as another replica changed them.
pub async fn changed(db: &DatabaseConnection, company_id: i64, ids: Vec<i64>) -> Result<Vec<assignment::Model>, DbErr> {
    assignment::Entity::find().filter(assignment::Column::Id.is_in(ids)).filter(assignment::Column::CompanyId.eq(company_id)).all(db).await
}
