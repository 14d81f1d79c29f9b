//! Dispatch runs: plans, reasons, the statement count that does not grow with
//! the bookings, one run per day at a time, pending-only runs, reassignment,
//! driver positions and the live board.

use std::collections::HashMap;

use atmr_proto::dispatch::v1 as pb;
use futures::StreamExt as _;
use kit::testing::backends;
use sea_orm::ConnectionTrait as _;
use tonic::Code;

use crate::harness::*;

#[tokio::test]
async fn a_run_plans_the_day_and_says_why_a_booking_was_left_out() {
    for backend in backends() {
        let t = start(backend).await;
        for i in 0..3 {
            t.driver(1, car(&format!("Car {i}"))).await;
        }
        t.driver(1, van("Van")).await;
        let walker = t.patient(1, patient("Walker")).await;
        let wheelchair = t.patient(1, pb::Client { mobility: pb::Mobility::Wheelchair as i32, ..patient("Rolling") }).await;
        let stretcher = t.patient(1, pb::Client { mobility: pb::Mobility::Stretcher as i32, ..patient("Lying") }).await;
        let mut rows = day_of_trips(walker.id, 30);
        rows.push(trip(wheelchair.id, 3, 9, 30));
        rows.push(trip(wheelchair.id, 4, 13, 0));
        rows.push(trip(stretcher.id, 5, 10, 0));
        let bookings = t.bookings(1, rows).await;
        let stretcher_trip = bookings.last().unwrap().id;

        let res = t.run(1, pb::RunMode::Full).await.unwrap();
        let run = res.run.unwrap();
        assert_eq!(run.status(), pb::RunStatus::Completed, "{backend:?}: {:?}", run.error);
        assert_eq!((run.bookings_considered, run.routing_source(), run.solver.as_str()), (33, pb::RoutingSource::Haversine, "sisr"));
        assert_eq!(run.bookings_assigned as usize, res.assignments.len());
        assert_eq!(run.bookings_assigned as usize + run.unassigned.len(), 33);
        let left_out = run.unassigned.iter().find(|u| u.booking_id == stretcher_trip).expect("no stretcher vehicle");
        assert_eq!(left_out.reason, "no_vehicle_of_kind");
        assert!(run.bookings_assigned >= 28, "{backend:?}: only {} of 33 planned", run.bookings_assigned);
        assert!(run.total_distance_km > 0.0 && run.drivers_used >= 1);

        // Each planned booking is assigned, on a driver's route in time order.
        let req = pb::ListAssignmentsRequest {
            run_id: Some(run.id),
            page: Some(atmr_proto::common::v1::PageRequest { page: 1, per_page: 100 }),
            ..Default::default()
        };
        let listed = t.api().list_assignments(t.req(1, req)).await.unwrap().into_inner().assignments;
        assert_eq!(listed.len(), res.assignments.len());
        for a in &listed {
            let b = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: a.booking_id })).await.unwrap().into_inner();
            assert_eq!(b.booking.as_ref().unwrap().status(), pb::BookingStatus::Assigned);
            assert_eq!(b.assignment.as_ref().unwrap().id, a.id);
            let booking = b.booking.unwrap();
            let pickup = a.planned_pickup_time.unwrap().seconds;
            assert!(pickup >= booking.pickup_earliest.unwrap().seconds && pickup <= booking.pickup_latest.unwrap().seconds);
            assert!(a.planned_dropoff_time.unwrap().seconds <= booking.appointment_time.unwrap().seconds);
        }
        let got = t.api().get_dispatch_run(t.req(1, pb::GetDispatchRunRequest { run_id: run.id })).await.unwrap().into_inner().run.unwrap();
        assert_eq!(got, run);
        let runs = t.api().list_dispatch_runs(t.req(1, pb::ListDispatchRunsRequest::default())).await.unwrap().into_inner();
        assert_eq!(runs.runs.len(), 1);
        assert_eq!(
            t.api().get_dispatch_run(t.req(2, pb::GetDispatchRunRequest { run_id: run.id })).await.unwrap_err().code(),
            Code::NotFound,
            "another company's run is answered as one that does not exist"
        );

        // A second full run re-plans: the first plan is superseded, not duplicated.
        let again = t.run(1, pb::RunMode::Full).await.unwrap();
        let live = pb::ListAssignmentsRequest {
            service_day: Some(day().to_string()),
            statuses: vec![pb::AssignmentStatus::Planned as i32],
            page: Some(atmr_proto::common::v1::PageRequest { page: 1, per_page: 100 }),
            ..Default::default()
        };
        let planned = t.api().list_assignments(t.req(1, live)).await.unwrap().into_inner().assignments;
        assert_eq!(planned.len(), again.assignments.len(), "{backend:?}");
    }
}

