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
/// mesh's own (internal) monitors through the system's — over the mesh's TLS
/// when its gRPC ports speak it.
pub struct Reach {
    egress: Egress,
    http: reqwest::Client,
    system: reqwest::Client,
    /// The mesh's client TLS (`ATMR_TLS_CA_FILE`), for its own gRPC health checks.
    mesh_tls: Option<tonic::transport::ClientTlsConfig>,
}

impl Reach {
    pub fn new(egress: Egress, mesh_tls: Option<tonic::transport::ClientTlsConfig>) -> anyhow::Result<Self> {
        let builder = || reqwest::Client::builder().user_agent(concat!("atmr-monitor/", env!("CARGO_PKG_VERSION")));
        let http = egress.http_client(builder()).build()?;
        let system = egress.system().http_client(builder()).build()?;
        Ok(Self { egress, http, system, mesh_tls })
    }
}

/// Runs one check of `m`, within its timeout.
pub async fn check(reach: &Reach, m: &monitor::Model) -> CheckResult {
    let timeout = Duration::from_secs(m.timeout_secs.max(1) as u64);
    let started = std::time::Instant::now();
    let (http, egress) = if m.internal { (&reach.system, reach.egress.system()) } else { (&reach.http, reach.egress.clone()) };
    let tls = if m.internal { reach.mesh_tls.as_ref() } else { None };
    let outcome: Result<String, String> = match tokio::time::timeout(timeout, probe(http, &egress, tls, m, timeout)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(message) => CheckResult { up: true, latency_ms, message },
        Err(message) => CheckResult { up: false, latency_ms, message },
    }
}

async fn probe(
    http: &reqwest::Client,
    egress: &Egress,
    tls: Option<&tonic::transport::ClientTlsConfig>,
    m: &monitor::Model,
    timeout: Duration,
) -> Result<String, String> {
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
            // The mesh's own components are checked over its TLS when it has one.
            let addr = egress.resolve_target(&m.target).await?[0];
            let scheme = if tls.is_some() { "https" } else { "http" };
            let origin = format!("{scheme}://{}", m.target).parse().map_err(|e| format!("bad target: {e}"))?;
            let mut endpoint = tonic::transport::Endpoint::from_shared(format!("{scheme}://{addr}"))
                .map_err(|e| format!("bad target: {e}"))?
                .origin(origin)
                .connect_timeout(timeout)
                .timeout(timeout);
            if let Some(tls) = tls {
                let host = m.target.rsplit_once(':').map_or(m.target.as_str(), |(h, _)| h).trim_start_matches('[').trim_end_matches(']');
                endpoint = endpoint.tls_config(tls.clone().domain_name(host)).map_err(|e| format!("TLS: {e}"))?;
            }
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

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
    use tonic::transport::{Certificate, ClientTlsConfig, Identity, Server, ServerTlsConfig};

    use super::*;

    /// A gRPC health server over TLS on loopback, with the CA that signed it.
    async fn tls_health_server() -> (String, Certificate) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &*ca).unwrap();
        let (_, health) = tonic_health::server::health_reporter();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = ServerTlsConfig::new().identity(Identity::from_pem(leaf.pem(), key.serialize_pem()));
        let server = Server::builder().tls_config(tls).unwrap().add_service(health);
        tokio::spawn(server.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)));
        (addr.to_string(), Certificate::from_pem(ca.pem()))
    }

    fn monitor(target: &str, internal: bool) -> monitor::Model {
        let now = chrono::Utc::now();
        monitor::Model {
            id: "m".into(),
            company_id: 1,
            name: "safety".into(),
            kind: MonitorKind::GrpcHealth.label().into(),
            target: target.into(),
            expected_status: 0,
            keyword: String::new(),
            grpc_service: String::new(),
            interval_secs: 60,
            timeout_secs: 10,
            retries: 0,
            recovery_checks: 1,
            parent_id: None,
            internal,
            paused: false,
            state: "pending".into(),
            state_since: now,
            fail_streak: 0,
            ok_streak: 0,
            down_since: None,
            alerted_down: false,
            held_down: false,
            next_check_at: now,
            created_at: now,
            updated_at: now,
        }
    }

    #[tokio::test]
    async fn the_mesh_checks_its_own_components_over_its_tls() {
        let (target, ca) = tls_health_server().await;
        let egress = Egress::new(Default::default());
        let with_tls = Reach::new(egress.clone(), Some(ClientTlsConfig::new().ca_certificate(ca))).unwrap();
        let up = check(&with_tls, &monitor(&target, true)).await;
        assert!(up.up, "an internal monitor speaks the mesh's TLS: {}", up.message);
        // Without the mesh's TLS the same component does not answer a plaintext check.
        let plain = check(&Reach::new(egress, None).unwrap(), &monitor(&target, true)).await;
        assert!(!plain.up, "{}", plain.message);
    }
}
