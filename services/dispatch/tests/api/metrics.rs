//! Dispatch's own families on its `/metrics` after a run and a late pickup:
//! the run's phases, the bookings it left unassigned by reason, the late
//! pickups, and the database's statements by fixed name and its pool.

use atmr_proto::dispatch::v1 as pb;

use crate::harness::{at, car, patient, start, trip};

#[tokio::test]
async fn a_run_and_a_late_pickup_show_on_the_metrics() {
    for backend in kit::testing::backends() {
        let t = start(backend).await;
        let p = t.patient(1, patient("Jean Dubois")).await;
        t.driver(1, car("Driver")).await;
        // The car's shift starts at 6:00: the 4:00 trip cannot be planned.
        let rows = t.bookings(1, vec![trip(p.id, 0, 9, 0), trip(p.id, 1, 4, 0)]).await;
        let me = ("component", "dispatch");
        assert_eq!(t.metric("dispatch_bookings_unassigned", &[me]).await, 0.0, "every reason at 0 before a run");
        let run = t.run(1, pb::RunMode::Full).await.unwrap();
        assert_eq!((run.assignments.len(), run.run.unwrap().unassigned.len()), (1, 1), "{backend:?}");
        for phase in ["load", "solve", "write", "total"] {
            assert_eq!(t.metric("dispatch_run_duration_seconds_count", &[me, ("phase", phase)]).await, 1.0, "{phase}");
        }
        let unassigned = async || {
            let shift = t.metric("dispatch_bookings_unassigned", &[("reason", "shift")]).await;
            (
                shift + t.metric("dispatch_bookings_unassigned", &[("reason", "time_window")]).await,
                t.metric("dispatch_bookings_unassigned", &[]).await,
            )
        };
        assert_eq!(unassigned().await, (1.0, 1.0), "the 4:00 trip, for its shift or window: {backend:?}");
        // Another run of the day replaces its figures, not adds to them.
        t.run(1, pb::RunMode::Full).await.unwrap();
        assert_eq!(unassigned().await, (1.0, 1.0), "{backend:?}");

        // Picked up at 9:40, 20 minutes after the window closed: past the
        // company's 10 minutes of tolerance.
        let late = async || t.metric("dispatch_late_pickups_total", &[me]).await;
        assert_eq!(late().await, 0.0);
        t.clock.set(at(9, 40));
        for to in [pb::BookingStatus::EnRoute, pb::BookingStatus::PickedUp] {
            let req =
                pb::UpdateBookingStatusRequest { booking_id: rows[0].id, status: to as i32, reason: String::new(), occurred_time: None };
            t.api().update_booking_status(t.req(1, req)).await.unwrap();
        }
        assert_eq!(late().await, 1.0, "{backend:?}");

        // The statements, by fixed names: the data path's (counted by dispatch's
        // own callback too) and the runtime's.
        let statements = async |operation| t.metric("db_query_duration_seconds_count", &[me, ("operation", operation)]).await;
        assert!(statements("insert_booking").await >= 1.0);
        assert!(statements("update_booking").await >= 2.0, "en route, then picked up");
        assert!(t.metric("db_connection_pool_size", &[me]).await >= 1.0);
        t.svc.stop().await.unwrap();
    }
}
