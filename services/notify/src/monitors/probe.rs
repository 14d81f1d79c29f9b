//! One check of one monitor, within its timeout: an HTTP status (and keyword),
//! `grpc.health.v1`, or a TCP connect — each to an address the egress policy
//! allows, and the one that was checked.

use std::time::Duration;

use crate::{
    domain::{check::CheckResult, monitor::MonitorKind},
    outbox::egress::Egress,
    store::entities::monitor,
};

/// Runs one check of `m`, within its timeout.
pub async fn check(http: &reqwest::Client, egress: Egress, m: &monitor::Model) -> CheckResult {
    let timeout = Duration::from_secs(m.timeout_secs.max(1) as u64);
    let started = std::time::Instant::now();
    let outcome: Result<String, String> = match tokio::time::timeout(timeout, probe(http, egress, m, timeout)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(message) => CheckResult { up: true, latency_ms, message },
        Err(message) => CheckResult { up: false, latency_ms, message },
    }
}

async fn probe(http: &reqwest::Client, egress: Egress, m: &monitor::Model, timeout: Duration) -> Result<String, String> {
    match MonitorKind::parse(&m.kind) {
        Some(MonitorKind::Http) => {
            let url = reqwest::Url::parse(&m.target).map_err(|e| format!("bad target: {e}"))?;
            egress.check_url(&url).map_err(|e| format!("refused: {e}"))?;
            let res = http.get(url).timeout(timeout).send().await.map_err(|e| format!("request failed: {e}"))?;
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
            let addr = egress.resolve(&m.target).await?[0];
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
            let addrs = egress.resolve(&m.target).await?;
            tokio::net::TcpStream::connect(&addrs[..]).await.map_err(|e| format!("could not connect: {e}"))?;
            Ok("connected".to_owned())
        }
        None => Err(format!("unknown monitor kind {:?}", m.kind)),
    }
}
