//! Turning failures into `tonic::Status` the same way in every service: the
//! client learns what it can act on; internal detail goes to the log under a
//! reference, and the client gets only the reference ([`Internal`]). Every
//! projection of kit's errors onto a status is here; the errors themselves
//! (`input::Invalid`, [`StoreError`]) know nothing of gRPC.

use tonic::{Code, Status};

use crate::{auth::AuthError, input::Invalid, stored::UnknownValue};

/// A token refused: UNAUTHENTICATED saying why (expired, invalid, revoked).
impl From<AuthError> for Status {
    fn from(e: AuthError) -> Self {
        Status::unauthenticated(e.to_string())
    }
}

/// A stored value outside its vocabulary is a database error (logged with its
/// row by the `DbErr` conversion in `stored.rs`).
impl From<UnknownValue> for StoreError {
    fn from(e: UnknownValue) -> Self {
        StoreError::Db(e.into())
    }
}

/// INTERNAL with the trace id, as any database error.
impl From<UnknownValue> for Status {
    fn from(e: UnknownValue) -> Self {
        StoreError::from(e).into()
    }
}

/// Metadata key naming the request field an INVALID_ARGUMENT is about; the
/// gateway copies it into `error.details.field`.
pub const FIELD_METADATA: &str = "atmr-field";

/// INVALID_ARGUMENT naming `field`.
pub fn invalid_argument(field: &str, message: impl std::fmt::Display) -> Status {
    let mut status = Status::invalid_argument(format!("{field}: {message}"));
    if let Ok(value) = field.parse() {
        status.metadata_mut().insert(FIELD_METADATA, value);
    }
    status
}

/// Metadata key listing, comma-separated, every field an INVALID_ARGUMENT is
/// about when there are several (a batch's bad rows; at most [`MAX_FIELDS`]).
pub const FIELDS_METADATA: &str = "atmr-fields";
/// The most fields [`FIELDS_METADATA`] lists.
pub const MAX_FIELDS: usize = 100;

/// A request field that breaks a rule: INVALID_ARGUMENT naming it, and the
/// others the same refusal is about.
impl From<Invalid> for Status {
    fn from(e: Invalid) -> Self {
        let mut status = invalid_argument(&e.field, e.message);
        if !e.others.is_empty() {
            let all: Vec<&str> = std::iter::once(e.field.as_str()).chain(e.others.iter().map(String::as_str)).take(MAX_FIELDS).collect();
            if let Ok(value) = all.join(",").parse() {
                status.metadata_mut().insert(FIELDS_METADATA, value);
            }
        }
        status
    }
}

/// Every field an INVALID_ARGUMENT status is about: the listed ones, else
/// the one it names, else none.
pub fn fields_of(status: &Status) -> Vec<&str> {
    match status.metadata().get(FIELDS_METADATA).and_then(|v| v.to_str().ok()) {
        Some(all) => all.split(',').filter(|f| !f.is_empty()).collect(),
        None => field_of(status).into_iter().collect(),
    }
}

/// Metadata key listing, comma-separated, the rules a FAILED_PRECONDITION
/// found broken (dispatch's checker codes such as `outside_window`).
pub const RULES_METADATA: &str = "atmr-rules";

/// FAILED_PRECONDITION saying `message`, with the rules it found broken.
pub fn failed_rules(message: impl Into<String>, rules: &[&str]) -> Status {
    let mut status = Status::failed_precondition(message);
    if let Ok(value) = rules.join(",").parse() {
        status.metadata_mut().insert(RULES_METADATA, value);
    }
    status
}

/// The rules a FAILED_PRECONDITION status names (empty when none).
pub fn rules_of(status: &Status) -> Vec<&str> {
    status
        .metadata()
        .get(RULES_METADATA)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').filter(|r| !r.is_empty()).collect())
        .unwrap_or_default()
}

/// The field an INVALID_ARGUMENT status names, if any.
pub fn field_of(status: &Status) -> Option<&str> {
    status.metadata().get(FIELD_METADATA).and_then(|v| v.to_str().ok())
}

