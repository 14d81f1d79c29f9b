//! What a console request answers when it cannot do what was asked: the
//! sign-in page for a missing session, otherwise the API's error translated by
//! its code (and the field it names), as a page or, for htmx, as a message in
//! the page's alert area that leaves the rest of the page as it was.

use askama::Template as _;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use fluent_bundle::FluentValue;

use super::{format::Fmt, i18n::Locale};
use crate::error::ApiError;

/// Why a console request failed.
#[derive(Debug)]
pub enum Failure {
    /// No live session: to the sign-in page, coming back to `next` after.
    SignIn { htmx: bool, next: String },
    /// The API's error, shown in the user's language.
    Error { error: ApiError, fmt: Option<Fmt>, htmx: bool },
}

impl Failure {
    /// An error before the user is known (shown in English).
    pub fn bare(error: ApiError, htmx: bool) -> Self {
        Self::Error { error, fmt: None, htmx }
    }
}

/// The user's words for an API error: by its code and, for a field, the
/// field's label; an internal error keeps its reference for the support desk.
pub fn explain(fmt: &Fmt, error: &ApiError) -> String {
    let field = error.details.get("field").and_then(|f| f.as_str());
    if let Some(field) = field
        && error.code == "invalid_argument"
    {
        let label = field_label(fmt, field);
        return fmt.t_with("error-invalid-field", &[("field", FluentValue::from(label))]);
    }
    let id = format!("error-{}", error.code);
    if super::i18n::has(fmt.locale, &id) {
        let reference = reference_of(&error.message);
        let service = error.details.get("service").and_then(|s| s.as_str()).unwrap_or_default().to_owned();
        fmt.t_with(&id, &[("ref", FluentValue::from(reference)), ("service", FluentValue::from(service))])
    } else {
        fmt.t("error-unknown")
    }
}

/// A field's label (`field-<name>`); a nested field (`bookings[3].pickup`)
/// by its last part, with the row kept.
pub fn field_label(fmt: &Fmt, field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    let name = last.split('[').next().unwrap_or(last);
    // The row of a batch (`bookings[3]`), shown counted from one.
    let index = field.rfind('[').and_then(|i| field[i + 1..].split(']').next()).and_then(|n| n.parse::<usize>().ok());
    let id = format!("field-{name}");
    let label = if super::i18n::has(fmt.locale, &id) { fmt.t(&id) } else { name.replace('_', " ") };
    match index {
        Some(i) => format!("{label} ({})", i + 1),
        None => label,
    }
}

/// The correlation reference an internal error carries (`… (ref abc123)` or a
/// trace id), for the user to quote; empty when there is none.
fn reference_of(message: &str) -> String {
    message
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .rfind(|w| w.len() >= 16 && w.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
        .unwrap_or_default()
        .to_owned()
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    lang: &'static str,
    title: String,
    message: String,
    back: String,
}

#[derive(askama::Template)]
#[template(path = "partials/flash.html")]
struct Flash {
    kind: &'static str,
    message: String,
}

/// The alert area's content, swapped into the page out of band by htmx.
pub fn flash(kind: &'static str, message: String) -> String {
    Flash { kind, message }.render().unwrap_or_default()
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { htmx, next } => {
                let next = if next.starts_with('/') && !next.starts_with("//") { next } else { "/".to_owned() };
                let to = format!("/login?next={}", percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC));
                if htmx {
                    // htmx follows this header with a full navigation.
                    let mut res = StatusCode::UNAUTHORIZED.into_response();
                    if let Ok(v) = HeaderValue::from_str(&to) {
                        res.headers_mut().insert("hx-redirect", v);
                    }
                    res
                } else {
                    let mut res = StatusCode::SEE_OTHER.into_response();
                    if let Ok(v) = HeaderValue::from_str(&to) {
                        res.headers_mut().insert(header::LOCATION, v);
                    }
                    res
                }
            }
            Self::Error { error, fmt, htmx } => {
                let fmt = fmt.unwrap_or(Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich });
                let message = explain(&fmt, &error);
                if htmx {
                    let mut res = (error.status, Html(flash("error", message))).into_response();
                    // The target keeps its content; only the alert area changes.
                    res.headers_mut().insert("hx-reswap", HeaderValue::from_static("none"));
                    res
                } else {
                    let page = ErrorPage { lang: fmt.locale.code(), title: fmt.t("error-title"), message, back: fmt.t("error-back") };
                    (error.status, Html(page.render().unwrap_or_default())).into_response()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(locale: Locale) -> Fmt {
        Fmt { locale, tz: chrono_tz::Europe::Zurich }
    }

    #[test]
    fn errors_are_translated_by_code_and_field() {
        let bad = ApiError::invalid("bookings[3].pickup_earliest", "pickup_earliest must be before pickup_latest");
        let fr = explain(&fmt(Locale::Fr), &bad);
        assert!(fr.contains("Prise en charge dès (4)"), "{fr}");
        assert!(!fr.contains("must be"), "the English text is not shown: {fr}");
        let gone = ApiError::new(StatusCode::NOT_FOUND, "not_found", "booking 9 not found");
        assert_ne!(explain(&fmt(Locale::En), &gone), explain(&fmt(Locale::Fr), &gone));
    }

    #[test]
    fn an_internal_error_keeps_its_reference_only() {
        let e = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error (ref 4bf92f3577b34da6a3ce929d0e0e4736)");
        let shown = explain(&fmt(Locale::En), &e);
        assert!(shown.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{shown}");
    }
}
