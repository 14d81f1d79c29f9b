//! The `atmr.dispatch.v1.DispatchService` handlers: each checks the caller and
//! the request (`input`), calls the core, and turns what it answers into
//! messages (`convert`). Patient names, phones and addresses never reach the
//! log: only ids are logged.

use std::pin::Pin;

use atmr_proto::dispatch::v1::{self as pb, dispatch_service_server::DispatchService};
use chrono::Utc;
use futures::{Stream, StreamExt as _};
use kit::convert::timestamp;
use tonic::{Request, Response, Status, Streaming};

use super::{
    company,
    convert::{assignment_pb, booking_pb, client_pb, company_pb, driver_pb, page_info, run_pb, template_pb, violation_pb},
    driver_app,
    exports::{self, Export},
    input::{
        self, BOOKING_PATHS, CLIENT_PATHS, DRIVER_PATHS, assignment_status, booking_status, checked_page, mask_paths, merge_booking,
        merge_client, merge_driver, optional_query, prefix_store, required,
    },
    privacy,
    services::{DispatchApi, caller},
};
use crate::{
    domain::{
        Invalid, RunMode,
        filters::{AssignmentFilter, BookingFilter, DriverFilter},
        plan::{Forced, Move},
    },
    error::Error,
    run::RunRequest,
    store::drivers::PositionBatch,
};

