//! [`ServiceRuntime::serve`] as a client sees it: the gRPC port over TLS (a CA
//! and certificates made here, the calls that must fail refused) and
//! reflection switched by `ATMR_GRPC_REFLECTION`, on SQLite and PostgreSQL.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use super::ServiceRuntime;
use crate::{
    config::{Component, Env, ServiceConfig},
    testing::{self, Spawned, TestDb},
    tls::TlsConfig,
};

/// `serve` needs a migrator; these tests need no tables.
struct NoMigrations;

impl MigratorTrait for NoMigrations {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}

/// A CA, the server's certificate (for 127.0.0.1) and a client's, signed by
/// it; and a stranger CA with a certificate of its own, which the mesh must
/// not trust. Written as PEM files, as an operator would mount them.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pki = Self { dir };
        let ca = pki.ca("ca", "atmr test CA");
        pki.leaf("server", &ca, "bugs");
        pki.leaf("client", &ca, "dispatch");
        let stranger = pki.ca("stranger-ca", "someone else's CA");
        pki.leaf("stranger", &stranger, "dispatch");
        pki
    }

    fn ca(&self, name: &str, common_name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.distinguished_name.push(DnType::CommonName, common_name);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), ca.pem()).unwrap();
        ca
    }

    /// `name.pem` and `name.key.pem`: a certificate for 127.0.0.1 and `localhost`,
    /// named after `component`, signed by `ca`.
    fn leaf(&self, name: &str, ca: &CertifiedIssuer<'static, KeyPair>, component: &str) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, component);
        let cert = params.signed_by(&key, &**ca).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}.key.pem")), key.serialize_pem()).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn file(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// The server's TLS variables.
    fn server_env(&self, env: &mut Env, client_auth: &str) {
        env.set("ATMR_TLS_CERT_FILE", self.file("server.pem"));
        env.set("ATMR_TLS_KEY_FILE", self.file("server.key.pem"));
        env.set("ATMR_TLS_CA_FILE", self.file("ca.pem"));
        env.set("ATMR_TLS_CLIENT_AUTH", client_auth);
    }

    /// A client's TLS: trusting `ca`, presenting `cert` (`cert.pem`, `cert.key.pem`) if any.
    fn client(&self, ca: &str, cert: Option<&str>) -> TlsConfig {
        let mut pairs = vec![("ATMR_TLS_CA_FILE".to_owned(), self.file(&format!("{ca}.pem")))];
        if let Some(cert) = cert {
            pairs.push(("ATMR_TLS_CERT_FILE".to_owned(), self.file(&format!("{cert}.pem"))));
            pairs.push(("ATMR_TLS_KEY_FILE".to_owned(), self.file(&format!("{cert}.key.pem"))));
        }
        TlsConfig::from_env(&Env::from_pairs(pairs)).unwrap()
    }
}

/// A component serving nothing but health (and reflection when on), configured by `env`.
async fn serve(env: Env) -> Spawned {
    testing::spawn(|listeners, life| async move {
        let cfg = ServiceConfig::from_env(Component::Bugs, &env)?;
        let runtime = ServiceRuntime::start::<NoMigrations>(cfg, listeners.admin, &life).await?;
        runtime.serve(listeners.main, tonic::service::Routes::default(), &[], crate::auth::CallTable::NONE, life).await
    })
    .await
    .unwrap()
}

/// A health check over a channel built the way the mesh builds its channels.
async fn health(url: String, tls: &TlsConfig) -> Result<ServingStatus, tonic::Status> {
    let channel = crate::grpc::lazy_channel(&url, Duration::from_secs(10), tls).unwrap();
    let res = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await?;
    Ok(res.into_inner().status())
}

fn https(addr: SocketAddr) -> String {
    format!("https://{addr}")
}

#[tokio::test]
async fn the_grpc_port_over_tls_answers_a_client_that_trusts_the_ca_and_refuses_plaintext() {
    for backend in testing::backends() {
        let (db, pki) = (TestDb::new(backend).await.unwrap(), Pki::new());
        let mut env = testing::env_for(Component::Bugs, &db.url);
        pki.server_env(&mut env, "none");
        let svc = serve(env).await;

        // Without client authentication, trusting the CA is enough.
        assert_eq!(health(https(svc.addr), &pki.client("ca", None)).await.unwrap(), ServingStatus::Serving, "{backend:?}");
        // A plaintext client never gets an HTTP/2 answer from a TLS port.
        let plaintext = health(svc.url(), &TlsConfig::default()).await;
        assert!(plaintext.is_err(), "{backend:?}: plaintext answered: {plaintext:?}");
        // A client that trusts another CA refuses the server's certificate.
        let distrusting = health(https(svc.addr), &pki.client("stranger-ca", None)).await;
        assert!(distrusting.is_err(), "{backend:?}: an unverified server was trusted: {distrusting:?}");
        // The refused handshakes did not take the port down.
        assert_eq!(health(https(svc.addr), &pki.client("ca", Some("client"))).await.unwrap(), ServingStatus::Serving);
        svc.stop().await.unwrap();
    }
}