#[tokio::test]
async fn a_runs_statements_do_not_grow_with_its_bookings() {
    for backend in backends() {
        let t = start(backend).await;
        let mut counts = Vec::new();
        for (company, n) in [(1, 5), (2, 80)] {
            for i in 0..4 {
                t.driver(company, car(&format!("Car {i}"))).await;
            }
            let p = t.patient(company, patient("P")).await;
            t.bookings(company, day_of_trips(p.id, n)).await;
            let before = t.statements().await;
            let run = t.run(company, pb::RunMode::Full).await.unwrap().run.unwrap();
            counts.push((t.statements().await - before, run.bookings_assigned));
        }
        assert!(counts[1].1 > counts[0].1 * 5, "{backend:?}: the larger day planned more: {counts:?}");
        assert_eq!(counts[0].0, counts[1].0, "{backend:?}: SQL statements per run (5 vs 80 bookings): {counts:?}");
        assert!(counts[0].0 <= 16, "{backend:?}: {counts:?}");
    }
}

#[tokio::test]
async fn two_runs_for_one_day_do_not_interleave() {
    for backend in backends() {
        let t = start(backend).await;
        t.driver(1, car("Car")).await;
        let p = t.patient(1, patient("P")).await;
        t.bookings(1, day_of_trips(p.id, 3)).await;
        // Another replica's run in progress.
        let db = kit::db::connect(&t.db.url).await.unwrap();
        // Started "now" by the service's clock.
        let started = clock().now().to_rfc3339();
        let insert = format!(
            "INSERT INTO dispatch_run (company_id, service_day, mode, status, started_at, load_ms, solver_ms, write_ms, bookings_considered, \
             bookings_assigned, drivers_used, total_distance_km, total_duration_minutes, unassigned, routing_source, solver, seed, created_by) \
             VALUES (1, '{}', 'full', 'running', '{started}', 0, 0, 0, 0, 0, 0, 0, 0, '[]', '', '', 0, 'other replica')",
            day()
        );
        db.execute_unprepared(&insert).await.unwrap();
        let err = t.run(1, pb::RunMode::Full).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{backend:?}: {err:?}");
        assert!(err.message().contains("in progress"), "{}", err.message());
        // Another day, or another company, is not held up.
        let other = pb::RunDispatchRequest { service_day: "2026-12-04".into(), ..Default::default() };
        t.api().run_dispatch(t.req(1, other)).await.unwrap();

        // A run whose process died long ago does not block the day for ever.
        db.execute_unprepared("UPDATE dispatch_run SET started_at = '2020-01-01T00:00:00+00:00' WHERE created_by = 'other replica'")
            .await
            .unwrap();
        let run = t.run(1, pb::RunMode::Full).await.unwrap().run.unwrap();
        assert_eq!(run.bookings_assigned, 3);
        let runs = t
            .api()
            .list_dispatch_runs(t.req(1, pb::ListDispatchRunsRequest { service_day: Some(day().to_string()), ..Default::default() }))
            .await;
        let abandoned = runs.unwrap().into_inner().runs.into_iter().find(|r| r.id != run.id).unwrap();
        assert_eq!(abandoned.status(), pb::RunStatus::Failed);
        assert!(abandoned.error.unwrap().contains("abandoned"));
    }
}

#[tokio::test]
async fn a_pending_only_run_keeps_the_plan_and_adds_to_it() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    for i in 0..3 {
        t.driver(1, car(&format!("Car {i}"))).await;
    }
    let p = t.patient(1, patient("P")).await;
    t.bookings(1, day_of_trips(p.id, 12)).await;
    let first = t.run(1, pb::RunMode::Full).await.unwrap();
    let drivers: HashMap<i64, i64> = first.assignments.iter().map(|a| (a.booking_id, a.driver_id)).collect();
    let added = t.bookings(1, vec![trip(p.id, 50, 15, 0), trip(p.id, 51, 16, 10)]).await;
    let second = t.run(1, pb::RunMode::PendingOnly).await.unwrap();
    for a in &second.assignments {
        if let Some(before) = drivers.get(&a.booking_id) {
            assert_eq!(*before, a.driver_id, "booking {} kept its driver", a.booking_id);
        }
    }
    for b in added {
        assert!(second.assignments.iter().any(|a| a.booking_id == b.id), "new booking {} planned", b.id);
    }
}

