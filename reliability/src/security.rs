//! Every documented REST operation called as the wrong person: without a
//! token, with an expired one, with a role the API does not document for it,
//! and as another company's admin aimed at this company's rows. The answer is
//! 401/403 (or 404 for another company's row), never this company's data, and
//! nothing of this company's changes.

use std::collections::BTreeMap;

use kit::auth::Role;
use serde_json::{Value, json};

use crate::{load::Workload, procs::Mesh, report::Section};

/// Strings only company 1's rows contain (see `Workload::prepare` and the load).
const MARKERS: [&str; 6] = ["Chauffeur ", "Patient·e", "Load bug", "Rue du Lac", "Charge ", "admin@reliability.test"];

struct Answer {
    status: u16,
    body: String,
}

async fn call(http: &reqwest::Client, method: &reqwest::Method, url: &str, token: Option<&str>) -> Answer {
    let mut req = http.request(method.clone(), url).timeout(std::time::Duration::from_secs(30));
    if *method != reqwest::Method::GET && *method != reqwest::Method::DELETE {
        req = req.json(&json!({}));
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let streaming = res.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
            let body = if streaming {
                // The live board streams for ever: its first event is what it shows.
                match tokio::time::timeout(std::time::Duration::from_millis(500), res.chunk()).await {
                    Ok(Ok(Some(chunk))) => String::from_utf8_lossy(&chunk).into_owned(),
                    _ => String::new(),
                }
            } else {
                res.text().await.unwrap_or_default()
            };
            Answer { status, body }
        }
        Err(e) => Answer { status: 0, body: e.to_string() },
    }
}

fn leaks(body: &str) -> Option<&'static str> {
    MARKERS.iter().copied().find(|m| body.contains(m))
}

/// The id of one of company 1's rows, by the first segment of the path.
async fn ids(mesh: &Mesh, wl: &Workload) -> BTreeMap<&'static str, String> {
    let (gw, http, token) = (mesh.gateway(), &mesh.http, &wl.token);
    let first = |list: &'static str, pointer: &'static str| {
        let req = http.get(format!("{gw}{list}")).bearer_auth(token).send();
        async move {
            let v: Value = match req.await {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            v.pointer(pointer).map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned)).unwrap_or_else(|| "1".to_owned())
        }
    };
    let mut ids = BTreeMap::new();
    ids.insert("drivers", first("/api/drivers", "/items/0/id").await);
    ids.insert("clients", first("/api/clients", "/items/0/id").await);
    ids.insert("bookings", first("/api/bookings", "/items/0/id").await);
    ids.insert("bugs", first("/api/bugs", "/items/0/id").await);
    ids.insert("dispatch", first("/api/dispatch/runs", "/items/0/id").await);
    ids.insert("notifications", first("/api/notifications", "/items/0/id").await);
    ids.insert("admin", first("/api/admin/users", "/items/0/id").await);
    // A channel whose name only this company knows.
    let channel: Value = match http
        .post(format!("{gw}/api/notification-channels"))
        .bearer_auth(token)
        .json(&json!({ "name": "Chauffeur de garde", "kind": "log" }))
        .send()
        .await
    {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    ids.insert("notification-channels", channel["id"].as_str().unwrap_or("1").to_owned());
    ids
}

/// `path` with each `{param}` replaced by company 1's row of that family.
fn concrete(path: &str, ids: &BTreeMap<&'static str, String>) -> String {
    let family = path.trim_start_matches("/api/").split('/').next().unwrap_or_default();
    let id = ids.get(family).cloned().unwrap_or_else(|| "1".to_owned());
    path.split('/').map(|part| if part.starts_with('{') { id.as_str() } else { part }).collect::<Vec<_>>().join("/")
}

