//! The notification outbox and its configuration: channels, routing rules,
//! notifications (one row per notification and channel) and every delivery
//! attempt.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotifyChannel {
    Table,
    Id,
    CompanyId,
    Name,
    Kind,
    Url,
    Recipients,
    Secret,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotifyRoute {
    Table,
    Id,
    CompanyId,
    EventType,
    MinSeverity,
    ChannelId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    CompanyId,
    ChannelId,
    EventType,
    Title,
    Body,
    Severity,
    Fields,
    IdempotencyKey,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    CreatedAt,
    DeliveredAt,
    LastError,
}

#[derive(DeriveIden)]
enum NotificationAttempt {
    Table,
    Id,
    NotificationId,
    Number,
    StartedAt,
    DurationMs,
    Success,
    ResponseCode,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotifyChannel::Table)
                    .col(ColumnDef::new(NotifyChannel::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(NotifyChannel::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(NotifyChannel::Name).string_len(100).not_null())
                    // log | discord | email | webhook
                    .col(ColumnDef::new(NotifyChannel::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(NotifyChannel::Url).text().null())
                    // Email recipients, comma-separated.
                    .col(ColumnDef::new(NotifyChannel::Recipients).text().not_null())
                    // The generic webhook's HMAC key; never returned by the API.
                    .col(ColumnDef::new(NotifyChannel::Secret).text().null())
                    .col(ColumnDef::new(NotifyChannel::Enabled).boolean().not_null())
                    .col(ColumnDef::new(NotifyChannel::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(NotifyChannel::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // Channel names are unique within a company.
        manager
            .create_index(
                Index::create()
                    .name("ux_notify_channel_company_name")
                    .table(NotifyChannel::Table)
                    .col(NotifyChannel::CompanyId)
                    .col(NotifyChannel::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotifyRoute::Table)
                    .col(ColumnDef::new(NotifyRoute::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(NotifyRoute::CompanyId).big_integer().not_null())
                    // Empty: every event type.
                    .col(ColumnDef::new(NotifyRoute::EventType).string_len(100).not_null())
                    // 1 info .. 4 critical.
                    .col(ColumnDef::new(NotifyRoute::MinSeverity).small_integer().not_null())
                    .col(ColumnDef::new(NotifyRoute::ChannelId).string_len(36).not_null())
                    .col(ColumnDef::new(NotifyRoute::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notify_route_channel")
                            .from(NotifyRoute::Table, NotifyRoute::ChannelId)
                            .to(NotifyChannel::Table, NotifyChannel::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Routing a Send: the company's rules.
        manager
            .create_index(Index::create().name("ix_notify_route_company").table(NotifyRoute::Table).col(NotifyRoute::CompanyId).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(ColumnDef::new(Notification::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Notification::CompanyId).big_integer().not_null())
                    // A channel id, or "log" for the built-in log channel.
                    .col(ColumnDef::new(Notification::ChannelId).string_len(36).not_null())
                    .col(ColumnDef::new(Notification::EventType).string_len(100).not_null())
                    .col(ColumnDef::new(Notification::Title).string_len(256).not_null())
                    .col(ColumnDef::new(Notification::Body).text().not_null())
                    .col(ColumnDef::new(Notification::Severity).small_integer().not_null())
                    // JSON array of {name, value, inline}.
                    .col(ColumnDef::new(Notification::Fields).text().not_null())
                    .col(ColumnDef::new(Notification::IdempotencyKey).string_len(200).not_null())
                    // pending | sending | delivered | dead
                    .col(ColumnDef::new(Notification::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Notification::Attempts).integer().not_null())
                    .col(ColumnDef::new(Notification::NextAttemptAt).timestamp_with_time_zone().not_null())
                    // While sending: when the claiming worker's lease runs out.
                    .col(ColumnDef::new(Notification::LeaseUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Notification::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Notification::DeliveredAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Notification::LastError).text().null())
                    .to_owned(),
            )
            .await?;
        // Idempotency: one notification per company, key and channel.
        manager
            .create_index(
                Index::create()
                    .name("ux_notification_company_key_channel")
                    .table(Notification::Table)
                    .col(Notification::CompanyId)
                    .col(Notification::IdempotencyKey)
                    .col(Notification::ChannelId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The workers' claim: due rows by status and time.
        manager
            .create_index(
                Index::create()
                    .name("ix_notification_status_next")
                    .table(Notification::Table)
                    .col(Notification::Status)
                    .col(Notification::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // The list, newest first, per company.
        manager
            .create_index(
                Index::create()
                    .name("ix_notification_company_created")
                    .table(Notification::Table)
                    .col(Notification::CompanyId)
                    .col(Notification::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotificationAttempt::Table)
                    .col(ColumnDef::new(NotificationAttempt::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(NotificationAttempt::NotificationId).string_len(36).not_null())
                    .col(ColumnDef::new(NotificationAttempt::Number).integer().not_null())
                    .col(ColumnDef::new(NotificationAttempt::StartedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(NotificationAttempt::DurationMs).double().not_null())
                    .col(ColumnDef::new(NotificationAttempt::Success).boolean().not_null())
                    .col(ColumnDef::new(NotificationAttempt::ResponseCode).integer().null())
                    .col(ColumnDef::new(NotificationAttempt::Error).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_attempt_notification")
                            .from(NotificationAttempt::Table, NotificationAttempt::NotificationId)
                            .to(Notification::Table, Notification::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A notification's attempts in order.
        manager
            .create_index(
                Index::create()
                    .name("ix_notification_attempt_notification")
                    .table(NotificationAttempt::Table)
                    .col(NotificationAttempt::NotificationId)
                    .col(NotificationAttempt::Number)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(NotificationAttempt::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Notification::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(NotifyRoute::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(NotifyChannel::Table).to_owned()).await
    }
}
