//! Email over SMTP with lettre: a plain-text message per notification, to the
//! channel's recipients. The server and credentials come from the environment
//! (`NOTIFY_SMTP_*`); channels hold only their recipients.

use std::time::Duration;

use kit::{ConfigError, Env};
use lettre::{
    AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::{authentication::Credentials, client::Tls, client::TlsParameters},
};

use crate::{
    domain::notification::{Field, Severity},
    outbox::delivery::outcome::Outcome,
    store::entities::{notification, notify_channel},
};

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on the same host or network only.
    None,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: Mailbox,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpConfig {
    /// `NOTIFY_SMTP_HOST` (unset: no email), `NOTIFY_SMTP_PORT` (587),
    /// `NOTIFY_SMTP_SECURITY` (`starttls` | `tls` | `none`), `NOTIFY_SMTP_USERNAME`,
    /// `NOTIFY_SMTP_PASSWORD`, `NOTIFY_SMTP_FROM` (`atmr <alerts@localhost>`).
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(host) = env.get("NOTIFY_SMTP_HOST").map(str::trim).filter(|h| !h.is_empty()) else { return Ok(None) };
        let security = match env.get("NOTIFY_SMTP_SECURITY").unwrap_or("starttls") {
            "starttls" => Security::StartTls,
            "tls" => Security::Tls,
            "none" => Security::None,
            other => return Err(ConfigError::new("NOTIFY_SMTP_SECURITY", other, "starttls, tls or none")),
        };
        let default_port = if security == Security::Tls { 465 } else { 587 };
        let from_raw = env.get("NOTIFY_SMTP_FROM").unwrap_or("atmr <alerts@localhost>");
        let from =
            from_raw.parse().map_err(|_| ConfigError::new("NOTIFY_SMTP_FROM", from_raw, "a mailbox like `atmr <alerts@example.com>`"))?;
        Ok(Some(Self {
            host: host.to_owned(),
            port: env.u64_in("NOTIFY_SMTP_PORT", default_port, 1..=65_535)? as u16,
            security,
            username: env.get("NOTIFY_SMTP_USERNAME").filter(|v| !v.is_empty()).map(str::to_owned),
            password: env.get("NOTIFY_SMTP_PASSWORD").filter(|v| !v.is_empty()).map(str::to_owned),
            from,
        }))
    }
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig, timeout: Duration) -> anyhow::Result<Self> {
        let tls = || TlsParameters::new(cfg.host.clone());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host).port(cfg.port).timeout(Some(timeout));
        builder = match cfg.security {
            Security::StartTls => builder.tls(Tls::Required(tls()?)),
            Security::Tls => builder.tls(Tls::Wrapper(tls()?)),
            Security::None => builder.tls(Tls::None),
        };
        if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self { transport: builder.build(), from: cfg.from.clone() })
    }

    /// Sends `n` to the channel's recipients: the title as the subject, the
    /// body, then the fields and where the notification came from.
    pub async fn deliver(&self, channel: &notify_channel::Model, n: &notification::Model, severity: Severity, fields: &[Field]) -> Outcome {
        let recipients: Vec<String> = channel.recipients.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect();
        let mut body = n.body.clone();
        for f in fields {
            body.push_str(&format!("\n{}: {}", f.name, f.value));
        }
        body.push_str(&format!("\n\n{} · {} · {}", n.event_type, severity.label(), n.created_at.to_rfc3339()));
        self.send(&recipients, &format!("[{}] {}", severity.label(), n.title), body).await
    }

    /// Sends one plain-text message to every recipient.
    async fn send(&self, recipients: &[String], subject: &str, body: String) -> Outcome {
        let mut message = Message::builder().from(self.from.clone()).subject(subject).header(ContentType::TEXT_PLAIN);
        for r in recipients {
            match r.parse::<Mailbox>() {
                Ok(m) => message = message.to(m),
                Err(e) => return Outcome { permanent: true, error: Some(format!("recipient {r:?}: {e}")), ..Outcome::default() },
            }
        }
        let message = match message.body(body) {
            Ok(m) => m,
            Err(e) => return Outcome { permanent: true, error: Some(format!("message: {e}")), ..Outcome::default() },
        };
        match self.transport.send(message).await {
            Ok(res) => Outcome { success: true, code: Some(i32::from(u16::from(res.code()))), ..Outcome::default() },
            Err(e) => Outcome {
                code: e.status().map(|c| i32::from(u16::from(c))),
                error: Some(format!("SMTP: {e}")),
                permanent: e.is_permanent(),
                ..Outcome::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_not_printed() {
        let mut env = Env::default();
        env.set("NOTIFY_SMTP_HOST", "smtp.example.com");
        env.set("NOTIFY_SMTP_PASSWORD", "hunter2");
        let cfg = SmtpConfig::from_env(&env).unwrap().unwrap();
        assert_eq!((cfg.port, cfg.security), (587, Security::StartTls));
        assert!(!format!("{cfg:?}").contains("hunter2"));
        env.set("NOTIFY_SMTP_SECURITY", "ssl");
        assert!(SmtpConfig::from_env(&env).is_err());
    }
}
