//! `atmr audit verify`: checks a safety database's audit trail against the
//! exported checkpoints (the witness file safety appends to), offline — no
//! running service, no signing key, nothing written. It walks every row's
//! hash, checks every checkpoint's signature with the known public keys and
//! their chain, and compares the database's checkpoints with the witness's;
//! each disagreement is printed with what it is (a row edited or deleted, a
//! head rewritten, checkpoints deleted or replaced). The exit status is 1
//! when anything is wrong.

use std::path::PathBuf;

use anyhow::Context as _;

/// What `atmr audit verify` checks.
#[derive(Clone, Debug, clap::Args)]
pub struct VerifyArgs {
    /// The safety database (`postgres://…` or `sqlite://…`), read only.
    #[arg(long)]
    pub database_url: String,
    /// One company; every company with a chain or a checkpoint when omitted.
    #[arg(long)]
    pub company: Option<i64>,
    /// The witness file (`SAFETY_WITNESS_FILE`): one JSON checkpoint a line.
    #[arg(long)]
    pub checkpoints: PathBuf,
    /// A public key (64 hex digits) checkpoints may be signed with; repeat it
    /// for the keys before a rotation. Without one, the keys the witness file
    /// names are trusted.
    #[arg(long = "public-key")]
    pub public_keys: Vec<String>,
}

/// Verifies, prints one block per company, and fails if any is broken.
pub async fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let keys: Result<Vec<_>, String> = args.public_keys.iter().map(|k| atmr_safety::KnownKeys::parse_key(k)).collect();
    let keys = atmr_safety::KnownKeys::new(keys.map_err(anyhow::Error::msg).context("--public-key")?);
    let results = atmr_safety::verify_database(&args.database_url, args.company, Some(&args.checkpoints), keys).await?;
    let mut broken = Vec::new();
    for (company, v) in &results {
        let state = if v.breaks.is_empty() { "intact" } else { "TAMPERED" };
        println!("company {company}: {state} ({} rows, {} checkpoints checked)", v.rows_checked, v.checkpoints_checked);
        for b in &v.breaks {
            let at = match (&b.record_id, b.action_id) {
                (Some(r), _) => format!(" human record {r}"),
                (None, 0) => String::new(),
                (None, id) => format!(" action {id}"),
            };
            println!("  {}{at}: {}", b.kind.as_str(), b.detail);
        }
        if !v.breaks.is_empty() {
            broken.push(company.to_string());
        }
    }
    if results.is_empty() {
        println!("no audit trail found");
    }
    if broken.is_empty() { Ok(()) } else { anyhow::bail!("the audit trail does not verify for company {}", broken.join(", ")) }
}
