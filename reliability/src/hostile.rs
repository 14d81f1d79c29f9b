//! Hostile text in every free-text field the API stores: SQL metacharacters,
//! LIKE wildcards, right-to-left overrides, combining marks, emoji, markup.
//! Each is stored and read back byte for byte; a control character is refused
//! with 400 naming the field, and nothing is stored.

use serde_json::{Value, json};

use crate::{load::Workload, procs::Mesh, report::Section};

/// Text that must come back unchanged.
const EDGE: [&str; 6] = [
    "'; DROP TABLE bug_reports; --",
    "Robert'); DELETE FROM driver WHERE ('1'='1",
    "%_\\ LIKE wildcards, a backslash and $1 ?",
    "Zoë Müller-Ågård — 救急車 🚑 \u{202e}txet lanoitcerid\u{202c}",
    "e\u{301} (combining accent), \u{200d}\u{fe0f} joiners, 𝕏",
    "<script>alert('x')</script> & \"quotes\" {{template}}",
];

/// One resource with free text: how to create it around `text`, where to read
/// it back, and which fields of the read must equal what was sent.
struct Resource {
    name: &'static str,
    create: fn(&str, &Ctx) -> (reqwest::Method, String, Value),
    /// The read's path from the created body (None: the create's answer is the read).
    read: fn(&Value, &Ctx) -> Option<String>,
    /// JSON pointers into the read, each with the text expected there.
    fields: fn(&str) -> Vec<(&'static str, String)>,
}

struct Ctx {
    client: i64,
    bug: i64,
    day: String,
}

fn resources() -> Vec<Resource> {
    vec![
        Resource {
            name: "bug",
            create: |t, _| {
                (
                    reqwest::Method::POST,
                    "/api/bugs".into(),
                    json!({ "title": t, "description": format!("{t}\nline two"), "stack_trace": t, "severity": "low" }),
                )
            },
            read: |v, _| Some(format!("/api/bugs/{}", v["bug"]["id"])),
            fields: |t| vec![("/bug/title", t.into()), ("/bug/description", format!("{t}\nline two")), ("/bug/stack_trace", t.into())],
        },
        Resource {
            name: "comment",
            create: |t, c| (reqwest::Method::POST, format!("/api/bugs/{}/comments", c.bug), json!({ "body": t })),
            read: |_, c| Some(format!("/api/bugs/{}/comments?per_page=100", c.bug)),
            fields: |t| vec![("/items/0/body", t.into())],
        },
        Resource {
            name: "driver",
            create: |t, _| {
                (
                    reqwest::Method::POST,
                    "/api/drivers".into(),
                    json!({ "name": t, "vehicle_kind": "car", "seats": 4, "shift_start_minute": 420,
                    "shift_end_minute": 960, "depot": { "latitude": 46.2, "longitude": 6.1 } }),
                )
            },
            read: |v, _| Some(format!("/api/drivers/{}", v["id"])),
            fields: |t| vec![("/name", t.into())],
        },
        Resource {
            name: "patient",
            create: |t, _| {
                (
                    reqwest::Method::POST,
                    "/api/clients".into(),
                    json!({ "name": t, "address": t, "notes": t,
                    "location": { "latitude": 46.195, "longitude": 6.14 }, "mobility": "ambulatory" }),
                )
            },
            read: |v, _| Some(format!("/api/clients/{}", v["id"])),
            fields: |t| vec![("/name", t.into()), ("/address", t.into()), ("/notes", t.into())],
        },
        Resource {
            name: "booking",
            create: |t, c| {
                (
                    reqwest::Method::POST,
                    "/api/bookings".into(),
                    json!({ "client_id": c.client, "pickup_address": t, "dropoff_address": t, "notes": t,
                    "pickup": { "latitude": 46.2, "longitude": 6.14 }, "dropoff": { "latitude": 46.1935, "longitude": 6.149 },
                    "pickup_earliest": format!("{}T09:00:00Z", c.day), "pickup_latest": format!("{}T09:30:00Z", c.day) }),
                )
            },
            read: |v, _| Some(format!("/api/bookings/{}", v["id"])),
            fields: |t| vec![("/booking/pickup_address", t.into()), ("/booking/dropoff_address", t.into()), ("/booking/notes", t.into())],
        },
        Resource {
            name: "notification",
            create: |t, _| {
                (
                    reqwest::Method::POST,
                    "/api/notifications".into(),
                    json!({ "event_type": "reliability.text", "title": t, "body": t,
                    "severity": "info", "fields": [{ "name": t, "value": t }] }),
                )
            },
            read: |v, _| v["notifications"][0]["id"].as_str().map(|id| format!("/api/notifications/{id}")),
            fields: |t| vec![("/notification/title", t.into()), ("/notification/body", t.into())],
        },
        Resource {
            name: "monitor",
            create: |t, _| {
                (
                    reqwest::Method::POST,
                    "/api/monitors".into(),
                    json!({ "name": t, "kind": "http", "target": "http://127.0.0.1:9/health",
                    "expected_status": 200, "keyword": t, "interval_seconds": 3600, "timeout_seconds": 5, "retries": 0 }),
                )
            },
            read: |v, _| v["id"].as_str().map(|id| format!("/api/monitors/{id}")),
            fields: |t| vec![("/name", t.into()), ("/keyword", t.into())],
        },
        Resource {
            name: "company",
            create: |t, _| (reqwest::Method::PATCH, "/api/company".into(), json!({ "name": t })),
            read: |_, _| Some("/api/company".into()),
            fields: |t| vec![("/name", t.into())],
        },
    ]
}

pub async fn run(mesh: &Mesh, wl: &Workload) -> Section {
    let mut s = Section::new("Hostile text: SQL metacharacters and Unicode edges in every free-text field", mesh.backend.name());
    let (gw, http, token) = (mesh.gateway(), &mesh.http, &wl.token);
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut req = http.request(method, format!("{gw}{path}")).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            match req.send().await {
                Ok(r) => (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null)),
                Err(e) => (0, json!({ "transport": e.to_string() })),
            }
        }
    };
    let (_, bug) = send(reqwest::Method::POST, "/api/bugs".into(), Some(json!({ "title": "Bug for comments", "description": "d" }))).await;
    let (_, clients) = send(reqwest::Method::GET, "/api/clients?per_page=1".into(), None).await;
    let ctx = Ctx {
        client: clients["items"][0]["id"].as_i64().unwrap_or(1),
        bug: bug["bug"]["id"].as_i64().unwrap_or(1),
        day: (chrono::Utc::now() + chrono::Duration::days(40)).date_naive().to_string(),
    };
    // Over 2 MiB: refused before it is read whole, nothing stored. The server
    // then closes that connection with the body unread; sent on a client of its
    // own, so that the next request does not race that close on a pooled
    // connection ("error sending request").
    let huge = json!({ "title": "huge", "description": "x".repeat(3 << 20), "severity": "low" });
    let (status, refused) = match reqwest::Client::new().post(format!("{gw}/api/bugs")).bearer_auth(token).json(&huge).send().await {
        Ok(r) => (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null)),
        Err(e) => (0, json!({ "transport": e.to_string() })),
    };
    s.check(
        "a 3 MiB body is refused with 413 payload_too_large",
        status == 413 && refused["error"]["code"] == "payload_too_large",
        format!("{status} {}", refused["error"]["code"]),
    );
    for resource in resources() {
        let mut changed = Vec::new();
        for text in EDGE {
            let (method, path, body) = (resource.create)(text, &ctx);
            let (status, created) = send(method, path.clone(), Some(body)).await;
            if !(200..300).contains(&status) {
                changed.push(format!("{text:?} refused: {status} {created}"));
                continue;
            }
            let read = match (resource.read)(&created, &ctx) {
                Some(p) => send(reqwest::Method::GET, p, None).await.1,
                None => created,
            };
            for (pointer, want) in (resource.fields)(text) {
                // Lists are newest last: look at every item for the comment.
                let got = if pointer.starts_with("/items/0/") {
                    let field = pointer.trim_start_matches("/items/0/");
                    read["items"].as_array().into_iter().flatten().find(|i| i[field] == want.as_str()).map(|i| i[field].clone())
                } else {
                    read.pointer(pointer).cloned()
                };
                if got.as_ref().and_then(Value::as_str) != Some(want.as_str()) {
                    changed.push(format!("{pointer}: sent {want:?}, read {got:?}"));
                }
            }
        }
        // A control character is refused, naming the field, and nothing is stored.
        let (method, path, body) = (resource.create)("bell\u{7} and nul\u{0}", &ctx);
        let (status, refused) = send(method, path, Some(body)).await;
        let named = refused["error"]["details"]["field"].as_str().unwrap_or_default().to_owned();
        s.check(
            format!("{}: {} edge strings in each text field come back unchanged", resource.name, EDGE.len()),
            changed.is_empty(),
            if changed.is_empty() { "all identical".to_owned() } else { changed.join(" | ") },
        );
        s.check(
            format!("{}: a control character is refused with 400 naming the field", resource.name),
            status == 400 && !named.is_empty(),
            format!("{status}, field {named:?}"),
        );
    }
    s
}
