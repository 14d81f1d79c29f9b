//! Bookings: bulk creation all or nothing, every bad row named, the life cycle
//! and its checked transitions, will-call returns.

use atmr_proto::dispatch::v1 as pb;
use kit::testing::backends;
use tonic::Code;

use crate::harness::*;

#[tokio::test]
async fn a_bulk_import_is_all_or_nothing_and_names_every_bad_row() {
    for backend in backends() {
        let t = start(backend).await;
        let p = t.patient(1, patient("Claire Moser")).await;
        let other = t.patient(2, patient("Someone Else")).await;

        let mut rows = day_of_trips(p.id, 5);
        rows[1].pickup = geo(46.2, 200.0);
        rows[3].appointment_time = rows[3].pickup_earliest;
        let err = t.api().create_bookings(t.req(1, pb::CreateBookingsRequest { bookings: rows })).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{backend:?}");
        assert_eq!(kit::error::field_of(&err), Some("bookings[1].pickup.longitude"));
        assert_eq!(
            kit::error::fields_of(&err),
            vec!["bookings[1].pickup.longitude", "bookings[3].appointment_time"],
            "every bad row's field"
        );
        assert!(err.message().contains("2 bad rows") && err.message().contains("bookings[3].appointment_time"), "{}", err.message());

        let mut rows = day_of_trips(p.id, 3);
        rows[2].client_id = 424_242;
        let err = t.api().create_bookings(t.req(1, pb::CreateBookingsRequest { bookings: rows })).await.unwrap_err();
        assert_eq!(kit::error::field_of(&err), Some("bookings[2].client_id"), "{backend:?}: {err:?}");
        assert_eq!(kit::error::fields_of(&err), vec!["bookings[2].client_id"], "one bad row, one field");

        let mut rows = day_of_trips(p.id, 3);
        rows[0].client_id = other.id;
        let err = t.api().create_bookings(t.req(1, pb::CreateBookingsRequest { bookings: rows })).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "another company's patient is answered as an unknown one");
        assert_eq!(kit::error::field_of(&err), Some("bookings[0].client_id"));
        assert!(err.message().contains(&format!("client {} not found", other.id)), "{}", err.message());

        let listed = t.api().list_bookings(t.req(1, pb::ListBookingsRequest::default())).await.unwrap().into_inner();
        assert_eq!(listed.page.unwrap().total, 0, "{backend:?}: nothing partial was written");

        let created = t.bookings(1, day_of_trips(p.id, 40)).await;
        assert_eq!(created.len(), 40);
        assert!(created.iter().all(|b| b.status() == pb::BookingStatus::Pending && b.service_day == day().to_string()));
        assert_eq!(created[0].mobility(), pb::Mobility::Ambulatory, "the patient's mobility by default");
        let page = pb::ListBookingsRequest {
            service_day: Some(day().to_string()),
            page: Some(atmr_proto::common::v1::PageRequest { page: 2, per_page: 15 }),
            ..Default::default()
        };
        let listed = t.api().list_bookings(t.req(1, page)).await.unwrap().into_inner();
        assert_eq!((listed.bookings.len(), listed.page.unwrap().total), (15, 40));
        assert!(listed.bookings.windows(2).all(|w| w[0].pickup_earliest.unwrap().seconds <= w[1].pickup_earliest.unwrap().seconds));
    }
}

#[tokio::test]
async fn the_life_cycle_is_checked() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    let p = t.patient(1, patient("Jean Dubois")).await;
    t.driver(1, car("Driver")).await;
    let b = t.bookings(1, vec![trip(p.id, 0, 9, 0)]).await.remove(0);
    let status = |to: pb::BookingStatus| pb::UpdateBookingStatusRequest {
        booking_id: b.id,
        status: to as i32,
        reason: String::new(),
        occurred_time: None,
    };

    let err = t.api().update_booking_status(t.req(1, status(pb::BookingStatus::EnRoute))).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a pending booking has no driver on the way");
    let err = t.api().update_booking_status(t.req(1, status(pb::BookingStatus::Assigned))).await.unwrap_err();
    assert!(err.message().contains("dispatch run"), "{err:?}");

    let run = t.run(1, pb::RunMode::Full).await.unwrap();
    assert_eq!(run.assignments.len(), 1);
    for to in [pb::BookingStatus::EnRoute, pb::BookingStatus::PickedUp, pb::BookingStatus::Completed] {
        let got = t.api().update_booking_status(t.req(1, status(to))).await.unwrap().into_inner().booking.unwrap();
        assert_eq!(got.status(), to);
    }
    let got = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: b.id })).await.unwrap().into_inner();
    assert!(got.assignment.is_none(), "a completed trip's assignment is done, not live");
    let err = t.api().update_booking_status(t.req(1, status(pb::BookingStatus::Cancelled))).await.unwrap_err();
    assert!(err.message().contains("does not change"), "{err:?}");
    let err = t.api().update_booking_status(t.req(2, status(pb::BookingStatus::Cancelled))).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "another company's booking is answered as one that does not exist");
}

