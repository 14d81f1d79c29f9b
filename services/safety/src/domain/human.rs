//! A human audit record as the chain holds it: what a person changed (who,
//! from where, what, when, the fields before and after), checked as it
//! arrives, and the hash that links it into the company's chain beside the
//! autonomous actions (`chain.rs` verifies both kinds in one walk).

use chrono::{DateTime, Utc};

use super::{canonical::Canonical, limits::Invalid};

/// The components a record may come from.
pub const SOURCES: &[&str] = &["dispatch", "gateway", "safety", "notify"];

/// One record, as delivered (or made by safety for its own limits).
#[derive(Clone, Debug, PartialEq)]
pub struct HumanRecord {
    pub record_id: String,
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub actor_user_id: String,
    pub actor_email: String,
    pub actor_role: String,
    pub client_address: Option<String>,
    pub resource: String,
    pub resource_id: String,
    pub action: String,
    /// The fields that changed, as JSON (`kit::audit_trail::fields_json`).
    pub changes: String,
}

/// What a human record commits to: the record, its place and when it was chained.
#[derive(Clone, Debug, PartialEq)]
pub struct HumanEvent {
    pub company_id: i64,
    pub seq: i64,
    pub record: HumanRecord,
    pub recorded_at: DateTime<Utc>,
}

impl HumanEvent {
    pub fn hash(&self, prev: &str) -> String {
        let mut c = Canonical::new("human", prev);
        c.int(Some(self.company_id));
        c.int(Some(self.seq));
        let r = &self.record;
        for text in [&r.record_id, &r.source, &r.actor_user_id, &r.actor_email, &r.actor_role] {
            c.text(Some(text));
        }
        c.text(r.client_address.as_deref());
        for text in [&r.resource, &r.resource_id, &r.action, &r.changes] {
            c.text(Some(text));
        }
        c.time(r.occurred_at);
        c.time(self.recorded_at);
        c.finish()
    }
}

/// A human record as stored, for verification.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredHuman {
    pub event: HumanEvent,
    pub prev_hash: String,
    pub row_hash: String,
}

/// A filter of the audit log.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// A user id or an email.
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub max_chain_seq: Option<i64>,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid { field: field.into(), message: message.into() }
}

fn bounded(field: &str, value: &str, max: usize, required: bool) -> Result<(), Invalid> {
    if required && value.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    Ok(())
}

impl HumanRecord {
    /// Checks a delivered record; `field` prefixes the names in the error
    /// (`records[3].`).
    pub fn check(&self, field: &str) -> Result<(), Invalid> {
        let f = |name: &str| format!("{field}{name}");
        if uuid::Uuid::parse_str(&self.record_id).is_err() {
            return Err(invalid(f("record_id"), format!("{:?} is not a UUID", self.record_id)));
        }
        if !SOURCES.contains(&self.source.as_str()) {
            return Err(invalid(f("source"), format!("must be one of {}", SOURCES.join(", "))));
        }
        bounded(&f("actor_user_id"), &self.actor_user_id, 128, true)?;
        bounded(&f("actor_email"), &self.actor_email, 254, false)?;
        bounded(&f("actor_role"), &self.actor_role, 32, true)?;
        bounded(&f("client_address"), self.client_address.as_deref().unwrap_or(""), 64, false)?;
        bounded(&f("resource"), &self.resource, 64, true)?;
        bounded(&f("resource_id"), &self.resource_id, 128, true)?;
        bounded(&f("action"), &self.action, 32, true)?;
        if kit::audit_trail::fields_from_json(&self.changes).is_err() {
            return Err(invalid(f("changes"), "are not field changes"));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(n: u32) -> HumanRecord {
        HumanRecord {
            record_id: uuid::Uuid::from_u128(u128::from(n)).to_string(),
            occurred_at: DateTime::parse_from_rfc3339("2026-01-01T09:00:00Z").unwrap().with_timezone(&Utc),
            source: "dispatch".into(),
            actor_user_id: "4".into(),
            actor_email: "d@example.com".into(),
            actor_role: "dispatcher".into(),
            client_address: Some("203.0.113.9".into()),
            resource: "booking".into(),
            resource_id: n.to_string(),
            action: "update".into(),
            changes: r#"[{"field":"passengers","before":"1","after":"2","masked":false}]"#.into(),
        }
    }

    #[test]
    fn every_field_is_in_the_hash_and_a_bad_record_names_its_field() {
        let e = HumanEvent { company_id: 1, seq: 3, record: record(1), recorded_at: record(1).occurred_at };
        let h = e.hash("p");
        let mut other = e.clone();
        other.record.client_address = None;
        assert_ne!(other.hash("p"), h);
        let mut other = e.clone();
        other.record.changes = r#"[{"field":"passengers","before":"1","after":"3","masked":false}]"#.into();
        assert_ne!(other.hash("p"), h);
        assert_ne!(e.hash("q"), h);
        assert!(record(1).check("").is_ok());
        let bad = HumanRecord { record_id: "x".into(), ..record(1) };
        assert_eq!(bad.check("records[2].").unwrap_err().field, "records[2].record_id");
        let bad = HumanRecord { changes: "{}".into(), ..record(1) };
        assert_eq!(bad.check("").unwrap_err().field, "changes");
    }
}
