//! The checkpointer, and verification outside the service.
//!
//! Every interval, for each company whose chain head moved, the checkpointer
//! re-walks the rows since the previous checkpoint (recomputing each hash from
//! that checkpoint's head to the head the database states) and signs the head
//! only if they all agree; the checkpoint names its predecessor's signature
//! (`domain::checkpoint`). It is written to the database with an
//! `audit.checkpoint` notice for notify (one transaction, through the
//! outbox), then appended to the witness file (`witness.rs`). A re-walk that
//! fails, or a database that lacks or changed a checkpoint the witness holds,
//! signs nothing: an error log, the `safety_audit_checkpoints_total{outcome=
//! "refused"}` metric and an `audit.chain_broken` notice, every round until
//! someone looks.
//!
//! `verify_database` is the same verification as `VerifyAuditChain`, from a
//! database URL and the witness file, without the service (`atmr audit verify`).

pub mod witness;

use std::{path::Path, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use kit::{
    Component, Lifecycle,
    clock::SharedClock,
    notify::{Field, Notice, Severity},
    outbox::Outbox,
};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait as _};

use crate::{
    config::Config,
    domain::{
        chain::{self, Break, BreakKind, GENESIS, Verification},
        checkpoint::{self, Checkpoint, KnownKeys},
    },
    metrics::CheckpointMetrics,
    store::{checkpoints, heads, human},
};
use witness::WitnessFile;

/// What one round of the checkpointer did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Checkpoints signed and written.
    pub signed: usize,
    /// Companies whose head was not signed, and why (the first break found).
    pub refused: Vec<(i64, Break)>,
}

/// Signs chain heads after re-walking them; see the module's documentation.
pub struct Checkpointer {
    db: DatabaseConnection,
    key: SigningKey,
    keys: KnownKeys,
    witness: Option<Arc<WitnessFile>>,
    outbox: Outbox,
    metrics: CheckpointMetrics,
}

impl Checkpointer {
    /// A checkpointer with `cfg`'s key, known keys and witness file, writing
    /// its notices to safety's outbox (delivered by the service's relay).
    pub fn new(db: DatabaseConnection, cfg: &Config) -> anyhow::Result<Self> {
        Self::with(db, cfg, Outbox::of(Component::Safety), CheckpointMetrics::unregistered())
    }

    pub(crate) fn with(db: DatabaseConnection, cfg: &Config, outbox: Outbox, metrics: CheckpointMetrics) -> anyhow::Result<Self> {
        let witness = cfg.witness_file.as_deref().map(WitnessFile::open).transpose()?.map(Arc::new);
        Ok(Self { db, key: cfg.signing_key.clone(), keys: cfg.known_keys.clone(), witness, outbox, metrics })
    }

