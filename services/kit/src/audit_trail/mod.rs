//! The human audit trail's record, in plain types: who (the person's user id,
//! email and role, and the client's address as the gateway saw it), what (a
//! resource, its id, an action), when, and the fields that changed with their
//! values before and after — for a patient's personal fields only that they
//! changed, never the values. A record has a UUID made with the change, so its
//! delivery to safety is idempotent.
//!
//! How a record travels: the owning component commits it in the transaction
//! of the change, in its own database (`outbox.rs`: `<component>_audit_outbox`),
//! and a relay hands it to safety's `RecordHumanChanges`, which appends it to
//! the company's hash chain. Who made the change: `scope.rs` — the gateway
//! passes the client's address in the `x-atmr-client-address` metadata of
//! every call, and each service runs a person's call in an actor scope, so a
//! store write records with one call ([`outbox::record`]). Calls with a
//! service token (the autonomous manager, jobs) have no actor: their changes
//! are audited as safety's actions, not here.

pub mod outbox;
pub mod scope;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

use crate::Component;

pub use outbox::{record, record_all, record_as};
pub use scope::{Actor, CLIENT_ADDRESS_HEADER};

/// A component's audit outbox: its table and the bell that wakes its relay.
#[derive(Clone, Debug)]
pub struct AuditOutbox {
    component: Component,
    wake: Arc<Notify>,
}

impl AuditOutbox {
    pub fn of(component: Component) -> Self {
        Self { component, wake: Arc::new(Notify::new()) }
    }

    /// Tells the relay a record was committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn component(&self) -> Component {
        self.component
    }
}

/// One field's change. A masked field has neither value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    #[serde(default)]
    pub masked: bool,
}

/// What a person changed: a resource, its id, the action and its fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub resource: String,
    pub resource_id: String,
    pub action: String,
    pub fields: Vec<FieldChange>,
}

/// A change with who made it, when, where it was committed and its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// A UUID, made with the change.
    pub record_id: String,
    pub company_id: i64,
    pub occurred_at: DateTime<Utc>,
    /// The component that owns the changed data.
    pub source: String,
    pub actor: Actor,
    pub change: Change,
}

/// Fields no record lists: bookkeeping every row has.
const BOOKKEEPING: &[&str] = &["id", "company_id", "created_at", "updated_at"];

impl Change {
    /// A change with no fields yet.
    pub fn new(resource: &str, resource_id: impl ToString, action: &str) -> Self {
        Self { resource: resource.to_owned(), resource_id: resource_id.to_string(), action: action.to_owned(), fields: Vec::new() }
    }

    /// The change from `before` to `after` (either absent for a creation or a
    /// deletion), field by field as they serialise: only fields whose values
    /// differ, bookkeeping left out, the fields named in `masked` listed
    /// without values.
    pub fn diff<T: Serialize>(
        resource: &str,
        resource_id: impl ToString,
        action: &str,
        before: Option<&T>,
        after: Option<&T>,
        masked: &[&str],
    ) -> Self {
        let mut change = Self::new(resource, resource_id, action);
        let object = |v: Option<&T>| match v.map(serde_json::to_value) {
            Some(Ok(Value::Object(m))) => m,
            _ => serde_json::Map::new(),
        };
        let (before, after) = (object(before), object(after));
        let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            if BOOKKEEPING.contains(&name.as_str()) {
                continue;
            }
            let (b, a) = (before.get(name).filter(|v| !v.is_null()), after.get(name).filter(|v| !v.is_null()));
            if b != a {
                change.push_values(name, b.map(text), a.map(text), masked.contains(&name.as_str()));
            }
        }
        change
    }

    /// Adds one field's change (no values when `masked`).
    pub fn push_values(&mut self, field: &str, before: Option<String>, after: Option<String>, masked: bool) {
        let (before, after) = if masked { (None, None) } else { (before, after) };
        self.fields.push(FieldChange { field: field.to_owned(), before, after, masked });
    }

    /// Adds a field's change.
    pub fn with(mut self, field: &str, before: Option<impl ToString>, after: Option<impl ToString>) -> Self {
        self.push_values(field, before.map(|v| v.to_string()), after.map(|v| v.to_string()), false);
        self
    }

    /// Whether the change names no field (an update that changed nothing).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// A value as a record shows it: text as it is, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The changes as the JSON text a record stores and its chain hashes.
pub fn fields_json(fields: &[FieldChange]) -> String {
    serde_json::to_string(fields).expect("field changes serialise")
}

/// The changes from their stored JSON text.
pub fn fields_from_json(text: &str) -> Result<Vec<FieldChange>, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Patient {
        id: i64,
        name: String,
        phone: String,
        mobility: String,
        seats: i32,
        notes: Option<String>,
        updated_at: String,
    }

    fn patient() -> Patient {
        Patient {
            id: 7,
            name: "Ada".into(),
            phone: "+41 79 000 00 00".into(),
            mobility: "walking".into(),
            seats: 1,
            notes: None,
            updated_at: "t0".into(),
        }
    }

    #[test]
    fn a_diff_lists_changed_fields_with_values_and_masks_personal_ones() {
        let before = patient();
        let after = Patient { phone: "+41 79 111 11 11".into(), seats: 2, notes: Some("x".into()), updated_at: "t1".into(), ..patient() };
        let c = Change::diff("client", 7, "update", Some(&before), Some(&after), &["name", "phone", "notes"]);
        assert_eq!((c.resource.as_str(), c.resource_id.as_str(), c.action.as_str()), ("client", "7", "update"));
        assert_eq!(
            c.fields,
            vec![
                FieldChange { field: "notes".into(), before: None, after: None, masked: true },
                FieldChange { field: "phone".into(), before: None, after: None, masked: true },
                FieldChange { field: "seats".into(), before: Some("1".into()), after: Some("2".into()), masked: false },
            ]
        );
        let json = fields_json(&c.fields);
        assert!(!json.contains("+41"), "a masked value never reaches the record: {json}");
        assert_eq!(fields_from_json(&json).unwrap(), c.fields);
    }

    #[test]
    fn a_creation_lists_every_set_field_and_an_unchanged_update_none() {
        let c = Change::diff("client", 7, "create", None, Some(&patient()), &["name", "phone"]);
        let names: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["mobility", "name", "phone", "seats"]);
        assert_eq!(c.fields[0].after.as_deref(), Some("walking"));
        assert!(c.fields[0].before.is_none());
        assert!(Change::diff("client", 7, "update", Some(&patient()), Some(&patient()), &[]).is_empty());
        let masked = Change::new("client", 7, "update").with("name", Some("a"), Some("b"));
        assert_eq!(masked.fields[0].after.as_deref(), Some("b"));
    }
}
