//! Companies, drivers, clients (patients), bookings, dispatch runs and
//! assignments. Coordinates are stored as two doubles (WGS 84 degrees); every
//! time is UTC; a booking's `service_day` is the local day of its company.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Company {
    Table,
    Id,
    Name,
    TimeZone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Driver {
    Table,
    Id,
    CompanyId,
    Name,
    Phone,
    VehicleKind,
    Seats,
    WheelchairPlaces,
    ShiftStartMinute,
    ShiftEndMinute,
    DepotLat,
    DepotLon,
    Status,
    LastLat,
    LastLon,
    LastPositionAt,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Client {
    Table,
    Id,
    CompanyId,
    Name,
    Phone,
    Address,
    Lat,
    Lon,
    Mobility,
    Notes,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Booking {
    Table,
    Id,
    CompanyId,
    ClientId,
    PickupAddress,
    PickupLat,
    PickupLon,
    DropoffAddress,
    DropoffLat,
    DropoffLon,
    PickupEarliest,
    PickupLatest,
    AppointmentTime,
    ScheduledTime,
    ServiceDay,
    Passengers,
    Mobility,
    BoardingMinutes,
    ReturnOf,
    WillCall,
    RecurringTemplateId,
    Notes,
    Status,
    StatusReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DispatchRun {
    Table,
    Id,
    CompanyId,
    ServiceDay,
    Mode,
    Status,
    StartedAt,
    FinishedAt,
    LoadMs,
    SolverMs,
    WriteMs,
    BookingsConsidered,
    BookingsAssigned,
    DriversUsed,
    TotalDistanceKm,
    TotalDurationMinutes,
    Unassigned,
    RoutingSource,
    Solver,
    Seed,
    Error,
    CreatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Assignment {
    Table,
    Id,
    CompanyId,
    BookingId,
    DriverId,
    DispatchRunId,
    Sequence,
    PlannedPickupAt,
    PlannedDropoffAt,
    Status,
    CreatedAt,
    UpdatedAt,
}

pub(super) fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().auto_increment().primary_key().to_owned()
}

pub(super) fn time<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

fn optional_time<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().to_owned()
}

pub(super) fn int<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().to_owned()
}

pub(super) fn big<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

pub(super) fn text<T: IntoIden>(col: T, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().to_owned()
}

pub(super) fn degrees<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).double().not_null().to_owned()
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