/// A database failure: UNAVAILABLE when the database cannot be reached (the
/// caller may retry), INTERNAL otherwise. The error itself is only logged,
/// under the reference the answer carries.
pub fn database(err: &sea_orm::DbErr) -> Status {
    let reference = Internal::new();
    tracing::error!(error = %err, error_ref = %reference.reference, "database error");
    if unreachable(err) { Status::unavailable(format!("database unavailable (ref {})", reference.reference)) } else { reference.into() }
}

/// Whether `err` says the database could not be reached, or the connection
/// broke under a statement (the server went away mid-query), rather than that
/// the statement itself failed.
fn unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error as Sqlx};
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(e, Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed)
        }
        _ => false,
    }
}

/// INTERNAL for a failure the client cannot act on; `err` goes to the log only.
pub fn internal(err: impl std::fmt::Display) -> Status {
    Internal::log(err).into()
}

/// A failure the client cannot act on, already logged under `reference`: the
/// one shape every internal failure takes on its way out, `internal error
/// (ref <32 hex digits>)`. The reference is the trace id when the current span
/// has one (the log line and the whole trace are found by it), else a fresh
/// random id of the same form. The gateway forwards a server error's message
/// only when it has this shape ([`Internal::parse`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Internal {
    reference: String,
}

impl Internal {
    /// A new reference, not yet logged: for a caller that logs the detail itself
    /// with `error_ref = %reference()`.
    pub fn new() -> Self {
        let reference = crate::telemetry::current_trace_id().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        Self { reference }
    }

    /// Logs `err` at error level under a new reference and returns it.
    pub fn log(err: impl std::fmt::Display) -> Self {
        let internal = Self::new();
        tracing::error!(error = %err, error_ref = %internal.reference, "internal error");
        internal
    }

    /// Keeps a reference found elsewhere (a service's answer), for a message
    /// rebuilt in the generic shape.
    pub fn with_reference(reference: &str) -> Option<Self> {
        is_reference(reference).then(|| Self { reference: reference.to_owned() })
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The internal failure `message` states, when it is exactly the generic
    /// shape and nothing more.
    pub fn parse(message: &str) -> Option<Self> {
        let reference = message.strip_prefix(PREFIX)?.strip_suffix(')')?;
        Self::with_reference(reference)
    }

    /// The reference anywhere in `message` (`(ref <id>)`), whatever surrounds it.
    pub fn find(message: &str) -> Option<Self> {
        message.match_indices("(ref ").find_map(|(at, _)| {
            let rest = &message[at + "(ref ".len()..];
            Self::with_reference(rest.get(..REFERENCE_LEN)?).filter(|_| rest[REFERENCE_LEN..].starts_with(')'))
        })
    }
}

impl Default for Internal {
    fn default() -> Self {
        Self::new()
    }
}

const PREFIX: &str = "internal error (ref ";
/// A W3C trace id, or a UUID without dashes: 32 lowercase hex digits.
const REFERENCE_LEN: usize = 32;

fn is_reference(s: &str) -> bool {
    s.len() == REFERENCE_LEN && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PREFIX}{})", self.reference)
    }
}

impl std::error::Error for Internal {}

