//! Company 1's data in a dispatch service, made over gRPC as a client would:
//! drivers, a patient, a booking whose window closes soon, an assignment,
//! positions, the manager's mode. The autonomy tests and the console's
//! suggestion test start from it.

use atmr_proto::dispatch::v1::{
    self as pb, autonomy_service_client::AutonomyServiceClient, dispatch_service_client::DispatchServiceClient,
};
use chrono::{DateTime, Utc};
use kit::{auth::Role, testing::Spawned};
use tonic::transport::Channel;

/// Geneva: the station, and Lausanne, 50 km away.
pub(crate) const NEAR: (f64, f64) = (46.21, 6.142);
pub(crate) const FAR: (f64, f64) = (46.52, 6.63);

pub(crate) fn geo(lat: f64, lon: f64) -> Option<atmr_proto::common::v1::GeoPoint> {
    Some(atmr_proto::common::v1::GeoPoint { latitude: lat, longitude: lon })
}

pub(crate) fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(kit::convert::timestamp(t))
}

/// Company 1's data in a dispatch service, made over gRPC as a client would:
/// what the autonomy tests and the console's suggestion test start from.
pub(crate) struct Seed<'a> {
    pub(crate) dispatch: &'a Spawned,
    /// The time the bookings' windows and the positions are taken from.
    pub(crate) now: DateTime<Utc>,
}

impl Seed<'_> {
    fn req<T>(&self, role: Role, msg: T) -> tonic::Request<T> {
        kit::grpc::request(msg, &self.dispatch.token(1, role))
    }

    async fn api(&self) -> DispatchServiceClient<Channel> {
        DispatchServiceClient::connect(self.dispatch.url()).await.unwrap()
    }

    async fn autonomy(&self) -> AutonomyServiceClient<Channel> {
        AutonomyServiceClient::connect(self.dispatch.url()).await.unwrap()
    }

    /// Moves company 1 to the fixed-offset zone where `now` falls between noon
    /// and one, so that a window opening now, its drop-off and the drivers'
    /// shifts (the local day, midnight to 23:59) never straddle a local
    /// midnight, whatever the hour the test runs at. Call it before seeding.
    pub(crate) async fn at_midday(&self) {
        use chrono::Timelike as _;
        // Local time is UTC + offset, the offset within -11..=12 hours; the
        // Etc zones count the other way (Etc/GMT-3 is three hours ahead).
        let offset = 12 - i32::try_from(self.now.hour()).expect("an hour");
        let zone = if offset == 0 { "Etc/UTC".to_owned() } else { format!("Etc/GMT{:+}", -offset) };
        let company = pb::Company { time_zone: zone.clone(), ..Default::default() };
        let mask = prost_types::FieldMask { paths: vec!["time_zone".into()] };
        let req = pb::UpdateCompanyRequest { company: Some(company), update_mask: Some(mask), validate_only: false };
        let res = self.api().await.update_company(self.req(Role::Admin, req)).await.unwrap();
        assert_eq!(res.into_inner().company.unwrap().time_zone, zone);
    }

    pub(crate) async fn driver(&self, name: &str, lat: f64, lon: f64) -> i64 {
        let d = pb::Driver {
            name: name.into(),
            phone: "+41 79 000 00 00".into(),
            vehicle_kind: pb::VehicleKind::WheelchairVan as i32,
            seats: 3,
            wheelchair_places: 1,
            shift_start_minute: 0,
            shift_end_minute: 24 * 60 - 1,
            depot: geo(lat, lon),
            ..Default::default()
        };
        let d = self.api().await.create_driver(self.req(Role::Admin, pb::CreateDriverRequest { driver: Some(d) })).await.unwrap();
        d.into_inner().driver.unwrap().id
    }

    pub(crate) async fn patient(&self) -> i64 {
        let c = pb::Client {
            name: "A. Patient".into(),
            phone: "+41 22 555 12 34".into(),
            address: "Rue de Carouge 12, 1205 Genève".into(),
            location: geo(46.195, 6.14),
            mobility: pb::Mobility::Ambulatory as i32,
            ..Default::default()
        };
        self.api()
            .await
            .create_client(self.req(Role::Admin, pb::CreateClientRequest { client: Some(c) }))
            .await
            .unwrap()
            .into_inner()
            .client
            .unwrap()
            .id
    }

    /// A booking picked up near Geneva's station in the window [from, to] minutes from now.
    pub(crate) async fn booking(&self, client: i64, from: i64, to: i64, lat: f64) -> i64 {
        let now = self.now;
        let b = pb::Booking {
            client_id: client,
            pickup_address: "Gare Cornavin, Genève".into(),
            pickup: geo(lat, 6.142),
            dropoff_address: "HUG, Genève".into(),
            dropoff: geo(46.1935, 6.149),
            pickup_earliest: ts(now + chrono::Duration::minutes(from)),
            pickup_latest: ts(now + chrono::Duration::minutes(to)),
            passengers: 1,
            boarding_minutes: 2,
            ..Default::default()
        };
        let res = self.api().await.create_bookings(self.req(Role::Admin, pb::CreateBookingsRequest { bookings: vec![b] })).await.unwrap();
        res.into_inner().bookings[0].id
    }

    pub(crate) async fn assign(&self, booking_id: i64, driver_id: i64) {
        let r = pb::ReassignBookingRequest { booking_id, driver_id, force: true, reason: "the test forces it".into() };
        self.api().await.reassign_booking(self.req(Role::Admin, r)).await.unwrap();
    }

    pub(crate) async fn positions(&self, at: &[(i64, f64, f64)]) {
        let now = self.now;
        let msgs: Vec<pb::ReportDriverPositionsRequest> = at
            .iter()
            .map(|&(driver_id, lat, lon)| pb::ReportDriverPositionsRequest { driver_id, position: geo(lat, lon), time: ts(now) })
            .collect();
        let res = self.api().await.report_driver_positions(self.req(Role::Dispatcher, futures::stream::iter(msgs))).await.unwrap();
        assert_eq!(res.into_inner().rejected, 0);
    }

    pub(crate) async fn settings(&self, mode: pb::AutonomyMode) {
        let s = pb::AutonomySettings {
            mode: mode as i32,
            lateness_threshold_minutes: 5,
            drift_mae_threshold_minutes: 3.0,
            drift_check_interval_seconds: 3600,
            cycle_interval_seconds: 30,
        };
        self.autonomy()
            .await
            .update_autonomy_settings(self.req(Role::Admin, pb::UpdateAutonomySettingsRequest { settings: Some(s), validate_only: false }))
            .await
            .unwrap();
    }
}
