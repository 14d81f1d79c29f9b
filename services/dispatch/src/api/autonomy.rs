//! The `atmr.dispatch.v1.AutonomyService` handlers: per-company settings
//! (admins change them), the manager's suggestions, a cycle on request, the ETA
//! model and its drift checks. Each checks the caller and the request, calls
//! the core, and converts its answer.

use atmr_proto::dispatch::v1::{self as pb, autonomy_service_server::AutonomyService};
use kit::auth::{Role, require_role};
use tonic::{Request, Response, Status};

use super::{
    convert::{DRIFT_STATES, STATES, check_pb, day_pb, model_pb, page_info, settings_pb, suggestion_pb},
    input::{self, checked_page, within},
    services::{AutonomyApi, caller},
};
use crate::{
    core::SettingsChange,
    domain::{Invalid, autonomy::Mode},
};

/// Who decided, as a suggestion keeps it: the user's email (their id when
/// the token carries none).
fn decider(c: &kit::auth::Claims) -> &str {
    if c.email.is_empty() { &c.sub } else { &c.email }
}

#[tonic::async_trait]
impl AutonomyService for AutonomyApi {
    async fn get_autonomy_settings(
        &self,
        req: Request<pb::GetAutonomySettingsRequest>,
    ) -> Result<Response<pb::GetAutonomySettingsResponse>, Status> {
        let c = caller(&req)?;
        let s = self.0.autonomy_settings(c.company_id).await?;
        Ok(Response::new(pb::GetAutonomySettingsResponse { settings: Some(settings_pb(&s)?) }))
    }

