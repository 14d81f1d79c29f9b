//! A patient's data rights (nLPD, GDPR) and the company's retention of
//! finished trips: the use cases over `store::privacy`, and the daily job
//! that anonymises finished trips older than a company's
//! `erase_completed_after_days`.
//!
//! The job runs in every replica: a pass anonymises only trips not yet
//! anonymised, in one statement per company, so two replicas' passes never
//! do a trip twice and a pass cut off by a restart is finished by the next.

use std::time::Duration;

use chrono::Days;
use kit::Lifecycle;

use crate::{
    core::Dispatch,
    domain::plan::local_day,
    error::Error,
    store::privacy::{ClientRecord, Erasure},
};

impl Dispatch {
    /// Everything held about the patient `id`, whatever their state.
    pub async fn export_client(&self, company_id: i64, id: i64) -> Result<ClientRecord, Error> {
        let record = self.store.client_record(company_id, id).await?;
        self.store.record_client_export(id, record.bookings.len(), self.now()).await?;
        tracing::info!(company_id, client_id = id, bookings = record.bookings.len(), "patient record exported");
        Ok(record)
    }

    /// Erases the patient `id` for good; their trips keep an anonymous
    /// reference.
    pub async fn erase_client(&self, company_id: i64, id: i64) -> Result<Erasure, Error> {
        let reference = format!("ANON-{}", &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase());
        let erasure = self.store.erase_client(company_id, id, &reference, self.now()).await?;
        tracing::info!(company_id, client_id = id, bookings = erasure.bookings, templates = erasure.templates, "patient erased");
        Ok(erasure)
    }

    /// One pass of the retention job over every company that set a period:
    /// the number of trips anonymised.
    pub async fn apply_retention(&self) -> Result<u64, Error> {
        let mut total = 0;
        for (company_id, days) in self.store.retention_periods().await? {
            let tz = self.store.time_zone(company_id).await?;
            let today = local_day(tz, self.now());
            // Trips of days before this one have been finished `days` days.
            let Some(before) = today.checked_sub_days(Days::new(u64::try_from(days).unwrap_or(0))) else { continue };
            let done = self.store.anonymise_finished(company_id, before, self.now()).await?;
            if done > 0 {
                tracing::info!(company_id, trips = done, before = %before, "retention: finished trips anonymised");
            }
            total += done;
        }
        Ok(total)
    }
}

/// The retention job: a pass at start, then one every `every`, until the
/// service stops. A failed pass is logged and tried again at the next.
pub(crate) async fn schedule_retention(core: std::sync::Arc<Dispatch>, every: Duration, life: Lifecycle) {
    loop {
        if let Err(e) = core.apply_retention().await {
            let e = tonic::Status::from(e);
            tracing::warn!(error = %e.message(), "retention pass failed; trying again at the next");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = life.stopping() => return,
        }
    }
}
