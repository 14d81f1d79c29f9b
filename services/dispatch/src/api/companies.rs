//! The `atmr.dispatch.v1.CompanyService` handlers: the company registry, for
//! the platform operator alone. Unlike the company routes, service tokens do
//! not pass: no component registers companies. What they answer about a
//! company is counts, never a person.

use atmr_proto::dispatch::v1::{self as pb, company_service_server::CompanyService};
use kit::{
    auth::{Role, caller},
    convert::timestamp,
};
use tonic::{Request, Response, Status};

use super::{convert::company_pb, input, services::CompanyApi};
use crate::{
    domain::{RunStatus, UnknownValue},
    store::companies::CompanyHealth,
};

/// The operator's claims, else PERMISSION_DENIED.
fn operator<T>(req: &Request<T>) -> Result<(), Status> {
    let c = caller(req)?;
    if c.role == Role::Operator {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "role {} may not call this: the company registry is the platform operator's",
            c.role.as_str()
        )))
    }
}

#[tonic::async_trait]
impl CompanyService for CompanyApi {
    async fn create_company(&self, req: Request<pb::CreateCompanyRequest>) -> Result<Response<pb::CreateCompanyResponse>, Status> {
        operator(&req)?;
        let r = req.into_inner();
        let name = kit::input::required_line("name", &r.name, input::MAX_NAME)?;
        let tz = input::time_zone("time_zone", &r.time_zone)?;
        let row = self.0.create_company(&name, tz).await?;
        Ok(Response::new(pb::CreateCompanyResponse { company: Some(company_pb(row)) }))
    }

    async fn list_companies(&self, req: Request<pb::ListCompaniesRequest>) -> Result<Response<pb::ListCompaniesResponse>, Status> {
        operator(&req)?;
        let companies = self.0.companies_health().await?.into_iter().map(health_pb).collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListCompaniesResponse { companies }))
    }
}

fn health_pb(h: CompanyHealth) -> Result<pb::CompanyHealth, UnknownValue> {
    let last_run = match h.last_run {
        None => None,
        Some(r) => Some(pb::LastRun {
            id: r.id,
            status: match RunStatus::stored("dispatch_run", "status", r.id, &r.status)? {
                RunStatus::Running => pb::RunStatus::Running,
                RunStatus::Completed => pb::RunStatus::Completed,
                RunStatus::Failed => pb::RunStatus::Failed,
            } as i32,
            service_day: r.service_day,
            start_time: Some(timestamp(r.started_at)),
            finish_time: r.finished_at.map(timestamp),
        }),
    };
    Ok(pb::CompanyHealth {
        company: Some(company_pb(h.company)),
        drivers: h.drivers as i64,
        today: h.today,
        bookings_today: h.bookings_today as i64,
        unassigned_today: h.unassigned_today as i64,
        last_run,
    })
}
