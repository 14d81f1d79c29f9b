//! Routing, idempotency, retries, dead letters and replay, signatures, and
//! leases that outlive their worker.

use std::collections::HashMap;

use atmr_proto::notify::v1::{self as pb, ListNotificationsRequest};
use kit::testing::{TestBackend, TestDb, backends};
use sea_orm::ConnectionTrait as _;

use crate::harness::{Receiver, event, start, start_on};

#[tokio::test]
async fn without_routes_a_notification_goes_to_the_log() {
    for backend in backends() {
        let s = start(backend, &[]).await;
        let sent = s.send(event("Regression of bug #4")).await.unwrap();
        assert!(!sent.duplicate);
        let n = &sent.notifications[0];
        assert_eq!((sent.notifications.len(), n.channel_id.as_str()), (1, "log"), "{backend:?}");
        let done = s.until_status(&n.id, pb::DeliveryStatus::Delivered).await;
        assert_eq!(done.attempts.len(), 1);
        assert!(done.attempts[0].success && done.notification.unwrap().delivered_time.is_some());
    }
}

#[tokio::test]
async fn the_same_idempotency_key_never_sends_twice() {
    for backend in backends() {
        let s = start(backend, &[]).await;
        let hook = Receiver::start().await;
        let ch = s.webhook("ops", &hook).await;
        let r = pb::SendRequest { channel_id: ch.id.clone(), idempotency_key: "bugs.regression:4:1".into(), ..event("Regression") };
        let first = s.send(r.clone()).await.unwrap();
        let again = s.send(r).await.unwrap();
        assert!(!first.duplicate && again.duplicate, "{backend:?}");
        assert_eq!(first.notifications[0].id, again.notifications[0].id);
        s.until_status(&first.notifications[0].id, pb::DeliveryStatus::Delivered).await;
        assert_eq!(hook.received().len(), 1, "delivered once");
    }
}

