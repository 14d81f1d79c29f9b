//! The safety service's contract, as the autonomous manager needs it: ask it
//! to authorize a proposal (an action id, or `None` when a limit blocks it),
//! then report what executing it did. Calls go as the dispatch service of the
//! company, with a short deadline of their own.

use std::{sync::Arc, time::Duration};

use atmr_proto::safety::v1::{AuthorizeActionRequest, CompleteActionRequest, safety_service_client::SafetyServiceClient};
use kit::{Component, auth::ComponentSigner};
use tonic::{Status, transport::Channel};

use crate::domain::autonomy::Proposal;

/// What triggers an autonomous action, in the audit trail.
const TRIGGER: &str = "autonomous_manager";

/// The safety service, reached lazily.
#[derive(Clone)]
pub struct Safety {
    client: SafetyServiceClient<Channel>,
    signer: Arc<ComponentSigner>,
}

impl Safety {
    /// A client of the safety service at `url` (over `tls` for an `https://`
    /// URL); nothing is dialled until the first call.
    pub fn connect(url: &str, request_timeout: Duration, tls: &kit::tls::TlsConfig, signer: Arc<ComponentSigner>) -> anyhow::Result<Self> {
        Ok(Self { client: SafetyServiceClient::new(kit::grpc::lazy_channel(url, request_timeout, tls)?), signer })
    }

    fn request<T>(&self, company_id: i64, message: T) -> tonic::Request<T> {
        let token = self.signer.token_for(Component::Safety, company_id);
        let mut req = kit::grpc::request(message, &token);
        req.set_timeout(Duration::from_secs(3));
        req
    }

    /// The action id when safety allows `p`, `None` when a limit blocks it.
    pub async fn authorize(&self, company_id: i64, p: &Proposal) -> Result<Option<i64>, Status> {
        let data = serde_json::json!({
            "kind": p.kind,
            "booking_id": p.booking_id,
            "from_driver_id": p.from_driver_id,
            "to_driver_id": p.to_driver_id,
            "other_booking_id": p.other_booking_id,
        });
        let request = AuthorizeActionRequest {
            booking_id: Some(p.booking_id),
            driver_id: p.to_driver_id.or(p.from_driver_id),
            action_type: p.kind.to_owned(),
            action_description: p.description.chars().take(500).collect(),
            action_data: data.to_string(),
            confidence_score: Some(p.confidence),
            expected_improvement_minutes: Some(p.improvement_minutes),
            trigger_source: TRIGGER.to_owned(),
        };
        let answer = self.client.clone().authorize_action(self.request(company_id, request)).await?.into_inner();
        Ok(answer.allowed.then_some(answer.action_id))
    }

    /// Reports action `action_id`'s outcome: a success, or a failure with its
    /// message, and how long executing it took.
    pub async fn complete(&self, company_id: i64, action_id: i64, failure: Option<String>, ms: f64) -> Result<(), Status> {
        let request = CompleteActionRequest { action_id, success: failure.is_none(), error_message: failure, execution_time_ms: Some(ms) };
        self.client.clone().complete_action(self.request(company_id, request)).await?;
        Ok(())
    }
}
