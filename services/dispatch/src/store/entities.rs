//! The dispatch tables as sea-orm entities.

macro_rules! entity {
    ($module:ident, $table:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                $(pub $field: $ty,)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(company, "company", {
    name: String,
    time_zone: String,
    created_at: ChronoDateTimeUtc,
    updated_at: ChronoDateTimeUtc,
    erase_completed_after_days: Option<i32>,
});

entity!(driver, "driver", {
    company_id: i64,
    name: String,
    phone: String,
    vehicle_kind: String,
    seats: i32,
    wheelchair_places: i32,
    shift_start_minute: i32,
    shift_end_minute: i32,
    depot_lat: f64,
    depot_lon: f64,
    status: String,
    last_lat: Option<f64>,
    last_lon: Option<f64>,
    last_position_at: Option<ChronoDateTimeUtc>,
    created_at: ChronoDateTimeUtc,
    updated_at: ChronoDateTimeUtc,
    deleted_at: Option<ChronoDateTimeUtc>,
});

entity!(client, "client", {
    company_id: i64,
    name: String,
    phone: String,
    address: String,
    lat: f64,
    lon: f64,
    mobility: String,
    notes: String,
    created_at: ChronoDateTimeUtc,
    updated_at: ChronoDateTimeUtc,
    deleted_at: Option<ChronoDateTimeUtc>,
    erased_at: Option<ChronoDateTimeUtc>,
    erasure_reference: Option<String>,
});

entity!(booking, "booking", {
    company_id: i64,
    client_id: i64,
    pickup_address: String,
    pickup_lat: f64,
    pickup_lon: f64,
    dropoff_address: String,
    dropoff_lat: f64,
    dropoff_lon: f64,
    pickup_earliest: Option<ChronoDateTimeUtc>,
    pickup_latest: Option<ChronoDateTimeUtc>,
    appointment_time: Option<ChronoDateTimeUtc>,
    scheduled_time: ChronoDateTimeUtc,
    service_day: String,
    passengers: i32,
    mobility: String,
    boarding_minutes: i32,
    return_of: Option<i64>,
    will_call: bool,
    recurring_template_id: Option<i64>,
    recurring_leg: Option<i16>,
    notes: String,
    status: String,
    status_reason: String,
    created_at: ChronoDateTimeUtc,
    updated_at: ChronoDateTimeUtc,
    anonymised_at: Option<ChronoDateTimeUtc>,
});

entity!(dispatch_run, "dispatch_run", {
    company_id: i64,
    service_day: String,
    mode: String,
    status: String,
    started_at: ChronoDateTimeUtc,
    finished_at: Option<ChronoDateTimeUtc>,
    load_ms: f64,
    solver_ms: f64,
    write_ms: f64,
    bookings_considered: i32,
    bookings_assigned: i32,
    drivers_used: i32,
    total_distance_km: f64,
    total_duration_minutes: f64,
    unassigned: String,
    routing_source: String,
    solver: String,
    seed: i64,
    error: Option<String>,
    created_by: String,
});

entity!(assignment, "assignment", {
    company_id: i64,
    booking_id: i64,
    driver_id: i64,
    dispatch_run_id: Option<i64>,
    sequence: i32,
    planned_pickup_at: ChronoDateTimeUtc,
    planned_dropoff_at: ChronoDateTimeUtc,
    status: String,
    created_at: ChronoDateTimeUtc,
    updated_at: ChronoDateTimeUtc,
    forced_reason: Option<String>,
    forced_by: Option<String>,
});

entity!(recurring_template, "recurring_template", {
    company_id: i64,
    client_id: i64,
    weekdays: String,
    pickup_address: String,
    pickup_lat: f64,
    pickup_lon: f64,
    dropoff_address: String,
    dropoff_lat: f64,
    dropoff_lon: f64,
    pickup_earliest_minute: i32,
    pickup_latest_minute: i32,
    appointment_minute: Option<i32>,
    return_earliest_minute: Option<i32>,
    return_latest_minute: Option<i32>,
    passengers: i32,
    mobility: String,
    boarding_minutes: i32,
    valid_from: String,
    valid_until: Option<String>,
    notes: String,
    created_at: ChronoDateTimeUtc,
    deleted_at: Option<ChronoDateTimeUtc>,
});

entity!(autonomy_settings, "autonomy_settings", {
    company_id: i64,
    mode: String,
    lateness_threshold_minutes: i32,
    drift_mae_threshold_minutes: f64,
    drift_check_interval_seconds: i32,
    cycle_interval_seconds: i32,
    cycle_lease_until: ChronoDateTimeUtc,
    drift_lease_until: ChronoDateTimeUtc,
    updated_at: ChronoDateTimeUtc,
});

entity!(autonomy_suggestion, "autonomy_suggestion", {
    company_id: i64,
    kind: String,
    booking_id: i64,
    from_driver_id: Option<i64>,
    to_driver_id: Option<i64>,
    other_booking_id: Option<i64>,
    description: String,
    confidence_score: f64,
    expected_improvement_minutes: f64,
    state: String,
    action_id: Option<i64>,
    created_at: ChronoDateTimeUtc,
    updated_at: ChronoDateTimeUtc,
    decided_by: Option<String>,
    decided_at: Option<ChronoDateTimeUtc>,
    retime_pickup_at: Option<ChronoDateTimeUtc>,
    retime_dropoff_at: Option<ChronoDateTimeUtc>,
});

entity!(eta_model, "eta_model", {
    company_id: i64,
    version: i64,
    trained_at: ChronoDateTimeUtc,
    trained_on_trips: i64,
    mae_minutes: f64,
    bias_minutes: f64,
    factors: String,
});

entity!(trip_observation, "trip_observation", {
    company_id: i64,
    booking_id: i64,
    model_version: i64,
    hour: i32,
    zone: String,
    base_seconds: i64,
    predicted_seconds: i64,
    actual_seconds: Option<i64>,
    picked_up_at: ChronoDateTimeUtc,
    completed_at: Option<ChronoDateTimeUtc>,
});

entity!(drift_check, "drift_check", {
    company_id: i64,
    started_at: ChronoDateTimeUtc,
    state: String,
    attempts: i32,
    model_version: i64,
    trips: i64,
    mae_minutes: f64,
    bias_minutes: f64,
    drift_detected: bool,
    retrained_version: Option<i64>,
    error: Option<String>,
    mae_after_minutes: Option<f64>,
    bias_after_minutes: Option<f64>,
});
