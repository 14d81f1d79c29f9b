//! Drivers, patients and the company: create, read, list, update, delete, and
//! what each refuses.

use atmr_proto::dispatch::v1 as pb;
use kit::{auth::Role, testing::backends};
use tonic::Code;

use crate::harness::*;

#[tokio::test]
async fn drivers_and_patients_round_trip_and_stay_in_their_company() {
    for backend in backends() {
        let t = start(backend).await;
        let d = t.driver(1, van("Anne Favre")).await;
        assert!(d.id > 0);
        assert_eq!((d.vehicle_kind(), d.wheelchair_places, d.status()), (pb::VehicleKind::WheelchairVan, 2, pb::DriverStatus::Available));
        t.driver(1, car("Luc Rochat")).await;
        t.driver(2, car("Other Company")).await;

        let list = t.api().list_drivers(t.req(1, pb::ListDriversRequest::default())).await.unwrap().into_inner();
        assert_eq!(
            list.drivers.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ["Anne Favre", "Luc Rochat"],
            "{backend:?}: by name, own company only"
        );
        assert_eq!(list.page.unwrap().total, 2);
        let vans = pb::ListDriversRequest { vehicle_kinds: vec![pb::VehicleKind::WheelchairVan as i32], ..Default::default() };
        assert_eq!(t.api().list_drivers(t.req(1, vans)).await.unwrap().into_inner().drivers.len(), 1);
        let search = pb::ListDriversRequest { query: Some("ROCH".into()), ..Default::default() };
        assert_eq!(t.api().list_drivers(t.req(1, search)).await.unwrap().into_inner().drivers[0].name, "Luc Rochat");

        // Another company's driver: answered exactly as one that does not exist.
        let err = t.api().get_driver(t.req(2, pb::GetDriverRequest { driver_id: d.id })).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{backend:?}: {err:?}");
        assert_eq!(err.message(), format!("driver {} not found", d.id), "nothing says it exists elsewhere");
        let err = t.api().get_driver(t.req(1, pb::GetDriverRequest { driver_id: 9_999 })).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound);

        // Update through a mask: only the named fields change, and are checked.
        let patch = pb::Driver { id: d.id, seats: 5, name: "ignored".into(), ..Default::default() };
        let mask = prost_types::FieldMask { paths: vec!["seats".into()] };
        let req = pb::UpdateDriverRequest { driver: Some(patch.clone()), update_mask: Some(mask) };
        let updated = t.api().update_driver(t.req(1, req)).await.unwrap().into_inner().driver.unwrap();
        assert_eq!((updated.seats, updated.name.as_str()), (5, "Anne Favre"));
        let bad = pb::UpdateDriverRequest {
            driver: Some(pb::Driver { shift_end_minute: 60, ..patch.clone() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["shift_end_minute".into()] }),
        };
        let err = t.api().update_driver(t.req(1, bad)).await.unwrap_err();
        assert_eq!(kit::error::field_of(&err), Some("driver.shift_end_minute"), "{err:?}");
        let unknown_path =
            pb::UpdateDriverRequest { driver: Some(patch), update_mask: Some(prost_types::FieldMask { paths: vec!["company_id".into()] }) };
        assert_eq!(kit::error::field_of(&t.api().update_driver(t.req(1, unknown_path)).await.unwrap_err()), Some("update_mask"));

        t.api().delete_driver(t.req(1, pb::DeleteDriverRequest { driver_id: d.id })).await.unwrap();
        assert_eq!(t.api().get_driver(t.req(1, pb::GetDriverRequest { driver_id: d.id })).await.unwrap_err().code(), Code::NotFound);

        let p = t.patient(1, patient("Marie Perrin")).await;
        let got = t.api().get_client(t.req(1, pb::GetClientRequest { client_id: p.id })).await.unwrap().into_inner().client.unwrap();
        assert_eq!((got.name.as_str(), got.mobility()), ("Marie Perrin", pb::Mobility::Ambulatory));
        let wheelchairs = pb::ListClientsRequest { mobilities: vec![pb::Mobility::Wheelchair as i32], ..Default::default() };
        assert!(t.api().list_clients(t.req(1, wheelchairs)).await.unwrap().into_inner().clients.is_empty());
    }
}

