//! The service's plain values as proto messages: limits, window usage, an
//! action (its stored status read back strictly), stats and their buckets, a verification and
//! a human audit record.

use atmr_proto::safety::v1 as pb;
use chrono::{DateTime, Utc};
use kit::{convert::timestamp as ts, stored::UnknownValue};

use crate::{
    domain::{
        chain::Verification,
        human::StoredHuman,
        limits::{EffectiveLimits, LimitDefaults, Override, Scope},
        windows::{Usage, Window},
    },
    store::{
        Action,
        entities::status,
        stats::{Bucket, Stats},
    },
};

pub fn limits(l: &EffectiveLimits) -> pb::SafetyLimits {
    let n = |v: u32| Some(v as i32);
    pb::SafetyLimits {
        max_actions_per_hour: n(l.per_hour),
        max_actions_per_day: n(l.per_day),
        default_type_max_per_hour: n(l.type_per_hour),
        default_type_max_per_day: n(l.type_per_day),
        action_types: l
            .types
            .iter()
            .map(|(t, (h, d))| pb::ActionTypeLimits { action_type: t.clone(), max_per_hour: n(*h), max_per_day: n(*d) })
            .collect(),
    }
}

/// The configured defaults as limits (no action type listed).
pub fn defaults(d: LimitDefaults) -> pb::SafetyLimits {
    let n = |v: u32| Some(v as i32);
    pb::SafetyLimits {
        max_actions_per_hour: n(d.per_hour),
        max_actions_per_day: n(d.per_day),
        default_type_max_per_hour: n(d.type_per_hour),
        default_type_max_per_day: n(d.type_per_day),
        action_types: Vec::new(),
    }
}

/// A company's stored overrides: only the values it set.
pub fn overrides(overrides: &[Override]) -> pb::SafetyLimits {
    let n = |v: Option<u32>| v.map(|v| v as i32);
    let mut out = pb::SafetyLimits::default();
    for o in overrides {
        match &o.scope {
            Scope::Company => (out.max_actions_per_hour, out.max_actions_per_day) = (n(o.per_hour), n(o.per_day)),
            Scope::DefaultType => (out.default_type_max_per_hour, out.default_type_max_per_day) = (n(o.per_hour), n(o.per_day)),
            Scope::Type(t) => out.action_types.push(pb::ActionTypeLimits {
                action_type: t.clone(),
                max_per_hour: n(o.per_hour),
                max_per_day: n(o.per_day),
            }),
        }
    }
    out
}

fn window(w: Window) -> i32 {
    match w {
        Window::Hour => pb::LimitWindow::Hour as i32,
        Window::Day => pb::LimitWindow::Day as i32,
    }
}

pub fn usage(u: &Usage, frees_at: Option<DateTime<Utc>>) -> pb::LimitUsage {
    pb::LimitUsage {
        scope: u.scope.label().to_owned(),
        window: window(u.window),
        limit: u.limit as i32,
        used: u.used as i32,
        remaining: u.remaining() as i32,
        frees_at: frees_at.map(ts),
    }
}

/// An action's answer; a status stored outside its vocabulary is an error
/// naming the row, never shown as failed (and a list with such a row fails).
pub fn action(m: Action) -> Result<pb::Action, UnknownValue> {
    let status = match m.status.as_str() {
        status::AUTHORIZED => pb::ActionStatus::Authorized,
        status::SUCCEEDED => pb::ActionStatus::Succeeded,
        status::FAILED => pb::ActionStatus::Failed,
        other => return Err(UnknownValue::new("autonomous_action", "status", m.id, other)),
    };
    Ok(pb::Action {
        id: m.id,
        company_id: m.company_id,
        booking_id: m.booking_id,
        driver_id: m.driver_id,
        action_type: m.action_type,
        action_description: m.action_description,
        action_data: m.action_data.unwrap_or_default(),
        success: m.success,
        error_message: m.error_message,
        execution_time_ms: m.execution_time_ms,
        confidence_score: m.confidence_score,
        expected_improvement_minutes: m.expected_improvement_minutes,
        trigger_source: m.trigger_source.unwrap_or_default(),
        reviewed_by_admin: m.reviewed_by_admin,
        reviewed_at: m.reviewed_at.map(ts),
        admin_notes: m.admin_notes,
        create_time: Some(ts(m.created_at)),
        update_time: Some(ts(m.updated_at)),
        status: status as i32,
        reviewed_by: m.reviewed_by,
        consumed_windows: m.consumed_windows.split(';').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        chain_hash: m.completion_hash.clone().unwrap_or_else(|| m.row_hash.clone()),
        chain_seq: m.chain_seq,
        prev_hash: m.prev_hash,
        row_hash: m.row_hash,
        completion_seq: m.completion_seq,
        completion_hash: m.completion_hash,
        review_seq: m.review_seq,
        review_hash: m.review_hash,
        authorized_by: m.authorized_by.unwrap_or_default(),
        hash_version: i32::from(m.hash_version),
    })
}

/// succeeded / (succeeded + failed); 0 when nothing finished.
fn rate(succeeded: i64, failed: i64) -> f64 {
    let finished = succeeded + failed;
    if finished == 0 { 0.0 } else { succeeded as f64 / finished as f64 }
}

