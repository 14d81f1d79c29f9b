//! How the autonomous-action pages say what an action is, without IO: its
//! type in words, the booking and driver ids its data names, its data as
//! labelled lines, the limit windows it consumed (`company/hour=12/50`, as
//! safety writes them), times in the company's zone, and a verification
//! break's kind in words.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::format::{Fmt, utc};

/// The action types the autonomous manager writes, worded by the catalogue
/// (`actions-type-<type>`); any other type is shown as its caller wrote it.
pub const TYPES: [&str; 4] = ["reassign", "swap", "delay", "notify_dispatcher"];
/// The states of an action, as the list filters and the rows name them.
pub const STATUSES: [&str; 4] = ["unspecified", "authorized", "succeeded", "failed"];
/// The keys of an action's data the catalogue has a label for (`actions-data-<key>`).
pub const DATA_KEYS: [&str; 5] = ["kind", "booking_id", "other_booking_id", "from_driver_id", "to_driver_id"];
/// The kinds of break safety's verification reports (`actions-break-<kind>`).
pub const BREAKS: [&str; 7] = [
    "content_changed",
    "row_missing",
    "truncated",
    "checkpoint_signature_invalid",
    "checkpoint_missing",
    "checkpoint_chain_broken",
    "checkpoint_replaced",
];

/// An action type in the user's words.
pub fn type_word(fmt: &Fmt, action_type: &str) -> String {
    if TYPES.contains(&action_type) { fmt.t(&format!("actions-type-{action_type}")) } else { action_type.to_owned() }
}

