//! How the stored trail can disagree with its chain or its checkpoints: what
//! both the chain's walk (`chain`) and the checkpoints' check (`checkpoint`)
//! report.

/// One way the stored trail disagrees with its chain or its checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    /// The action whose row is wrong, or that follows a gap; 0 when none exists
    /// (or the break is a human record's or a checkpoint's).
    pub action_id: i64,
    /// The human record whose row is wrong, or that follows a gap.
    pub record_id: Option<String>,
    pub kind: BreakKind,
    pub detail: String,
    /// The chain position where it was found; 0 when it is no row's (a
    /// checkpoint's, or the chain's end).
    pub chain_seq: i64,
}

impl Break {
    pub(crate) fn general(kind: BreakKind, detail: String) -> Self {
        Self { action_id: 0, record_id: None, kind, detail, chain_seq: 0 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakKind {
    /// A row's columns no longer match its hash, or its link was changed.
    ContentChanged,
    /// Positions of the chain are missing (a row deleted).
    RowMissing,
    /// A checkpoint covers positions the chain no longer has.
    Truncated,
    /// A checkpoint's signature does not verify with any known public key.
    CheckpointSignatureInvalid,
    /// Checkpoints the database should hold are gone: a gap in their
    /// sequence, or ones the witness holds and the database does not.
    CheckpointMissing,
    /// A checkpoint does not name its predecessor's signature.
    CheckpointChainBroken,
    /// The database holds a different checkpoint than the witness at that number.
    CheckpointReplaced,
}

impl BreakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentChanged => "content_changed",
            Self::RowMissing => "row_missing",
            Self::Truncated => "truncated",
            Self::CheckpointSignatureInvalid => "checkpoint_signature_invalid",
            Self::CheckpointMissing => "checkpoint_missing",
            Self::CheckpointChainBroken => "checkpoint_chain_broken",
            Self::CheckpointReplaced => "checkpoint_replaced",
        }
    }
}