#[tokio::test]
async fn reassignment_is_checked_unless_forced() {
    for backend in backends() {
        let t = start(backend).await;
        let car_a = t.driver(1, car("Car A")).await;
        let car_b = t.driver(1, car("Car B")).await;
        let van = t.driver(1, van("Van")).await;
        let walker = t.patient(1, patient("Walker")).await;
        let rolling = t.patient(1, pb::Client { mobility: pb::Mobility::Wheelchair as i32, ..patient("Rolling") }).await;
        let trips = t.bookings(1, vec![trip(walker.id, 0, 9, 0), trip(rolling.id, 1, 11, 0)]).await;
        t.run(1, pb::RunMode::Full).await.unwrap();

        let to = |booking: i64, driver: i64, force| pb::ReassignBookingRequest {
            booking_id: booking,
            driver_id: driver,
            force,
            reason: if force { "the patient asked for this driver".into() } else { String::new() },
        };
        let current = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: trips[0].id })).await.unwrap().into_inner();
        let target = if current.assignment.unwrap().driver_id == car_a.id { car_b.id } else { car_a.id };
        let moved = t.api().reassign_booking(t.req(1, to(trips[0].id, target, false))).await.unwrap().into_inner();
        assert_eq!(moved.assignment.unwrap().driver_id, target, "{backend:?}");
        assert!(moved.violations.is_empty());
        let now = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: trips[0].id })).await.unwrap().into_inner();
        assert_eq!(now.assignment.unwrap().driver_id, target, "one live assignment, on the new driver");

        let err = t.api().reassign_booking(t.req(1, to(trips[1].id, car_a.id, false))).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{backend:?}");
        assert!(err.message().contains("cannot ride in a car"), "{}", err.message());
        assert!(kit::error::rules_of(&err).contains(&"wrong_vehicle"), "the refusal names the rule: {:?}", err.metadata());
        let forced = t.api().reassign_booking(t.req(1, to(trips[1].id, car_a.id, true))).await.unwrap().into_inner();
        assert!(forced.violations.iter().any(|v| v.contains("cannot ride in a car")), "{:?}", forced.violations);
        assert_eq!(forced.violations.len(), forced.violation_details.len(), "one detail per violation");
        let wrong = forced.violation_details.iter().find(|v| v.rule == "wrong_vehicle").expect("the rule is named");
        assert_eq!((wrong.booking_id, wrong.driver_id), (trips[1].id, car_a.id));
        let kept = forced.assignment.unwrap();
        assert_eq!(kept.driver_id, car_a.id);
        assert_eq!(kept.forced_reason, "the patient asked for this driver", "the reason is kept");
        assert!(!kept.forced_by.is_empty(), "and who forced it");
        // Read back: the live assignment carries it; the unforced move's did not.
        let read = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: trips[1].id })).await.unwrap().into_inner();
        assert_eq!(read.assignment.unwrap().forced_reason, "the patient asked for this driver", "{backend:?}");
        let first = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: trips[0].id })).await.unwrap().into_inner();
        assert!(first.assignment.unwrap().forced_reason.is_empty());
        let _ = van;
        let err = t.api().reassign_booking(t.req(2, to(trips[0].id, car_a.id, false))).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "another company's booking");
    }
}

