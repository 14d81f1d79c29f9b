//! The outbox's filter as the notification pages read it from a query string
//! or a form: a status (notify's vocabulary, or every one), a channel, an
//! event type and a period of local days in the company's zone, and the links
//! that keep it while changing one part (a tab, a page).

use atmr_proto::{common::v1::TimeRange, notify::v1 as pb};
use chrono::{NaiveDate, TimeZone as _};
use serde::Deserialize;

use super::{
    form::{self, Errors},
    format::Fmt,
};

/// notify's delivery statuses, in proto order (index = enum number).
pub const STATUSES: [&str; 5] = ["unspecified", "pending", "sending", "delivered", "dead"];

/// The filter as typed (every value a string, empty meaning "any").
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FilterQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: String,
}

/// The filter, read: what notify is asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// `None`: every status.
    pub status: Option<pb::DeliveryStatus>,
    pub channel_id: Option<String>,
    pub event_type: Option<String>,
    pub created: Option<TimeRange>,
    /// From 1.
    pub page: i32,
}

impl FilterQuery {
    /// The filter, with an error beside each input that cannot be read (a
    /// status outside notify's vocabulary, a date that is not one, a period
    /// that ends before it starts). The event type is notify's to check.
    pub fn read(&self, fmt: &Fmt, errors: &mut Errors) -> Filter {
        let status = match self.status.trim() {
            "" => None,
            s => match STATUSES.iter().skip(1).position(|n| *n == s) {
                Some(i) => pb::DeliveryStatus::try_from(i as i32 + 1).ok(),
                None => {
                    errors.add("status", fmt.t("form-bad-choice"));
                    None
                }
            },
        };
        let mut day = |raw: &str, input: &str| match raw.trim() {
            "" => None,
            d => form::date(d).or_else(|| {
                errors.add(input, fmt.t("form-bad-date"));
                None
            }),
        };
        let (from, to) = (day(&self.from, "from"), day(&self.to, "to"));
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            errors.add("to", fmt.t("notifications-period-backwards"));
        }
        let page = match self.page.trim() {
            "" => 1,
            p => p.parse::<i32>().ok().filter(|p| (1..=100_000).contains(p)).unwrap_or_else(|| {
                errors.add("page", fmt.t("form-bad-number"));
                1
            }),
        };
        Filter {
            status,
            channel_id: Some(self.channel.trim()).filter(|c| !c.is_empty()).map(str::to_owned),
            event_type: Some(self.event.trim()).filter(|e| !e.is_empty()).map(str::to_owned),
            created: period(fmt, from, to),
            page,
        }
    }

    /// This filter's query string with `status` and `page` replaced (empty:
    /// left out), for the tabs and the pager.
    pub fn link(&self, status: &str, page: i32) -> String {
        let page = if page > 1 { page.to_string() } else { String::new() };
        query(&[
            ("status", status),
            ("channel", self.channel.trim()),
            ("event", self.event.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
            ("page", &page),
        ])
    }

    /// The query string of the filter without its status and page: what a
    /// replay of the dead ones is about.
    pub fn replay_query(&self) -> String {
        self.link("", 1)
    }

    /// Whether a channel, event type or period narrows the filter.
    pub fn narrowed(&self) -> bool {
        [&self.channel, &self.event, &self.from, &self.to].iter().any(|v| !v.trim().is_empty())
    }
}

/// `?k=v&…` of the non-empty pairs, percent-encoded; empty when none is.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let parts: Vec<String> = pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", enc(v))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// The local days `from` to `to` (both included) in the company's zone, as
/// notify's half-open range of creation times.
fn period(fmt: &Fmt, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Option<TimeRange> {
    let midnight = |d: NaiveDate| {
        let local = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        // A zone that skips midnight on some day starts it at the first instant it has.
        fmt.tz.from_local_datetime(&local).earliest().map(|t| kit::convert::timestamp(t.with_timezone(&chrono::Utc)))
    };
    if from.is_none() && to.is_none() {
        return None;
    }
    Some(TimeRange { start_time: from.and_then(midnight), end_time: to.and_then(|d| d.succ_opt()).and_then(midnight) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn zurich() -> Fmt {
        Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn a_period_of_local_days_is_read_in_the_companys_zone() {
        let q = FilterQuery { status: "dead".into(), from: "2026-12-07".into(), to: "2026-12-07".into(), ..Default::default() };
        let mut errors = Errors::default();
        let f = q.read(&zurich(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(f.status, Some(pb::DeliveryStatus::Dead));
        let range = f.created.unwrap();
        // Midnight in Zurich in winter is 23:00 UTC the day before; the day is whole.
        assert_eq!(kit::convert::time(&range.start_time.unwrap()).unwrap().to_rfc3339(), "2026-12-06T23:00:00+00:00");
        assert_eq!(kit::convert::time(&range.end_time.unwrap()).unwrap().to_rfc3339(), "2026-12-07T23:00:00+00:00");
    }

    #[test]
    fn what_cannot_be_read_is_named_beside_its_input() {
        let q = FilterQuery { status: "lost".into(), from: "7 Dec".into(), page: "0".into(), ..Default::default() };
        let mut errors = Errors::default();
        let f = q.read(&zurich(), &mut errors);
        assert!(errors.of("status").is_some() && errors.of("from").is_some() && errors.of("page").is_some(), "{errors:?}");
        assert_eq!((f.status, f.page, f.created), (None, 1, None));
        let backwards = FilterQuery { from: "2026-12-08".into(), to: "2026-12-07".into(), ..Default::default() };
        let mut errors = Errors::default();
        backwards.read(&zurich(), &mut errors);
        assert!(errors.of("to").is_some(), "a period that ends before it starts");
    }

    #[test]
    fn links_keep_the_filter_and_change_the_tab_or_the_page() {
        let q = FilterQuery { status: "dead".into(), channel: "log".into(), event: "bugs.regression".into(), ..Default::default() };
        assert_eq!(q.link("pending", 1), "?status=pending&channel=log&event=bugs%2Eregression");
        assert_eq!(q.link("", 3), "?channel=log&event=bugs%2Eregression&page=3");
        assert_eq!(FilterQuery::default().replay_query(), "");
        assert!(q.narrowed() && !FilterQuery { status: "dead".into(), ..Default::default() }.narrowed());
    }
}
