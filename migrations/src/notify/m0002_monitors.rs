//! Uptime monitors, their heartbeats, and maintenance windows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Monitor {
    Table,
    Id,
    CompanyId,
    Name,
    Kind,
    Target,
    ExpectedStatus,
    Keyword,
    GrpcService,
    IntervalSecs,
    TimeoutSecs,
    Retries,
    RecoveryChecks,
    ParentId,
    Paused,
    State,
    StateSince,
    FailStreak,
    OkStreak,
    DownSince,
    AlertedDown,
    HeldDown,
    NextCheckAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Heartbeat {
    Table,
    Id,
    MonitorId,
    CheckedAt,
    Up,
    LatencyMs,
    Message,
    State,
    InMaintenance,
}

#[derive(DeriveIden)]
enum MaintenanceWindow {
    Table,
    Id,
    CompanyId,
    MonitorIds,
    StartsAt,
    EndsAt,
    Reason,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Monitor as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(ColumnDef::new(M::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(M::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(M::Name).string_len(100).not_null())
                    // http | grpc_health | tcp
                    .col(ColumnDef::new(M::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(M::Target).string_len(500).not_null())
                    .col(ColumnDef::new(M::ExpectedStatus).integer().not_null())
                    .col(ColumnDef::new(M::Keyword).string_len(200).not_null())
                    .col(ColumnDef::new(M::GrpcService).string_len(200).not_null())
                    .col(ColumnDef::new(M::IntervalSecs).integer().not_null())
                    .col(ColumnDef::new(M::TimeoutSecs).integer().not_null())
                    .col(ColumnDef::new(M::Retries).integer().not_null())
                    .col(ColumnDef::new(M::RecoveryChecks).integer().not_null())
                    .col(ColumnDef::new(M::ParentId).string_len(36).null())
                    .col(ColumnDef::new(M::Paused).boolean().not_null())
                    // up | pending | down | paused | maintenance
                    .col(ColumnDef::new(M::State).string_len(16).not_null())
                    .col(ColumnDef::new(M::StateSince).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(M::FailStreak).integer().not_null())
                    .col(ColumnDef::new(M::OkStreak).integer().not_null())
                    // When the current outage began (for the downtime in the "up again" alert).
                    .col(ColumnDef::new(M::DownSince).timestamp_with_time_zone().null())
                    // A "down" alert was sent for the current outage.
                    .col(ColumnDef::new(M::AlertedDown).boolean().not_null())
                    // Down, with its alert held back because a parent is failing.
                    .col(ColumnDef::new(M::HeldDown).boolean().not_null())
                    .col(ColumnDef::new(M::NextCheckAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(M::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(M::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitor_parent")
                            .from(M::Table, M::ParentId)
                            .to(M::Table, M::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The scheduler: due monitors.
        manager.create_index(Index::create().name("ix_monitor_next_check").table(M::Table).col(M::NextCheckAt).to_owned()).await?;
        // A company's monitors, and names unique within it.
        manager
            .create_index(
                Index::create().name("ux_monitor_company_name").table(M::Table).col(M::CompanyId).col(M::Name).unique().to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Heartbeat::Table)
                    .col(ColumnDef::new(Heartbeat::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Heartbeat::MonitorId).string_len(36).not_null())
                    .col(ColumnDef::new(Heartbeat::CheckedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Heartbeat::Up).boolean().not_null())
                    .col(ColumnDef::new(Heartbeat::LatencyMs).double().not_null())
                    .col(ColumnDef::new(Heartbeat::Message).text().not_null())
                    .col(ColumnDef::new(Heartbeat::State).string_len(16).not_null())
                    .col(ColumnDef::new(Heartbeat::InMaintenance).boolean().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_heartbeat_monitor")
                            .from(Heartbeat::Table, Heartbeat::MonitorId)
                            .to(M::Table, M::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A monitor's history and its uptime over a period.
        manager
            .create_index(
                Index::create()
                    .name("ix_heartbeat_monitor_checked")
                    .table(Heartbeat::Table)
                    .col(Heartbeat::MonitorId)
                    .col(Heartbeat::CheckedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MaintenanceWindow::Table)
                    .col(ColumnDef::new(MaintenanceWindow::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(MaintenanceWindow::CompanyId).big_integer().not_null())
                    // Comma-separated monitor ids; empty for every monitor of the company.
                    .col(ColumnDef::new(MaintenanceWindow::MonitorIds).text().not_null())
                    .col(ColumnDef::new(MaintenanceWindow::StartsAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(MaintenanceWindow::EndsAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(MaintenanceWindow::Reason).string_len(500).not_null())
                    .col(ColumnDef::new(MaintenanceWindow::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // The windows of a company that are open now.
        manager
            .create_index(
                Index::create()
                    .name("ix_maintenance_window_company_ends")
                    .table(MaintenanceWindow::Table)
                    .col(MaintenanceWindow::CompanyId)
                    .col(MaintenanceWindow::EndsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MaintenanceWindow::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Heartbeat::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Monitor::Table).to_owned()).await
    }
}