#[tokio::test]
async fn required_client_auth_refuses_a_client_without_a_certificate_from_the_ca() {
    for backend in testing::backends() {
        let (db, pki) = (TestDb::new(backend).await.unwrap(), Pki::new());
        let mut env = testing::env_for(Component::Bugs, &db.url);
        pki.server_env(&mut env, "required");
        let svc = serve(env).await;

        assert_eq!(health(https(svc.addr), &pki.client("ca", Some("client"))).await.unwrap(), ServingStatus::Serving, "{backend:?}");
        let anonymous = health(https(svc.addr), &pki.client("ca", None)).await;
        assert!(anonymous.is_err(), "{backend:?}: a client without a certificate answered: {anonymous:?}");
        let stranger = health(https(svc.addr), &pki.client("ca", Some("stranger"))).await;
        assert!(stranger.is_err(), "{backend:?}: a certificate from another CA answered: {stranger:?}");
        let plaintext = health(svc.url(), &TlsConfig::default()).await;
        assert!(plaintext.is_err(), "{backend:?}: plaintext answered: {plaintext:?}");
        assert_eq!(health(https(svc.addr), &pki.client("ca", Some("client"))).await.unwrap(), ServingStatus::Serving);
        svc.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_stops_the_start_naming_both_variables() {
    let (db, pki) = (TestDb::new(testing::TestBackend::Sqlite).await.unwrap(), Pki::new());
    let mut env = testing::env_for(Component::Bugs, &db.url);
    pki.server_env(&mut env, "none");
    env.set("ATMR_TLS_KEY_FILE", pki.file("client.key.pem"));
    let err = testing::spawn(|listeners, life| async move {
        let cfg = ServiceConfig::from_env(Component::Bugs, &env)?;
        let runtime = ServiceRuntime::start::<NoMigrations>(cfg, listeners.admin, &life).await?;
        runtime.serve(listeners.main, tonic::service::Routes::default(), &[], crate::auth::CallTable::NONE, life).await
    })
    .await
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("ATMR_TLS_CERT_FILE") && message.contains("ATMR_TLS_KEY_FILE"), "{message}");
}

/// The services reflection lists to a caller with `token`, or the status it answers with.
async fn reflected_services(addr: SocketAddr, token: Option<&str>) -> Result<Vec<String>, tonic::Status> {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
        server_reflection_response::MessageResponse,
    };
    let channel = crate::grpc::lazy_channel(&format!("http://{addr}"), Duration::from_secs(10), &TlsConfig::default()).unwrap();
    let request = ServerReflectionRequest { host: String::new(), message_request: Some(MessageRequest::ListServices(String::new())) };
    let mut call = tonic::Request::new(futures::stream::iter([request]));
    if let Some(t) = token {
        call.metadata_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let mut answers = ServerReflectionClient::new(channel).server_reflection_info(call).await?.into_inner();
    let answer = answers.message().await?.expect("one answer");
    match answer.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => Ok(list.service.into_iter().map(|s| s.name).collect()),
        other => panic!("not a list of services: {other:?}"),
    }
}

#[tokio::test]
async fn reflection_answers_only_when_switched_on() {
    for backend in testing::backends() {
        let db = TestDb::new(backend).await.unwrap();
        let mut env = testing::env_for(Component::Bugs, &db.url);
        env.set("ATMR_GRPC_REFLECTION", "on");
        let on = serve(env).await;
        let anonymous = reflected_services(on.addr, None).await.unwrap_err();
        assert_eq!(anonymous.code(), tonic::Code::Unauthenticated, "{backend:?}: reflection needs a token");
        let services = reflected_services(on.addr, Some(&on.token(1, crate::auth::Role::Reporter))).await.unwrap();
        assert!(services.iter().any(|s| s == "grpc.health.v1.Health"), "{backend:?}: {services:?}");
        on.stop().await.unwrap();

        let mut env = testing::env_for(Component::Bugs, &db.url);
        env.set("ATMR_GRPC_REFLECTION", "off");
        let off = serve(env).await;
        let refused = reflected_services(off.addr, Some(&off.token(1, crate::auth::Role::Admin))).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unimplemented, "{backend:?}: {refused:?}");
        // Health still answers: only reflection is gone.
        assert_eq!(health(off.url(), &TlsConfig::default()).await.unwrap(), ServingStatus::Serving);
        off.stop().await.unwrap();
    }
}
