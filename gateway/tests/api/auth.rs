//! Signing in: refresh tokens used once, their family revoked on reuse, and
//! refused once the account's tokens are revoked (a password reset racing
//! refreshes, a deactivation, a replica whose memory of revocations is
//! stale); the login limit checking lengths first and shared through Redis;
//! the client's address read from the right-most untrusted hop of
//! `X-Forwarded-For`; a weaker password hash replaced at login.

use std::sync::Arc;

use axum::{Router, http::StatusCode};
use kit::{
    auth::Role,
    testing::{self, TestBackend},
};
use sea_orm::{ConnectionTrait as _, EntityTrait as _, Statement};
use serde_json::{Value, json};

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, Gateway, call_app, gateway};

/// An access token and a refresh token.
#[derive(Clone, Debug)]
struct Pair {
    access: String,
    refresh: String,
}

impl Pair {
    fn of(body: &Value) -> Self {
        Self {
            access: body["access_token"].as_str().expect("an access token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("a refresh token").to_owned(),
        }
    }
}

async fn sign_in(gw: &Gateway, email: &str, password: &str) -> Pair {
    let (status, body) = gw.call("POST", "/api/auth/login", None, Some(json!({ "email": email, "password": password }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Pair::of(&body)
}

/// `POST /api/auth/refresh` through `app`: the new pair, or the refusal.
async fn refresh(app: &Router, token: &str) -> Result<Pair, (StatusCode, Value)> {
    match call_app(app, "POST", "/api/auth/refresh", None, Some(json!({ "refresh_token": token })), &[], [127, 0, 0, 1]).await {
        (StatusCode::OK, body) => Ok(Pair::of(&body)),
        refused => Err(refused),
    }
}

/// Whether `access` still opens `GET /api/auth/me`.
async fn opens(gw: &Gateway, access: &str) -> bool {
    gw.call("GET", "/api/auth/me", Some(access), None).await.0 == StatusCode::OK
}

/// A dispatcher account; its id and password.
async fn dispatcher(gw: &Gateway, email: &str) -> (i64, String) {
    let db = &gw.started.runtime.db;
    let password = atmr_gateway::users::ensure_user(db, email, Role::Dispatcher, 1).await.unwrap().expect("a new account");
    let id = atmr_gateway::users::find_by_email(db, email).await.unwrap().unwrap().id;
    (id, password)
}

/// A second replica of `gw`'s gateway on the same database: its own memory of
/// revocations, read once now and never reloaded (as a replica between two
/// reloads).
async fn replica(gw: &Gateway) -> Router {
    let state = atmr_gateway::AppState::new(
        &gw.cfg,
        gw.started.runtime.db.clone(),
        &gw.started.runtime.identity,
        Arc::new(kit::health::HealthState::new("gateway")),
        &kit::metrics::Metrics::new("gateway"),
    )
    .await
    .unwrap();
    atmr_gateway::router(state)
}

#[tokio::test]
async fn a_refresh_token_is_used_once_and_its_reuse_revokes_the_whole_family() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let (status, body) =
            gw.call("POST", "/api/auth/login", None, Some(json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((&body["token_type"], &body["expires_in"]), (&json!("Bearer"), &json!(300)), "short access tokens: {body}");
        assert!(body["refresh_expires_in"].as_u64().unwrap() > 13 * 86_400, "{body}");
        let first = Pair::of(&body);
        assert_eq!(first.refresh.len(), 43, "256 bits, base64url");

        // Stored hashed: the table never holds what the client presents.
        let rows = gw
            .started
            .runtime
            .db
            .query_all(Statement::from_string(
                gw.started.runtime.db.get_database_backend(),
                "SELECT token_hash FROM gateway_refresh_tokens",
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let stored: String = rows[0].try_get("", "token_hash").unwrap();
        assert_eq!(stored.len(), 64);
        assert_ne!(stored, first.refresh);

        let second = refresh(&gw.app, &first.refresh).await.expect("the first use is exchanged");
        assert_ne!(second.refresh, first.refresh, "rotated");
        assert!(opens(&gw, &second.access).await);
        let third = refresh(&gw.app, &second.refresh).await.expect("the next one in turn");

        // The first one again: a reuse. It is refused, and so is every token of its family, the newest included.
        let (status, body) = refresh(&gw.app, &first.refresh).await.unwrap_err();
        assert_eq!((status, &body["error"]["code"]), (StatusCode::UNAUTHORIZED, &json!("unauthenticated")), "{backend:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("already used"), "{body}");
        let (status, body) = refresh(&gw.app, &third.refresh).await.unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}: the newest of the family is revoked too: {body}");
        // Another sign-in is another family, untouched.
        let other = sign_in(&gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        refresh(&gw.app, &other.refresh).await.expect("another family");

        // An access token is no refresh token any more, and a refresh token is no access token.
        let (status, _) = gw.call("POST", "/api/auth/refresh", Some(&second.access), None).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "the old refresh by bearer token is gone");
        let (status, _) = gw.call("POST", "/api/auth/refresh", Some(&second.access), Some(json!({}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!opens(&gw, &other.refresh).await);
        let (status, _) = refresh(&gw.app, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await.unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "unknown");
        let (status, body) = refresh(&gw.app, &"A".repeat(65)).await.unwrap_err();
        assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("refresh_token")), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_parallel_refreshes_with_one_token_exactly_one_wins() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let pair = sign_in(&gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let results = futures::future::join_all((0..8).map(|_| refresh(&gw.app, &pair.refresh))).await;
        let won: Vec<&Pair> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{backend:?}: {results:?}");
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(refused.0, StatusCode::UNAUTHORIZED, "{refused:?}");
        }
        // The losers presented a used token: the family is revoked, the winner's new token with it.
        assert_eq!(refresh(&gw.app, &won[0].refresh).await.unwrap_err().0, StatusCode::UNAUTHORIZED, "{backend:?}");
    }
}

/// Six sign-ins of one account refresh in chains while an admin resets its
/// password: whatever each refresh answered, before or after the reset
/// committed, nothing it handed out works after the reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refreshes_racing_a_password_reset_hand_out_nothing_that_outlives_it() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[("ATMR_LOGIN_RATE_PER_MINUTE", "0")]).await;
        let admin = sign_in(&gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (id, password) = dispatcher(&gw, "racer@example.com").await;
        let mut families = Vec::new();
        for _ in 0..6 {
            families.push(sign_in(&gw, "racer@example.com", &password).await);
        }
        let chains = futures::future::join_all(families.into_iter().map(|start| {
            let app = gw.app.clone();
            async move {
                let mut handed_out = vec![start.clone()];
                let mut current = start;
                for _ in 0..4 {
                    match refresh(&app, &current.refresh).await {
                        Ok(next) => {
                            handed_out.push(next.clone());
                            current = next;
                        }
                        Err((status, body)) => {
                            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
                            break;
                        }
                    }
                }
                handed_out
            }
        }));
        let uri = format!("/api/admin/users/{id}");
        let reset = gw.call("PATCH", &uri, Some(&admin.access), Some(json!({ "password": "a-brand-new-password" })));
        let (handed_out, (status, body)) = futures::join!(chains, reset);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(handed_out.len(), 6);
        // The newest of each chain first: an older one would be a reuse, which revokes the family by itself.
        for chain in &handed_out {
            let newest = chain.last().unwrap();
            let (status, body) = refresh(&gw.app, &newest.refresh).await.unwrap_err();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}: a refresh token outlived the reset: {body}");
        }
        for pair in handed_out.iter().flatten() {
            assert!(!opens(&gw, &pair.access).await, "{backend:?}: an access token outlived the reset");
        }
        // The new password opens a new family that refreshes.
        let fresh = sign_in(&gw, "racer@example.com", "a-brand-new-password").await;
        let next = refresh(&gw.app, &fresh.refresh).await.expect("after the reset");
        assert!(opens(&gw, &next.access).await);
    }
}

#[tokio::test]
async fn a_replica_that_has_not_reloaded_its_revocations_still_cannot_refresh_past_a_reset() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let admin = sign_in(&gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (id, password) = dispatcher(&gw, "stale@example.com").await;
        let pair = sign_in(&gw, "stale@example.com", &password).await;
        let other = replica(&gw).await;
        let (status, body) = gw
            .call("PATCH", &format!("/api/admin/users/{id}"), Some(&admin.access), Some(json!({ "password": "reset-by-the-admin" })))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The other replica has not heard of the reset, but the database decides.
        let (status, body) = refresh(&other, &pair.refresh).await.unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("revoked"), "{body}");
    }
}

#[tokio::test]
async fn a_deactivated_account_cannot_refresh_even_once_reactivated() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let admin = sign_in(&gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (id, password) = dispatcher(&gw, "leaver@example.com").await;
        let (tried, kept) = (sign_in(&gw, "leaver@example.com", &password).await, sign_in(&gw, "leaver@example.com", &password).await);
        let uri = format!("/api/admin/users/{id}");
        let (status, body) = gw.call("PATCH", &uri, Some(&admin.access), Some(json!({ "active": false }))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(refresh(&gw.app, &tried.refresh).await.unwrap_err().0, StatusCode::UNAUTHORIZED, "{backend:?}");
        assert!(!opens(&gw, &tried.access).await);
        // Reactivation does not bring an earlier sign-in back: `kept` was never
        // presented while the account was off, but it is of an older generation.
        let (status, body) = gw.call("PATCH", &uri, Some(&admin.access), Some(json!({ "active": true }))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = refresh(&gw.app, &kept.refresh).await.unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}: {body}");
        let again = sign_in(&gw, "leaver@example.com", &password).await;
        refresh(&gw.app, &again.refresh).await.expect("a sign-in after the reactivation");
    }
}

#[tokio::test]
async fn a_huge_email_is_refused_naming_the_field_before_the_limit_counts_it() {
    for backend in testing::backends() {
        // One attempt a minute per address: the huge one must not spend it.
        let gw = gateway(backend, &[("ATMR_LOGIN_RATE_PER_MINUTE", "1")]).await;
        let huge = format!("{}@example.com", "a".repeat(1_500_000));
        let (status, body) = gw.call("POST", "/api/auth/login", None, Some(json!({ "email": huge, "password": "whatever" }))).await;
        assert_eq!((status, &body["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("email")), "{backend:?}");
        assert!(body.to_string().len() < 1_000, "the answer does not echo the email");
        // Over the body limit, refused before it is read whole, in the API's format.
        let over = format!("{}@example.com", "a".repeat(2_500_000));
        let (status, body) = gw.call("POST", "/api/auth/login", None, Some(json!({ "email": over, "password": "whatever" }))).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::PAYLOAD_TOO_LARGE, &json!("payload_too_large")), "{backend:?}");
        // The address's one attempt is still there.
        sign_in(&gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let users = atmr_gateway::users::entity::Entity::find().all(&gw.started.runtime.db).await.unwrap();
        assert!(users.iter().all(|u| u.email.len() < 100), "nothing stored");
    }
}

/// The gateway trusts the proxy at 127.0.0.1: the client is the right-most
/// `X-Forwarded-For` address that is not it, whatever the client wrote to its
/// left; from a peer it does not trust, the header is ignored.
#[tokio::test]
async fn a_spoofed_forwarded_for_changes_neither_the_login_limit_nor_the_audit_trail() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[("ATMR_TRUSTED_PROXIES", "127.0.0.1/32"), ("ATMR_LOGIN_RATE_PER_MINUTE", "2")]).await;
        let g = &gw;
        let attempt = |n: u32, xff: String| {
            let body = json!({ "email": format!("nobody{n}@example.com"), "password": "wrong-password" });
            async move { g.call_with("POST", "/api/auth/login", None, Some(body), &[("x-forwarded-for", xff.as_str())]).await.0 }
        };
        // The real client (203.0.113.9) spoofs a new left-most address each time: its two attempts are spent all the same.
        assert_eq!(attempt(1, "198.51.100.1, 203.0.113.9".into()).await, StatusCode::UNAUTHORIZED);
        assert_eq!(attempt(2, "198.51.100.2, 203.0.113.9".into()).await, StatusCode::UNAUTHORIZED);
        assert_eq!(attempt(3, "198.51.100.3, 203.0.113.9".into()).await, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        assert_eq!(attempt(4, "203.0.113.10".into()).await, StatusCode::UNAUTHORIZED, "another client is not limited");
        // From a peer that is not a trusted proxy the header is ignored: the peer is the client.
        let body = json!({ "email": "nobody5@example.com", "password": "wrong-password" });
        let (status, _) =
            call_app(&gw.app, "POST", "/api/auth/login", None, Some(body), &[("x-forwarded-for", "203.0.113.10")], [192, 0, 2, 1]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let body = json!({ "email": "nobody6@example.com", "password": "wrong-password" });
        let (status, _) =
            call_app(&gw.app, "POST", "/api/auth/login", None, Some(body), &[("x-forwarded-for", "203.0.113.9")], [192, 0, 2, 1]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}: 203.0.113.9's spent limit is not this peer's");

        // The audit trail records the real client of an account change.
        let body = json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD });
        let (status, signed_in) = gw.call_with("POST", "/api/auth/login", None, Some(body), &[("x-forwarded-for", "203.0.113.77")]).await;
        assert_eq!(status, StatusCode::OK, "{signed_in}");
        let admin = Pair::of(&signed_in);
        let user = json!({ "email": "audited@example.com", "password": "a-long-password-here", "role": "dispatcher" });
        let (status, created) = gw
            .call_with("POST", "/api/admin/users", Some(&admin.access), Some(user), &[("x-forwarded-for", "6.6.6.6, 203.0.113.77")])
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let db = &gw.started.runtime.db;
        let records: Vec<String> = db
            .query_all(Statement::from_string(db.get_database_backend(), "SELECT record FROM gateway_audit_outbox"))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "record").unwrap())
            .collect();
        assert!(!records.is_empty());
        assert!(records.iter().all(|r| r.contains("203.0.113.77") && !r.contains("6.6.6.6")), "{backend:?}: {records:?}");
    }
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_replaced_at_the_next_login() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version, password_hash::SaltString};
    use sea_orm::{ActiveModelTrait as _, IntoActiveModel as _, Set};
    let gw = gateway(TestBackend::Sqlite, &[]).await;
    let db = &gw.started.runtime.db;
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(4096, 1, 1, None).unwrap())
        .hash_password(ADMIN_PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let mut admin = atmr_gateway::users::find_by_email(db, ADMIN_EMAIL).await.unwrap().unwrap().into_active_model();
    admin.password_hash = Set(weak.clone());
    admin.update(db).await.unwrap();

    sign_in(&gw, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let stored = atmr_gateway::users::find_by_email(db, ADMIN_EMAIL).await.unwrap().unwrap().password_hash;
    assert_ne!(stored, weak);
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(atmr_gateway::users::verify_password(ADMIN_PASSWORD, &stored));
}

/// Two gateway replicas on one Redis count one account's attempts together,
/// under a key that is a hash of the email, never the email.
#[tokio::test]
#[ignore = "needs Redis: set TEST_REDIS_URL and run with --include-ignored"]
async fn two_replicas_share_the_login_limit_through_redis() {
    use deadpool_redis::redis;
    let url = testing::redis_url();
    let gw =
        gateway(TestBackend::Sqlite, &[("REDIS_URL", &url), ("ATMR_LOGIN_RATE_PER_MINUTE", "3"), ("ATMR_TRUSTED_PROXIES", "127.0.0.1/32")])
            .await;
    let other = replica(&gw).await;
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let mut statuses = Vec::new();
    for i in 0..6u32 {
        // A fresh client address each time (Redis outlives test runs): only the account's bucket fills.
        let from = format!("fd00::{:x}:{:x}", uuid::Uuid::new_v4().as_u128() as u16, i);
        let app = if i % 2 == 0 { &gw.app } else { &other };
        let body = json!({ "email": email, "password": "wrong-password" });
        statuses.push(call_app(app, "POST", "/api/auth/login", None, Some(body), &[("x-forwarded-for", &from)], [127, 0, 0, 1]).await.0);
    }
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((statuses.len() - limited, limited), (3, 3), "three attempts across both replicas: {statuses:?}");

    let mut conn = deadpool_redis::Config::from_url(url).create_pool(Some(deadpool_redis::Runtime::Tokio1)).unwrap().get().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("atmr:rl:login:*").query_async(&mut conn).await.unwrap();
    let local = email.split('@').next().unwrap();
    assert!(!keys.iter().any(|k| k.contains(local)), "the email is never a key: {keys:?}");
    use sha2::Digest as _;
    let hashed = hex::encode(sha2::Sha256::digest(email.as_bytes()));
    assert!(keys.iter().any(|k| k.ends_with(&hashed)), "the account's bucket is its hash");
}
