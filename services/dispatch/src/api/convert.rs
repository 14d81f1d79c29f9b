//! Rows and plain types into the dispatch service's messages, and the stored
//! vocabularies into the contract's enums. Responses are built from rows whose
//! every stored value is known; a list with one unreadable row fails
//! (INTERNAL, the row logged) rather than leave the row out of the answer: a
//! booking silently missing from a dispatcher's board is worse than an error.

use atmr_proto::{common::v1 as common, dispatch::v1 as pb};
use kit::convert::timestamp;

use crate::{
    domain::{AssignmentStatus, BookingStatus, DriverStatus, Mobility, RunMode, RunStatus, UnknownValue, VehicleKind, autonomy::Mode},
    store::{
        entities::{
            assignment, autonomy_settings, autonomy_suggestion, booking, client, company, dispatch_run, drift_check, driver, eta_model,
            recurring_template,
        },
        runs::UnassignedRow,
    },
};

fn point(lat: f64, lon: f64) -> Option<common::GeoPoint> {
    Some(common::GeoPoint { latitude: lat, longitude: lon })
}

pub(super) fn page_info((page, per_page): (u64, u64), total: u64) -> Option<common::PageInfo> {
    Some(kit::convert::page_info((page, per_page), total, false))
}

// Responses are built from rows whose every stored value is known; a list
// with one unreadable row fails (INTERNAL, the row logged) rather than leave
// the row out of the answer: a booking silently missing from a dispatcher's
// board is worse than an error.

pub(super) fn vehicle_kind_pb(id: i64, s: &str) -> Result<pb::VehicleKind, UnknownValue> {
    Ok(match VehicleKind::stored("driver", "vehicle_kind", id, s)? {
        VehicleKind::Car => pb::VehicleKind::Car,
        VehicleKind::WheelchairVan => pb::VehicleKind::WheelchairVan,
        VehicleKind::Stretcher => pb::VehicleKind::Stretcher,
    })
}

pub(super) fn mobility_pb(table: &'static str, id: i64, s: &str) -> Result<pb::Mobility, UnknownValue> {
    Ok(match Mobility::stored(table, "mobility", id, s)? {
        Mobility::Ambulatory => pb::Mobility::Ambulatory,
        Mobility::Wheelchair => pb::Mobility::Wheelchair,
        Mobility::Stretcher => pb::Mobility::Stretcher,
    })
}

pub(super) fn driver_status_pb(id: i64, s: &str) -> Result<pb::DriverStatus, UnknownValue> {
    Ok(match DriverStatus::stored("driver", "status", id, s)? {
        DriverStatus::Available => pb::DriverStatus::Available,
        DriverStatus::OnDuty => pb::DriverStatus::OnDuty,
        DriverStatus::OffDuty => pb::DriverStatus::OffDuty,
        DriverStatus::Inactive => pb::DriverStatus::Inactive,
    })
}

pub(super) fn booking_status_pb(s: BookingStatus) -> pb::BookingStatus {
    match s {
        BookingStatus::Pending => pb::BookingStatus::Pending,
        BookingStatus::Assigned => pb::BookingStatus::Assigned,
        BookingStatus::EnRoute => pb::BookingStatus::EnRoute,
        BookingStatus::PickedUp => pb::BookingStatus::PickedUp,
        BookingStatus::Completed => pb::BookingStatus::Completed,
        BookingStatus::Cancelled => pb::BookingStatus::Cancelled,
        BookingStatus::NoShow => pb::BookingStatus::NoShow,
    }
}

pub(super) fn assignment_status_pb(id: i64, s: &str) -> Result<pb::AssignmentStatus, UnknownValue> {
    Ok(match AssignmentStatus::stored("assignment", "status", id, s)? {
        AssignmentStatus::Planned => pb::AssignmentStatus::Planned,
        AssignmentStatus::Active => pb::AssignmentStatus::Active,
        AssignmentStatus::Done => pb::AssignmentStatus::Done,
        AssignmentStatus::Superseded => pb::AssignmentStatus::Superseded,
    })
}

pub(super) fn company_pb(c: company::Model) -> pb::Company {
    pb::Company {
        id: c.id,
        name: c.name,
        time_zone: c.time_zone,
        create_time: Some(timestamp(c.created_at)),
        erase_completed_after_days: c.erase_completed_after_days.unwrap_or(0),
    }
}

