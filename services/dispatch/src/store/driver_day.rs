//! A driver's own day, read for the driver app: the driver, their trips of a
//! service day (assignments not superseded, with their bookings) and the
//! patients' names and phones, in a fixed number of queries.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _, sea_query::Query};

use super::{
    entities::{assignment, booking, client, driver},
    shared::{Store, StoreError},
};
use crate::domain::AssignmentStatus;

/// One trip of the driver's day.
pub struct DayTrip {
    pub assignment: assignment::Model,
    pub booking: booking::Model,
    /// The patient's full name and phone (the caller shortens the name).
    pub patient: Option<(String, String)>,
}

/// The driver and their trips of one day.
pub struct DriverDay {
    pub driver: driver::Model,
    pub trips: Vec<DayTrip>,
}

impl Store {
    /// The day of `driver_id` (NotFound when the driver is not the company's).
    pub async fn driver_day(&self, company_id: i64, driver_id: i64, day: NaiveDate) -> Result<DriverDay, StoreError> {
        let driver = self.driver(company_id, driver_id).await?;
        let of_day = Query::select()
            .column(booking::Column::Id)
            .from(booking::Entity)
            .and_where(booking::Column::CompanyId.eq(company_id))
            .and_where(booking::Column::ServiceDay.eq(day.to_string()))
            .to_owned();
        let kept = [AssignmentStatus::Planned, AssignmentStatus::Active, AssignmentStatus::Done].map(|s| s.as_str());
        let assignments = assignment::Entity::find()
            .filter(assignment::Column::CompanyId.eq(company_id))
            .filter(assignment::Column::DriverId.eq(driver_id))
            .filter(assignment::Column::Status.is_in(kept))
            .filter(assignment::Column::BookingId.in_subquery(of_day))
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = assignments.iter().map(|a| a.booking_id).collect();
        let mut bookings: HashMap<i64, booking::Model> =
            booking::Entity::find().filter(booking::Column::Id.is_in(ids)).all(&self.db).await?.into_iter().map(|b| (b.id, b)).collect();
        let client_ids: Vec<i64> = bookings.values().map(|b| b.client_id).collect::<HashSet<_>>().into_iter().collect();
        let patients: HashMap<i64, (String, String)> = client::Entity::find()
            .select_only()
            .columns([client::Column::Id, client::Column::Name, client::Column::Phone])
            .filter(client::Column::Id.is_in(client_ids))
            .filter(client::Column::CompanyId.eq(company_id))
            .into_tuple::<(i64, String, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(id, name, phone)| (id, (name, phone)))
            .collect();
        let trips = assignments
            .into_iter()
            .filter_map(|a| {
                let booking = bookings.remove(&a.booking_id)?;
                let patient = patients.get(&booking.client_id).cloned();
                Some(DayTrip { assignment: a, booking, patient })
            })
            .collect();
        Ok(DriverDay { driver, trips })
    }
}
