//! Channels and routes: a channel's target checked for its kind (an http(s)
//! URL the egress policy allows, a webhook's secret, email recipients when an
//! SMTP server is configured), names unique in the company, routes to the
//! company's own channels only.

use kit::clock::SharedClock;
use lettre::message::Mailbox;

use crate::{
    domain::{
        channel::{ChannelKind, ChannelTarget},
        notification::Severity,
    },
    error::Error,
    outbox::egress::Egress,
    store::{
        Store,
        channels::{ChannelChange, NewChannel, NewRoute, RouteChange},
        entities::{notify_channel, notify_route},
    },
};

/// A channel to create; the name and kind checked, the target not yet.
pub struct ChannelDraft {
    pub name: String,
    pub kind: ChannelKind,
    pub url: String,
    pub secret: String,
    pub recipients: Vec<String>,
}

/// An update of a route as asked, its event type and severity checked
/// (`None`: unchanged).
pub struct RoutePatch {
    pub event_type: Option<String>,
    pub min_severity: Option<Severity>,
    pub channel_id: Option<String>,
    pub enabled: Option<bool>,
}

/// An update of a channel as asked (`None` and empty: unchanged).
pub struct ChannelPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub recipients: Vec<String>,
    pub enabled: Option<bool>,
}

pub struct Channels {
    pub store: Store,
    pub clock: SharedClock,
    /// Whether an SMTP server is configured: email channels need one.
    pub email: bool,
    pub egress: Egress,
}

impl Channels {
    pub async fn create(&self, company_id: i64, d: ChannelDraft) -> Result<notify_channel::Model, Error> {
        let target = self.target(d.kind, &d.url, &d.secret, &d.recipients)?;
        let new = NewChannel { company_id, name: d.name, kind: d.kind, target, now: self.clock.now() };
        self.store.create_channel(new).await
    }

    pub async fn list(&self, company_id: i64) -> Result<Vec<notify_channel::Model>, Error> {
        self.store.channels(company_id).await
    }

    /// Changes channel `id`; a new URL, secret or recipients are checked with
    /// the current values of the others, for the channel's kind.
    pub async fn update(&self, company_id: i64, id: &str, p: ChannelPatch) -> Result<notify_channel::Model, Error> {
        let current = self.store.channel(company_id, id.trim()).await?;
        let kind = ChannelKind::stored(&current.id, &current.kind)?;
        let name = p.name.as_deref().map(|n| kit::input::required_line("name", n, 100)).transpose()?;
        let target = if p.url.is_some() || p.secret.is_some() || !p.recipients.is_empty() {
            let current_recipients: Vec<String> = current.recipients.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect();
            Some(self.target(
                kind,
                p.url.as_deref().unwrap_or(current.url.as_deref().unwrap_or_default()),
                p.secret.as_deref().unwrap_or(current.secret.as_deref().unwrap_or_default()),
                if p.recipients.is_empty() { &current_recipients } else { &p.recipients },
            )?)
        } else {
            None
        };
        self.store.update_channel(&current, ChannelChange { name, target, enabled: p.enabled, now: self.clock.now() }).await
    }

    /// Deletes a channel and its routes; its notifications stay, for the record.
    pub async fn delete(&self, company_id: i64, id: &str) -> Result<(), Error> {
        self.store.delete_channel(company_id, id.trim()).await
    }

    /// Routes `event_type` at `min_severity` and above to channel `channel_id`
    /// (as given) of the company.
    pub async fn create_route(
        &self,
        company_id: i64,
        event_type: String,
        min_severity: Severity,
        channel_id: &str,
    ) -> Result<notify_route::Model, Error> {
        let channel = self.routed_channel(company_id, channel_id).await?;
        let new = NewRoute { company_id, event_type, min_severity, channel_id: channel, now: self.clock.now() };
        Ok(self.store.create_route(new).await?)
    }

