//! The `atmr.dispatch.v1.AutonomyService` implementation: per-company settings
//! (admins change them), the manager's suggestions, a cycle on request, the ETA
//! model and its drift checks.

use atmr_proto::dispatch::v1::{self as pb, autonomy_service_server::AutonomyService};
use kit::{
    auth::{Role, require_role},
    convert::timestamp,
};
use tonic::{Request, Response, Status};

use crate::{
    domain::autonomy::Mode,
    domain::{Invalid, UnknownValue},
    grpc::{DispatchApi, caller, checked_page, page_info},
    store::entities::{autonomy_settings, autonomy_suggestion, drift_check, eta_model},
};

pub struct AutonomyApi(pub DispatchApi);

fn settings_pb(s: &autonomy_settings::Model) -> Result<pb::AutonomySettings, UnknownValue> {
    let mode = match Mode::stored(s.id, &s.mode)? {
        Mode::Off => pb::AutonomyMode::Off,
        Mode::Suggest => pb::AutonomyMode::Suggest,
        Mode::Autonomous => pb::AutonomyMode::Autonomous,
    };
    Ok(pb::AutonomySettings {
        mode: mode as i32,
        lateness_threshold_minutes: s.lateness_threshold_minutes,
        drift_mae_threshold_minutes: s.drift_mae_threshold_minutes,
        drift_check_interval_seconds: s.drift_check_interval_seconds,
        cycle_interval_seconds: s.cycle_interval_seconds,
    })
}

/// The value `pairs` names `s` by, or an error naming the row.
fn stored<T: Copy>(pairs: &[(&str, T)], table: &'static str, column: &'static str, id: i64, s: &str) -> Result<T, UnknownValue> {
    pairs.iter().find(|(k, _)| *k == s).map(|(_, v)| *v).ok_or_else(|| UnknownValue::new(table, column, id, s))
}

const STATES: [(&str, pb::SuggestionState); 5] = [
    ("open", pb::SuggestionState::Open),
    ("blocked", pb::SuggestionState::Blocked),
    ("safety_unavailable", pb::SuggestionState::SafetyUnavailable),
    ("executed", pb::SuggestionState::Executed),
    ("expired", pb::SuggestionState::Expired),
];

const KINDS: [(&str, pb::ActionKind); 4] = [
    ("reassign", pb::ActionKind::Reassign),
    ("swap", pb::ActionKind::Swap),
    ("delay", pb::ActionKind::Delay),
    ("notify_dispatcher", pb::ActionKind::NotifyDispatcher),
];

fn suggestion_pb(s: autonomy_suggestion::Model) -> Result<pb::Suggestion, UnknownValue> {
    let state = stored(&STATES, "autonomy_suggestion", "state", s.id, &s.state)?;
    let kind = stored(&KINDS, "autonomy_suggestion", "kind", s.id, &s.kind)?;
    Ok(pb::Suggestion {
        id: s.id,
        kind: kind as i32,
        booking_id: s.booking_id,
        from_driver_id: s.from_driver_id,
        to_driver_id: s.to_driver_id,
        other_booking_id: s.other_booking_id,
        description: s.description,
        confidence_score: s.confidence_score,
        expected_improvement_minutes: s.expected_improvement_minutes,
        state: state as i32,
        action_id: s.action_id,
        create_time: Some(timestamp(s.created_at)),
    })
}

fn model_pb(m: &eta_model::Model) -> pb::EtaModel {
    pb::EtaModel {
        version: m.version,
        train_time: Some(timestamp(m.trained_at)),
        trained_on_trips: m.trained_on_trips,
        mae_minutes: m.mae_minutes,
        bias_minutes: m.bias_minutes,
    }
}

const DRIFT_STATES: [(&str, pb::DriftCheckState); 3] =
    [("completed", pb::DriftCheckState::Completed), ("failed", pb::DriftCheckState::Failed), ("retried", pb::DriftCheckState::Retried)];

