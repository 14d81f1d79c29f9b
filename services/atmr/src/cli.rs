//! The command line: every subcommand and its arguments, as clap reads them;
//! `lib.rs` carries each one out.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kit::Component;

use crate::{audit, backup, company};

/// atmr: a non-emergency medical transport platform as a gRPC mesh.
#[derive(Debug, Parser)]
#[command(name = "atmr", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs every component in this process on loopback, with SQLite files under
    /// ./data (or ATMR_DATA_DIR), the in-memory cache and the log notification channel.
    Up {
        /// Creates the demo company's data first (see `atmr demo`).
        #[arg(long)]
        demo: bool,
    },
    /// Creates demo data in the first company: 40 drivers, 600 patients and 500
    /// bookings for tomorrow around Geneva and Lausanne, and a dispatcher login.
    /// Running it again creates nothing twice.
    Demo,
    /// Runs one component, as a container does.
    Serve {
        /// dispatch, safety, bugs, notify or gateway.
        component: Component,
    },
    /// Exits 0 when `url` answers 2xx in time, else 1 with the reason: the health
    /// check of compose and of images without a shell or curl.
    Probe {
        /// For example http://127.0.0.1:9091/health/ready.
        url: String,
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
    },
    /// Applies, rolls back or lists database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// The platform operator's companies, through a running gateway.
    Company {
        #[command(subcommand)]
        action: CompanyAction,
    },
    /// The deployment's keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The audit trail, offline.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Backs every component's database up into a directory or an
    /// S3-compatible bucket (s3://bucket/prefix), with a manifest of checksums
    /// and schema versions, then removes the backups past the retention
    /// (README, "Backups").
    Backup(backup::BackupArgs),
    /// Restores a backup: checks every checksum first, refuses a database
    /// that holds rows unless --force (README, "Backups").
    Restore(backup::RestoreArgs),
    /// The operator's monitors file (ATMR_MONITORS_FILE), offline.
    Monitors {
        #[command(subcommand)]
        action: MonitorsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum MonitorsAction {
    /// Checks monitors files as notify's start does (the egress policy from
    /// NOTIFY_EGRESS_ALLOW), without reading the channels' credential files;
    /// exits 1 naming the file, entry and field of the first error.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Writes every key a deployment needs into a directory, keeping the ones
    /// already there: each component's identity (`<component>.key.pem`, and
    /// `<component>.pub.pem` for its callees), the gateway's user-token key
    /// (`user-token.key.pem`), safety's audit key (`safety-audit.key`) and
    /// the secret Alertmanager presents to the gateway (`alerts-token`).
    /// Give each component only its own private key (README, "Security").
    Generate {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Checks a safety database against exported checkpoints (the witness
    /// file); exits 1 naming each row or checkpoint that disagrees.
    Verify(audit::VerifyArgs),
}

#[derive(Debug, Subcommand)]
pub enum CompanyAction {
    /// Creates a company and its first admin, whose login is printed once.
    /// Logs in with ATMR_OPERATOR_EMAIL and ATMR_OPERATOR_PASSWORD.
    Create(company::CreateCompany),
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Applies every pending migration.
    Up {
        /// One component; all when omitted.
        component: Option<Component>,
    },
    /// Rolls back the newest migrations of one component.
    Down {
        component: Component,
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// Lists each migration and whether it is applied.
    Status { component: Option<Component> },
    /// Records a schema made by hand as migrated up to and including
    /// `version`, running nothing (refuses a version it does not know).
    Stamp {
        component: Component,
        /// A migration's name, e.g. m0004_bug_history (`atmr migrate status` lists them).
        #[arg(value_name = "VERSION")]
        migration: String,
    },
}
