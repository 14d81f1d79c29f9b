//! The operator's monitors file applied in one transaction: per company, its
//! channels, monitors, routes and maintenance windows created when missing,
//! updated by name when they differ, deleted only when marked removed; what
//! the file does not name is left as it is. A reference the file cannot
//! resolve (a parent, a route's channel, a window's monitor) or a cycle of
//! parents undoes everything: nothing partial is applied.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait as _, DatabaseTransaction, EntityTrait as _, IntoActiveModel as _,
    QueryFilter as _, QueryOrder as _, Set, TransactionTrait as _,
};

use super::audit;
use crate::{
    domain::{
        channel::ChannelTarget,
        declared::{CompanyDecl, MonitorDecl, window_id},
        monitor::{MonitorConfig, MonitorKind},
    },
    error::Error,
    store::{
        Store,
        entities::{maintenance_window, monitor, notify_channel, notify_route},
        monitors::{apply, new_monitor},
    },
};

/// One company's declarations with its channels' targets read and checked
/// (one per channel, in order; the default for a removed one).
pub struct Plan<'a> {
    pub company: &'a CompanyDecl,
    pub targets: Vec<ChannelTarget>,
}

/// What applying a file did, counted over every kind of entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub created: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// An entry's field that cannot be applied, named as the file names it.
fn bad(entry: &str, field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{entry}.{field}"), message)
}

impl Store {
    /// Applies `plans` in one transaction, serialised with any other replica
    /// applying the same file at the same time.
    pub async fn apply_declared(&self, plans: &[Plan<'_>], now: DateTime<Utc>) -> Result<Applied, Error> {
        let txn = self.db.begin().await?;
        if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // Two replicas starting together would both create what is missing.
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7261527)").await?;
        }
        // Its parents are checked against the stored ones: no admin may set one meanwhile.
        for p in plans {
            super::monitors::one_parent_change_at_a_time(&txn, p.company.company_id).await?;
        }
        kit::db::lock_for_write(&txn, "monitor").await?;
        let mut n = Applied::default();
        for p in plans {
            channels(&txn, p, now, &mut n).await?;
            monitors(&txn, p.company, now, &mut n).await?;
            routes(&txn, p.company, now, &mut n).await?;
            windows(&txn, p.company, now, &mut n).await?;
        }
        txn.commit().await?;
        Ok(n)
    }
}

