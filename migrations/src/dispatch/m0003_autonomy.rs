//! The autonomous manager and the ETA model: per-company settings, the
//! manager's proposals, ETA model versions, observed trips (predicted and
//! actual), and drift-check runs.

use sea_orm_migration::prelude::*;

use super::m0001_dispatch::{big, degrees as real, id, int, text, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AutonomySettings {
    Table,
    Id,
    CompanyId,
    Mode,
    LatenessThresholdMinutes,
    DriftMaeThresholdMinutes,
    DriftCheckIntervalSeconds,
    CycleIntervalSeconds,
    /// Until when one replica holds the company's manager cycle.
    CycleLeaseUntil,
    DriftLeaseUntil,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AutonomySuggestion {
    Table,
    Id,
    CompanyId,
    Kind,
    BookingId,
    FromDriverId,
    ToDriverId,
    OtherBookingId,
    Description,
    ConfidenceScore,
    ExpectedImprovementMinutes,
    State,
    ActionId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum EtaModel {
    Table,
    Id,
    CompanyId,
    Version,
    TrainedAt,
    TrainedOnTrips,
    MaeMinutes,
    BiasMinutes,
    Factors,
}

#[derive(DeriveIden, Clone, Copy)]
enum TripObservation {
    Table,
    Id,
    CompanyId,
    BookingId,
    ModelVersion,
    Hour,
    Zone,
    BaseSeconds,
    PredictedSeconds,
    ActualSeconds,
    PickedUpAt,
    CompletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DriftCheck {
    Table,
    Id,
    CompanyId,
    StartedAt,
    State,
    Attempts,
    ModelVersion,
    Trips,
    MaeMinutes,
    BiasMinutes,
    DriftDetected,
    RetrainedVersion,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AutonomySettings as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(id(S::Id))
                    .col(big(S::CompanyId))
                    // off | suggest | autonomous
                    .col(text(S::Mode, 16))
                    .col(int(S::LatenessThresholdMinutes))
                    .col(real(S::DriftMaeThresholdMinutes))
                    .col(int(S::DriftCheckIntervalSeconds))
                    .col(int(S::CycleIntervalSeconds))
                    .col(time(S::CycleLeaseUntil))
                    .col(time(S::DriftLeaseUntil))
                    .col(time(S::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // One row per company (GetAutonomySettings, the schedulers' leases).
        manager
            .create_index(Index::create().name("ux_autonomy_settings_company").table(S::Table).col(S::CompanyId).unique().to_owned())
            .await?;

        use AutonomySuggestion as G;
        manager
            .create_table(
                Table::create()
                    .table(G::Table)
                    .col(id(G::Id))
                    .col(big(G::CompanyId))
                    // reassign | swap | delay | notify_dispatcher
                    .col(text(G::Kind, 24))
                    .col(big(G::BookingId))
                    .col(ColumnDef::new(G::FromDriverId).big_integer().null())
                    .col(ColumnDef::new(G::ToDriverId).big_integer().null())
                    .col(ColumnDef::new(G::OtherBookingId).big_integer().null())
                    .col(text(G::Description, 500))
                    .col(real(G::ConfidenceScore))
                    .col(real(G::ExpectedImprovementMinutes))
                    // open | blocked | safety_unavailable | executed | expired
                    .col(text(G::State, 24))
                    .col(ColumnDef::new(G::ActionId).big_integer().null())
                    .col(time(G::CreatedAt))
                    .col(time(G::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // ListSuggestions: a company's suggestions in some states, newest first;
        // and the cycle's "is this already proposed" lookup.
        manager
            .create_index(
                Index::create().name("ix_suggestion_company_state").table(G::Table).col(G::CompanyId).col(G::State).col(G::Id).to_owned(),
            )
            .await?;

        use EtaModel as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(id(M::Id))
                    .col(big(M::CompanyId))
                    .col(big(M::Version))
                    .col(time(M::TrainedAt))
                    .col(big(M::TrainedOnTrips))
                    .col(real(M::MaeMinutes))
                    .col(real(M::BiasMinutes))
                    // JSON: the correction factors (global, per hour, per hour and zone).
                    .col(ColumnDef::new(M::Factors).text().not_null())
                    .to_owned(),
            )
            .await?;
        // The current model (highest version) of a company; versions are unique.
        manager
            .create_index(
                Index::create().name("ux_eta_model_company_version").table(M::Table).col(M::CompanyId).col(M::Version).unique().to_owned(),
            )
            .await?;

        use TripObservation as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(id(T::Id))
                    .col(big(T::CompanyId))
                    .col(big(T::BookingId))
                    // The model that made the prediction.
                    .col(big(T::ModelVersion))
                    .col(int(T::Hour))
                    .col(text(T::Zone, 32))
                    .col(big(T::BaseSeconds))
                    .col(big(T::PredictedSeconds))
                    .col(ColumnDef::new(T::ActualSeconds).big_integer().null())
                    .col(time(T::PickedUpAt))
                    .col(ColumnDef::new(T::CompletedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // One observation per booking (picked up once; completing fills it in).
        manager
            .create_index(Index::create().name("ux_trip_observation_booking").table(T::Table).col(T::BookingId).unique().to_owned())
            .await?;
        // The drift check's and the training's window: a company's completed trips, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_trip_observation_company_completed")
                    .table(T::Table)
                    .col(T::CompanyId)
                    .col(T::CompletedAt)
                    .to_owned(),
            )
            .await?;

        use DriftCheck as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(id(D::Id))
                    .col(big(D::CompanyId))
                    .col(time(D::StartedAt))
                    // completed | failed | retried
                    .col(text(D::State, 16))
                    .col(int(D::Attempts))
                    .col(big(D::ModelVersion))
                    .col(big(D::Trips))
                    .col(real(D::MaeMinutes))
                    .col(real(D::BiasMinutes))
                    .col(ColumnDef::new(D::DriftDetected).boolean().not_null())
                    .col(ColumnDef::new(D::RetrainedVersion).big_integer().null())
                    .col(ColumnDef::new(D::Error).text().null())
                    .to_owned(),
            )
            .await?;
        // ListDriftChecks: a company's runs, newest first.
        manager
            .create_index(Index::create().name("ix_drift_check_company").table(D::Table).col(D::CompanyId).col(D::Id).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DriftCheck::Table.into_iden(),
            TripObservation::Table.into_iden(),
            EtaModel::Table.into_iden(),
            AutonomySuggestion::Table.into_iden(),
            AutonomySettings::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
