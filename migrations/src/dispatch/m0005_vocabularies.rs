//! The dispatch service's closed vocabularies, enforced by the database (see
//! `crate::vocabulary` for how, and why triggers on SQLite): vehicle kinds,
//! mobility, driver, booking, assignment and run statuses, a run's mode and
//! routing source, a generated booking's leg, the autonomous manager's modes,
//! suggestion kinds and states, and drift-check states.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

const MOBILITY: &[&str] = &["ambulatory", "wheelchair", "stretcher"];

const VOCABULARIES: &[Vocabulary] = &[
    // The notice outbox's severity rank (1 info .. 4 critical).
    Vocabulary::int("dispatch_notice_outbox", "severity", &[1, 2, 3, 4]),
    Vocabulary::text("driver", "vehicle_kind", &["car", "wheelchair_van", "stretcher"]),
    Vocabulary::text("driver", "status", &["available", "on_duty", "off_duty", "inactive"]),
    Vocabulary::text("client", "mobility", MOBILITY),
    Vocabulary::text("booking", "mobility", MOBILITY),
    Vocabulary::text("booking", "status", &["pending", "assigned", "en_route", "picked_up", "completed", "cancelled", "no_show"]),
    // 0 the outbound trip, 1 the return; null for a booking made by hand.
    Vocabulary::int("booking", "recurring_leg", &[0, 1]),
    Vocabulary::text("recurring_template", "mobility", MOBILITY),
    Vocabulary::text("dispatch_run", "mode", &["full", "pending_only"]),
    Vocabulary::text("dispatch_run", "status", &["running", "completed", "failed"]),
    // Empty until the run has a travel matrix (and for a run that failed before).
    Vocabulary::text("dispatch_run", "routing_source", &["", "osrm", "haversine"]),
    Vocabulary::text("assignment", "status", &["planned", "active", "done", "superseded"]),
    Vocabulary::text("autonomy_settings", "mode", &["off", "suggest", "autonomous"]),
    Vocabulary::text("autonomy_suggestion", "kind", &["reassign", "swap", "delay", "notify_dispatcher"]),
    Vocabulary::text("autonomy_suggestion", "state", &["open", "blocked", "safety_unavailable", "executed", "expired"]),
    Vocabulary::text("drift_check", "state", &["completed", "failed", "retried"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::add(manager, VOCABULARIES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, VOCABULARIES).await
    }
}
