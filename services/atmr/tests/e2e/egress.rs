//! Private targets over REST, as a company admin would try them: the e2e
//! mesh allows 127.0.0.1 alone (its receivers listen there), and every other
//! spelling of this machine, the metadata addresses and the unspecified ones
//! answer 400 naming the field, with nothing stored; a webhook redirected to
//! another loopback address is refused, nothing reaching it; no request can
//! ask for an internal monitor.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use kit::testing::backends;
use serde_json::{Value, json};

use crate::mesh::{admin_token, start_mesh_with};

/// A listener on `ip` that counts connections, answering a redirect to
/// `location` when given.
async fn listener(ip: &str, location: Option<String>) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf).await;
            let answer = match &location {
                Some(to) => format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
                None => "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n".to_owned(),
            };
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn private_targets_answer_400_and_redirects_to_them_are_not_followed() {
    for backend in backends() {
        let mesh = start_mesh_with(backend, &[]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let token = admin_token(&http, &gw).await;
        let post = |path: &str, body: Value| http.post(format!("{gw}{path}")).bearer_auth(&token).json(&body).send();

        let mut monitors: Vec<Value> = [
            "http://2130706434/",
            "http://0177.0.0.2/",
            "http://0x7f.2/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.2]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://localhost/health/live",
        ]
        .iter()
        .map(|url| json!({ "name": "probe", "kind": "http", "target": url, "keyword": "ami-id" }))
        .collect();
        for target in ["127.0.0.2:22", "2130706434:5432", "localhost:6379", "10.0.0.7:5432"] {
            monitors.push(json!({ "name": "scan", "kind": "tcp", "target": target }));
        }
        monitors.push(json!({ "name": "grpc", "kind": "grpc_health", "target": "[::1]:50051" }));
        for body in monitors {
            let res = post("/api/monitors", body.clone()).await.unwrap();
            let status = res.status();
            let answer: Value = res.json().await.unwrap();
            assert_eq!(
                (status.as_u16(), &answer["error"]["details"]["field"]),
                (400, &json!("monitor.target")),
                "{backend:?} {body}: {answer}"
            );
        }
        // The flag is no part of the API: asking for it is refused as an
        // unknown field (422, the gateway's answer to a body it cannot read).
        let asked = json!({ "name": "sneaky", "kind": "http", "target": format!("{gw}/health/live"), "internal": true });
        assert_eq!(post("/api/monitors", asked).await.unwrap().status(), 422, "{backend:?}");
        for (kind, url) in
            [("webhook", "http://0177.0.0.2/hook"), ("webhook", "http://[::ffff:169.254.169.254]/"), ("discord", "http://169.254.169.254/")]
        {
            let res = post("/api/notification-channels", json!({ "name": "inside", "kind": kind, "url": url })).await.unwrap();
            let status = res.status();
            let answer: Value = res.json().await.unwrap();
            assert_eq!((status.as_u16(), &answer["error"]["details"]["field"]), (400, &json!("url")), "{backend:?} {url}: {answer}");
        }
        let listed: Value = http.get(format!("{gw}/api/monitors")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(listed["items"], json!([]), "{backend:?}: nothing stored");

        // A receiver on the allowed address that redirects to another loopback one.
        let (inside, inside_hits) = listener("127.0.0.2", None).await;
        let (front, _) = listener("127.0.0.1", Some(format!("http://{inside}/"))).await;
        let created =
            post("/api/notification-channels", json!({ "name": "front", "kind": "webhook", "url": format!("http://{front}/hook") }));
        let channel: Value = created.await.unwrap().json().await.unwrap();
        let id = channel["id"].as_str().unwrap_or_else(|| panic!("{channel}"));
        let tested = http.post(format!("{gw}/api/notification-channels/{id}/test")).bearer_auth(&token).send().await.unwrap();
        let tested: Value = tested.json().await.unwrap();
        let nid = tested["id"].as_str().unwrap().to_owned();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        let detail = loop {
            let d: Value =
                http.get(format!("{gw}/api/notifications/{nid}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            if d["notification"]["status"] == "dead" {
                break d;
            }
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: never refused: {d}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let error = detail["attempts"][0]["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(&format!("refused: redirect to http://{inside}/ refused")), "{backend:?}: {detail}");
        assert_eq!(inside_hits.load(Ordering::SeqCst), 0, "{backend:?}: nothing reached 127.0.0.2");
        mesh.gateway.stop().await.unwrap();
    }
}
