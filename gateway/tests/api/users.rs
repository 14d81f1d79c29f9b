//! The account rules behind `/api/admin/users` (the console's page shares
//! them): no admin demotes or deactivates themself, and a company never
//! loses its last active admin, not even to two admins demoting each other at
//! once; an account shows when it last signed in. And dispatch's settings
//! checked without saving (`validate_only`), the drift checks by state and by day.

use axum::http::StatusCode;
use kit::testing::{self, TestBackend};
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, Gateway, gateway};

/// A new account of `role`; its id.
async fn account(gw: &Gateway, admin: &str, email: &str, role: &str) -> i64 {
    let body = json!({ "email": email, "password": "a-long-enough-password", "role": role });
    let (status, user) = gw.call("POST", "/api/admin/users", Some(admin), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    user["id"].as_i64().unwrap()
}

async fn set_active(gw: &Gateway, id: i64, active: bool) {
    let db = &gw.started.runtime.db;
    let sql = format!("UPDATE users SET active = {active} WHERE id = {id}");
    db.execute(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
}

async fn active_admins(gw: &Gateway) -> i64 {
    let db = &gw.started.runtime.db;
    let sql = "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = true AND company_id = 1";
    db.query_one(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap().try_get("", "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_cannot_lock_the_company_out() {
    for backend in testing::backends() {
        let gw = gateway(backend, &[]).await;
        let admin = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (_, me) = gw.call("GET", "/api/auth/me", Some(&admin), None).await;
        let me = me["id"].as_str().unwrap().parse::<i64>().unwrap();

        // Themself: neither demoted nor deactivated, by PATCH or DELETE.
        let mine = format!("/api/admin/users/{me}");
        for (method, body) in
            [("PATCH", Some(json!({ "role": "dispatcher" }))), ("PATCH", Some(json!({ "active": false }))), ("DELETE", None)]
        {
            let (status, refused) = gw.call(method, &mine, Some(&admin), body).await;
            assert_eq!(
                (status, &refused["error"]["details"]["rule"]),
                (StatusCode::CONFLICT, &json!("own_account")),
                "{backend:?}: {refused}"
            );
        }

        // The last active admin: here the caller's own account was deactivated
        // behind the API's back (its token not yet revoked), so the other admin is the last.
        let other = account(&gw, &admin, "second.admin@example.com", "admin").await;
        set_active(&gw, me, false).await;
        let theirs = format!("/api/admin/users/{other}");
        for body in [json!({ "role": "reporter" }), json!({ "active": false })] {
            let (status, refused) = gw.call("PATCH", &theirs, Some(&admin), Some(body)).await;
            assert_eq!(
                (status, &refused["error"]["details"]["rule"]),
                (StatusCode::CONFLICT, &json!("last_admin")),
                "{backend:?}: {refused}"
            );
        }
        let (status, _) = gw.call("PATCH", &theirs, Some(&admin), Some(json!({ "password": "a-new-long-password" }))).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: a change that keeps them admin is not refused");
        set_active(&gw, me, true).await;

        // Two admins demoting each other at once: one wins, the company keeps an admin.
        let second = gw.login("second.admin@example.com", "a-new-long-password").await;
        let (a, b) = tokio::join!(
            gw.call("PATCH", &theirs, Some(&admin), Some(json!({ "role": "dispatcher" }))),
            gw.call("PATCH", &mine, Some(&second), Some(json!({ "role": "dispatcher" }))),
        );
        let won = [&a, &b].iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!(won, 1, "{backend:?}: {a:?} {b:?}");
        for (status, body) in [&a, &b].into_iter().filter(|(s, _)| *s != StatusCode::OK) {
            // Refused under the lock, or too late: the winner revoked the loser's token.
            let refused = (*status == StatusCode::CONFLICT && body["error"]["details"]["rule"] == "last_admin")
                || *status == StatusCode::UNAUTHORIZED;
            assert!(refused, "{backend:?}: {status} {body}");
        }
        assert_eq!(active_admins(&gw).await, 1, "{backend:?}");
    }
}

#[tokio::test]
async fn an_account_shows_when_it_last_signed_in() {
    let gw = gateway(TestBackend::Sqlite, &[]).await;
    let admin = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    account(&gw, &admin, "new.dispatcher@example.com", "dispatcher").await;
    let (_, list) = gw.call("GET", "/api/admin/users", Some(&admin), None).await;
    let of = |email: &str| list["items"].as_array().unwrap().iter().find(|u| u["email"] == email).unwrap().clone();
    let signed_in = of(ADMIN_EMAIL)["last_sign_in_at"].as_str().expect("the admin signed in").to_owned();
    let at = chrono::DateTime::parse_from_rfc3339(&signed_in).unwrap();
    assert!((chrono::Utc::now() - at.to_utc()).num_seconds() < 60, "{signed_in}");
    assert_eq!(of("new.dispatcher@example.com")["last_sign_in_at"], Value::Null, "never signed in: unknown");
    // A failed sign-in is no sign-in.
    let (status, _) = gw
        .call("POST", "/api/auth/login", None, Some(json!({ "email": "new.dispatcher@example.com", "password": "wrong-password-x" })))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, list) = gw.call("GET", "/api/admin/users", Some(&admin), None).await;
    let dispatcher = list["items"].as_array().unwrap().iter().find(|u| u["email"] == "new.dispatcher@example.com").unwrap();
    assert_eq!(dispatcher["last_sign_in_at"], Value::Null);
}

#[tokio::test]
async fn dispatch_settings_can_be_checked_without_saving_and_drift_checks_are_summed_by_day() {
    let gw = gateway(TestBackend::Sqlite, &[]).await;
    let admin = gw.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, checked) =
        gw.call("PATCH", "/api/company?validate_only=true", Some(&admin), Some(json!({ "time_zone": "Asia/Tokyo" }))).await;
    assert_eq!((status, &checked["time_zone"]), (StatusCode::OK, &json!("Asia/Tokyo")), "{checked}");
    let (_, company) = gw.call("GET", "/api/company", Some(&admin), None).await;
    assert_eq!(company["time_zone"], "Europe/Zurich", "nothing saved");
    let (_, settings) = gw.call("GET", "/api/dispatch/autonomy/settings", Some(&admin), None).await;
    let mut bad = settings.clone();
    bad["cycle_interval_seconds"] = json!(1);
    let (status, refused) = gw.call("PUT", "/api/dispatch/autonomy/settings?validate_only=true", Some(&admin), Some(bad)).await;
    assert_eq!((status, &refused["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("settings.cycle_interval_seconds")));

    let (status, check) = gw.call("POST", "/api/dispatch/drift-checks", Some(&admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{check}");
    assert_eq!((&check["mae_after_minutes"], &check["retrained_version"]), (&Value::Null, &Value::Null), "no trips, no retrain: {check}");
    let (_, completed) = gw.call("GET", "/api/dispatch/drift-checks?state=completed,retried", Some(&admin), None).await;
    assert_eq!(completed["total"], 1, "{completed}");
    let (_, failed) = gw.call("GET", "/api/dispatch/drift-checks?state=failed", Some(&admin), None).await;
    assert_eq!(failed["total"], 0, "{failed}");
    let (status, refused) = gw.call("GET", "/api/dispatch/drift-checks?state=lost", Some(&admin), None).await;
    assert_eq!((status, &refused["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("state")));

    let (status, days) = gw.call("GET", "/api/dispatch/drift-checks/days", Some(&admin), None).await;
    assert_eq!((status, days["days"].as_array().map(Vec::len), &days["time_zone"]), (StatusCode::OK, Some(30), &json!("Europe/Zurich")));
    assert_eq!(days["days"][29]["checks"], 1, "today's check: {days}");
    let (status, refused) = gw.call("GET", "/api/dispatch/drift-checks/days?days=91", Some(&admin), None).await;
    assert_eq!((status, &refused["error"]["details"]["field"]), (StatusCode::BAD_REQUEST, &json!("days")));
}
