//! A drift check's figures after retraining: the new model's mean absolute
//! error and bias on the trips the check measured (`mae_after_minutes`,
//! `bias_after_minutes`), present exactly when the check retrained. The
//! checks that retrained before these columns existed take them from their
//! model's row, which holds the same figures (trained and measured on the
//! same trips).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DriftCheck {
    Table,
    MaeAfterMinutes,
    BiasAfterMinutes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [DriftCheck::MaeAfterMinutes, DriftCheck::BiasAfterMinutes] {
            manager
                .alter_table(Table::alter().table(DriftCheck::Table).add_column(ColumnDef::new(column).double().null()).to_owned())
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE drift_check SET \
                 mae_after_minutes = (SELECT m.mae_minutes FROM eta_model m \
                   WHERE m.company_id = drift_check.company_id AND m.version = drift_check.retrained_version), \
                 bias_after_minutes = (SELECT m.bias_minutes FROM eta_model m \
                   WHERE m.company_id = drift_check.company_id AND m.version = drift_check.retrained_version) \
                 WHERE retrained_version IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [DriftCheck::BiasAfterMinutes, DriftCheck::MaeAfterMinutes] {
            manager.alter_table(Table::alter().table(DriftCheck::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