    /// Changes route `id` of the company: what the patch sets, a new channel
    /// being one of the company's.
    pub async fn update_route(&self, company_id: i64, id: &str, p: RoutePatch) -> Result<notify_route::Model, Error> {
        // Unknown route first: NOT_FOUND before any complaint about the patch.
        let current = self.store.route(company_id, id.trim()).await?;
        let channel_id = match p.channel_id.as_deref() {
            Some(channel_id) => Some(self.routed_channel(company_id, channel_id).await?),
            None => None,
        };
        let change =
            RouteChange { event_type: p.event_type, min_severity: p.min_severity, channel_id, enabled: p.enabled, now: self.clock.now() };
        self.store.update_route(company_id, &current.id, change).await
    }

    /// The id of the company's channel `channel_id` (as given) a route may
    /// send to; another company's or none is a bad `channel_id`.
    async fn routed_channel(&self, company_id: i64, channel_id: &str) -> Result<String, Error> {
        let channel = self.store.channel(company_id, channel_id.trim()).await.map_err(|e| match e {
            Error::NotFound(_) => Error::invalid("channel_id", format!("unknown channel {channel_id:?}")),
            other => other,
        })?;
        Ok(channel.id)
    }

    pub async fn routes(&self, company_id: i64) -> Result<Vec<notify_route::Model>, Error> {
        Ok(self.store.routes(company_id).await?)
    }

    pub async fn delete_route(&self, company_id: i64, id: &str) -> Result<(), Error> {
        self.store.delete_route(company_id, id.trim()).await
    }

    /// The URL, secret and recipients a channel of `kind` needs, checked.
    fn target(&self, kind: ChannelKind, url_value: &str, secret: &str, recipients: &[String]) -> Result<ChannelTarget, Error> {
        match kind {
            ChannelKind::Email => {
                if !self.email {
                    return Err(Error::FailedPrecondition(
                        "email channels need an SMTP server: set NOTIFY_SMTP_HOST (and NOTIFY_SMTP_*)".to_owned(),
                    ));
                }
                Ok(ChannelTarget { url: None, secret: None, recipients: email_recipients(recipients)?.join(",") })
            }
            ChannelKind::Log => Ok(ChannelTarget::default()),
            ChannelKind::Discord => Ok(ChannelTarget { url: Some(url("url", url_value, &self.egress)?), ..ChannelTarget::default() }),
            ChannelKind::Webhook => {
                let secret = kit::input::optional_line("secret", secret, 200)?;
                let url = url("url", url_value, &self.egress)?;
                Ok(ChannelTarget { url: Some(url), secret: (!secret.is_empty()).then_some(secret), recipients: String::new() })
            }
        }
    }
}

/// An http(s) URL with a host the egress policy does not forbid on its face
/// (its refusal names the policy's rule).
fn url(field: &str, value: &str, egress: &Egress) -> Result<String, Error> {
    let parsed = reqwest::Url::parse(value.trim()).map_err(|e| Error::invalid(field, format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(field, "must be an http:// or https:// URL with a host"));
    }
    egress.check_url(&parsed).map_err(|e| Error::refused(field, crate::outbox::egress::REFUSED_RULE, e))?;
    Ok(parsed.to_string())
}

/// Checks email recipients: 1..=50 addresses, each one mailbox.
fn email_recipients(values: &[String]) -> Result<Vec<String>, Error> {
    if values.is_empty() {
        return Err(Error::invalid("recipients", "an email channel needs at least one recipient"));
    }
    if values.len() > 50 {
        return Err(Error::invalid("recipients", format!("has {} addresses; at most 50", values.len())));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = v.trim();
            v.parse::<Mailbox>()
                .map(|_| v.to_owned())
                .map_err(|e| Error::invalid(format!("recipients[{i}]"), format!("{v:?} is not an email address: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: Error) -> String {
        match e {
            Error::Invalid(i) => i.field,
            other => panic!("not a field error: {other}"),
        }
    }

    #[test]
    fn recipients_are_checked() {
        assert_eq!(email_recipients(&["ops@example.com".into(), " Ana <ana@example.com> ".into()]).unwrap().len(), 2);
        assert_eq!(field(email_recipients(&["ops@example.com".into(), "not an address".into()]).unwrap_err()), "recipients[1]");
        assert_eq!(field(email_recipients(&[]).unwrap_err()), "recipients");
    }
}