#[tokio::test]
async fn will_call_returns_wait_for_their_time_and_changed_trips_go_back_to_pending() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    let p = t.patient(1, patient("Sophie Gay")).await;
    t.driver(1, car("Driver")).await;
    let out = t.bookings(1, vec![trip(p.id, 0, 8, 0)]).await.remove(0);
    let back = pb::Booking {
        return_of: Some(out.id),
        will_call: true,
        pickup_earliest: None,
        pickup_latest: None,
        appointment_time: None,
        service_day: day().to_string(),
        pickup: out.dropoff,
        pickup_address: out.dropoff_address.clone(),
        dropoff: out.pickup,
        dropoff_address: out.pickup_address.clone(),
        ..out.clone()
    };
    let back = t.bookings(1, vec![back]).await.remove(0);
    assert!(back.will_call);

    let run = t.run(1, pb::RunMode::Full).await.unwrap().run.unwrap();
    assert_eq!((run.bookings_considered, run.bookings_assigned), (1, 1), "the will-call return waits for its time");

    // The hospital calls: the return gets its window, and the next run plans it.
    let mask = prost_types::FieldMask { paths: vec!["pickup_earliest".into(), "pickup_latest".into(), "will_call".into()] };
    let called =
        pb::Booking { id: back.id, pickup_earliest: ts(at(14, 0)), pickup_latest: ts(at(14, 30)), will_call: false, ..Default::default() };
    t.api().update_booking(t.req(1, pb::UpdateBookingRequest { booking: Some(called), update_mask: Some(mask) })).await.unwrap();
    let run = t.run(1, pb::RunMode::PendingOnly).await.unwrap().run.unwrap();
    assert_eq!((run.bookings_considered, run.bookings_assigned), (2, 2));

    // Moving a planned trip's window makes its plan stale: it goes back to pending.
    let mask = prost_types::FieldMask { paths: vec!["pickup_earliest".into(), "pickup_latest".into(), "appointment_time".into()] };
    let moved = pb::Booking {
        id: out.id,
        pickup_earliest: ts(at(10, 0)),
        pickup_latest: ts(at(10, 20)),
        appointment_time: None,
        ..Default::default()
    };
    let got = t.api().update_booking(t.req(1, pb::UpdateBookingRequest { booking: Some(moved), update_mask: Some(mask) })).await.unwrap();
    assert_eq!(got.into_inner().booking.unwrap().status(), pb::BookingStatus::Pending);
    let got = t.api().get_booking(t.req(1, pb::GetBookingRequest { booking_id: out.id })).await.unwrap().into_inner();
    assert!(got.assignment.is_none());
}

#[tokio::test]
async fn recurring_templates_make_each_days_trips_once() {
    for backend in backends() {
        let t = start(backend).await;
        let p = t.patient(1, pb::Client { mobility: pb::Mobility::Wheelchair as i32, ..patient("Dialysis Patient") }).await;
        let template = pb::RecurringTemplate {
            client_id: p.id,
            weekdays: vec![1, 3, 5],
            pickup_address: "Rue de Carouge 12".into(),
            pickup: geo(46.195, 6.14),
            dropoff_address: "Centre de dialyse".into(),
            dropoff: geo(46.215, 6.146),
            pickup_earliest_minute: 7 * 60,
            pickup_latest_minute: 7 * 60 + 20,
            appointment_minute: Some(8 * 60),
            return_earliest_minute: Some(12 * 60),
            return_latest_minute: Some(12 * 60 + 30),
            passengers: 1,
            valid_from: "2026-11-30".into(),
            ..Default::default()
        };
        let bad = pb::RecurringTemplate { weekdays: vec![0], ..template.clone() };
        let err =
            t.api().create_recurring_template(t.req(1, pb::CreateRecurringTemplateRequest { template: Some(bad) })).await.unwrap_err();
        assert_eq!(kit::error::field_of(&err), Some("template.weekdays"), "{backend:?}");
        let created =
            t.api().create_recurring_template(t.req(1, pb::CreateRecurringTemplateRequest { template: Some(template) })).await.unwrap();
        let created = created.into_inner().template.unwrap();
        assert_eq!((created.weekdays.clone(), created.mobility()), (vec![1, 3, 5], pb::Mobility::Wheelchair), "the patient's mobility");

        // 3 December 2026 is a Thursday: nothing; 2 December, a Wednesday: both legs.
        let generate = |day: &str| pb::GenerateRecurringBookingsRequest { service_day: day.into() };
        let none = t.api().generate_recurring_bookings(t.req(1, generate("2026-12-03"))).await.unwrap().into_inner();
        assert!(none.bookings.is_empty());
        let made = t.api().generate_recurring_bookings(t.req(1, generate("2026-12-02"))).await.unwrap().into_inner();
        assert_eq!((made.bookings.len(), made.already_present), (2, 0), "{backend:?}");
        let (out, back) = (&made.bookings[0], &made.bookings[1]);
        assert_eq!(back.return_of, Some(out.id));
        assert_eq!(back.pickup_address, "Centre de dialyse");
        assert_eq!(
            out.pickup_earliest.unwrap().seconds,
            chrono::DateTime::parse_from_rfc3339("2026-12-02T06:00:00Z").unwrap().timestamp(),
            "07:00 in Zurich"
        );
        assert!(out.appointment_time.is_some() && back.appointment_time.is_none());
        let again = t.api().generate_recurring_bookings(t.req(1, generate("2026-12-02"))).await.unwrap().into_inner();
        assert_eq!((again.bookings.len(), again.already_present), (0, 2), "idempotent");
        // Before the template starts: nothing.
        let early = t.api().generate_recurring_bookings(t.req(1, generate("2026-11-27"))).await.unwrap().into_inner();
        assert!(early.bookings.is_empty());

        let listed = t.api().list_recurring_templates(t.req(1, pb::ListRecurringTemplatesRequest { client_id: Some(p.id) })).await.unwrap();
        assert_eq!(listed.into_inner().templates.len(), 1);
        let err =
            t.api().delete_recurring_template(t.req(2, pb::DeleteRecurringTemplateRequest { template_id: created.id })).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        t.api().delete_recurring_template(t.req(1, pb::DeleteRecurringTemplateRequest { template_id: created.id })).await.unwrap();
        let after = t.api().generate_recurring_bookings(t.req(1, generate("2026-12-04"))).await.unwrap().into_inner();
        assert!(after.bookings.is_empty(), "a deleted template makes nothing");
    }
}
