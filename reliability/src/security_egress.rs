//! Private targets through the gateway, as a company admin would try them.
//! The harness's notify allows 127.0.0.1 alone (`NOTIFY_EGRESS_ALLOW`, for its
//! webhook receiver); every other spelling of this machine, the metadata and
//! unspecified addresses answer 400 naming the field and store nothing, and a
//! webhook or monitor redirected to 127.0.0.2 is refused with nothing reaching
//! it. A name resolving to a private address is tried when this machine's own
//! name resolves to one other than 127.0.0.1.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use serde_json::{Value, json};

use crate::{load::Workload, procs::Mesh, report::Section};

/// A listener on `ip` that counts connections, answering a redirect to
/// `location` when given.
async fn listener(ip: &str, location: Option<String>) -> anyhow::Result<(std::net::SocketAddr, Arc<AtomicUsize>)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind((ip, 0)).await?;
    let addr = listener.local_addr()?;
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf).await;
            let answer = match &location {
                Some(to) => format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
                None => "HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecret".to_owned(),
            };
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    Ok((addr, hits))
}

async fn call(http: &reqwest::Client, method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    match req.send().await {
        Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
        Err(e) => (0, json!({ "error": e.to_string() })),
    }
}

/// Polls `url` until `done` holds of its answer (bounded), returning the last answer.
async fn until(http: &reqwest::Client, url: String, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, v) = call(http, reqwest::Method::GET, url.clone(), token, None).await;
        if done(&v) || tokio::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

