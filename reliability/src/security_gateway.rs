//! The gateway's sign-in against the real processes: a refresh token used
//! twice revokes its whole family; refreshes racing a password reset hand out
//! nothing that outlives it; a 1.5 MB email at login is refused naming the
//! field. Each answers 401/400, and nothing it touched changed.

use serde_json::{Value, json};

use crate::{
    procs::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh},
    report::Section,
};

/// A POST of `body` to the gateway: the status (0 when there was no answer) and the JSON.
async fn post(mesh: &Mesh, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = mesh.http.post(format!("{}{path}", mesh.gateway())).json(body).timeout(std::time::Duration::from_secs(30));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(res) => (res.status().as_u16(), res.json().await.unwrap_or(Value::Null)),
        Err(e) => (0, json!({ "error": e.to_string() })),
    }
}

async fn sign_in(mesh: &Mesh, email: &str, password: &str) -> (u16, Value) {
    post(mesh, "/api/auth/login", None, &json!({ "email": email, "password": password })).await
}

async fn refresh(mesh: &Mesh, token: &Value) -> (u16, Value) {
    post(mesh, "/api/auth/refresh", None, &json!({ "refresh_token": token })).await
}

pub async fn run(mesh: &Mesh) -> Section {
    let mut s = Section::new("Security: refresh tokens, a reset racing refreshes, an oversized login", mesh.backend.name());
    let (status, first) = sign_in(mesh, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    if status != 200 {
        s.check("the admin signs in", false, format!("{status} {first}"));
        return s;
    }
    let admin = first["access_token"].as_str().unwrap_or_default().to_owned();

    // Reuse: the first refresh token twice.
    let (status, second) = refresh(mesh, &first["refresh_token"]).await;
    s.check("a refresh token is exchanged once", status == 200 && second["refresh_token"].is_string(), format!("{status}"));
    let (again, body) = refresh(mesh, &first["refresh_token"]).await;
    let (newest, _) = refresh(mesh, &second["refresh_token"]).await;
    s.check(
        "a used refresh token presented again is refused and revokes its family",
        again == 401 && newest == 401,
        format!("the reuse {again} ({}), then the newest of the family {newest}", body["error"]["message"]),
    );

    // A dispatcher's six sign-ins refresh while an admin resets its password.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let email = format!("racer-{now}@reliability.test");
    let password = "racer-password-before";
    let (status, user) =
        post(mesh, "/api/admin/users", Some(&admin), &json!({ "email": email, "password": password, "role": "dispatcher" })).await;
    if status != 201 {
        s.check("a dispatcher account is created", false, format!("{status} {user}"));
        return s;
    }
    let mut starts = Vec::new();
    for _ in 0..6 {
        starts.push(sign_in(mesh, &email, password).await.1);
    }
    let chains = futures::future::join_all(starts.into_iter().map(|start| async move {
        let mut handed = vec![start];
        for _ in 0..4 {
            let (status, next) = refresh(mesh, &handed[handed.len() - 1]["refresh_token"]).await;
            if status != 200 {
                break;
            }
            handed.push(next);
        }
        handed
    }));
    let reset = mesh
        .http
        .patch(format!("{}/api/admin/users/{}", mesh.gateway(), user["id"]))
        .bearer_auth(&admin)
        .json(&json!({ "password": "racer-password-after" }))
        .send();
    let (chains, reset) = futures::join!(chains, reset);
    let reset_status = reset.map(|r| r.status().as_u16()).unwrap_or(0);
    s.check("the password reset is accepted", reset_status == 200, format!("{reset_status}"));
    let mut outlived = Vec::new();
    for chain in &chains {
        let (status, _) = refresh(mesh, &chain[chain.len() - 1]["refresh_token"]).await;
        if status != 401 {
            outlived.push(format!("a refresh token answered {status}"));
        }
    }
    for pair in chains.iter().flatten() {
        let me = mesh.http.get(format!("{}/api/auth/me", mesh.gateway())).bearer_auth(pair["access_token"].as_str().unwrap_or_default());
        let status = me.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
        if status != 401 {
            outlived.push(format!("an access token answered {status}"));
        }
    }
    let handed: usize = chains.iter().map(Vec::len).sum();
    s.check(
        "nothing handed out by refreshes racing a password reset outlives it",
        outlived.is_empty(),
        if outlived.is_empty() { format!("{handed} pairs from 6 sign-ins, all refused") } else { outlived.join("; ") },
    );

    // A 1.5 MB email: 400 naming the field, and no account with it.
    let huge = format!("{}@reliability.test", "a".repeat(1_500_000));
    let (status, body) = sign_in(mesh, &huge, "whatever").await;
    s.check(
        "a 1.5 MB email at login is refused naming the field",
        status == 400 && body["error"]["details"]["field"] == "email",
        format!("{status} {}", body["error"]["message"]),
    );
    s
}
