//! Recurring booking templates (e.g. dialysis three times a week) and the
//! link from a generated booking back to its template and leg.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum RecurringTemplate {
    Table,
    Id,
    CompanyId,
    ClientId,
    Weekdays,
    PickupAddress,
    PickupLat,
    PickupLon,
    DropoffAddress,
    DropoffLat,
    DropoffLon,
    PickupEarliestMinute,
    PickupLatestMinute,
    AppointmentMinute,
    ReturnEarliestMinute,
    ReturnLatestMinute,
    Passengers,
    Mobility,
    BoardingMinutes,
    ValidFrom,
    ValidUntil,
    Notes,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Booking {
    Table,
    RecurringLeg,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RecurringTemplate as T;
        let minute = |c: T| ColumnDef::new(c).integer().not_null().to_owned();
        let optional_minute = |c: T| ColumnDef::new(c).integer().null().to_owned();
        let degrees = |c: T| ColumnDef::new(c).double().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(ColumnDef::new(T::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(T::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(T::ClientId).big_integer().not_null())
                    // ISO weekdays, comma-separated and sorted: "1,3,5".
                    .col(ColumnDef::new(T::Weekdays).string_len(13).not_null())
                    .col(ColumnDef::new(T::PickupAddress).string_len(300).not_null())
                    .col(degrees(T::PickupLat))
                    .col(degrees(T::PickupLon))
                    .col(ColumnDef::new(T::DropoffAddress).string_len(300).not_null())
                    .col(degrees(T::DropoffLat))
                    .col(degrees(T::DropoffLon))
                    .col(minute(T::PickupEarliestMinute))
                    .col(minute(T::PickupLatestMinute))
                    .col(optional_minute(T::AppointmentMinute))
                    .col(optional_minute(T::ReturnEarliestMinute))
                    .col(optional_minute(T::ReturnLatestMinute))
                    .col(ColumnDef::new(T::Passengers).integer().not_null())
                    .col(ColumnDef::new(T::Mobility).string_len(16).not_null())
                    .col(ColumnDef::new(T::BoardingMinutes).integer().not_null())
                    // YYYY-MM-DD; until is inclusive and may be null (open-ended).
                    .col(ColumnDef::new(T::ValidFrom).string_len(10).not_null())
                    .col(ColumnDef::new(T::ValidUntil).string_len(10).null())
                    .col(ColumnDef::new(T::Notes).text().not_null())
                    .col(ColumnDef::new(T::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(T::DeletedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // GenerateRecurringBookings and ListRecurringTemplates: a company's templates.
        manager
            .create_index(
                Index::create().name("ix_recurring_template_company").table(T::Table).col(T::CompanyId).col(T::ClientId).to_owned(),
            )
            .await?;
        // 0 = the outbound trip, 1 = the return; null for bookings made by hand.
        manager
            .alter_table(
                Table::alter().table(Booking::Table).add_column(ColumnDef::new(Booking::RecurringLeg).small_integer().null()).to_owned(),
            )
            .await?;
        // A template makes each leg once per day, however often generation runs.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_booking_recurring ON booking (recurring_template_id, service_day, recurring_leg) \
                 WHERE recurring_template_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP INDEX ux_booking_recurring").await?;
        manager.alter_table(Table::alter().table(Booking::Table).drop_column(Booking::RecurringLeg).to_owned()).await?;
        manager.drop_table(Table::drop().table(RecurringTemplate::Table).to_owned()).await?;
        Ok(())
    }
}
