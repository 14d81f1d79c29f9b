//! The notices dispatch raises for notify: what the dispatcher is told about a
//! proposal of the autonomous manager (a late booking, a blocked action,
//! safety unreachable), and the ETA model's drift alert. Built here, committed
//! by the store to the outbox with the row that raised them.

use kit::notify::{Field, Notice, Severity};

use crate::{domain::autonomy::Proposal, store::entities::eta_model};

/// What a drift check found, as its alert tells it.
#[derive(Clone, Copy, Debug)]
pub struct DriftFound {
    /// The model measured, and on how many trips.
    pub version: i64,
    pub trips: i64,
    /// Its mean absolute error and bias, minutes.
    pub mae: f64,
    pub bias: f64,
}

/// What the dispatcher is told about proposal `p`.
pub fn dispatcher(event: &str, title: String, key: String, p: &Proposal) -> Notice {
    let field = |name: &str, value: String| Field::new(name, value, true);
    let mut fields = vec![field("Booking", p.booking_id.to_string()), field("Action", p.kind.to_owned())];
    fields.extend(p.from_driver_id.map(|d| field("Driver", d.to_string())));
    fields.extend(p.to_driver_id.map(|d| field("Proposed driver", d.to_string())));
    fields.push(field("Confidence", format!("{:.0} %", p.confidence * 100.0)));
    Notice {
        event_type: event.to_owned(),
        severity: Severity::Warning,
        title: title.chars().take(200).collect(),
        body: p.description.clone(),
        fields,
        idempotency_key: key,
    }
}

/// The alert of a drift `found` by a check at `threshold`, retrained as `new`
/// (committed with the new model).
pub fn drift(threshold: f64, found: &DriftFound, new: &eta_model::Model) -> Notice {
    let DriftFound { version, trips, mae, bias } = found;
    let field = |name: &str, value: String| Field::new(name, value, true);
    Notice {
        event_type: "eta.drift".to_owned(),
        severity: Severity::Warning,
        title: format!("ETA model drift: {mae:.1} min mean error (threshold {threshold:.1})"),
        body: format!(
            "Over the last {trips} completed trips, model v{version} was off by {mae:.1} min on average (bias {bias:+.1} min). \
             Retrained as v{}: {:.1} min on the same trips.",
            new.version, new.mae_minutes
        ),
        fields: vec![
            field("MAE before", format!("{mae:.2} min")),
            field("Bias before", format!("{bias:+.2} min")),
            field("MAE after", format!("{:.2} min", new.mae_minutes)),
            field("Trips", trips.to_string()),
            field("Model", format!("v{version} → v{}", new.version)),
        ],
        idempotency_key: format!("eta.drift:{}:{}", new.company_id, new.version),
    }
}