    /// Signs a checkpoint for every company whose head moved since its last
    /// one and whose rows since then re-walk cleanly.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<Round, DbErr> {
        let mut round = Round::default();
        for head in heads::moved(&self.db).await? {
            let company_id = head.company_id;
            match self.company(&head, now).await? {
                Ok(false) => {}
                Ok(true) => {
                    round.signed += 1;
                    self.metrics.outcomes.with_label_values(&["signed", ""]).inc();
                }
                Err(b) => {
                    tracing::error!(
                        company_id,
                        kind = b.kind.as_str(),
                        action_id = b.action_id,
                        detail = %b.detail,
                        "audit chain does not re-walk from its last checkpoint; the head is NOT signed"
                    );
                    self.metrics.outcomes.with_label_values(&["refused", b.kind.as_str()]).inc();
                    let notice = broken_notice(company_id, head.seq, &b);
                    self.outbox.enqueue(&self.db, company_id, &notice, now).await?;
                    self.outbox.wake();
                    round.refused.push((company_id, b));
                }
            }
        }
        Ok(round)
    }

    /// Signs `head` if it moved and re-walks: Ok(true) signed, Ok(false)
    /// nothing to sign, Err(the first break) refused.
    async fn company(&self, head: &heads::Head, now: DateTime<Utc>) -> Result<Result<bool, Break>, DbErr> {
        let company_id = head.company_id;
        let mut last = checkpoints::last(&self.db, company_id).await?;
        if let Some(w) = self.witness.as_ref().and_then(|w| w.last(company_id)) {
            let stored = checkpoints::of(&self.db, company_id, w.checkpoint_seq - 1).await?;
            match stored.first() {
                Some(c) if c.checkpoint_seq == w.checkpoint_seq && c.signature == w.signature => {}
                Some(c) if c.checkpoint_seq == w.checkpoint_seq => {
                    let detail = format!("the database's checkpoint {} is not the one the witness holds", c.checkpoint_seq);
                    return Ok(Err(Break::general(BreakKind::CheckpointReplaced, detail)));
                }
                _ => {
                    let detail = format!(
                        "the witness holds checkpoint {} (chain position {}); the database's newest is {}",
                        w.checkpoint_seq,
                        w.chain_seq,
                        last.as_ref().map_or("none".to_owned(), |c| c.checkpoint_seq.to_string())
                    );
                    return Ok(Err(Break::general(BreakKind::CheckpointMissing, detail)));
                }
            }
            // Checkpoints committed but not witnessed (the file failed, or another
            // replica signed them) are witnessed now, if they are genuine.
            for c in stored.iter().skip(1) {
                if !self.keys.verifies(c) {
                    break;
                }
                self.witness(c);
            }
        }
        if let Some(c) = &last
            && !self.keys.verifies(c)
        {
            let detail = format!("the last checkpoint ({}) does not verify with any known public key", c.checkpoint_seq);
            return Ok(Err(Break::general(BreakKind::CheckpointSignatureInvalid, detail)));
        }
        let (from_seq, from_hash) = last.as_ref().map_or((0, GENESIS.to_owned()), |c| (c.chain_seq, c.head_hash.clone()));
        if head.seq == from_seq && head.head_hash == from_hash {
            return Ok(Ok(false));
        }
        let rows = checkpoints::rows_since(&self.db, company_id, from_seq).await?;
        let humans = human::since(&self.db, company_id, from_seq).await?;
        if let Some(b) = chain::rewalk(&rows, &humans, (from_seq, &from_hash), (head.seq, &head.head_hash)).into_iter().next() {
            return Ok(Err(b));
        }
        let prev_signature = last.take().map(|c| (c.checkpoint_seq, c.signature)).unwrap_or((0, String::new()));
        let c = checkpoint::sign(
            &self.key,
            checkpoint::Head {
                company_id,
                checkpoint_seq: prev_signature.0 + 1,
                chain_seq: head.seq,
                head_hash: &head.head_hash,
                prev_signature: &prev_signature.1,
                signed_at: now,
            },
        );
        let txn = self.db.begin().await?;
        checkpoints::insert(&txn, &c).await?;
        self.outbox.enqueue(&txn, company_id, &checkpoint_notice(&c), now).await?;
        txn.commit().await?;
        self.outbox.wake();
        self.witness(&c);
        Ok(Ok(true))
    }

    /// Appends `c` to the witness file, if there is one; a failure is logged
    /// and counted, and retried next round (see `company`).
    fn witness(&self, c: &Checkpoint) {
        let Some(w) = &self.witness else { return };
        if let Err(e) = w.append(c) {
            tracing::error!(
                company_id = c.company_id,
                checkpoint = c.checkpoint_seq,
                file = %w.path().display(),
                error = %e,
                "audit checkpoint not written to the witness file"
            );
            self.metrics.outcomes.with_label_values(&["witness_failed", ""]).inc();
        }
    }
}

/// Runs `checkpointer` every `interval` until `life` stops.
pub async fn run_checkpoints(checkpointer: Checkpointer, clock: SharedClock, interval: Duration, life: Lifecycle) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = life.stopping() => return,
        }
        match checkpointer.run_once(clock.now()).await {
            Ok(r) if r.signed > 0 => tracing::info!(checkpoints = r.signed, refused = r.refused.len(), "audit chain heads signed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "audit checkpoint failed; retrying next interval"),
        }
    }
}

