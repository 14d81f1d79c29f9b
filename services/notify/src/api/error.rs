//! The one projection of the service's errors onto gRPC statuses. A field
//! error names its field (`atmr-field`), and a policy's refusal its rule too
//! (`atmr-rules`); a database error is UNAVAILABLE when the database cannot
//! be reached, else INTERNAL with a reference only.

use tonic::Status;

use crate::error::Error;

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(invalid) => invalid.into(),
            Error::Refused { invalid, rule } => {
                let mut status: Status = invalid.into();
                status.metadata_mut().insert(kit::error::RULES_METADATA, tonic::metadata::MetadataValue::from_static(rule));
                status
            }
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::Internal(internal) => internal.into(),
            Error::Db(db) => kit::error::database(&db),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_keeps_its_code_and_words() {
        let s = Status::from(Error::invalid("monitor.name", "is required"));
        assert_eq!(
            (s.code(), s.message(), kit::error::field_of(&s)),
            (tonic::Code::InvalidArgument, "monitor.name: is required", Some("monitor.name"))
        );
        let s = Status::from(Error::refused("url", "egress_refused", "127.0.0.1 is this machine (loopback)"));
        assert_eq!(
            (s.code(), kit::error::field_of(&s), kit::error::rules_of(&s)),
            (tonic::Code::InvalidArgument, Some("url"), vec!["egress_refused"])
        );
        let s = Status::from(Error::NotFound("monitor m-1".into()));
        assert_eq!((s.code(), s.message()), (tonic::Code::NotFound, "monitor m-1 not found"));
        assert_eq!(Status::from(Error::FailedPrecondition("no".into())).code(), tonic::Code::FailedPrecondition);
        assert_eq!(Status::from(Error::AlreadyExists("taken".into())).code(), tonic::Code::AlreadyExists);
        let s = Status::from(Error::from(kit::stored::UnknownValue::new("monitor", "state", "m-1", "sideways")));
        assert_eq!(s.code(), tonic::Code::Internal);
        assert!(!s.message().contains("sideways"), "{}", s.message());
    }
}
