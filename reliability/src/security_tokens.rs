//! Who may call what, against the real processes and on every gRPC port, not
//! only at the gateway: forged people's tokens (`alg: none`, HS256 signed with
//! the gateway's public key, a spliced payload, an unknown `kid`, an expired
//! token), a person's token made with a component's key, call tokens for the
//! wrong callee or an RPC outside the callee's table, and a deactivated
//! person's token. Each answers UNAUTHENTICATED or PERMISSION_DENIED (401 at
//! the gateway), and a refused write changes nothing.

use std::time::Duration;

use atmr_proto::{
    bugs::v1::{ListBugsRequest, bug_service_client::BugServiceClient},
    dispatch::v1::{ListDriversRequest, dispatch_service_client::DispatchServiceClient},
    notify::v1::{ListChannelsRequest, notify_service_client::NotifyServiceClient},
    safety::v1::{GetLimitsRequest, SafetyLimits, SetLimitsRequest, safety_service_client::SafetyServiceClient},
};
use base64::Engine as _;
use kit::{
    Component,
    auth::{ComponentSigner, KeyPair, keys},
};
use serde_json::{Value, json};
use tonic::Code;

use crate::{
    procs::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh},
    report::Section,
};

/// How long a revocation may take to reach every service (the poll is 1 s).
const REACH: Duration = Duration::from_secs(20);

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `claims` signed with `key` (EdDSA) under `kid`.
fn eddsa(key: &KeyPair, kid: &str, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding()).unwrap_or_default()
}

/// What `component`'s own port answers `token` for a read any admin may make.
async fn answer(mesh: &Mesh, component: Component, token: &str) -> Code {
    let Ok(channel) = tonic::transport::Endpoint::from_shared(mesh.grpc_url(component)) else { return Code::Internal };
    let Ok(channel) = channel.timeout(Duration::from_secs(10)).connect().await else { return Code::Unavailable };
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |s| s.code());
    match component {
        Component::Dispatch => {
            code(DispatchServiceClient::new(channel).list_drivers(kit::grpc::request(ListDriversRequest::default(), token)).await.map(drop))
        }
        Component::Safety => {
            code(SafetyServiceClient::new(channel).get_limits(kit::grpc::request(GetLimitsRequest {}, token)).await.map(drop))
        }
        Component::Bugs => {
            code(BugServiceClient::new(channel).list_bugs(kit::grpc::request(ListBugsRequest::default(), token)).await.map(drop))
        }
        Component::Notify => {
            code(NotifyServiceClient::new(channel).list_channels(kit::grpc::request(ListChannelsRequest {}, token)).await.map(drop))
        }
        Component::Gateway => Code::Internal,
    }
}

/// The answers of every service's port to `token`, as one line.
async fn everywhere(mesh: &Mesh, token: &str) -> Vec<(Component, Code)> {
    let mut out = Vec::new();
    for c in Component::SERVICES {
        out.push((c, answer(mesh, c, token).await));
    }
    out
}

async fn gateway_status(mesh: &Mesh, token: &str) -> u16 {
    match mesh.http.get(format!("{}/api/admin/safety-limits", mesh.gateway())).bearer_auth(token).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn post(mesh: &Mesh, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = mesh.http.post(format!("{}{path}", mesh.gateway())).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(res) => (res.status().as_u16(), res.json().await.unwrap_or(Value::Null)),
        Err(e) => (0, json!({ "error": e.to_string() })),
    }
}

