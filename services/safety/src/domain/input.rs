//! Checks on what callers send, field by field. Each failure names its field;
//! nothing is written for a request that fails here.

use super::limits::{Invalid, parse_action_type};

/// Longest description (the source's VARCHAR(500)).
pub const MAX_DESCRIPTION: usize = 500;
/// Longest trigger source (the source's VARCHAR(100)).
pub const MAX_TRIGGER_SOURCE: usize = 100;
/// Largest `action_data` JSON text.
pub const MAX_ACTION_DATA: usize = 64 * 1024;
/// Longest error message kept on a failed action.
pub const MAX_ERROR_MESSAGE: usize = 4_000;
/// Longest review note.
pub const MAX_NOTES: usize = 2_000;

/// An action asking to be authorized, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAction {
    pub booking_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub action_type: String,
    pub description: String,
    pub data: Option<String>,
    pub confidence_score: Option<f64>,
    pub expected_improvement_minutes: Option<f64>,
    pub trigger_source: Option<String>,
}

/// The outcome of an authorized action, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub action_id: i64,
    pub success: bool,
    pub error_message: Option<String>,
    pub execution_time_ms: Option<f64>,
}

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid { field: field.to_owned(), message: message.into() }
}

fn bounded(field: &str, value: &str, max: usize, required: bool) -> Result<Option<String>, Invalid> {
    let v = value.trim();
    if v.is_empty() {
        return if required { Err(invalid(field, "must not be empty")) } else { Ok(None) };
    }
    if v.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    Ok(Some(v.to_owned()))
}

fn positive_id(field: &str, id: Option<i64>) -> Result<Option<i64>, Invalid> {
    match id {
        Some(v) if v <= 0 => Err(invalid(field, format!("must be a positive id, got {v}"))),
        other => Ok(other),
    }
}

fn finite(field: &str, v: Option<f64>, range: std::ops::RangeInclusive<f64>) -> Result<Option<f64>, Invalid> {
    match v {
        Some(x) if !x.is_finite() || !range.contains(&x) => {
            Err(invalid(field, format!("must be a number from {} to {}, got {x}", range.start(), range.end())))
        }
        other => Ok(other),
    }
}

/// The raw fields of an authorization request, as received.
#[derive(Clone, Debug, Default)]
pub struct RawAction<'a> {
    pub booking_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub action_type: &'a str,
    pub description: &'a str,
    pub data: &'a str,
    pub confidence_score: Option<f64>,
    pub expected_improvement_minutes: Option<f64>,
    pub trigger_source: &'a str,
}

impl NewAction {
    pub fn parse(raw: &RawAction<'_>) -> Result<Self, Invalid> {
        let data = match bounded("action_data", raw.data, MAX_ACTION_DATA, false)? {
            Some(d) => {
                serde_json::from_str::<serde_json::Value>(&d).map_err(|e| invalid("action_data", format!("must be JSON: {e}")))?;
                Some(d)
            }
            None => None,
        };
        Ok(Self {
            booking_id: positive_id("booking_id", raw.booking_id)?,
            driver_id: positive_id("driver_id", raw.driver_id)?,
            action_type: parse_action_type("action_type", raw.action_type)?,
            description: bounded("action_description", raw.description, MAX_DESCRIPTION, true)?.unwrap_or_default(),
            data,
            confidence_score: finite("confidence_score", raw.confidence_score, 0.0..=1.0)?,
            expected_improvement_minutes: finite("expected_improvement_minutes", raw.expected_improvement_minutes, -1440.0..=1440.0)?,
            trigger_source: bounded("trigger_source", raw.trigger_source, MAX_TRIGGER_SOURCE, false)?,
        })
    }
}

impl Completion {
    pub fn parse(action_id: i64, success: bool, error_message: Option<&str>, execution_time_ms: Option<f64>) -> Result<Self, Invalid> {
        if action_id <= 0 {
            return Err(invalid("action_id", format!("must be a positive id, got {action_id}")));
        }
        Ok(Self {
            action_id,
            success,
            error_message: bounded("error_message", error_message.unwrap_or_default(), MAX_ERROR_MESSAGE, false)?,
            execution_time_ms: finite("execution_time_ms", execution_time_ms, 0.0..=86_400_000.0)?,
        })
    }
}

/// Review notes: required, bounded.
pub fn parse_notes(notes: &str) -> Result<String, Invalid> {
    let notes = bounded("notes", notes, MAX_NOTES, true)?.unwrap_or_default();
    // Lines are fine in a note; other control characters are not text (and
    // PostgreSQL refuses NUL in a text column).
    if notes.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(invalid("notes", "must not contain control characters other than line breaks and tabs"));
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawAction<'static> {
        RawAction { action_type: "reassign", description: "move booking 7 to driver 3", ..Default::default() }
    }

    #[test]
    fn a_valid_action_parses_and_unknown_types_are_allowed() {
        let a = NewAction::parse(&RawAction { action_type: "brand_new_kind", data: r#"{"from": 1}"#, ..raw() }).unwrap();
        assert_eq!(a.action_type, "brand_new_kind");
        assert_eq!(a.data.as_deref(), Some(r#"{"from": 1}"#));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: [(RawAction<'static>, &str); 8] = [
            (RawAction { description: "", ..raw() }, "action_description"),
            (RawAction { description: Box::leak("x".repeat(501).into_boxed_str()), ..raw() }, "action_description"),
            (RawAction { action_type: "", ..raw() }, "action_type"),
            (RawAction { data: "{not json", ..raw() }, "action_data"),
            (RawAction { booking_id: Some(-4), ..raw() }, "booking_id"),
            (RawAction { confidence_score: Some(1.5), ..raw() }, "confidence_score"),
            (RawAction { expected_improvement_minutes: Some(f64::NAN), ..raw() }, "expected_improvement_minutes"),
            (RawAction { trigger_source: Box::leak("t".repeat(101).into_boxed_str()), ..raw() }, "trigger_source"),
        ];
        for (input, field) in cases {
            assert_eq!(NewAction::parse(&input).unwrap_err().field, field);
        }
        assert_eq!(Completion::parse(0, true, None, None).unwrap_err().field, "action_id");
        assert_eq!(Completion::parse(1, true, None, Some(-1.0)).unwrap_err().field, "execution_time_ms");
        assert_eq!(parse_notes("  ").unwrap_err().field, "notes");
    }
}