#[tokio::test]
async fn positions_stream_in_and_the_board_streams_out() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    let mine = t.driver(1, car("Mine")).await;
    let theirs = t.driver(2, car("Theirs")).await;
    let p = t.patient(1, patient("P")).await;
    t.bookings(1, day_of_trips(p.id, 2)).await;

    let mut board = t
        .api()
        .watch_assignments(t.req(1, pb::WatchAssignmentsRequest { service_day: Some(day().to_string()) }))
        .await
        .unwrap()
        .into_inner();
    let run = t.run(1, pb::RunMode::Full).await.unwrap();
    for _ in 0..run.assignments.len() {
        let change = board.next().await.unwrap().unwrap();
        assert_eq!(change.change, "created");
    }

    let report = |driver: i64, lat: f64, secs: i64| pb::ReportDriverPositionsRequest {
        driver_id: driver,
        position: geo(lat, 6.1),
        time: Some(prost_types::Timestamp { seconds: 1_790_000_000 + secs, nanos: 0 }),
    };
    let reports = vec![
        report(mine.id, 46.20, 0),
        report(mine.id, 46.22, 20),
        report(mine.id, 46.21, 10),
        report(theirs.id, 46.0, 5),
        report(mine.id, 95.0, 30),
    ];
    let res = t.api().report_driver_positions(t.req(1, futures::stream::iter(reports))).await.unwrap().into_inner();
    assert_eq!((res.accepted, res.rejected), (3, 2), "another company's driver and a bad point are rejected");
    let d = t.api().get_driver(t.req(1, pb::GetDriverRequest { driver_id: mine.id })).await.unwrap().into_inner().driver.unwrap();
    assert_eq!(d.last_position.unwrap().latitude, 46.22, "the newest report wins, whatever the order");
    let other = t.api().get_driver(t.req(2, pb::GetDriverRequest { driver_id: theirs.id })).await.unwrap().into_inner().driver.unwrap();
    assert!(other.last_position.is_none());
}

#[tokio::test]
async fn demo_data_is_made_once_and_can_be_dispatched() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    let db = kit::db::connect(&t.db.url).await.unwrap();
    let size = atmr_dispatch::demo::Size { drivers: 6, patients: 40, bookings: 60 };
    let first = atmr_dispatch::demo::seed_sized(&db, 9, day(), size).await.unwrap();
    assert_eq!((first.drivers, first.patients, first.bookings), (6, 40, 60));
    let second = atmr_dispatch::demo::seed_sized(&db, 9, day(), size).await.unwrap();
    assert_eq!(second, atmr_dispatch::demo::Seeded::default(), "running it twice duplicates nothing");
    let run = t.run(9, pb::RunMode::Full).await.unwrap().run.unwrap();
    assert_eq!(run.bookings_considered, 60);
    assert!(run.bookings_assigned > 0 && run.unassigned.iter().all(|u| !u.reason.is_empty()));
}

/// Two replicas on one PostgreSQL database: a watcher on one sees the run made
/// on the other.
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
async fn the_board_spans_replicas_on_postgres() {
    let a = start(kit::testing::TestBackend::Postgres).await;
    let env = kit::testing::env_for(kit::Component::Dispatch, &a.db.url);
    let mut cfg = atmr_dispatch::Config::from_env(&env).unwrap();
    cfg.clock = clock();
    let b = kit::testing::spawn(move |listeners, life| atmr_dispatch::serve(cfg, listeners, life)).await.unwrap();
    let b_client = atmr_proto::dispatch::v1::dispatch_service_client::DispatchServiceClient::connect(b.url()).await.unwrap();

    a.driver(1, car("Car")).await;
    let p = a.patient(1, patient("P")).await;
    a.bookings(1, day_of_trips(p.id, 3)).await;
    let mut board = a
        .api()
        .watch_assignments(a.req(1, pb::WatchAssignmentsRequest { service_day: Some(day().to_string()) }))
        .await
        .unwrap()
        .into_inner();
    // Each replica listens before it reports ready, so B's NOTIFY reaches A.
    let run = pb::RunDispatchRequest { service_day: day().to_string(), mode: pb::RunMode::Full as i32, seed: 1, time_budget_ms: 0 };
    let res = b_client.clone().run_dispatch(a.req(1, run)).await.unwrap().into_inner();
    assert_eq!(res.assignments.len(), 3);
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 3 {
        let change = tokio::time::timeout(std::time::Duration::from_secs(30), board.next())
            .await
            .expect("the change crosses replicas")
            .unwrap()
            .unwrap();
        if change.change == "created" {
            seen.insert(change.assignment.unwrap().id);
        }
    }
    let made: std::collections::HashSet<i64> = res.assignments.iter().map(|x| x.id).collect();
    assert_eq!(seen, made);
    b.stop().await.unwrap();
}
