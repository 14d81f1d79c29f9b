//! Every service verifies the bearer token itself: missing, expired, forged and
//! foreign-algorithm tokens are refused over real gRPC.

use atmr_proto::safety::v1::{GetLimitsRequest, SafetyLimits, SetLimitsRequest, safety_service_client::SafetyServiceClient};
use kit::{
    Component,
    auth::{Role, TokenKeys},
    testing::{TEST_JWT_SECRET, TestDb, backends},
};
use tonic::Code;

use crate::spawn_one;

pub fn forge(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
    use base64::Engine as _;
    let enc = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let head = format!("{}.{}", enc(&header), enc(&claims));
    if key.is_empty() {
        return format!("{head}.");
    }
    let alg = match header["alg"].as_str().unwrap() {
        "HS512" => jsonwebtoken::Algorithm::HS512,
        _ => jsonwebtoken::Algorithm::HS256,
    };
    let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_value(claims).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &jsonwebtoken::EncodingKey::from_secret(key)).unwrap()
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
        assert_eq!(
            call(Some(forge(serde_json::json!({"alg": "HS256"}), claims(now - 3600), TEST_JWT_SECRET.as_bytes())))
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated,
            "expired"
        );
        assert_eq!(
            call(Some(forge(serde_json::json!({"alg": "HS256"}), claims(now + 600), b"some-other-secret-some-other-secret!")))
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated,
            "wrong signature"
        );
        assert_eq!(
            call(Some(forge(serde_json::json!({"alg": "HS512"}), claims(now + 600), TEST_JWT_SECRET.as_bytes()))).await.unwrap_err().code(),
            Code::Unauthenticated,
            "wrong algorithm"
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
        let two =
            call(Some(TokenKeys::new(TEST_JWT_SECRET.as_bytes()).issue("9", "", 2, Role::Dispatcher, std::time::Duration::from_secs(60))))
                .await
                .unwrap();
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