async fn channels(txn: &DatabaseTransaction, p: &Plan<'_>, now: DateTime<Utc>, n: &mut Applied) -> Result<(), Error> {
    let company_id = p.company.company_id;
    let stored = notify_channel::Entity::find().filter(notify_channel::Column::CompanyId.eq(company_id)).all(txn).await?;
    for (c, target) in p.company.channels.iter().zip(&p.targets) {
        let current = stored.iter().find(|s| s.name == c.name);
        if c.removed {
            if let Some(cur) = current {
                // Its routes go with it (the foreign key cascades).
                notify_channel::Entity::delete_by_id(cur.id.clone()).exec(txn).await?;
                audit::record(txn, kit::audit_trail::Change::new("notification_channel", &cur.id, "delete"), now).await?;
                n.removed += 1;
            }
            continue;
        }
        let kind = c.kind.label().to_owned();
        match current {
            None => {
                let row = notify_channel::ActiveModel {
                    id: Set(uuid::Uuid::new_v4().to_string()),
                    company_id: Set(company_id),
                    name: Set(c.name.clone()),
                    kind: Set(kind),
                    url: Set(target.url.clone()),
                    recipients: Set(target.recipients.clone()),
                    secret: Set(target.secret.clone()),
                    enabled: Set(true),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(txn)
                .await?;
                audit::record(txn, audit::diff("notification_channel", &row.id, "create", None, Some(&row)), now).await?;
                n.created += 1;
            }
            Some(cur)
                if cur.kind == kind
                    && cur.url == target.url
                    && cur.secret == target.secret
                    && cur.recipients == target.recipients
                    && cur.enabled =>
            {
                n.unchanged += 1
            }
            Some(cur) => {
                let mut row = cur.clone().into_active_model();
                row.kind = Set(kind);
                row.url = Set(target.url.clone());
                row.secret = Set(target.secret.clone());
                row.recipients = Set(target.recipients.clone());
                row.enabled = Set(true);
                row.updated_at = Set(now);
                let row = row.update(txn).await?;
                audit::record(txn, audit::diff("notification_channel", &row.id, "update", Some(cur), Some(&row)), now).await?;
                n.updated += 1;
            }
        }
    }
    Ok(())
}

async fn company_monitors(txn: &DatabaseTransaction, company_id: i64) -> Result<Vec<monitor::Model>, Error> {
    Ok(monitor::Entity::find().filter(monitor::Column::CompanyId.eq(company_id)).all(txn).await?)
}

async fn monitors(txn: &DatabaseTransaction, c: &CompanyDecl, now: DateTime<Utc>, n: &mut Applied) -> Result<(), Error> {
    let stored = company_monitors(txn, c.company_id).await?;
    for m in c.monitors.iter().filter(|m| m.removed) {
        if let Some(cur) = stored.iter().find(|s| s.name == m.config.name) {
            // Its children keep checking, without a parent (the foreign key sets it null).
            monitor::Entity::delete_by_id(cur.id.clone()).exec(txn).await?;
            audit::record(txn, kit::audit_trail::Change::new("monitor", &cur.id, "delete"), now).await?;
            n.removed += 1;
        }
    }
    let mut ids: HashMap<String, String> = stored
        .iter()
        .filter(|s| !c.monitors.iter().any(|m| m.removed && m.config.name == s.name))
        .map(|s| (s.name.clone(), s.id.clone()))
        .collect();
    // Created first without a parent, so that a parent declared after its child exists when the child is pointed at it.
    let mut created = Vec::new();
    let missing: Vec<&MonitorDecl> = c.monitors.iter().filter(|m| !m.removed && !ids.contains_key(&m.config.name)).collect();
    for m in missing {
        let mut row = new_monitor(c.company_id, now);
        apply(m.config.clone(), &mut row);
        let row = row.insert(txn).await?;
        audit::record(txn, audit::diff("monitor", &row.id, "create", None, Some(&row)), now).await?;
        ids.insert(m.config.name.clone(), row.id.clone());
        created.push(m.config.name.clone());
        n.created += 1;
    }
    for m in c.monitors.iter().filter(|m| !m.removed) {
        let parent_id = match &m.parent {
            None => None,
            Some(p) => Some(ids.get(p).cloned().ok_or_else(|| bad(&m.entry, "parent", format!("no monitor {p:?} is declared or stored")))?),
        };
        let want = MonitorConfig { parent_id, ..m.config.clone() };
        let id = &ids[&m.config.name];
        let Some(cur) = monitor::Entity::find_by_id(id.clone()).one(txn).await? else { continue };
        if stored_config(&cur).as_ref() == Some(&want) {
            if !created.contains(&m.config.name) {
                n.unchanged += 1;
            }
            continue;
        }
        let before = cur.clone();
        let mut row = cur.into_active_model();
        apply(want, &mut row);
        row.updated_at = Set(now);
        let row = row.update(txn).await?;
        if !created.contains(&m.config.name) {
            audit::record(txn, audit::diff("monitor", &row.id, "update", Some(&before), Some(&row)), now).await?;
            n.updated += 1;
        }
    }
    // A parent stored before, pointed at a declared child, may close a cycle.
    let parents: HashMap<String, Option<String>> =
        company_monitors(txn, c.company_id).await?.into_iter().map(|m| (m.id, m.parent_id)).collect();
    for m in c.monitors.iter().filter(|m| !m.removed && m.parent.is_some()) {
        let own = &ids[&m.config.name];
        let mut cursor = parents.get(own).cloned().flatten();
        for _ in 0..=parents.len() {
            let Some(id) = cursor else { break };
            if &id == own {
                return Err(bad(&m.entry, "parent", "would make the monitor its own ancestor"));
            }
            cursor = parents.get(&id).cloned().flatten();
        }
    }
    Ok(())
}

/// A stored monitor's configuration; `None` when its kind is not one this service knows (it is then rewritten).
fn stored_config(m: &monitor::Model) -> Option<MonitorConfig> {
    Some(MonitorConfig {
        name: m.name.clone(),
        kind: MonitorKind::parse(&m.kind)?,
        target: m.target.clone(),
        expected_status: m.expected_status,
        keyword: m.keyword.clone(),
        grpc_service: m.grpc_service.clone(),
        interval_secs: m.interval_secs,
        timeout_secs: m.timeout_secs,
        retries: m.retries,
        recovery_checks: m.recovery_checks,
        parent_id: m.parent_id.clone(),
        internal: m.internal,
    })
}

async fn routes(txn: &DatabaseTransaction, c: &CompanyDecl, now: DateTime<Utc>, n: &mut Applied) -> Result<(), Error> {
    let channels: HashMap<String, String> = notify_channel::Entity::find()
        .filter(notify_channel::Column::CompanyId.eq(c.company_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|ch| (ch.name, ch.id))
        .collect();
    for r in &c.routes {
        let Some(channel_id) = channels.get(&r.channel) else {
            if r.removed {
                continue;
            }
            return Err(bad(&r.entry, "channel", format!("no channel {:?} is declared or stored", r.channel)));
        };
        let matching = notify_route::Entity::find()
            .filter(notify_route::Column::CompanyId.eq(c.company_id))
            .filter(notify_route::Column::EventType.eq(r.event_type.as_str()))
            .filter(notify_route::Column::ChannelId.eq(channel_id.as_str()))
            .order_by_asc(notify_route::Column::CreatedAt)
            .order_by_asc(notify_route::Column::Id)
            .all(txn)
            .await?;
        if r.removed {
            for cur in &matching {
                notify_route::Entity::delete_by_id(cur.id.clone()).exec(txn).await?;
                audit::record(txn, kit::audit_trail::Change::new("notification_route", &cur.id, "delete"), now).await?;
                n.removed += 1;
            }
            continue;
        }
        let severity = r.min_severity as i16;
        match matching.first() {
            None => {
                let row = notify_route::ActiveModel {
                    id: Set(uuid::Uuid::new_v4().to_string()),
                    company_id: Set(c.company_id),
                    event_type: Set(r.event_type.clone()),
                    min_severity: Set(severity),
                    channel_id: Set(channel_id.clone()),
                    created_at: Set(now),
                    enabled: Set(true),
                }
                .insert(txn)
                .await?;
                audit::record(txn, audit::diff("notification_route", &row.id, "create", None, Some(&row)), now).await?;
                n.created += 1;
            }
            Some(cur) if cur.min_severity == severity && cur.enabled => n.unchanged += 1,
            Some(cur) => {
                let mut row = cur.clone().into_active_model();
                row.min_severity = Set(severity);
                row.enabled = Set(true);
                let row = row.update(txn).await?;
                audit::record(txn, audit::diff("notification_route", &row.id, "update", Some(cur), Some(&row)), now).await?;
                n.updated += 1;
            }
        }
    }
    Ok(())
}

async fn windows(txn: &DatabaseTransaction, c: &CompanyDecl, now: DateTime<Utc>, n: &mut Applied) -> Result<(), Error> {
    let ids: HashMap<String, String> = company_monitors(txn, c.company_id).await?.into_iter().map(|m| (m.name, m.id)).collect();
    for w in &c.windows {
        let id = window_id(c.company_id, &w.name);
        let current = maintenance_window::Entity::find_by_id(id.clone())
            .filter(maintenance_window::Column::CompanyId.eq(c.company_id))
            .one(txn)
            .await?;
        if w.removed {
            if current.is_some() {
                maintenance_window::Entity::delete_by_id(id.clone()).exec(txn).await?;
                audit::record(txn, kit::audit_trail::Change::new("maintenance_window", &id, "delete"), now).await?;
                n.removed += 1;
            }
            continue;
        }
        let mut monitor_ids = Vec::with_capacity(w.monitors.len());
        for (i, name) in w.monitors.iter().enumerate() {
            let id = ids
                .get(name)
                .ok_or_else(|| bad(&w.entry, &format!("monitors[{i}]"), format!("no monitor {name:?} is declared or stored")))?;
            monitor_ids.push(id.clone());
        }
        let want = maintenance_window::Model {
            id: id.clone(),
            company_id: c.company_id,
            monitor_ids: monitor_ids.join(","),
            starts_at: w.starts_at,
            ends_at: w.ends_at,
            reason: w.reason.clone(),
            created_at: current.as_ref().map_or(now, |cur| cur.created_at),
        };
        match current {
            None => {
                let row = maintenance_window::ActiveModel {
                    id: Set(want.id),
                    company_id: Set(want.company_id),
                    monitor_ids: Set(want.monitor_ids),
                    starts_at: Set(want.starts_at),
                    ends_at: Set(want.ends_at),
                    reason: Set(want.reason),
                    created_at: Set(now),
                }
                .insert(txn)
                .await?;
                audit::record(txn, audit::diff("maintenance_window", &row.id, "create", None, Some(&row)), now).await?;
                n.created += 1;
            }
            Some(cur) if cur == want => n.unchanged += 1,
            Some(cur) => {
                let mut row = cur.clone().into_active_model();
                row.monitor_ids = Set(want.monitor_ids);
                row.starts_at = Set(want.starts_at);
                row.ends_at = Set(want.ends_at);
                row.reason = Set(want.reason);
                let row = row.update(txn).await?;
                audit::record(txn, audit::diff("maintenance_window", &row.id, "update", Some(&cur), Some(&row)), now).await?;
                n.updated += 1;
            }
        }
    }
    Ok(())
}
