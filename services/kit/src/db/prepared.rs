//! Statements built once and bound with fresh values on each call ([`Prepared`]).

/// A statement built once from a sea-query expression and bound with fresh
/// values on each call. Building a wide SELECT (dozens of aliased, quoted
/// columns) costs more CPU than SQLite takes to answer it, and a hot read's SQL
/// text never changes: only its values do.
#[derive(Clone, Debug)]
pub struct Prepared {
    sql: String,
    backend: sea_orm::DatabaseBackend,
    /// The values the statement was built with, in placeholder order: each
    /// call must bind as many, of the same kinds.
    template: Vec<sea_orm::Value>,
}

impl Prepared {
    /// Keeps `statement`'s text; its values only fix how many a call binds.
    pub fn new(statement: sea_orm::Statement) -> Self {
        let template = statement.values.map(|v| v.0).unwrap_or_default();
        Self { sql: statement.sql, backend: statement.db_backend, template }
    }

    /// The statement with `values` in placeholder order.
    ///
    /// # Panics
    /// When `values` differ in number or kind from the template: a programming
    /// error of the caller, found by any test that runs the query.
    pub fn bind<const N: usize>(&self, values: [sea_orm::Value; N]) -> sea_orm::Statement {
        assert!(
            values.len() == self.template.len()
                && values.iter().zip(&self.template).all(|(v, t)| std::mem::discriminant(v) == std::mem::discriminant(t)),
            "prepared statement bound with {values:?}, built with {:?}: {}",
            self.template,
            self.sql
        );
        sea_orm::Statement::from_sql_and_values(self.backend, self.sql.clone(), values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select_by(id: i64, name: &str) -> sea_orm::Statement {
        use sea_orm::sea_query::{Alias, Expr, Query};
        let q = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .and_where(Expr::col(Alias::new("name")).eq(name))
            .to_owned();
        sea_orm::DatabaseBackend::Postgres.build(&q)
    }

    #[test]
    fn a_prepared_statement_binds_what_building_would_have() {
        let prepared = Prepared::new(select_by(0, ""));
        let bound = prepared.bind([7i64.into(), "x".into()]);
        let built = select_by(7, "x");
        assert_eq!((bound.sql, bound.values), (built.sql, built.values));
    }

    #[test]
    #[should_panic(expected = "prepared statement bound with")]
    fn a_prepared_statement_refuses_values_of_another_kind() {
        Prepared::new(select_by(0, "")).bind(["7".into(), "x".into()]);
    }
}