type BoardStream = Pin<Box<dyn Stream<Item = Result<pb::WatchAssignmentsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl DispatchService for DispatchApi {
    type WatchAssignmentsStream = BoardStream;
    type ExportBookingsStream = Export<pb::ExportBookingsResponse>;
    type ExportAssignmentsStream = Export<pb::ExportAssignmentsResponse>;
    type ExportDispatchRunsStream = Export<pb::ExportDispatchRunsResponse>;

    async fn get_company(&self, req: Request<pb::GetCompanyRequest>) -> Result<Response<pb::GetCompanyResponse>, Status> {
        let c = caller(&req)?;
        let company = self.core.company(c.company_id).await?;
        Ok(Response::new(pb::GetCompanyResponse { company: Some(company_pb(company)) }))
    }

    async fn update_company(&self, req: Request<pb::UpdateCompanyRequest>) -> Result<Response<pb::UpdateCompanyResponse>, Status> {
        Ok(Response::new(company::update(&self.core, req).await?))
    }

    async fn create_driver(&self, req: Request<pb::CreateDriverRequest>) -> Result<Response<pb::CreateDriverResponse>, Status> {
        let c = caller(&req)?;
        let d = input::driver(&required("driver", req.into_inner().driver)?).map_err(|e| e.under("driver."))?;
        let row = self.core.create_driver(c.company_id, d).await?;
        Ok(Response::new(pb::CreateDriverResponse { driver: Some(driver_pb(row)?) }))
    }

    async fn get_driver(&self, req: Request<pb::GetDriverRequest>) -> Result<Response<pb::GetDriverResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("driver_id", req.into_inner().driver_id)?;
        Ok(Response::new(pb::GetDriverResponse { driver: Some(driver_pb(self.core.driver(c.company_id, id).await?)?) }))
    }

    async fn list_drivers(&self, req: Request<pb::ListDriversRequest>) -> Result<Response<pb::ListDriversResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let statuses = r
            .statuses
            .iter()
            .map(|&s| input::driver_status("statuses", s)?.ok_or_else(|| Invalid::new("statuses", "must not contain UNSPECIFIED")))
            .collect::<Result<Vec<_>, _>>()?;
        let kinds = r.vehicle_kinds.iter().map(|&k| input::vehicle_kind("vehicle_kinds", k)).collect::<Result<Vec<_>, _>>()?;
        let filter = DriverFilter { statuses, kinds, query: optional_query("query", r.query.as_deref())? };
        let (rows, total) = self.core.list_drivers(c.company_id, &filter, p).await?;
        Ok(Response::new(pb::ListDriversResponse {
            drivers: rows.into_iter().map(driver_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn update_driver(&self, req: Request<pb::UpdateDriverRequest>) -> Result<Response<pb::UpdateDriverResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let paths = mask_paths(r.update_mask.as_ref(), &DRIVER_PATHS)?;
        let patch = required("driver", r.driver)?;
        let id = input::id("driver.id", patch.id)?;
        let current = driver_pb(self.core.driver(c.company_id, id).await?)?;
        let d = input::driver(&merge_driver(current, patch, &paths)).map_err(|e| e.under("driver."))?;
        let row = self.core.update_driver(c.company_id, id, d).await?;
        Ok(Response::new(pb::UpdateDriverResponse { driver: Some(driver_pb(row)?) }))
    }

    async fn delete_driver(&self, req: Request<pb::DeleteDriverRequest>) -> Result<Response<pb::DeleteDriverResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("driver_id", req.into_inner().driver_id)?;
        self.core.delete_driver(c.company_id, id).await?;
        Ok(Response::new(pb::DeleteDriverResponse {}))
    }

    async fn create_client(&self, req: Request<pb::CreateClientRequest>) -> Result<Response<pb::CreateClientResponse>, Status> {
        let c = caller(&req)?;
        let input = input::client(&required("client", req.into_inner().client)?).map_err(|e| e.under("client."))?;
        let row = self.core.create_client(c.company_id, input).await?;
        Ok(Response::new(pb::CreateClientResponse { client: Some(client_pb(row)?) }))
    }

    async fn get_client(&self, req: Request<pb::GetClientRequest>) -> Result<Response<pb::GetClientResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("client_id", req.into_inner().client_id)?;
        Ok(Response::new(pb::GetClientResponse { client: Some(client_pb(self.core.client(c.company_id, id).await?)?) }))
    }

    async fn list_clients(&self, req: Request<pb::ListClientsRequest>) -> Result<Response<pb::ListClientsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let mobilities = r
            .mobilities
            .iter()
            .map(|&m| input::mobility("mobilities", m)?.ok_or_else(|| Invalid::new("mobilities", "must not contain UNSPECIFIED")))
            .collect::<Result<Vec<_>, _>>()?;
        let query = optional_query("query", r.query.as_deref())?;
        let (rows, total) = self.core.list_clients(c.company_id, &mobilities, query.as_deref(), p).await?;
        Ok(Response::new(pb::ListClientsResponse {
            clients: rows.into_iter().map(client_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn update_client(&self, req: Request<pb::UpdateClientRequest>) -> Result<Response<pb::UpdateClientResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let paths = mask_paths(r.update_mask.as_ref(), &CLIENT_PATHS)?;
        let patch = required("client", r.client)?;
        let id = input::id("client.id", patch.id)?;
        let current = client_pb(self.core.client(c.company_id, id).await?)?;
        let input = input::client(&merge_client(current, patch, &paths)).map_err(|e| e.under("client."))?;
        let row = self.core.update_client(c.company_id, id, input).await?;
        Ok(Response::new(pb::UpdateClientResponse { client: Some(client_pb(row)?) }))
    }

    async fn delete_client(&self, req: Request<pb::DeleteClientRequest>) -> Result<Response<pb::DeleteClientResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("client_id", req.into_inner().client_id)?;
        self.core.delete_client(c.company_id, id).await?;
        Ok(Response::new(pb::DeleteClientResponse {}))
    }

    async fn export_client(&self, req: Request<pb::ExportClientRequest>) -> Result<Response<pb::ExportClientResponse>, Status> {
        Ok(Response::new(privacy::export(&self.core, req).await?))
    }

    async fn erase_client(&self, req: Request<pb::EraseClientRequest>) -> Result<Response<pb::EraseClientResponse>, Status> {
        Ok(Response::new(privacy::erase(&self.core, req).await?))
    }

    async fn create_booking(&self, req: Request<pb::CreateBookingRequest>) -> Result<Response<pb::CreateBookingResponse>, Status> {
        let c = caller(&req)?;
        let input = input::booking(&required("booking", req.into_inner().booking)?).map_err(|e| e.under("booking."))?;
        let row = self.core.create_booking(c.company_id, input).await.map_err(|e| prefix_store(e, "booking."))?;
        Ok(Response::new(pb::CreateBookingResponse { booking: Some(booking_pb(row)?) }))
    }

    async fn create_bookings(&self, req: Request<pb::CreateBookingsRequest>) -> Result<Response<pb::CreateBookingsResponse>, Status> {
        let c = caller(&req)?;
        let rows = req.into_inner().bookings;
        if rows.is_empty() {
            return Err(Invalid::new("bookings", "is empty").into());
        }
        if rows.len() > input::MAX_BATCH {
            return Err(Invalid::new("bookings", format!("has {} rows; at most {} per call", rows.len(), input::MAX_BATCH)).into());
        }
        let mut inputs = Vec::with_capacity(rows.len());
        let mut bad: Vec<Invalid> = Vec::new();
        for (i, b) in rows.iter().enumerate() {
            match input::booking(b) {
                Ok(v) => inputs.push(v),
                Err(e) => bad.push(e.under(&format!("bookings[{i}]."))),
            }
        }
        if let Some(first) = bad.first() {
            let all = bad.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            let others = bad[1..].iter().map(|b| b.field.clone()).collect();
            return Err(Invalid::new(first.field.clone(), format!("{} bad rows, nothing written: {all}", bad.len()))
                .with_others(others)
                .into());
        }
        let created = if inputs.len() == 1 {
            self.core.create_bookings(c.company_id, inputs).await.map_err(|e| prefix_store(e, "bookings[0]."))?
        } else {
            self.core.create_bookings(c.company_id, inputs).await?
        };
        Ok(Response::new(pb::CreateBookingsResponse { bookings: created.into_iter().map(booking_pb).collect::<Result<_, _>>()? }))
    }

    async fn get_booking(&self, req: Request<pb::GetBookingRequest>) -> Result<Response<pb::GetBookingResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("booking_id", req.into_inner().booking_id)?;
        let (booking, assignment) = self.core.booking(c.company_id, id).await?;
        Ok(Response::new(pb::GetBookingResponse {
            booking: Some(booking_pb(booking)?),
            assignment: assignment.map(assignment_pb).transpose()?,
        }))
    }

    async fn list_bookings(&self, req: Request<pb::ListBookingsRequest>) -> Result<Response<pb::ListBookingsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let filter = BookingFilter {
            service_day: r.service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?,
            statuses: r.statuses.iter().map(|&s| booking_status("statuses", s)).collect::<Result<_, _>>()?,
            client_id: r.client_id.map(|v| input::id("client_id", v)).transpose()?,
            driver_id: r.driver_id.map(|v| input::id("driver_id", v)).transpose()?,
            ..Default::default()
        };
        let (rows, total) = self.core.list_bookings(c.company_id, &filter, p).await?;
        Ok(Response::new(pb::ListBookingsResponse {
            bookings: rows.into_iter().map(booking_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn update_booking(&self, req: Request<pb::UpdateBookingRequest>) -> Result<Response<pb::UpdateBookingResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let paths = mask_paths(r.update_mask.as_ref(), &BOOKING_PATHS)?;
        let patch = required("booking", r.booking)?;
        let id = input::id("booking.id", patch.id)?;
        let current = booking_pb(self.core.booking_row(c.company_id, id).await?)?;
        let merged = merge_booking(current, patch, &paths);
        let input = input::booking(&merged).map_err(|e| e.under("booking."))?;
        let row = self.core.update_booking(c.company_id, id, input).await?;
        Ok(Response::new(pb::UpdateBookingResponse { booking: Some(booking_pb(row)?) }))
    }

    async fn update_booking_status(
        &self,
        req: Request<pb::UpdateBookingStatusRequest>,
    ) -> Result<Response<pb::UpdateBookingStatusResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let id = input::id("booking_id", r.booking_id)?;
        let to = booking_status("status", r.status)?;
        let reason = kit::input::optional_line("reason", &r.reason, 300)?;
        let now = self.core.now();
        let at = input::occurred(r.occurred_time.as_ref(), now)?;
        let row = self.core.update_booking_status(c.company_id, id, (to, &reason), now, at).await?;
        Ok(Response::new(pb::UpdateBookingStatusResponse { booking: Some(booking_pb(row)?) }))
    }

    async fn create_recurring_template(
        &self,
        req: Request<pb::CreateRecurringTemplateRequest>,
    ) -> Result<Response<pb::CreateRecurringTemplateResponse>, Status> {
        let c = caller(&req)?;
        let t = input::template(&required("template", req.into_inner().template)?).map_err(|e| e.under("template."))?;
        let row = self.core.create_template(c.company_id, t).await.map_err(|e| prefix_store(e, "template."))?;
        Ok(Response::new(pb::CreateRecurringTemplateResponse { template: Some(template_pb(row)?) }))
    }

    async fn list_recurring_templates(
        &self,
        req: Request<pb::ListRecurringTemplatesRequest>,
    ) -> Result<Response<pb::ListRecurringTemplatesResponse>, Status> {
        let c = caller(&req)?;
        let client_id = req.into_inner().client_id.map(|v| input::id("client_id", v)).transpose()?;
        let rows = self.core.list_templates(c.company_id, client_id).await?;
        Ok(Response::new(pb::ListRecurringTemplatesResponse { templates: rows.into_iter().map(template_pb).collect::<Result<_, _>>()? }))
    }

    async fn delete_recurring_template(
        &self,
        req: Request<pb::DeleteRecurringTemplateRequest>,
    ) -> Result<Response<pb::DeleteRecurringTemplateResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("template_id", req.into_inner().template_id)?;
        self.core.delete_template(c.company_id, id).await?;
        Ok(Response::new(pb::DeleteRecurringTemplateResponse {}))
    }

    async fn generate_recurring_bookings(
        &self,
        req: Request<pb::GenerateRecurringBookingsRequest>,
    ) -> Result<Response<pb::GenerateRecurringBookingsResponse>, Status> {
        let c = caller(&req)?;
        let day = input::day("service_day", &req.into_inner().service_day)?;
        let (created, already_present) = self.core.generate_recurring(c.company_id, day).await?;
        Ok(Response::new(pb::GenerateRecurringBookingsResponse {
            bookings: created.into_iter().map(booking_pb).collect::<Result<_, _>>()?,
            already_present,
        }))
    }

    async fn run_dispatch(&self, req: Request<pb::RunDispatchRequest>) -> Result<Response<pb::RunDispatchResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let day = input::day("service_day", &r.service_day)?;
        let mode = match pb::RunMode::try_from(r.mode) {
            Ok(pb::RunMode::Unspecified | pb::RunMode::Full) => RunMode::Full,
            Ok(pb::RunMode::PendingOnly) => RunMode::PendingOnly,
            Err(_) => return Err(Invalid::new("mode", format!("unknown run mode {}", r.mode)).into()),
        };
        if r.time_budget_ms < 0 {
            return Err(Invalid::new("time_budget_ms", "must not be negative").into());
        }
        let who = if c.email.is_empty() { c.sub.clone() } else { c.email.clone() };
        let req = RunRequest { company_id: c.company_id, day, mode, budget_ms: r.time_budget_ms as u32, seed: r.seed, created_by: &who };
        let done = self.core.run_dispatch(req).await?;
        Ok(Response::new(pb::RunDispatchResponse {
            run: Some(run_pb(done.run)?),
            assignments: done.created.into_iter().map(assignment_pb).collect::<Result<_, _>>()?,
        }))
    }

    async fn get_dispatch_run(&self, req: Request<pb::GetDispatchRunRequest>) -> Result<Response<pb::GetDispatchRunResponse>, Status> {
        let c = caller(&req)?;
        let id = input::id("run_id", req.into_inner().run_id)?;
        Ok(Response::new(pb::GetDispatchRunResponse { run: Some(run_pb(self.core.run(c.company_id, id).await?)?) }))
    }

    async fn list_dispatch_runs(
        &self,
        req: Request<pb::ListDispatchRunsRequest>,
    ) -> Result<Response<pb::ListDispatchRunsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let day = r.service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?;
        let (rows, total) = self.core.list_runs(c.company_id, day, p).await?;
        Ok(Response::new(pb::ListDispatchRunsResponse {
            runs: rows.into_iter().map(run_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn list_assignments(&self, req: Request<pb::ListAssignmentsRequest>) -> Result<Response<pb::ListAssignmentsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let statuses = r.statuses.iter().map(|&s| assignment_status("statuses", s)).collect::<Result<Vec<_>, _>>()?;
        let filter = AssignmentFilter {
            run_id: r.run_id.map(|v| input::id("run_id", v)).transpose()?,
            driver_id: r.driver_id.map(|v| input::id("driver_id", v)).transpose()?,
            service_day: r.service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?,
            statuses,
            ..Default::default()
        };
        let (rows, total) = self.core.list_assignments(c.company_id, &filter, p).await?;
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: rows.into_iter().map(assignment_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn reassign_booking(&self, req: Request<pb::ReassignBookingRequest>) -> Result<Response<pb::ReassignBookingResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let booking_id = input::id("booking_id", r.booking_id)?;
        let driver_id = input::id("driver_id", r.driver_id)?;
        let reason = kit::input::optional_line("reason", &r.reason, input::MAX_REASON)?;
        let by = if c.email.is_empty() { c.sub.clone() } else { c.email.clone() };
        let forced = r.force.then_some(Forced { reason, by });
        let moved = self.core.reassign(c.company_id, Move { booking_id, driver_id }, forced).await?;
        let assignment = moved.created.into_iter().find(|a| a.booking_id == booking_id);
        Ok(Response::new(pb::ReassignBookingResponse {
            assignment: assignment.map(assignment_pb).transpose()?,
            violations: moved.violations.iter().map(|v| v.message.clone()).collect(),
            violation_details: moved.violations.into_iter().map(violation_pb).collect(),
        }))
    }

    async fn report_driver_positions(
        &self,
        req: Request<Streaming<pb::ReportDriverPositionsRequest>>,
    ) -> Result<Response<pb::ReportDriverPositionsResponse>, Status> {
        let c = caller(&req)?;
        let mut stream = req.into_inner();
        let (mut accepted, mut rejected) = (0_i64, 0_i64);
        // The latest position of each driver and how many reports each sent,
        // written every 200 drivers and at the end of the stream.
        let mut batch = PositionBatch::default();
        while let Some(msg) = stream.next().await {
            let msg = msg?;
            let parsed = input::id("driver_id", msg.driver_id)
                .and_then(|id| Ok((id, input::point("position", msg.position.as_ref())?, input::time("time", msg.time.as_ref())?)));
            let Ok((id, p, t)) = parsed else {
                rejected += 1;
                continue;
            };
            batch.add(id, p.lat, p.lon, t.unwrap_or_else(|| self.core.now()));
            if batch.latest.len() >= 200 {
                let (a, r) = self.core.record_positions(c.company_id, &mut batch).await?;
                (accepted, rejected) = (accepted + a, rejected + r);
            }
        }
        let (a, r) = self.core.record_positions(c.company_id, &mut batch).await?;
        (accepted, rejected) = (accepted + a, rejected + r);
        self.core.positions_reported(c.company_id, accepted, rejected);
        Ok(Response::new(pb::ReportDriverPositionsResponse { accepted, rejected }))
    }

    async fn watch_assignments(&self, req: Request<pb::WatchAssignmentsRequest>) -> Result<Response<BoardStream>, Status> {
        let c = caller(&req)?;
        // The board is open only as long as its token: it ends when the token
        // expires or is revoked (the watcher reconnects with a fresh one).
        let lease = kit::auth::lease(&req)?;
        let day = req.into_inner().service_day.as_deref().map(|d| input::day("service_day", d)).transpose()?.map(|d| d.to_string());
        let company = c.company_id;
        let rx = tokio_stream::wrappers::BroadcastStream::new(self.core.watch());
        let stream = rx.filter_map(move |item| {
            let day = day.clone();
            async move {
                match item {
                    Ok(change) if change.company_id == company && day.as_ref().is_none_or(|d| *d == change.service_day) => {
                        // The stream goes on past a row it cannot read; the row is logged.
                        let assignment = assignment_pb(change.assignment).map_err(Error::from).ok()?;
                        Some(Ok(pb::WatchAssignmentsResponse {
                            change: change.change.to_owned(),
                            assignment: Some(assignment),
                            time: Some(timestamp(Utc::now())),
                        }))
                    }
                    Ok(_) => None,
                    // A watcher too slow to keep up is told, and reloads the board.
                    Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => Some(Err(Status::data_loss(format!(
                        "{n} changes were missed; reload the board with ListAssignments and watch again"
                    )))),
                }
            }
        });
        Ok(Response::new(Box::pin(stream.take_until(lease.ended()))))
    }

    async fn export_bookings(
        &self,
        req: Request<pb::ExportBookingsRequest>,
    ) -> Result<Response<Export<pb::ExportBookingsResponse>>, Status> {
        let c = caller(&req)?;
        Ok(Response::new(exports::bookings(&self.core, c.company_id, req.into_inner())?))
    }

    async fn export_assignments(
        &self,
        req: Request<pb::ExportAssignmentsRequest>,
    ) -> Result<Response<Export<pb::ExportAssignmentsResponse>>, Status> {
        let c = caller(&req)?;
        Ok(Response::new(exports::assignments(&self.core, c.company_id, req.into_inner())?))
    }

    async fn export_dispatch_runs(
        &self,
        req: Request<pb::ExportDispatchRunsRequest>,
    ) -> Result<Response<Export<pb::ExportDispatchRunsResponse>>, Status> {
        let c = caller(&req)?;
        Ok(Response::new(exports::runs(&self.core, c.company_id, req.into_inner())?))
    }

    async fn get_driver_manifest(
        &self,
        req: Request<pb::GetDriverManifestRequest>,
    ) -> Result<Response<pb::GetDriverManifestResponse>, Status> {
        Ok(Response::new(driver_app::manifest(&self.core, req).await?))
    }

    async fn record_driver_positions(
        &self,
        req: Request<pb::RecordDriverPositionsRequest>,
    ) -> Result<Response<pb::RecordDriverPositionsResponse>, Status> {
        Ok(Response::new(driver_app::record_positions(&self.core, req).await?))
    }

    async fn update_trip_status(
        &self,
        req: Request<pb::UpdateTripStatusRequest>,
    ) -> Result<Response<pb::UpdateTripStatusResponse>, Status> {
        Ok(Response::new(driver_app::update_trip_status(&self.core, req).await?))
    }
}
