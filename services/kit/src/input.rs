//! Request checks every service makes: a field-named error and the text rules
//! (trimmed single lines, bounded multi-line text, no control characters).
//! Plain values only: `error.rs` turns an [`Invalid`] into a status.

use std::fmt;

/// A request field that breaks a rule; becomes INVALID_ARGUMENT naming the
/// field (the projection is in `error.rs`, with every other one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
    /// More fields the same refusal is about (a batch's other bad rows), so
    /// that a client can mark each; the message names them all.
    pub others: Vec<String>,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), others: Vec::new() }
    }

    /// The same error, also about `others`.
    pub fn with_others(self, others: Vec<String>) -> Self {
        Self { others, ..self }
    }

    /// The same error with its fields under `prefix` (e.g. `bookings[3].`).
    pub fn under(self, prefix: &str) -> Self {
        Self {
            field: format!("{prefix}{}", self.field),
            message: self.message,
            others: self.others.into_iter().map(|f| format!("{prefix}{f}")).collect(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn no_control(field: &str, value: &str, allow_newlines: bool) -> Result<(), Invalid> {
    if value.chars().any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t'))) {
        return Err(Invalid::new(field, "contains control characters"));
    }
    Ok(())
}

/// A required single-line text of 1..=max characters, trimmed.
pub fn required_line(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Invalid::new(field, "is required"));
    }
    optional_line(field, v, max)
}

/// A single-line text of at most `max` characters, trimmed (may be empty).
pub fn optional_line(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let v = value.trim();
    if chars(v) > max {
        return Err(Invalid::new(field, format!("is longer than {max} characters")));
    }
    no_control(field, v, false)?;
    Ok(v.to_owned())
}

/// A multi-line text of at most `max` characters.
pub fn long_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    if chars(value) > max {
        return Err(Invalid::new(field, format!("is longer than {max} characters")));
    }
    no_control(field, value, true)?;
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules_name_the_field() {
        assert_eq!(required_line("name", "  Ada ", 10).unwrap(), "Ada");
        assert_eq!(required_line("name", "   ", 10).unwrap_err(), Invalid::new("name", "is required"));
        assert_eq!(optional_line("name", "abcdef", 3).unwrap_err().field, "name");
        assert!(optional_line("name", "a\nb", 10).is_err());
        assert_eq!(long_text("notes", "a\nb", 10).unwrap(), "a\nb");
        assert_eq!(Invalid::new("x", "bad").under("rows[2].").field, "rows[2].x");
    }
}