#[tokio::test]
async fn bad_resources_are_refused_naming_the_field() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    let cases: Vec<(pb::Driver, &str)> = vec![
        (pb::Driver { depot: geo(91.0, 6.0), ..car("A") }, "driver.depot.latitude"),
        (pb::Driver { seats: -1, ..car("A") }, "driver.seats"),
        (pb::Driver { shift_start_minute: 600, shift_end_minute: 500, ..car("A") }, "driver.shift_end_minute"),
        (pb::Driver { vehicle_kind: 0, ..car("A") }, "driver.vehicle_kind"),
        (pb::Driver { name: " ".into(), ..car("A") }, "driver.name"),
    ];
    for (d, field) in cases {
        let err = t.api().create_driver(t.req(1, pb::CreateDriverRequest { driver: Some(d) })).await.unwrap_err();
        assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(field)), "{err:?}");
    }
    let err = t
        .api()
        .create_client(t.req(1, pb::CreateClientRequest { client: Some(pb::Client { location: None, ..patient("B") }) }))
        .await
        .unwrap_err();
    assert_eq!(kit::error::field_of(&err), Some("client.location"));
    let list = t.api().list_drivers(t.req(1, pb::ListDriversRequest::default())).await.unwrap().into_inner();
    assert!(list.drivers.is_empty(), "nothing was written");

    // Reporters file bugs; they do not dispatch.
    let req = kit::grpc::request(pb::ListDriversRequest::default(), &t.svc.token(1, Role::Reporter));
    assert_eq!(t.api().list_drivers(req).await.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_company_has_a_time_zone_an_admin_can_change() {
    let t = start(kit::testing::TestBackend::Sqlite).await;
    let c = t.api().get_company(t.req(7, pb::GetCompanyRequest {})).await.unwrap().into_inner().company.unwrap();
    assert_eq!((c.id, c.time_zone.as_str()), (7, "Europe/Zurich"));
    let admin = |msg| kit::grpc::request(msg, &t.svc.token(7, Role::Admin));
    let mask = || Some(prost_types::FieldMask { paths: vec!["time_zone".into()] });
    let zone = |tz: &str, validate_only| pb::UpdateCompanyRequest {
        company: Some(pb::Company { time_zone: tz.into(), ..c.clone() }),
        update_mask: mask(),
        validate_only,
    };
    assert_eq!(
        kit::error::field_of(&t.api().update_company(admin(zone("Mars/Olympus", false))).await.unwrap_err()),
        Some("company.time_zone")
    );
    // Only checked: the bad zone is refused the same way, a good one answered as it would be, and nothing is saved.
    assert_eq!(
        kit::error::field_of(&t.api().update_company(admin(zone("Mars/Olympus", true))).await.unwrap_err()),
        Some("company.time_zone")
    );
    let checked = t.api().update_company(admin(zone("America/New_York", true))).await.unwrap().into_inner().company.unwrap();
    assert_eq!(checked.time_zone, "America/New_York");
    let stored = t.api().get_company(t.req(7, pb::GetCompanyRequest {})).await.unwrap().into_inner().company.unwrap();
    assert_eq!(stored.time_zone, "Europe/Zurich", "validate_only saves nothing");
    let good = zone("Europe/Paris", false);
    assert_eq!(t.api().update_company(admin(good.clone())).await.unwrap().into_inner().company.unwrap().time_zone, "Europe/Paris");
    // Dispatchers read it but do not change it.
    assert_eq!(t.api().update_company(t.req(7, good)).await.unwrap_err().code(), Code::PermissionDenied);
}