pub async fn run(mesh: &Mesh, wl: &Workload) -> Section {
    let mut s = Section::new("Security: monitors and webhooks aimed at private addresses", mesh.backend.name());
    let (gw, http, token) = (mesh.gateway(), &mesh.http, wl.token.as_str());
    let count = |path: &'static str| {
        let url = format!("{gw}{path}");
        async move {
            let (_, v) = call(http, reqwest::Method::GET, url, token, None).await;
            v["items"].as_array().map_or(0, Vec::len)
        }
    };
    let (monitors_before, channels_before) = (count("/api/monitors").await, count("/api/notification-channels").await);

    // Saving: every literal form, refused naming the field.
    let (inside, inside_hits) = match listener("127.0.0.2", None).await {
        Ok(l) => l,
        Err(e) => {
            s.check("a listener on 127.0.0.2", false, e.to_string());
            return s;
        }
    };
    let port = inside.port();
    let mut bodies: Vec<(&str, Value, &str)> = Vec::new();
    for url in [
        format!("http://127.0.0.2:{port}/"),
        format!("http://2130706434:{port}/"),
        format!("http://0177.0.0.2:{port}/"),
        format!("http://0x7f.2:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.2]:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_owned(),
        format!("http://0.0.0.0:{port}/"),
        format!("http://[::]:{port}/"),
        format!("http://localhost:{port}/"),
        "http://100.64.0.1/".to_owned(),
    ] {
        bodies.push((
            "/api/monitors",
            json!({ "name": "egress probe", "kind": "http", "target": url, "keyword": "secret" }),
            "monitor.target",
        ));
    }
    for target in [format!("127.0.0.2:{port}"), format!("2130706434:{port}"), format!("localhost:{port}"), "10.0.0.7:5432".to_owned()] {
        bodies.push(("/api/monitors", json!({ "name": "egress scan", "kind": "tcp", "target": target }), "monitor.target"));
    }
    bodies.push((
        "/api/monitors",
        json!({ "name": "egress grpc", "kind": "grpc_health", "target": format!("[::1]:{port}") }),
        "monitor.target",
    ));
    for (kind, url) in [
        ("webhook", format!("http://0177.0.0.2:{port}/hook")),
        ("webhook", "http://[::ffff:169.254.169.254]/".to_owned()),
        ("discord", "http://169.254.169.254/api/webhooks/1/x".to_owned()),
    ] {
        bodies.push(("/api/notification-channels", json!({ "name": "egress inside", "kind": kind, "url": url }), "url"));
    }
    let (mut refused, mut wrong) = (0, Vec::new());
    for (path, body, field) in &bodies {
        let (status, answer) = call(http, reqwest::Method::POST, format!("{gw}{path}"), token, Some(body.clone())).await;
        if status == 400 && answer["error"]["details"]["field"] == *field {
            refused += 1;
        } else {
            wrong.push(format!("{body} -> {status} {answer}"));
        }
    }
    s.check(
        "every private literal form is refused with 400 naming the field",
        wrong.is_empty(),
        format!("{refused}/{} refused; {wrong:?}", bodies.len()),
    );
    let asked = json!({ "name": "egress internal", "kind": "http", "target": format!("{gw}/health/live"), "internal": true });
    let (status, _) = call(http, reqwest::Method::POST, format!("{gw}/api/monitors"), token, Some(asked)).await;
    s.check("no request can ask for an internal monitor (an unknown field: 422)", status == 422, format!("{status}"));
    let after = (count("/api/monitors").await, count("/api/notification-channels").await);
    s.check(
        "nothing was stored",
        after == (monitors_before, channels_before),
        format!("before {:?}, after {after:?}", (monitors_before, channels_before)),
    );

    // A redirect from the allowed address to another loopback one.
    let (front, front_hits) = match listener("127.0.0.1", Some(format!("http://{inside}/admin"))).await {
        Ok(l) => l,
        Err(e) => {
            s.check("a listener on 127.0.0.1", false, e.to_string());
            return s;
        }
    };
    let body = json!({ "name": "egress redirect", "kind": "http", "target": format!("http://{front}/"), "keyword": "secret", "interval_seconds": 3600 });
    let (_, monitor) = call(http, reqwest::Method::POST, format!("{gw}/api/monitors"), token, Some(body)).await;
    let mid = monitor["id"].as_str().unwrap_or_default().to_owned();
    let beats =
        until(http, format!("{gw}/api/monitors/{mid}/heartbeats"), token, |v| v["items"].as_array().is_some_and(|a| !a.is_empty())).await;
    let message = beats["items"][0]["message"].as_str().unwrap_or_default().to_owned();
    s.check(
        "a monitor redirected to 127.0.0.2 fails, saying why",
        beats["items"][0]["up"] == false && message.contains("redirect to") && message.contains("refused"),
        message,
    );
    let body = json!({ "name": "egress redirect", "kind": "webhook", "url": format!("http://{front}/hook") });
    let (_, channel) = call(http, reqwest::Method::POST, format!("{gw}/api/notification-channels"), token, Some(body)).await;
    let cid = channel["id"].as_str().unwrap_or_default().to_owned();
    let (_, sent) = call(http, reqwest::Method::POST, format!("{gw}/api/notification-channels/{cid}/test"), token, None).await;
    let nid = sent["id"].as_str().unwrap_or_default().to_owned();
    let detail = until(http, format!("{gw}/api/notifications/{nid}"), token, |v| v["notification"]["status"] == "dead").await;
    let error = detail["attempts"][0]["error"].as_str().unwrap_or_default().to_owned();
    s.check(
        "a webhook redirected to 127.0.0.2 fails for good, saying why",
        detail["notification"]["status"] == "dead" && error.starts_with("refused: redirect to"),
        error,
    );
    s.check(
        "nothing reached 127.0.0.2",
        inside_hits.load(Ordering::SeqCst) == 0 && front_hits.load(Ordering::SeqCst) >= 2,
        format!("127.0.0.2: {}, the allowed front: {}", inside_hits.load(Ordering::SeqCst), front_hits.load(Ordering::SeqCst)),
    );

    // A name resolving to a private address, when this machine has one.
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim().to_owned();
    let resolved: Vec<std::net::IpAddr> =
        tokio::net::lookup_host((host.as_str(), port)).await.map(|a| a.map(|a| a.ip()).collect()).unwrap_or_default();
    let loopback_one: std::net::IpAddr = [127, 0, 0, 1].into();
    let usable = !resolved.is_empty() && resolved.iter().all(|ip| *ip != loopback_one && is_private(*ip));
    if usable {
        let body = json!({ "name": "egress by name", "kind": "tcp", "target": format!("{host}:{port}"), "interval_seconds": 3600 });
        let (_, monitor) = call(http, reqwest::Method::POST, format!("{gw}/api/monitors"), token, Some(body)).await;
        let id = monitor["id"].as_str().unwrap_or_default().to_owned();
        let beats =
            until(http, format!("{gw}/api/monitors/{id}/heartbeats"), token, |v| v["items"].as_array().is_some_and(|a| !a.is_empty()))
                .await;
        let message = beats["items"][0]["message"].as_str().unwrap_or_default().to_owned();
        s.check(
            format!("a TCP monitor of {host} (resolving to {resolved:?}) is refused before connecting"),
            message.starts_with("refused: "),
            message,
        );
        let _ = call(http, reqwest::Method::DELETE, format!("{gw}/api/monitors/{id}"), token, None).await;
    } else {
        s.note(format!(
            "the name-resolution case is left to notify's tests (an injected resolver): {host:?} resolves to {resolved:?}, not to a refused private address"
        ));
    }
    for path in [format!("/api/monitors/{mid}"), format!("/api/notification-channels/{cid}")] {
        let _ = call(http, reqwest::Method::DELETE, format!("{gw}{path}"), token, None).await;
    }
    s
}

/// Loopback, private or link-local: what a machine's own name resolves to
/// when it is not public.
fn is_private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}
