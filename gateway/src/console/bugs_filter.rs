//! The bug list's search and filters as the page's GET form sends them
//! (repeated keys for the statuses, severities and priorities it ticks), read
//! into ListBugsRequest — every filter the API has — and written back into the
//! links of the pager. Pure: no call, unit-tested.

use atmr_proto::{
    bugs::v1 as pb,
    common::v1::{PageRequest, SortDirection, TimeRange},
};
use chrono::{Duration, NaiveDate};

use super::{form, format::Fmt};

/// The JSON names of the bugs service's vocabularies, in proto order (index = enum number).
pub const STATUSES: [&str; 7] = ["unspecified", "open", "in_progress", "resolved", "closed", "wont_fix", "duplicate"];
pub const SEVERITIES: [&str; 5] = ["unspecified", "low", "medium", "high", "critical"];
pub const PRIORITIES: [&str; 5] = ["unspecified", "low", "medium", "high", "urgent"];
/// The orders the list offers: the API's sort fields, newest or largest first.
pub const SORTS: [&str; 6] = ["last_seen", "created", "updated", "occurrences", "severity", "priority"];
/// Rows per page.
pub const PER_PAGE: i32 = 25;

/// What the list was asked for, as typed (so the form shows it again).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub q: String,
    pub statuses: Vec<String>,
    pub severities: Vec<String>,
    pub priorities: Vec<String>,
    pub category: String,
    pub environment: String,
    pub tag: String,
    pub assignee: String,
    pub reporter: String,
    /// Created from this local day on (`YYYY-MM-DD`, the company's zone).
    pub from: String,
    /// Created until the end of this local day.
    pub to: String,
    /// One of [`SORTS`], empty for the first.
    pub sort: String,
    /// Oldest first instead of newest (or smallest first instead of largest).
    pub ascending: bool,
    pub page: String,
}

/// A filter that cannot be read: the form's input it names, and the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bad {
    pub input: &'static str,
    pub value: String,
}