pub(super) fn driver_pb(d: driver::Model) -> Result<pb::Driver, UnknownValue> {
    Ok(pb::Driver {
        id: d.id,
        company_id: d.company_id,
        name: d.name,
        phone: d.phone,
        vehicle_kind: vehicle_kind_pb(d.id, &d.vehicle_kind)? as i32,
        seats: d.seats,
        wheelchair_places: d.wheelchair_places,
        shift_start_minute: d.shift_start_minute,
        shift_end_minute: d.shift_end_minute,
        depot: point(d.depot_lat, d.depot_lon),
        status: driver_status_pb(d.id, &d.status)? as i32,
        last_position: d.last_lat.zip(d.last_lon).and_then(|(lat, lon)| point(lat, lon)),
        last_position_time: d.last_position_at.map(timestamp),
        create_time: Some(timestamp(d.created_at)),
        update_time: Some(timestamp(d.updated_at)),
    })
}

pub(super) fn client_pb(c: client::Model) -> Result<pb::Client, UnknownValue> {
    Ok(pb::Client {
        id: c.id,
        company_id: c.company_id,
        name: c.name,
        phone: c.phone,
        address: c.address,
        location: point(c.lat, c.lon),
        mobility: mobility_pb("client", c.id, &c.mobility)? as i32,
        notes: c.notes,
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
    })
}

pub(super) fn booking_pb(b: booking::Model) -> Result<pb::Booking, UnknownValue> {
    Ok(pb::Booking {
        id: b.id,
        company_id: b.company_id,
        client_id: b.client_id,
        pickup_address: b.pickup_address,
        pickup: point(b.pickup_lat, b.pickup_lon),
        dropoff_address: b.dropoff_address,
        dropoff: point(b.dropoff_lat, b.dropoff_lon),
        pickup_earliest: b.pickup_earliest.map(timestamp),
        pickup_latest: b.pickup_latest.map(timestamp),
        appointment_time: b.appointment_time.map(timestamp),
        passengers: b.passengers,
        mobility: mobility_pb("booking", b.id, &b.mobility)? as i32,
        boarding_minutes: b.boarding_minutes,
        return_of: b.return_of,
        will_call: b.will_call,
        recurring_template_id: b.recurring_template_id,
        notes: b.notes,
        status: booking_status_pb(BookingStatus::stored("booking", "status", b.id, &b.status)?) as i32,
        service_day: b.service_day,
        create_time: Some(timestamp(b.created_at)),
        update_time: Some(timestamp(b.updated_at)),
    })
}

pub(super) fn assignment_pb(a: assignment::Model) -> Result<pb::Assignment, UnknownValue> {
    Ok(pb::Assignment {
        id: a.id,
        booking_id: a.booking_id,
        driver_id: a.driver_id,
        dispatch_run_id: a.dispatch_run_id.unwrap_or_default(),
        sequence: a.sequence,
        planned_pickup_time: Some(timestamp(a.planned_pickup_at)),
        planned_dropoff_time: Some(timestamp(a.planned_dropoff_at)),
        status: assignment_status_pb(a.id, &a.status)? as i32,
        create_time: Some(timestamp(a.created_at)),
        forced_reason: a.forced_reason.unwrap_or_default(),
        forced_by: a.forced_by.unwrap_or_default(),
    })
}

pub(super) fn violation_pb(v: crate::solver::check::Violation) -> pb::Violation {
    pb::Violation {
        rule: v.rule.to_owned(),
        booking_id: v.booking.unwrap_or_default(),
        driver_id: v.driver.unwrap_or_default(),
        message: v.message,
    }
}

pub(super) fn run_pb(r: dispatch_run::Model) -> Result<pb::DispatchRun, UnknownValue> {
    let unassigned: Vec<UnassignedRow> =
        serde_json::from_str(&r.unassigned).map_err(|_| UnknownValue::new("dispatch_run", "unassigned", r.id, &r.unassigned))?;
    let routing_source = match r.routing_source.as_str() {
        "osrm" => pb::RoutingSource::Osrm,
        "haversine" => pb::RoutingSource::Haversine,
        // A run that failed before it had a travel matrix.
        "" => pb::RoutingSource::Unspecified,
        other => return Err(UnknownValue::new("dispatch_run", "routing_source", r.id, other)),
    };
    Ok(pb::DispatchRun {
        id: r.id,
        company_id: r.company_id,
        service_day: r.service_day,
        mode: match RunMode::stored("dispatch_run", "mode", r.id, &r.mode)? {
            RunMode::Full => pb::RunMode::Full,
            RunMode::PendingOnly => pb::RunMode::PendingOnly,
        } as i32,
        status: match RunStatus::stored("dispatch_run", "status", r.id, &r.status)? {
            RunStatus::Running => pb::RunStatus::Running,
            RunStatus::Completed => pb::RunStatus::Completed,
            RunStatus::Failed => pb::RunStatus::Failed,
        } as i32,
        start_time: Some(timestamp(r.started_at)),
        finish_time: r.finished_at.map(timestamp),
        solver_ms: r.solver_ms,
        load_ms: r.load_ms,
        write_ms: r.write_ms,
        bookings_considered: r.bookings_considered,
        bookings_assigned: r.bookings_assigned,
        drivers_used: r.drivers_used,
        total_distance_km: r.total_distance_km,
        total_duration_minutes: r.total_duration_minutes,
        unassigned: unassigned
            .into_iter()
            .map(|u| pb::UnassignedBooking { booking_id: u.booking_id, reason: u.reason, detail: u.detail })
            .collect(),
        routing_source: routing_source as i32,
        solver: r.solver,
        error: r.error,
    })
}

