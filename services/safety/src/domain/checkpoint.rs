//! Signed checkpoints of a company's chain head, chained to each other.
//!
//! Checkpoint n of a company signs (version 2): the company, n, the chain
//! position and head hash it covers, the previous checkpoint's signature and
//! the time. So a checkpoint cannot be dropped from the middle, reordered or
//! swapped for one of another company without breaking the next one's link,
//! and only the holder of the signing key can make one. Checkpoints written
//! before migration m0006 are version 1 (no number or link of their own in
//! the signature); they verify with their original message and the first
//! version 2 checkpoint links to the last of them.
//!
//! The same checkpoints are appended to a witness outside the database (the
//! witness file, one JSON line each); `check` compares the two, so deleting or
//! replacing the database's copies is named.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};

use super::breaks::{Break, BreakKind};

/// Checkpoints written before m0006.
pub const CHECKPOINT_V1: i16 = 1;
/// Numbered and chained checkpoints.
pub const CHECKPOINT_V2: i16 = 2;

/// A signed statement of a company's chain head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub version: i16,
    pub company_id: i64,
    /// 1, 2, … per company.
    pub checkpoint_seq: i64,
    /// The chain position it covers.
    pub chain_seq: i64,
    pub head_hash: String,
    /// The signature of checkpoint `checkpoint_seq - 1`; empty for the first.
    pub prev_signature: String,
    pub signed_at: DateTime<Utc>,
    /// The public half of the key that signed it (hex), to find it among the known keys.
    pub public_key: String,
    pub signature: String,
}

fn message(c: &Checkpoint) -> Vec<u8> {
    let micros = c.signed_at.timestamp_micros();
    if c.version == CHECKPOINT_V1 {
        format!("atmr-audit-checkpoint/v1\n{}\n{}\n{}\n{micros}", c.company_id, c.chain_seq, c.head_hash).into_bytes()
    } else {
        format!(
            "atmr-audit-checkpoint/v2\n{}\n{}\n{}\n{}\n{}\n{micros}",
            c.company_id, c.checkpoint_seq, c.chain_seq, c.head_hash, c.prev_signature
        )
        .into_bytes()
    }
}

/// What a new checkpoint covers.
#[derive(Clone, Copy, Debug)]
pub struct Head<'a> {
    pub company_id: i64,
    pub checkpoint_seq: i64,
    pub chain_seq: i64,
    pub head_hash: &'a str,
    /// The previous checkpoint's signature, empty for the first.
    pub prev_signature: &'a str,
    pub signed_at: DateTime<Utc>,
}

/// Signs checkpoint `head.checkpoint_seq` of `head.company_id`.
pub fn sign(key: &SigningKey, head: Head<'_>) -> Checkpoint {
    let mut c = Checkpoint {
        version: CHECKPOINT_V2,
        company_id: head.company_id,
        checkpoint_seq: head.checkpoint_seq,
        chain_seq: head.chain_seq,
        head_hash: head.head_hash.to_owned(),
        prev_signature: head.prev_signature.to_owned(),
        signed_at: head.signed_at,
        public_key: hex::encode(key.verifying_key().as_bytes()),
        signature: String::new(),
    };
    c.signature = hex::encode(key.sign(&message(&c)).to_bytes());
    c
}

/// The public keys whose checkpoints are trusted: the current signing key's
/// and, after a rotation, the earlier ones. The public key a checkpoint names
/// only selects among these; a key outside the set verifies nothing, or anyone
/// able to write rows could sign their own checkpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownKeys(Vec<VerifyingKey>);

