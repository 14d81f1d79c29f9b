//! What the console's forms share: reading a value as the user typed it
//! (a local time on the service day, a decimal with either point), and the
//! errors shown next to the fields they are about, whether the console found
//! them while reading the form or a service named the field in its refusal.

use std::collections::BTreeMap;

use atmr_proto::common::v1::GeoPoint;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeZone as _, Timelike as _, Utc};

use super::{
    context::Console,
    error::{Failure, explain},
    format::Fmt,
};
use crate::ApiError;

/// A page's `?day=`, empty for today.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    pub day: String,
}

/// The day asked for, or today in the company's zone; a 400 naming `day`
/// when it is not a date.
pub fn service_day(console: &Console, raw: &str) -> Result<NaiveDate, Failure> {
    match raw.trim() {
        "" => Ok(chrono::Utc::now().with_timezone(&console.fmt.tz).date_naive()),
        d => date(d).ok_or_else(|| console.fail(ApiError::invalid("day", format!("day must be a date YYYY-MM-DD, got {d:?}")))),
    }
}

/// The errors of one form, by the name of the input they are about.
#[derive(Clone, Debug, Default)]
pub struct Errors {
    by_field: BTreeMap<String, String>,
    /// An error about no one input (shown above the form).
    pub general: Option<String>,
}

impl Errors {
    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_none()
    }

    /// Records `message` against the input `field` (the first error of a field wins).
    pub fn add(&mut self, field: &str, message: String) {
        self.by_field.entry(field.to_owned()).or_insert(message);
    }

    /// Every input's error, in the inputs' order by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_field.iter().map(|(f, m)| (f.as_str(), m.as_str()))
    }

    /// The error shown next to `field`, if any (for the templates).
    pub fn of(&self, field: &str) -> Option<&str> {
        self.by_field.get(field).map(String::as_str)
    }

    /// A service's refusal, placed next to the input it names: the API's
    /// field (`booking.pickup.latitude`) without the message's prefix, then
    /// mapped by `input_of` to the form's input; a refusal naming no field
    /// (or none of this form) goes above the form.
    pub fn from_api(fmt: &Fmt, error: &ApiError, input_of: impl Fn(&str) -> Option<&'static str>) -> Self {
        let mut errors = Self::default();
        let message = explain(fmt, error);
        let field = error.details.get("field").and_then(|f| f.as_str()).map(api_field);
        match field.and_then(|f| input_of(&f)) {
            Some(input) => errors.add(input, message),
            None => errors.general = Some(message),
        }
        errors
    }
}

/// An API field without its message prefix (`booking.`, `bookings[3].`).
pub fn api_field(field: &str) -> String {
    match field.split_once('.') {
        Some((head, rest)) if head.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '[' || c == ']' || c.is_ascii_digit()) => {
            rest.to_owned()
        }
        _ => field.to_owned(),
    }
}

