//! A patient's data rights and the company's retention: the export holds
//! everything, deleted rows too; an erasure is refused while a trip is open,
//! then erases the patient and anonymises their trips for good (once); the
//! retention job anonymises only finished trips past the company's period.

use atmr_proto::dispatch::v1 as pb;
use chrono::{TimeZone as _, Utc};
use kit::{auth::Role, testing};
use tonic::Code;

use crate::harness::*;

impl TestService {
    fn admin<T>(&self, company: i64, msg: T) -> tonic::Request<T> {
        kit::grpc::request(msg, &self.svc.token(company, Role::Admin))
    }

    async fn set_status(&self, company: i64, id: i64, status: pb::BookingStatus) {
        let r = pb::UpdateBookingStatusRequest { booking_id: id, status: status as i32, reason: "test".into(), ..Default::default() };
        self.api().update_booking_status(self.req(company, r)).await.unwrap();
    }

    /// A weekly trip at 08:00 for `client_id` from `pickup_address` to HUG, from 2026-12-01.
    async fn template(&self, client_id: i64, weekdays: Vec<i32>, pickup_address: &str) {
        let template = pb::RecurringTemplate {
            client_id,
            weekdays,
            pickup_address: pickup_address.into(),
            pickup: geo(46.195, 6.14),
            dropoff_address: "HUG".into(),
            dropoff: geo(46.1935, 6.149),
            pickup_earliest_minute: 8 * 60,
            pickup_latest_minute: 8 * 60 + 30,
            passengers: 1,
            valid_from: "2026-12-01".into(),
            ..Default::default()
        };
        self.api().create_recurring_template(self.req(1, pb::CreateRecurringTemplateRequest { template: Some(template) })).await.unwrap();
    }

    async fn export(&self, company: i64, id: i64) -> pb::ExportClientResponse {
        self.api().export_client(self.req(company, pb::ExportClientRequest { client_id: id })).await.unwrap().into_inner()
    }
}

#[tokio::test]
async fn an_erasure_waits_for_open_trips_then_erases_the_patient_and_their_trips_once() {
    for backend in testing::backends() {
        let svc = start(backend).await;
        let ada = svc.patient(1, pb::Client { notes: "Key under the mat".into(), ..patient("Ada Muller") }).await;
        let other = svc.patient(1, patient("Bob Keller")).await;
        let mut mine = vec![trip(ada.id, 1, 8, 0), trip(ada.id, 2, 9, 0)];
        mine[0].notes = "Door code 4411".into();
        let theirs = svc.bookings(1, mine).await;
        let kept = svc.bookings(1, vec![trip(other.id, 3, 8, 30)]).await;
        svc.template(ada.id, vec![1, 3], "Rue de Carouge 12").await;

        let before = svc.export(1, ada.id).await;
        assert_eq!(before.client.as_ref().unwrap().phone, "+41 22 555 12 34");
        assert_eq!((before.bookings.len(), before.templates.len()), (2, 1));
        assert!(before.erase_time.is_none());

        // Dispatchers may not erase; open trips hold the erasure back, and nothing changed.
        let refused = svc.api().erase_client(svc.req(1, pb::EraseClientRequest { client_id: ada.id })).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let refused = svc.api().erase_client(svc.admin(1, pb::EraseClientRequest { client_id: ada.id })).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(refused.message().contains("2 bookings not yet finished"), "{}", refused.message());
        assert_eq!(svc.export(1, ada.id).await.client.unwrap().name, "Ada Muller");

        for b in &theirs {
            svc.set_status(1, b.id, pb::BookingStatus::Cancelled).await;
        }
        // Another company's patient is not there at all.
        let missing = svc.api().erase_client(svc.admin(2, pb::EraseClientRequest { client_id: ada.id })).await.unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);

        let erased = svc.api().erase_client(svc.admin(1, pb::EraseClientRequest { client_id: ada.id })).await.unwrap().into_inner();
        assert!(erased.erasure_reference.starts_with("ANON-"), "{erased:?}");
        assert_eq!((erased.bookings_anonymised, erased.templates_removed), (2, 1));
        assert!(erased.client_fields.iter().any(|f| f == "phone"));

        // Gone from the lists and reads; what is left is anonymous.
        let gone = svc.api().get_client(svc.req(1, pb::GetClientRequest { client_id: ada.id })).await.unwrap_err();
        assert_eq!(gone.code(), Code::NotFound);
        let after = svc.export(1, ada.id).await;
        let c = after.client.unwrap();
        assert_eq!(c.name, format!("Erased patient {}", erased.erasure_reference));
        assert_eq!((c.phone.as_str(), c.address.as_str(), c.notes.as_str()), ("", "(erased)", ""));
        assert_eq!(after.erasure_reference, erased.erasure_reference);
        for b in &after.bookings {
            assert_eq!((b.pickup_address.as_str(), b.dropoff_address.as_str(), b.notes.as_str()), ("(erased)", "(erased)", ""));
            let p = b.pickup.unwrap();
            assert!(((p.latitude * 100.0).round() - p.latitude * 100.0).abs() < 1e-6, "rounded to 0.01: {p:?}");
            assert_eq!(b.status, pb::BookingStatus::Cancelled as i32, "the trip itself stays");
        }
        let listed =
            svc.api().list_recurring_templates(svc.req(1, pb::ListRecurringTemplatesRequest::default())).await.unwrap().into_inner();
        assert!(listed.templates.iter().all(|t| t.client_id != ada.id), "the template is removed");
        // Other patients are untouched; an erasure cannot be repeated.
        let bob = svc.api().get_booking(svc.req(1, pb::GetBookingRequest { booking_id: kept[0].id })).await.unwrap().into_inner();
        assert_eq!(bob.booking.unwrap().pickup_address, kept[0].pickup_address);
        let again = svc.api().erase_client(svc.admin(1, pb::EraseClientRequest { client_id: ada.id })).await.unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition);
        assert!(again.message().contains("already erased"), "{}", again.message());
    }
}

