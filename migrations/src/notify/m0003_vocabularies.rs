//! The notification service's closed vocabularies, enforced by the database
//! (see `crate::vocabulary` for how, and why triggers on SQLite): channel
//! kinds, notification states and severities (1 info .. 4 critical), routing
//! rules' minimum severities, monitor kinds and monitor and heartbeat states.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SEVERITIES: &[i64] = &[1, 2, 3, 4];
const MONITOR_STATES: &[&str] = &["up", "pending", "down", "paused", "maintenance"];

const VOCABULARIES: &[Vocabulary] = &[
    Vocabulary::text("notify_channel", "kind", &["log", "discord", "email", "webhook"]),
    Vocabulary::text("notification", "status", &["pending", "sending", "delivered", "dead"]),
    Vocabulary::int("notification", "severity", SEVERITIES),
    Vocabulary::int("notify_route", "min_severity", SEVERITIES),
    Vocabulary::text("monitor", "kind", &["http", "grpc_health", "tcp"]),
    Vocabulary::text("monitor", "state", MONITOR_STATES),
    Vocabulary::text("heartbeat", "state", MONITOR_STATES),
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