fn by_type(types: Vec<(String, i64, i64, i64)>) -> Vec<pb::ActionTypeStats> {
    types.into_iter().map(|(action_type, total, succeeded, failed)| pb::ActionTypeStats { action_type, total, succeeded, failed }).collect()
}

/// One bucket of GetActionStats, from `start` to `end`.
pub fn bucket(start: DateTime<Utc>, end: DateTime<Utc>, b: Bucket) -> pb::ActionStatsBucket {
    pb::ActionStatsBucket {
        start_time: Some(ts(start)),
        end_time: Some(ts(end)),
        total: b.total,
        succeeded: b.succeeded,
        failed: b.failed,
        pending: b.pending,
        reviewed: b.reviewed,
        blocked: b.blocked,
        success_rate: rate(b.succeeded, b.failed),
        by_type: by_type(b.by_type),
    }
}

/// GetActionStats' answer for `period` (Unspecified answers as Day): the
/// totals since `since`, and the buckets when asked for.
pub fn stats(period: pb::StatsPeriod, s: Stats, since: DateTime<Utc>, buckets: Vec<pb::ActionStatsBucket>) -> pb::GetActionStatsResponse {
    pb::GetActionStatsResponse {
        period: if period == pb::StatsPeriod::Unspecified { pb::StatsPeriod::Day as i32 } else { period as i32 },
        total: s.total,
        succeeded: s.succeeded,
        failed: s.failed,
        pending: s.pending,
        success_rate: rate(s.succeeded, s.failed),
        by_type: by_type(s.by_type),
        blocked: s.blocked,
        avg_execution_time_ms: s.avg_execution_ms,
        p95_execution_time_ms: s.p95_execution_ms,
        reviewed: s.reviewed,
        buckets,
        since: Some(ts(since)),
    }
}

/// VerifyAuditChain's answer.
pub fn verification(v: Verification, last_checkpoint: Option<DateTime<Utc>>) -> pb::VerifyAuditChainResponse {
    pb::VerifyAuditChainResponse {
        intact: v.breaks.is_empty(),
        rows_checked: v.rows_checked,
        checkpoints_checked: v.checkpoints_checked,
        breaks: v
            .breaks
            .into_iter()
            .map(|b| pb::ChainBreak {
                action_id: b.action_id,
                kind: b.kind.as_str().to_owned(),
                detail: b.detail,
                record_id: b.record_id.unwrap_or_default(),
                chain_seq: b.chain_seq,
            })
            .collect(),
        last_checkpoint_time: last_checkpoint.map(ts),
    }
}

/// A human record of the chain as the audit log answers it. Changes that no
/// longer parse (a tampered row, which verification names) are answered as
/// none, and logged.
pub fn human(h: StoredHuman) -> pb::HumanRecord {
    let r = h.event.record;
    let changes = kit::audit_trail::fields_from_json(&r.changes).unwrap_or_else(|e| {
        tracing::warn!(record_id = %r.record_id, error = %e, "a human audit record's changes do not parse");
        Vec::new()
    });
    pb::HumanRecord {
        record_id: r.record_id,
        occur_time: Some(ts(r.occurred_at)),
        source: r.source,
        actor_user_id: r.actor_user_id,
        actor_email: r.actor_email,
        actor_role: r.actor_role,
        client_address: r.client_address.unwrap_or_default(),
        resource: r.resource,
        resource_id: r.resource_id,
        action: r.action,
        changes: changes
            .into_iter()
            .map(|c| pb::HumanChange { field: c.field, before: c.before, after: c.after, masked: c.masked })
            .collect(),
        chain_seq: h.event.seq,
        chain_hash: h.row_hash,
        record_time: Some(ts(h.event.recorded_at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_is_answered_only_with_a_known_status() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let row = |status: &str| Action {
            id: 12,
            company_id: 1,
            booking_id: Some(3),
            driver_id: None,
            action_type: "reassign".into(),
            action_description: "d".into(),
            action_data: None,
            success: false,
            error_message: None,
            execution_time_ms: None,
            confidence_score: None,
            expected_improvement_minutes: None,
            trigger_source: None,
            reviewed_by_admin: false,
            reviewed_at: None,
            admin_notes: None,
            created_at: at,
            updated_at: at,
            status: status.into(),
            reviewed_by: None,
            consumed_windows: String::new(),
            chain_seq: 1,
            prev_hash: "p".into(),
            row_hash: "r".into(),
            completion_seq: None,
            completion_hash: None,
            hash_version: 2,
            authorized_by: Some("service:dispatch".into()),
            review_seq: None,
            review_hash: None,
        };
        assert_eq!(action(row("succeeded")).unwrap().status(), pb::ActionStatus::Succeeded);
        assert_eq!(action(row("failed")).unwrap().status(), pb::ActionStatus::Failed);
        // Not shown as failed: an error naming the row and the value.
        let e = action(row("maybe")).unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str(), e.value.as_str()), ("autonomous_action", "status", "12", "maybe"));
    }
}