/// An erasure reads the patient and their open trips before it writes. On
/// SQLite, a transaction that has read and then writes fails at once
/// ("database is locked", code 517) when another write committed in between,
/// whatever the busy timeout; an erasure therefore takes the write lock
/// before it reads. Erasures racing a stream of other writes all succeed.
/// (Found in CI: the audit relay's write landed inside an admin's erasure.)
#[tokio::test]
async fn erasures_racing_other_writes_all_succeed() {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
    for backend in testing::backends() {
        let svc = start(backend).await;
        let mut ids = Vec::new();
        for i in 0..16 {
            ids.push(svc.patient(1, patient(&format!("Patient {i}"))).await.id);
        }
        let (done, written) = (AtomicBool::new(false), AtomicU32::new(0));
        let writer = || async {
            while !done.load(Relaxed) {
                svc.patient(1, patient("Walk-in")).await;
                written.fetch_add(1, Relaxed);
            }
        };
        let erasures = async {
            let all = futures::future::join_all(ids.iter().map(|&client_id| {
                let mut api = svc.api();
                let req = svc.admin(1, pb::EraseClientRequest { client_id });
                async move { api.erase_client(req).await }
            }))
            .await;
            done.store(true, Relaxed);
            all
        };
        let (erasures, ..) = tokio::join!(erasures, writer(), writer());
        for (id, erased) in ids.iter().zip(erasures) {
            erased.unwrap_or_else(|e| panic!("{backend:?}: the erasure of patient {id} failed: {e:?}"));
        }
        assert!(written.load(Relaxed) > 0, "{backend:?}: no write raced the erasures");
    }
}

/// A trip booked for a patient while they are being erased (or removed)
/// either comes first (and the erasure is refused: the trip is open) or is
/// refused (the patient is gone): never both, which would leave an erased
/// patient with a trip that names where they live, or a removed one with a
/// trip to ride.
#[tokio::test]
async fn a_trip_booked_while_its_patient_is_erased_or_removed_either_holds_it_back_or_is_refused() {
    for backend in testing::backends() {
        let svc = start(backend).await;
        for erase in [true, false] {
            let mut ids = Vec::new();
            for i in 0..16 {
                ids.push(svc.patient(1, patient(&format!("Patient {i}"))).await.id);
            }
            let races = ids.iter().enumerate().map(|(i, &client_id)| {
                let (mut remove, mut book) = (svc.api(), svc.api());
                let (erasure, removal) = (pb::EraseClientRequest { client_id }, pb::DeleteClientRequest { client_id });
                let booking = svc.req(1, pb::CreateBookingsRequest { bookings: vec![trip(client_id, i, 9, 0)] });
                let (admin, dispatcher) = (svc.admin(1, erasure), svc.req(1, removal));
                async move {
                    let removed = async {
                        if erase {
                            remove.erase_client(admin).await.map(|_| ())
                        } else {
                            remove.delete_client(dispatcher).await.map(|_| ())
                        }
                    };
                    tokio::join!(removed, book.create_bookings(booking))
                }
            });
            for (id, (removal, booking)) in ids.iter().zip(futures::future::join_all(races).await) {
                let what = if erase { "erasure" } else { "removal" };
                match (removal, booking) {
                    (Ok(()), Err(refused)) => assert_eq!(refused.code(), Code::InvalidArgument, "{backend:?}: patient {id}: {refused:?}"),
                    (Err(refused), Ok(_)) => {
                        assert_eq!(refused.code(), Code::FailedPrecondition, "{backend:?}: {what} of patient {id}: {refused:?}");
                    }
                    (removal, booking) => panic!("{backend:?}: patient {id}: {what} {removal:?}, booking {booking:?}"),
                }
            }
        }
    }
}