fn check_pb(c: drift_check::Model) -> Result<pb::DriftCheck, UnknownValue> {
    let state = stored(&DRIFT_STATES, "drift_check", "state", c.id, &c.state)?;
    Ok(pb::DriftCheck {
        id: c.id,
        start_time: Some(timestamp(c.started_at)),
        state: state as i32,
        attempts: c.attempts,
        model_version: c.model_version,
        trips: c.trips,
        mae_minutes: c.mae_minutes,
        bias_minutes: c.bias_minutes,
        drift_detected: c.drift_detected,
        retrained_version: c.retrained_version,
        error: c.error,
    })
}

fn within<T: PartialOrd + std::fmt::Display>(field: &str, v: T, lo: T, hi: T) -> Result<T, Status> {
    if v < lo || v > hi { Err(Invalid::new(field, format!("must be between {lo} and {hi}, got {v}")).into()) } else { Ok(v) }
}

#[tonic::async_trait]
impl AutonomyService for AutonomyApi {
    async fn get_autonomy_settings(
        &self,
        req: Request<pb::GetAutonomySettingsRequest>,
    ) -> Result<Response<pb::GetAutonomySettingsResponse>, Status> {
        let c = caller(&req)?;
        let s = self.0.store.autonomy_settings(c.company_id, self.0.autonomy.defaults, self.0.now()).await?;
        Ok(Response::new(pb::GetAutonomySettingsResponse { settings: Some(settings_pb(&s)?) }))
    }

    async fn update_autonomy_settings(
        &self,
        req: Request<pb::UpdateAutonomySettingsRequest>,
    ) -> Result<Response<pb::UpdateAutonomySettingsResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin])?.company_id;
        let r = req.into_inner().settings.ok_or_else(|| Status::from(Invalid::new("settings", "required")))?;
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
        let now = self.0.now();
        let mut row = self.0.store.autonomy_settings(company_id, self.0.autonomy.defaults, now).await?;
        row.mode = mode.as_str().to_owned();
        row.lateness_threshold_minutes = lateness;
        row.drift_mae_threshold_minutes = mae;
        row.drift_check_interval_seconds = drift_every;
        row.cycle_interval_seconds = cycle_every;
        row.updated_at = now;
        let saved = self.0.store.save_autonomy_settings(row).await?;
        tracing::info!(company_id, mode = %saved.mode, "autonomy settings changed");
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
        let (rows, total) = self.0.store.list_suggestions(c.company_id, &states, p).await?;
        Ok(Response::new(pb::ListSuggestionsResponse {
            suggestions: rows.into_iter().map(suggestion_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn run_autonomy_cycle(
        &self,
        req: Request<pb::RunAutonomyCycleRequest>,
    ) -> Result<Response<pb::RunAutonomyCycleResponse>, Status> {
        let c = caller(&req)?;
        let report = self.0.autonomy.cycle(c.company_id).await?;
        Ok(Response::new(pb::RunAutonomyCycleResponse {
            late_bookings: report.late_bookings as i32,
            proposals: report.suggestions.into_iter().map(suggestion_pb).collect::<Result<_, _>>()?,
            executed: report.executed as i32,
            blocked: report.blocked as i32,
        }))
    }

    async fn get_eta_model(&self, req: Request<pb::GetEtaModelRequest>) -> Result<Response<pb::GetEtaModelResponse>, Status> {
        let c = caller(&req)?;
        let model = self.0.store.eta_model(c.company_id).await?;
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
        let p = checked_page(req.get_ref().page.as_ref())?;
        let (rows, total) = self.0.store.list_drift_checks(c.company_id, p).await?;
        Ok(Response::new(pb::ListDriftChecksResponse {
            checks: rows.into_iter().map(check_pb).collect::<Result<_, _>>()?,
            page: page_info(p, total),
        }))
    }

    async fn run_drift_check(&self, req: Request<pb::RunDriftCheckRequest>) -> Result<Response<pb::RunDriftCheckResponse>, Status> {
        let company_id = require_role(&req, &[Role::Admin])?.company_id;
        let check = self.0.autonomy.drift.check(company_id).await?;
        Ok(Response::new(pb::RunDriftCheckResponse { check: Some(check_pb(check)?) }))
    }
}