/// Verifies companies' trails in the database at `database_url` against their
/// checkpoints and, with `witness_file`, against the witness: every company
/// with a chain or a checkpoint in either when `company` is None. With no
/// `keys`, the public keys the witness names are trusted (it is the record
/// the database writer cannot alter). Nothing is written.
pub async fn verify_database(
    database_url: &str,
    company: Option<i64>,
    witness_file: Option<&Path>,
    keys: KnownKeys,
) -> anyhow::Result<Vec<(i64, Verification)>> {
    let db = kit::db::connect(database_url).await?;
    let witnessed = match witness_file {
        Some(path) => Some(witness::read(path)?),
        None => None,
    };
    let keys = match (&witnessed, keys.is_empty()) {
        (Some(w), true) => {
            let parsed: Result<Vec<_>, String> = w.iter().map(|c| KnownKeys::parse_key(&c.public_key)).collect();
            KnownKeys::new(parsed.map_err(|e| anyhow::anyhow!("a public key in the witness file: {e}"))?)
        }
        (None, true) => anyhow::bail!("no public key to verify checkpoints with: give one, or the witness file"),
        _ => keys,
    };
    let companies = match company {
        Some(c) => vec![c],
        None => {
            let mut ids = checkpoints::companies(&db).await?;
            ids.extend(witnessed.iter().flatten().map(|c| c.company_id));
            ids.sort_unstable();
            ids.dedup();
            ids
        }
    };
    let mut out = Vec::with_capacity(companies.len());
    for company_id in companies {
        out.push((company_id, verify_company(&db, company_id, witnessed.as_deref(), &keys).await?));
    }
    Ok(out)
}

/// One company's verification: its rows, records and checkpoints, and the
/// witness's entries for it when a witness is given.
pub async fn verify_company(
    db: &DatabaseConnection,
    company_id: i64,
    witnessed: Option<&[Checkpoint]>,
    keys: &KnownKeys,
) -> Result<Verification, DbErr> {
    let rows = checkpoints::rows_since(db, company_id, 0).await?;
    let humans = human::since(db, company_id, 0).await?;
    let stored = checkpoints::of(db, company_id, 0).await?;
    let witness: Option<Vec<Checkpoint>> = witnessed.map(|w| w.iter().filter(|c| c.company_id == company_id).cloned().collect());
    Ok(chain::verify(&rows, &humans, &stored, witness.as_deref(), keys))
}

fn checkpoint_notice(c: &Checkpoint) -> Notice {
    Notice {
        event_type: "audit.checkpoint".to_owned(),
        severity: Severity::Info,
        title: format!("Audit checkpoint {} signed", c.checkpoint_seq),
        body: format!(
            "The audit trail up to position {} was re-verified and its head signed. Keep this message: it witnesses the trail outside the safety database.",
            c.chain_seq
        ),
        fields: vec![
            Field::new("Company", c.company_id.to_string(), true),
            Field::new("Checkpoint", c.checkpoint_seq.to_string(), true),
            Field::new("Chain position", c.chain_seq.to_string(), true),
            Field::new("Head hash", c.head_hash.clone(), false),
            Field::new("Signed at", c.signed_at.to_rfc3339(), true),
            Field::new("Public key", c.public_key.clone(), false),
            Field::new("Signature", c.signature.clone(), false),
        ],
        idempotency_key: format!("audit.checkpoint:{}:{}", c.company_id, c.checkpoint_seq),
    }
}

fn broken_notice(company_id: i64, head_seq: i64, b: &Break) -> Notice {
    Notice {
        event_type: "audit.chain_broken".to_owned(),
        severity: Severity::Critical,
        title: "Audit trail tampering suspected: checkpoints stopped".to_owned(),
        body: format!(
            "The audit trail no longer verifies from its last checkpoint ({}): {}. No checkpoint is signed until this is resolved.",
            b.kind.as_str(),
            b.detail
        ),
        fields: vec![
            Field::new("Company", company_id.to_string(), true),
            Field::new("Head position", head_seq.to_string(), true),
            Field::new("Action", b.action_id.to_string(), true),
        ],
        idempotency_key: format!("audit.chain_broken:{company_id}:{head_seq}:{}", b.kind.as_str()),
    }
}