impl KnownKeys {
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        let mut v: Vec<VerifyingKey> = Vec::new();
        for k in keys {
            if !v.contains(&k) {
                v.push(k);
            }
        }
        Self(v)
    }

    /// Parses one public key, 64 hex digits.
    pub fn parse_key(hex_key: &str) -> Result<VerifyingKey, String> {
        let bytes: [u8; 32] = hex::decode(hex_key.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("{:?} is not 64 hex digits", hex_key.trim()))?;
        VerifyingKey::from_bytes(&bytes).map_err(|e| format!("{:?} is not an Ed25519 public key: {e}", hex_key.trim()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `c`'s signature verifies with the known key it names.
    pub fn verifies(&self, c: &Checkpoint) -> bool {
        let Some(key) = self.0.iter().find(|k| hex::encode(k.as_bytes()) == c.public_key) else { return false };
        let Ok(bytes) = hex::decode(&c.signature) else { return false };
        let Ok(sig) = Signature::from_slice(&bytes) else { return false };
        key.verify(&message(c), &sig).is_ok()
    }
}

/// What checking a company's checkpoints found: the breaks, how many were
/// looked at, and the checkpoints whose head the chain must still reach.
pub struct Checked<'a> {
    pub breaks: Vec<Break>,
    pub checked: i64,
    pub anchors: Vec<&'a Checkpoint>,
}

fn when(c: &Checkpoint) -> String {
    format!("checkpoint {} (chain position {}, signed at {})", c.checkpoint_seq, c.chain_seq, c.signed_at.to_rfc3339())
}

/// Checks the database's checkpoints of one company (in checkpoint order):
/// each signed by a known key, numbered without gaps, each naming its
/// predecessor's signature; then, with a `witness` (the same company's
/// entries of the witness file), that the database holds every witnessed
/// checkpoint, unchanged. Valid checkpoints of either side become anchors.
pub fn check<'a>(db: &'a [Checkpoint], witness: Option<&'a [Checkpoint]>, keys: &KnownKeys) -> Checked<'a> {
    let mut out = Checked { breaks: Vec::new(), checked: 0, anchors: Vec::new() };
    let mut expected = 1;
    let mut prev: Option<&Checkpoint> = None;
    for c in db {
        out.checked += 1;
        if c.checkpoint_seq > expected {
            let range =
                if c.checkpoint_seq - 1 == expected { format!("{expected}") } else { format!("{expected}..={}", c.checkpoint_seq - 1) };
            out.breaks.push(Break::general(
                BreakKind::CheckpointMissing,
                format!("checkpoints {range} are missing from the database before {}", when(c)),
            ));
        }
        if !keys.verifies(c) {
            out.breaks.push(Break::general(
                BreakKind::CheckpointSignatureInvalid,
                format!("{} does not verify with any known public key", when(c)),
            ));
        } else {
            out.anchors.push(c);
        }
        if c.version >= CHECKPOINT_V2 {
            let linked = match prev {
                Some(p) => p.checkpoint_seq == c.checkpoint_seq - 1 && p.signature == c.prev_signature,
                None => c.checkpoint_seq == 1 && c.prev_signature.is_empty(),
            };
            // A gap is reported above; the link is only judged between neighbours.
            if !linked && (c.checkpoint_seq == expected) {
                out.breaks.push(Break::general(
                    BreakKind::CheckpointChainBroken,
                    format!("{} does not name the signature of the checkpoint before it", when(c)),
                ));
            }
        } else if prev.is_some_and(|p| p.version >= CHECKPOINT_V2) {
            out.breaks.push(Break::general(
                BreakKind::CheckpointChainBroken,
                format!("{} is an unchained checkpoint after chained ones", when(c)),
            ));
        }
        expected = c.checkpoint_seq + 1;
        prev = Some(c);
    }
    let Some(witness) = witness else { return out };
    for w in witness {
        out.checked += 1;
        if !keys.verifies(w) {
            out.breaks.push(Break::general(
                BreakKind::CheckpointSignatureInvalid,
                format!("the witness's {} does not verify with any known public key", when(w)),
            ));
            continue;
        }
        match db.iter().find(|c| c.checkpoint_seq == w.checkpoint_seq) {
            Some(c) if c.signature == w.signature && c.head_hash == w.head_hash && c.chain_seq == w.chain_seq => {}
            Some(c) => {
                out.breaks.push(Break::general(
                    BreakKind::CheckpointReplaced,
                    format!("the database's {} is not the witness's {}", when(c), when(w)),
                ));
                out.anchors.push(w);
            }
            None => {
                out.breaks
                    .push(Break::general(BreakKind::CheckpointMissing, format!("the witness holds {}, the database does not", when(w))));
                out.anchors.push(w);
            }
        }
    }
    out
}

/// One checkpoint as a line of the witness file (JSON, no newline).
pub fn to_json_line(c: &Checkpoint) -> String {
    serde_json::json!({
        "version": c.version,
        "company_id": c.company_id,
        "checkpoint_seq": c.checkpoint_seq,
        "chain_seq": c.chain_seq,
        "head_hash": c.head_hash,
        "prev_signature": c.prev_signature,
        "signed_at": c.signed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "public_key": c.public_key,
        "signature": c.signature,
    })
    .to_string()
}

/// Parses one line of the witness file; the error names the field.
pub fn from_json_line(line: &str) -> Result<Checkpoint, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let int = |f: &str| v.get(f).and_then(serde_json::Value::as_i64).ok_or_else(|| format!("{f}: missing or not an integer"));
    let text = |f: &str| v.get(f).and_then(serde_json::Value::as_str).map(str::to_owned).ok_or_else(|| format!("{f}: missing or not text"));
    let signed_at = DateTime::parse_from_rfc3339(&text("signed_at")?).map_err(|e| format!("signed_at: {e}"))?.with_timezone(&Utc);
    Ok(Checkpoint {
        version: i16::try_from(int("version")?).map_err(|_| "version: out of range".to_owned())?,
        company_id: int("company_id")?,
        checkpoint_seq: int("checkpoint_seq")?,
        chain_seq: int("chain_seq")?,
        head_hash: text("head_hash")?,
        prev_signature: text("prev_signature")?,
        signed_at,
        public_key: text("public_key")?,
        signature: text("signature")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn chain_of(k: &SigningKey, n: i64) -> Vec<Checkpoint> {
        let t = DateTime::parse_from_rfc3339("2026-01-01T08:00:00.123456Z").unwrap().with_timezone(&Utc);
        let mut out: Vec<Checkpoint> = Vec::new();
        for i in 1..=n {
            let prev = out.last().map(|c| c.signature.clone()).unwrap_or_default();
            let head = format!("{i:064}");
            out.push(sign(
                k,
                Head { company_id: 1, checkpoint_seq: i, chain_seq: i * 3, head_hash: &head, prev_signature: &prev, signed_at: t },
            ));
        }
        out
    }

    fn kinds(c: &Checked<'_>) -> Vec<&'static str> {
        c.breaks.iter().map(|b| b.kind.as_str()).collect()
    }

    #[test]
    fn a_chain_of_checkpoints_verifies_and_survives_the_witness_file() {
        let cps = chain_of(&key(1), 3);
        let keys = KnownKeys::new([key(1).verifying_key()]);
        let witness: Vec<Checkpoint> = cps.iter().map(|c| from_json_line(&to_json_line(c)).unwrap()).collect();
        assert_eq!(witness, cps);
        let c = check(&cps, Some(&witness), &keys);
        assert_eq!(kinds(&c), Vec::<&str>::new());
        assert_eq!((c.checked, c.anchors.len()), (6, 3));
    }

    #[test]
    fn a_rotated_key_verifies_old_checkpoints_only_while_it_is_known() {
        let mut cps = chain_of(&key(1), 2);
        let prev = cps[1].signature.clone();
        cps.push(sign(
            &key(2),
            Head { company_id: 1, checkpoint_seq: 3, chain_seq: 9, head_hash: "h", prev_signature: &prev, signed_at: cps[1].signed_at },
        ));
        let both = KnownKeys::new([key(2).verifying_key(), key(1).verifying_key()]);
        assert_eq!(kinds(&check(&cps, None, &both)), Vec::<&str>::new());
        let new_only = KnownKeys::new([key(2).verifying_key()]);
        assert_eq!(kinds(&check(&cps, None, &new_only)), ["checkpoint_signature_invalid", "checkpoint_signature_invalid"]);
    }

    #[test]
    fn a_deleted_replaced_or_unlinked_checkpoint_is_named() {
        let cps = chain_of(&key(1), 3);
        let keys = KnownKeys::new([key(1).verifying_key()]);
        let mut gap = cps.clone();
        gap.remove(1);
        assert_eq!(kinds(&check(&gap, None, &keys)), ["checkpoint_missing"]);
        assert_eq!(kinds(&check(&[], Some(&cps), &keys)), ["checkpoint_missing"; 3]);

        // Re-signed by someone else's key, then with a link that skips one.
        let mut forged = cps.clone();
        forged[1] = sign(
            &key(9),
            Head {
                company_id: 1,
                checkpoint_seq: 2,
                chain_seq: 6,
                head_hash: "x",
                prev_signature: &cps[0].signature,
                signed_at: cps[1].signed_at,
            },
        );
        assert_eq!(
            kinds(&check(&forged, Some(&cps), &keys)),
            ["checkpoint_signature_invalid", "checkpoint_chain_broken", "checkpoint_replaced"]
        );
        let mut unlinked = cps.clone();
        unlinked[2] = sign(
            &key(1),
            Head {
                company_id: 1,
                checkpoint_seq: 3,
                chain_seq: 9,
                head_hash: "y",
                prev_signature: &cps[0].signature,
                signed_at: cps[2].signed_at,
            },
        );
        assert_eq!(kinds(&check(&unlinked, None, &keys)), ["checkpoint_chain_broken"]);
    }

    #[test]
    fn a_witness_line_names_its_bad_field() {
        let line = to_json_line(&chain_of(&key(1), 1)[0]).replace("\"chain_seq\":3", "\"chain_seq\":\"3\"");
        assert_eq!(from_json_line(&line).unwrap_err(), "chain_seq: missing or not an integer");
    }
}