pub(super) fn template_pb(t: recurring_template::Model) -> Result<pb::RecurringTemplate, UnknownValue> {
    let weekdays = t
        .weekdays
        .split(',')
        .map(|d| d.parse().ok().filter(|d| (1..=7).contains(d)))
        .collect::<Option<Vec<i32>>>()
        .ok_or_else(|| UnknownValue::new("recurring_template", "weekdays", t.id, &t.weekdays))?;
    Ok(pb::RecurringTemplate {
        id: t.id,
        company_id: t.company_id,
        client_id: t.client_id,
        weekdays,
        pickup_address: t.pickup_address,
        pickup: point(t.pickup_lat, t.pickup_lon),
        dropoff_address: t.dropoff_address,
        dropoff: point(t.dropoff_lat, t.dropoff_lon),
        pickup_earliest_minute: t.pickup_earliest_minute,
        pickup_latest_minute: t.pickup_latest_minute,
        appointment_minute: t.appointment_minute,
        return_earliest_minute: t.return_earliest_minute,
        return_latest_minute: t.return_latest_minute,
        passengers: t.passengers,
        mobility: mobility_pb("recurring_template", t.id, &t.mobility)? as i32,
        boarding_minutes: t.boarding_minutes,
        valid_from: t.valid_from,
        valid_until: t.valid_until.unwrap_or_default(),
        notes: t.notes,
    })
}

pub(super) fn settings_pb(s: &autonomy_settings::Model) -> Result<pb::AutonomySettings, UnknownValue> {
    let mode = match Mode::stored(s.id, &s.mode)? {
        Mode::Off => pb::AutonomyMode::Off,
        Mode::Suggest => pb::AutonomyMode::Suggest,
        Mode::Autonomous => pb::AutonomyMode::Autonomous,
    };
    Ok(pb::AutonomySettings {
        mode: mode as i32,
        lateness_threshold_minutes: s.lateness_threshold_minutes,
        drift_mae_threshold_minutes: s.drift_mae_threshold_minutes,
        drift_check_interval_seconds: s.drift_check_interval_seconds,
        cycle_interval_seconds: s.cycle_interval_seconds,
    })
}

/// The value `pairs` names `s` by, or an error naming the row.
fn stored<T: Copy>(pairs: &[(&str, T)], table: &'static str, column: &'static str, id: i64, s: &str) -> Result<T, UnknownValue> {
    pairs.iter().find(|(k, _)| *k == s).map(|(_, v)| *v).ok_or_else(|| UnknownValue::new(table, column, id, s))
}

pub(super) const STATES: [(&str, pb::SuggestionState); 7] = [
    ("open", pb::SuggestionState::Open),
    ("blocked", pb::SuggestionState::Blocked),
    ("safety_unavailable", pb::SuggestionState::SafetyUnavailable),
    ("executed", pb::SuggestionState::Executed),
    ("expired", pb::SuggestionState::Expired),
    ("accepted", pb::SuggestionState::Accepted),
    ("dismissed", pb::SuggestionState::Dismissed),
];

pub(super) const KINDS: [(&str, pb::ActionKind); 4] = [
    ("reassign", pb::ActionKind::Reassign),
    ("swap", pb::ActionKind::Swap),
    ("delay", pb::ActionKind::Delay),
    ("notify_dispatcher", pb::ActionKind::NotifyDispatcher),
];

pub(super) fn suggestion_pb(s: autonomy_suggestion::Model) -> Result<pb::Suggestion, UnknownValue> {
    let state = stored(&STATES, "autonomy_suggestion", "state", s.id, &s.state)?;
    let kind = stored(&KINDS, "autonomy_suggestion", "kind", s.id, &s.kind)?;
    Ok(pb::Suggestion {
        id: s.id,
        kind: kind as i32,
        booking_id: s.booking_id,
        from_driver_id: s.from_driver_id,
        to_driver_id: s.to_driver_id,
        other_booking_id: s.other_booking_id,
        description: s.description,
        confidence_score: s.confidence_score,
        expected_improvement_minutes: s.expected_improvement_minutes,
        state: state as i32,
        action_id: s.action_id,
        create_time: Some(timestamp(s.created_at)),
        decided_by: s.decided_by.unwrap_or_default(),
        decide_time: s.decided_at.map(timestamp),
    })
}