/// The same for the trips a day's generation makes from recurring templates:
/// an erased patient never gets one, and a patient who got one is not erased.
#[tokio::test]
async fn trips_generated_during_erasures_never_outlive_their_patient() {
    for backend in testing::backends() {
        let svc = start(backend).await;
        let mut ids = Vec::new();
        for i in 0..16 {
            let id = svc.patient(1, patient(&format!("Patient {i}"))).await.id;
            svc.template(id, (1..=7).collect(), &format!("Chemin {i}, Genève")).await;
            ids.push(id);
        }
        let mut api = svc.api();
        let generation =
            api.generate_recurring_bookings(svc.req(1, pb::GenerateRecurringBookingsRequest { service_day: day().to_string() }));
        let erasures = futures::future::join_all(ids.iter().map(|&client_id| {
            let mut api = svc.api();
            let req = svc.admin(1, pb::EraseClientRequest { client_id });
            async move { api.erase_client(req).await }
        }));
        let (generated, erasures) = tokio::join!(generation, erasures);
        let generated = generated.unwrap().into_inner().bookings;
        for (id, erasure) in ids.iter().zip(erasures) {
            let trips = generated.iter().filter(|b| b.client_id == *id).count();
            match erasure {
                Ok(_) => assert_eq!(trips, 0, "{backend:?}: erased patient {id} got a trip"),
                Err(refused) => {
                    assert_eq!((refused.code(), trips), (Code::FailedPrecondition, 1), "{backend:?}: patient {id}: {refused:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_retention_job_anonymises_only_finished_trips_past_the_companys_period() {
    for backend in testing::backends() {
        // The service's clock says 2026-12-01 07:00 in Zurich; a pass every second.
        let svc = start_with(backend, &[("DISPATCH_RETENTION_TICK_SECS", "1")]).await;
        let ada = svc.patient(1, patient("Ada Muller")).await;
        let on = |day: u32, i: usize| {
            let earliest = Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap();
            pb::Booking {
                pickup_earliest: ts(earliest),
                pickup_latest: ts(earliest + chrono::Duration::minutes(20)),
                appointment_time: None,
                ..trip(ada.id, i, 8, 0)
            }
        };
        // Two finished trips of 28 November, one still pending that day, one
        // finished on 30 November (inside a one-day period).
        let rows = svc.bookings(1, vec![on(28, 1), on(28, 2), on(28, 3), on(30, 4)]).await;
        for i in [0, 1, 3] {
            svc.set_status(1, rows[i].id, pb::BookingStatus::Cancelled).await;
        }
        let company = pb::Company { erase_completed_after_days: 1, ..Default::default() };
        let mask = prost_types::FieldMask { paths: vec!["erase_completed_after_days".into()] };
        let set = pb::UpdateCompanyRequest { company: Some(company), update_mask: Some(mask.clone()), validate_only: false };
        let saved = svc.api().update_company(svc.admin(1, set)).await.unwrap().into_inner().company.unwrap();
        assert_eq!(saved.erase_completed_after_days, 1);
        let bad = pb::UpdateCompanyRequest {
            company: Some(pb::Company { erase_completed_after_days: -3, ..Default::default() }),
            update_mask: Some(mask),
            validate_only: false,
        };
        let refused = svc.api().update_company(svc.admin(1, bad)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);

        let read = |id: i64| {
            let api = svc.api();
            let req = svc.req(1, pb::GetBookingRequest { booking_id: id });
            async move { api.clone().get_booking(req).await.unwrap().into_inner().booking.unwrap() }
        };
        // The next pass comes within a second or two.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while read(rows[0].id).await.pickup_address != "(erased)" {
            assert!(std::time::Instant::now() < deadline, "the retention job never anonymised the finished trip");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(read(rows[1].id).await.pickup_address, "(erased)");
        assert_eq!(read(rows[2].id).await.pickup_address, rows[2].pickup_address, "a pending trip is not finished");
        assert_eq!(read(rows[3].id).await.pickup_address, rows[3].pickup_address, "30 November is inside the period");
        // The patient's own row is not the job's.
        assert_eq!(svc.export(1, ada.id).await.client.unwrap().phone, "+41 22 555 12 34");
    }
}
