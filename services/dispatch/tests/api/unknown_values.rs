//! A stored value outside its vocabulary (written by a newer version, or by
//! hand past the database's own check) is never read as a default: the
//! requests that read it answer INTERNAL without its text, the log names the
//! row and the value, and a reassignment into its day or a dispatch run of
//! its day is refused with nothing written.

use std::sync::{Arc, Mutex};

use atmr_proto::dispatch::v1 as pb;
use kit::testing::backends;
use sea_orm::ConnectionTrait as _;
use tonic::Code;
use tracing_subscriber::{filter::LevelFilter, layer::SubscriberExt as _};

use crate::harness::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_mobility_is_an_error_never_ambulatory() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).with_ansi(false))
        .with(LevelFilter::INFO);
    // See e2e::tracing_hop: a global subscriber that is never interested keeps
    // callsites that other tests reach first from being cached as "never".
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(LevelFilter::OFF));
    // One thread: the service's tasks log through this subscriber too.
    let _guard = tracing::subscriber::set_default(subscriber);

    for backend in backends() {
        let t = start(backend).await;
        let driver = t.driver(1, car("Car")).await;
        let walker = t.patient(1, patient("Walker")).await;
        let trips = t.bookings(1, vec![trip(walker.id, 0, 9, 0), trip(walker.id, 1, 13, 0)]).await;
        let (bad, other) = (trips[0].id, trips[1].id);
        let run = t.run(1, pb::RunMode::Full).await.unwrap();
        assert_eq!(run.assignments.len(), 2, "{backend:?}");

        // A value the database's check would refuse, written past it.
        let db = kit::db::connect(&t.db.url).await.unwrap();
        let lift = match backend {
            kit::testing::TestBackend::Sqlite => "DROP TRIGGER ck_booking_mobility_update",
            _ => "ALTER TABLE booking DROP CONSTRAINT ck_booking_mobility",
        };
        db.execute_unprepared(lift).await.unwrap();
        db.execute_unprepared(&format!("UPDATE booking SET mobility = 'hovercraft' WHERE id = {bad}")).await.unwrap();

        let err = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: bad })).await.unwrap_err();
        assert_eq!(err.code(), Code::Internal, "{backend:?}: {err:?}");
        assert!(!err.message().contains("hovercraft"), "{backend:?}: the value stays in the log: {}", err.message());
        let list = pb::ListBookingsRequest { service_day: Some(day().to_string()), ..Default::default() };
        let err = t.api().list_bookings(t.req(1, list)).await.unwrap_err();
        assert_eq!(err.code(), Code::Internal, "{backend:?}: a list with an unreadable row fails rather than leave it out");

        // Its driver's day cannot be read: a reassignment into it writes nothing.
        let before = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: other })).await.unwrap().into_inner();
        let to = pb::ReassignBookingRequest { booking_id: other, driver_id: driver.id, force: true, reason: "a test".into() };
        let err = t.api().reassign_booking(t.req(1, to)).await.unwrap_err();
        assert_eq!(err.code(), Code::Internal, "{backend:?}: {err:?}");
        let after = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: other })).await.unwrap().into_inner();
        assert_eq!(after.assignment, before.assignment, "{backend:?}: nothing written");

        // A run would rewrite the whole day: it stops, writes nothing, and says no more than that.
        let err = t.run(1, pb::RunMode::Full).await.unwrap_err();
        assert_eq!(err.code(), Code::Internal, "{backend:?}: {err:?}");
        assert!(!err.message().contains("hovercraft"), "{backend:?}: {}", err.message());
        let planned = db
            .query_one(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM assignment WHERE booking_id IN ({bad}, {other}) AND status = 'planned'"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(planned, 2, "{backend:?}: both keep the plan they had");
        t.svc.stop().await.unwrap();

        let log = String::from_utf8(std::mem::take(&mut *captured.0.lock().unwrap())).unwrap();
        let named = log
            .lines()
            .any(|l| l.contains("stored value outside its vocabulary") && l.contains(&format!("row_id={bad}")) && l.contains("hovercraft"));
        assert!(named, "{backend:?}: the log names the row and the value:\n{log}");
    }
}