    async fn update_autonomy_settings(
        &self,
        req: Request<pb::UpdateAutonomySettingsRequest>,
    ) -> Result<Response<pb::UpdateAutonomySettingsResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin])?.company_id;
        let r = req.into_inner();
        let validate_only = r.validate_only;
        let r = r.settings.ok_or_else(|| Status::from(Invalid::new("settings", "required")))?;
        let mode = match pb::AutonomyMode::try_from(r.mode).unwrap_or(pb::AutonomyMode::Unspecified) {
            pb::AutonomyMode::Off => Mode::Off,
            pb::AutonomyMode::Suggest => Mode::Suggest,
            pb::AutonomyMode::Autonomous => Mode::Autonomous,
            pb::AutonomyMode::Unspecified => return Err(Invalid::new("settings.mode", "off, suggest or autonomous").into()),
        };
        let lateness = within("settings.lateness_threshold_minutes", r.lateness_threshold_minutes, 1, 240)?;
        let mae = r.drift_mae_threshold_minutes;
        if !mae.is_finite() {
            return Err(Invalid::new("settings.drift_mae_threshold_minutes", "must be a number").into());
        }
        let mae = within("settings.drift_mae_threshold_minutes", mae, 0.1, 120.0)?;
        let drift_every = within("settings.drift_check_interval_seconds", r.drift_check_interval_seconds, 5, 86_400)?;
        let cycle_every = within("settings.cycle_interval_seconds", r.cycle_interval_seconds, 5, 3_600)?;
        let change = SettingsChange {
            mode,
            lateness_threshold_minutes: lateness,
            drift_mae_threshold_minutes: mae,
            drift_check_interval_seconds: drift_every,
            cycle_interval_seconds: cycle_every,
        };
        let saved = self.0.update_autonomy_settings(company_id, change, validate_only).await?;
        Ok(Response::new(pb::UpdateAutonomySettingsResponse { settings: Some(settings_pb(&saved)?) }))
    }

    async fn list_suggestions(&self, req: Request<pb::ListSuggestionsRequest>) -> Result<Response<pb::ListSuggestionsResponse>, Status> {
        let c = caller(&req)?;
        let r = req.into_inner();
        let p = checked_page(r.page.as_ref())?;
        let mut states = Vec::new();
        for (i, s) in r.states.iter().enumerate() {
            let state = pb::SuggestionState::try_from(*s).unwrap_or(pb::SuggestionState::Unspecified);
            match STATES.iter().find(|(_, v)| *v == state) {
                Some((k, _)) => states.push(*k),
                None => return Err(Invalid::new(format!("states[{i}]"), "unknown suggestion state").into()),
            }
        }
        let (rows, total) = self.0.list_suggestions(c.company_id, &states, p).await?;
        Ok(Response::new(pb::ListSuggestionsResponse {
            suggestions: rows.into_iter().map(suggestion_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn accept_suggestion(&self, req: Request<pb::AcceptSuggestionRequest>) -> Result<Response<pb::AcceptSuggestionResponse>, Status> {
        let c = require_role(&req, &[Role::Admin, Role::Dispatcher])?.clone();
        let id = input::id("suggestion_id", req.into_inner().suggestion_id)?;
        let row = self.0.accept_suggestion(c.company_id, id, decider(&c)).await?;
        Ok(Response::new(pb::AcceptSuggestionResponse { suggestion: Some(suggestion_pb(row)?) }))
    }

    async fn dismiss_suggestion(
        &self,
        req: Request<pb::DismissSuggestionRequest>,
    ) -> Result<Response<pb::DismissSuggestionResponse>, Status> {
        let c = require_role(&req, &[Role::Admin, Role::Dispatcher])?.clone();
        let id = input::id("suggestion_id", req.into_inner().suggestion_id)?;
        let row = self.0.dismiss_suggestion(c.company_id, id, decider(&c)).await?;
        Ok(Response::new(pb::DismissSuggestionResponse { suggestion: Some(suggestion_pb(row)?) }))
    }

    async fn run_autonomy_cycle(
        &self,
        req: Request<pb::RunAutonomyCycleRequest>,
    ) -> Result<Response<pb::RunAutonomyCycleResponse>, Status> {
        let c = caller(&req)?;
        let report = self.0.autonomy_cycle(c.company_id).await?;
        Ok(Response::new(pb::RunAutonomyCycleResponse {
            late_bookings: report.late_bookings as i32,
            proposals: report.suggestions.into_iter().map(suggestion_pb).collect::<Result<_, _>>()?,
            executed: report.executed as i32,
            blocked: report.blocked as i32,
        }))
    }

    async fn get_eta_model(&self, req: Request<pb::GetEtaModelRequest>) -> Result<Response<pb::GetEtaModelResponse>, Status> {
        let c = caller(&req)?;
        let model = self.0.eta_model(c.company_id).await?;
        Ok(Response::new(pb::GetEtaModelResponse {
            model: Some(
                model.as_ref().map_or(
                    pb::EtaModel { version: 0, train_time: None, trained_on_trips: 0, mae_minutes: 0.0, bias_minutes: 0.0 },
                    model_pb,
                ),
            ),
        }))
    }

    async fn list_drift_checks(&self, req: Request<pb::ListDriftChecksRequest>) -> Result<Response<pb::ListDriftChecksResponse>, Status> {
        let c = caller(&req)?;
        let r = req.get_ref();
        let p = checked_page(r.page.as_ref())?;
        let mut states = Vec::new();
        for (i, s) in r.states.iter().enumerate() {
            let state = pb::DriftCheckState::try_from(*s).unwrap_or(pb::DriftCheckState::Unspecified);
            match DRIFT_STATES.iter().find(|(_, v)| *v == state) {
                Some((k, _)) => states.push(*k),
                None => return Err(Invalid::new(format!("states[{i}]"), "completed, failed or retried").into()),
            }
        }
        let (rows, total) = self.0.list_drift_checks(c.company_id, &states, p).await?;
        Ok(Response::new(pb::ListDriftChecksResponse {
            checks: rows.into_iter().map(check_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn summarize_drift_checks(
        &self,
        req: Request<pb::SummarizeDriftChecksRequest>,
    ) -> Result<Response<pb::SummarizeDriftChecksResponse>, Status> {
        let c = caller(&req)?;
        let days = match req.get_ref().days {
            0 => 30,
            d => within("days", d, 1, 90)?,
        };
        let (days, tz) = self.0.drift_days(c.company_id, days as u32).await?;
        Ok(Response::new(pb::SummarizeDriftChecksResponse {
            days: days.into_iter().map(day_pb).collect(),
            time_zone: tz.name().to_owned(),
        }))
    }

    async fn run_drift_check(&self, req: Request<pb::RunDriftCheckRequest>) -> Result<Response<pb::RunDriftCheckResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin])?.company_id;
        let check = self.0.drift_check(company_id).await?;
        Ok(Response::new(pb::RunDriftCheckResponse { check: Some(check_pb(check)?) }))
    }
}
