//! Every service verifies the bearer token itself: missing, expired, forged and
//! foreign-algorithm tokens are refused over real gRPC.

use atmr_proto::safety::v1::{GetLimitsRequest, SafetyLimits, SetLimitsRequest, safety_service_client::SafetyServiceClient};
use kit::{
    Component,
    auth::{KeyPair, Role},
    testing::{self, TestDb, backends},
};
use tonic::Code;

use crate::spawn_one;

/// `claims` signed with `key` under `kid` (EdDSA), as the gateway signs, or
/// not: the key and the kid are the test's to choose.
pub fn signed_with(key: &KeyPair, kid: &str, claims: &serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding()).unwrap()
}

/// `claims` signed with the test gateway's user-token key: a genuine token
/// whatever the claims say (an expired one, say).
pub fn signed(claims: &serde_json::Value) -> String {
    let key = testing::keys().user_key().clone();
    signed_with(&key, key.thumbprint(), claims)
}

/// A token with `header` and `claims`, signed with the HMAC secret `key` (or
/// unsigned when `key` is empty).
pub fn forge(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
    use base64::Engine as _;
    let enc = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let head = format!("{}.{}", enc(&header), enc(&claims));
    if key.is_empty() {
        return format!("{head}.");
    }
    let mut h = jsonwebtoken::Header::new(match header["alg"].as_str().unwrap() {
        "HS512" => jsonwebtoken::Algorithm::HS512,
        _ => jsonwebtoken::Algorithm::HS256,
    });
    h.kid = header["kid"].as_str().map(str::to_owned);
    let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_value(claims).unwrap();
    jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_secret(key)).unwrap()
}

#[tokio::test]
async fn calls_need_a_valid_token_and_the_right_role() {
    for backend in backends() {
        let db = TestDb::new(backend).await.unwrap();
        let svc = spawn_one(Component::Safety, &db, &[]).await;
        let client = SafetyServiceClient::connect(svc.url()).await.unwrap();
        let call = |token: Option<String>| {
            let mut client = client.clone();
            async move {
                let req = match token {
                    Some(t) => kit::grpc::request(GetLimitsRequest {}, &t),
                    None => tonic::Request::new(GetLimitsRequest {}),
                };
                client.get_limits(req).await.map(|r| r.into_inner())
            }
        };
        let now = chrono_now();
        let claims = |exp: i64| serde_json::json!({"sub": "1", "company_id": 1, "role": "admin", "iss": "atmr", "iat": now, "exp": exp});

        assert_eq!(call(None).await.unwrap_err().code(), Code::Unauthenticated, "missing");
        assert_eq!(call(Some(signed(&claims(now - 3600)))).await.unwrap_err().code(), Code::Unauthenticated, "expired");
        let user_key = testing::keys().user_key().clone();
        let stranger = KeyPair::from_seed(&[77; 32]);
        assert_eq!(
            call(Some(signed_with(&stranger, user_key.thumbprint(), &claims(now + 600)))).await.unwrap_err().code(),
            Code::Unauthenticated,
            "wrong signature under the real kid"
        );
        assert_eq!(
            call(Some(signed_with(&stranger, stranger.thumbprint(), &claims(now + 600)))).await.unwrap_err().code(),
            Code::Unauthenticated,
            "an unknown kid"
        );
        let public_pem = user_key.public().public_pem();
        let kid = user_key.thumbprint();
        assert_eq!(
            call(Some(forge(serde_json::json!({"alg": "HS256", "kid": kid}), claims(now + 600), public_pem.as_bytes())))
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated,
            "HS256 with the public key for a secret"
        );
        let dispatch = testing::keys().component_key(Component::Dispatch);
        assert_eq!(
            call(Some(signed_with(
                &dispatch,
                &kit::auth::keys::component_kid(Component::Dispatch, &dispatch.public()),
                &claims(now + 600)
            )))
            .await
            .unwrap_err()
            .code(),
            Code::Unauthenticated,
            "a person's token minted with a component's key"
        );
        assert_eq!(
            call(Some(testing::keys().call_token(Component::Dispatch, Component::Notify, 1))).await.unwrap_err().code(),
            Code::Unauthenticated,
            "a call token for another callee"
        );
        assert_eq!(
            call(Some(testing::keys().call_token(Component::Dispatch, Component::Safety, 1))).await.unwrap_err().code(),
            Code::PermissionDenied,
            "a call token for an RPC its table does not list"
        );
        assert_eq!(
            call(Some(forge(serde_json::json!({"alg": "none"}), claims(now + 600), b""))).await.unwrap_err().code(),
            Code::Unauthenticated,
            "none algorithm"
        );

        let ok = call(Some(svc.token(1, Role::Admin))).await.unwrap();
        assert_eq!(ok.limits.unwrap().max_actions_per_hour, Some(50));
        assert_eq!(call(Some(svc.token(1, Role::Reporter))).await.unwrap_err().code(), Code::PermissionDenied);
        let driver = kit::auth::Holder { subject: "5", email: "", company_id: 1, role: Role::Driver, generation: 0, driver_id: Some(3) };
        let driver = svc.keys.issue_to(&driver, std::time::Duration::from_secs(60));
        assert_eq!(call(Some(driver)).await.unwrap_err().code(), Code::PermissionDenied, "a driver's token");

        // Companies are isolated: company 2's overrides are invisible to company 1.
        let set = SetLimitsRequest { limits: Some(SafetyLimits { max_actions_per_hour: Some(7), ..Default::default() }) };
        client.clone().set_limits(kit::grpc::request(set, &svc.token(2, Role::Admin))).await.unwrap();
        let one = call(Some(svc.token(1, Role::Admin))).await.unwrap();
        assert_eq!((one.limits.unwrap().max_actions_per_hour, one.overridden), (Some(50), false), "{backend:?}");
        let two = call(Some(testing::keys().issue("9", "", 2, Role::Dispatcher, std::time::Duration::from_secs(60)))).await.unwrap();
        assert_eq!((two.limits.unwrap().max_actions_per_hour, two.overridden), (Some(7), true), "{backend:?}");

        let bad = SetLimitsRequest { limits: Some(SafetyLimits { max_actions_per_day: Some(-1), ..Default::default() }) };
        let err = client.clone().set_limits(kit::grpc::request(bad, &svc.token(2, Role::Admin))).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(kit::error::field_of(&err), Some("limits.max_actions_per_day"));
        let after = call(Some(svc.token(2, Role::Admin))).await.unwrap();
        assert_eq!(after.limits.unwrap().max_actions_per_hour, Some(7), "a refused update writes nothing");
        svc.stop().await.unwrap();
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
