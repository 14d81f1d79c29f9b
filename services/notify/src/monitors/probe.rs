//! One check of one monitor, within its timeout: an HTTP status (and keyword),
//! `grpc.health.v1`, or a TCP connect — each to an address the egress policy
//! allows, and the one that was checked. A target the policy refuses is a
//! failed check saying why, made without connecting to it (so TCP monitors
//! cannot scan ports inside). Only the mesh's own monitors, which the system
//! registered as internal, are checked under the system's policy.

use std::time::Duration;

use crate::{
    domain::{check::CheckResult, monitor::MonitorKind},
    outbox::egress::{Egress, refusal},
    store::entities::monitor,
};

/// What checks may reach: tenants' monitors through the egress policy, the
/// mesh's own (internal) monitors through the system's.
pub struct Reach {
    egress: Egress,
    http: reqwest::Client,
    system: reqwest::Client,
}

impl Reach {
    pub fn new(egress: Egress) -> anyhow::Result<Self> {
        let builder = || reqwest::Client::builder().user_agent(concat!("atmr-monitor/", env!("CARGO_PKG_VERSION")));
        let http = egress.http_client(builder()).build()?;
        let system = egress.system().http_client(builder()).build()?;
        Ok(Self { egress, http, system })
    }
}

/// Runs one check of `m`, within its timeout.
pub async fn check(reach: &Reach, m: &monitor::Model) -> CheckResult {
    let timeout = Duration::from_secs(m.timeout_secs.max(1) as u64);
    let started = std::time::Instant::now();
    let (http, egress) = if m.internal { (&reach.system, reach.egress.system()) } else { (&reach.http, reach.egress.clone()) };
    let outcome: Result<String, String> = match tokio::time::timeout(timeout, probe(http, &egress, m, timeout)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(message) => CheckResult { up: true, latency_ms, message },
        Err(message) => CheckResult { up: false, latency_ms, message },
    }
}

async fn probe(http: &reqwest::Client, egress: &Egress, m: &monitor::Model, timeout: Duration) -> Result<String, String> {
    match MonitorKind::parse(&m.kind) {
        Some(MonitorKind::Http) => {
            let url = reqwest::Url::parse(&m.target).map_err(|e| format!("bad target: {e}"))?;
            egress.check_url(&url).map_err(|e| format!("refused: {e}"))?;
            let res = http.get(url).timeout(timeout).send().await.map_err(|e| match refusal(&e) {
                Some(r) => format!("refused: {r}"),
                None => format!("request failed: {e}"),
            })?;
            let status = res.status();
            let expected = u16::try_from(m.expected_status).unwrap_or(0);
            let status_ok = if expected == 0 { status.is_success() } else { status.as_u16() == expected };
            if !status_ok {
                return Err(format!("HTTP {status}"));
            }
            if !m.keyword.is_empty() {
                let body = res.text().await.map_err(|e| format!("reading the body: {e}"))?;
                if !body.contains(&m.keyword) {
                    return Err(format!("HTTP {status}, but {:?} is not in the body", m.keyword));
                }
            }
            Ok(format!("HTTP {status}"))
        }
        Some(MonitorKind::GrpcHealth) => {
            // Connects to the address that was checked, not to a second lookup's,
            // while the requests still name the target's host (its `:authority`).
            let addr = egress.resolve_target(&m.target).await?[0];
            let origin = format!("http://{}", m.target).parse().map_err(|e| format!("bad target: {e}"))?;
            let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                .map_err(|e| format!("bad target: {e}"))?
                .origin(origin)
                .connect_timeout(timeout)
                .timeout(timeout);
            let channel = endpoint.connect().await.map_err(|e| format!("could not connect: {e}"))?;
            let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
            let res = client
                .check(tonic_health::pb::HealthCheckRequest { service: m.grpc_service.clone() })
                .await
                .map_err(|s| format!("health check failed: {} {}", s.code(), s.message()))?;
            let status = tonic_health::pb::health_check_response::ServingStatus::try_from(res.into_inner().status)
                .unwrap_or(tonic_health::pb::health_check_response::ServingStatus::Unknown);
            if status == tonic_health::pb::health_check_response::ServingStatus::Serving {
                Ok("SERVING".to_owned())
            } else {
                Err(status.as_str_name().to_owned())
            }
        }
        Some(MonitorKind::Tcp) => {
            let addrs = egress.resolve_target(&m.target).await?;
            tokio::net::TcpStream::connect(&addrs[..]).await.map_err(|e| format!("could not connect: {e}"))?;
            Ok("connected".to_owned())
        }
        None => Err(format!("unknown monitor kind {:?}", m.kind)),
    }
}
