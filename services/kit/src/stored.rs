//! Reading a closed vocabulary back from the database (a status, a kind, a
//! role, a severity): a value outside it, written by a newer version or by
//! hand, is an error that names the row, never a default. It is logged with
//! the table, column, row and value when it becomes a store error, and the
//! caller is answered INTERNAL with the trace id only.

use std::fmt;

/// A stored value that is not one of its column's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue {
    pub table: &'static str,
    pub column: &'static str,
    pub row_id: String,
    /// The value, cut to 64 characters.
    pub value: String,
}

impl UnknownValue {
    pub fn new(table: &'static str, column: &'static str, row_id: impl fmt::Display, value: impl fmt::Display) -> Self {
        Self { table, column, row_id: row_id.to_string(), value: value.to_string().chars().take(64).collect() }
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{} of row {} holds {:?}, which is not one of its values", self.table, self.column, self.row_id, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// `value`, stored in `table.column` of row `row_id`, read with `parse`.
pub fn parse<T>(
    table: &'static str,
    column: &'static str,
    row_id: impl fmt::Display,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, UnknownValue> {
    parse(value).ok_or_else(|| UnknownValue::new(table, column, row_id, value))
}

/// Logged with its row; the client learns nothing of it (a database error).
impl From<UnknownValue> for sea_orm::DbErr {
    fn from(e: UnknownValue) -> Self {
        tracing::error!(table = e.table, column = e.column, row_id = %e.row_id, value = %e.value, "stored value outside its vocabulary");
        sea_orm::DbErr::Custom(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_value_names_its_row_and_leaks_nothing() {
        let known = parse("users", "role", 3, "admin", |s| (s == "admin").then_some(1));
        assert_eq!(known, Ok(1));
        let e = parse("users", "role", 3, "root", |s| (s == "admin").then_some(1)).unwrap_err();
        assert_eq!(e.to_string(), "users.role of row 3 holds \"root\", which is not one of its values");
        assert_eq!(UnknownValue::new("t", "c", "a-uuid", "x".repeat(100)).value.len(), 64);
        let status = tonic::Status::from(e);
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("root") && !status.message().contains("users"), "{}", status.message());
    }
}
