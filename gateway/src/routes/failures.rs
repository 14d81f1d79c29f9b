//! The failure answers of the REST API, for the routes' `responses(…)`: every
//! failure answer is defined once here, as a reusable response in
//! `components/responses`, and each operation refers to it through one of the
//! sets below: `Failures` on every authenticated route, `WriteFailures` on every
//! route that reads a JSON body (`extract::Body`), `Conflicts` on a body-less
//! write that may find the state in the way.

pub use responses::*;

use crate::error::ErrorBody;

/// The reusable failure responses. Each type only describes its answer (the
/// body is always `ErrorBody`); nothing constructs them.
#[allow(dead_code)]
mod responses {
    use crate::error::ErrorBody;

    /// bad input, naming the field in `details.field`, or a state that forbids the change
    #[derive(utoipa::ToResponse)]
    pub struct BadRequest(ErrorBody);

    /// no valid token (or, for a login, wrong credentials)
    #[derive(utoipa::ToResponse)]
    pub struct Unauthenticated(ErrorBody);

    /// the caller's role may not use the route, or the row is another company's
    #[derive(utoipa::ToResponse)]
    pub struct Forbidden(ErrorBody);

    /// not found (or another company's)
    #[derive(utoipa::ToResponse)]
    pub struct NotFound(ErrorBody);

    /// the row exists already, or the current state is in the way (e.g. a cycle running)
    #[derive(utoipa::ToResponse)]
    pub struct Conflict(ErrorBody);

    /// the body is over 2 MiB
    #[derive(utoipa::ToResponse)]
    pub struct PayloadTooLarge(ErrorBody);

    /// the body is not sent as `Content-Type: application/json`
    #[derive(utoipa::ToResponse)]
    pub struct UnsupportedMediaType(ErrorBody);

    /// the body is JSON but not of the documented shape: an unknown field, a wrong type, a required field missing
    #[derive(utoipa::ToResponse)]
    pub struct UnprocessableEntity(ErrorBody);

    /// rate limited
    #[derive(utoipa::ToResponse)]
    #[response(headers(("Retry-After" = u64, description = "seconds to wait before trying again")))]
    pub struct TooManyRequests(ErrorBody);

    /// an internal failure
    #[derive(utoipa::ToResponse)]
    pub struct Internal(ErrorBody);

    /// a service is unavailable (`details.service` names it) or the gateway is shutting down
    #[derive(utoipa::ToResponse)]
    pub struct Unavailable(ErrorBody);

    /// a service did not answer in time
    #[derive(utoipa::ToResponse)]
    pub struct Timeout(ErrorBody);
}

/// What any authenticated route may answer besides its success.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum Failures {
    #[response(status = 400)]
    BadRequest(#[ref_response] BadRequest),
    #[response(status = 401)]
    Unauthenticated(#[ref_response] Unauthenticated),
    #[response(status = 403)]
    Forbidden(#[ref_response] Forbidden),
    #[response(status = 404)]
    NotFound(#[ref_response] NotFound),
    #[response(status = 429)]
    TooManyRequests(#[ref_response] TooManyRequests),
    #[response(status = 500)]
    Internal(#[ref_response] Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] Unavailable),
    #[response(status = 504)]
    Timeout(#[ref_response] Timeout),
}

/// What a route that reads a JSON body may answer besides `Failures`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum WriteFailures {
    #[response(status = 409)]
    Conflict(#[ref_response] Conflict),
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    #[response(status = 415)]
    UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
    #[response(status = 422)]
    UnprocessableEntity(#[ref_response] UnprocessableEntity),
}

/// What a body-less write may answer besides `Failures` when the state is in the way.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum Conflicts {
    #[response(status = 409)]
    Conflict(#[ref_response] Conflict),
}

/// The failures of a login.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum LoginFailures {
    #[response(status = 400)]
    BadRequest(#[ref_response] BadRequest),
    #[response(status = 401, description = "wrong email or password (the same answer, in the same time)")]
    Refused(ErrorBody),
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    #[response(status = 415)]
    UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
    #[response(status = 422)]
    UnprocessableEntity(#[ref_response] UnprocessableEntity),
    #[response(
        status = 429,
        description = "too many attempts for the account or the address",
        headers(("Retry-After" = u64, description = "seconds to wait before trying again"))
    )]
    RateLimited(ErrorBody),
    #[response(status = 500)]
    Internal(#[ref_response] Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] Unavailable),
}

/// The failures of a refresh.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum RefreshFailures {
    #[response(status = 400)]
    BadRequest(#[ref_response] BadRequest),
    #[response(
        status = 401,
        description = "the refresh token is unknown, expired, revoked, already used (which revokes every token of its sign-in), or its account's tokens were revoked"
    )]
    Refused(ErrorBody),
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    #[response(status = 415)]
    UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
    #[response(status = 422)]
    UnprocessableEntity(#[ref_response] UnprocessableEntity),
    #[response(status = 429)]
    TooManyRequests(#[ref_response] TooManyRequests),
    #[response(status = 500)]
    Internal(#[ref_response] Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] Unavailable),
}