/// A time as `2026-03-02 09:00` in the company's zone; empty when absent.
pub fn when(fmt: &Fmt, t: Option<&prost_types::Timestamp>) -> String {
    utc(t).map(|t| fmt.local(t).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// A time to the second, for the detail page.
pub fn when_exact(fmt: &Fmt, t: Option<&prost_types::Timestamp>) -> String {
    utc(t).map(|t| fmt.local(t).format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

/// The booking and driver ids an action names: its own columns, and its
/// data's `…booking_id` and `…driver_id` keys.
pub fn named_ids(booking: Option<i64>, driver: Option<i64>, data: &str) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let (mut bookings, mut drivers): (BTreeSet<i64>, BTreeSet<i64>) = (booking.into_iter().collect(), driver.into_iter().collect());
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(data) {
        for (k, v) in &map {
            let Some(id) = v.as_i64() else { continue };
            if k.ends_with("booking_id") {
                bookings.insert(id);
            } else if k.ends_with("driver_id") {
                drivers.insert(id);
            }
        }
    }
    (bookings, drivers)
}

/// Who and what the ids stand for, as dispatch named them; an id dispatch
/// did not name (deleted, or dispatch unreachable) is shown as the id.
#[derive(Debug, Default)]
pub struct Names {
    /// Booking id → the patient's name.
    pub bookings: HashMap<i64, String>,
    pub drivers: HashMap<i64, String>,
}

impl Names {
    /// `#12 · Anne Martin`, or `#12`.
    pub fn booking(&self, id: i64) -> String {
        self.bookings.get(&id).map_or_else(|| format!("#{id}"), |n| format!("#{id} · {n}"))
    }

    /// `Léa Favre`, or `#3`.
    pub fn driver(&self, id: i64) -> String {
        self.drivers.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
    }

    /// The drivers an action moved a trip between (`from → to`), else its own driver.
    pub fn drivers_of(&self, driver: Option<i64>, data: &str) -> String {
        let map = match serde_json::from_str::<Value>(data) {
            Ok(Value::Object(map)) => map,
            _ => Default::default(),
        };
        let (from, to) = (map.get("from_driver_id").and_then(Value::as_i64), map.get("to_driver_id").and_then(Value::as_i64));
        match (from, to) {
            (Some(f), Some(t)) => format!("{} → {}", self.driver(f), self.driver(t)),
            (Some(d), None) | (None, Some(d)) => self.driver(d),
            (None, None) => driver.map(|d| self.driver(d)).unwrap_or_default(),
        }
    }
}

/// One line of an action's data: its label and its value in words.
#[derive(Debug, PartialEq, Eq)]
pub struct DataLine {
    pub label: String,
    pub value: String,
}

/// An action's data (a JSON object) as labelled lines: known keys by the
/// catalogue, bookings and drivers by name, the rest as written. None when
/// the data is not a JSON object (the page then shows it raw only).
pub fn data_lines(fmt: &Fmt, names: &Names, data: &str) -> Option<Vec<DataLine>> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(data) else { return None };
    let lines = map
        .iter()
        .map(|(k, v)| {
            let label = if DATA_KEYS.contains(&k.as_str()) { fmt.t(&format!("actions-data-{k}")) } else { k.replace('_', " ") };
            let value = match v {
                Value::Null => "—".to_owned(),
                Value::Number(n) if k.ends_with("booking_id") && n.is_i64() => names.booking(n.as_i64().unwrap_or_default()),
                Value::Number(n) if k.ends_with("driver_id") && n.is_i64() => names.driver(n.as_i64().unwrap_or_default()),
                Value::String(s) if k == "kind" => type_word(fmt, s),
                Value::String(s) => s.clone(),
                Value::Bool(b) => fmt.t(if *b { "actions-yes" } else { "actions-no" }),
                other => other.to_string(),
            };
            DataLine { label, value }
        })
        .collect();
    Some(lines)
}

/// The data pretty-printed, or as stored when it is not JSON.
pub fn data_raw(data: &str) -> String {
    serde_json::from_str::<Value>(data).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or_else(|| data.to_owned())
}

/// One limit window an action consumed, in words: whose limit, which
/// window, and the slot it took of how many.
#[derive(Debug, PartialEq, Eq)]
pub struct Consumed {
    pub scope: String,
    pub window: String,
    pub slot: String,
}

/// `company/hour=12/50` or `type:reassign/day=3/20` in words; an entry in
/// another shape is shown as written.
pub fn consumed(fmt: &Fmt, entry: &str) -> Consumed {
    let parsed = entry.rsplit_once('=').and_then(|(head, slot)| {
        let (scope, window) = head.rsplit_once('/')?;
        let (used, limit) = slot.split_once('/')?;
        let (used, limit) = (used.parse::<i64>().ok()?, limit.parse::<i64>().ok()?);
        let scope = match scope {
            "company" => fmt.t("actions-window-company"),
            s => fmt.t_with("actions-window-type", &[("type", type_word(fmt, s.strip_prefix("type:")?).into())]),
        };
        let window = match window {
            "hour" => fmt.t("actions-window-hour"),
            "day" => fmt.t("actions-window-day"),
            _ => return None,
        };
        Some(Consumed { scope, window, slot: fmt.t_with("actions-window-slot", &[("used", used.into()), ("limit", limit.into())]) })
    });
    parsed.unwrap_or_else(|| Consumed { scope: entry.to_owned(), window: String::new(), slot: String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::{Locale, has};

    fn fmt(locale: Locale) -> Fmt {
        Fmt { locale, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn the_data_names_its_bookings_and_drivers() {
        let data = r#"{"kind":"reassign","booking_id":12,"from_driver_id":3,"to_driver_id":7,"other_booking_id":null}"#;
        let (bookings, drivers) = named_ids(Some(12), Some(7), data);
        assert_eq!(bookings.into_iter().collect::<Vec<_>>(), [12]);
        assert_eq!(drivers.into_iter().collect::<Vec<_>>(), [3, 7]);
        let (bookings, drivers) = named_ids(None, None, "not json");
        assert!(bookings.is_empty() && drivers.is_empty());

        let names = Names { bookings: HashMap::from([(12, "Anne Martin".into())]), drivers: HashMap::from([(3, "Léa".into())]) };
        assert_eq!(names.drivers_of(Some(7), data), "Léa → #7", "an unnamed driver keeps its id");
        assert_eq!(names.drivers_of(Some(3), "{}"), "Léa");
        let lines = data_lines(&fmt(Locale::Fr), &names, data).unwrap();
        let line = |label: &str| lines.iter().find(|l| l.label == fmt(Locale::Fr).t(label)).map(|l| l.value.as_str());
        assert_eq!(line("actions-data-booking_id"), Some("#12 · Anne Martin"));
        assert_eq!(line("actions-data-from_driver_id"), Some("Léa"));
        assert_eq!(line("actions-data-kind"), Some(fmt(Locale::Fr).t("actions-type-reassign").as_str()));
        assert_eq!(line("actions-data-other_booking_id"), Some("—"));
        assert!(data_lines(&fmt(Locale::Fr), &names, "[1, 2]").is_none(), "not an object: raw only");
        assert!(data_raw(data).contains("\n  \"booking_id\": 12"), "pretty-printed");
    }

    #[test]
    fn consumed_windows_are_said_in_words() {
        let en = fmt(Locale::En);
        let c = consumed(&en, "type:reassign/day=3/20");
        assert_eq!((c.window.as_str(), c.slot.contains('3') && c.slot.contains("20")), (en.t("actions-window-day").as_str(), true));
        assert!(c.scope.contains(&en.t("actions-type-reassign")), "{}", c.scope);
        assert_eq!(consumed(&en, "company/hour=12/50").scope, en.t("actions-window-company"));
        // A type with a slash in its name is still read from the right.
        assert_eq!(consumed(&en, "type:a/b/hour=1/2").scope, en.t_with("actions-window-type", &[("type", "a/b".into())]));
        assert_eq!(consumed(&en, "garbled").scope, "garbled", "shown as written");
    }

    #[test]
    fn every_word_of_the_vocabularies_is_in_both_catalogues() {
        for locale in Locale::ALL {
            let ids = TYPES
                .iter()
                .map(|t| format!("actions-type-{t}"))
                .chain(STATUSES.iter().map(|s| format!("actions-status-{s}")))
                .chain(DATA_KEYS.iter().map(|k| format!("actions-data-{k}")))
                .chain(BREAKS.iter().map(|b| format!("actions-break-{b}")))
                .chain(["hour", "day", "week", "month"].iter().map(|u| format!("actions-by-{u}")))
                .chain(["outcome", "type"].iter().map(|s| format!("actions-stack-{s}")))
                .chain(["hour", "day"].iter().map(|w| format!("actions-window-{w}")))
                .chain(["prev", "authorize", "complete", "review"].iter().map(|e| format!("actions-chain-{e}")))
                .chain(["by-outcome", "by-type"].iter().map(|c| format!("actions-chart-{c}")));
            let missing: Vec<String> = ids.filter(|id| !has(locale, id)).collect();
            assert!(missing.is_empty(), "missing from {}: {missing:?}", locale.code());
        }
    }
}