pub(super) fn model_pb(m: &eta_model::Model) -> pb::EtaModel {
    pb::EtaModel {
        version: m.version,
        train_time: Some(timestamp(m.trained_at)),
        trained_on_trips: m.trained_on_trips,
        mae_minutes: m.mae_minutes,
        bias_minutes: m.bias_minutes,
    }
}

pub(super) const DRIFT_STATES: [(&str, pb::DriftCheckState); 3] =
    [("completed", pb::DriftCheckState::Completed), ("failed", pb::DriftCheckState::Failed), ("retried", pb::DriftCheckState::Retried)];

pub(super) fn check_pb(c: drift_check::Model) -> Result<pb::DriftCheck, UnknownValue> {
    let state = stored(&DRIFT_STATES, "drift_check", "state", c.id, &c.state)?;
    Ok(pb::DriftCheck {
        id: c.id,
        start_time: Some(timestamp(c.started_at)),
        state: state as i32,
        attempts: c.attempts,
        model_version: c.model_version,
        trips: c.trips,
        mae_minutes: c.mae_minutes,
        bias_minutes: c.bias_minutes,
        drift_detected: c.drift_detected,
        retrained_version: c.retrained_version,
        error: c.error,
        mae_after_minutes: c.mae_after_minutes,
        bias_after_minutes: c.bias_after_minutes,
    })
}

/// A day of drift checks.
pub(super) fn day_pb(d: crate::eta::days::Day) -> pb::DriftCheckDay {
    pb::DriftCheckDay {
        date: d.date.to_string(),
        checks: d.checks,
        failed: d.failed,
        retrained: d.retrained,
        measured: d.measured,
        mean_mae_minutes: d.mean_mae,
        max_mae_minutes: d.max_mae,
        mean_mae_after_minutes: d.mean_mae_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn run(routing_source: &str, unassigned: &str) -> dispatch_run::Model {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        dispatch_run::Model {
            id: 3,
            company_id: 1,
            service_day: "2027-01-15".into(),
            mode: "full".into(),
            status: "completed".into(),
            started_at: at,
            finished_at: Some(at),
            load_ms: 1.0,
            solver_ms: 1.0,
            write_ms: 1.0,
            bookings_considered: 1,
            bookings_assigned: 1,
            drivers_used: 1,
            total_distance_km: 1.0,
            total_duration_minutes: 1.0,
            unassigned: unassigned.into(),
            routing_source: routing_source.into(),
            solver: "sisr".into(),
            seed: 1,
            error: None,
            created_by: "d@x.ch".into(),
        }
    }

    #[test]
    fn stored_vocabularies_convert_or_name_the_row() {
        assert_eq!(vehicle_kind_pb(1, "wheelchair_van"), Ok(pb::VehicleKind::WheelchairVan));
        assert_eq!(
            vehicle_kind_pb(1, "bus").unwrap_err().to_string(),
            "driver.vehicle_kind of row 1 holds \"bus\", which is not one of its values"
        );
        assert_eq!(mobility_pb("client", 2, "stretcher"), Ok(pb::Mobility::Stretcher));
        assert_eq!(mobility_pb("client", 2, "hovercraft").unwrap_err().table, "client");
        assert_eq!(driver_status_pb(3, "on_duty"), Ok(pb::DriverStatus::OnDuty));
        assert!(driver_status_pb(3, "asleep").is_err());
        assert_eq!(assignment_status_pb(4, "superseded"), Ok(pb::AssignmentStatus::Superseded));
        assert!(assignment_status_pb(4, "lost").is_err());
    }

    #[test]
    fn a_run_reads_back_only_what_runs_write() {
        let ok = run_pb(run("haversine", r#"[{"booking_id":5,"reason":"capacity","detail":""}]"#)).unwrap();
        assert_eq!((ok.routing_source(), ok.unassigned.len()), (pb::RoutingSource::Haversine, 1));
        // A run that failed before it had a travel matrix has none.
        assert_eq!(run_pb(run("", "[]")).unwrap().routing_source(), pb::RoutingSource::Unspecified);
        let e = run_pb(run("teleport", "[]")).unwrap_err();
        assert_eq!((e.column, e.value.as_str()), ("routing_source", "teleport"));
        let e = run_pb(run("osrm", "[{oops")).unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str()), ("dispatch_run", "unassigned", "3"), "not an empty list in its place");
        let mut bad = run("osrm", "[]");
        bad.status = "paused".into();
        assert_eq!(run_pb(bad).unwrap_err().column, "status");
    }
}
