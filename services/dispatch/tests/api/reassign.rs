//! Reassignments that race into one driver's day: the day is read, checked
//! and written under its lock, so exactly as many land as fit together, and
//! the stored day passes the independent checker.

use atmr_dispatch::{
    domain::{Load, Mobility, VehicleKind, geo::Point},
    planning::RideLimit,
    routing::Haversine,
    solver::{Plan, Problem, Request, Route, Stop, Vehicle, check},
};
use atmr_proto::dispatch::v1 as pb;
use kit::testing::backends;
use tonic::Code;

use crate::harness::*;

#[tokio::test]
async fn sixteen_concurrent_reassignments_into_one_day_land_only_as_many_as_fit() {
    for backend in backends() {
        let t = start(backend).await;
        let car = t.driver(1, car("Car")).await;
        let walker = t.patient(1, patient("Walker")).await;
        // Sixteen trips from one door to the hospital, all picked up between
        // 9:00 and 9:20: the car's four seats take four at once, and no
        // drop-off leaves time to come back within the window. Four fit.
        let trips = t.bookings(1, (0..16).map(|_| trip(walker.id, 0, 9, 0)).collect()).await;
        let calls = trips.iter().map(|b| {
            let mut api = t.api();
            let req = t.req(1, pb::ReassignBookingRequest { booking_id: b.id, driver_id: car.id, force: false, reason: String::new() });
            async move { api.reassign_booking(req).await }
        });
        let results = futures::future::join_all(calls).await;
        let mut landed = Vec::new();
        for (b, r) in trips.iter().zip(results) {
            match r {
                Ok(r) => {
                    let a = r.into_inner().assignment.expect("the new assignment");
                    assert_eq!((a.booking_id, a.driver_id), (b.id, car.id));
                    landed.push(b.id);
                }
                Err(e) => {
                    assert_eq!(e.code(), Code::FailedPrecondition, "{backend:?}: {e:?}");
                    assert!(e.message().contains("does not fit"), "{backend:?}: {}", e.message());
                }
            }
        }
        assert_eq!(landed.len(), 4, "{backend:?}: exactly the four that fit together land: {landed:?}");

        let req = pb::ListAssignmentsRequest {
            driver_id: Some(car.id),
            statuses: vec![pb::AssignmentStatus::Planned as i32],
            page: Some(atmr_proto::common::v1::PageRequest { page: 1, per_page: 100 }),
            ..Default::default()
        };
        let day = t.api().list_assignments(t.req(1, req)).await.unwrap().into_inner().assignments;
        let mut on_day: Vec<i64> = day.iter().map(|a| a.booking_id).collect();
        on_day.sort_unstable();
        landed.sort_unstable();
        assert_eq!(on_day, landed, "{backend:?}: the stored day is what was answered");
        for b in &trips {
            let got = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: b.id })).await.unwrap().into_inner();
            let expected = if landed.contains(&b.id) { pb::BookingStatus::Assigned } else { pb::BookingStatus::Pending };
            assert_eq!(got.booking.unwrap().status(), expected, "{backend:?}: booking {}", b.id);
        }
        let (problem, plan) = stored_day(&car, &trips, &day);
        let broken = check::violations(&problem, &plan);
        assert!(broken.is_empty(), "{backend:?}: the stored day breaks rules: {broken:?}");
    }
}

/// The stored day of `driver` as the checker's problem and plan, built here
/// from the API's answers with the service's default travel model and ride
/// limit (no code of the service's planning).
fn stored_day(driver: &pb::Driver, bookings: &[pb::Booking], day: &[pb::Assignment]) -> (Problem, Plan) {
    let depot = driver.depot.unwrap();
    let mut points = vec![Point { lat: depot.latitude, lon: depot.longitude }];
    let ours: Vec<&pb::Booking> = bookings.iter().filter(|b| day.iter().any(|a| a.booking_id == b.id)).collect();
    for b in &ours {
        let (p, d) = (b.pickup.unwrap(), b.dropoff.unwrap());
        points.extend([Point { lat: p.latitude, lon: p.longitude }, Point { lat: d.latitude, lon: d.longitude }]);
    }
    let travel = Haversine::default().matrix(&points);
    let ride = RideLimit { factor: 1.5, extra: chrono::Duration::minutes(15) };
    let requests: Vec<Request> = ours
        .iter()
        .enumerate()
        .map(|(i, b)| Request {
            id: b.id,
            pickup: 1 + 2 * i,
            dropoff: 2 + 2 * i,
            earliest: b.pickup_earliest.unwrap().seconds,
            latest: b.pickup_latest.unwrap().seconds,
            deadline: b.appointment_time.map(|t| t.seconds),
            load: Load::of_trip(Mobility::Ambulatory, b.passengers),
            mobility: Mobility::Ambulatory,
            service: i64::from(b.boarding_minutes) * 60,
            max_ride: ride.max_ride_secs(travel.secs(1 + 2 * i, 2 + 2 * i)),
        })
        .collect();
    let vehicle = Vehicle {
        id: driver.id,
        kind: VehicleKind::Car,
        capacity: Load::of_vehicle(VehicleKind::Car, driver.seats, driver.wheelchair_places),
        start: at(driver.shift_start_minute as u32 / 60, 0).timestamp(),
        end: at(driver.shift_end_minute as u32 / 60, 0).timestamp(),
        depot: 0,
    };
    let mut stops: Vec<Stop> = Vec::new();
    for a in day {
        let request = requests.iter().position(|r| r.id == a.booking_id).unwrap();
        stops.push(Stop { request, pickup: true, time: a.planned_pickup_time.unwrap().seconds });
        stops.push(Stop { request, pickup: false, time: a.planned_dropoff_time.unwrap().seconds });
    }
    stops.sort_by_key(|s| (s.time, !s.pickup));
    let problem = Problem { vehicles: vec![vehicle], requests, travel, keep: Vec::new() };
    (problem, Plan { routes: vec![Route { vehicle: 0, stops }], unassigned: Vec::new() })
}