impl Filters {
    /// The pairs of a query string (`a=1&b=x+y`), decoded; repeated keys kept in order.
    pub fn parse(raw: &str) -> Self {
        let mut f = Self::default();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            let (k, v) = (decode(k), decode(v));
            let v_trim = v.trim().to_owned();
            match k.as_str() {
                "q" => f.q = v_trim,
                "status" if !v_trim.is_empty() => f.statuses.push(v_trim),
                "severity" if !v_trim.is_empty() => f.severities.push(v_trim),
                "priority" if !v_trim.is_empty() => f.priorities.push(v_trim),
                "category" => f.category = v_trim,
                "environment" => f.environment = v_trim,
                "tag" => f.tag = v_trim,
                "assignee" => f.assignee = v_trim,
                "reporter" => f.reporter = v_trim,
                "from" => f.from = v_trim,
                "to" => f.to = v_trim,
                "sort" => f.sort = v_trim,
                "order" => f.ascending = v_trim == "asc",
                "page" => f.page = v_trim,
                // Unknown keys (a stale bookmark) are left out, as a form would.
                _ => {}
            }
        }
        f
    }

    /// Whether any of the filters behind "more filters" is set.
    pub fn more(&self) -> bool {
        [&self.category, &self.environment, &self.tag, &self.assignee, &self.reporter, &self.from, &self.to].iter().any(|v| !v.is_empty())
    }

    /// The page asked for, from 1.
    pub fn page_no(&self) -> Result<i32, Bad> {
        match self.page.as_str() {
            "" => Ok(1),
            p => p.parse::<i32>().ok().filter(|p| *p >= 1).ok_or_else(|| Bad { input: "page", value: p.to_owned() }),
        }
    }

    /// The request these filters make, with the local days read in the
    /// company's zone; the first filter that cannot be read, otherwise.
    pub fn request(&self, fmt: &Fmt) -> Result<pb::ListBugsRequest, Bad> {
        let numbers = |input: &'static str, names: &[&str], values: &[String]| -> Result<Vec<i32>, Bad> {
            values
                .iter()
                .map(|v| names.iter().skip(1).position(|n| n == v).map(|i| i as i32 + 1).ok_or_else(|| Bad { input, value: v.clone() }))
                .collect()
        };
        let day = |input: &'static str, raw: &str| -> Result<Option<NaiveDate>, Bad> {
            if raw.is_empty() {
                return Ok(None);
            }
            form::date(raw).map(Some).ok_or_else(|| Bad { input, value: raw.to_owned() })
        };
        let midnight = |d: NaiveDate| form::local_instant(fmt, d, "00:00").map(kit::convert::timestamp);
        let (from, to) = (day("from", &self.from)?, day("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err(Bad { input: "to", value: self.to.clone() });
        }
        let created = (from.is_some() || to.is_some())
            .then(|| TimeRange { start_time: from.and_then(midnight), end_time: to.and_then(|t| midnight(t + Duration::days(1))) });
        let sort_by = match self.sort.as_str() {
            "" | "last_seen" => pb::BugSortField::LastSeen,
            "created" => pb::BugSortField::CreateTime,
            "updated" => pb::BugSortField::UpdateTime,
            "occurrences" => pb::BugSortField::Occurrences,
            "severity" => pb::BugSortField::Severity,
            "priority" => pb::BugSortField::Priority,
            other => return Err(Bad { input: "sort", value: other.to_owned() }),
        };
        let text = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        Ok(pb::ListBugsRequest {
            page: Some(PageRequest { page: self.page_no()?, per_page: PER_PAGE }),
            statuses: numbers("status", &STATUSES, &self.statuses)?,
            severities: numbers("severity", &SEVERITIES, &self.severities)?,
            priorities: numbers("priority", &PRIORITIES, &self.priorities)?,
            category: text(&self.category),
            assignee: text(&self.assignee),
            reporter: text(&self.reporter),
            tag: text(&self.tag),
            environment: text(&self.environment),
            created,
            query: text(&self.q),
            sort_by: sort_by as i32,
            sort_direction: if self.ascending { SortDirection::Ascending } else { SortDirection::Descending } as i32,
        })
    }

    /// The list's address with these filters on page `page`.
    pub fn link(&self, page: i32) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [("q", &self.q), ("category", &self.category), ("environment", &self.environment), ("tag", &self.tag)] {
            pairs.push((k, v));
        }
        for (k, v) in
            [("assignee", &self.assignee), ("reporter", &self.reporter), ("from", &self.from), ("to", &self.to), ("sort", &self.sort)]
        {
            pairs.push((k, v));
        }
        pairs.retain(|(_, v)| !v.is_empty());
        for (k, vs) in [("status", &self.statuses), ("severity", &self.severities), ("priority", &self.priorities)] {
            pairs.extend(vs.iter().map(|v| (k, v.as_str())));
        }
        if self.ascending {
            pairs.push(("order", "asc"));
        }
        let page = page.to_string();
        if page != "1" {
            pairs.push(("page", &page));
        }
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        if query.is_empty() { "/bugs".to_owned() } else { format!("/bugs?{}", query.join("&")) }
    }

    /// Whether `value` of the vocabulary `input` is ticked (for the template).
    pub fn ticked(&self, input: &str, value: &str) -> bool {
        let list = match input {
            "status" => &self.statuses,
            "severity" => &self.severities,
            _ => &self.priorities,
        };
        list.iter().any(|v| v == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn zurich() -> Fmt {
        Fmt { locale: Locale::Fr, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn repeated_keys_and_encoded_text_are_read_as_the_form_sent_them() {
        let f = Filters::parse("q=door+code%20%C3%A9&status=open&status=in_progress&severity=critical&tag=gps&order=asc&page=2&x=1");
        assert_eq!(f.q, "door code é");
        assert_eq!(f.statuses, ["open", "in_progress"]);
        let r = f.request(&zurich()).unwrap();
        assert_eq!(r.statuses, [pb::Status::Open as i32, pb::Status::InProgress as i32]);
        assert_eq!(r.severities, [pb::Severity::Critical as i32]);
        assert_eq!((r.tag.as_deref(), r.query.as_deref()), (Some("gps"), Some("door code é")));
        assert_eq!((r.sort_by, r.sort_direction), (pb::BugSortField::LastSeen as i32, SortDirection::Ascending as i32));
        assert_eq!(r.page, Some(PageRequest { page: 2, per_page: PER_PAGE }));
        assert!(r.category.is_none() && r.created.is_none());
        // The pager's links keep every filter and parse back to the same.
        assert_eq!(Filters::parse(f.link(2).trim_start_matches("/bugs?")), f);
        assert_eq!(Filters::default().link(1), "/bugs");
    }

    #[test]
    fn the_created_days_are_the_companys_local_days() {
        let f = Filters { from: "2026-03-02".into(), to: "2026-03-02".into(), ..Filters::default() };
        let range = f.request(&zurich()).unwrap().created.unwrap();
        // Midnight in Zurich (UTC+1 in March) to the next midnight.
        assert_eq!(range.start_time.unwrap().seconds, chrono::DateTime::parse_from_rfc3339("2026-03-01T23:00:00Z").unwrap().timestamp());
        assert_eq!(range.end_time.unwrap().seconds - range.start_time.unwrap().seconds, 86_400);
        let only_to = Filters { to: "2026-03-02".into(), ..Filters::default() }.request(&zurich()).unwrap().created.unwrap();
        assert!(only_to.start_time.is_none() && only_to.end_time.is_some());
    }

    #[test]
    fn a_value_that_cannot_be_read_names_its_input() {
        let bad = |raw: &str| Filters::parse(raw).request(&zurich()).unwrap_err();
        assert_eq!(bad("status=fixed"), Bad { input: "status", value: "fixed".into() });
        assert_eq!(bad("severity=unspecified").input, "severity", "the proto's zero is not a severity");
        assert_eq!(bad("priority=high&priority=soon").value, "soon");
        assert_eq!(bad("from=yesterday").input, "from");
        assert_eq!(bad("from=2026-03-05&to=2026-03-04").input, "to");
        assert_eq!(bad("sort=title").input, "sort");
        assert_eq!(bad("page=0").input, "page");
    }
}