pub async fn run(mesh: &Mesh) -> Section {
    let mut s = Section::new("Security: tokens and call tokens on every gRPC port, revocation in the services", mesh.backend.name());
    let dir = mesh.dir.path().join("keys");
    let user_key = mesh.user_key();
    let kid = user_key.thumbprint().to_owned();
    let now = chrono::Utc::now().timestamp();
    let admin_claims = json!({"sub": "1", "company_id": 1, "role": "admin", "iss": "atmr", "iat": now, "exp": now + 600});

    // Forged people's tokens.
    let reporter = mesh.token(1, kit::auth::Role::Reporter);
    let parts: Vec<&str> = reporter.split('.').collect();
    let spliced = format!("{}.{}.{}", parts[0], b64(admin_claims.to_string().as_bytes()), parts.get(2).unwrap_or(&""));
    let none = format!("{}.{}.", b64(format!(r#"{{"alg":"none","kid":"{kid}"}}"#).as_bytes()), b64(admin_claims.to_string().as_bytes()));
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.clone());
        let pem = user_key.public().public_pem();
        jsonwebtoken::encode(&header, &admin_claims, &jsonwebtoken::EncodingKey::from_secret(pem.as_bytes())).unwrap_or_default()
    };
    let stranger = KeyPair::generate();
    let unknown_kid = eddsa(&stranger, stranger.thumbprint(), &admin_claims);
    let wrong_key = eddsa(&stranger, &kid, &admin_claims);
    let expired =
        eddsa(&user_key, &kid, &json!({"sub": "1", "company_id": 1, "role": "admin", "iss": "atmr", "iat": now - 1200, "exp": now - 600}));
    let dispatch_key = KeyPair::read(&dir.join(keys::files::component_key(Component::Dispatch)));
    let minted_by_component = match &dispatch_key {
        Ok(k) => eddsa(k, &keys::component_kid(Component::Dispatch, &k.public()), &admin_claims),
        Err(e) => {
            s.check("dispatch's key is readable by the harness", false, e.to_string());
            return s;
        }
    };
    for (what, token) in [
        ("alg none", &none),
        ("HS256 signed with the gateway's public key", &hs256),
        ("an admin's payload spliced under a reporter's signature", &spliced),
        ("an unknown kid", &unknown_kid),
        ("a stranger's key under the gateway's kid", &wrong_key),
        ("an expired token", &expired),
        ("a person's token made with dispatch's key", &minted_by_component),
    ] {
        let answers = everywhere(mesh, token).await;
        let gateway = gateway_status(mesh, token).await;
        s.check(
            format!("{what}: UNAUTHENTICATED on every gRPC port, 401 at the gateway"),
            answers.iter().all(|(_, c)| *c == Code::Unauthenticated) && gateway == 401,
            format!("{answers:?}, gateway {gateway}"),
        );
    }

    // A refused write changes nothing.
    let admin = mesh.token(1, kit::auth::Role::Admin);
    let limits = |token: String| async move {
        let channel = tonic::transport::Endpoint::from_shared(mesh.grpc_url(Component::Safety)).ok()?.connect().await.ok()?;
        let got = SafetyServiceClient::new(channel).get_limits(kit::grpc::request(GetLimitsRequest {}, &token)).await.ok()?;
        got.into_inner().limits.and_then(|l| l.max_actions_per_hour)
    };
    let before = limits(admin.clone()).await;
    let forged_write = match tonic::transport::Endpoint::from_shared(mesh.grpc_url(Component::Safety)) {
        Ok(e) => match e.connect().await {
            Ok(channel) => {
                let set = SetLimitsRequest { limits: Some(SafetyLimits { max_actions_per_hour: Some(1), ..Default::default() }) };
                SafetyServiceClient::new(channel).set_limits(kit::grpc::request(set, &spliced)).await.err().map(|e| e.code())
            }
            Err(_) => None,
        },
        Err(_) => None,
    };
    let after = limits(admin.clone()).await;
    s.check(
        "a forged admin's SetLimits is refused and the limits are as before",
        forged_write == Some(Code::Unauthenticated) && before.is_some() && before == after,
        format!("{forged_write:?}; per hour before {before:?}, after {after:?}"),
    );

    // Call tokens: the wrong callee, an RPC outside the table, a component that may call nothing there.
    let Ok(dispatch_key) = dispatch_key else { return s };
    let dispatch = ComponentSigner::new(Component::Dispatch, dispatch_key);
    let for_notify = dispatch.token_for(Component::Notify, 1);
    let safety_wrong_aud = answer(mesh, Component::Safety, &for_notify).await;
    s.check(
        "dispatch's call token for notify, shown to safety: UNAUTHENTICATED",
        safety_wrong_aud == Code::Unauthenticated,
        format!("{safety_wrong_aud:?}"),
    );
    let for_safety = dispatch.token_for(Component::Safety, 1);
    let outside = answer(mesh, Component::Safety, &for_safety).await;
    s.check(
        "dispatch's call token on safety's GetLimits (not in its table): PERMISSION_DENIED",
        outside == Code::PermissionDenied,
        format!("{outside:?}"),
    );
    let notify_to_dispatch = match KeyPair::read(&dir.join(keys::files::component_key(Component::Notify))) {
        Ok(k) => answer(mesh, Component::Dispatch, &ComponentSigner::new(Component::Notify, k).token_for(Component::Dispatch, 1)).await,
        Err(_) => Code::Internal,
    };
    s.check(
        "notify's call token to dispatch, which admits no component: UNAUTHENTICATED",
        notify_to_dispatch == Code::Unauthenticated,
        format!("{notify_to_dispatch:?}"),
    );
    let at_gateway = gateway_status(mesh, &for_safety).await;
    s.check("a call token at the REST door: 401", at_gateway == 401, format!("{at_gateway}"));

    // A deactivated person's token, on every port.
    let (status, signed_in) = post(mesh, "/api/auth/login", None, &json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    let admin = signed_in["access_token"].as_str().unwrap_or_default().to_owned();
    if status != 200 {
        s.check("the admin signs in", false, format!("{status} {signed_in}"));
        return s;
    }
    let email = format!("leaving-{}@reliability.test", chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default());
    let (status, user) =
        post(mesh, "/api/admin/users", Some(&admin), &json!({"email": email, "password": "leaving-password-1", "role": "admin"})).await;
    let Some(id) = user["id"].as_i64() else {
        s.check("an admin account is created", false, format!("{status} {user}"));
        return s;
    };
    let (_, login) = post(mesh, "/api/auth/login", None, &json!({"email": email, "password": "leaving-password-1"})).await;
    let token = login["access_token"].as_str().unwrap_or_default().to_owned();
    let before = everywhere(mesh, &token).await;
    s.check("a new admin's token works on every port", before.iter().all(|(_, c)| *c == Code::Ok), format!("{before:?}"));
    let off = mesh
        .http
        .patch(format!("{}/api/admin/users/{id}", mesh.gateway()))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    let started = tokio::time::Instant::now();
    let mut last = Vec::new();
    while started.elapsed() < REACH {
        last = everywhere(mesh, &token).await;
        if last.iter().all(|(_, c)| *c == Code::Unauthenticated) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.check(
        "once deactivated, its token is UNAUTHENTICATED on every gRPC port",
        off == 200 && last.iter().all(|(_, c)| *c == Code::Unauthenticated),
        format!("deactivation {off}; {last:?} after {:.1} s", started.elapsed().as_secs_f64()),
    );
    s
}