impl From<Internal> for Status {
    fn from(internal: Internal) -> Self {
        Status::new(Code::Internal, internal.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_refusal_names_every_field_it_is_about() {
        let one: Status = Invalid::new("bookings[0].client_id", "client 9 not found").into();
        assert_eq!(fields_of(&one), vec!["bookings[0].client_id"]);
        let many: Status = Invalid::new("client_id", "2 bad rows").with_others(vec!["client_id".into()]).under("bookings[1].").into();
        assert_eq!(field_of(&many), Some("bookings[1].client_id"));
        let batch: Status = Invalid::new("bookings[0].client_id", "3 bad rows")
            .with_others(vec!["bookings[2].pickup".into(), "bookings[5].client_id".into()])
            .into();
        assert_eq!(fields_of(&batch), vec!["bookings[0].client_id", "bookings[2].pickup", "bookings[5].client_id"]);
        assert!(fields_of(&Status::internal("x")).is_empty());
    }

    #[test]
    fn a_refusal_carries_the_rules_it_found_broken() {
        let s = failed_rules("booking 4 does not fit driver 2's day", &["wrong_vehicle", "outside_window"]);
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(rules_of(&s), vec!["wrong_vehicle", "outside_window"]);
        assert!(rules_of(&Status::failed_precondition("x")).is_empty());
    }

    #[test]
    fn invalid_argument_carries_the_field() {
        let s = invalid_argument("limits.max_actions_per_hour", "must not be negative");
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(field_of(&s), Some("limits.max_actions_per_hour"));
        assert!(s.message().starts_with("limits.max_actions_per_hour: "));
        let status: Status = Invalid::new("x", "bad").into();
        assert_eq!(field_of(&status), Some("x"));
    }

    #[test]
    fn database_errors_never_leak_their_text() {
        let s = database(&sea_orm::DbErr::Custom("relation \"secret_table\" does not exist".into()));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("secret_table"));
        let s = database(&sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout));
        assert_eq!(s.code(), Code::Unavailable);
        // The server went away under a statement: unreachable too, not a bug.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
        let s = database(&sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(sea_orm::sqlx::Error::Io(reset))));
        assert_eq!(s.code(), Code::Unavailable);
        assert!(Internal::find(s.message()).is_some(), "the answer carries the reference: {}", s.message());
    }

    #[test]
    fn an_internal_failure_answers_the_generic_shape_and_nothing_else() {
        let s = internal("thread 'solver' panicked at src/solver/sisr.rs:12: index out of bounds");
        assert_eq!(s.code(), Code::Internal);
        let parsed = Internal::parse(s.message()).expect("the generic shape");
        assert_eq!(parsed.to_string(), s.message());
        assert_eq!(parsed.reference().len(), 32);
        assert!(!s.message().contains("panicked"));
        assert_ne!(Internal::new().reference(), Internal::new().reference(), "without a trace, each failure has its own reference");
    }

    #[test]
    fn only_the_exact_generic_shape_parses() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert!(Internal::parse(&format!("internal error (ref {id})")).is_some());
        for leaky in [
            format!("internal error (ref {id}): relation \"users\" does not exist"),
            format!("relation \"users\" does not exist (ref {id})"),
            "internal error (ref not-a-reference)".to_owned(),
            format!("internal error (ref {})", id.to_uppercase()),
            format!("internal error (ref {id}0)"),
            "ETA model 3: expected value at line 1 column 1".to_owned(),
        ] {
            assert!(Internal::parse(&leaky).is_none(), "{leaky}");
        }
        assert_eq!(Internal::find(&format!("solver failed (ref {id}) at line 3")).map(|i| i.reference().to_owned()), Some(id.to_owned()));
        assert_eq!(Internal::find("solver failed (ref 123)"), None);
    }
}

/// Why a service's store did not do what it was asked. Nothing was written in
/// any of these cases. Becomes the matching gRPC status; database failures are
/// logged and answered without detail (see [`database`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// Already logged; its text is the generic one with the reference.
    #[error(transparent)]
    Internal(#[from] Internal),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<Invalid> for StoreError {
    fn from(e: Invalid) -> Self {
        StoreError::Invalid(e)
    }
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Status::not_found(format!("{what} not found")),
            StoreError::Invalid(invalid) => invalid.into(),
            StoreError::FailedPrecondition(m) => Status::failed_precondition(m),
            StoreError::PermissionDenied(m) => Status::permission_denied(m),
            StoreError::AlreadyExists(m) => Status::already_exists(m),
            StoreError::Internal(internal) => internal.into(),
            StoreError::Db(db) => database(&db),
        }
    }
}
