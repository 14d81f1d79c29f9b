//! The driver app's calls, with a `driver` token naming its driver: the day's
//! stops in order with no more of a patient than the driver needs; positions
//! checked (the whole batch refused, the bad fields named), thinned to one a
//! second and never letting a late one replace a newer one; status changes of
//! the driver's own current trips only. Every other role is refused, and a
//! driver is refused everywhere else.

use atmr_proto::dispatch::v1 as pb;
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use kit::{
    auth::{Holder, Role},
    testing::backends,
};
use tonic::Code;

use crate::harness::{TestService, car, day, day_of_trips, geo, patient, start, ts};

/// The service's "now" (the harness's manual clock).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap()
}

fn driver_token(t: &TestService, company: i64, driver_id: Option<i64>) -> String {
    let holder = Holder { subject: "40", email: "driver@example.com", company_id: company, role: Role::Driver, generation: 0, driver_id };
    t.svc.keys.issue_to(&holder, std::time::Duration::from_secs(600))
}

fn fix(lat: f64, at: DateTime<Utc>) -> pb::DriverPosition {
    pb::DriverPosition { position: geo(lat, 6.1), time: ts(at), accuracy_m: 8.0 }
}

/// Two drivers and a planned day: (the driver with trips, the other, their bookings).
async fn planned_day(t: &TestService) -> (i64, i64, Vec<i64>) {
    let a = t.driver(1, car("Ana Duarte")).await;
    let b = t.driver(1, car("Bruno Keller")).await;
    let mut p = patient("Marie Dupont");
    p.notes = "diabète, suivi psychiatrique".into();
    let p = t.patient(1, p).await;
    let mut trips = day_of_trips(p.id, 4);
    for trip in &mut trips {
        trip.notes = "Sonner deux fois, 3e étage".into();
    }
    t.bookings(1, trips).await;
    let run = t.run(1, pb::RunMode::Full).await.unwrap();
    assert_eq!(run.assignments.len(), 4, "the day is planned");
    let first = run.assignments[0].driver_id;
    let other = if first == a.id { b.id } else { a.id };
    let mut mine: Vec<i64> = run.assignments.iter().filter(|x| x.driver_id == first).map(|x| x.booking_id).collect();
    if mine.len() == 4 {
        // Each driver has trips: one moves to the other, forced.
        let moved = mine.pop().unwrap();
        let req = pb::ReassignBookingRequest { booking_id: moved, driver_id: other, force: true, reason: "test: both drivers busy".into() };
        t.api().reassign_booking(t.req(1, req)).await.unwrap();
    }
    (first, other, mine)
}

