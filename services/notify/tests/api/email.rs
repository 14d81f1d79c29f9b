//! Email over SMTP, against a small SMTP server in the test.

use std::sync::{Arc, Mutex};

use atmr_proto::notify::v1 as pb;
use kit::testing::TestBackend;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tonic::Code;

use crate::harness::{event, start};

/// Accepts mail on an ephemeral port and keeps every message's DATA; refuses
/// recipients at `refuse@…` with a permanent 550.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages: Arc<Mutex<Vec<String>>> = Arc::default();
    let store = messages.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = conn.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT") && upper.contains("REFUSE@") {
                        b"550 5.1.1 no such user\r\n"
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        store.lock().unwrap().push(data);
                        b"250 2.0.0 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, messages)
}

#[tokio::test]
async fn email_is_sent_over_smtp_and_a_refusal_is_final() {
    let (port, messages) = smtp_sink().await;
    let port = port.to_string();
    let s = start(
        TestBackend::Sqlite,
        &[
            ("NOTIFY_SMTP_HOST", "127.0.0.1"),
            ("NOTIFY_SMTP_PORT", &port),
            ("NOTIFY_SMTP_SECURITY", "none"),
            ("NOTIFY_SMTP_FROM", "atmr <alerts@atmr.test>"),
        ],
    )
    .await;
    let channel = |recipients: &[&str]| pb::CreateChannelRequest {
        name: format!("mail {}", recipients.len()),
        kind: pb::ChannelKind::Email as i32,
        recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        ..Default::default()
    };
    let err = s.create_channel(channel(&["ops@example.com", "not an address"])).await.unwrap_err();
    assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some("recipients[1]")));
    let mail = s.create_channel(channel(&["ops@example.com"])).await.unwrap();
    assert_eq!(mail.recipients, ["ops@example.com"]);

    let sent = s.send(pb::SendRequest { channel_id: mail.id.clone(), ..event("Regression of bug #4") }).await.unwrap();
    let done = s.until_status(&sent.notifications[0].id, pb::DeliveryStatus::Delivered).await;
    assert_eq!(done.attempts[0].response_code, Some(250));
    let data = messages.lock().unwrap()[0].clone();
    assert!(data.contains("Subject: [error] Regression of bug #4"), "{data}");
    assert!(data.contains("It came back.") && data.contains("Environment: production"), "{data}");
    assert!(data.contains("alerts@atmr.test"), "{data}");

    let refused = s.create_channel(pb::CreateChannelRequest { name: "refused".into(), ..channel(&["refuse@example.com"]) }).await.unwrap();
    let sent = s.send(pb::SendRequest { channel_id: refused.id, ..event("nobody home") }).await.unwrap();
    let dead = s.until_status(&sent.notifications[0].id, pb::DeliveryStatus::Dead).await;
    assert_eq!((dead.attempts.len(), dead.attempts[0].response_code), (1, Some(550)), "a 5xx SMTP reply is final");
}

#[tokio::test]
async fn without_an_smtp_server_email_channels_are_refused() {
    let s = start(TestBackend::Sqlite, &[]).await;
    let r = pb::CreateChannelRequest {
        name: "mail".into(),
        kind: pb::ChannelKind::Email as i32,
        recipients: vec!["ops@example.com".into()],
        ..Default::default()
    };
    let err = s.create_channel(r).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("NOTIFY_SMTP_HOST"), "{}", err.message());
}