/// `HH:MM` on `day` in the company's zone, as UTC; a time the clocks skip
/// (the spring change) is refused, an ambiguous one (autumn) is the first.
pub fn local_instant(fmt: &Fmt, day: NaiveDate, hhmm: &str) -> Option<DateTime<Utc>> {
    let time = NaiveTime::parse_from_str(hhmm.trim(), "%H:%M").ok()?;
    match fmt.tz.from_local_datetime(&day.and_time(time)) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// The minutes after local midnight that `HH:MM` means (a template's times).
pub fn minute_of(hhmm: &str) -> Option<i32> {
    let time = NaiveTime::parse_from_str(hhmm.trim(), "%H:%M").ok()?;
    Some((time.hour() * 60 + time.minute()) as i32)
}

/// `HH:MM` for minutes after midnight.
pub fn hhmm(minute: i32) -> String {
    format!("{:02}:{:02}", minute.div_euclid(60), minute.rem_euclid(60))
}

/// A decimal as typed in either language (`46,2` or `46.2`); None when it
/// is not a finite number.
pub fn decimal(raw: &str) -> Option<f64> {
    let v: f64 = raw.trim().replace(',', ".").parse().ok()?;
    v.is_finite().then_some(v)
}

/// A whole number as typed; None when it is not one.
pub fn whole(raw: &str) -> Option<i32> {
    raw.trim().parse().ok()
}

/// A place from two typed coordinates, each a number (its input marked
/// otherwise); None when either is not.
pub fn point(fmt: &Fmt, (lat, lat_input): (&str, &str), (lon, lon_input): (&str, &str), errors: &mut Errors) -> Option<GeoPoint> {
    let mut read = |raw: &str, input: &str| {
        decimal(raw).or_else(|| {
            errors.add(input, fmt.t("form-bad-number"));
            None
        })
    };
    let (latitude, longitude) = (read(lat, lat_input), read(lon, lon_input));
    Some(GeoPoint { latitude: latitude?, longitude: longitude? })
}

/// [`point`], or None without an error when both coordinates are left empty.
pub fn optional_point(fmt: &Fmt, lat: (&str, &str), lon: (&str, &str), errors: &mut Errors) -> Option<GeoPoint> {
    if lat.0.trim().is_empty() && lon.0.trim().is_empty() {
        return None;
    }
    point(fmt, lat, lon, errors)
}

/// A whole number typed into `input`; `empty` (when given) stands for a
/// field left empty; a value that is not a number marks the input and
/// reads as `empty` (or 0).
pub fn number(fmt: &Fmt, raw: &str, input: &str, empty: Option<i32>, errors: &mut Errors) -> i32 {
    if let Some(default) = empty.filter(|_| raw.trim().is_empty()) {
        return default;
    }
    whole(raw).unwrap_or_else(|| {
        errors.add(input, fmt.t("form-bad-number"));
        empty.unwrap_or(0)
    })
}

/// After a save, to `to`: htmx follows `HX-Redirect` with a full navigation,
/// a plain form a 303.
pub fn redirect(console: &Console, to: &str) -> Response {
    let value = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    if console.htmx {
        let mut res = StatusCode::NO_CONTENT.into_response();
        res.headers_mut().insert("hx-redirect", value);
        res
    } else {
        (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
    }
}

/// A date as the browser's date input sends it.
pub fn date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn zurich() -> Fmt {
        Fmt { locale: Locale::Fr, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn a_local_time_is_read_in_the_companys_zone() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(local_instant(&zurich(), day, "07:30").unwrap().to_rfc3339(), "2026-12-07T06:30:00+00:00");
        assert_eq!(local_instant(&zurich(), day, "7h30"), None);
        // 02:30 does not exist in Zurich on the night the clocks go forward.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(local_instant(&zurich(), spring, "02:30"), None);
    }

    #[test]
    fn numbers_are_read_with_either_decimal_sign() {
        assert_eq!(decimal("46,2"), Some(46.2));
        assert_eq!(decimal(" 6.15 "), Some(6.15));
        assert_eq!(decimal("NaN"), None);
        assert_eq!(decimal("abc"), None);
        assert_eq!(minute_of("07:05"), Some(425));
        assert_eq!(hhmm(425), "07:05");
    }

    #[test]
    fn a_refusal_lands_next_to_the_field_it_names() {
        let bad = ApiError::invalid("booking.pickup.latitude", "latitude must be within -90..90");
        let errors = Errors::from_api(&zurich(), &bad, |f| (f == "pickup.latitude").then_some("pickup_lat"));
        assert!(errors.of("pickup_lat").is_some(), "{errors:?}");
        assert!(errors.general.is_none());
        let other = ApiError::invalid("booking.return_of", "no such booking");
        let errors = Errors::from_api(&zurich(), &other, |_| None);
        assert!(errors.general.is_some(), "a field the form lacks is shown above it");
    }
}
