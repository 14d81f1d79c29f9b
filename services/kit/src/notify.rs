//! What a service tells people through the `notify` service: a [`Notice`]
//! (event type, severity, title, body, fields, idempotency key) in plain Rust.
//! A service never sends one itself: it commits it to its outbox in the
//! transaction of the change that caused it (`kit::outbox`), and the outbox's
//! relay hands it to notify with [`Sender`], the one place where a notice
//! becomes a `SendRequest`.

use std::{sync::Arc, time::Duration};

use atmr_proto::notify::v1::{self as pb, notify_service_client::NotifyServiceClient};
use serde::{Deserialize, Serialize};
use tonic::transport::Channel;

use crate::{Component, auth::ComponentSigner, input::Invalid};

/// What notify's `Send` accepts at most (it refuses more, naming the field).
pub mod limits {
    pub const EVENT_TYPE: usize = 100;
    pub const TITLE: usize = 256;
    /// In bytes.
    pub const BODY: usize = 16 * 1024;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const KEY: usize = 200;
}

/// How serious a notice is; notify routes by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    /// Its rank as notify stores it (1 info .. 4 critical).
    pub fn rank(self) -> i16 {
        match self {
            Severity::Info => 1,
            Severity::Warning => 2,
            Severity::Error => 3,
            Severity::Critical => 4,
        }
    }

    pub fn from_rank(rank: i16) -> Option<Self> {
        [Severity::Info, Severity::Warning, Severity::Error, Severity::Critical].into_iter().find(|s| s.rank() == rank)
    }
}

/// One name/value line of a notice (an embed field on Discord).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

impl Field {
    pub fn new(name: &str, value: impl Into<String>, inline: bool) -> Self {
        Self { name: name.to_owned(), value: value.into(), inline }
    }
}

/// A notification to hand to notify, routed there by event type and severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `a-z 0-9 . _ -`, e.g. `bugs.regression`.
    pub event_type: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub fields: Vec<Field>,
    /// The same for every retry of this one event: notify stores it once.
    pub idempotency_key: String,
}

impl Notice {
    /// The notice as notify's `Send` accepts it. The event type and the key
    /// are the caller's code and must already be right (an error names the
    /// field); what comes from people's data — title, body, fields — is fitted
    /// instead (control characters become spaces, overlong text is cut with an
    /// ellipsis, an empty value becomes "-"), so that an alert is never refused
    /// for the text it quotes.
    pub fn fitted(&self) -> Result<Notice, Invalid> {
        let event_type = crate::input::required_line("event_type", &self.event_type, limits::EVENT_TYPE)?;
        if !event_type.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
            return Err(Invalid::new("event_type", format!("{event_type:?} may only hold a-z, 0-9, '.', '_' and '-'")));
        }
        let idempotency_key = crate::input::required_line("idempotency_key", &self.idempotency_key, limits::KEY)?;
        let title = match line(&self.title, limits::TITLE) {
            t if t.is_empty() => event_type.clone(),
            t => t,
        };
        let body: String = self.body.chars().map(|c| if c.is_control() && !matches!(c, '\n' | '\r' | '\t') { ' ' } else { c }).collect();
        let fields = self
            .fields
            .iter()
            .take(limits::FIELDS)
            .map(|f| Field {
                name: or_dash(line(&f.name, limits::FIELD_NAME)),
                value: or_dash(line(&f.value, limits::FIELD_VALUE)),
                inline: f.inline,
            })
            .collect();
        Ok(Notice { event_type, severity: self.severity, title, body: cut_bytes(body, limits::BODY), fields, idempotency_key })
    }
}

/// `s` on one line, trimmed, at most `max` characters (the last one `…` when cut).
fn line(s: &str, max: usize) -> String {
    let one: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let one = one.trim();
    if one.chars().count() <= max {
        return one.to_owned();
    }
    let mut cut: String = one.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".to_owned() } else { s }
}

