//! Companies become a registry the platform operator adds to: a company's
//! name is unique, letter case aside (`ux_company_name`, on `lower(name)`, the
//! same expression on SQLite and PostgreSQL). Ids are allocated by
//! `CreateCompany` under a table lock, past every id dispatch's tables know.
//! Names stored twice stop the migration, naming the companies.

use sea_orm_migration::{prelude::*, sea_orm::Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let twice = db
            .query_all(Statement::from_string(
                backend,
                "SELECT lower(name) AS name, CAST(COUNT(*) AS TEXT) AS n FROM company GROUP BY lower(name) HAVING COUNT(*) > 1 ORDER BY 1 LIMIT 5",
            ))
            .await?;
        if !twice.is_empty() {
            let mut found = Vec::with_capacity(twice.len());
            for row in twice {
                let name: String = row.try_get("", "name")?;
                let n: String = row.try_get("", "n")?;
                found.push(format!("{name:?} ({n} companies)"));
            }
            return Err(DbErr::Migration(format!(
                "company names must be unique (letter case aside), but these are stored more than once: {}; rename them (UpdateCompany), then migrate again",
                found.join(", ")
            )));
        }
        db.execute_unprepared("CREATE UNIQUE INDEX ux_company_name ON company (lower(name))").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP INDEX IF EXISTS ux_company_name").await?;
        Ok(())
    }
}
