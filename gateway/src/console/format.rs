//! Dates, times and numbers as a user reads them: in the company's time zone
//! and the user's language. The one place the console formats them.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use chrono_tz::Tz;
use fluent_bundle::FluentValue;

use super::i18n::{Locale, text};

/// How one request formats what it shows.
#[derive(Clone, Copy, Debug)]
pub struct Fmt {
    pub locale: Locale,
    pub tz: Tz,
}

impl Fmt {
    /// The local date and time of `t` in the company's zone.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }

    /// `07:30`: both languages read 24-hour times.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%H:%M").to_string()
    }

    /// `07:30` from a protobuf time; empty when absent.
    pub fn time_pb(&self, t: Option<&prost_types::Timestamp>) -> String {
        utc(t).map(|t| self.time(t)).unwrap_or_default()
    }

    /// `lundi 7 décembre 2026` / `Monday 7 December 2026`.
    pub fn date_long(&self, d: NaiveDate) -> String {
        let weekday = text(self.locale, &format!("weekday-{}", d.weekday().number_from_monday()), &[]);
        let month = text(self.locale, &format!("month-{}", d.month()), &[]);
        format!("{weekday} {} {month} {}", d.day(), d.year())
    }

    /// A number with `decimals` places, grouped by thousands: `1 234,5` in
    /// French (narrow no-break spaces), `1,234.5` in English.
    pub fn number(&self, n: f64, decimals: usize) -> String {
        let (group, point) = match self.locale {
            Locale::Fr => ('\u{202f}', ','),
            Locale::En => (',', '.'),
        };
        let fixed = format!("{:.*}", decimals, n.abs());
        let (whole, frac) = fixed.split_once('.').unwrap_or((&fixed, ""));
        let mut out = String::with_capacity(fixed.len() + whole.len() / 3 + 1);
        if n < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') {
            out.push('-');
        }
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(c);
        }
        if !frac.is_empty() {
            out.push(point);
            out.push_str(frac);
        }
        out
    }

    /// The message `id` in this request's language.
    pub fn t(&self, id: &str) -> String {
        text(self.locale, id, &[])
    }

    /// The message `id` with arguments.
    pub fn t_with(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        text(self.locale, id, args)
    }
}

/// A protobuf time as UTC.
pub fn utc(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(locale: Locale) -> Fmt {
        Fmt { locale, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn numbers_are_grouped_and_pointed_by_language() {
        assert_eq!(fmt(Locale::Fr).number(1234.5, 1), "1\u{202f}234,5");
        assert_eq!(fmt(Locale::En).number(1234.5, 1), "1,234.5");
        assert_eq!(fmt(Locale::En).number(1_234_567.0, 0), "1,234,567");
        assert_eq!(fmt(Locale::En).number(999.0, 0), "999");
        assert_eq!(fmt(Locale::En).number(-12.25, 1), "-12.2");
        assert_eq!(fmt(Locale::En).number(-0.01, 1), "0.0", "no minus on a zero");
    }

    #[test]
    fn times_are_shown_in_the_companys_zone() {
        // 06:30 UTC on a winter day is 07:30 in Zurich.
        let t = DateTime::parse_from_rfc3339("2026-12-07T06:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(fmt(Locale::Fr).time(t), "07:30");
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(fmt(Locale::Fr).date_long(d), "lundi 7 décembre 2026");
        assert_eq!(fmt(Locale::En).date_long(d), "Monday 7 December 2026");
    }
}