/// `s` in at most `max` bytes, cut at a character boundary with `…`.
fn cut_bytes(s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max - '…'.len_utf8();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The relay's hand-over: `Send` with the component's call token for the
/// notice's company.
#[derive(Clone)]
pub(crate) struct Sender {
    client: NotifyServiceClient<Channel>,
    /// Signs the calls as the component the notices come from.
    signer: Arc<ComponentSigner>,
}

impl Sender {
    /// A sender to notify at `url` (connected on first use, over `tls` for an
    /// `https://` URL), each call bounded by `timeout`.
    pub(crate) fn connect(url: &str, timeout: Duration, tls: &crate::tls::TlsConfig, signer: Arc<ComponentSigner>) -> anyhow::Result<Self> {
        Ok(Self { client: NotifyServiceClient::new(crate::grpc::lazy_channel(url, timeout, tls)?), signer })
    }

    /// Hands `notice` of `company_id` to notify; Ok once notify has stored it
    /// (or had it already, by its key).
    pub(crate) async fn send(&self, company_id: i64, notice: &Notice) -> Result<(), tonic::Status> {
        let request = pb::SendRequest {
            channel_id: String::new(),
            event_type: notice.event_type.clone(),
            title: notice.title.clone(),
            body: notice.body.clone(),
            severity: match notice.severity {
                Severity::Info => pb::Severity::Info,
                Severity::Warning => pb::Severity::Warning,
                Severity::Error => pb::Severity::Error,
                Severity::Critical => pb::Severity::Critical,
            } as i32,
            fields: notice.fields.iter().map(|f| pb::Field { name: f.name.clone(), value: f.value.clone(), inline: f.inline }).collect(),
            idempotency_key: notice.idempotency_key.clone(),
        };
        // A token good for this call: a notice may wait longer than a token lives.
        let token = self.signer.token_for(Component::Notify, company_id);
        self.client.clone().send(crate::grpc::request(request, &token)).await.map(|_| ())
    }
}

/// Worth another try soon: notify was unreachable, overloaded or slow. Other
/// refusals are retried too (a notice is never dropped), but logged as errors:
/// they need someone to look.
pub(crate) fn transient(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable
            | tonic::Code::DeadlineExceeded
            | tonic::Code::ResourceExhausted
            | tonic::Code::Aborted
            | tonic::Code::Cancelled
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            event_type: "bugs.regression".into(),
            severity: Severity::Error,
            title: "Regression".into(),
            body: "body".into(),
            fields: vec![Field::new("Environment", "", true)],
            idempotency_key: "bugs.regression:1:1".into(),
        }
    }

    #[test]
    fn people_s_text_is_fitted_and_the_code_s_parts_are_checked() {
        let long = Notice {
            title: format!("line one\nline two {}", "x".repeat(400)),
            body: format!("a\u{7}b\n{}", "é".repeat(10_000)),
            fields: (0..30).map(|i| Field::new(&format!("f{i}"), "v".repeat(2_000), false)).collect(),
            ..notice()
        };
        let fitted = long.fitted().unwrap();
        assert!(fitted.title.starts_with("line one line two ") && fitted.title.ends_with('…'), "{}", fitted.title);
        assert_eq!(fitted.title.chars().count(), limits::TITLE);
        assert!(fitted.body.len() <= limits::BODY && fitted.body.starts_with("a b\n") && fitted.body.ends_with('…'));
        assert_eq!(fitted.fields.len(), limits::FIELDS);
        assert!(fitted.fields.iter().all(|f| f.value.chars().count() == limits::FIELD_VALUE));
        assert_eq!(notice().fitted().unwrap().fields[0].value, "-", "an empty value would be refused");
        assert_eq!(Notice { title: " ".into(), ..notice() }.fitted().unwrap().title, "bugs.regression");

        assert_eq!(Notice { event_type: "Bugs Regression".into(), ..notice() }.fitted().unwrap_err().field, "event_type");
        assert_eq!(Notice { idempotency_key: String::new(), ..notice() }.fitted().unwrap_err().field, "idempotency_key");
        assert_eq!(Notice { idempotency_key: "k".repeat(201), ..notice() }.fitted().unwrap_err().field, "idempotency_key");
    }

    #[test]
    fn severities_keep_notify_s_ranks() {
        for s in [Severity::Info, Severity::Warning, Severity::Error, Severity::Critical] {
            assert_eq!(Severity::from_rank(s.rank()), Some(s));
            assert_eq!(s.rank() as i32, pb::Severity::from_str_name(&format!("SEVERITY_{:?}", s).to_uppercase()).unwrap() as i32);
        }
        assert_eq!(Severity::from_rank(0), None);
    }
}
