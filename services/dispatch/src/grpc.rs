//! The `atmr.dispatch.v1.DispatchService` implementation: checks the caller and
//! the input, calls the store or the run, and turns rows into messages. Patient
//! names, phones and addresses never reach the log: only ids are logged.

use std::{collections::HashMap, pin::Pin, sync::Arc};

use atmr_proto::{common::v1 as common, dispatch::v1 as pb, dispatch::v1::dispatch_service_server::DispatchService};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt as _};
use kit::{
    auth::{Claims, Role, require_role},
    clock::SharedClock,
    convert::{page, timestamp},
};
use tonic::{Request, Response, Status, Streaming};

use crate::{
    autonomy::manager::Manager,
    board::Board,
    domain::{AssignmentStatus, BookingStatus, DriverStatus, Invalid, Mobility, RunMode, RunStatus, UnknownValue, VehicleKind},
    eta::trips::Trips,
    input::{self, mask_paths},
    metrics::DispatchMetrics,
    reassign::Reassign,
    run::{self, Planner},
    store::entities::{assignment, booking, client, company, dispatch_run, driver, recurring_template},
    store::{
        Store, StoreError, assignments::AssignmentFilter, bookings::BookingFilter, day::Move, drivers::DriverFilter, runs::UnassignedRow,
    },
};

const ROLES: [Role; 2] = [Role::Admin, Role::Dispatcher];

#[derive(Clone)]
pub struct DispatchApi {
    pub(crate) store: Store,
    pub(crate) planner: Arc<Planner>,
    pub(crate) clock: SharedClock,
    pub(crate) board: Board,
    pub(crate) metrics: DispatchMetrics,
    pub(crate) autonomy: Arc<Manager>,
    pub(crate) reassign: Reassign,
    pub(crate) trips: Trips,
}

impl DispatchApi {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn publish(&self, company_id: i64, service_day: &str, change: &'static str, rows: impl IntoIterator<Item = assignment::Model>) {
        self.board.publish(company_id, service_day, change, rows.into_iter().collect());
    }
}

pub(crate) fn caller<T>(req: &Request<T>) -> Result<Claims, Status> {
    require_role(req, &ROLES).cloned()
}

fn point(lat: f64, lon: f64) -> Option<common::GeoPoint> {
    Some(common::GeoPoint { latitude: lat, longitude: lon })
}

pub(crate) fn page_info((page, per_page): (u64, u64), total: u64) -> Option<common::PageInfo> {
    Some(kit::convert::page_info((page, per_page), total, false))
}

pub(crate) fn checked_page(p: Option<&common::PageRequest>) -> Result<(u64, u64), Status> {
    page(p).map_err(|(field, message)| Invalid::new(format!("page.{field}"), message).into())
}

// Responses are built from rows whose every stored value is known; a list
// with one unreadable row fails (INTERNAL, the row logged) rather than leave
// the row out of the answer: a booking silently missing from a dispatcher's
// board is worse than an error.

fn vehicle_kind_pb(id: i64, s: &str) -> Result<pb::VehicleKind, UnknownValue> {
    Ok(match VehicleKind::stored("driver", "vehicle_kind", id, s)? {
        VehicleKind::Car => pb::VehicleKind::Car,
        VehicleKind::WheelchairVan => pb::VehicleKind::WheelchairVan,
        VehicleKind::Stretcher => pb::VehicleKind::Stretcher,
    })
}

fn mobility_pb(table: &'static str, id: i64, s: &str) -> Result<pb::Mobility, UnknownValue> {
    Ok(match Mobility::stored(table, "mobility", id, s)? {
        Mobility::Ambulatory => pb::Mobility::Ambulatory,
        Mobility::Wheelchair => pb::Mobility::Wheelchair,
        Mobility::Stretcher => pb::Mobility::Stretcher,
    })
}

fn driver_status_pb(id: i64, s: &str) -> Result<pb::DriverStatus, UnknownValue> {
    Ok(match DriverStatus::stored("driver", "status", id, s)? {
        DriverStatus::Available => pb::DriverStatus::Available,
        DriverStatus::OnDuty => pb::DriverStatus::OnDuty,
        DriverStatus::OffDuty => pb::DriverStatus::OffDuty,
        DriverStatus::Inactive => pb::DriverStatus::Inactive,
    })
}

