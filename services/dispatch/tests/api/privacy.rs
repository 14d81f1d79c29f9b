//! Patients' names, phones and addresses never reach the log, whatever happens
//! to their bookings.

use std::sync::{Arc, Mutex};

use atmr_proto::dispatch::v1 as pb;
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
async fn patient_details_are_never_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).with_ansi(false))
        .with(LevelFilter::DEBUG);
    // See e2e::tracing_hop: a global subscriber that is never interested keeps
    // callsites that other tests reach first from being cached as "never".
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(LevelFilter::OFF));
    // One thread: the service's tasks log through this subscriber too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = start(kit::testing::TestBackend::Sqlite).await;
    let name = "Zéphyrine Quarantotto";
    let phone = "+41 22 987 65 43";
    let address = "Impasse des Secrets 99, 1208 Genève";
    let p = t.patient(1, pb::Client { name: name.into(), phone: phone.into(), address: address.into(), ..patient("x") }).await;
    t.driver(1, car("Driver")).await;
    let mut rows = day_of_trips(p.id, 3);
    rows[0].pickup_address = address.into();
    let created = t.bookings(1, rows.clone()).await;
    rows[1].passengers = 0;
    t.api().create_bookings(t.req(1, pb::CreateBookingsRequest { bookings: rows })).await.unwrap_err();
    t.run(1, pb::RunMode::Full).await.unwrap();
    let status = pb::UpdateBookingStatusRequest {
        booking_id: created[0].id,
        status: pb::BookingStatus::Cancelled as i32,
        reason: "patient ill".into(),
        occurred_time: None,
    };
    t.api().update_booking_status(t.req(1, status)).await.unwrap();
    t.svc.stop().await.unwrap();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("dispatch run completed"), "the log was captured: {log}");
    for secret in [name, phone, address, "Quarantotto", "987 65 43"] {
        assert!(!log.contains(secret), "{secret:?} appears in the log:\n{log}");
    }
}