/// Partial unique indexes, written the same on PostgreSQL and SQLite.
const PARTIAL: [&str; 2] = [
    // Two runs for one company and day never interleave: a second `running` row
    // for the same day fails this index, whatever replica inserts it.
    "CREATE UNIQUE INDEX ux_dispatch_run_running ON dispatch_run (company_id, service_day) WHERE status = 'running'",
    // A booking has at most one live assignment; older ones are superseded first.
    "CREATE UNIQUE INDEX ux_assignment_booking_live ON assignment (booking_id) WHERE status IN ('planned', 'active')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The id is the company id of the tokens (users live in the gateway).
        manager
            .create_table(
                Table::create()
                    .table(Company::Table)
                    .col(ColumnDef::new(Company::Id).big_integer().not_null().primary_key())
                    .col(text(Company::Name, 200))
                    .col(text(Company::TimeZone, 64))
                    .col(time(Company::CreatedAt))
                    .col(time(Company::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        use Driver as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(id(D::Id))
                    .col(big(D::CompanyId))
                    .col(text(D::Name, 200))
                    .col(text(D::Phone, 40))
                    // car | wheelchair_van | stretcher
                    .col(text(D::VehicleKind, 16))
                    .col(int(D::Seats))
                    .col(int(D::WheelchairPlaces))
                    .col(int(D::ShiftStartMinute))
                    .col(int(D::ShiftEndMinute))
                    .col(degrees(D::DepotLat))
                    .col(degrees(D::DepotLon))
                    // available | on_duty | off_duty | inactive
                    .col(text(D::Status, 16))
                    .col(ColumnDef::new(D::LastLat).double().null())
                    .col(ColumnDef::new(D::LastLon).double().null())
                    .col(optional_time(D::LastPositionAt))
                    .col(time(D::CreatedAt))
                    .col(time(D::UpdatedAt))
                    .col(optional_time(D::DeletedAt))
                    .to_owned(),
            )
            .await?;
        // ListDrivers and the run's load: a company's drivers by name.
        manager.create_index(index("ix_driver_company_name", D::Table, &[D::CompanyId, D::Name])).await?;

        use Client as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(id(C::Id))
                    .col(big(C::CompanyId))
                    .col(text(C::Name, 200))
                    .col(text(C::Phone, 40))
                    .col(text(C::Address, 300))
                    .col(degrees(C::Lat))
                    .col(degrees(C::Lon))
                    // ambulatory | wheelchair | stretcher
                    .col(text(C::Mobility, 16))
                    .col(ColumnDef::new(C::Notes).text().not_null())
                    .col(time(C::CreatedAt))
                    .col(time(C::UpdatedAt))
                    .col(optional_time(C::DeletedAt))
                    .to_owned(),
            )
            .await?;
        // ListClients: a company's patients by name.
        manager.create_index(index("ix_client_company_name", C::Table, &[C::CompanyId, C::Name])).await?;

        use Booking as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(id(B::Id))
                    .col(big(B::CompanyId))
                    .col(big(B::ClientId))
                    .col(text(B::PickupAddress, 300))
                    .col(degrees(B::PickupLat))
                    .col(degrees(B::PickupLon))
                    .col(text(B::DropoffAddress, 300))
                    .col(degrees(B::DropoffLat))
                    .col(degrees(B::DropoffLon))
                    // Null only for a will-call return whose time is not set yet.
                    .col(optional_time(B::PickupEarliest))
                    .col(optional_time(B::PickupLatest))
                    .col(optional_time(B::AppointmentTime))
                    // The time the booking sorts by: its earliest pickup, else its day's start.
                    .col(time(B::ScheduledTime))
                    // YYYY-MM-DD in the company's time zone.
                    .col(text(B::ServiceDay, 10))
                    .col(int(B::Passengers))
                    .col(text(B::Mobility, 16))
                    .col(int(B::BoardingMinutes))
                    .col(ColumnDef::new(B::ReturnOf).big_integer().null())
                    .col(ColumnDef::new(B::WillCall).boolean().not_null())
                    .col(ColumnDef::new(B::RecurringTemplateId).big_integer().null())
                    .col(ColumnDef::new(B::Notes).text().not_null())
                    // pending | assigned | en_route | picked_up | completed | cancelled | no_show
                    .col(text(B::Status, 16))
                    .col(text(B::StatusReason, 300))
                    .col(time(B::CreatedAt))
                    .col(time(B::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The source's index, with the columns our queries filter on: a run's load
        // (company, day, status in pending/assigned) and ListBookings by day and
        // status, both in scheduled order.
        manager
            .create_index(index(
                "ix_booking_status_scheduled_company",
                B::Table,
                &[B::CompanyId, B::ServiceDay, B::Status, B::ScheduledTime],
            ))
            .await?;
        // ListBookings by client (a patient's history), newest first.
        manager.create_index(index("ix_booking_client_scheduled", B::Table, &[B::ClientId, B::ScheduledTime])).await?;
        // A return trip's lookup of its outbound booking, and the reverse.
        manager.create_index(index("ix_booking_return_of", B::Table, &[B::ReturnOf])).await?;

        use DispatchRun as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(id(R::Id))
                    .col(big(R::CompanyId))
                    .col(text(R::ServiceDay, 10))
                    // full | pending_only
                    .col(text(R::Mode, 16))
                    // running | completed | failed
                    .col(text(R::Status, 16))
                    .col(time(R::StartedAt))
                    .col(optional_time(R::FinishedAt))
                    .col(ColumnDef::new(R::LoadMs).double().not_null())
                    .col(ColumnDef::new(R::SolverMs).double().not_null())
                    .col(ColumnDef::new(R::WriteMs).double().not_null())
                    .col(int(R::BookingsConsidered))
                    .col(int(R::BookingsAssigned))
                    .col(int(R::DriversUsed))
                    .col(ColumnDef::new(R::TotalDistanceKm).double().not_null())
                    .col(ColumnDef::new(R::TotalDurationMinutes).double().not_null())
                    // JSON array of {booking_id, reason, detail}.
                    .col(ColumnDef::new(R::Unassigned).text().not_null())
                    // osrm | haversine
                    .col(text(R::RoutingSource, 16))
                    .col(text(R::Solver, 40))
                    .col(big(R::Seed))
                    .col(ColumnDef::new(R::Error).text().null())
                    .col(text(R::CreatedBy, 200))
                    .to_owned(),
            )
            .await?;
        // ListDispatchRuns: a company's runs of a day, newest first.
        manager.create_index(index("ix_dispatch_run_company_day", R::Table, &[R::CompanyId, R::ServiceDay, R::Id])).await?;

        use Assignment as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(id(A::Id))
                    .col(big(A::CompanyId))
                    .col(big(A::BookingId))
                    .col(big(A::DriverId))
                    // Null for a manual reassignment.
                    .col(ColumnDef::new(A::DispatchRunId).big_integer().null())
                    .col(int(A::Sequence))
                    .col(time(A::PlannedPickupAt))
                    .col(time(A::PlannedDropoffAt))
                    // planned | active | done | superseded
                    .col(text(A::Status, 16))
                    .col(time(A::CreatedAt))
                    .col(time(A::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The source's three: a booking's assignments newest first (GetBooking, and
        // superseding on re-plan) ...
        manager.create_index(index("ix_assignment_booking_created", A::Table, &[A::BookingId, A::CreatedAt])).await?;
        // ... a run's assignments by status (GetDispatchRun, ListAssignments by run) ...
        manager.create_index(index("ix_assignment_dispatch_run_status", A::Table, &[A::DispatchRunId, A::Status])).await?;
        // ... and a driver's route in time order (ListAssignments by driver, ReassignBooking).
        manager.create_index(index("ix_assignment_driver_pickup", A::Table, &[A::CompanyId, A::DriverId, A::PlannedPickupAt])).await?;

        let db = manager.get_connection();
        for sql in PARTIAL {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["assignment", "dispatch_run", "booking", "client", "driver", "company"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