#[tokio::test]
async fn discord_gets_embeds_and_its_429_and_500s_are_retried() {
    for backend in backends() {
        let s = start(backend, &[]).await;
        let discord = Receiver::start().await;
        let ch = s
            .create_channel(pb::CreateChannelRequest {
                name: "discord".into(),
                kind: pb::ChannelKind::Discord as i32,
                url: format!("{}/api/webhooks/1/x", discord.url),
                ..Default::default()
            })
            .await
            .unwrap();
        s.create_route(pb::CreateRouteRequest {
            event_type: "bugs.regression".into(),
            min_severity: pb::Severity::Warning as i32,
            channel_id: ch.id.clone(),
        })
        .await
        .unwrap();
        // A first message goes through; the second meets a rate limit and two errors.
        discord.answer(&[
            (204, ""),
            (429, r#"{"message": "You are being rate limited.", "retry_after": 0.05, "global": false}"#),
            (500, ""),
            (502, ""),
        ]);
        let first = s.send(pb::SendRequest { body: "b".repeat(5000), ..event("x") }).await.unwrap();
        assert_eq!(first.notifications[0].channel_id, ch.id, "{backend:?}: routed by event type and severity");
        s.until_status(&first.notifications[0].id, pb::DeliveryStatus::Delivered).await;
        let embed = &discord.received()[0].body["embeds"][0];
        assert_eq!(embed["description"].as_str().unwrap().chars().count(), 4096, "Discord's description limit");
        assert_eq!(embed["color"], 0xe67e22, "error colour");
        assert_eq!(embed["fields"][0]["name"], "Environment");

        let second = s.send(event("Regression of bug #9")).await.unwrap();
        let done = s.until_status(&second.notifications[0].id, pb::DeliveryStatus::Delivered).await;
        let codes: Vec<Option<i32>> = done.attempts.iter().map(|a| a.response_code).collect();
        assert_eq!(codes, [Some(429), Some(500), Some(502), Some(204)], "{backend:?}");
        // The 429 asked for 50 ms: the next attempt waited at least that.
        let gap = done.attempts[1].start_time.unwrap().seconds * 1_000_000_000 + i64::from(done.attempts[1].start_time.unwrap().nanos)
            - (done.attempts[0].start_time.unwrap().seconds * 1_000_000_000 + i64::from(done.attempts[0].start_time.unwrap().nanos));
        assert!(gap >= 50_000_000, "retry_after honoured: {gap} ns");
        // Below the route's severity: the log.
        let info = s.send(pb::SendRequest { severity: pb::Severity::Info as i32, ..event("minor") }).await.unwrap();
        assert_eq!(info.notifications[0].channel_id, "log");
    }
}

#[tokio::test]
async fn out_of_attempts_a_notification_is_dead_and_can_be_replayed() {
    for backend in backends() {
        let s = start(backend, &[("NOTIFY_MAX_ATTEMPTS", "2")]).await;
        let hook = Receiver::start().await;
        hook.set_default(503);
        let ch = s.webhook("hook", &hook).await;
        let sent = s.send(pb::SendRequest { channel_id: ch.id.clone(), ..event("down") }).await.unwrap();
        let id = sent.notifications[0].id.clone();
        let dead = s.until_status(&id, pb::DeliveryStatus::Dead).await;
        assert_eq!(dead.attempts.len(), 2, "{backend:?}");
        assert_eq!(dead.notification.unwrap().last_error.as_deref(), Some("HTTP 503 Service Unavailable"));
        let listed = s.list(ListNotificationsRequest { statuses: vec![pb::DeliveryStatus::Dead as i32], ..Default::default() }).await;
        assert_eq!(listed.notifications.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);

        hook.set_default(200);
        let req = pb::ReplayDeadNotificationsRequest { channel_id: Some(ch.id.clone()), ..Default::default() };
        let replayed = s.client.clone().replay_dead_notifications(kit::grpc::request(req, &s.admin(1))).await.unwrap().into_inner();
        assert_eq!(replayed.replayed, 1);
        let back = s.until_status(&id, pb::DeliveryStatus::Delivered).await;
        assert_eq!(back.attempts.len(), 3, "the replay is a third attempt, on the record");
        // A delivered notification is not retried.
        let err = s
            .client
            .clone()
            .retry_notification(kit::grpc::request(pb::RetryNotificationRequest { notification_id: id.clone() }, &s.admin(1)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition);
        // Another company sees none of it.
        let foreign = pb::GetNotificationRequest { notification_id: id };
        let err = s.client.clone().get_notification(kit::grpc::request(foreign, &s.admin(2))).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
    }
}

#[tokio::test]
async fn webhooks_are_signed_and_a_refused_request_is_not_retried() {
    let s = start(TestBackend::Sqlite, &[]).await;
    let hook = Receiver::start().await;
    let secret = "whsec-0123456789";
    let ch = s
        .create_channel(pb::CreateChannelRequest {
            name: "signed".into(),
            kind: pb::ChannelKind::Webhook as i32,
            url: format!("{}/in", hook.url),
            secret: secret.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ch.has_secret);
    let sent = s.send(pb::SendRequest { channel_id: ch.id.clone(), ..event("signed") }).await.unwrap();
    s.until_status(&sent.notifications[0].id, pb::DeliveryStatus::Delivered).await;
    let got = &hook.received()[0];
    let header = |name: &str| got.headers.get(name).unwrap().to_str().unwrap().to_owned();
    let timestamp: i64 = header(atmr_notify::webhook_headers::TIMESTAMP).parse().unwrap();
    let expected = format!("sha256={}", atmr_notify::webhook_signature(secret, timestamp, &got.raw));
    assert_eq!(header(atmr_notify::webhook_headers::SIGNATURE), expected, "the receiver can check the signature");
    assert_eq!(header(atmr_notify::webhook_headers::ID), sent.notifications[0].id);
    assert_eq!(got.body["title"], "signed");

    hook.answer(&[(400, "bad payload")]);
    let refused = s.send(pb::SendRequest { channel_id: ch.id, ..event("refused") }).await.unwrap();
    let dead = s.until_status(&refused.notifications[0].id, pb::DeliveryStatus::Dead).await;
    assert_eq!(dead.attempts.len(), 1, "a 400 will not get better by retrying");
}

#[tokio::test]
async fn a_row_whose_worker_died_is_delivered_once_by_another() {
    for backend in backends() {
        let hook = Receiver::start().await;
        // An instance with no workers takes the Send; its row is then "claimed" by a
        // worker that dies: status sending, lease already run out.
        let idle = start(backend, &[("NOTIFY_WORKERS", "0")]).await;
        let ch = idle.webhook("hook", &hook).await;
        let sent = idle.send(pb::SendRequest { channel_id: ch.id, ..event("orphan") }).await.unwrap();
        let id = sent.notifications[0].id.clone();
        let db = kit::db::connect(&idle.db.url).await.unwrap();
        db.execute_unprepared(&format!(
            "UPDATE notification SET status = 'sending', attempts = 1, lease_until = '2000-01-01T00:00:00Z' WHERE id = '{id}'"
        ))
        .await
        .unwrap();
        let shared = TestDb::borrowed(&idle.db.url);
        let worker = start_on(shared, &[]).await;
        let done = worker.until_status(&id, pb::DeliveryStatus::Delivered).await;
        assert_eq!(done.notification.unwrap().attempts, 2, "{backend:?}: the dead worker's attempt counts");
        assert_eq!(hook.received().len(), 1);
    }
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_notification_once() {
    for backend in backends() {
        let hook = Receiver::start().await;
        let a = start(backend, &[("NOTIFY_BATCH", "4")]).await;
        let b = start_on(TestDb::borrowed(&a.db.url), &[("NOTIFY_BATCH", "4")]).await;
        let ch = a.webhook("hook", &hook).await;
        let mut ids = Vec::new();
        for i in 0..60 {
            let via = if i % 2 == 0 { &a } else { &b };
            ids.push(
                via.send(pb::SendRequest { channel_id: ch.id.clone(), ..event(&format!("n{i}")) }).await.unwrap().notifications[0]
                    .id
                    .clone(),
            );
        }
        for id in &ids {
            a.until_status(id, pb::DeliveryStatus::Delivered).await;
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in hook.received() {
            *seen.entry(r.body["id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
        assert_eq!(seen.len(), 60, "{backend:?}: every notification delivered");
        assert!(seen.values().all(|n| *n == 1), "{backend:?}: none twice: {seen:?}");
    }
}

#[tokio::test]
async fn the_backlog_gauges_count_what_waits_and_how_long() {
    // No worker in this process: what is accepted waits, as when delivery stalls.
    let s = start(TestBackend::Sqlite, &[("NOTIFY_WORKERS", "0"), ("NOTIFY_BACKLOG_REFRESH_MS", "20")]).await;
    for key in ["a", "b"] {
        s.send(pb::SendRequest { idempotency_key: key.into(), ..event("Stuck") }).await.unwrap();
    }
    let metrics = format!("{}/metrics", s.svc.admin_url());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let text = loop {
        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        if text.lines().any(|l| l == r#"notify_backlog{component="notify"} 2"#) || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(text.lines().any(|l| l == r#"notify_backlog{component="notify"} 2"#), "{text}");
    let oldest: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix(r#"notify_backlog_oldest_seconds{component="notify"} "#))
        .expect("the oldest-age gauge is exported")
        .parse()
        .unwrap();
    assert!((0.0..60.0).contains(&oldest), "{oldest}");
}