/// `dispatch_positions_dropped_total` for `reason`, as the admin port reports it.
async fn dropped(t: &TestService, reason: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", t.svc.admin_url())).await.unwrap().text().await.unwrap();
    let label = format!("reason=\"{reason}\"");
    text.lines()
        .find(|l| l.starts_with("dispatch_positions_dropped_total{") && l.contains(&label))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn a_driver_reads_their_own_day_in_order_and_no_more_of_a_patient() {
    for backend in backends() {
        let t = start(backend).await;
        let (driver, other, mine) = planned_day(&t).await;
        let token = driver_token(&t, 1, Some(driver));
        let req = pb::GetDriverManifestRequest { service_day: day().to_string() };
        let m = t.api().get_driver_manifest(kit::grpc::request(req.clone(), &token)).await.unwrap().into_inner();
        assert_eq!((m.driver_id, m.service_day.as_str(), m.time_zone.as_str()), (driver, "2026-12-03", "Europe/Zurich"));
        assert_eq!(m.stops.len(), mine.len() * 2, "{backend:?}: a pickup and a drop-off per trip");
        let times: Vec<i64> = m.stops.iter().map(|s| s.planned_time.unwrap().seconds).collect();
        assert!(times.is_sorted(), "{backend:?}: in the route's order: {times:?}");
        for s in &m.stops {
            assert!(mine.contains(&s.booking_id), "{backend:?}: only the driver's trips");
            assert_eq!((s.patient.as_str(), s.phone.as_str()), ("Marie D.", "+41 22 555 12 34"));
            assert_eq!(s.boarding_notes, "Sonner deux fois, 3e étage");
        }
        let whole = format!("{m:?}");
        assert!(!whole.contains("Dupont") && !whole.contains("diabète"), "{backend:?}: nothing else about the patient: {whole}");
        // The other driver's day is theirs alone.
        let theirs = t.api().get_driver_manifest(kit::grpc::request(req.clone(), &driver_token(&t, 1, Some(other)))).await.unwrap();
        let theirs = theirs.into_inner().stops;
        assert!(!theirs.is_empty() && theirs.iter().all(|s| !mine.contains(&s.booking_id)), "{backend:?}");
        // A driver of another company, or a deleted one, has no day here.
        let foreign = t.api().get_driver_manifest(kit::grpc::request(req.clone(), &driver_token(&t, 2, Some(driver)))).await;
        assert_eq!(foreign.unwrap_err().code(), Code::NotFound, "{backend:?}");

        // Only a driver token naming its driver reaches it.
        for (who, token) in [
            ("a dispatcher", t.svc.token(1, Role::Dispatcher)),
            ("an admin", t.svc.token(1, Role::Admin)),
            ("a driver token naming no driver", driver_token(&t, 1, None)),
        ] {
            let err = t.api().get_driver_manifest(kit::grpc::request(req.clone(), &token)).await.unwrap_err();
            assert_eq!(err.code(), Code::PermissionDenied, "{backend:?}: {who}");
        }
        // A person's token naming the role `service` is a forgery; no component may call dispatch.
        let forged = t.svc.token(1, Role::Service);
        let err = t.api().get_driver_manifest(kit::grpc::request(req.clone(), &forged)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{backend:?}: a person's token naming the role service");
        // A driver reaches nothing else of dispatch.
        let list = t.api().list_bookings(kit::grpc::request(pb::ListBookingsRequest::default(), &token)).await.unwrap_err();
        assert_eq!(list.code(), Code::PermissionDenied, "{backend:?}");
        let get = t.api().get_driver(kit::grpc::request(pb::GetDriverRequest { driver_id: driver }, &token)).await.unwrap_err();
        assert_eq!(get.code(), Code::PermissionDenied, "{backend:?}");
        let status =
            pb::UpdateBookingStatusRequest { booking_id: mine[0], status: pb::BookingStatus::EnRoute as i32, ..Default::default() };
        let err = t.api().update_booking_status(kit::grpc::request(status, &token)).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{backend:?}");
        t.svc.stop().await.unwrap();
    }
}

#[tokio::test]
async fn positions_are_checked_thinned_to_one_a_second_and_a_late_one_never_wins() {
    for backend in backends() {
        let t = start(backend).await;
        let d = t.driver(1, car("Ana Duarte")).await;
        let token = driver_token(&t, 1, Some(d.id));
        let send = |positions: Vec<pb::DriverPosition>| {
            let mut api = t.api();
            let req = kit::grpc::request(pb::RecordDriverPositionsRequest { positions }, &token);
            async move { api.record_driver_positions(req).await }
        };
        let latest = || async {
            let req = kit::grpc::request(pb::GetDriverRequest { driver_id: d.id }, &t.svc.token(1, Role::Dispatcher));
            let d = t.api().get_driver(req).await.unwrap().into_inner().driver.unwrap();
            (d.last_position.map(|p| p.latitude), d.last_position_time.map(|t| t.seconds))
        };
        let t0 = now() - Duration::minutes(5);

        // One bad position refuses the batch; every bad field is named; nothing is written.
        let mut bad = vec![fix(46.20, t0), fix(46.21, t0 + Duration::seconds(1))];
        bad.push(fix(91.0, t0 + Duration::seconds(2)));
        bad.push(pb::DriverPosition { accuracy_m: -3.0, ..fix(46.22, t0 + Duration::seconds(3)) });
        bad.push(fix(46.23, now() + Duration::minutes(2)));
        let err = send(bad).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{backend:?}");
        assert_eq!(
            kit::error::fields_of(&err),
            ["positions[2].position.latitude", "positions[3].accuracy_m", "positions[4].time"],
            "{backend:?}: {}",
            err.message()
        );
        assert!(err.message().contains("more than a minute in the future"), "{}", err.message());
        assert_eq!(latest().await, (None, None), "{backend:?}: nothing written");
        let err = send(Vec::new()).await.unwrap_err();
        assert_eq!(kit::error::field_of(&err), Some("positions"));
        let flood: Vec<_> = (0..601).map(|i| fix(46.2, t0 + Duration::seconds(i))).collect();
        let err = send(flood).await.unwrap_err();
        assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some("positions")), "{backend:?}: over 600");

        // Five positions in two seconds: two kept, the newest is the latest.
        let ms = |s: i64, ms: i64| t0 + Duration::seconds(s) + Duration::milliseconds(ms);
        let burst =
            vec![fix(46.30, ms(0, 0)), fix(46.31, ms(0, 300)), fix(46.32, ms(0, 900)), fix(46.33, ms(1, 100)), fix(46.34, ms(1, 500))];
        let r = send(burst).await.unwrap().into_inner();
        assert_eq!((r.accepted, r.dropped, r.late), (2, 3, 0), "{backend:?}");
        assert_eq!(latest().await, (Some(46.33), Some(ms(1, 100).timestamp())), "{backend:?}");
        // The same second again is dropped; the stored one stays.
        let r = send(vec![fix(46.35, ms(1, 800))]).await.unwrap().into_inner();
        assert_eq!((r.accepted, r.dropped), (0, 1), "{backend:?}");
        // A late batch from a dead zone is accepted but never replaces the newer position.
        let r = send(vec![fix(46.10, t0 - Duration::minutes(3)), fix(46.11, t0 - Duration::minutes(2))]).await.unwrap().into_inner();
        assert_eq!((r.accepted, r.dropped, r.late), (2, 0, 2), "{backend:?}");
        assert_eq!(latest().await.0, Some(46.33), "{backend:?}: the late batch did not overwrite");
        // A newer one moves it.
        send(vec![fix(46.40, t0 + Duration::seconds(30))]).await.unwrap();
        assert_eq!(latest().await.0, Some(46.40), "{backend:?}");

        assert_eq!(dropped(&t, "rate").await, 4, "{backend:?}");
        assert_eq!(dropped(&t, "refused").await, 5 + 601, "{backend:?}");
        // Another role cannot send positions as a driver.
        let req =
            kit::grpc::request(pb::RecordDriverPositionsRequest { positions: vec![fix(46.2, t0)] }, &t.svc.token(1, Role::Dispatcher));
        assert_eq!(t.api().record_driver_positions(req).await.unwrap_err().code(), Code::PermissionDenied);
        t.svc.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_driver_changes_only_their_own_current_trips() {
    for backend in backends() {
        let t = start(backend).await;
        let (driver, other, mine) = planned_day(&t).await;
        let token = driver_token(&t, 1, Some(driver));
        let change = |id: i64, status: pb::BookingStatus, reason: &str, at: Option<DateTime<Utc>>| {
            let mut api = t.api();
            let msg = pb::UpdateTripStatusRequest {
                booking_id: id,
                status: status as i32,
                reason: reason.into(),
                occurred_time: at.and_then(ts),
            };
            let req = kit::grpc::request(msg, &token);
            async move { api.update_trip_status(req).await }
        };
        let dispatcher = t.svc.token(1, Role::Dispatcher);
        let others = t
            .api()
            .list_assignments(kit::grpc::request(pb::ListAssignmentsRequest { driver_id: Some(other), ..Default::default() }, &dispatcher))
            .await
            .unwrap()
            .into_inner()
            .assignments;

        // Another driver's trip and an unknown one are both answered as not found.
        let theirs = others.iter().find(|a| a.status == pb::AssignmentStatus::Planned as i32).expect("the other driver has a trip");
        let err = change(theirs.booking_id, pb::BookingStatus::EnRoute, "", None).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{backend:?}");
        assert_eq!(change(999_999, pb::BookingStatus::EnRoute, "", None).await.unwrap_err().code(), Code::NotFound);
        // Only the statuses a driver sets; a no-show says why.
        let err = change(mine[0], pb::BookingStatus::Cancelled, "", None).await.unwrap_err();
        assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some("status")), "{backend:?}");
        let err = change(mine[0], pb::BookingStatus::NoShow, " ", None).await.unwrap_err();
        assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some("reason")), "{backend:?}");
        let err = change(mine[0], pb::BookingStatus::EnRoute, "", Some(now() + Duration::minutes(5))).await.unwrap_err();
        assert_eq!(kit::error::field_of(&err), Some("occurred_time"), "{backend:?}");
        // The transitions are dispatch's: not picked up before en route.
        assert_eq!(change(mine[0], pb::BookingStatus::PickedUp, "", None).await.unwrap_err().code(), Code::FailedPrecondition);

        let b = change(mine[0], pb::BookingStatus::EnRoute, "", None).await.unwrap().into_inner().booking.unwrap();
        assert_eq!(b.status, pb::BookingStatus::EnRoute as i32);
        change(mine[0], pb::BookingStatus::PickedUp, "", Some(now() - Duration::minutes(10))).await.unwrap();
        change(mine[0], pb::BookingStatus::Completed, "", None).await.unwrap();
        change(mine[1], pb::BookingStatus::NoShow, "personne à la porte ni au téléphone", None).await.unwrap();
        // A finished trip is no longer current.
        assert_eq!(change(mine[0], pb::BookingStatus::Completed, "", None).await.unwrap_err().code(), Code::NotFound);

        // The dispatcher sees what the driver did.
        let get = |id: i64| kit::grpc::request(pb::GetBookingRequest { booking_id: id }, &dispatcher);
        let done = t.api().get_booking(get(mine[0])).await.unwrap().into_inner();
        assert_eq!(done.booking.unwrap().status, pb::BookingStatus::Completed as i32, "{backend:?}");
        let no_show = t.api().get_booking(get(mine[1])).await.unwrap().into_inner().booking.unwrap();
        assert_eq!(no_show.status, pb::BookingStatus::NoShow as i32, "{backend:?}");
        let m = t
            .api()
            .get_driver_manifest(kit::grpc::request(pb::GetDriverManifestRequest { service_day: day().to_string() }, &token))
            .await
            .unwrap()
            .into_inner();
        let shown: Vec<i32> = m.stops.iter().filter(|s| s.booking_id == mine[0]).map(|s| s.status).collect();
        assert_eq!(shown, [pb::BookingStatus::Completed as i32; 2], "{backend:?}: the manifest keeps the day's finished trips");
        t.svc.stop().await.unwrap();
    }
}