pub async fn run(mesh: &Mesh, wl: &Workload) -> Section {
    let mut s = Section::new("Security: every operation with no, expired, lower-role and other-company tokens", mesh.backend.name());
    let (gw, http) = (mesh.gateway(), &mesh.http);
    let doc: Value = match http.get(format!("{gw}/openapi.json")).send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let Some(paths) = doc["paths"].as_object() else {
        s.check("/openapi.json lists the operations", false, doc.to_string());
        return s;
    };
    let ids = ids(mesh, wl).await;
    let expired = {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"sub": "9001", "company_id": 1, "role": "admin", "iss": "atmr", "iat": now - 1200, "exp": now - 600});
        let key = mesh.user_key();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(key.thumbprint().to_owned());
        jsonwebtoken::encode(&header, &claims, key.encoding()).unwrap_or_default()
    };
    let other_company = mesh.token(2, Role::Admin);
    let roles = [(Role::Admin, "admin"), (Role::Dispatcher, "dispatcher"), (Role::Reporter, "reporter"), (Role::Driver, "driver")];
    let public = ["/api/auth/login", "/api/auth/refresh"];

    let (mut operations, mut unauth_ok, mut role_ok, mut other_ok, mut admitted_ok) = (0, 0, 0, 0, 0);
    // What went wrong, by the check it fails.
    let (mut unauth_wrong, mut role_wrong, mut other_wrong): (Vec<String>, Vec<String>, Vec<String>) = Default::default();
    for (path, item) in paths {
        if !path.starts_with("/api/") || public.contains(&path.as_str()) {
            continue;
        }
        let url = format!("{gw}{}", concrete(path, &ids));
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            operations += 1;
            for (what, token) in [("no token", None), ("an expired token", Some(expired.as_str()))] {
                let a = call(http, &method, &url, token).await;
                if a.status == 401 && leaks(&a.body).is_none() {
                    unauth_ok += 1;
                } else {
                    unauth_wrong.push(format!(
                        "{method} {path} with {what}: {} {}",
                        a.status,
                        a.body.chars().take(120).collect::<String>()
                    ));
                }
            }
            let admitted: Vec<&str> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["bearer"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (role, name) in roles {
                if admitted.is_empty() || admitted.contains(&name) {
                    // An admitted role is not refused (reads only: writes would change the data).
                    if method == reqwest::Method::GET {
                        let a = call(http, &method, &url, Some(&mesh.token(1, role))).await;
                        if a.status == 403 {
                            role_wrong.push(format!("{method} {path} as {name}, which the API admits: 403"));
                        } else {
                            admitted_ok += 1;
                        }
                    }
                    continue;
                }
                let a = call(http, &method, &url, Some(&mesh.token(1, role))).await;
                if a.status == 403 && leaks(&a.body).is_none() {
                    role_ok += 1;
                } else {
                    role_wrong.push(format!("{method} {path} as {name}: {} {}", a.status, a.body.chars().take(120).collect::<String>()));
                }
            }
            // Another company's admin, aimed at this company's rows.
            let a = call(http, &method, &url, Some(&other_company)).await;
            match leaks(&a.body) {
                None if a.status < 500 && a.status != 0 => other_ok += 1,
                leak => other_wrong.push(format!(
                    "{method} {path} as another company's admin: {} {} {}",
                    a.status,
                    leak.map(|m| format!("(shows {m:?})")).unwrap_or_default(),
                    a.body.chars().take(120).collect::<String>()
                )),
            }
        }
    }
    let first = |wrong: &[String]| wrong.iter().take(5).cloned().collect::<Vec<_>>().join(" | ");
    s.check(
        format!("{operations} operations refuse a missing or expired token with 401"),
        unauth_wrong.is_empty() && unauth_ok == 2 * operations,
        format!("{unauth_ok} of {} calls; wrong: {}", 2 * operations, first(&unauth_wrong)),
    );
    s.check(
        "every role the API does not document for an operation gets 403 before the body is read",
        role_wrong.is_empty(),
        format!("{role_ok} refusals; reads by admitted roles not refused: {admitted_ok}; wrong: {}", first(&role_wrong)),
    );
    s.check(
        "another company's admin sees none of this company's data",
        other_wrong.is_empty(),
        format!("{other_ok} of {operations} operations answered without this company's data; wrong: {}", first(&other_wrong)),
    );
    // Nothing of company 1 changed: its rows are all still there.
    let mut missing = Vec::new();
    for family in ["drivers", "clients", "bookings", "bugs"] {
        let url = format!("{gw}/api/{family}/{}", ids[family]);
        let a = call(http, &reqwest::Method::GET, &url, Some(&wl.token)).await;
        if a.status != 200 {
            missing.push(format!("{family} {}: {}", ids[family], a.status));
        }
    }
    let me = mesh.admin_token().await;
    s.check(
        "this company's rows and its admin are untouched",
        missing.is_empty() && me.is_ok(),
        format!("missing: {missing:?}; admin login: {}", if me.is_ok() { "ok" } else { "refused" }),
    );
    s
}

/// schemathesis over the whole REST API with an admin token: every operation,
/// `examples` generated requests each (plus its coverage phase), no 5xx and
/// every answer as the document describes it. Dispatch runs are left out: they
/// take up to their budget, past schemathesis' request timeout.
pub async fn schemathesis(mesh: &Mesh, wl: &Workload, examples: u32) -> Section {
    let mut s = Section::new(&format!("Hostile REST input: schemathesis, {examples} examples per operation"), mesh.backend.name());
    let out = tokio::process::Command::new("schemathesis")
        .args(["run", &format!("{}/openapi.json", mesh.gateway()), "-H", &format!("Authorization: Bearer {}", wl.token)])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "coverage,fuzzing",
            "--exclude-path",
            "/api/dispatch/runs",
        ])
        .args(["--max-examples", &examples.to_string()])
        .output()
        .await;
    match out {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let summary: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("passed") || l.contains("failed") || l.contains("Test cases") || l.contains("API Operations"))
                .collect();
            s.check("schemathesis finds no 5xx and no answer off the schema", out.status.success(), summary.join(" · "));
        }
        Err(e) => s.check("schemathesis runs (pip install schemathesis)", false, e.to_string()),
    }
    s
}