fn booking_status_pb(s: BookingStatus) -> pb::BookingStatus {
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

fn booking_status(field: &str, v: i32) -> Result<BookingStatus, Invalid> {
    let s = pb::BookingStatus::try_from(v).map_err(|_| Invalid::new(field, format!("unknown booking status {v}")))?;
    BookingStatus::ALL.iter().copied().find(|b| booking_status_pb(*b) == s).ok_or_else(|| Invalid::new(field, "must be a booking status"))
}

fn assignment_status_pb(id: i64, s: &str) -> Result<pb::AssignmentStatus, UnknownValue> {
    Ok(match AssignmentStatus::stored("assignment", "status", id, s)? {
        AssignmentStatus::Planned => pb::AssignmentStatus::Planned,
        AssignmentStatus::Active => pb::AssignmentStatus::Active,
        AssignmentStatus::Done => pb::AssignmentStatus::Done,
        AssignmentStatus::Superseded => pb::AssignmentStatus::Superseded,
    })
}

fn company_pb(c: company::Model) -> pb::Company {
    pb::Company { id: c.id, name: c.name, time_zone: c.time_zone, create_time: Some(timestamp(c.created_at)) }
}

fn driver_pb(d: driver::Model) -> Result<pb::Driver, UnknownValue> {
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

fn client_pb(c: client::Model) -> Result<pb::Client, UnknownValue> {
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

fn booking_pb(b: booking::Model) -> Result<pb::Booking, UnknownValue> {
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

fn assignment_pb(a: assignment::Model) -> Result<pb::Assignment, UnknownValue> {
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
    })
}

fn run_pb(r: dispatch_run::Model) -> Result<pb::DispatchRun, UnknownValue> {
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

fn required<T>(field: &str, v: Option<T>) -> Result<T, Status> {
    v.ok_or_else(|| Invalid::new(field, "is required").into())
}

fn optional_query(field: &str, q: Option<&str>) -> Result<Option<String>, Invalid> {
    match q.map(str::trim).filter(|q| !q.is_empty()) {
        None => Ok(None),
        Some(q) => kit::input::optional_line(field, q, 100).map(Some),
    }
}

/// `current` with the masked fields taken from `patch`.
fn merge_driver(current: pb::Driver, patch: pb::Driver, paths: &[&str]) -> pb::Driver {
    let mut d = current;
    for p in paths {
        match *p {
            "name" => d.name.clone_from(&patch.name),
            "phone" => d.phone.clone_from(&patch.phone),
            "vehicle_kind" => d.vehicle_kind = patch.vehicle_kind,
            "seats" => d.seats = patch.seats,
            "wheelchair_places" => d.wheelchair_places = patch.wheelchair_places,
            "shift_start_minute" => d.shift_start_minute = patch.shift_start_minute,
            "shift_end_minute" => d.shift_end_minute = patch.shift_end_minute,
            "depot" => d.depot = patch.depot,
            "status" => d.status = patch.status,
            _ => {}
        }
    }
    d
}

fn merge_client(current: pb::Client, patch: pb::Client, paths: &[&str]) -> pb::Client {
    let mut c = current;
    for p in paths {
        match *p {
            "name" => c.name.clone_from(&patch.name),
            "phone" => c.phone.clone_from(&patch.phone),
            "address" => c.address.clone_from(&patch.address),
            "location" => c.location = patch.location,
            "mobility" => c.mobility = patch.mobility,
            "notes" => c.notes.clone_from(&patch.notes),
            _ => {}
        }
    }
    c
}

fn merge_booking(current: pb::Booking, patch: pb::Booking, paths: &[&str]) -> pb::Booking {
    let mut b = current;
    for p in paths {
        match *p {
            "pickup_address" => b.pickup_address.clone_from(&patch.pickup_address),
            "pickup" => b.pickup = patch.pickup,
            "dropoff_address" => b.dropoff_address.clone_from(&patch.dropoff_address),
            "dropoff" => b.dropoff = patch.dropoff,
            "pickup_earliest" => b.pickup_earliest = patch.pickup_earliest,
            "pickup_latest" => b.pickup_latest = patch.pickup_latest,
            "appointment_time" => b.appointment_time = patch.appointment_time,
            "passengers" => b.passengers = patch.passengers,
            "mobility" => b.mobility = patch.mobility,
            "boarding_minutes" => b.boarding_minutes = patch.boarding_minutes,
            "will_call" => b.will_call = patch.will_call,
            "notes" => b.notes.clone_from(&patch.notes),
            _ => {}
        }
    }
    b
}

const DRIVER_PATHS: [&str; 9] =
    ["name", "phone", "vehicle_kind", "seats", "wheelchair_places", "shift_start_minute", "shift_end_minute", "depot", "status"];
const CLIENT_PATHS: [&str; 6] = ["name", "phone", "address", "location", "mobility", "notes"];
const BOOKING_PATHS: [&str; 12] = [
    "pickup_address",
    "pickup",
    "dropoff_address",
    "dropoff",
    "pickup_earliest",
    "pickup_latest",
    "appointment_time",
    "passengers",
    "mobility",
    "boarding_minutes",
    "will_call",
    "notes",
];

type BoardStream = Pin<Box<dyn Stream<Item = Result<pb::WatchAssignmentsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl DispatchService for DispatchApi {
    type WatchAssignmentsStream = BoardStream;

    async fn get_company(&self, req: Request<pb::GetCompanyRequest>) -> Result<Response<pb::GetCompanyResponse>, Status> {
        let c = caller(&req)?;
        let company = self.store.company(c.company_id, self.now()).await?;
        Ok(Response::new(pb::GetCompanyResponse { company: Some(company_pb(company)) }))
    }

    async fn update_company(&self, req: Request<pb::UpdateCompanyRequest>) -> Result<Response<pb::UpdateCompanyResponse>, Status> {
        let c = require_role(&req, &[Role::Admin])?.clone();
        let r = req.into_inner();
        let paths = mask_paths(r.update_mask.as_ref(), &["name", "time_zone"])?;
        let patch = required("company", r.company)?;
        let now = self.now();
        let mut company = self.store.company(c.company_id, now).await?;
        for p in paths {
            match p {
                "name" => company.name = kit::input::required_line("company.name", &patch.name, input::MAX_NAME)?,
                _ => {
                    let tz: chrono_tz::Tz = patch.time_zone.trim().parse().map_err(|_| {
                        Invalid::new(
                            "company.time_zone",
                            format!("must be an IANA time zone such as Europe/Zurich, got {:?}", patch.time_zone),
                        )
                    })?;
                    company.time_zone = tz.name().to_owned();
                }
            }
        }
        company.updated_at = now;
        let saved = self.store.save_company(company).await?;
        Ok(Response::new(pb::UpdateCompanyResponse { company: Some(company_pb(saved)) }))
    }

    async fn create_driver(&self, req: Request<pb::CreateDriverRequest>) -> Result<Response<pb::CreateDriverResponse>, Status> {
        let c = caller(&req)?;
        let d = input::driver(&required("driver", req.into_inner().driver)?).map_err(|e| e.under("driver."))?;
        let row = self.store.create_driver(c.company_id, d, self.now()).await?;
        tracing::info!(driver_id = row.id, "driver created");
        Ok(Response::new(pb::CreateDriverResponse { driver: Some(driver_pb(row)?) }))
    }

    async fn get_driver(&self, req: Request<pb::GetDriverRequest>) -> Result<Response<pb::GetDriverResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("driver_id", req.into_inner().driver_id)?;
        Ok(Response::new(pb::GetDriverResponse { driver: Some(driver_pb(self.store.driver(c.company_id, id).await?)?) }))
    }

    async fn list_drivers(&self, req: Request<pb::ListDriversRequest>) -> Result<Response<pb::ListDriversResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let statuses = r
            .statuses
            .iter()
            .map(|&s| input::driver_status("statuses", s)?.ok_or_else(|| Invalid::new("statuses", "must not contain UNSPECIFIED")))
            .collect::<Result<Vec<_>, _>>()?;
        let kinds = r.vehicle_kinds.iter().map(|&k| input::vehicle_kind("vehicle_kinds", k)).collect::<Result<Vec<_>, _>>()?;
        let filter = DriverFilter { statuses, kinds, query: optional_query("query", r.query.as_deref())? };
        let (rows, total) = self.store.list_drivers(c.company_id, &filter, p).await?;
        Ok(Response::new(pb::ListDriversResponse {
            drivers: rows.into_iter().map(driver_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn update_driver(&self, req: Request<pb::UpdateDriverRequest>) -> Result<Response<pb::UpdateDriverResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let paths = mask_paths(r.update_mask.as_ref(), &DRIVER_PATHS)?;
        let patch = required("driver", r.driver)?;
        let id = input::id("driver.id", patch.id)?;
        let current = driver_pb(self.store.driver(c.company_id, id).await?)?;
        let d = input::driver(&merge_driver(current, patch, &paths)).map_err(|e| e.under("driver."))?;
        let row = self.store.update_driver(c.company_id, id, d, self.now()).await?;
        Ok(Response::new(pb::UpdateDriverResponse { driver: Some(driver_pb(row)?) }))
    }

    async fn delete_driver(&self, req: Request<pb::DeleteDriverRequest>) -> Result<Response<pb::DeleteDriverResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("driver_id", req.into_inner().driver_id)?;
        self.store.delete_driver(c.company_id, id, self.now()).await?;
        Ok(Response::new(pb::DeleteDriverResponse {}))
    }

    async fn create_client(&self, req: Request<pb::CreateClientRequest>) -> Result<Response<pb::CreateClientResponse>, Status> {
        let c = caller(&req)?;
        let input = input::client(&required("client", req.into_inner().client)?).map_err(|e| e.under("client."))?;
        let row = self.store.create_client(c.company_id, input, self.now()).await?;
        tracing::info!(client_id = row.id, "client created");
        Ok(Response::new(pb::CreateClientResponse { client: Some(client_pb(row)?) }))
    }

    async fn get_client(&self, req: Request<pb::GetClientRequest>) -> Result<Response<pb::GetClientResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("client_id", req.into_inner().client_id)?;
        Ok(Response::new(pb::GetClientResponse { client: Some(client_pb(self.store.client(c.company_id, id).await?)?) }))
    }

    async fn list_clients(&self, req: Request<pb::ListClientsRequest>) -> Result<Response<pb::ListClientsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let mobilities = r
            .mobilities
            .iter()
            .map(|&m| input::mobility("mobilities", m)?.ok_or_else(|| Invalid::new("mobilities", "must not contain UNSPECIFIED")))
            .collect::<Result<Vec<_>, _>>()?;
        let query = optional_query("query", r.query.as_deref())?;
        let (rows, total) = self.store.list_clients(c.company_id, &mobilities, query.as_deref(), p).await?;
        Ok(Response::new(pb::ListClientsResponse {
            clients: rows.into_iter().map(client_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn update_client(&self, req: Request<pb::UpdateClientRequest>) -> Result<Response<pb::UpdateClientResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let paths = mask_paths(r.update_mask.as_ref(), &CLIENT_PATHS)?;
        let patch = required("client", r.client)?;
        let id = input::id("client.id", patch.id)?;
        let current = client_pb(self.store.client(c.company_id, id).await?)?;
        let input = input::client(&merge_client(current, patch, &paths)).map_err(|e| e.under("client."))?;
        let row = self.store.update_client(c.company_id, id, input, self.now()).await?;
        Ok(Response::new(pb::UpdateClientResponse { client: Some(client_pb(row)?) }))
    }

    async fn delete_client(&self, req: Request<pb::DeleteClientRequest>) -> Result<Response<pb::DeleteClientResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("client_id", req.into_inner().client_id)?;
        self.store.delete_client(c.company_id, id, self.now()).await?;
        Ok(Response::new(pb::DeleteClientResponse {}))
    }

    async fn create_booking(&self, req: Request<pb::CreateBookingRequest>) -> Result<Response<pb::CreateBookingResponse>, Status> {
        let c = caller(&req)?;
        let input = input::booking(&required("booking", req.into_inner().booking)?).map_err(|e| e.under("booking."))?;
        let mut rows = self.store.create_bookings(c.company_id, vec![input], self.now()).await.map_err(|e| prefix_store(e, "booking."))?;
        let row = rows.pop().expect("one booking in, one out");
        tracing::info!(booking_id = row.id, client_id = row.client_id, "booking created");
        Ok(Response::new(pb::CreateBookingResponse { booking: Some(booking_pb(row)?) }))
    }

    async fn create_bookings(&self, req: Request<pb::CreateBookingsRequest>) -> Result<Response<pb::CreateBookingsResponse>, Status> {
        let c = caller(&req)?;
        let rows = req.into_inner().bookings;
        if rows.is_empty() {
            return Err(Invalid::new("bookings", "is empty").into());
        }
        if rows.len() > input::MAX_BATCH {
            return Err(Invalid::new("bookings", format!("has {} rows; at most {} per call", rows.len(), input::MAX_BATCH)).into());
        }
        let mut inputs = Vec::with_capacity(rows.len());
        let mut bad: Vec<Invalid> = Vec::new();
        for (i, b) in rows.iter().enumerate() {
            match input::booking(b) {
                Ok(v) => inputs.push(v),
                Err(e) => bad.push(e.under(&format!("bookings[{i}]."))),
            }
        }
        if let Some(first) = bad.first() {
            let all = bad.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return Err(Invalid::new(first.field.clone(), format!("{} bad rows, nothing written: {all}", bad.len())).into());
        }
        let created = if inputs.len() == 1 {
            self.store.create_bookings(c.company_id, inputs, self.now()).await.map_err(|e| prefix_store(e, "bookings[0]."))?
        } else {
            self.store.create_bookings(c.company_id, inputs, self.now()).await?
        };
        tracing::info!(count = created.len(), "bookings created");
        Ok(Response::new(pb::CreateBookingsResponse { bookings: created.into_iter().map(booking_pb).collect::<Result<_, _>>()? }))
    }

    async fn get_booking(&self, req: Request<pb::GetBookingRequest>) -> Result<Response<pb::GetBookingResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("booking_id", req.into_inner().booking_id)?;
        let booking = self.store.booking(c.company_id, id).await?;
        let assignment = self.store.live_assignment(id).await?;
        Ok(Response::new(pb::GetBookingResponse {
            booking: Some(booking_pb(booking)?),
            assignment: assignment.map(assignment_pb).transpose()?,
        }))
    }

    async fn list_bookings(&self, req: Request<pb::ListBookingsRequest>) -> Result<Response<pb::ListBookingsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let filter = BookingFilter {
            service_day: r.service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?,
            statuses: r.statuses.iter().map(|&s| booking_status("statuses", s)).collect::<Result<_, _>>()?,
            client_id: r.client_id.map(|v| input::id("client_id", v)).transpose()?,
            driver_id: r.driver_id.map(|v| input::id("driver_id", v)).transpose()?,
        };
        let (rows, total) = self.store.list_bookings(c.company_id, &filter, p).await?;
        Ok(Response::new(pb::ListBookingsResponse {
            bookings: rows.into_iter().map(booking_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn update_booking(&self, req: Request<pb::UpdateBookingRequest>) -> Result<Response<pb::UpdateBookingResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let paths = mask_paths(r.update_mask.as_ref(), &BOOKING_PATHS)?;
        let patch = required("booking", r.booking)?;
        let id = input::id("booking.id", patch.id)?;
        let current = booking_pb(self.store.booking(c.company_id, id).await?)?;
        let merged = merge_booking(current, patch, &paths);
        let input = input::booking(&merged).map_err(|e| e.under("booking."))?;
        let (row, superseded) = self.store.update_booking(c.company_id, id, input, self.now()).await?;
        self.publish(c.company_id, &row.service_day, "superseded", superseded);
        Ok(Response::new(pb::UpdateBookingResponse { booking: Some(booking_pb(row)?) }))
    }

    async fn update_booking_status(
        &self,
        req: Request<pb::UpdateBookingStatusRequest>,
    ) -> Result<Response<pb::UpdateBookingStatusResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let id = input::id("booking_id", r.booking_id)?;
        let to = booking_status("status", r.status)?;
        let reason = kit::input::optional_line("reason", &r.reason, 300)?;
        let now = self.now();
        let at = match r.occurred_time {
            None => now,
            Some(t) => {
                let at = kit::convert::time(&t).map_err(|m| Status::from(Invalid::new("occurred_time", m)))?;
                if at > now + chrono::Duration::minutes(1) || at < now - chrono::Duration::hours(24) {
                    return Err(Invalid::new("occurred_time", "must be within the last 24 hours and not in the future").into());
                }
                at
            }
        };
        let (row, changed) = self.store.update_booking_status(c.company_id, id, to, &reason, now).await?;
        tracing::info!(booking_id = id, status = %to, "booking status changed");
        self.trips.observe(c.company_id, &row, to, at).await;
        self.publish(c.company_id, &row.service_day, "status_changed", changed);
        Ok(Response::new(pb::UpdateBookingStatusResponse { booking: Some(booking_pb(row)?) }))
    }

    async fn create_recurring_template(
        &self,
        req: Request<pb::CreateRecurringTemplateRequest>,
    ) -> Result<Response<pb::CreateRecurringTemplateResponse>, Status> {
        let c = caller(&req)?;
        let t = input::template(&required("template", req.into_inner().template)?).map_err(|e| e.under("template."))?;
        let row = self.store.create_template(c.company_id, t, self.now()).await.map_err(|e| prefix_store(e, "template."))?;
        tracing::info!(template_id = row.id, client_id = row.client_id, "recurring template created");
        Ok(Response::new(pb::CreateRecurringTemplateResponse { template: Some(template_pb(row)?) }))
    }

    async fn list_recurring_templates(
        &self,
        req: Request<pb::ListRecurringTemplatesRequest>,
    ) -> Result<Response<pb::ListRecurringTemplatesResponse>, Status> {
        let c = caller(&req)?;
        let client_id = req.into_inner().client_id.map(|v| input::id("client_id", v)).transpose()?;
        let rows = self.store.list_templates(c.company_id, client_id).await?;
        Ok(Response::new(pb::ListRecurringTemplatesResponse { templates: rows.into_iter().map(template_pb).collect::<Result<_, _>>()? }))
    }

    async fn delete_recurring_template(
        &self,
        req: Request<pb::DeleteRecurringTemplateRequest>,
    ) -> Result<Response<pb::DeleteRecurringTemplateResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("template_id", req.into_inner().template_id)?;
        self.store.delete_template(c.company_id, id, self.now()).await?;
        Ok(Response::new(pb::DeleteRecurringTemplateResponse {}))
    }

    async fn generate_recurring_bookings(
        &self,
        req: Request<pb::GenerateRecurringBookingsRequest>,
    ) -> Result<Response<pb::GenerateRecurringBookingsResponse>, Status> {
        let c = caller(&req)?;
        let day = input::day("service_day", &req.into_inner().service_day)?;
        let (created, already_present) = self.store.generate_recurring(c.company_id, day, self.now()).await?;
        tracing::info!(service_day = %day, created = created.len(), already_present, "recurring bookings generated");
        Ok(Response::new(pb::GenerateRecurringBookingsResponse {
            bookings: created.into_iter().map(booking_pb).collect::<Result<_, _>>()?,
            already_present,
        }))
    }

    async fn run_dispatch(&self, req: Request<pb::RunDispatchRequest>) -> Result<Response<pb::RunDispatchResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let day = input::day("service_day", &r.service_day)?;
        let mode = match pb::RunMode::try_from(r.mode) {
            Ok(pb::RunMode::Unspecified | pb::RunMode::Full) => RunMode::Full,
            Ok(pb::RunMode::PendingOnly) => RunMode::PendingOnly,
            Err(_) => return Err(Invalid::new("mode", format!("unknown run mode {}", r.mode)).into()),
        };
        if r.time_budget_ms < 0 {
            return Err(Invalid::new("time_budget_ms", "must not be negative").into());
        }
        let who = if c.email.is_empty() { c.sub.clone() } else { c.email.clone() };
        let started = std::time::Instant::now();
        let req =
            run::RunRequest { company_id: c.company_id, day, mode, budget_ms: r.time_budget_ms as u32, seed: r.seed, created_by: &who };
        let result = run::run(&self.store, &self.planner, &self.clock, req).await;
        let done = match result {
            Ok(done) => done,
            Err(e) => {
                self.metrics.runs.with_label_values(&["failed"]).inc();
                return Err(e.into());
            }
        };
        self.metrics.runs.with_label_values(&["completed"]).inc();
        self.metrics.run_seconds.observe(started.elapsed().as_secs_f64());
        self.metrics.unassigned.inc_by(done.run.bookings_considered.saturating_sub(done.run.bookings_assigned) as u64);
        tracing::info!(
            run_id = done.run.id,
            considered = done.run.bookings_considered,
            assigned = done.run.bookings_assigned,
            load_ms = done.run.load_ms,
            solver_ms = done.run.solver_ms,
            write_ms = done.run.write_ms,
            "dispatch run completed"
        );
        let day = done.run.service_day.clone();
        self.publish(c.company_id, &day, "superseded", done.superseded);
        self.publish(c.company_id, &day, "created", done.created.iter().cloned());
        Ok(Response::new(pb::RunDispatchResponse {
            run: Some(run_pb(done.run)?),
            assignments: done.created.into_iter().map(assignment_pb).collect::<Result<_, _>>()?,
        }))
    }

    async fn get_dispatch_run(&self, req: Request<pb::GetDispatchRunRequest>) -> Result<Response<pb::GetDispatchRunResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("run_id", req.into_inner().run_id)?;
        Ok(Response::new(pb::GetDispatchRunResponse { run: Some(run_pb(self.store.run(c.company_id, id).await?)?) }))
    }

    async fn list_dispatch_runs(
        &self,
        req: Request<pb::ListDispatchRunsRequest>,
    ) -> Result<Response<pb::ListDispatchRunsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let day = r.service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?;
        let (rows, total) = self.store.list_runs(c.company_id, day, p).await?;
        Ok(Response::new(pb::ListDispatchRunsResponse {
            runs: rows.into_iter().map(run_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn list_assignments(&self, req: Request<pb::ListAssignmentsRequest>) -> Result<Response<pb::ListAssignmentsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let statuses = r
            .statuses
            .iter()
            .map(|&s| match pb::AssignmentStatus::try_from(s) {
                Ok(pb::AssignmentStatus::Planned) => Ok(AssignmentStatus::Planned),
                Ok(pb::AssignmentStatus::Active) => Ok(AssignmentStatus::Active),
                Ok(pb::AssignmentStatus::Done) => Ok(AssignmentStatus::Done),
                Ok(pb::AssignmentStatus::Superseded) => Ok(AssignmentStatus::Superseded),
                _ => Err(Invalid::new("statuses", format!("unknown assignment status {s}"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let filter = AssignmentFilter {
            run_id: r.run_id.map(|v| input::id("run_id", v)).transpose()?,
            driver_id: r.driver_id.map(|v| input::id("driver_id", v)).transpose()?,
            service_day: r.service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?,
            statuses,
        };
        let (rows, total) = self.store.list_assignments(c.company_id, &filter, p).await?;
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: rows.into_iter().map(assignment_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn reassign_booking(&self, req: Request<pb::ReassignBookingRequest>) -> Result<Response<pb::ReassignBookingResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let booking_id = input::id("booking_id", r.booking_id)?;
        let driver_id = input::id("driver_id", r.driver_id)?;
        let moved = self.reassign.move_bookings(c.company_id, &[Move { booking_id, driver_id }], r.force).await?;
        let assignment = moved.created.into_iter().find(|a| a.booking_id == booking_id);
        Ok(Response::new(pb::ReassignBookingResponse {
            assignment: assignment.map(assignment_pb).transpose()?,
            violations: moved.violations,
        }))
    }

    async fn report_driver_positions(
        &self,
        req: Request<Streaming<pb::ReportDriverPositionsRequest>>,
    ) -> Result<Response<pb::ReportDriverPositionsResponse>, Status> {
        let c = caller(&req)?;
        let mut stream = req.into_inner();
        let (mut accepted, mut rejected) = (0_i64, 0_i64);
        // The latest position of each driver and how many reports each sent,
        // written every 200 drivers and at the end of the stream.
        let mut batch = PositionBatch::default();
        while let Some(msg) = stream.next().await {
            let msg = msg?;
            let parsed = input::id("driver_id", msg.driver_id)
                .and_then(|id| Ok((id, input::point("position", msg.position.as_ref())?, input::time("time", msg.time.as_ref())?)));
            let Ok((id, p, t)) = parsed else {
                rejected += 1;
                continue;
            };
            batch.add(id, p.lat, p.lon, t.unwrap_or_else(|| self.now()));
            if batch.latest.len() >= 200 {
                let (a, r) = batch.flush(&self.store, c.company_id).await?;
                (accepted, rejected) = (accepted + a, rejected + r);
            }
        }
        let (a, r) = batch.flush(&self.store, c.company_id).await?;
        (accepted, rejected) = (accepted + a, rejected + r);
        self.metrics.positions.with_label_values(&["accepted"]).inc_by(accepted as u64);
        self.metrics.positions.with_label_values(&["rejected"]).inc_by(rejected as u64);
        if accepted > 0 {
            self.autonomy.positions_moved(c.company_id);
        }
        Ok(Response::new(pb::ReportDriverPositionsResponse { accepted, rejected }))
    }

    async fn watch_assignments(&self, req: Request<pb::WatchAssignmentsRequest>) -> Result<Response<BoardStream>, Status> {
        let c = caller(&req)?;
        let day = req.into_inner().service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?.map(|d| d.to_string());
        let company = c.company_id;
        let rx = tokio_stream::wrappers::BroadcastStream::new(self.board.subscribe());
        let stream = rx.filter_map(move |item| {
            let day = day.clone();
            async move {
                match item {
                    Ok(change) if change.company_id == company && day.as_ref().is_none_or(|d| *d == change.service_day) => {
                        // The stream goes on past a row it cannot read; the row is logged.
                        let assignment = assignment_pb(change.assignment).map_err(StoreError::from).ok()?;
                        Some(Ok(pb::WatchAssignmentsResponse {
                            change: change.change.to_owned(),
                            assignment: Some(assignment),
                            time: Some(timestamp(Utc::now())),
                        }))
                    }
                    Ok(_) => None,
                    // A watcher too slow to keep up is told, and reloads the board.
                    Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => Some(Err(Status::data_loss(format!(
                        "{n} changes were missed; reload the board with ListAssignments and watch again"
                    )))),
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Names the single booking's field in store errors (`booking.client_id`).
fn prefix_store(e: StoreError, prefix: &str) -> StoreError {
    match e {
        StoreError::Invalid(i) => StoreError::Invalid(i.under(prefix)),
        StoreError::PermissionDenied(m) => StoreError::PermissionDenied(format!("{prefix}{m}")),
        other => other,
    }
}

fn template_pb(t: recurring_template::Model) -> Result<pb::RecurringTemplate, UnknownValue> {
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

#[derive(Default)]
struct PositionBatch {
    latest: HashMap<i64, (f64, f64, DateTime<Utc>)>,
    reports: HashMap<i64, i64>,
}

impl PositionBatch {
    fn add(&mut self, driver: i64, lat: f64, lon: f64, at: DateTime<Utc>) {
        *self.reports.entry(driver).or_default() += 1;
        if self.latest.get(&driver).is_none_or(|(_, _, prev)| *prev < at) {
            self.latest.insert(driver, (lat, lon, at));
        }
    }

    /// Writes the batch; `(accepted, rejected)` reports, those of drivers not in
    /// the caller's company being rejected.
    async fn flush(&mut self, store: &Store, company_id: i64) -> Result<(i64, i64), StoreError> {
        let (_, unknown) = store.record_positions(company_id, &self.latest).await?;
        let total: i64 = self.reports.values().sum();
        let rejected: i64 = unknown.iter().map(|id| self.reports.get(id).copied().unwrap_or(0)).sum();
        self.latest.clear();
        self.reports.clear();
        Ok((total - rejected, rejected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
